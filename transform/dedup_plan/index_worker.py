"""The worker process that writes contact batches into the index.

Parsing a contact and writing its rows cost more than reading and passing its
line through; running them in a second process lets the mapper use both cores
of a small machine. One worker, one batch in flight, so memory stays bounded
and batches land in input order.
"""

from __future__ import annotations

from dedup_plan.index import ContactIndex

_index: ContactIndex | None = None


def start(
    path: str, placeholders: frozenset[str], run_id: int, contacts_at_open: int
) -> None:
    """Open the index in this worker (the pool's initializer)."""
    global _index
    _index = ContactIndex.for_batches(path, placeholders, run_id, contacts_at_open)


def write_lines(lines: list[str]) -> tuple[int, str | None]:
    """Write one batch of raw `contacts` RECORD lines.

    Returns:
        How many contacts were written, and the latest `updatedAt` so far.
    """
    if _index is None:
        raise RuntimeError("The index worker was not started; call start() first.")
    written = _index.write_contact_lines(lines)
    return written, _index.latest_seen
