"""The review queue a person works through."""

from __future__ import annotations

import csv

from target_podium_merge import review


def test_the_csv_marks_the_primary_that_dedup_plan_proposed(tmp_path):
    # From the new-user trial: every row said proposed_primary False, because
    # dedup-plan names the field proposed_primary_uid.
    item = {
        "cluster_id": "c1",
        "reason": "name_conflict",
        "proposed_primary_uid": "b",
        "members": [
            {"uid": "a", "name": "Ada Quill", "updated_at": "2026-01-01T00:00:00Z"},
            {"uid": "b", "name": "Ben Quill", "field_count": 4},
        ],
    }

    review.write_queue(tmp_path, [item])

    with open(tmp_path / review.REVIEW_CSV, encoding="utf-8") as handle:
        rows = {row["uid"]: row for row in csv.DictReader(handle)}
    assert rows["b"]["proposed_primary"] == "True"
    assert rows["a"]["proposed_primary"] == "False"
    assert rows["a"]["updated_at"] == "2026-01-01T00:00:00Z"
    assert rows["b"]["field_count"] == "4"
    assert (tmp_path / review.REVIEW_CSV).stat().st_mode & 0o777 == 0o600
