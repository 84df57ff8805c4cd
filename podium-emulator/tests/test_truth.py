"""The ground-truth rules: names, placeholders, scores and review reasons."""

from __future__ import annotations

import pytest
from podium_emulator.truth import (
    choose_primary,
    is_placeholder,
    judge_group,
    normalise_name,
    pair_score,
)

MOBILE = "+61491570156"
LANDLINE = "+61298765432"


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Jane Citizen", "jane citizen"),
        ("  JANE   citizen ", "jane citizen"),
        ("Citizen, Jane", "jane citizen"),
        ("citizen,jane", "jane citizen"),
        ("Jane O'Neil.", "jane oneil"),
        ("Jane\u00a0Citizen", "jane citizen"),
        ("Rob Vance Jr.", "rob vance jr"),
    ],
    ids=[
        "plain",
        "case-and-spaces",
        "last-first",
        "last-first-tight",
        "punctuation",
        "nbsp",
        "suffix-kept",
    ],
)
def test_names_normalise_to_a_comparable_form(name, normalised):
    assert normalise_name(name) == normalised


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        (None, True),
        ("", True),
        ("Unknown", True),
        ("CUSTOMER", True),
        ("n/a", True),
        ("No Name", True),
        ("+61 491 570 156", True),
        ("Jane", False),
        ("Jane 2", False),
    ],
    ids=[
        "none",
        "empty",
        "unknown",
        "customer",
        "n-a",
        "no-name",
        "phone",
        "name",
        "name-with-digit",
    ],
)
def test_placeholder_names_are_recognised(name, placeholder):
    assert is_placeholder(name) is placeholder


def contact(uid: str, name, **fields) -> dict:
    return {
        "uid": uid,
        "name": name,
        "emails": fields.get("emails", []),
        "phoneNumbers": fields.get("phones", [MOBILE]),
        "tags": [{"uid": t, "label": t} for t in fields.get("tags", [])],
        "attributes": [],
        "address": {},
        "channels": fields.get("channels", []),
        "locations": [{"uid": loc} for loc in fields.get("locations", ["L1"])],
        "updatedAt": fields.get("updated", "2024-01-01T00:00:00Z"),
    }


@pytest.mark.parametrize(
    ("first", "second", "mobile", "expected"),
    [
        (
            contact("a", "Jane Citizen"),
            contact("b", "citizen, jane"),
            True,
            (80, False),
        ),
        (
            contact("a", "Jane", emails=["J@x.io"]),
            contact("b", "Jane", emails=["j@x.io"]),
            True,
            (95, False),
        ),
        (
            contact("a", "Jane", tags=["vip"]),
            contact("b", "Jane", tags=["vip"]),
            True,
            (85, False),
        ),
        (contact("a", "Jane"), contact("b", ""), True, (80, False)),
        (contact("a", "Jane"), contact("b", ""), False, (60, False)),
        (contact("a", "Jane"), contact("b", "John"), True, (60, True)),
        (
            contact("a", "Rob Vance Sr."),
            contact("b", "Rob Vance Jr."),
            True,
            (60, True),
        ),
    ],
    ids=[
        "same-name",
        "plus-email-any-case",
        "plus-tag",
        "placeholder-on-mobile",
        "placeholder-on-landline",
        "different-names",
        "suffixes",
    ],
)
def test_pairs_score_in_hundredths(first, second, mobile, expected):
    assert pair_score(first, second, mobile) == expected


def opted_out_at(stamp: str) -> list[dict]:
    return [
        {
            "type": "PHONE",
            "transactionalOptedOutAt": stamp,
            "marketingOptedInLocationUids": [],
            "updatedAt": stamp,
        }
    ]


def opted_in_at(stamp: str) -> list[dict]:
    return [
        {
            "type": "PHONE",
            "transactionalOptedOutAt": None,
            "marketingOptedInLocationUids": ["L1"],
            "updatedAt": stamp,
        }
    ]


@pytest.mark.parametrize(
    ("key", "members", "outcome", "reasons"),
    [
        (MOBILE, [contact("a", "Jane"), contact("b", "JANE")], "merge", []),
        (
            LANDLINE,
            [contact("a", "Jane"), contact("b", None)],
            "review",
            ["below_threshold"],
        ),
        (
            MOBILE,
            [contact("a", "Jane"), contact("b", "John")],
            "review",
            ["name_conflict"],
        ),
        (
            MOBILE,
            [contact("a", "Jane"), contact("b", "Jane", locations=["L2"])],
            "review",
            ["cross_location"],
        ),
        (
            MOBILE,
            [contact(str(i), "Jane") for i in range(6)],
            "review",
            ["shared_line"],
        ),
        (
            "+61733334444",
            [contact("a", "Jane"), contact("b", "Jane")],
            "review",
            ["shared_line"],
        ),
        (
            MOBILE,
            [
                contact("a", "Jane", channels=opted_out_at("2024-02-01T00:00:00Z")),
                contact("b", "Jane", channels=opted_in_at("2024-03-01T00:00:00Z")),
            ],
            "review",
            ["consent_conflict"],
        ),
        (
            MOBILE,
            [
                contact("a", "Jane", channels=opted_out_at("2024-03-01T00:00:00Z")),
                contact("b", "Jane", channels=opted_in_at("2024-02-01T00:00:00Z")),
            ],
            "merge",
            [],
        ),
        (
            MOBILE,
            [contact("a", "Jane", locations=["L2"]), contact("b", "John")],
            "review",
            ["cross_location", "name_conflict"],
        ),
    ],
    ids=[
        "same-person",
        "placeholder-on-landline",
        "two-names",
        "two-locations",
        "six-holders",
        "business-line",
        "newer-opt-in",
        "newer-opt-out",
        "priority-order",
    ],
)
def test_groups_are_judged_by_the_default_rules(key, members, outcome, reasons):
    judged = judge_group(key, members, business_lines={"+61733334444"})

    assert judged["outcome"] == outcome
    assert judged["reasons"] == reasons
    assert judged["reason"] == (reasons[0] if reasons else None)


def test_the_primary_has_most_fields_then_is_newest_then_has_the_lowest_uid():
    rich = contact("b", "Jane", emails=["j@x.io"], updated="2024-01-01T00:00:00Z")
    newer = contact("a", "Jane", updated="2024-05-01T00:00:00Z")
    tie = contact("c", "Jane", updated="2024-05-01T00:00:00Z")

    assert choose_primary([newer, rich, tie]) == "b"
    assert choose_primary([tie, newer]) == "a"
