"""A fixed-window request budget for the `/v4` routes."""

from __future__ import annotations

import math

from podium_emulator import clock
from podium_emulator.errors import ApiError
from podium_emulator.settings import Settings


class RateLimiter:
    """Counts requests in fixed windows; the window starts at the first request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._window_start = 0.0
        self._used = 0

    def restart(self) -> None:
        """Start a fresh window with the whole budget."""
        self._window_start, self._used = 0.0, 0

    def take(self) -> dict[str, str]:
        """Spend one request and return the rate-limit headers.

        Raises:
            ApiError: 429 `rate_limit` with `Retry-After` when the window is spent.
        """
        current = clock.now()
        if current >= self._window_start + self.settings.rate_window:
            self._window_start, self._used = current, 0
        reset = max(
            1, math.ceil(self._window_start + self.settings.rate_window - current)
        )
        if self._used >= self.settings.rate_limit:
            headers = self._headers(0, reset) | {"retry-after": str(reset)}
            raise ApiError(429, "rate_limit", "Too many requests.", headers)
        self._used += 1
        return self._headers(self.settings.rate_limit - self._used, reset)

    def _headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.settings.rate_limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }
