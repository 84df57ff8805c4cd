"""Contract tests of the writes: PATCH, upsert, delete, restore, tags, attributes,
consent operations, merge and purge (docs/contracts.md section 2)."""

from __future__ import annotations

import time

import jsonschema
import pytest
from podium_emulator import schemas


def wait_for(check, timeout: float = 5.0):
    """Poll `check` until it returns a truthy value (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met within the timeout")


def snapshot_of(emulator, uid: str) -> dict:
    return next(c for c in emulator.control.snapshot() if c["uid"] == uid)


def group(corpus, outcome: str, reason: str | None = None) -> dict:
    return next(
        row
        for row in corpus.truth
        if row["kind"] == "group"
        and row["outcome"] == outcome
        and row["reason"] == reason
    )


def first_uid(corpus) -> str:
    return corpus.contacts[0]["uid"]


def assert_accepted(response, uid: str) -> None:
    assert response.status_code == 202
    assert response.json()["data"] == {"identifier": uid}
    jsonschema.validate(response.json(), schemas.write_schema())


# -- PATCH -----------------------------------------------------------------


def test_patch_replaces_the_name_and_bumps_updated_at(api, small_corpus):
    contact = small_corpus.contacts[0]

    response = api.patch(f"/contacts/{contact['uid']}", json={"name": "Ada Lovelace"})

    assert_accepted(response, contact["uid"])
    served = api.get(f"/contacts/{contact['uid']}").json()["data"]
    assert served["name"] == "Ada Lovelace"
    assert served["updatedAt"] > contact["updatedAt"]


def test_patch_adds_a_new_phone_with_its_own_channel_and_no_consent(api, small_corpus):
    uid = first_uid(small_corpus)

    api.patch(f"/contacts/{uid}", json={"phoneNumber": "+61491570156"})

    served = api.get(f"/contacts/{uid}").json()["data"]
    channel = next(c for c in served["channels"] if c["identifier"] == "+61491570156")
    assert "+61491570156" in served["phoneNumbers"]
    assert channel["marketingOptedInLocationUids"] == []
    assert channel["transactionalOptedOutAt"] is None


def test_patch_replaces_only_the_given_address_fields_and_the_locations(
    api, small_corpus
):
    contact = small_corpus.contacts[0]
    other = small_corpus.locations[-1]["uid"]

    api.patch(
        f"/contacts/{contact['uid']}",
        json={"address": {"city": "Hobart"}, "locations": [other]},
    )

    served = api.get(f"/contacts/{contact['uid']}").json()["data"]
    assert served["address"]["city"] == "Hobart"
    assert served["address"]["addressLine1"] == contact["address"]["addressLine1"]
    assert served["locations"] == [{"uid": other}]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"nickname": "x"}, "invalid_request_values"),
        ({}, "invalid_request_values"),
        ({"email": "not-an-email"}, "invalid_request_values"),
        ({"phoneNumber": "0412 345 678"}, "invalid_request_values"),
        ({"locations": ["no-such-location"]}, "invalid_request_values"),
        ({"address": {"planet": "Mars"}}, "invalid_request_values"),
        ({"name": 7}, "invalid_request_values"),
    ],
    ids=[
        "unknown-field",
        "empty",
        "bad-email",
        "not-e164",
        "unknown-location",
        "unknown-address-field",
        "name-not-string",
    ],
)
def test_patch_refuses_bodies_outside_the_schema(api, small_corpus, body, code):
    response = api.patch(f"/contacts/{first_uid(small_corpus)}", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_body_that_is_not_json_answers_bad_request(api, small_corpus):
    response = api.patch(
        f"/contacts/{first_uid(small_corpus)}",
        content=b"{name:",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_a_write_is_invisible_to_reads_until_the_write_delay_passes(
    api, emulator, small_corpus
):
    emulator.control.settings(write_delay=0.5)
    uid = first_uid(small_corpus)

    api.patch(f"/contacts/{uid}", json={"name": "Later Name"})

    assert api.get(f"/contacts/{uid}").json()["data"]["name"] != "Later Name"
    wait_for(lambda: api.get(f"/contacts/{uid}").json()["data"]["name"] == "Later Name")


# -- upsert, delete, restore, purge ---------------------------------------------


def test_post_creates_a_contact_when_no_phone_or_email_matches(api, small_corpus):
    location = small_corpus.locations[0]["uid"]
    body = {
        "name": "New Person",
        "locations": [location],
        "phoneNumber": "+61491570157",
    }

    response = api.post("/contacts", json=body)

    uid = response.json()["data"]["identifier"]
    assert response.status_code == 202
    served = api.get(f"/contacts/{uid}").json()["data"]
    assert served["phoneNumbers"] == ["+61491570157"]
    assert len(served["conversations"]) == 1


def test_post_updates_the_contact_with_the_same_email_instead(api, small_corpus):
    contact = next(c for c in small_corpus.contacts if c["emails"])
    body = {
        "name": "Renamed",
        "locations": [contact["locations"][0]["uid"]],
        "email": contact["emails"][0],
    }

    response = api.post("/contacts", json=body)

    assert_accepted(response, contact["uid"])
    assert api.get(f"/contacts/{contact['uid']}").json()["data"]["name"] == "Renamed"


def test_post_without_name_or_locations_is_refused(api):
    response = api.post("/contacts", json={"name": "No Location"})

    assert response.status_code == 400
    assert "locations" in response.json()["message"]


def test_delete_is_soft_and_an_operator_can_restore(api, emulator, small_corpus):
    uid = first_uid(small_corpus)

    assert_accepted(api.delete(f"/contacts/{uid}"), uid)

    assert api.get(f"/contacts/{uid}").status_code == 404
    assert snapshot_of(emulator, uid)["deletedAt"] is not None
    emulator.control.restore(uid)
    restored = snapshot_of(emulator, uid)
    assert restored["deletedAt"] is None
    assert restored["restoredAt"] == restored["updatedAt"]
    assert api.get(f"/contacts/{uid}").status_code == 200


def test_purge_needs_its_own_scope(api, small_corpus):
    response = api.post(f"/contacts/{first_uid(small_corpus)}/purge")

    assert response.status_code == 403
    assert "purge_contacts" in response.json()["message"]


def test_a_purge_with_the_scope_is_recorded(emulator, small_corpus):
    emulator.control.settings(
        scopes=["read_contacts", "write_contacts", "purge_contacts"]
    )
    uid = first_uid(small_corpus)
    with emulator.client() as api:
        api.post(f"/contacts/{uid}/purge")

    assert [p["uid"] for p in emulator.control.purged()] == [uid]
    assert all(c["uid"] != uid for c in emulator.control.snapshot())


def test_operator_edit_of_phones_keeps_one_channel_per_phone(emulator, small_corpus):
    contact = small_corpus.contacts[1]

    emulator.control.edit(contact["uid"], phoneNumbers=["0491 570 156"])

    edited = snapshot_of(emulator, contact["uid"])
    phones = [c["identifier"] for c in edited["channels"] if c["type"] == "PHONE"]
    assert phones == ["0491 570 156"]


def test_operator_edit_bumps_updated_at(emulator, small_corpus):
    contact = small_corpus.contacts[1]

    result = emulator.control.edit(contact["uid"], name="Edited By Staff")

    assert result["updatedAt"] > contact["updatedAt"]
    assert snapshot_of(emulator, contact["uid"])["name"] == "Edited By Staff"


# -- tags and attributes -------------------------------------------------------


def test_tags_are_added_and_removed_through_the_sub_resource(api, small_corpus):
    uid = next(c["uid"] for c in small_corpus.contacts if not c["tags"])
    tag = api.get("/contact_tags").json()["data"][0]

    assert_accepted(api.post(f"/contacts/{uid}/tags/{tag['uid']}"), uid)
    assert tag["uid"] in [
        t["uid"] for t in api.get(f"/contacts/{uid}").json()["data"]["tags"]
    ]
    api.delete(f"/contacts/{uid}/tags/{tag['uid']}")
    assert api.get(f"/contacts/{uid}").json()["data"]["tags"] == []


def test_an_unknown_tag_answers_404(api, small_corpus):
    response = api.post(f"/contacts/{first_uid(small_corpus)}/tags/no-such-tag")

    assert response.status_code == 404
    assert response.json()["code"] == "resource_not_found"


def test_attributes_take_a_value_and_can_be_removed(api, small_corpus):
    uid = first_uid(small_corpus)
    attribute = api.get("/contact_attributes").json()["data"][0]
    path = f"/contacts/{uid}/attributes/{attribute['uid']}"

    assert_accepted(api.post(path, json={"value": "P-1"}), uid)
    values = {
        a["uid"]: a["value"]
        for a in api.get(f"/contacts/{uid}").json()["data"]["attributes"]
    }
    assert values[attribute["uid"]] == "P-1"
    api.delete(path)
    served = api.get(f"/contacts/{uid}").json()["data"]["attributes"]
    assert attribute["uid"] not in [a["uid"] for a in served]


def test_patch_changes_an_attribute_value(api, small_corpus):
    uid = first_uid(small_corpus)
    attribute = api.get("/contact_attributes").json()["data"][0]
    path = f"/contacts/{uid}/attributes/{attribute['uid']}"
    api.post(path, json={"value": "P-1"})

    assert_accepted(api.patch(path, json={"value": "P-2"}), uid)

    served = api.get(f"/contacts/{uid}").json()["data"]["attributes"]
    assert {a["uid"]: a["value"] for a in served}[attribute["uid"]] == "P-2"


def test_an_attribute_without_a_value_is_refused(api, small_corpus):
    uid = first_uid(small_corpus)
    attribute = api.get("/contact_attributes").json()["data"][0]

    response = api.post(f"/contacts/{uid}/attributes/{attribute['uid']}", json={})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_values"


# -- consent -------------------------------------------------------------------


def phone_channel(contact: dict) -> dict:
    return next(c for c in contact["channels"] if c["type"] == "PHONE")


def test_transactional_opt_out_sets_the_time_once_and_repeats_change_nothing(
    api, small_corpus
):
    contact = small_corpus.contacts[2]
    channel = {"identifier": phone_channel(contact)["identifier"], "type": "PHONE"}

    response = api.post("/contacts/transactional/opt_out", json={"channel": channel})
    first = phone_channel(api.get(f"/contacts/{contact['uid']}").json()["data"])
    api.post("/contacts/transactional/opt_out", json={"channel": channel})
    second = api.get(f"/contacts/{contact['uid']}").json()["data"]

    assert_accepted(response, contact["uid"])
    assert first["transactionalOptedOutAt"] is not None
    assert phone_channel(second) == first


def test_transactional_opt_in_clears_the_opt_out(api, small_corpus):
    contact = small_corpus.contacts[2]
    channel = {"identifier": phone_channel(contact)["identifier"], "type": "PHONE"}

    api.post("/contacts/transactional/opt_out", json={"channel": channel})
    api.post("/contacts/transactional/opt_in", json={"channel": channel})

    served = phone_channel(api.get(f"/contacts/{contact['uid']}").json()["data"])
    assert served["transactionalOptedOutAt"] is None


def test_campaign_opt_in_and_opt_out_change_one_location_or_all(api, small_corpus):
    contact = small_corpus.contacts[3]
    channel = {"identifier": phone_channel(contact)["identifier"], "type": "PHONE"}
    first, second = (loc["uid"] for loc in small_corpus.locations[:2])

    for location in (first, second):
        api.post(
            "/contacts/campaigns/opt_in",
            json={"channel": channel, "locationUid": location},
        )
    after_in = phone_channel(api.get(f"/contacts/{contact['uid']}").json()["data"])
    api.post(
        "/contacts/campaigns/opt_out", json={"channel": channel, "locationUid": first}
    )
    after_one = phone_channel(api.get(f"/contacts/{contact['uid']}").json()["data"])
    api.post("/contacts/campaigns/opt_out", json={"channel": channel})
    after_all = phone_channel(api.get(f"/contacts/{contact['uid']}").json()["data"])

    assert {first, second} <= set(after_in["marketingOptedInLocationUids"])
    assert first not in after_one["marketingOptedInLocationUids"]
    assert second in after_one["marketingOptedInLocationUids"]
    assert after_all["marketingOptedInLocationUids"] == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (
            "/contacts/campaigns/opt_in",
            {"channel": {"identifier": "x", "type": "PHONE"}},
            400,
        ),
        ("/contacts/transactional/opt_out", {"channel": {"identifier": "x"}}, 400),
        (
            "/contacts/transactional/opt_out",
            {"channel": {"identifier": "x", "type": "FAX"}},
            400,
        ),
        (
            "/contacts/transactional/opt_out",
            {"channel": {"identifier": "x", "type": "PHONE"}, "extra": 1},
            400,
        ),
        (
            "/contacts/transactional/opt_out",
            {"channel": {"identifier": "+10000000000", "type": "PHONE"}},
            404,
        ),
    ],
    ids=[
        "opt-in-without-location",
        "no-type",
        "bad-type",
        "unknown-field",
        "unknown-channel",
    ],
)
def test_bad_consent_requests_are_refused(api, path, body, status):
    response = api.post(path, json=body)

    assert response.status_code == status
    assert response.json()["code"] in {"invalid_request_values", "resource_not_found"}


# -- merge ---------------------------------------------------------------------


def test_merge_soft_deletes_duplicates_and_moves_their_conversations(
    api, emulator, small_corpus
):
    row = group(small_corpus, "merge")
    primary, *duplicates = row["uids"]
    before = {c["uid"]: c for c in small_corpus.contacts}

    response = api.post(
        f"/contacts/{primary}/merge", json={"duplicateUids": duplicates}
    )

    assert_accepted(response, primary)
    wait_for(lambda: api.get(f"/contacts/{duplicates[0]}").status_code == 404)
    served = api.get(f"/contacts/{primary}").json()["data"]
    moved = [conv for uid in duplicates for conv in before[uid]["conversations"]]
    assert all(conv in served["conversations"] for conv in moved)
    assert served["name"] == before[primary]["name"]
    assert served["channels"] == before[primary]["channels"]
    merged_away = snapshot_of(emulator, duplicates[0])
    assert merged_away["mergedInto"] == primary
    assert merged_away["conversations"] == []


def test_a_second_merge_while_the_first_is_processing_answers_409(api, small_corpus):
    row = group(small_corpus, "merge")
    primary, duplicate = row["uids"][:2]

    api.post(f"/contacts/{primary}/merge", json={"duplicateUids": [duplicate]})
    response = api.post(
        f"/contacts/{duplicate}/merge", json={"duplicateUids": [primary]}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "merge_in_progress"


def test_merging_an_already_merged_duplicate_answers_invalid_duplicate_uid(
    api, small_corpus
):
    primary, duplicate = group(small_corpus, "merge")["uids"][:2]
    api.post(f"/contacts/{primary}/merge", json={"duplicateUids": [duplicate]})
    wait_for(lambda: api.get(f"/contacts/{duplicate}").status_code == 404)

    response = api.post(
        f"/contacts/{primary}/merge", json={"duplicateUids": [duplicate]}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_duplicate_uid"
    assert duplicate in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"duplicateUids": ["no-such-uid"]}, "invalid_duplicate_uid"),
        ({"duplicateUids": []}, "invalid_request_values"),
        ({"duplicates": ["x"]}, "invalid_request_values"),
        ({"duplicateUids": "x"}, "invalid_request_values"),
    ],
    ids=["unknown-duplicate", "empty-list", "wrong-field", "not-a-list"],
)
def test_bad_merge_bodies_answer_400(api, small_corpus, body, code):
    response = api.post(f"/contacts/{first_uid(small_corpus)}/merge", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_merging_into_a_missing_primary_answers_404(api, small_corpus):
    response = api.post(
        "/contacts/no-such-primary/merge",
        json={"duplicateUids": [first_uid(small_corpus)]},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "resource_not_found"


def test_a_cross_location_merge_is_blocked_by_default_and_allowed_by_policy(
    api, emulator, small_corpus
):
    primary, *duplicates = group(small_corpus, "review", "cross_location")["uids"]
    body = {"duplicateUids": duplicates}

    blocked = api.post(f"/contacts/{primary}/merge", json=body)
    emulator.control.policy(cross_location_merge="allow")
    allowed = api.post(f"/contacts/{primary}/merge", json=body)

    assert blocked.status_code == 422
    assert blocked.json()["code"] == "cross_location_merge_blocked"
    assert allowed.status_code == 202
