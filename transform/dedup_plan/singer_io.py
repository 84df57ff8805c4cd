"""Singer reader and writer tuned for passing a million records through.

The reader parses with orjson and keeps each raw input line, so a record that
passes through unchanged is written back as the same bytes instead of being
serialised again.
The writer gathers lines and writes them in chunks, flushing only when asked
(before STATE and at the end of the pipe), not after every message.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import orjson
from singer_sdk.singerlib.encoding import SimpleSingerReader, SimpleSingerWriter
from singer_sdk.singerlib.encoding.simple import Message
from singer_sdk.singerlib.exceptions import InvalidInputLine


@dataclass(frozen=True, slots=True)
class RawLine:
    """An input line to be written out exactly as it came in."""

    text: str


# How singer-sdk taps (and bench/synthetic.py) write a contacts RECORD.
CONTACT_RECORD_PREFIX = '{"type":"RECORD","stream":"contacts","record":'


class LineKeepingReader(SimpleSingerReader):
    """A Singer reader that remembers the raw line of the current message.

    A `contacts` RECORD line in the SDK's own compact form is not parsed here:
    the index writer parses it (in a worker process) and the mapper passes the
    raw line through, so the main process never needs its fields.
    """

    def __init__(self) -> None:
        """Start with no line read."""
        super().__init__()
        self.last_line = ""

    def deserialize_json(self, line: str) -> dict:
        """Parse one line and keep its raw text for pass-through.

        orjson is several times faster than the standard parser on a million
        records; floats become float, not Decimal, which is harmless here
        because records pass through as their raw lines.
        """
        self.last_line = line
        if line.startswith(CONTACT_RECORD_PREFIX):
            return {"type": "RECORD", "stream": "contacts", "record": None}
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            # The line may hold a contact's details: name the fault, not the text.
            raise InvalidInputLine(
                f"An input line of {len(line)} characters is not JSON ({exc}); "
                "the upstream tap must write one Singer message per line."
            ) from exc


class BufferedWriter(SimpleSingerWriter):
    """A Singer writer that gathers lines and writes them in large chunks."""

    chunk_lines = 2_000

    def __init__(self) -> None:
        """Start with nothing gathered."""
        super().__init__()
        self._lines: list[str] = []

    def serialize_message(self, message: Message | RawLine) -> str:
        """Serialise a message; a raw line is its own serialisation."""
        if isinstance(message, RawLine):
            return message.text.rstrip("\n")
        return super().serialize_message(message)

    def write_message(self, message: Message | RawLine) -> None:
        """Gather one message; write the chunk once it is large enough."""
        if type(message) is RawLine and message.text[-1:] == "\n":
            self._lines.append(message.text)
        else:
            self._lines.append(self.format_message(message) + "\n")
        if len(self._lines) >= self.chunk_lines:
            self._write_gathered()

    def flush(self) -> None:
        """Write what is gathered and flush stdout, e.g. before a STATE."""
        self._write_gathered()
        sys.stdout.flush()

    def _write_gathered(self) -> None:
        sys.stdout.write("".join(self._lines))
        self._lines.clear()
