"""Measurement 6: the whole pipeline on the demo corpus, process by process.

The demo corpus (scripts/demo.py's size and seed) is served by the emulator
with the demo's budget; tap-podium | dedup-plan | target-podium-merge (writes
on) run as one pipe, so the kernel reports each plugin process's own wall
time, CPU time and peak memory. Meltano is left out on purpose: it would add
its own start-up to the figures without changing any plugin's. The emulator's
peak memory is sampled. When `make demo` has left output/summary.json, its
headline figures are copied beside these for reference.
"""

from __future__ import annotations

import json
import sys
import threading

import corpus
import harness
import psutil
import report
import tap_bench

DEMO_DEFAULTS = {
    "CONTACTS": 20_000,
    "SEED": 20240601,
    "RATE_LIMIT": 3000,
    "RATE_WINDOW_SECONDS": 5,
    "MERGE_DELAY_SECONDS": 0.05,
}
E2E_DIR = harness.WORK_DIR / "e2e"


def demo_parameters() -> dict:
    """Return the demo's corpus size, seed and budget (scripts/demo.py's)."""
    sys.path.insert(0, str(harness.REPO_DIR / "scripts"))
    try:
        import demo
    except ImportError:
        return dict(DEMO_DEFAULTS)
    finally:
        sys.path.pop(0)
    return {name: getattr(demo, name, value) for name, value in DEMO_DEFAULTS.items()}


class PeakMemory:
    """Sample a process tree's resident memory in a thread, keeping the peak."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid, self.every_s, self.peak_mib = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                process = psutil.Process(self.pid)
                tree = [process, *process.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree)
            except psutil.Error:
                return
            self.peak_mib = max(self.peak_mib, rss / 2**20)


def emulator_pid(emulator) -> int | None:
    """Return the pid of the emulator's server process, if it can be found."""
    process = getattr(emulator, "process", None)
    if process is not None:
        return process.pid
    for child in psutil.Process().children(recursive=True):
        if "podium-emulator" in " ".join(child.cmdline()):
            return child.pid
    return None


def argvs(emulator, params: dict) -> list[list[str]]:
    """Return the three plugin command lines, each with its own config."""
    per_minute = int(params["RATE_LIMIT"] * 60 / params["RATE_WINDOW_SECONDS"] * 0.9)
    tap = corpus.tap_config(
        emulator, E2E_DIR / "tap.json", requests_per_minute=per_minute
    )
    mapper = corpus.write_json(
        E2E_DIR / "dedup-plan.json",
        {
            "index_db": str(E2E_DIR / "index.db"),
            "merge_state_db": str(E2E_DIR / "state.db"),
        },
    )
    target = corpus.write_json(
        E2E_DIR / "target.json",
        {
            "api_url": emulator.api_url,
            "oauth_url": emulator.oauth_url,
            **emulator.credentials,
            "dry_run": False,
            "state_db": str(E2E_DIR / "state.db"),
            "output_dir": str(E2E_DIR / "output"),
            "requests_per_minute": per_minute,
        },
    )
    return [
        tap_bench.tap_argv(tap),
        [harness.command("dedup-plan"), "--config", str(mapper)],
        [harness.command("target-podium-merge"), "--config", str(target)],
    ]


def measure(settings) -> dict:
    """Run the pipeline once on the demo corpus and record each process."""
    import dedup_plan.mapper  # noqa: F401 - not run until every part imports
    import tap_podium.tap  # noqa: F401
    import target_podium_merge.target  # noqa: F401
    from podium_emulator.testing import run_emulator

    params = demo_parameters()
    contacts = 2_000 if settings.quick else params["CONTACTS"]
    folder = corpus.folder(contacts, params["SEED"])
    names = ["e2e-tap-podium", "e2e-dedup-plan", "e2e-target-podium-merge"]
    with run_emulator(
        corpus=folder,
        rate_limit=params["RATE_LIMIT"],
        rate_window=params["RATE_WINDOW_SECONDS"],
    ) as emulator:
        harness.fresh_folder(E2E_DIR)
        with PeakMemory(emulator_pid(emulator) or 0) as emulator_memory:
            runs = harness.run_pipeline(
                names, argvs(emulator, params), stdout_path=E2E_DIR / "state.out"
            )
        requests = [
            r for r in emulator.control.requests() if r["path"].startswith("/v4")
        ]
    return e2e_result(contacts, params, runs, emulator_memory.peak_mib, len(requests))


def demo_summary() -> dict | None:
    """Return the headline figures of the last `make demo`, if it left any."""
    path = harness.REPO_DIR / "output" / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    keys = (
        "wall_seconds",
        "demo_wall_seconds",
        "contacts_read",
        "precision",
        "recall",
        "api_calls",
        "http_429",
        "auto_merged_clusters",
    )
    return {key: summary.get(key) for key in keys if key in summary}


def e2e_result(contacts, params, runs, emulator_mib, requests) -> dict:
    """Return per-process figures and the pipeline's wall time.

    A process's wall time is from the start of the pipe to its exit, so the
    upstream ones include the time they waited for the target to read.
    """
    wall = max(r.wall_s for r in runs)
    processes = {r.name.removeprefix("e2e-"): r.as_dict() for r in runs}
    budget = params["RATE_LIMIT"] / params["RATE_WINDOW_SECONDS"]
    return {
        "status": "ok",
        "contacts": contacts,
        "seed": params["SEED"],
        "budget": {
            "requests": params["RATE_LIMIT"],
            "window_seconds": params["RATE_WINDOW_SECONDS"],
        },
        "emulator_merge_delay_s": params["MERGE_DELAY_SECONDS"],
        "pipeline_wall_s": round(wall, 2),
        "processes": processes,
        "emulator_peak_rss_mib": round(emulator_mib, 1),
        "api_requests": requests,
        "api_requests_per_second": round(requests / wall, 1),
        "fraction_of_budget": round(requests / wall / budget, 3),
        "demo_summary": demo_summary(),
        "rows": [
            report.row(
                f"End to end, demo corpus ({contacts:,} contacts)",
                f"{wall:.1f} s wall, {requests:,} API requests "
                f"({requests / wall:.0f}/s)",
                f"{requests / wall / budget:.2f} of the emulator budget "
                f"({budget:g}/s); emulator peak {emulator_mib:.0f} MiB",
            ),
            *(
                report.row(
                    f"End to end: {name}",
                    f"{p['cpu_s']:.1f} CPU-s, {p['peak_rss_mib']:.0f} MiB peak",
                    f"exited {p['wall_s']:.1f} s after the pipe started",
                )
                for name, p in processes.items()
            ),
        ],
    }
