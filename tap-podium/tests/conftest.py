"""Fixtures: one emulator on 127.0.0.1 per session, and an in-process sync."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import pytest

from tap_podium.client import PodiumStream
from tap_podium.tap import TapPodium

CORPUS_CONTACTS = 300
CORPUS_SEED = 7
# Only the emulator's control fields; everything else is the API's contact.
CONTROL_FIELDS = {"deletedAt", "mergedInto", "restoredAt"}
ENRICHMENT_FIELDS = {
    "phones",
    "natural_keys",
    "consent",
    "field_count",
    "location_uids",
}


@pytest.fixture(scope="session")
def corpus():
    """A small generated tenant: a few hundred contacts, AU and US locations."""
    testing = pytest.importorskip("podium_emulator.testing")
    return testing.generate_corpus(contacts=CORPUS_CONTACTS, seed=CORPUS_SEED)


@pytest.fixture(scope="session")
def session_emulator(corpus):
    """The emulator, serving the corpus with a rate limit no test reaches."""
    testing = pytest.importorskip("podium_emulator.testing")
    with testing.run_emulator(
        corpus=corpus, rate_limit=100_000, rate_window=1.0
    ) as emu:
        yield emu


@pytest.fixture
def emulator(session_emulator):
    """The emulator back at its start-up corpus, with no faults and no log."""
    session_emulator.control.reset()
    yield session_emulator
    session_emulator.control.clear_faults()


@pytest.fixture
def tap_config(emulator):
    """Settings that point the tap at the emulator, with a high request budget."""
    return config_for(emulator)


def config_for(emulator, **overrides: Any) -> dict[str, Any]:
    """Return tap settings for an emulator, with any setting overridden."""
    return {
        **emulator.credentials,
        "api_url": emulator.api_url,
        "oauth_url": emulator.oauth_url,
        "default_region": "AU",
        "page_size": 25,
        "requests_per_minute": 100_000,
        **overrides,
    }


@pytest.fixture(autouse=True)
def short_retry_waits(monkeypatch):
    """Keep backoff waits to milliseconds; the policy is the same."""
    monkeypatch.setattr(PodiumStream, "backoff_base_seconds", 0.01)
    monkeypatch.setattr(PodiumStream, "backoff_max_seconds", 2.0)


@dataclass
class Sync:
    """The Singer messages of one sync, sorted by kind."""

    messages: list[dict] = field(default_factory=list)

    def records(self, stream: str) -> list[dict]:
        """Return the records of one stream, in the order they came."""
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[dict]:
        """Return the value of every STATE message."""
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        """Return the last STATE's value."""
        return self.states[-1]


def run_sync(
    config: dict[str, Any], state: dict | None = None, catalog: dict | None = None
) -> Sync:
    """Run a whole sync of the tap in this process and collect its messages."""
    tap = TapPodium(config=config, state=state, catalog=catalog, parse_env_config=False)
    output = io.StringIO()
    with redirect_stdout(output):
        tap.sync_all()
    lines = output.getvalue().splitlines()
    return Sync([json.loads(line) for line in lines if line.strip()])


def live_contacts(emulator) -> dict[str, dict]:
    """Return the emulator's live contacts by uid, as the API serves them."""
    return {
        contact["uid"]: {k: v for k, v in contact.items() if k not in CONTROL_FIELDS}
        for contact in emulator.control.snapshot()
        if not contact.get("deletedAt")
    }


def as_served(record: dict) -> dict:
    """Return a contact record without the tap's enrichment fields."""
    return {k: v for k, v in record.items() if k not in ENRICHMENT_FIELDS}


def assert_delivered_exactly(sync: Sync, emulator) -> None:
    """Every live contact delivered once, field for field as the emulator holds it."""
    records = sync.records("contacts")
    delivered = {record["uid"]: as_served(record) for record in records}
    assert len(records) == len(delivered), "a contact was delivered twice"
    assert delivered == live_contacts(emulator)


@pytest.fixture
def sync():
    """Return the in-process sync runner (fixtures avoid importing conftest)."""
    return run_sync


@pytest.fixture
def check_delivery():
    """Return the check that a sync delivered the emulator's contacts exactly."""
    return assert_delivered_exactly


@pytest.fixture
def settings_for():
    """Return the builder of tap settings for an emulator."""
    return config_for
