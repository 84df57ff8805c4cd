"""Syncs over a shuffled contact list: correct for any order (issue 3).

Podium documents no sort order for the contact list. The emulator's
``list_order="shuffled"`` serves each cursor walk in its own pseudo-random
order, so these tests prove delivery and bookmarks do not lean on
``updatedAt`` order. Reviewer's finding 5 asked for this proof.
"""

from __future__ import annotations

import re

import pytest

from tap_podium.client import CursorPaginator

EDITED_EVERY = 37


def bookmark_of(state: dict) -> str:
    """Return the contacts bookmark of a STATE value."""
    return state["bookmarks"]["contacts"]["replication_key_value"]


def latest_updated_at(emulator) -> str:
    """Return the latest updatedAt of the emulator's live contacts."""
    live = [c for c in emulator.control.snapshot() if not c.get("deletedAt")]
    return max(contact["updatedAt"] for contact in live)


def is_sorted(values: list[str]) -> bool:
    """Tell whether values are in ascending order."""
    return values == sorted(values)


@pytest.fixture
def shuffled(emulator):
    """The emulator serving every cursor walk of the contact list shuffled."""
    emulator.control.settings(list_order="shuffled")
    return emulator


def test_a_sync_over_a_shuffled_list_delivers_every_contact_once(
    shuffled, tap_config, sync, check_delivery
):
    result = sync(tap_config)

    check_delivery(result, shuffled)
    delivered = [record["updatedAt"] for record in result.records("contacts")]
    assert not is_sorted(delivered), (
        "the list was not shuffled; the test proves nothing"
    )
    assert bookmark_of(result.final_state) == latest_updated_at(shuffled)


def test_an_incremental_sync_over_a_shuffled_list_delivers_each_edit_once(
    shuffled, tap_config, sync
):
    first = sync(tap_config)
    bookmark = bookmark_of(first.final_state)
    uids = [record["uid"] for record in first.records("contacts")]
    edited = set(uids[::EDITED_EVERY])
    for uid in edited:
        shuffled.control.edit(uid, name="Edited After The First Sync")

    second = sync(tap_config, first.final_state)

    delivered = [record["uid"] for record in second.records("contacts")]
    # The inclusive bookmark reads the contacts of its own second again.
    ties = {r["uid"] for r in first.records("contacts") if r["updatedAt"] == bookmark}
    assert len(delivered) == len(set(delivered)), "a contact was delivered twice"
    assert set(delivered) == edited | ties
    assert all(
        r["name"] == "Edited After The First Sync"
        for r in second.records("contacts")
        if r["uid"] in edited
    )
    assert bookmark_of(second.final_state) == latest_updated_at(shuffled)


def test_an_expired_cursor_on_a_shuffled_list_restarts_without_repeats(
    shuffled, tap_config, sync, check_delivery, monkeypatch
):
    """The restart walks a new shuffle; contacts already sent are skipped."""
    original = CursorPaginator.get_next
    remaining = {"count": 2}

    def expire_after_a_page(self, response):
        if "/contacts" in response.url and remaining["count"] > 0:
            remaining["count"] -= 1
            shuffled.control.expire_cursors()
        return original(self, response)

    monkeypatch.setattr(CursorPaginator, "get_next", expire_after_a_page)

    result = sync(tap_config)

    check_delivery(result, shuffled)
    assert bookmark_of(result.final_state) == latest_updated_at(shuffled)


def test_an_edit_in_the_second_the_sync_starts_leaves_a_bookmark_in_podiums_shape(
    shuffled, tap_config, sync
):
    """Found while writing these tests: the SDK's signpost cap compared text.

    ``...42Z`` sorts after the signpost ``...42.030000+00:00``, so the final
    bookmark became the signpost: another shape, later than every record.
    """
    uid = shuffled.control.snapshot()[0]["uid"]
    shuffled.control.edit(uid, name="Edited Just Before The Sync")

    result = sync(tap_config)

    bookmark = bookmark_of(result.final_state)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bookmark)
    assert bookmark == latest_updated_at(shuffled)
