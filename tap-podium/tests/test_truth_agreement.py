"""The tap's enrichment agrees with the emulator's ground truth on its corpus."""

from __future__ import annotations

import pytest

from tap_podium.enrich import LocationIndex, consent_view, enrich_contact, field_count

truth = pytest.importorskip("podium_emulator.truth")


@pytest.fixture(scope="module")
def enriched(corpus):
    """Every corpus contact through the enrichment, as the tap emits it."""
    index = LocationIndex.build(corpus.locations, default_region="AU")
    return [enrich_contact(contact, index) for contact in corpus.contacts]


def test_keyed_groups_are_exactly_the_truths_groups(corpus, enriched):
    holders: dict[str, set[str]] = {}
    for record in enriched:
        for phone in record["phones"]:
            if phone["natural_key"]:
                holders.setdefault(phone["natural_key"], set()).add(record["uid"])
    groups = {key: uids for key, uids in holders.items() if len(uids) > 1}
    expected = {
        row["natural_key"]: set(row["uids"])
        for row in corpus.truth
        if row["kind"] == "group" and row["natural_key"]
    }
    assert groups == expected


def test_damaged_phones_of_the_truth_are_never_keys(corpus, enriched):
    damaged = {
        row["uid"]: {str(raw) for raw in row["damaged"]}
        for row in corpus.truth
        if row["kind"] == "contact" and row["damaged"]
    }
    assert damaged, "the corpus plants no damage, so this proves nothing"
    keyed = [
        phone["raw"]
        for record in enriched
        for phone in record["phones"]
        if phone["natural_key"] and phone["raw"] in damaged.get(record["uid"], ())
    ]
    assert keyed == []


def test_field_count_agrees_with_the_truth(corpus):
    counts = [(field_count(c), truth.field_count(c)) for c in corpus.contacts]
    assert [pair for pair in counts if pair[0] != pair[1]] == []


def test_consent_times_agree_with_the_truth(corpus):
    names = ("sms_opted_out_at", "marketing_opted_in_at")
    differ = [
        contact["uid"]
        for contact in corpus.contacts
        if {n: consent_view(contact)[n] for n in names} != truth.consent_view(contact)
    ]
    assert differ == []
