"""The whole pipeline under real `meltano run`, against a local podium-emulator.

Every outcome is read back from the emulator (snapshot and request log) and
scored against the generator's ground truth, never taken from the pipeline's
own counters.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import psutil
import pytest
import summary as scoring

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APPLY_STATE_ID = "ci:tap-podium-to-target-podium-merge"
KILL_AFTER_MERGES = 5
KILL_WAIT_SECONDS = 120


def corpus_of(emulator):
    """Return the corpus the emulator started with: contacts and truth."""
    folder = emulator.corpus_dir
    return (
        scoring.read_jsonl(folder / "contacts.jsonl"),
        scoring.read_jsonl(folder / "truth.jsonl"),
    )


def merge_calls(requests):
    """Return the accepted merge calls of a request log."""
    return [r for r in requests if scoring.is_merge_call(r) and r["status"] == 202]


def writes(requests):
    """Return the requests of a log that asked Podium to change something."""
    return [r for r in requests if scoring.is_write(r)]


def merged_duplicates(requests):
    """Count how many accepted merges named each duplicate uid."""
    return Counter(
        uid for call in merge_calls(requests) for uid in call["body"]["duplicateUids"]
    )


def assert_outcome_is_right(emulator):
    """Check the emulator's final state against the truth, as the issue asks."""
    corpus, truth = corpus_of(emulator)
    snapshot = emulator.control.snapshot()
    precision, recall = scoring.precision_recall(truth, snapshot)
    opt_outs = scoring.opt_out_figures(truth, corpus, snapshot)
    lost = scoring.field_value_figures(truth, snapshot)
    assert (precision, opt_outs["opt_outs_preserved"], lost["field_values_lost"]) == (
        1.0,
        opt_outs["opt_outs_expected"],
        0,
    ), f"recall={recall} lost={lost['field_values_lost_examples']}"
    assert recall >= 0.9
    assert emulator.control.purged() == []


def first_list_filter(requests):
    """Return the `updated_at` the first contact-list request sent, or None."""
    pages = [r for r in requests if scoring.request_path(r) == "/v4/contacts"]
    return scoring._first_filter(pages)


def test_a_full_run_merges_the_duplicates_and_keeps_every_opt_out(pipeline, emulator):
    pipeline.run("dedup-apply")

    assert_outcome_is_right(emulator)
    assert max(merged_duplicates(emulator.control.requests()).values()) == 1
    assert (pipeline.output_dir / "review-queue.json").exists()


def test_a_rerun_reads_only_changed_contacts_and_repeats_no_merge(pipeline, emulator):
    pipeline.run("dedup-apply")
    emulator.control.clear_requests()
    before = emulator.control.snapshot()

    pipeline.run("dedup-apply")

    requests = emulator.control.requests()
    read = scoring.contacts_read(scoring.RunLog("rerun", requests, before, 0.0))
    assert first_list_filter(requests) is not None
    assert read < len(before) / 5
    assert merge_calls(requests) == []


def test_an_operator_edit_between_runs_is_read_and_planned(pipeline, emulator):
    _, truth = corpus_of(emulator)
    pipeline.run("dedup-apply")
    first, second = name_conflict_pair(truth, emulator.control.snapshot())
    emulator.control.edit(second["uid"], name=first["name"])
    emulator.control.clear_requests()

    pipeline.run("dedup-apply")

    ends = scoring.survivors(emulator.control.snapshot())
    assert ends[first["uid"]] == ends[second["uid"]]
    assert len(merge_calls(emulator.control.requests())) == 1


def name_conflict_pair(truth, snapshot):
    """Find two live contacts of one location held apart only by their names."""
    by_uid = {contact["uid"]: contact for contact in snapshot}
    for group in scoring.truth_groups(truth, "review"):
        members = [by_uid[uid] for uid in group["uids"]]
        editable = _share_location(members) and not _any_opt_out(members)
        if group["reason"] == "name_conflict" and len(members) == 2 and editable:
            return members
    pytest.fail("the e2e corpus has no two-member name_conflict group to edit")


def _share_location(members):
    """Tell whether every member shares at least one location."""
    sets = [{loc["uid"] for loc in m.get("locations") or []} for m in members]
    return bool(set.intersection(*sets))


def _any_opt_out(members):
    """Tell whether any member carries an opt-out (a consent rule could apply)."""
    return any(scoring.opt_outs(member) for member in members)


def test_a_target_killed_mid_apply_resumes_without_repeating(pipeline, emulator):
    """Also case R31: the killed run fails loudly and saves no final bookmark."""
    corpus, _ = corpus_of(emulator)
    run = pipeline.start("dedup-apply")
    kill_target_after_merges(run, emulator, KILL_AFTER_MERGES)
    assert run.wait(timeout=KILL_WAIT_SECONDS) != 0
    newest = max(contact["updatedAt"] for contact in corpus)
    assert saved_bookmark(pipeline) != newest

    pipeline.run("dedup-apply")

    assert_outcome_is_right(emulator)
    assert max(merged_duplicates(emulator.control.requests()).values()) == 1


def saved_bookmark(pipeline):
    """Return the contacts bookmark Meltano saved for the apply, or None."""
    result = pipeline.meltano("state", "get", APPLY_STATE_ID)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    state = json.loads(result.stdout).get("singer_state", {})
    bookmarks = state.get("bookmarks", {})
    return bookmarks.get("contacts", {}).get("replication_key_value")


def kill_target_after_merges(run, emulator, merges):
    """SIGKILL the target process once the emulator has accepted some merges."""
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while time.monotonic() < deadline and run.poll() is None:
        if len(merge_calls(emulator.control.requests())) >= merges:
            target = find_child(run.pid, "target-podium-merge")
            if target is not None:
                target.send_signal(signal.SIGKILL)
                return
        time.sleep(0.2)
    pytest.fail(f"the run never reached {merges} merges (exit code {run.poll()})")


def find_child(pid, name):
    """Find a descendant process whose command line mentions a name."""
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if any(name in part for part in child.cmdline()):
                return child
        except psutil.NoSuchProcess:
            continue
    return None


def test_a_lost_index_stops_the_run_and_a_full_refresh_recovers(pipeline, emulator):
    pipeline.run("dedup-apply")
    pipeline.index_db.unlink()
    emulator.control.clear_requests()

    stopped = pipeline.meltano("run", "dedup-apply")
    assert stopped.returncode != 0
    assert "full-refresh" in pipeline.tail(stopped, 400)
    assert writes(emulator.control.requests()) == []

    pipeline.run("dedup-apply", "--full-refresh")
    assert_outcome_is_right(emulator)
    assert max(merged_duplicates(emulator.control.requests()).values(), default=0) <= 1


def test_a_dry_run_sends_no_write_and_records_the_calls(pipeline, emulator):
    before = emulator.control.snapshot()

    pipeline.run("dedup")

    assert writes(emulator.control.requests()) == []
    assert emulator.control.snapshot() == before
    calls = (pipeline.dry_run_output_dir / "dry-run-calls.jsonl").read_text()
    planned = [json.loads(line) for line in calls.splitlines() if line.strip()]
    assert any("/merge" in json.dumps(call) for call in planned)


def test_a_dry_run_leaves_the_apply_a_full_first_run(pipeline, emulator):
    pipeline.run("dedup")
    emulator.control.clear_requests()

    pipeline.run("dedup-apply")

    assert first_list_filter(emulator.control.requests()) is None
    assert_outcome_is_right(emulator)


def test_a_tap_crash_keeps_the_last_good_bookmark(pipeline, emulator):
    """Case R30: a failed extract must not overwrite a good bookmark."""
    pipeline.run("dedup-apply")
    good = saved_state(pipeline)
    emulator.control.fault("GET", "/v4/contacts", status=400, count=1000)

    failed = pipeline.meltano("run", "dedup-apply")

    assert failed.returncode != 0
    assert saved_state(pipeline) == good
    assert good["singer_state"]["bookmarks"]["contacts"]["replication_key_value"]


def saved_state(pipeline):
    """Return the whole state Meltano saved for the apply."""
    result = pipeline.meltano("state", "get", APPLY_STATE_ID)
    assert result.returncode == 0, pipeline.tail(result)
    return json.loads(result.stdout)
