"""Odd, sparse, huge or unknown data on the wire never crashes the tap."""

from __future__ import annotations

import pytest

podium_testing = pytest.importorskip("podium_emulator.testing")

UPDATED = "2026-01-05T00:00:00Z"


def odd_contacts(location_uid):
    """Contacts as a careless import could leave them."""
    base = {"updatedAt": UPDATED, "createdAt": UPDATED}
    return [
        {**base, "uid": "odd-sparse"},
        {**base, "uid": "odd-10kb-phone", "phoneNumbers": ["0412 345 678 " * 800]},
        {**base, "uid": "odd-json-number", "phoneNumbers": [61412345678, 4.41e11]},
        {
            **base,
            "uid": "odd-unknown-fields",
            "futureField": {"nested": [1, {"deep": True}]},
            "address": {"city": "Sydney", "planet": "Earth"},
            "locations": [{"uid": location_uid, "kind": "new"}],
        },
        {
            **base,
            "uid": "odd-nulls",
            "name": None,
            "emails": None,
            "phoneNumbers": None,
            "channels": None,
            "locations": None,
            "tags": None,
            "attributes": None,
            "address": None,
        },
        {
            **base,
            "uid": "odd-channels",
            "phoneNumbers": ["0412 345 679"],
            "channels": [{"type": "PHONE"}, {"identifier": "x"}, {}],
        },
    ]


@pytest.fixture
def odd_emulator(emulator, corpus):
    """The emulator holding only odd contacts, with the corpus's locations."""
    contacts = odd_contacts(corpus.locations[0]["uid"])
    emulator.control.load(podium_testing.Corpus(contacts, corpus.locations, []))
    return emulator


def test_odd_contacts_are_all_delivered_without_a_crash(
    odd_emulator, tap_config, sync, check_delivery
):
    result = sync(tap_config)
    check_delivery(result, odd_emulator)


def test_unknown_fields_pass_through_to_the_record(odd_emulator, tap_config, sync):
    records = {r["uid"]: r for r in sync(tap_config).records("contacts")}
    odd = records["odd-unknown-fields"]
    assert odd["futureField"] == {"nested": [1, {"deep": True}]}
    assert odd["address"]["planet"] == "Earth"


@pytest.mark.parametrize(
    ("uid", "reasons"),
    [
        pytest.param("odd-10kb-phone", ["oversized"], id="10kB-phone"),
        pytest.param(
            "odd-json-number", ["mangled_numeric", "mangled_numeric"], id="json-numbers"
        ),
        pytest.param("odd-sparse", [], id="no-phones"),
    ],
)
def test_odd_phones_become_entries_with_reasons(
    odd_emulator, tap_config, sync, uid, reasons
):
    records = {r["uid"]: r for r in sync(tap_config).records("contacts")}
    assert [phone["reason"] for phone in records[uid]["phones"]] == reasons
