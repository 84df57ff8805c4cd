"""The control surface: load, reset, request log, policies, restore, edit."""

from __future__ import annotations

import httpx
import pytest
from podium_emulator.testing import generate_corpus


def test_load_replaces_the_tenant_with_another_corpus(emulator, api):
    other = generate_corpus(contacts=60, seed=2)

    loaded = emulator.control.load(other)

    assert loaded == 60
    served = api.get("/contacts", params={"limit": 100}).json()["data"]
    assert {c["uid"] for c in served} == {c["uid"] for c in other.contacts}


def test_load_from_a_missing_folder_is_refused(emulator):
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        emulator.control.load("/nonexistent/corpus")


def test_reset_brings_back_the_start_up_corpus_and_settings(emulator, small_corpus):
    emulator.control.settings(rate_limit=1)
    emulator.control.load(generate_corpus(contacts=60, seed=2))

    count = emulator.control.reset()

    assert count == len(small_corpus.contacts)
    assert emulator.control.settings()["rate_limit"] == 100_000


def test_clear_requests_empties_the_log(emulator, api):
    api.get("/contacts")

    emulator.control.clear_requests()

    assert emulator.control.requests() == []


@pytest.mark.parametrize(
    "call",
    [
        lambda control: control.policy(cross_location_merge="sometimes"),
        lambda control: control.policy(merge_everything="yes"),
        lambda control: control.edit("no-such-uid", name="x"),
        lambda control: control.restore("no-such-uid"),
    ],
    ids=["bad-policy-value", "unknown-policy", "edit-missing", "restore-missing"],
)
def test_bad_control_calls_are_refused_with_a_4xx(emulator, call):
    with pytest.raises(httpx.HTTPStatusError, match=r"40[04]"):
        call(emulator.control)


def test_restoring_a_live_contact_is_refused(emulator, small_corpus):
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        emulator.control.restore(small_corpus.contacts[0]["uid"])


def test_editing_a_field_outside_the_editable_set_is_refused(emulator, small_corpus):
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        emulator.control.edit(
            small_corpus.contacts[0]["uid"], createdAt="2020-01-01T00:00:00Z"
        )


def test_a_restored_merged_contact_is_live_and_keeps_its_merge_history(
    emulator, api, small_corpus
):
    row = next(r for r in small_corpus.truth if r.get("outcome") == "merge")
    primary, duplicate = row["uids"][:2]
    emulator.control.settings(merge_delay=0)
    api.post(f"/contacts/{primary}/merge", json={"duplicateUids": [duplicate]})

    emulator.control.restore(duplicate)

    restored = next(c for c in emulator.control.snapshot() if c["uid"] == duplicate)
    assert restored["deletedAt"] is None
    assert restored["mergedInto"] == primary
    assert api.get(f"/contacts/{duplicate}").status_code == 200
