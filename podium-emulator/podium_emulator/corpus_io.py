"""Reading and writing a corpus folder: contacts, locations and truth as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

FILES = ("contacts.jsonl", "locations.jsonl", "truth.jsonl")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as JSON lines in a stable key order (same seed, same bytes)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """Read JSON lines, skipping blank lines."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_corpus(folder: str | Path) -> tuple[list[dict], list[dict]]:
    """The contacts and locations of a corpus folder.

    Raises:
        FileNotFoundError: naming the missing file and how to make one.
    """
    folder = Path(folder)
    for name in FILES[:2]:
        if not (folder / name).exists():
            raise FileNotFoundError(
                f"{folder / name} is missing; "
                f"run `podium-emulator generate --out {folder}` first."
            )
    return read_jsonl(folder / "contacts.jsonl"), read_jsonl(folder / "locations.jsonl")
