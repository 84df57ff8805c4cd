"""The hand-written baseline applies the published rules it claims to."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import baseline_dedup

KEY = "+61412345678"


def contact(uid, name, **fields):
    """Return a tap-shaped contact on the shared mobile key."""
    return {
        "uid": uid,
        "name": name,
        "emails": [],
        "tags": [],
        "natural_keys": [KEY],
        "phones": [{"natural_key": KEY, "number_type": "MOBILE"}],
        "field_count": 1,
        "updatedAt": "2024-01-01T00:00:00Z",
        "location_uids": ["L1"],
        "consent": {},
        **fields,
    }


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        pytest.param(
            contact("a", "Vance, Rob"),
            contact("b", "rob vance"),
            None,
            id="last-first-equals-first-last",
        ),
        pytest.param(
            contact("a", "Rob Vance Sr."),
            contact("b", "Rob Vance Jr."),
            "name_conflict",
            id="suffixes-differ",
        ),
        pytest.param(
            contact("a", "Unknown"),
            contact("b", "Ann Lee"),
            None,
            id="placeholder-on-a-mobile-matches",
        ),
        pytest.param(
            contact("a", "Ann"),
            contact("b", "Ann", location_uids=["L2"]),
            "cross_location",
            id="no-shared-location",
        ),
    ],
)
def test_review_reason_follows_the_rules(a, b, reason):
    assert baseline_dedup.review_reason([a, b]) == reason


@pytest.mark.parametrize(
    ("holders", "business", "shared"),
    [
        pytest.param(["a", "b"], {KEY}, True, id="a-location-line"),
        pytest.param(list("abcdef"), set(), True, id="more-than-five-holders"),
        pytest.param(list("abcde"), set(), False, id="five-holders-are-people"),
    ],
)
def test_shared_lines_are_not_cluster_edges(holders, business, shared):
    assert baseline_dedup.is_shared_line(KEY, holders, business) is shared
    clusters = baseline_dedup.clusters_by_key({KEY: holders}, business)
    assert (clusters == []) is shared


@pytest.mark.parametrize(
    ("members", "primary"),
    [
        pytest.param(
            [contact("a", "x", field_count=2), contact("b", "x")],
            "a",
            id="most-fields-wins",
        ),
        pytest.param(
            [contact("a", "x"), contact("b", "x", updatedAt="2025-01-01T00:00:00Z")],
            "b",
            id="then-latest-update",
        ),
        pytest.param([contact("b", "x"), contact("a", "x")], "a", id="then-lowest-uid"),
    ],
)
def test_primary_is_chosen_by_the_published_order(members, primary):
    assert baseline_dedup.primary_of(members)["uid"] == primary


def test_an_opt_out_anywhere_wins_and_clears_marketing():
    members = [
        contact("a", "x", consent={"sms_opt_out": True}),
        contact("b", "x", consent={"marketing_opted_in_location_uids": ["L1"]}),
    ]
    target = baseline_dedup.consent_target(members)
    assert target["sms_opt_out"] is True
    assert target["marketing_opted_in_location_uids"] == []
