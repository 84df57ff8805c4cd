"""Faults through the emulator: each sync still delivers every contact exactly."""

from __future__ import annotations

import pytest

from tap_podium.auth import TokenRefreshError
from tap_podium.client import CursorPaginator, PodiumAPIError, RetriesExhausted


def statuses(emulator, path="/v4/contacts") -> list[int]:
    """Return the status of every GET of a path in the request log."""
    return [
        entry["status"]
        for entry in emulator.control.requests()
        if entry["method"] == "GET" and entry["path"] == path
    ]


@pytest.fixture
def after_first_contacts_page(monkeypatch):
    """Return a hook that runs an action once, after the first contacts page."""

    def install(action, times=1):
        original = CursorPaginator.get_next
        remaining = {"count": times}

        def get_next(self, response):
            if "/contacts" in response.url and remaining["count"] > 0:
                remaining["count"] -= 1
                action()
            return original(self, response)

        monkeypatch.setattr(CursorPaginator, "get_next", get_next)

    return install


def test_a_storm_of_injected_429s_is_waited_out(
    emulator, tap_config, sync, check_delivery
):
    emulator.control.fault("GET", "/v4/contacts", status=429, count=5, retry_after=0)
    result = sync(tap_config)
    check_delivery(result, emulator)
    assert statuses(emulator).count(429) == 5


def test_the_servers_own_rate_limit_is_waited_out(
    emulator, settings_for, sync, check_delivery
):
    emulator.control.settings(rate_limit=4)
    result = sync(settings_for(emulator, page_size=50))
    check_delivery(result, emulator)
    assert 429 in statuses(emulator)


def test_a_429_waits_as_long_as_retry_after_says(emulator, tap_config, sync, caplog):
    emulator.control.fault("GET", "/v4/contacts", status=429, count=1, retry_after=1)
    sync(tap_config)
    assert "in 1.00 s" in caplog.text


def test_a_burst_of_5xx_is_retried_with_backoff(
    emulator, tap_config, sync, check_delivery
):
    emulator.control.fault("GET", "/v4/contacts", status=503, count=4)
    result = sync(tap_config)
    check_delivery(result, emulator)
    assert statuses(emulator).count(503) == 4


def test_random_5xx_through_a_whole_sync_lose_nothing(
    emulator, tap_config, sync, check_delivery
):
    emulator.control.settings(random_5xx_rate=0.2)
    result = sync(tap_config)
    emulator.control.settings(random_5xx_rate=0)
    check_delivery(result, emulator)


def test_5xx_beyond_the_retry_budget_stop_the_sync_saying_what_to_do(
    emulator, tap_config, sync
):
    emulator.control.fault("GET", "/v4/contacts", status=500, count=50)
    with pytest.raises(RetriesExhausted, match=r"still failing after 8 tries.*again"):
        sync(tap_config)


def test_a_token_expired_mid_sync_is_refreshed_once(
    emulator, tap_config, sync, check_delivery, after_first_contacts_page
):
    after_first_contacts_page(emulator.control.expire_tokens)
    result = sync(tap_config)
    check_delivery(result, emulator)
    assert 401 in statuses(emulator)
    token_posts = [
        e for e in emulator.control.requests() if e["path"] == "/oauth/token"
    ]
    assert len(token_posts) == 2


def test_a_401_that_a_new_token_does_not_cure_is_fatal(emulator, tap_config, sync):
    emulator.control.fault(
        "GET", "/v4/contacts", status=401, count=2, code="unauthenticated"
    )
    with pytest.raises(PodiumAPIError, match=r"answered 401 \(unauthenticated\)"):
        sync(tap_config)


def test_a_refused_refresh_token_names_the_settings_to_check(
    emulator, settings_for, sync
):
    config = settings_for(emulator, refresh_token="not-the-right-one")
    with pytest.raises(TokenRefreshError, match=r"check the settings client_id"):
        sync(config)


def test_an_expired_cursor_restarts_from_the_bookmark_without_repeats(
    emulator, tap_config, sync, check_delivery, after_first_contacts_page
):
    after_first_contacts_page(emulator.control.expire_cursors)
    result = sync(tap_config)
    check_delivery(result, emulator)
    assert 400 in statuses(emulator)


def test_a_cursor_that_keeps_expiring_stops_the_sync_saying_what_to_do(
    emulator, tap_config, sync, after_first_contacts_page
):
    after_first_contacts_page(emulator.control.expire_cursors, times=100)
    with pytest.raises(RetriesExhausted, match=r"expired 6 times.*run it again"):
        sync(tap_config)
