"""The demo's scoring, on a hand-made corpus, snapshot and request log."""

import json

import pytest
import summary as scoring

LOCATION = [{"uid": "loc-syd"}]


def contact(uid, name, phones, **extra):
    """Build a contact as the emulator serves it, with one PHONE channel a phone."""
    channels = [
        {"type": "PHONE", "identifier": raw, "transactionalOptedOutAt": None}
        for raw in phones
    ]
    record = {
        "uid": uid,
        "name": name,
        "emails": [],
        "phoneNumbers": phones,
        "channels": channels,
        "locations": LOCATION,
        "address": {},
        "tags": [],
        "updatedAt": "2024-01-01T00:00:00Z",
    }
    return {**record, **extra}


def opted_out(record, channel_type="PHONE"):
    """Return a copy of a contact whose channels of one type are opted out."""
    channels = [
        {**channel, "transactionalOptedOutAt": "2024-02-01T00:00:00Z"}
        if channel["type"] == channel_type
        else channel
        for channel in record["channels"]
    ]
    return {**record, "channels": channels}


def merged(record, into):
    """Return a copy of a contact soft-deleted by a merge into another."""
    return {**record, "deletedAt": "2024-03-01T00:00:00Z", "mergedInto": into}


ANNA = contact("a", "Anna Lee", ["0412 345 678"], emails=["anna@example.com"])
ANNA_COPY = contact("b", "lee, anna", ["+61 412 345 678"], tags=[{"label": "VIP"}])
ANNA_BLANK = opted_out(contact("c", "", ["(04) 1234-5678"]))
HOUSE_1 = contact("d", "Tom Ray", ["02 9876 5432"])
HOUSE_2 = contact("e", "Ivy Ray", ["02 9876 5432"])
ALONE = contact("f", "Sam Poe", ["0413 111 222"])
CORPUS = [ANNA, ANNA_COPY, ANNA_BLANK, HOUSE_1, HOUSE_2, ALONE]

TRUTH = [
    *({"kind": "contact", "uid": c["uid"], "region": "AU"} for c in CORPUS),
    {
        "kind": "group",
        "natural_key": "+61412345678",
        "uids": ["a", "b", "c"],
        "outcome": "merge",
        "reason": None,
    },
    {
        "kind": "group",
        "natural_key": "+61298765432",
        "uids": ["d", "e"],
        "outcome": "review",
        "reason": "name_conflict",
    },
]

GOOD_SURVIVOR = opted_out(
    {**ANNA, "tags": [{"label": "vip"}], "phoneNumbers": ["0412 345 678"]}
)
GOOD_END = [
    GOOD_SURVIVOR,
    merged(ANNA_COPY, "a"),
    merged(ANNA_BLANK, "a"),
    HOUSE_1,
    HOUSE_2,
    ALONE,
]


@pytest.fixture
def corpus_dir(tmp_path):
    """A corpus folder holding the hand-made contacts and truth."""
    for name, rows in (("contacts.jsonl", CORPUS), ("truth.jsonl", TRUTH)):
        lines = (json.dumps(row) for row in rows)
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        pytest.param(GOOD_END, (1.0, 1.0), id="whole-group-merged"),
        pytest.param(
            [GOOD_SURVIVOR, merged(ANNA_COPY, "a"), *CORPUS[2:]],
            (1.0, 1 / 3),
            id="one-pair-of-three",
        ),
        pytest.param(
            [*GOOD_END[:3], HOUSE_1, merged(HOUSE_2, "d"), ALONE],
            (3 / 4, 1.0),
            id="household-wrongly-merged",
        ),
        pytest.param(CORPUS, (None, 0.0), id="nothing-merged"),
    ],
)
def test_precision_and_recall_count_pairs_of_one_survivor(snapshot, expected):
    assert scoring.precision_recall(TRUTH, snapshot) == pytest.approx(expected)


def test_merge_chains_end_in_the_live_contact():
    chain = [merged(ANNA_BLANK, "b"), merged(ANNA_COPY, "a"), ANNA]
    assert scoring.survivors(chain) == {"a": "a", "b": "a", "c": "a"}


@pytest.mark.parametrize(
    ("snapshot", "preserved"),
    [
        pytest.param(GOOD_END, 1, id="survivor-carries-the-opt-out"),
        pytest.param(
            [{**GOOD_SURVIVOR, "channels": ANNA["channels"]}, *GOOD_END[1:]],
            0,
            id="opt-out-dropped-by-the-merge",
        ),
        pytest.param(CORPUS, 1, id="unmerged-record-keeps-its-own"),
    ],
)
def test_opt_outs_of_merge_groups_must_reach_the_survivor(snapshot, preserved):
    figures = scoring.opt_out_figures(TRUTH, CORPUS, snapshot)
    assert figures == {"opt_outs_expected": 1, "opt_outs_preserved": preserved}


@pytest.mark.parametrize(
    ("survivor", "lost"),
    [
        pytest.param(GOOD_SURVIVOR, {}, id="nothing-lost"),
        pytest.param({**GOOD_SURVIVOR, "tags": []}, {"tag": 1}, id="tag-lost"),
        pytest.param({**GOOD_SURVIVOR, "name": "Unknown"}, {"name": 1}, id="name-lost"),
        pytest.param(
            {**GOOD_SURVIVOR, "phoneNumbers": []}, {"phone": 2}, id="phones-lost"
        ),
    ],
)
def test_field_values_of_members_missing_from_the_survivor_are_lost(survivor, lost):
    figures = scoring.field_value_figures(TRUTH, [survivor, *GOOD_END[1:]])
    assert figures["field_values_lost_by_kind"] == lost


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Lee, Anna", "anna lee", id="last-first"),
        pytest.param("  ANNA   lee. ", "anna lee", id="case-space-punctuation"),
        pytest.param("Vance, Rob Sr.", "rob vance sr", id="suffix-moved-last"),
    ],
)
def test_names_fold_like_the_sql_step(name, expected):
    assert scoring.normalise_name(name) == expected


def test_contacts_read_counts_the_live_contacts_after_the_first_filter():
    pages = [
        {
            "method": "GET",
            "path": "/v4/contacts",
            "status": 200,
            "time": 2.0,
            "query": {"cursor": "abc"},
        },
        {
            "method": "GET",
            "path": "/v4/contacts",
            "status": 200,
            "time": 1.0,
            "query": {"updated_at": "2024-01-15T00:00:00Z", "limit": "100"},
        },
    ]
    newer = {**ALONE, "updatedAt": "2024-02-01T00:00:00Z"}
    run = scoring.RunLog("dedup-apply", pages, [*CORPUS[:5], newer], 1.0)
    assert scoring.contacts_read(run) == 1


def test_summary_reports_every_figure_the_issue_lists(corpus_dir, tmp_path):
    merge_call = {
        "method": "POST",
        "path": "/v4/contacts/a/merge",
        "status": 202,
        "time": 9.0,
    }
    limited = {"method": "GET", "path": "/v4/contacts", "status": 429, "time": 1.0}
    runs = [
        scoring.RunLog("dedup", [limited], CORPUS, 1.0),
        scoring.RunLog("dedup-apply", [merge_call], CORPUS, 2.0),
        scoring.RunLog("dedup-apply", [], GOOD_END, 3.0),
    ]
    queue = tmp_path / "review-queue.json"
    queue.write_text(json.dumps([{"cluster_id": "x", "reason": "name_conflict"}]))
    budget = {"requests": 10, "window_seconds": 5}
    result = scoring.build_summary(corpus_dir, GOOD_END, runs, queue, budget)
    assert {
        key: result[key]
        for key in (
            "auto_merged_clusters",
            "duplicates_merged",
            "review_items",
            "http_429",
            "second_run_merges",
            "rate_budget",
            "wall_seconds",
        )
    } == {
        "auto_merged_clusters": 1,
        "duplicates_merged": 2,
        "review_items": {"name_conflict": 1},
        "http_429": 1,
        "second_run_merges": 0,
        "rate_budget": budget,
        "wall_seconds": 6.0,
    }
    assert "precision" in scoring.format_table(result)
    assert scoring.done_checks(result) == {
        "precision is 1.0": True,
        "recall is at least 0.9": True,
        "every expected opt-out preserved": True,
        "no field value lost": True,
        "no 429 after the first rate window": True,
        "the second run merges nothing": True,
        "the dry run writes nothing": True,
        "no hard delete": True,
    }


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0412\t345\t678", id="tabs"),
        pytest.param("+61\u202f412\u202f345\u202f678", id="narrow-nbsp"),
        pytest.param("\uff10\uff14\uff11\uff12 345 678", id="full-width-digits"),
        pytest.param("04\u200b12 345 678", id="zero-width-space"),
    ],
)
def test_odd_spellings_of_a_kept_phone_still_count_as_kept(raw):
    assert scoring.phone_keys([raw], ["AU"]) == {"+61412345678"}


@pytest.mark.parametrize(
    ("snapshot", "spread"),
    [
        pytest.param(GOOD_END, 0, id="opt-out-from-a-member"),
        pytest.param(
            [*GOOD_END[:3], opted_out(HOUSE_1), HOUSE_2, ALONE],
            1,
            id="opt-out-on-a-stranger",
        ),
    ],
)
def test_opt_outs_no_member_of_the_cluster_had_are_counted_as_spread(snapshot, spread):
    assert scoring.spread_opt_outs(CORPUS, snapshot)["opt_outs_spread"] == spread
