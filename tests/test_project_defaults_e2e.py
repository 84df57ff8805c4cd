"""A plain `meltano run`, on the project's own defaults, wires the planner up.

Meltano 4.4.1 drops a mapper plugin's plugin-level `config:`, so the planner
finds its index and the target's merge state only through its own defaults
(`.meltano/dedup/...`). These tests run a copy of the project with no
DEDUP_PLAN_* variable and no path setting at all, and read the outcome from the
emulator and the files the run left, not from the pipeline's word alone.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
import summary as scoring

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The planner's one INFO line per run (dedup_plan.mapper).
PLANNER_REPORT = re.compile(
    r"Run \d+ \((?P<mode>\w+)\): .*?(?P<merged_away>\d+) merged away per merge "
    r"state, (?P<merge_plans>\d+) merge plans"
)


def planner_report(result) -> dict[str, str]:
    """Return the planner's end-of-run figures from a `meltano run` log."""
    found = PLANNER_REPORT.findall((result.stdout or "") + (result.stderr or ""))
    assert found, "the planner logged no end-of-run line"
    mode, merged_away, merge_plans = found[-1]
    return {"mode": mode, "merged_away": merged_away, "merge_plans": merge_plans}


def merged_away_in(snapshot) -> int:
    """Count the contacts the emulator shows merged into another."""
    return sum(1 for contact in snapshot if contact.get("mergedInto"))


def merged_contacts_in(state_db) -> int:
    """Count the rows of the merge state's `merged_contacts` table."""
    with sqlite3.connect(f"{state_db.as_uri()}?mode=ro", uri=True) as conn:
        return conn.execute("select count(*) from merged_contacts").fetchone()[0]


def test_the_index_and_merge_state_land_in_meltano_dedup(project_copy, emulator):
    project_copy.run("dedup-apply")

    dedup = project_copy.root / ".meltano" / "dedup"
    merged = merged_away_in(emulator.control.snapshot())
    assert (dedup / "index.db").is_file()
    assert merged > 0
    assert merged_contacts_in(dedup / "merge-state.db") == merged
    assert (project_copy.root / "output" / "audit-log.jsonl").is_file()


def test_a_second_plain_run_reads_the_merge_state_and_plans_no_merge_again(
    project_copy, emulator
):
    project_copy.run("dedup-apply")
    merged = merged_away_in(emulator.control.snapshot())
    emulator.control.clear_requests()

    second = project_copy.run("dedup-apply")

    requests = emulator.control.requests()
    assert planner_report(second) == {
        "mode": "incremental",
        "merged_away": str(merged),
        "merge_plans": "0",
    }
    assert [r for r in requests if scoring.is_merge_call(r)] == []
