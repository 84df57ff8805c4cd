"""The parts of one running emulator, bundled for the routes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields, replace

from podium_emulator.auth import Tokens
from podium_emulator.cursor import Cursors
from podium_emulator.faults import Faults
from podium_emulator.ratelimit import RateLimiter
from podium_emulator.settings import Settings
from podium_emulator.store import Store

REQUEST_LOG_SIZE = 200_000


@dataclass
class Emulator:
    """Settings, state, tokens, budget, faults, cursors and the request log."""

    settings: Settings = field(default_factory=Settings)
    corpus_dir: str | None = None

    def __post_init__(self) -> None:
        self.initial_settings = replace(self.settings)
        self.store = Store()
        self.tokens = Tokens(self.settings)
        self.rate_limiter = RateLimiter(self.settings)
        self.faults = Faults(self.settings)
        self.cursors = Cursors()
        self.requests: deque[dict] = deque(maxlen=REQUEST_LOG_SIZE)

    def restore_settings(self) -> None:
        """Put every setting back to its start-up value, in place."""
        for setting in fields(self.settings):
            value = getattr(self.initial_settings, setting.name)
            setattr(self.settings, setting.name, value)
        self.rate_limiter.restart()
