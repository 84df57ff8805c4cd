"""Contact and location enrichment: regions, business lines, consent, counts."""

from __future__ import annotations

import pytest

from tap_podium.enrich import (
    LocationIndex,
    consent_view,
    enrich_contact,
    enrich_location,
    field_count,
    is_placeholder_name,
)

SYDNEY = {
    "uid": "loc-syd",
    "name": "Sydney",
    "phoneNumber": "(02) 9876 5432",
    "podiumPhoneNumber": "+61 491 570 110",
    "addressDetails": {"country": "AU"},
}
NEW_YORK = {
    "uid": "loc-nyc",
    "name": "New York",
    "phoneNumber": "212-555-0100",
    "podiumPhoneNumber": None,
    "addressDetails": {"country": "US"},
}
NOWHERE = {"uid": "loc-none", "name": "Unknown country", "addressDetails": None}


@pytest.fixture
def index():
    """Locations in AU and US, and one with no country, default region AU."""
    return LocationIndex.build([SYDNEY, NEW_YORK, NOWHERE], default_region="AU")


def contact(**fields):
    """Build a contact with the given fields over a minimal valid one."""
    base = {
        "uid": "c-1",
        "name": "Ada Quill",
        "updatedAt": "2026-11-01T01:00:00Z",
        "locations": [{"uid": "loc-syd"}],
    }
    return {**base, **fields}


def test_the_seeds_five_spellings_give_one_key_across_five_contacts(index):
    spellings = [
        "+61 412 345 678",
        "0412 345 678",
        "(04) 1234-5678",
        "+61412345678",
        "0412345678",
    ]
    records = [enrich_contact(contact(phoneNumbers=[raw]), index) for raw in spellings]
    assert {tuple(record["natural_keys"]) for record in records} == {("+61412345678",)}


@pytest.mark.parametrize(
    ("locations", "key"),
    [
        pytest.param([{"uid": "loc-nyc"}], "+12125550142", id="us-location"),
        pytest.param([{"uid": "loc-syd"}], None, id="au-location"),
        pytest.param([], None, id="no-location-default-au"),
        pytest.param([{"uid": "loc-none"}], None, id="location-without-country"),
        pytest.param(
            [{"uid": "loc-none"}, {"uid": "loc-nyc"}],
            "+12125550142",
            id="first-location-with-a-region",
        ),
    ],
)
def test_the_region_is_the_contacts_locations_else_the_default(index, locations, key):
    record = enrich_contact(
        contact(phoneNumbers=["(212) 555-0142"], locations=locations), index
    )
    assert record["phones"][0]["natural_key"] == key


def test_a_configured_location_region_wins_over_the_address_country():
    index = LocationIndex.build(
        [SYDNEY, NEW_YORK], default_region="AU", location_regions={"loc-nyc": "AU"}
    )
    record = enrich_contact(
        contact(phoneNumbers=["0412 345 678"], locations=[{"uid": "loc-nyc"}]), index
    )
    assert record["natural_keys"] == ["+61412345678"]


def test_a_configured_region_applies_to_a_location_the_api_did_not_list():
    index = LocationIndex.build([], default_region="US", location_regions={"x": "AU"})
    assert index.region_of_contact(["x"]) == "AU"


def test_every_locations_own_lines_are_business_lines(index):
    assert index.business_keys == {"+61298765432", "+61491570110", "+12125550100"}


def test_a_location_record_carries_the_keys_of_its_own_lines(index):
    record = enrich_location(SYDNEY, index)
    assert record["natural_keys"] == ["+61298765432", "+61491570110"]
    assert record["region"] == "AU"


def test_a_location_without_phones_has_no_keys(index):
    assert enrich_location(NOWHERE, index)["natural_keys"] == []


def test_a_business_line_keeps_its_key_on_the_phone_but_not_in_natural_keys(index):
    record = enrich_contact(
        contact(phoneNumbers=["02 9876 5432", "0412 345 678"]), index
    )
    lines = [(p["natural_key"], p["reason"]) for p in record["phones"]]
    assert lines == [("+61298765432", "business_line"), ("+61412345678", None)]
    assert record["natural_keys"] == ["+61412345678"]


def test_a_line_of_another_location_is_a_business_line_too(index):
    record = enrich_contact(contact(phoneNumbers=["+1 212 555 0100"]), index)
    assert record["phones"][0]["reason"] == "business_line"


def test_natural_keys_are_distinct_and_sorted(index):
    record = enrich_contact(
        contact(phoneNumbers=["0491 570 157", "0412345678", "+61 412 345 678"]), index
    )
    assert record["natural_keys"] == ["+61412345678", "+61491570157"]


def test_location_uids_keep_the_api_order_without_repeats(index):
    locations = [{"uid": "b"}, {"uid": "a"}, {"uid": "b"}, {"name": "no uid"}]
    record = enrich_contact(contact(locations=locations), index)
    assert record["location_uids"] == ["b", "a"]


def test_unknown_fields_pass_through_unchanged(index):
    record = enrich_contact(contact(futureField={"nested": [1, 2]}), index)
    assert record["futureField"] == {"nested": [1, 2]}


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"phoneNumbers": None}, id="null-phones"),
        pytest.param({"phoneNumbers": "0412 345 678"}, id="phones-as-a-string"),
        pytest.param({"phoneNumbers": [None, {}, ["x"], True]}, id="odd-elements"),
        pytest.param({"locations": None, "channels": "x"}, id="odd-lists"),
        pytest.param({"channels": [None, {"type": None}]}, id="odd-channels"),
        pytest.param({"address": "1 Main St", "tags": {"a": 1}}, id="odd-objects"),
        pytest.param({"name": 42, "emails": [None, 7]}, id="odd-scalars"),
        pytest.param({"phoneNumbers": ["0" * 10_000]}, id="10kB-phone"),
    ],
)
def test_odd_or_missing_fields_never_crash_enrichment(index, odd):
    record = enrich_contact({"uid": "c-odd", **odd}, index)
    assert record["uid"] == "c-odd"
    assert all(phone["natural_key"] is None for phone in record["phones"])


def channel(kind, identifier, *, opted_out=None, marketing=(), updated=None):
    """Build a channel as the API serves it."""
    return {
        "type": kind,
        "identifier": identifier,
        "transactionalOptedOutAt": opted_out,
        "marketingOptedInLocationUids": list(marketing),
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": updated,
    }


CONSENT_CASES = [
    pytest.param(
        [],
        {
            "sms_opt_out": False,
            "sms_opted_out_at": None,
            "email_opt_out": False,
            "email_opted_out_at": None,
            "marketing_opted_in_location_uids": [],
            "marketing_opted_in_at": None,
        },
        id="no-channels",
    ),
    pytest.param(
        [
            channel("PHONE", "a", opted_out="2026-02-01T00:00:00Z"),
            channel("PHONE", "b", opted_out="2026-03-01T00:00:00Z"),
        ],
        {"sms_opt_out": True, "sms_opted_out_at": "2026-03-01T00:00:00Z"},
        id="latest-sms-opt-out",
    ),
    pytest.param(
        [channel("EMAIL", "e", opted_out="2026-02-01T00:00:00Z")],
        {
            "sms_opt_out": False,
            "email_opt_out": True,
            "email_opted_out_at": "2026-02-01T00:00:00Z",
        },
        id="email-opt-out-is-not-sms",
    ),
    pytest.param(
        [
            channel("PHONE", "a", marketing=["L2"], updated="2026-04-01T00:00:00Z"),
            channel(
                "PHONE", "b", marketing=["L1", "L2"], updated="2026-05-01T00:00:00Z"
            ),
            channel("PHONE", "c", marketing=[], updated="2026-06-01T00:00:00Z"),
        ],
        {
            "marketing_opted_in_location_uids": ["L1", "L2"],
            "marketing_opted_in_at": "2026-05-01T00:00:00Z",
        },
        id="marketing-union-and-latest-non-empty",
    ),
    pytest.param(
        [channel("EMAIL", "e", marketing=["L9"], updated="2026-05-01T00:00:00Z")],
        {"marketing_opted_in_location_uids": [], "marketing_opted_in_at": None},
        id="email-marketing-is-ignored",
    ),
    pytest.param(
        [channel("phone", "a", opted_out="2026-02-01T00:00:00Z")],
        {"sms_opt_out": True},
        id="lowercase-type",
    ),
    pytest.param(
        [
            channel("PHONE", "a", opted_out="2026-02-01T00:00:00+00:00"),
            channel("PHONE", "b", opted_out="2026-01-31T23:00:00-05:00"),
        ],
        {"sms_opted_out_at": "2026-01-31T23:00:00-05:00"},
        id="latest-by-time-not-by-text",
    ),
]


@pytest.mark.parametrize(("channels", "expected"), CONSENT_CASES)
def test_the_consent_view_follows_the_contract(channels, expected):
    view = consent_view({"channels": channels})
    assert {name: view[name] for name in expected} == expected


FIELD_COUNT_CASES = [
    pytest.param({}, 0, id="nothing"),
    pytest.param({"name": "Ada Quill"}, 1, id="real-name"),
    pytest.param({"name": "Unknown"}, 0, id="placeholder-name"),
    pytest.param({"emails": ["a@x.test", "", None, "b@x.test"]}, 2, id="emails"),
    pytest.param({"phoneNumbers": ["0412", " ", 61412345678]}, 2, id="phones"),
    pytest.param(
        {"address": {"city": "Sydney", "state": "", "country": None}}, 1, id="address"
    ),
    pytest.param({"tags": [{"uid": "t1"}, {"uid": "t2"}]}, 2, id="tags"),
    pytest.param(
        {"attributes": [{"value": None}, {"value": 0}, {"value": "x"}]},
        2,
        id="attributes-with-values",
    ),
    pytest.param(
        {
            "name": "Ada",
            "emails": ["a@x.test"],
            "phoneNumbers": ["0412"],
            "address": {"city": "Sydney"},
            "tags": [{"uid": "t"}],
            "attributes": [{"value": 1}],
        },
        6,
        id="one-of-each",
    ),
]


@pytest.mark.parametrize(("fields", "count"), FIELD_COUNT_CASES)
def test_field_count_counts_populated_user_visible_values(fields, count):
    assert field_count(fields) == count


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        pytest.param(None, True, id="null"),
        pytest.param("  ", True, id="blank"),
        pytest.param("UNKNOWN", True, id="unknown-upper"),
        pytest.param("Customer", True, id="customer"),
        pytest.param("No Name", True, id="no-name"),
        pytest.param("N/A", True, id="n-a"),
        pytest.param("+61 412 345 678", True, id="the-phone-number"),
        pytest.param("0412345678", True, id="digits"),
        pytest.param("Ada Quill", False, id="real-name"),
        pytest.param("Customer Service Team", False, id="longer-than-placeholder"),
        pytest.param("Rob Vance Sr.", False, id="suffix"),
    ],
)
def test_placeholder_names_count_as_no_name(name, placeholder):
    assert is_placeholder_name(name) is placeholder


def test_placeholder_names_can_be_configured():
    assert is_placeholder_name("Walk-in", ["walk-in"])
    assert not is_placeholder_name("Unknown", ["walk-in"])
