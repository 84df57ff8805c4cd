"""The `merge` cases of shared/cases/public-reports.jsonl, each with its outcome."""

from __future__ import annotations

import sqlite3

import pytest
from dedup_plan_builders import contact, singer_lines, tap_state

LINE = "+12125550142"
OTHER_LINE = "+12125550177"


@pytest.mark.parametrize(
    "opted_out_is_richer", [True, False], ids=["L1-primary", "L2-primary"]
)
def test_r23_newer_opt_in_on_the_other_record_goes_to_review(
    mapper, opted_out_is_richer
):
    opted_out = contact(
        "L1",
        field_count=5 if opted_out_is_richer else 2,
        consent={"sms_opt_out": True, "sms_opted_out_at": "2026-02-01T00:00:00Z"},
    )
    opted_in = contact(
        "L2",
        field_count=2 if opted_out_is_richer else 5,
        consent={
            "marketing_opted_in_location_uids": ["loc-1"],
            "marketing_opted_in_at": "2026-03-05T00:00:00Z",
        },
    )
    out = mapper.run(singer_lines([opted_out, opted_in]))
    assert out.plans == []
    assert out.review_for("L1")["reason"] == "consent_conflict"


def test_r24_the_opt_out_of_the_merged_away_address_survives(mapper):
    c1 = contact(
        "C1",
        name="Pat Lee",
        emails=["pat.lee@example.test"],
        field_count=2,
        consent={"email_opt_out": True, "email_opted_out_at": "2026-01-01T00:00:00Z"},
    )
    c2 = contact(
        "C2", name="Pat Lee", emails=["p.lee@work.example.test"], field_count=4
    )
    (plan,) = mapper.run(singer_lines([c1, c2])).plans
    assert plan["primary_uid"] == "C2"
    assert plan["consent_target"]["email_opt_out"] is True
    assert plan["fill"]["emails"] == ["pat.lee@example.test"]


def test_r25_blank_fields_are_filled_and_do_not_call_is_kept(mapper):
    shared_landline = "+61255501234"
    master = contact(
        "M",
        name="Jo Kim",
        keys=[shared_landline],
        number_type="FIXED_LINE",
        emails=["jo.kim@example.test"],
        field_count=4,
    )
    other = contact(
        "N",
        name="Jo Kim",
        keys=[shared_landline, "+61491570156"],
        number_type="FIXED_LINE",
        field_count=3,
        consent={"sms_opt_out": True, "sms_opted_out_at": "2026-01-01T00:00:00Z"},
    )
    (plan,) = mapper.run(singer_lines([master, other])).plans
    assert plan["primary_uid"] == "M"
    assert plan["fill"]["phones"] == ["+61491570156"]
    assert plan["fill"]["emails"] == []
    assert plan["consent_target"]["sms_opt_out"] is True


def test_r27_twins_and_sr_jr_on_one_line_are_never_merged(mapper):
    contacts = [
        contact(
            "T1", name="Ada Quill", keys=[LINE], number_type="FIXED_LINE_OR_MOBILE"
        ),
        contact(
            "T2", name="Ben Quill", keys=[LINE], number_type="FIXED_LINE_OR_MOBILE"
        ),
        contact(
            "S1", name="Rob Vance Sr.", keys=[OTHER_LINE], number_type="FIXED_LINE"
        ),
        contact(
            "S2", name="Rob Vance Jr.", keys=[OTHER_LINE], number_type="FIXED_LINE"
        ),
    ]
    out = mapper.run(singer_lines(contacts))
    assert out.plans == []
    review_pairs = sorted(sorted(m["uid"] for m in r["members"]) for r in out.reviews)
    assert review_pairs == [["S1", "S2"], ["T1", "T2"]]
    assert {r["reason"] for r in out.reviews} == {"name_conflict"}


def _merged_by_target(path, duplicate, primary):
    with sqlite3.connect(path) as conn:
        conn.execute(
            "create table if not exists merged_contacts (uid text primary key,"
            " merged_into text, cluster_id text, merged_at text)"
        )
        conn.execute(
            "insert into merged_contacts values (?, ?, 'c', '2026-12-01T00:00:00Z')",
            (duplicate, primary),
        )


def _lee(uid, updated_at="2026-11-01T00:00:00Z"):
    return contact(
        uid, name="Lee Chan", emails=["lee.chan@example.test"], updated_at=updated_at
    )


def test_r28_a_merged_away_id_is_never_planned_again(mapper, tmp_path):
    first = mapper.run(singer_lines([_lee("101"), _lee("102")], state=tap_state()))
    assert first.merged_pairs() == {frozenset({"101", "102"})}
    merge_state = tmp_path / "target-state.db"
    _merged_by_target(merge_state, "102", "101")

    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    survivor = _lee("101", updated_at="2026-12-01T00:00:01Z")
    second = mapper.run(
        singer_lines([survivor], state=tap_state(marker)),
        merge_state_db=str(merge_state),
    )
    assert second.plans == [] and second.reviews == []


def test_r28_a_full_sync_without_the_merged_id_marks_it_gone(mapper):
    mapper.run(singer_lines([_lee("101"), _lee("102")], state=tap_state()))
    second = mapper.run(singer_lines([_lee("101")], state=tap_state()))
    assert second.plans == [] and second.reviews == []


def test_r28_a_merged_id_that_comes_back_goes_to_review(mapper, tmp_path):
    first = mapper.run(singer_lines([_lee("101"), _lee("102")], state=tap_state()))
    merge_state = tmp_path / "target-state.db"
    _merged_by_target(merge_state, "102", "101")
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    restored = _lee("102", updated_at="2026-12-02T00:00:00Z")
    second = mapper.run(
        singer_lines([restored], state=tap_state(marker)),
        merge_state_db=str(merge_state),
    )
    assert second.plans == []
    assert second.review_for("102")["reason"] == "restored_after_merge"
