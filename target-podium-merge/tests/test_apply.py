"""The per-cluster state machine against a fake Podium (httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from merge_fakes import FakePodium, contact, make_applier, plan_for


@pytest.fixture
def plan(two_contacts: list[dict]) -> dict:
    """Merge d1 into p1; fill d1's email and a tag; d1's SMS opt-out must survive."""
    primary, duplicate = two_contacts
    return plan_for(
        primary,
        [duplicate],
        fill={
            "name": None,
            "emails": ["ada@example.test"],
            "address": {"city": "Bondi"},
            "tags": [{"uid": "tag-vip", "label": "VIP"}],
            "phones": [],
            "locations": [],
        },
    )


def merges(podium: FakePodium) -> list[tuple[str, str, int]]:
    return [r for r in podium.requests if r[1].endswith("/merge")]


def test_a_clean_cluster_ends_verified_with_every_opt_out_and_fill(
    podium, applier, plan
):
    assert applier.apply(plan) == "verified"

    survivor = podium.contacts["p1"]
    assert "d1" in podium.deleted
    assert {"uid": "conv-d1"} in survivor["conversations"]
    assert all(
        ch["transactionalOptedOutAt"]
        for ch in survivor["channels"]
        if ch["type"] == "PHONE"
    )
    assert "ada@example.test" in survivor["emails"]
    assert {"uid": "tag-vip"} in survivor["tags"]
    assert survivor["address"]["city"] == "Bondi"
    assert applier.state.merged_into("d1") == "p1"


def test_a_verified_cluster_arriving_again_only_reads_its_merged_duplicates(
    podium, applier, plan
):
    applier.apply(plan)
    before = len(podium.requests)

    assert applier.apply(plan) == "verified"
    # One read per merged duplicate, to see whether an admin restored it.
    assert podium.requests[before:] == [("GET", "/v4/contacts/d1", 404)]


def test_an_operator_edit_after_planning_stops_the_cluster_as_conflict(
    podium, applier, plan
):
    podium.contacts["d1"]["updatedAt"] = "2026-11-30T09:00:00Z"

    assert applier.apply(plan) == "conflict"
    assert podium.writes() == []
    audit = [json.loads(line) for line in applier.audit.path.read_text().splitlines()]
    conflict = next(e for e in audit if e.get("outcome") == "conflict")
    assert conflict["live_updated_at"]["d1"] == "2026-11-30T09:00:00Z"
    assert conflict["indexed_updated_at"]["d1"] == "2026-11-01T00:00:00Z"


def test_a_gone_primary_skips_the_cluster_and_merges_nothing(podium, applier, plan):
    del podium.contacts["p1"]

    assert applier.apply(plan) == "skipped"
    assert podium.writes() == []


@pytest.mark.parametrize(
    ("status", "code", "outcome", "merge_posts"),
    [
        pytest.param(
            409, "merge_in_progress", "verified", 2, id="409-backs-off-then-merges"
        ),
        pytest.param(
            422, "cross_location_merge_blocked", "review", 1, id="422-to-review"
        ),
        pytest.param(404, "resource_not_found", "skipped", 1, id="404-skips"),
        pytest.param(500, "internal_server_error", "verified", 2, id="500-retries"),
    ],
)
def test_each_merge_error_ends_as_section_7_says(
    podium, applier, plan, status, code, outcome, merge_posts
):
    podium.fault("POST", r"/merge$", status, code)

    assert applier.apply(plan) == outcome
    assert len(merges(podium)) == merge_posts
    assert sum(1 for r in merges(podium) if r[2] == 202) == (outcome == "verified")


def test_invalid_duplicate_counts_as_done_when_merged_into_this_primary(
    podium, applier, plan
):
    # Another process merged d1 into p1 between our check and our merge.
    original = podium._merge

    def merge_then_refuse(primary, duplicates):
        original(primary, duplicates)
        return original(primary, duplicates)

    podium._merge = merge_then_refuse

    assert applier.apply(plan) == "verified"
    assert applier.state.merged_into("d1") == "p1"


def test_a_duplicate_merged_elsewhere_is_a_conflict(podium, applier, plan):
    podium.fault("POST", r"/merge$", 400, "invalid_duplicate_uid")

    assert applier.apply(plan) == "conflict"


def test_server_errors_past_the_bound_fail_the_cluster_and_the_next_run_finishes(
    podium, applier, plan
):
    podium.fault("POST", r"/merge$", 503, "internal_server_error", count=3)

    assert applier.apply(plan) == "failed"
    assert "d1" not in podium.deleted
    assert [r["cluster_id"] for r in applier.state.resumable()] == [plan["cluster_id"]]
    assert applier.apply(plan) == "verified"


def test_a_restart_in_merging_after_the_merge_happened_does_not_merge_again(
    podium, applier, plan
):
    podium.fault("POST", r"/tags/", 500, count=3)
    assert applier.apply(plan) == "failed"  # crashed after the merge, before the tag
    merge_count = len(merges(podium))

    assert applier.apply(plan) == "verified"
    assert len(merges(podium)) == merge_count == 1


def test_a_restart_in_merging_before_the_call_checks_again_and_merges_once(
    podium, applier, plan
):
    applier.state.start(plan)
    applier.state.advance(
        plan["cluster_id"],
        "checked",
        pre_images={c: podium.contacts[c] for c in ("p1", "d1")},
    )
    applier.state.advance(plan["cluster_id"], "merging")  # killed before the POST

    assert applier.resume(applier.state.get(plan["cluster_id"])) == "verified"
    assert len(merges(podium)) == 1


def test_a_crash_after_an_accepted_opt_out_does_not_send_it_again(
    podium, applier, plan
):
    applier.apply(plan)
    opt_outs = [r for r in podium.requests if "opt_out" in r[1]]

    applier.state.advance(plan["cluster_id"], "merged")  # as if killed in step 3
    applier.resume(applier.state.get(plan["cluster_id"]))

    assert [r for r in podium.requests if "opt_out" in r[1]] == opt_outs


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            {"primary_uid": "zz"}, "invalid_plan: the primary", id="primary-outside"
        ),
        pytest.param(
            {"duplicate_uids": []}, "invalid_plan: duplicates", id="no-duplicates"
        ),
        pytest.param({"members": []}, "invalid_plan: a cluster", id="empty-cluster"),
        pytest.param(
            {"primary_uid": "d1", "duplicate_uids": ["p1"]},
            "primary_mismatch",
            id="primary-against-the-rule",
        ),
    ],
)
def test_a_bad_plan_goes_to_review_with_its_reason(
    podium, applier, plan, change, reason
):
    assert applier.apply({**plan, **change}) == "review"

    assert podium.writes() == []
    assert applier.state.review_items()[0]["reason"].startswith(reason)


def test_members_that_share_no_location_go_to_review_unless_allowed(tmp_path):
    primary = contact("p1", phones=["+61412345678"], locations=("loc-1",))
    other = contact("d1", phones=["0412 345 678"], locations=("loc-2",))
    podium = FakePodium(
        [primary, other],
        [{"uid": "loc-1", "name": "Bondi"}, {"uid": "loc-2", "name": "Manly"}],
    )
    plan = plan_for(primary, [other])

    assert make_applier(podium, tmp_path).apply(plan) == "review"
    item = make_applier(podium, tmp_path).state.review_items()[0]
    assert item["location_names"] == ["Bondi", "Manly"]
    assert podium.writes() == []
    allowed = make_applier(podium, tmp_path / "allowed", allow_cross_location=True)
    assert allowed.apply(plan) == "verified"


def test_a_contact_restored_after_this_target_merged_it_goes_to_review(
    podium, applier, plan
):
    applier.apply(plan)
    podium.contacts["d1"] = podium.deleted.pop("d1")  # an admin restored it
    replanned = {**plan, "cluster_id": "cl-again"}

    assert applier.apply(replanned) == "review"
    assert applier.state.review_items()[0]["reason"] == "restored_after_merge"


def test_a_dry_run_reads_but_sends_no_write_and_lists_the_calls(podium, tmp_path, plan):
    applier = make_applier(podium, tmp_path, dry_run=True)

    assert applier.apply(plan) == "dry_run"
    assert podium.writes() == []
    calls = [(c.method, c.path) for c in applier.client.recorded]
    assert calls[0] == ("POST", "/contacts/p1/merge")
    assert ("POST", "/contacts/transactional/opt_out") in calls
    assert ("POST", "/contacts/p1/tags/tag-vip") in calls
    assert applier.state.get(plan["cluster_id"]) is None


@pytest.mark.parametrize(
    ("opted_out", "calls"),
    [
        # reads 2 + merge 1 + confirm 1 (the primary holds d1's conversation)
        pytest.param(None, 4, id="nothing-to-write"),
        # ... + opt-out 1 + verify 1
        pytest.param("2026-10-01T00:00:00Z", 6, id="one-opt-out"),
    ],
)
def test_a_two_member_merge_costs_the_floor_of_calls(
    podium, applier, two_contacts, opted_out, calls
):
    podium.contacts["d1"]["channels"][0]["transactionalOptedOutAt"] = opted_out
    plan = plan_for(two_contacts[0], [podium.contacts["d1"]])

    assert applier.apply(plan) == "verified"
    assert len([r for r in podium.requests if "/oauth/" not in r[1]]) == calls


def test_the_audit_log_is_owner_only(applier, plan):
    applier.apply(plan)

    assert applier.audit.path.stat().st_mode & 0o777 == 0o600


def test_the_target_never_sends_a_delete(podium, applier, plan):
    applier.apply(plan)

    assert not [r for r in podium.requests if r[0] == "DELETE"]


def test_no_opt_in_is_ever_sent_even_when_the_plan_lists_more_marketing(
    podium, applier, plan
):
    podium.contacts["p1"]["channels"][0]["marketingOptedInLocationUids"] = ["loc-1"]
    plan["consent_target"]["marketing_opted_in_location_uids"] = ["loc-1", "loc-9"]

    applier.apply(plan)

    assert not [r for r in podium.requests if "opt_in" in r[1]]
    assert podium.contacts["p1"]["channels"][0]["marketingOptedInLocationUids"] == []


def test_the_audit_log_carries_request_ids_and_the_primary_reason(applier, plan):
    applier.apply(plan)

    lines = [json.loads(x) for x in Path(applier.audit.path).read_text().splitlines()]
    merge = next(e for e in lines if e["step"] == "merge")
    assert merge["status"] == 202
    assert merge["request_id"].startswith("req-")
    assert merge["primary_reason"] == "field_count"


def test_a_write_podium_rejects_as_written_goes_to_review_not_retried(
    podium, applier, plan
):
    podium.fault("PATCH", r"/contacts/p1$", 400, "invalid_request_values")

    assert applier.apply(plan) == "review"
    assert applier.state.review_items()[0]["reason"] == (
        "rejected_by_podium: invalid_request_values"
    )
    assert applier.state.resumable() == []
