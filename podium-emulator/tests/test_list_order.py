"""The `list_order` setting: the contact list in updatedAt order or shuffled.

Podium documents no sort order for the contact list, so clients must be
correct for any order; `shuffled` lets their tests prove it.
"""

from __future__ import annotations

import httpx
import pytest
from podium_emulator.testing import run_emulator


def walk(api, limit=100, **params) -> list[dict]:
    """Walk the contact list with cursors, at most 1000 pages."""
    contacts, params = [], {"limit": limit, **params}
    for _ in range(1000):
        body = api.get("/contacts", params=params).json()
        contacts += body["data"]
        if not body["metadata"]["nextCursor"]:
            return contacts
        params = {"cursor": body["metadata"]["nextCursor"]}
    raise AssertionError("the contact list did not end within 1000 pages")


def uids(contacts: list[dict]) -> list[str]:
    """Return the uids in the order served."""
    return [contact["uid"] for contact in contacts]


@pytest.fixture
def shuffled(emulator):
    """The session emulator serving its contact list shuffled."""
    emulator.control.settings(list_order="shuffled")
    return emulator


def test_the_default_order_is_by_updated_at(emulator, api):
    served = walk(api)
    assert emulator.control.settings()["list_order"] == "updated"
    assert served == sorted(served, key=lambda c: (c["updatedAt"], c["uid"]))


@pytest.mark.parametrize("limit", [1, 7, 100], ids=["one", "seven", "hundred"])
def test_a_shuffled_walk_serves_every_live_contact_exactly_once(
    shuffled, api, small_corpus, limit
):
    served = uids(walk(api, limit=limit))
    assert len(served) == len(set(served))
    assert set(served) == {c["uid"] for c in small_corpus.contacts}


def test_a_shuffled_walk_is_not_in_updated_at_order(shuffled, api):
    served = walk(api)
    stamps = [contact["updatedAt"] for contact in served]
    assert stamps != sorted(stamps)


def test_each_walk_has_its_own_shuffle_and_a_reload_replays_them(shuffled, api):
    first, second = uids(walk(api)), uids(walk(api))
    shuffled.control.reset()
    shuffled.control.settings(list_order="shuffled")
    assert first != second
    assert (uids(walk(api)), uids(walk(api))) == (first, second)


def test_a_shuffled_walk_keeps_the_updated_at_filter_strictly_after(
    shuffled, api, small_corpus
):
    stamps = sorted(c["updatedAt"] for c in small_corpus.contacts)
    middle = stamps[len(stamps) // 2]

    served = walk(api, limit=10, updated_at=middle)

    expected = {c["uid"] for c in small_corpus.contacts if c["updatedAt"] > middle}
    assert sorted(uids(served)) == sorted(expected)


def test_a_walk_keeps_its_shuffle_when_the_setting_changes_midway(shuffled, api):
    reference = uids(walk(api, limit=10))
    shuffled.control.reset()
    shuffled.control.settings(list_order="shuffled")
    first = api.get("/contacts", params={"limit": 10}).json()
    shuffled.control.settings(list_order="updated")

    rest = walk(api, cursor=first["metadata"]["nextCursor"])

    assert uids(first["data"]) + uids(rest) == reference


def test_a_contact_edited_during_a_shuffled_walk_is_served_once(shuffled, api):
    first = api.get("/contacts", params={"limit": 50}).json()
    edited = first["data"][0]["uid"]
    shuffled.control.edit(edited, name="Renamed During The Walk")

    rest = walk(api, cursor=first["metadata"]["nextCursor"])

    served = uids(first["data"]) + uids(rest)
    assert served.count(edited) == 1
    assert len(served) == len(set(served))


def test_an_unknown_list_order_is_refused(emulator):
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        emulator.control.settings(list_order="by-name")
    assert emulator.control.settings()["list_order"] == "updated"


def test_the_list_order_flag_sets_the_start_up_order(small_corpus):
    with run_emulator(corpus=small_corpus, list_order="shuffled") as emulator:
        assert emulator.control.settings()["list_order"] == "shuffled"
        with emulator.client() as api:
            stamps = [c["updatedAt"] for c in walk(api)]
    assert len(stamps) == len(small_corpus.contacts)
    assert stamps != sorted(stamps)
