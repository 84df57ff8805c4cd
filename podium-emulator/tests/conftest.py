"""Fixtures: a small generated tenant and one emulator serving it per session."""

from __future__ import annotations

import httpx
import pytest
from podium_emulator.testing import generate_corpus, run_emulator


@pytest.fixture(scope="session")
def small_corpus():
    """A 300-contact tenant; big enough to hold every planted case."""
    return generate_corpus(contacts=300, seed=11)


@pytest.fixture(scope="session")
def running_emulator(small_corpus):
    """One emulator for the session, with a budget tests do not run into."""
    with run_emulator(
        corpus=small_corpus, rate_limit=100_000, rate_window=60, merge_delay=0.3
    ) as emulator:
        yield emulator


@pytest.fixture
def emulator(running_emulator):
    """The session emulator, reset to its start-up corpus and settings."""
    running_emulator.control.reset()
    return running_emulator


@pytest.fixture
def api(emulator):
    """An httpx client on `/v4` holding a fresh bearer token."""
    with emulator.client() as client:
        yield client


@pytest.fixture
def anonymous(emulator):
    """An httpx client on `/v4` with no token."""
    with httpx.Client(base_url=emulator.api_url, timeout=30.0) as client:
        yield client


@pytest.fixture
def list_all(api):
    """A function that walks the whole contact list with cursors (bounded)."""

    def walk(**params) -> list[dict]:
        contacts, params = [], {"limit": 100, **params}
        for _ in range(1000):
            body = api.get("/contacts", params=params).json()
            contacts += body["data"]
            if not body["metadata"]["nextCursor"]:
                return contacts
            params = {"cursor": body["metadata"]["nextCursor"]}
        raise AssertionError("the contact list did not end within 1000 pages")

    return walk
