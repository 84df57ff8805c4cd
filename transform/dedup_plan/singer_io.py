"""Singer reader and writer tuned for passing a million records through.

The reader parses with orjson and keeps each raw input line, so a record that passes through
unchanged is written back as the same bytes instead of being serialised again.
The writer flushes only when asked (before STATE and at the end of the pipe),
not after every message.
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


class LineKeepingReader(SimpleSingerReader):
    """A Singer reader that remembers the raw line of the current message."""

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
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidInputLine(
                f"Input line {line[:80]!r}... is not JSON ({exc}); the upstream "
                "tap must write one Singer message per line."
            ) from exc


class BufferedWriter(SimpleSingerWriter):
    """A Singer writer that leaves flushing to the caller."""

    def serialize_message(self, message: Message | RawLine) -> str:
        """Serialise a message; a raw line is its own serialisation."""
        if isinstance(message, RawLine):
            return message.text.rstrip("\n")
        return super().serialize_message(message)

    def write_message(self, message: Message | RawLine) -> None:
        """Write one message to stdout without flushing."""
        sys.stdout.write(self.format_message(message) + "\n")

    @staticmethod
    def flush() -> None:
        """Flush stdout, e.g. before a STATE is released."""
        sys.stdout.flush()
