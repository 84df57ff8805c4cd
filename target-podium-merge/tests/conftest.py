"""Fixtures: a fake Podium behind MockTransport and an applier wired to it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from merge_fakes import FakePodium, contact, make_applier
from target_podium_merge.apply import ClusterApplier


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


@pytest.fixture
def applier(podium: FakePodium, tmp_path: Path) -> ClusterApplier:
    """An applier that writes (dry_run off) to the fake Podium."""
    return make_applier(podium, tmp_path)
