"""Precision and recall over pairs of contact uids."""

from __future__ import annotations

import pytest
from podium_emulator.metrics import score_merges

TRUTH = [
    {"kind": "contact", "uid": "a", "person": "p1"},
    {"kind": "group", "natural_key": "+61491570156", "uids": ["a", "b", "c"],
     "outcome": "merge", "reason": None},
    {"kind": "group", "natural_key": "+61298765432", "uids": ["d", "e"],
     "outcome": "review", "reason": "name_conflict"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("clusters", "precision", "recall"),
    [
        ([["a", "b", "c"]], 1.0, 1.0),
        ([["a", "b"]], 1.0, 1 / 3),
        ([["c", "b", "a"], ["d", "e"]], 3 / 4, 1.0),
        ([], 1.0, 0.0),
    ],
    ids=["all-merged", "one-pair", "plus-a-wrong-merge", "nothing-merged"],
)
def test_pairs_are_scored_against_the_merge_groups(clusters, precision, recall):
    score = score_merges(TRUTH, clusters)

    assert score.precision == pytest.approx(precision)
    assert score.recall == pytest.approx(recall)


def test_a_perfect_planner_scores_one_on_a_generated_corpus(small_corpus):
    merge_groups = [
        r["uids"] for r in small_corpus.truth if r.get("outcome") == "merge"
    ]

    score = score_merges(small_corpus.truth, merge_groups)

    assert (score.precision, score.recall) == (1.0, 1.0)
    assert score.mergeable_pairs > 0
