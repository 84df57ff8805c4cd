"""Timestamps as Podium writes them: UTC ISO 8601, second precision, with a `Z`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_iso(seconds: float) -> str:
    """Format epoch seconds as Podium's timestamp string."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime(ISO_FORMAT)


def from_iso(text: str) -> int:
    """Parse a Podium timestamp string to epoch seconds.

    Raises:
        ValueError: when the text is not exactly `YYYY-MM-DDTHH:MM:SSZ`.
    """
    parsed = datetime.strptime(text, ISO_FORMAT).replace(tzinfo=UTC)
    return int(parsed.timestamp())


def now() -> float:
    """The wall clock in epoch seconds (the one place the server reads it)."""
    return time.time()


def bumped(previous: str | None) -> str:
    """A new `updatedAt`: now, but always later than the previous value.

    Podium stores seconds only; two writes in one second would otherwise share
    a timestamp and a strictly-after `updated_at` filter would miss the second.
    """
    current = int(now())
    if previous is not None:
        current = max(current, from_iso(previous) + 1)
    return to_iso(current)
