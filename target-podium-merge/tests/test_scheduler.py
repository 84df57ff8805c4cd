"""Clusters run in parallel, but never two that share a contact."""

from __future__ import annotations

import threading
import time

from target_podium_merge.scheduler import run_clusters


def plan(cluster_id: str, *uids: str) -> dict:
    return {
        "cluster_id": cluster_id,
        "primary_uid": uids[0],
        "duplicate_uids": list(uids[1:]),
        "members": [{"uid": u} for u in uids],
    }


class Recorder:
    """An apply function that notes which contacts are in flight together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy: list[str] = []
        self.overlaps = 0
        self.peak = 0
        self.running = 0

    def __call__(self, planned: dict) -> str:
        uids = [m["uid"] for m in planned["members"]]
        with self.lock:
            self.overlaps += len(set(uids) & set(self.busy))
            self.busy += uids
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            for uid in uids:
                self.busy.remove(uid)
            self.running -= 1
        return "verified"


def test_clusters_that_share_a_contact_are_never_in_flight_together():
    plans = [
        plan("a", "u1", "u2"),
        plan("b", "u2", "u3"),
        plan("c", "u3", "u4"),
        plan("d", "u5", "u6"),
        plan("a", "u1", "u2"),
    ]
    recorder = Recorder()

    outcomes = run_clusters(plans, recorder, max_in_flight=4)

    assert outcomes == {"verified": 5}
    assert recorder.overlaps == 0


def test_no_more_than_max_in_flight_clusters_run_at_once():
    plans = [plan(f"c{n}", f"p{n}", f"d{n}") for n in range(12)]
    recorder = Recorder()

    run_clusters(plans, recorder, max_in_flight=3)

    assert recorder.peak == 3


def test_a_stop_request_starts_no_new_cluster():
    stop = threading.Event()
    stop.set()
    recorder = Recorder()

    outcomes = run_clusters(
        [plan("a", "u1", "u2")], recorder, max_in_flight=2, stop=stop
    )

    assert outcomes == {}
