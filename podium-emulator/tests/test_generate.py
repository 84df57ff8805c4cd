"""The generated corpus: deterministic, planted in the right proportions, parseable."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest
from podium_emulator.phones import natural_key_of
from podium_emulator.testing import Corpus, generate_corpus
from podium_emulator.truth import check_precision

REASONS = {"shared_line", "consent_conflict", "cross_location", "name_conflict"}


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(contacts=2000, seed=7)


def contact_rows(corpus) -> dict[str, dict]:
    return {row["uid"]: row for row in corpus.truth if row["kind"] == "contact"}


def groups(corpus, outcome: str | None = None) -> list[dict]:
    return [
        row
        for row in corpus.truth
        if row["kind"] == "group" and outcome in (None, row["outcome"])
    ]


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    first = generate_corpus(contacts=300, seed=5).write(tmp_path / "a")
    second = generate_corpus(contacts=300, seed=5).write(tmp_path / "b")

    for name in ("contacts.jsonl", "locations.jsonl", "truth.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_written_corpus_reads_back_equal(tmp_path):
    corpus = generate_corpus(contacts=80, seed=5)

    again = Corpus.read(corpus.write(tmp_path))

    assert again == corpus


def test_another_seed_writes_another_corpus():
    first = generate_corpus(contacts=300, seed=5)
    second = generate_corpus(contacts=300, seed=6)

    assert first.contacts != second.contacts


@pytest.mark.parametrize("size", [60, 301, 2000], ids=["smallest", "odd", "default"])
def test_the_corpus_has_exactly_the_contacts_asked_for(size, corpus):
    generated = corpus if size == 2000 else generate_corpus(contacts=size, seed=1)

    assert len(generated.contacts) == size
    assert len({c["uid"] for c in generated.contacts}) == size


def test_a_corpus_too_small_for_the_planted_cases_is_refused():
    with pytest.raises(ValueError, match="at least 60 contacts"):
        generate_corpus(contacts=10, seed=1)


def test_ten_to_twenty_percent_of_people_have_duplicates(corpus):
    records = Counter(row["person"] for row in contact_rows(corpus).values())
    duplicated = [count for count in records.values() if count > 1]

    assert 0.10 <= len(duplicated) / len(records) <= 0.20
    assert max(duplicated) <= 5


def test_locations_span_two_countries_each_with_a_business_line(corpus):
    countries = Counter(loc["addressDetails"]["country"] for loc in corpus.locations)

    assert set(countries) == {"AU", "US"}
    assert all(natural_key_of(loc["phoneNumber"], "US") for loc in corpus.locations)


def test_every_review_reason_and_the_leave_outcome_are_planted(corpus):
    reasons = {reason for row in groups(corpus, "review") for reason in row["reasons"]}

    assert reasons >= REASONS
    assert groups(corpus, "leave")


def test_most_duplicate_records_of_a_person_are_mergeable(corpus):
    person = {uid: row["person"] for uid, row in contact_rows(corpus).items()}
    by_person = defaultdict(list)
    for uid, pid in person.items():
        by_person[pid].append(uid)
    same_person = {
        pair
        for uids in by_person.values()
        for pair in itertools.combinations(sorted(uids), 2)
    }
    mergeable = {
        pair
        for row in groups(corpus, "merge")
        for pair in itertools.combinations(sorted(row["uids"]), 2)
    }

    assert mergeable <= same_person
    assert len(mergeable) / len(same_person) >= 0.75


def test_no_merge_group_holds_two_people(corpus):
    check_precision(corpus.truth)


def test_a_merge_group_of_two_people_is_caught():
    truth = [
        {"kind": "contact", "uid": "a", "person": "p1"},
        {"kind": "contact", "uid": "b", "person": "p2"},
        {
            "kind": "group",
            "natural_key": "+61491570156",
            "uids": ["a", "b"],
            "outcome": "merge",
        },
    ]

    with pytest.raises(AssertionError, match="would merge people"):
        check_precision(truth)


def test_every_undamaged_phone_parses_to_one_of_the_contacts_keys(corpus):
    shared_strings = {row["shared"] for row in groups(corpus, "leave")}
    for uid, row in contact_rows(corpus).items():
        contact = next(c for c in corpus.contacts if c["uid"] == uid)
        for raw in contact["phoneNumbers"]:
            if raw in row["damaged"] or raw in shared_strings:
                continue
            assert natural_key_of(raw, row["region"]) in row["e164"], (uid, raw)


def test_all_records_of_a_person_share_a_key_unless_damaged(corpus):
    keys_by_person = defaultdict(list)
    for row in contact_rows(corpus).values():
        if row["e164"]:
            keys_by_person[row["person"]].append(set(row["e164"]))

    for person, key_sets in keys_by_person.items():
        assert set.intersection(*key_sets), person


def test_spreadsheet_damage_and_a_json_number_are_planted(corpus):
    damaged = [raw for row in contact_rows(corpus).values() for raw in row["damaged"]]

    assert any(isinstance(raw, int) for raw in damaged)
    assert any(isinstance(raw, str) and raw.endswith(".0") for raw in damaged)
    assert any(isinstance(raw, str) and "E+" in raw for raw in damaged)


def test_phones_come_in_the_shapes_people_type(corpus):
    phones = [
        p for c in corpus.contacts for p in c["phoneNumbers"] if isinstance(p, str)
    ]

    for marker in ("\u00a0", "\u202f", "\t", "tel:", "(0)", "0011 ", "ext", "\uff10"):
        assert any(marker in phone for phone in phones), repr(marker)


def test_an_opt_out_sits_on_a_record_that_is_not_the_primary(corpus):
    by_uid = {c["uid"]: c for c in corpus.contacts}

    def opted_out(uid: str) -> bool:
        return any(ch["transactionalOptedOutAt"] for ch in by_uid[uid]["channels"])

    assert any(
        opted_out(uid) and uid != row["primary_uid"]
        for row in groups(corpus, "merge")
        for uid in row["uids"]
    )


def test_every_contact_has_a_conversation_and_podium_fields(corpus):
    fields = {
        "uid",
        "name",
        "emails",
        "phoneNumbers",
        "channels",
        "locations",
        "address",
        "tags",
        "attributes",
        "conversations",
        "organization",
        "createdAt",
        "updatedAt",
    }

    for contact in corpus.contacts:
        assert set(contact) == fields
        assert contact["conversations"]
