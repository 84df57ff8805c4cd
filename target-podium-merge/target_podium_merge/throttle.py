"""One request budget shared by every cluster in flight."""

from __future__ import annotations

import threading
import time
import typing as t

# Requests are spaced at this share of the budget: the server counts fixed
# windows on its own clock, so pacing at exactly the budget lands a request or
# two past a window's end, and the pause that follows (Retry-After or the
# rounded-up reset) costs far more than the margin.
HEADROOM = 0.95


class Throttle:
    """Spaces requests evenly under a per-minute budget and honours pauses.

    Every thread calls `acquire` before a request. A 429's Retry-After, or a
    window whose RateLimit headers say nothing is left, pauses every thread.
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_minute <= 0:
            msg = "requests_per_minute must be above 0; set it to Podium's budget (300)"
            raise ValueError(msg)
        self._interval = 60.0 / (requests_per_minute * HEADROOM)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Wait for the next free slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, headers: t.Mapping[str, str]) -> None:
        """Pause until the window resets when the RateLimit headers say it is spent."""
        remaining = _as_float(headers.get("ratelimit-remaining"))
        reset = _as_float(headers.get("ratelimit-reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self.pause(reset)


def _as_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
