"""Incremental state: bookmarks, inclusive ties, final STATE, foreign bookmarks."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest


def contact_requests(emulator) -> list[dict]:
    """Return the query of every GET /v4/contacts in the request log."""
    return [
        parse_qs(entry["query"])
        for entry in emulator.control.requests()
        if entry["method"] == "GET" and entry["path"] == "/v4/contacts"
    ]


def bookmark_of(state: dict) -> str:
    """Return the contacts bookmark of a STATE value."""
    return state["bookmarks"]["contacts"]["replication_key_value"]


def has_progress_markers(state: dict) -> bool:
    """Tell whether any stream or partition of a STATE holds progress markers."""
    streams = state.get("bookmarks", {}).values()
    partitions = [p for s in streams for p in s.get("partitions", [])]
    return any("progress_markers" in entry for entry in [*streams, *partitions])


def test_the_final_state_has_no_progress_markers_and_a_bookmark(
    emulator, tap_config, sync
):
    """Case R34: an unsorted stream must still finalise its bookmark."""
    final = sync(tap_config).final_state
    assert not has_progress_markers(final)
    assert final["bookmarks"]["contacts"]["replication_key"] == "updatedAt"


def test_the_bookmark_is_the_latest_updated_at_delivered(emulator, tap_config, sync):
    result = sync(tap_config)
    latest = max(record["updatedAt"] for record in result.records("contacts"))
    assert bookmark_of(result.final_state) == latest


def test_the_first_request_sends_the_bookmark_one_second_early(
    emulator, tap_config, sync
):
    state = {
        "bookmarks": {
            "contacts": {
                "replication_key": "updatedAt",
                "replication_key_value": "2025-03-01T10:00:00Z",
            }
        }
    }
    sync(tap_config, state)
    first, *follow_ups = contact_requests(emulator)
    assert first["updated_at"] == ["2025-03-01T09:59:59Z"]
    assert all(set(query) == {"cursor"} for query in follow_ups)


def test_a_second_sync_with_no_changes_reads_only_the_bookmarks_ties(
    emulator, tap_config, sync
):
    """Case R33: only contacts at the bookmark's second are read again."""
    first = sync(tap_config)
    bookmark = bookmark_of(first.final_state)
    emulator.control.clear_requests()
    second = sync(tap_config, first.final_state)
    ties = {r["uid"] for r in first.records("contacts") if r["updatedAt"] == bookmark}
    assert {r["uid"] for r in second.records("contacts")} == ties
    assert len(contact_requests(emulator)) <= 2
    assert bookmark_of(second.final_state) == bookmark


def test_a_second_sync_delivers_a_contact_edited_since_the_first(
    emulator, tap_config, sync
):
    first = sync(tap_config)
    uid = first.records("contacts")[0]["uid"]
    emulator.control.edit(uid, name="Edited Name")
    second = sync(tap_config, first.final_state)
    edited = [r for r in second.records("contacts") if r["uid"] == uid]
    assert [r["name"] for r in edited] == ["Edited Name"]
    assert bookmark_of(second.final_state) > bookmark_of(first.final_state)


@pytest.mark.parametrize(
    ("start_date", "sent"),
    [
        pytest.param("2025-01-01T00:00:00", "2024-12-31T23:59:59Z", id="naive-is-utc"),
        pytest.param("2025-01-01T00:00:00Z", "2024-12-31T23:59:59Z", id="zulu"),
        pytest.param(
            "2025-01-01T10:00:00+10:00", "2024-12-31T23:59:59Z", id="offset-to-utc"
        ),
    ],
)
def test_start_date_is_sent_in_utc(emulator, settings_for, sync, start_date, sent):
    sync(settings_for(emulator, start_date=start_date))
    assert contact_requests(emulator)[0]["updated_at"] == [sent]


def test_start_date_filters_out_contacts_updated_before_it(
    emulator, settings_for, sync, corpus
):
    times = sorted(contact["updatedAt"] for contact in corpus.contacts)
    start = times[len(times) // 2]
    result = sync(settings_for(emulator, start_date=start))
    delivered = result.records("contacts")
    assert delivered
    assert min(record["updatedAt"] for record in delivered) >= start


def test_a_foreign_bookmark_in_the_input_state_is_kept_in_every_state(
    emulator, tap_config, sync
):
    """The SQL step's marker (docs/contracts.md section 8) must survive the tap."""
    marker = {"index_id": "idx-123", "contacts": 300}
    first = sync(tap_config)
    state = {**first.final_state}
    state["bookmarks"] = {**state["bookmarks"], "dedup_plan": marker}
    second = sync(tap_config, state)
    assert second.states
    assert all(s["bookmarks"].get("dedup_plan") == marker for s in second.states)


def test_a_foreign_bookmark_survives_a_first_run_with_no_contacts_bookmark(
    emulator, tap_config, sync
):
    marker = {"index_id": "idx-9", "contacts": 0}
    result = sync(tap_config, {"bookmarks": {"dedup_plan": marker}})
    assert result.final_state["bookmarks"]["dedup_plan"] == marker


def test_progress_markers_left_in_an_input_state_are_gone_from_the_final_state(
    emulator, tap_config, sync
):
    """Case R34, from the other side: a stale, unfinalised state comes in."""
    stale = {
        "bookmarks": {
            "contacts": {
                "partitions": [
                    {
                        "context": {"tenant": "au-01"},
                        "progress_markers": {
                            "replication_key": "updatedAt",
                            "replication_key_value": "2026-12-01T09:00:00Z",
                        },
                    }
                ]
            }
        }
    }
    result = sync(tap_config, stale)
    final = result.final_state
    latest = max(record["updatedAt"] for record in result.records("contacts"))
    assert not has_progress_markers(final)
    # An unfinalised marker is not resumable: the contacts are read again in
    # full, and the partition ends with a promoted bookmark.
    [partition] = final["bookmarks"]["contacts"]["partitions"]
    assert partition["context"] == {"tenant": "au-01"}
    assert partition["replication_key"] == "updatedAt"
    assert partition["replication_key_value"] == latest
