"""The client-side request budget."""

from __future__ import annotations

import time

import pytest

from tap_podium.throttle import Throttle


class FakeClock:
    """A clock that moves only when the throttle sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    """A fake clock at zero."""
    return FakeClock()


def test_the_first_request_goes_out_at_once(clock):
    throttle = Throttle(60, clock=clock, sleep=clock.sleep)
    assert throttle.wait() == 0
    assert clock.slept == []


def test_requests_are_spaced_evenly_at_the_budget(clock):
    throttle = Throttle(300, clock=clock, sleep=clock.sleep)
    for _ in range(301):
        throttle.wait()
    assert clock.now == pytest.approx(60.0)
    assert clock.slept == pytest.approx([0.2] * 300)


def test_time_spent_elsewhere_counts_toward_the_spacing(clock):
    throttle = Throttle(60, clock=clock, sleep=clock.sleep)
    throttle.wait()
    clock.now += 0.75
    assert throttle.wait() == pytest.approx(0.25)


def test_an_idle_throttle_does_not_save_up_a_burst(clock):
    throttle = Throttle(60, clock=clock, sleep=clock.sleep)
    throttle.wait()
    clock.now += 100
    throttle.wait()
    assert throttle.wait() == pytest.approx(1.0)


def test_a_budget_below_one_is_refused():
    with pytest.raises(ValueError, match="requests_per_minute must be at least 1"):
        Throttle(0)


def test_a_sync_stays_within_requests_per_minute(emulator, settings_for, sync):
    per_minute = 1200
    started = time.monotonic()
    sync(settings_for(emulator, requests_per_minute=per_minute, page_size=50))
    elapsed = time.monotonic() - started
    sent = [e for e in emulator.control.requests() if e["path"].startswith("/v4/")]
    assert len(sent) >= 5
    assert elapsed >= (len(sent) - 1) * 60 / per_minute
