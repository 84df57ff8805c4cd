"""The Singer target: standard tests, STATE discipline, outputs."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from merge_fakes import (
    ACCESS_TOKEN,
    CREDENTIALS,
    PLAN_SCHEMA,
    FakePodium,
    contact,
    plan_for,
)
from singer_sdk.testing import get_target_test_class
from target_podium_merge.target import Engine, TargetPodiumMerge

STANDARD_CONFIG = {
    "api_url": "http://127.0.0.1:9/v4",
    "oauth_url": "http://127.0.0.1:9/oauth/token",
    "dry_run": True,
    "state_db": "/tmp/target-podium-merge-standard/state.db",
    "output_dir": "/tmp/target-podium-merge-standard",
}

TestTargetPodiumMerge = get_target_test_class(
    target_class=TargetPodiumMerge, config=STANDARD_CONFIG
)

REVIEW_SCHEMA = {**PLAN_SCHEMA, "stream": "review_items"}


def run_target(config: dict, messages: list[dict]) -> list[dict]:
    """Run the target in-process; return the STATE messages it wrote to stdout."""
    target = TargetPodiumMerge(config=config)
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    return [json.loads(line) for line in stdout.getvalue().splitlines() if line]


@pytest.fixture
def config(tmp_path: Path) -> dict:
    return {
        **STANDARD_CONFIG,
        "state_db": str(tmp_path / "state.db"),
        "output_dir": str(tmp_path / "out"),
    }


def test_no_state_is_emitted_before_one_was_received(config):  # case R30
    assert run_target(config, [PLAN_SCHEMA, {"type": "STATE", "value": {}}]) == []


def test_the_received_state_follows_the_plans_before_it(config):
    review = {
        "cluster_id": "c9",
        "reason": "below_threshold",
        "primary_uid": "a",
        "members": [{"uid": "a", "location_uids": ["loc-1"]}],
        "location_names": ["Bondi"],
    }
    messages = [
        REVIEW_SCHEMA,
        {"type": "RECORD", "stream": "review_items", "record": review},
        {"type": "STATE", "value": {"bookmarks": {"x": 1}}},
    ]

    assert run_target(config, messages) == [{"bookmarks": {"x": 1}}]
    queue_csv = (Path(config["output_dir"]) / "review-queue.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(queue_csv)))
    assert rows[0]["cluster"] == "c9"
    assert rows[0]["decision"] == ""
    queue = json.loads((Path(config["output_dir"]) / "review-queue.json").read_text())
    assert queue[0]["reason"] == "below_threshold"


def test_streams_the_target_does_not_handle_are_ignored(config):
    schema = {
        "type": "SCHEMA",
        "stream": "contacts",
        "key_properties": ["uid"],
        "schema": {"type": "object", "properties": {"uid": {"type": "string"}}},
    }
    messages = [
        schema,
        {"type": "RECORD", "stream": "contacts", "record": {"uid": "a"}},
        {"type": "STATE", "value": {"bookmarks": {"contacts": 1}}},
    ]

    assert run_target(config, messages) == [{"bookmarks": {"contacts": 1}}]


def in_process_target(config: dict, podium) -> TargetPodiumMerge:
    """A target whose engine talks to the fake Podium."""
    target = TargetPodiumMerge(config={**config, **CREDENTIALS})
    target.__dict__["engine"] = Engine(
        target.config, target.logger, transport=podium.transport()
    )
    return target


def feed(target: TargetPodiumMerge, messages: list[dict]) -> list[dict]:
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    return [json.loads(line) for line in stdout.getvalue().splitlines() if line]


@pytest.fixture
def write_config(config: dict) -> dict:
    return {
        **config,
        "dry_run": False,
        "checkpoint_every": 2,
        "merge_confirm_timeout": 0.5,
        "requests_per_minute": 60_000,
    }


def three_clusters() -> tuple[FakePodium, list[dict]]:
    contacts = [
        contact(f"{kind}{n}", phones=[f"+6141234567{n}"])
        for n in range(3)
        for kind in ("p", "d")
    ]
    plans = [
        plan_for(contacts[2 * n], [contacts[2 * n + 1]], natural_key=f"+6141234567{n}")
        for n in range(3)
    ]
    return FakePodium(contacts), plans


def test_a_state_leaves_only_after_the_clusters_before_it_are_verified(write_config):
    podium, plans = three_clusters()
    messages = [PLAN_SCHEMA]
    for index, plan in enumerate(plans, 1):
        messages += [
            {"type": "RECORD", "stream": "merge_plans", "record": plan},
            {"type": "STATE", "value": {"bookmarks": {"plans": index}}},
        ]
    target = in_process_target(write_config, podium)

    states = feed(target, messages)

    # checkpoint_every=2: one STATE after two plans, the last one at the end.
    assert states == [{"bookmarks": {"plans": 1}}, {"bookmarks": {"plans": 3}}]
    assert target.engine.state.counts() == {"verified": 3}
    assert sorted(podium.deleted) == ["d0", "d1", "d2"]


def test_clusters_an_earlier_run_left_unfinished_are_resumed_at_start(write_config):
    podium, plans = three_clusters()
    earlier = in_process_target(write_config, podium).engine
    earlier.state.start(plans[0])  # killed right after it was recorded

    target = in_process_target(write_config, podium)
    feed(target, [PLAN_SCHEMA])

    assert target.engine.state.get(plans[0]["cluster_id"])["state"] == "verified"
    assert "d0" in podium.deleted


def test_no_phone_email_or_token_is_logged_at_info_or_above(write_config, caplog):
    podium, plans = three_clusters()
    podium.contacts["d0"]["emails"] = ["ada@example.test"]
    target = in_process_target(write_config, podium)

    with caplog.at_level("DEBUG"):
        feed(
            target,
            [PLAN_SCHEMA]
            + [{"type": "RECORD", "stream": "merge_plans", "record": p} for p in plans],
        )

    loud = " ".join(r.getMessage() for r in caplog.records if r.levelno >= 20)
    assert "cluster" in loud
    for secret in ("+614", "@example.test", ACCESS_TOKEN, *CREDENTIALS.values()):
        assert secret not in loud
