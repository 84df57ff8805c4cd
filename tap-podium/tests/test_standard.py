"""The singer-sdk standard tap tests, run against the emulator on 127.0.0.1."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner

from tap_podium.tap import TapPodium

# The factory builds a tap when the module is imported, before any emulator
# runs, to list the streams; these settings are valid and never contacted.
UNUSED_SETTINGS = {
    "client_id": "unused",
    "client_secret": "unused",
    "refresh_token": "unused",
    "api_url": "http://127.0.0.1:9/v4",
    "oauth_url": "http://127.0.0.1:9/oauth/token",
    "default_region": "AU",
}

StandardTests = get_tap_test_class(TapPodium, config=UNUSED_SETTINGS)


class TestTapPodiumStandard(StandardTests):
    """The SDK's tap, stream and attribute tests, on a synced emulator corpus."""

    @pytest.fixture(scope="class")
    def runner(self, session_emulator):
        """Sync the emulator's corpus once for every standard test."""
        session_emulator.control.reset()
        settings = {
            **session_emulator.credentials,
            "api_url": session_emulator.api_url,
            "oauth_url": session_emulator.oauth_url,
            "default_region": "AU",
            "page_size": 50,
            "requests_per_minute": 100_000,
        }
        test_runner = TapTestRunner(
            tap_class=TapPodium, config=settings, parse_env_config=False
        )
        test_runner.sync_all()
        return test_runner
