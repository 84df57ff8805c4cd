"""A client-side request budget, so the tap stays under the API's rate limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SECONDS_PER_MINUTE = 60.0


class Throttle:
    """Space requests evenly so that at most ``per_minute`` go out a minute.

    Even spacing, rather than a burst at the start of each window, keeps the
    tap clear of the server's 429s even when the windows of the two clocks do
    not line up.
    """

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a throttle for ``per_minute`` requests a minute."""
        if per_minute < 1:
            msg = f"requests_per_minute must be at least 1, not {per_minute}"
            raise ValueError(msg)
        self.interval = SECONDS_PER_MINUTE / per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_slot: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next request may go out; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay
