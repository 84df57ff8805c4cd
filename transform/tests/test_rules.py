"""Every routing rule of the SQL step as a row: contacts in, outcome out."""

from __future__ import annotations

import pytest
from dedup_plan_builders import contact, location, singer_lines, tap_state

MOBILE = "+61491570156"
OTHER_MOBILE = "+61491570157"
LANDLINE = "+61255501234"


def outcome(out, uid="a"):
    """Return ("merge", None) or ("review", reason) for the cluster of `uid`."""
    if any(uid in {m["uid"] for m in plan["members"]} for plan in out.plans):
        return ("merge", None)
    return ("review", out.review_for(uid)["reason"])


ROUTING_CASES = [
    pytest.param(
        [contact("a"), contact("b")],
        [],
        {},
        ("merge", None),
        id="same-name-same-mobile",
    ),
    pytest.param(
        [contact("a", name="Ada Quill"), contact("b", name="Quill, Ada")],
        [],
        {},
        ("merge", None),
        id="last-first-order-is-the-same-name",
    ),
    pytest.param(
        [contact("a", name="ADA  quill."), contact("b", name="Ada Quill")],
        [],
        {},
        ("merge", None),
        id="case-spacing-punctuation-fold",
    ),
    pytest.param(
        [contact("a", name="Ada Quill"), contact("b", name="Ben Quill")],
        [],
        {},
        ("review", "name_conflict"),
        id="different-first-names-conflict",
    ),
    pytest.param(
        [contact("a", name="Rob Vance Sr."), contact("b", name="Rob Vance Jr.")],
        [],
        {},
        ("review", "name_conflict"),
        id="generational-suffix-conflict",
    ),
    pytest.param(
        [contact("a", name=None), contact("b")],
        [],
        {},
        ("merge", None),
        id="blank-name-on-mobile-matches",
    ),
    pytest.param(
        [contact("a", name="Unknown"), contact("b", name="customer")],
        [],
        {},
        ("merge", None),
        id="two-placeholders-on-mobile-match",
    ),
    pytest.param(
        [contact("a", name="0491 570 156"), contact("b")],
        [],
        {},
        ("merge", None),
        id="digits-only-name-is-a-placeholder",
    ),
    pytest.param(
        [contact("a", name="Walk In"), contact("b")],
        [],
        {"placeholder_names": ["walk in"]},
        ("merge", None),
        id="placeholder-names-setting",
    ),
    pytest.param(
        [contact("a", name="Walk In"), contact("b")],
        [],
        {},
        ("review", "name_conflict"),
        id="unlisted-placeholder-is-a-real-name",
    ),
    pytest.param(
        [
            contact("a", name=None, keys=[LANDLINE], number_type="FIXED_LINE"),
            contact("b", keys=[LANDLINE], number_type="FIXED_LINE"),
        ],
        [],
        {},
        ("review", "below_threshold"),
        id="blank-name-on-landline-scores-no-name",
    ),
    pytest.param(
        [
            contact(
                "a",
                name=None,
                keys=[LANDLINE],
                number_type="FIXED_LINE",
                emails=["Jo@Example.test"],
                tags=["vip"],
            ),
            contact(
                "b",
                keys=[LANDLINE],
                number_type="FIXED_LINE",
                emails=["jo@example.test"],
                tags=["VIP"],
            ),
        ],
        [],
        {},
        ("merge", None),
        id="key-email-tag-reach-exactly-the-threshold",
    ),
    pytest.param(
        [
            contact(
                "a",
                name=None,
                keys=[LANDLINE],
                number_type="FIXED_LINE",
                emails=["jo@example.test"],
            ),
            contact(
                "b",
                keys=[LANDLINE],
                number_type="FIXED_LINE",
                emails=["jo@example.test"],
            ),
        ],
        [],
        {},
        ("review", "below_threshold"),
        id="key-and-email-fall-short",
    ),
    pytest.param(
        [contact("a"), contact("b")],
        [],
        {"merge_threshold": 0.9},
        ("review", "below_threshold"),
        id="merge-threshold-setting",
    ),
    pytest.param(
        [
            contact("a", keys=[MOBILE]),
            contact("b", keys=[MOBILE, OTHER_MOBILE]),
            contact("c", keys=[OTHER_MOBILE]),
        ],
        [],
        {},
        ("review", "below_threshold"),
        id="chained-pair-without-common-key",
    ),
    pytest.param(
        [contact("a", locations=["loc-1"]), contact("b", locations=["loc-2"])],
        [],
        {},
        ("review", "cross_location"),
        id="members-share-no-location",
    ),
    pytest.param(
        [contact("a", locations=["loc-1"]), contact("b", locations=["loc-2"])],
        [],
        {"allow_cross_location": True},
        ("merge", None),
        id="cross-location-allowed-by-setting",
    ),
    pytest.param(
        [contact("a", locations=["loc-1", "loc-2"]), contact("b", locations=["loc-2"])],
        [],
        {},
        ("merge", None),
        id="one-common-location-is-enough",
    ),
    pytest.param(
        [contact("a"), contact("b")],
        [location("loc-1", "Bondi", keys=[MOBILE])],
        {},
        ("review", "shared_line"),
        id="business-line-of-a-location",
    ),
    pytest.param(
        [contact(uid) for uid in "abcdef"],
        [],
        {},
        ("review", "shared_line"),
        id="key-held-by-more-than-five",
    ),
    pytest.param(
        [contact(uid) for uid in "abcde"],
        [],
        {},
        ("merge", None),
        id="key-held-by-five-still-merges",
    ),
    pytest.param(
        [contact(uid) for uid in "abcdef"],
        [],
        {"max_contacts_per_key": 6},
        ("merge", None),
        id="max-contacts-per-key-setting",
    ),
    pytest.param(
        [
            contact(
                "a",
                consent={
                    "sms_opt_out": True,
                    "sms_opted_out_at": "2026-02-01T00:00:00Z",
                },
            ),
            contact(
                "b",
                consent={
                    "marketing_opted_in_location_uids": ["loc-1"],
                    "marketing_opted_in_at": "2026-03-05T00:00:00Z",
                },
            ),
        ],
        [],
        {},
        ("review", "consent_conflict"),
        id="newer-opt-in-than-opt-out",
    ),
    pytest.param(
        [
            contact(
                "a",
                consent={
                    "sms_opt_out": True,
                    "sms_opted_out_at": "2026-04-01T00:00:00Z",
                },
            ),
            contact(
                "b",
                consent={
                    "marketing_opted_in_location_uids": ["loc-1"],
                    "marketing_opted_in_at": "2026-03-05T00:00:00Z",
                },
            ),
        ],
        [],
        {},
        ("merge", None),
        id="older-opt-in-than-opt-out-merges",
    ),
]


@pytest.mark.parametrize(
    ("contacts", "locations", "settings", "expected"), ROUTING_CASES
)
def test_each_rule_routes_the_cluster(mapper, contacts, locations, settings, expected):
    out = mapper.run(singer_lines(contacts, locations, tap_state()), **settings)
    assert outcome(out) == expected


def test_every_applying_reason_is_listed_in_priority_order(mapper):
    contacts = [
        contact("a", name="Ada Quill", locations=["loc-1"]),
        contact("b", name="Ben Quill", locations=["loc-2"]),
    ]
    item = mapper.run(singer_lines(contacts, state=tap_state())).review_for("a")
    assert item["reason"] == "cross_location"
    assert item["reasons"] == ["cross_location", "name_conflict"]


def test_a_review_item_names_the_locations_of_its_members(mapper):
    contacts = [contact("a", locations=["loc-1"]), contact("b", locations=["loc-2"])]
    locations = [location("loc-1", "Bondi"), location("loc-2", "Manly")]
    item = mapper.run(singer_lines(contacts, locations, tap_state())).review_for("a")
    assert item["location_names"] == ["Bondi", "Manly"]
    assert item["detail"]


def test_a_contact_without_a_natural_key_is_never_clustered(mapper):
    out = mapper.run(singer_lines([contact("a", keys=[]), contact("b", keys=[])]))
    assert out.plans == [] and out.reviews == []


SURVIVOR_CASES = [
    pytest.param(
        [contact("a", field_count=2), contact("b", field_count=5)],
        ("b", "field_count"),
        id="most-populated-fields-win",
    ),
    pytest.param(
        [
            contact("a", field_count=3, updated_at="2026-11-01T00:00:00Z"),
            contact("b", field_count=3, updated_at="2026-11-02T00:00:00Z"),
        ],
        ("b", "updated_at"),
        id="then-latest-updated-at",
    ),
    pytest.param(
        [contact("b", field_count=3), contact("a", field_count=3)],
        ("a", "uid"),
        id="then-lowest-uid-whatever-the-input-order",
    ),
]


@pytest.mark.parametrize(("contacts", "expected"), SURVIVOR_CASES)
def test_the_survivor_rule_chooses_the_primary(mapper, contacts, expected):
    (plan,) = mapper.run(singer_lines(contacts)).plans
    assert (plan["primary_uid"], plan["primary_reason"]) == expected


def _opted_in(*locations):
    return {
        "marketing_opted_in_location_uids": list(locations),
        "marketing_opted_in_at": "2026-01-01T00:00:00Z",
    }


CONSENT_CASES = [
    pytest.param(
        [
            contact(
                "a",
                consent={
                    "sms_opt_out": True,
                    "sms_opted_out_at": "2026-05-01T00:00:00Z",
                },
            ),
            contact("b", field_count=9, consent=_opted_in("loc-1")),
        ],
        {
            "sms_opt_out": True,
            "email_opt_out": False,
            "marketing_opted_in_location_uids": [],
        },
        id="any-sms-opt-out-wins-and-empties-marketing",
    ),
    pytest.param(
        [contact("a", consent={"email_opt_out": True}), contact("b", field_count=9)],
        {
            "sms_opt_out": False,
            "email_opt_out": True,
            "marketing_opted_in_location_uids": [],
        },
        id="any-email-opt-out-wins",
    ),
    pytest.param(
        [
            contact("a", consent=_opted_in("loc-1")),
            contact("b", consent=_opted_in("loc-1")),
        ],
        {
            "sms_opt_out": False,
            "email_opt_out": False,
            "marketing_opted_in_location_uids": ["loc-1"],
        },
        id="location-kept-when-every-member-there-opted-in",
    ),
    pytest.param(
        [contact("a", consent=_opted_in("loc-1")), contact("b", field_count=9)],
        {
            "sms_opt_out": False,
            "email_opt_out": False,
            "marketing_opted_in_location_uids": [],
        },
        id="location-dropped-when-a-member-there-is-not-opted-in",
    ),
    pytest.param(
        [
            contact(
                "a", locations=["loc-1", "loc-2"], consent=_opted_in("loc-1", "loc-2")
            ),
            contact("b", locations=["loc-1"], consent=_opted_in("loc-1")),
        ],
        {
            "sms_opt_out": False,
            "email_opt_out": False,
            "marketing_opted_in_location_uids": ["loc-1", "loc-2"],
        },
        id="member-of-another-location-has-no-say",
    ),
]


@pytest.mark.parametrize(("contacts", "expected"), CONSENT_CASES)
def test_the_consent_target_is_the_strongest_state(mapper, contacts, expected):
    (plan,) = mapper.run(singer_lines(contacts)).plans
    assert plan["consent_target"] == expected


def test_the_fill_carries_what_only_duplicates_have(mapper):
    primary = contact(
        "a",
        name=None,
        field_count=9,
        emails=["ada@example.test"],
        tags=["vip"],
        address={"city": "Sydney", "postalCode": None},
        locations=["loc-1"],
    )
    duplicate = contact(
        "b",
        name="Ada Quill",
        keys=[MOBILE, OTHER_MOBILE],
        emails=["ADA@example.test", "ada@work.example.test"],
        tags=["vip", "new"],
        address={"city": "Melbourne", "postalCode": "2000"},
        locations=["loc-1", "loc-2"],
    )
    (plan,) = mapper.run(singer_lines([primary, duplicate])).plans
    assert plan["primary_uid"] == "a"
    assert plan["fill"] == {
        "name": "Ada Quill",
        "emails": ["ada@work.example.test"],
        "address": {"postalCode": "2000"},
        "tags": [{"uid": "tag-new", "label": "new"}],
        "phones": [OTHER_MOBILE],
        "locations": ["loc-2"],
    }


def test_confidence_is_the_lowest_pair_score(mapper):
    contacts = [
        contact("a", emails=["ada@example.test"]),
        contact("b", emails=["ada@example.test"]),
        contact("c"),
    ]
    (plan,) = mapper.run(singer_lines(contacts)).plans
    assert plan["confidence"] == pytest.approx(0.80)


def test_a_business_line_the_tap_left_out_of_natural_keys_still_goes_to_review(mapper):
    line = contact("a", keys=[])
    line["phones"] = [
        {
            "raw": "02 5550 1234",
            "e164": LANDLINE,
            "natural_key": LANDLINE,
            "number_type": "FIXED_LINE",
            "valid": True,
            "reason": "business_line",
        }
    ]
    other = {**line, "uid": "b"}
    out = mapper.run(
        singer_lines([line, other], [location("loc-1", "Bondi", [LANDLINE])])
    )
    assert out.plans == []
    assert out.review_for("a")["reason"] == "shared_line"
