"""Fixtures: a fake Podium behind MockTransport and an applier wired to it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_podium import API, CREDENTIALS, OAUTH, FakePodium, contact
from target_podium_merge.apply import ApplySettings, ClusterApplier
from target_podium_merge.audit import AuditLog
from target_podium_merge.client import PodiumClient
from target_podium_merge.state import MergeState
from target_podium_merge.throttle import Throttle


@pytest.fixture
def two_contacts() -> list[dict]:
    """A primary with a phone, and a duplicate that opted out of SMS."""
    primary = contact("p1", name="Ada Quill", phones=["+61412345678"])
    duplicate = contact("d1", phones=["0412 345 678"], emails=["ada@example.test"])
    duplicate["channels"][0]["transactionalOptedOutAt"] = "2026-10-01T00:00:00Z"
    return [primary, duplicate]


@pytest.fixture
def podium(two_contacts: list[dict]) -> FakePodium:
    """A fake Podium holding the two contacts."""
    return FakePodium(two_contacts)


def make_applier(
    podium: FakePodium, tmp_path: Path, *, dry_run: bool = False, **settings: object
) -> ClusterApplier:
    """Wire a client, state and audit log in tmp_path to the fake."""
    recorded: list = []
    client = PodiumClient(
        api_url=API,
        oauth_url=OAUTH,
        credentials=CREDENTIALS,
        throttle=Throttle(60_000),
        dry_run=dry_run,
        record_dry_run=lambda call, _cluster: recorded.append(call),
        transport=podium.transport(),
        max_tries=3,
        backoff_base=0.001,
        sleep=lambda _s: None,
    )
    client.recorded = recorded  # type: ignore[attr-defined]
    applier = ClusterApplier(
        client,
        MergeState(tmp_path / "state.db"),
        AuditLog(tmp_path / "audit-log.jsonl"),
        ApplySettings(
            dry_run=dry_run, confirm_timeout=0.2, poll_interval=0.01, **settings
        ),  # type: ignore[arg-type]
        sleep=lambda _s: None,
    )
    return applier


@pytest.fixture
def applier(podium: FakePodium, tmp_path: Path) -> ClusterApplier:
    """An applier that writes (dry_run off) to the fake Podium."""
    return make_applier(podium, tmp_path)
