"""Regression tests for the findings of the target's review (issue 5).

Each test is headed by the finding it pins down; the reproductions it replaces
were in the reviewer's own folder.
"""

from __future__ import annotations

import decimal
import io
import json
import logging
import os
import stat
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from merge_fakes import (
    CREDENTIALS,
    PLAN_SCHEMA,
    FakePodium,
    contact,
    make_applier,
    plan_for,
)
from target_podium_merge import keys
from target_podium_merge.errors import FatalError
from target_podium_merge.fill import fill_calls
from target_podium_merge.state import MergeState
from target_podium_merge.target import (
    RERUN_HINT,
    Engine,
    SettingsError,
    TargetPodiumMerge,
    check_settings,
)


def two_people() -> tuple[FakePodium, dict]:
    """Two different people at one location, who share no phone."""
    ada = contact("p1", name="Ada Quill", phones=["+61412345678"])
    bob = contact("d1", name="Bob Stone", phones=["0499 111 222"])
    return FakePodium([ada, bob]), plan_for(ada, [bob])


def record(plan: dict) -> dict:
    return {"type": "RECORD", "stream": "merge_plans", "record": plan}


def feed(target: TargetPodiumMerge, messages: list[dict]) -> list[dict]:
    """Run the target in-process; return the STATE messages it wrote."""
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    return [json.loads(line) for line in stdout.getvalue().splitlines() if line]


def target_on(podium: FakePodium, tmp_path: Path, **config: object):
    """A writing target whose engine talks to the fake Podium."""
    settings = {
        "api_url": "http://127.0.0.1:9/v4",
        "oauth_url": "http://127.0.0.1:9/oauth/token",
        "dry_run": False,
        "state_db": str(tmp_path / "state.db"),
        "output_dir": str(tmp_path / "out"),
        "merge_confirm_timeout": 0.5,
        "requests_per_minute": 60_000,
        **CREDENTIALS,
        **config,
    }
    target = TargetPodiumMerge(config=settings)
    target.__dict__["engine"] = Engine(
        target.config, target.logger, transport=podium.transport()
    )
    return target


# Finding 1: the target merged whatever a plan said (confidence, natural key).


@pytest.mark.parametrize(
    ("confidence", "reason"),
    [
        pytest.param(0.6, "below_threshold: confidence 0.60", id="below-threshold"),
        pytest.param(0.0, "below_threshold: confidence 0.00", id="zero"),
        pytest.param(None, "invalid_plan: confidence", id="missing"),
        pytest.param("high", "invalid_plan: confidence", id="not-a-number"),
    ],
)
def test_a_plan_below_the_merge_threshold_goes_to_review_unmerged(
    tmp_path, confidence, reason
):
    podium = FakePodium([contact("p1", phones=["+61412345678"]), contact("d1")])
    podium.contacts["d1"]["phoneNumbers"] = ["0412 345 678"]
    plan = plan_for(podium.contacts["p1"], [podium.contacts["d1"]])
    applier = make_applier(podium, tmp_path)

    assert applier.apply({**plan, "confidence": confidence}) == "review"
    assert podium.writes() == []
    assert applier.state.review_items()[0]["reason"].startswith(reason)


def test_the_merge_threshold_setting_is_honoured(tmp_path):
    podium = FakePodium([contact("p1", phones=["+61412345678"])])
    podium.contacts["d1"] = contact("d1", phones=["0412 345 678"])
    plan = plan_for(podium.contacts["p1"], [podium.contacts["d1"]], confidence=0.95)

    strict = make_applier(podium, tmp_path / "strict", merge_threshold=0.99)
    assert strict.apply(plan) == "review"
    assert podium.writes() == []
    assert make_applier(podium, tmp_path / "default").apply(plan) == "verified"


def test_two_people_who_share_no_phone_are_never_merged_on_a_plan(tmp_path):
    podium, plan = two_people()
    applier = make_applier(podium, tmp_path)

    assert applier.apply(plan) == "review"
    assert podium.writes() == []
    item = applier.state.review_items()[0]
    assert item["reason"] == (
        "plan_rejected: 1 member(s) do not carry the plan's natural key: d1"
    )
    assert applier.state.get(plan["cluster_id"])["state"] == "review"


def test_a_dry_run_of_a_plan_its_members_do_not_bear_out_lists_no_call(tmp_path):
    podium, plan = two_people()
    applier = make_applier(podium, tmp_path, dry_run=True)

    assert applier.apply(plan) == "review"
    assert applier.client.recorded == []
    assert applier.state.review_items()[0]["reason"].startswith("plan_rejected")


@pytest.mark.parametrize(
    ("natural_key", "raw", "carried"),
    [
        pytest.param("+61412345678", "0412 345 678", True, id="national-format"),
        pytest.param("+61412345678", "(04) 1234-5678", True, id="brackets"),
        pytest.param("+61412345678", "tel:+61-412-345-678", True, id="tel-uri"),
        pytest.param(
            "+61412345678",
            "\uff10\uff14\uff11\uff12 \uff13\uff14\uff15 \uff16\uff17\uff18",
            True,
            id="wide-digits",
        ),
        pytest.param("+61412345678", "0412\u202f345\u200b678", True, id="odd-spaces"),
        pytest.param(
            "+61412345678", "0412 345 678 / 02 9374 4000", True, id="two-in-a-field"
        ),
        pytest.param("+14155550123", "(415) 555-0123", True, id="us-national"),
        pytest.param(
            "+61412345678;ext=12", "0412 345 678 ext. 12", True, id="extension"
        ),
        pytest.param("+61412345678", "0412 345 679", False, id="other-number"),
        pytest.param("+61412345678;ext=12", "+61412345678", False, id="ext-missing"),
        pytest.param("+61412345678", "+61412345678 x12", False, id="ext-extra"),
        pytest.param("+61412345678", 412345678, False, id="not-a-string"),
        pytest.param("0412345678", "0412345678", False, id="key-not-e164"),
        pytest.param("+61412345678;ext=", "+61412345678", False, id="empty-ext-key"),
    ],
)
def test_a_contact_carries_a_key_only_when_a_raw_phone_normalises_to_it(
    natural_key, raw, carried
):
    assert keys.carries_key({"phoneNumbers": [raw]}, natural_key) is carried


@pytest.mark.parametrize(
    "natural_key",
    [None, "", "0412345678", "+61412345678;ext=x", "+6141234567899999"],
    ids=["null", "empty", "national", "bad-extension", "too-long"],
)
def test_a_plan_whose_natural_key_is_not_a_key_goes_to_review(tmp_path, natural_key):
    podium = FakePodium([contact("p1", phones=["+61412345678"])])
    podium.contacts["d1"] = contact("d1", phones=["0412 345 678"])
    plan = plan_for(podium.contacts["p1"], [podium.contacts["d1"]])
    applier = make_applier(podium, tmp_path)

    assert applier.apply({**plan, "natural_key": natural_key}) == "review"
    assert podium.writes() == []
    assert applier.state.review_items()[0]["reason"].startswith(
        "invalid_plan: natural_key"
    )


# Finding 2: a merged cluster whose opt-outs failed let the run exit 0 and the
# upstream STATE pass.


def opted_out_duplicate() -> tuple[FakePodium, dict]:
    """A duplicate whose SMS opt-out the survivor must take over."""
    primary = contact("p1", name="Ada Quill", phones=["+61412345678"])
    duplicate = contact("d1", phones=["0412 345 678"])
    duplicate["channels"][0]["transactionalOptedOutAt"] = "2026-10-01T00:00:00Z"
    plan = plan_for(primary, [duplicate])
    plan["consent_target"]["sms_opt_out"] = True
    return FakePodium([primary, duplicate]), plan


def test_a_run_that_could_not_write_an_opt_out_exits_1_and_forwards_no_state(
    tmp_path, caplog
):
    podium, plan = opted_out_duplicate()
    podium.fault("POST", r"/opt_out$", 500, "internal_server_error", count=100)
    target = target_on(podium, tmp_path, max_tries=2)
    messages = [PLAN_SCHEMA, record(plan), {"type": "STATE", "value": {"x": 1}}]

    stdout = io.StringIO()
    with (
        caplog.at_level(logging.INFO),
        pytest.raises(SystemExit) as exited,
        redirect_stdout(stdout),
    ):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))

    assert exited.value.code == 1
    assert stdout.getvalue() == ""  # the upstream STATE was held back
    row = target.engine.state.get(plan["cluster_id"])
    assert (row["state"], row["progress"]) == ("merged", "merged")
    assert row["reason"].startswith("failed: ")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(plan["cluster_id"] in m and RERUN_HINT in m for m in errors)


def test_the_next_run_finishes_an_unfinished_cluster_first_and_lets_state_pass(
    tmp_path,
):
    podium, plan = opted_out_duplicate()
    podium.fault("POST", r"/opt_out$", 500, "internal_server_error", count=100)
    with pytest.raises(SystemExit):
        feed(target_on(podium, tmp_path, max_tries=2), [PLAN_SCHEMA, record(plan)])
    podium.faults.clear()

    again = target_on(podium, tmp_path)
    states = feed(again, [PLAN_SCHEMA, {"type": "STATE", "value": {"x": 2}}])

    assert states == [{"x": 2}]
    assert again.engine.state.get(plan["cluster_id"])["state"] == "verified"
    assert podium.contacts["p1"]["channels"][0]["transactionalOptedOutAt"]
    assert len([r for r in podium.requests if r[1].endswith("/merge")]) == 1


# Finding 3: state.db (members' pre-images) was readable by everyone.


def test_the_state_db_and_its_wal_files_are_owner_only(tmp_path):
    previous = os.umask(0o022)
    try:
        state = MergeState(tmp_path / "state.db")
        state.start(plan_for(contact("p1"), [contact("d1")]))
    finally:
        os.umask(previous)

    files = [p for p in tmp_path.iterdir() if p.name.startswith("state.db")]
    assert {p.name for p in files} >= {"state.db", "state.db-wal", "state.db-shm"}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {
        p.name: 0o600 for p in files
    }


def test_an_existing_state_db_open_to_others_is_made_owner_only(tmp_path):
    path = tmp_path / "state.db"
    path.touch(mode=0o644)
    path.chmod(0o644)

    MergeState(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# Finding 4: a restored contact in a plan whose cluster was already verified was
# skipped silently instead of reaching review.


def test_a_restored_duplicate_in_a_verified_cluster_goes_to_review(
    podium, applier, two_contacts
):
    plan = plan_for(two_contacts[0], [two_contacts[1]])
    assert applier.apply(plan) == "verified"
    podium.contacts["d1"] = podium.deleted.pop("d1")  # an admin restored it
    writes = podium.writes()

    assert applier.apply(plan) == "review"
    assert podium.writes() == writes
    item = applier.state.review_items()[0]
    assert (item["reason"], item["restored_uids"]) == ("restored_after_merge", ["d1"])
    assert applier.state.get(plan["cluster_id"])["state"] == "verified"


def test_a_restored_duplicate_of_an_unfinished_cluster_is_finished_and_reviewed(
    podium, applier, two_contacts
):
    plan = plan_for(two_contacts[0], [two_contacts[1]])
    plan["consent_target"]["sms_opt_out"] = True
    podium.fault("POST", r"/opt_out$", 500, "internal_server_error", count=3)
    assert applier.apply(plan) == "failed"  # merged, opt-out not yet written
    podium.contacts["d1"] = podium.deleted.pop("d1")

    assert applier.apply(plan) == "verified"
    assert podium.contacts["p1"]["channels"][0]["transactionalOptedOutAt"]
    item = applier.state.review_items()[0]
    assert (item["reason"], item["restored_uids"]) == ("restored_after_merge", ["d1"])
    assert len([r for r in podium.requests if r[1].endswith("/merge")]) == 1


def test_a_plan_whose_merged_contacts_cannot_be_read_fails_for_this_run(
    podium, applier, two_contacts
):
    plan = plan_for(two_contacts[0], [two_contacts[1]])
    applier.apply(plan)
    podium.fault("GET", r"/contacts/d1$", 503, "internal_server_error", count=3)
    writes = podium.writes()

    assert applier.apply(plan) == "failed"
    assert podium.writes() == writes


# Finding 5: settings out of range were not refused at start.


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_in_flight", 0),
        ("max_in_flight", -1),
        ("max_tries", 0),
        ("requests_per_minute", 0),
        ("checkpoint_every", 0),
        ("merge_threshold", 1.5),
    ],
    ids=[
        "no-clusters-in-flight",
        "negative-in-flight",
        "zero-tries",
        "no-budget",
        "no-checkpoints",
        "threshold-above-one",
    ],
)
def test_a_bad_setting_stops_the_cli_at_start_naming_it(tmp_path, setting, value):
    config = {
        "api_url": "http://127.0.0.1:9/v4",
        "oauth_url": "http://127.0.0.1:9/oauth/token",
        "state_db": str(tmp_path / "state.db"),
        "output_dir": str(tmp_path / "out"),
        setting: value,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    config_args = ["--config", str(tmp_path / "config.json")]

    done = subprocess.run(
        [sys.executable, "-m", "target_podium_merge.target", *config_args],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode != 0
    assert setting in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_tries", 0), ("checkpoint_every", -5), ("requests_per_minute", "fast")],
    ids=["zero-tries", "negative-checkpoints", "not-a-number"],
)
def test_check_settings_names_the_setting_the_schema_let_through(setting, value):
    with pytest.raises(SettingsError, match=f"setting {setting} must be"):
        check_settings({setting: value})


def test_check_settings_accepts_numbers_handed_over_as_decimal():
    settings = {
        "max_tries": decimal.Decimal(3),
        "merge_threshold": decimal.Decimal("0.9"),
    }

    assert check_settings(settings) is None


# Finding 6: plans with a null or empty cluster_id shared one state row.


def test_plans_without_a_cluster_id_each_go_to_review_under_their_own_key(tmp_path):
    contacts = [
        contact(f"{k}{n}", phones=[f"+6141234567{n}"]) for n in (0, 1) for k in "pd"
    ]
    podium = FakePodium(contacts)
    plans = [
        plan_for(contacts[0], [contacts[1]], natural_key="+61412345670"),
        plan_for(contacts[2], [contacts[3]], natural_key="+61412345671"),
    ]
    applier = make_applier(podium, tmp_path)

    outcomes = [
        applier.apply({**plan, "cluster_id": value})
        for plan, value in zip(plans, [None, ""], strict=True)
    ]
    outcomes.append(applier.apply({**plans[0], "cluster_id": "   "}))

    assert outcomes == ["review", "review", "review"]
    assert podium.writes() == []
    items = applier.state.review_items()
    assert len({item["cluster_id"] for item in items}) == 3
    assert all(item["cluster_id"].startswith("no-cluster-id-") for item in items)
    assert applier.state.counts() == {}


def test_review_items_without_a_cluster_id_each_keep_their_own_row(tmp_path):
    target = target_on(FakePodium([]), tmp_path)
    items = [
        {"cluster_id": value, "reason": "below_threshold", "location_names": ["B"]}
        for value in (None, "", "  ")
    ]
    # A warehouse column may be nullable.
    nullable = {
        "type": "object",
        "properties": {"cluster_id": {"type": ["string", "null"]}},
    }
    schema = {**PLAN_SCHEMA, "stream": "review_items", "schema": nullable}

    feed(target, [schema] + [{**record(i), "stream": "review_items"} for i in items])

    queued = target.engine.state.review_items()
    assert len({item["cluster_id"] for item in queued}) == 3
    assert all(item["cluster_id"].startswith("no-cluster-id-") for item in queued)


# Finding 7: fill overwrote a name the survivor already had.


@pytest.mark.parametrize(
    ("survivor", "fill", "keys_sent"),
    [
        pytest.param({"name": "Jane Smith"}, {"name": "J Smith"}, [], id="name-kept"),
        pytest.param(
            {"name": "Rob Vance Sr."}, {"name": "Rob Vance Jr."}, [], id="other-name"
        ),
        pytest.param({"name": None}, {"name": "Jane Smith"}, ["name"], id="no-name"),
        pytest.param(
            {"name": "Unknown"}, {"name": "Jane Smith"}, ["name"], id="placeholder"
        ),
        pytest.param(
            {"name": "0412 345 678"}, {"name": "Jane"}, ["name"], id="phone-as-name"
        ),
        pytest.param({"name": None}, {"name": "Customer"}, [], id="placeholder-fill"),
        pytest.param(
            {"address": {"city": "Bondi", "postalCode": " "}},
            {"address": {"city": "Manly", "postalCode": "2026"}},
            ["address"],
            id="address-fills-only-empty-sub-fields",
        ),
        pytest.param(
            {"address": {"city": "Bondi"}},
            {"address": {"city": "Manly"}},
            [],
            id="address-kept",
        ),
    ],
)
def test_fill_never_replaces_a_value_the_survivor_has(survivor, fill, keys_sent):
    calls = fill_calls({"uid": "p", "emails": [], "phoneNumbers": [], **survivor}, fill)

    assert [key for key, _call in calls] == keys_sent
    if keys_sent == ["address"]:
        assert calls[0][1].body == {"address": {"postalCode": "2026"}}


# Found while fixing finding 1: with wrong credentials, a run whose plans all
# went to review exited 0, because the location read hid the fatal error.


def test_a_fatal_error_reading_locations_for_review_stops_the_run(tmp_path):
    podium, plan = two_people()
    podium.fault("GET", r"/locations$", 403, "forbidden")
    applier = make_applier(podium, tmp_path)

    with pytest.raises(FatalError, match="GET /locations answered 403"):
        applier.apply({**plan, "confidence": 0.1})
