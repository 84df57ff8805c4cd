"""Precision and recall of auto-merges against the ground truth.

Counted over unordered pairs of contact uids (docs/contracts.md section 3): an
auto-merged pair is two members of one merge plan; a mergeable pair is two
uids of one `merge` group of the truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

Pair = tuple[str, str]


@dataclass(frozen=True)
class Score:
    """Pair counts and the two rates (1.0 when there is nothing to count)."""

    merged_pairs: int
    mergeable_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Share of auto-merged pairs that the truth calls mergeable."""
        return self.correct_pairs / self.merged_pairs if self.merged_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of mergeable pairs that were auto-merged."""
        return (
            self.correct_pairs / self.mergeable_pairs if self.mergeable_pairs else 1.0
        )


def pairs_of(clusters: Iterable[Iterable[str]]) -> set[Pair]:
    """Every unordered pair of uids inside each cluster."""
    return {pair for uids in clusters for pair in combinations(sorted(set(uids)), 2)}


def mergeable_pairs(truth: Iterable[dict]) -> set[Pair]:
    """The pairs of every `merge` group of the truth."""
    merge_groups = (
        row["uids"]
        for row in truth
        if row.get("kind") == "group" and row.get("outcome") == "merge"
    )
    return pairs_of(merge_groups)


def score_merges(
    truth: Iterable[dict], merged_clusters: Iterable[Iterable[str]]
) -> Score:
    """Score clusters that were auto-merged (each: primary plus duplicates)."""
    merged = pairs_of(merged_clusters)
    mergeable = mergeable_pairs(truth)
    return Score(len(merged), len(mergeable), len(merged & mergeable))
