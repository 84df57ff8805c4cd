"""Injected failures: the next N calls of a route, a random 5xx rate, latency."""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass

from podium_emulator.errors import ApiError, code_for_status
from podium_emulator.settings import Settings


@dataclass
class Fault:
    """Fail the next `count` calls whose method and path match."""

    method: str
    path: str
    status: int
    count: int
    code: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request hits this fault (the path may hold `*` wildcards)."""
        same_method = self.method in ("*", method)
        return same_method and fnmatch.fnmatchcase(path, self.path)

    def error(self) -> ApiError:
        """The error this fault answers with."""
        code = self.code or code_for_status(self.status)
        headers = {}
        retry_after = self.retry_after
        if retry_after is None and self.status == 429:
            retry_after = 1  # a 429 always says when to come back
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        return ApiError(self.status, code, "Injected fault.", headers)


class Faults:
    """The armed faults and the random 5xx generator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.armed: list[Fault] = []
        self._random = random.Random(settings.seed)

    def arm(self, fault: Fault) -> None:
        """Add a fault; the oldest matching fault fires first."""
        self.armed.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        self.armed.clear()

    def check(self, method: str, path: str) -> None:
        """Raise the error of the first armed fault that matches, or a random 5xx.

        Raises:
            ApiError: the injected failure.
        """
        for fault in self.armed:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self.armed.remove(fault)
                raise fault.error()
        if self._random.random() < self.settings.random_5xx_rate:
            raise ApiError(500, "internal_server_error", "Random injected failure.")
