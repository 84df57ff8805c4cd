"""STATE holding, the index marker, incremental re-plans and determinism."""

from __future__ import annotations

import json

import pytest
from dedup_plan.errors import IndexMismatchError
from dedup_plan.planner import Planner
from dedup_plan_builders import contact, singer_lines, tap_state


def _pair(prefix, key, **fields):
    return [
        contact(f"{prefix}1", keys=[key], **fields),
        contact(f"{prefix}2", keys=[key], **fields),
    ]


def test_r29_state_leaves_only_after_every_plan(mapper):
    out = mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state()))
    kinds = [(m["type"], m.get("stream")) for m in out.messages]
    last_plan = max(i for i, kind in enumerate(kinds) if kind[1] == "merge_plans")
    assert kinds.index(("STATE", None)) > last_plan
    assert kinds.count(("STATE", None)) == 1


def test_r29_no_state_leaves_when_planning_fails(mapper, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("planning broke")

    monkeypatch.setattr(Planner, "plan", fail)
    with pytest.raises(RuntimeError, match="planning broke"):
        mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state()))
    assert "STATE" not in mapper.capsys.readouterr().out


def test_r30_no_state_is_emitted_before_one_is_received(mapper):
    out = mapper.run(singer_lines(_pair("a", "+61491570156")))
    assert out.states == []
    assert len(out.plans) == 1


def test_r33_re_sent_ties_leave_one_row_per_contact_and_the_same_plans(mapper):
    messages = singer_lines(_pair("a", "+61491570156"), state=tap_state())
    first = mapper.run(messages)
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    second = mapper.run(
        singer_lines(_pair("a", "+61491570156"), state=tap_state(marker))
    )
    assert second.states[-1]["bookmarks"]["dedup_plan"]["contacts"] == 2
    assert second.plans == first.plans


def test_r34_the_tap_state_passes_through_with_the_marker_added(mapper):
    partitions = {
        "partitions": [
            {
                "context": {"tenant": "au-01"},
                "replication_key": "updatedAt",
                "replication_key_value": "2026-12-01T09:00:00Z",
            }
        ]
    }
    state = {"bookmarks": {"contacts": partitions}}
    out = mapper.run(singer_lines(_pair("a", "+61491570156"), state=state))
    (released,) = out.states
    assert released["bookmarks"]["contacts"] == partitions
    assert set(released["bookmarks"]["dedup_plan"]) == {"index_id", "contacts"}


def test_input_streams_pass_through_byte_for_byte(mapper):
    messages = singer_lines(_pair("a", "+61491570156"), state=tap_state())
    out = mapper.run(messages)
    sent = [json.dumps(m) for m in messages if m["type"] != "STATE"]
    assert out.raw.splitlines()[: len(sent)] == sent


MISMATCH_CASES = [
    pytest.param(
        lambda marker: {**marker, "index_id": "0" * 32}, "replaced", id="replaced-index"
    ),
    pytest.param(
        lambda marker: {**marker, "contacts": marker["contacts"] + 1},
        "older than the STATE",
        id="older-index",
    ),
]


@pytest.mark.parametrize(("tamper", "problem"), MISMATCH_CASES)
def test_an_incremental_run_against_the_wrong_index_stops(mapper, tamper, problem):
    first = mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state()))
    marker = tamper(first.states[-1]["bookmarks"]["dedup_plan"])
    with pytest.raises(IndexMismatchError, match=f"{problem}.*--full-refresh"):
        mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state(marker)))
    emitted = mapper.capsys.readouterr().out
    assert "merge_plans" not in emitted and '"STATE"' not in emitted


def test_an_incremental_run_without_its_index_file_stops(mapper, tmp_path):
    first = mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state()))
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    mapper.index_db = tmp_path / "elsewhere" / "index.db"
    with pytest.raises(IndexMismatchError, match=r"missing.*index_db"):
        mapper.run(singer_lines(_pair("a", "+61491570156"), state=tap_state(marker)))


def test_an_incremental_run_replans_only_touched_clusters(mapper):
    pairs = _pair("a", "+61491570156") + _pair("b", "+61491570157")
    first = mapper.run(singer_lines(pairs, state=tap_state()))
    assert len(first.plans) == 2
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    changed = contact("b2", keys=["+61491570157"], updated_at="2026-11-05T00:00:00Z")
    second = mapper.run(singer_lines([changed], state=tap_state(marker)))
    assert [sorted(p["duplicate_uids"] + [p["primary_uid"]]) for p in second.plans] == [
        ["b1", "b2"]
    ]


def test_a_contact_that_leaves_a_cluster_replans_the_rest(mapper):
    trio = [contact(uid, keys=["+61491570156"]) for uid in ("a1", "a2", "a3")]
    first = mapper.run(singer_lines(trio, state=tap_state()))
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    moved = contact("a3", keys=["+61491570199"], updated_at="2026-11-05T00:00:00Z")
    (plan,) = mapper.run(singer_lines([moved], state=tap_state(marker))).plans
    assert sorted([plan["primary_uid"], *plan["duplicate_uids"]]) == ["a1", "a2"]


def test_same_input_gives_byte_identical_plans(mapper, tmp_path):
    contacts = [
        *_pair("a", "+61491570156"),
        contact("x1", name="Ada Quill", keys=["+61491570157"]),
        contact("x2", name="Ben Quill", keys=["+61491570157"]),
    ]
    first = mapper.run(singer_lines(contacts, state=tap_state()))
    mapper.index_db = tmp_path / "second" / "index.db"
    second = mapper.run(singer_lines(list(reversed(contacts)), state=tap_state()))
    plan_lines = [
        line
        for line in first.raw.splitlines()
        if '"stream":"merge_plans"' in line or '"stream":"review_items"' in line
    ]
    assert plan_lines and all(line in second.raw.splitlines() for line in plan_lines)


def test_an_incremental_run_replans_the_whole_chain_a_contact_belongs_to(mapper):
    chain = [
        contact("a", keys=["+61491570156"], emails=["ada@example.test"]),
        contact(
            "b", keys=["+61491570156", "+61491570157"], emails=["ada@example.test"]
        ),
        contact("c", keys=["+61491570157"], emails=["ada@example.test"]),
    ]
    first = mapper.run(singer_lines(chain, state=tap_state()))
    marker = first.states[-1]["bookmarks"]["dedup_plan"]
    changed = contact(
        "c",
        keys=["+61491570157"],
        emails=["ada@example.test"],
        updated_at="2026-11-05T00:00:00Z",
    )
    (item,) = mapper.run(singer_lines([changed], state=tap_state(marker))).reviews
    assert sorted(member["uid"] for member in item["members"]) == ["a", "b", "c"]
    assert item["planned_at"] == "2026-11-05T00:00:00Z"


def test_batches_written_by_the_worker_process_give_the_same_plans(
    mapper, monkeypatch, tmp_path
):
    contacts = [
        contact(f"p{n}{copy}", keys=[f"+6149157{n:04d}"])
        for n in range(6)
        for copy in "ab"
    ]
    in_process = mapper.run(singer_lines(contacts, state=tap_state()))
    monkeypatch.setattr("dedup_plan.mapper.BATCH_SIZE", 3)
    mapper.index_db = tmp_path / "worker" / "index.db"
    with_worker = mapper.run(singer_lines(contacts, state=tap_state()), compact=True)
    assert len(with_worker.plans) == 6
    assert with_worker.plans == in_process.plans
    assert with_worker.states[-1]["bookmarks"]["dedup_plan"]["contacts"] == 12


def test_settings_given_as_decimals_are_bound_as_numbers():
    # From the end-to-end run: singer-sdk reads JSON numbers as Decimal, and
    # SQLite refused to bind them.
    from decimal import Decimal

    from dedup_plan.settings import PlanSettings

    settings = PlanSettings.from_config(
        {"merge_threshold": Decimal("0.85"), "max_contacts_per_key": Decimal("7")}
    )

    row = settings.sql_row(run_id=1)
    assert type(row["merge_threshold"]) is float and row["merge_threshold"] == 0.85
    assert settings.max_contacts_per_key == 7


def test_the_index_file_is_readable_by_its_owner_only(tmp_path):
    # From the new-user trial: index.db holds names, emails and phones, and was
    # created 0644.
    from dedup_plan.index import ContactIndex

    path = tmp_path / "index.db"
    ContactIndex(path, frozenset()).conn.close()

    assert path.stat().st_mode & 0o777 == 0o600
