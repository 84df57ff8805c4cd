"""Measurement 2: tap-podium's CPU cost per contact against a bare httpx loop.

The emulator serves the same generated corpus to both clients with its rate
limit far above what they can send. Each client runs as a child process with
its output to the null device; its CPU seconds come from the kernel for that
child only, so the emulator's own speed masks neither side. One untimed run of
each, written to a file, warms caches and proves both read every contact.
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import corpus
import harness
import report

GOAL = 0.7
UNLIMITED = 1_000_000_000


def tap_argv(config) -> list[str]:
    """Return the tap's command line for a config file."""
    return [harness.command("tap-podium"), "--config", str(config)]


def baseline_argv(emulator) -> list[str]:
    """Return the bare httpx loop's command line against the emulator."""
    creds = emulator.credentials
    return [
        sys.executable,
        str(harness.BENCH_DIR / "baseline_tap.py"),
        emulator.api_url,
        emulator.oauth_url,
        creds["client_id"],
        creds["client_secret"],
        creds["refresh_token"],
    ]


def count_contacts(path, stream_field: str) -> int:
    """Count the contact records a warm-up run wrote (Singer or plain lines)."""
    count = 0
    with open(path) as lines:
        for line in lines:
            if stream_field == "singer":
                message = json.loads(line)
                is_contact = (
                    message.get("type") == "RECORD" and message["stream"] == "contacts"
                )
                count += is_contact
            else:
                count += 1
    return count


def warm_up(argvs: dict[str, list[str]], expected: int) -> None:
    """Run each client once to a file and check it read every contact."""
    for name, argv in argvs.items():
        out = harness.WORK_DIR / "tap" / f"{name}-warm-up.out"
        out.parent.mkdir(parents=True, exist_ok=True)
        harness.run_measured(f"{name}-warm-up", argv, stdout_path=out)
        got = count_contacts(out, "singer" if name == "tap-podium" else "lines")
        os.remove(out)
        if got != expected:
            raise harness.BenchError(
                f"{name} wrote {got} contacts of the {expected} the emulator serves; "
                f"see {harness.log_path(name + '-warm-up')}"
            )


def measure(settings) -> dict:
    """Time the tap and the baseline, interleaved, and return rates and ratio."""
    import tap_podium.tap  # noqa: F401 - not run until the tap imports
    from podium_emulator.testing import run_emulator

    data = corpus.generated(settings.tap_contacts, settings.seed)
    contacts = len(corpus.live_contacts(data))
    with run_emulator(corpus=data, rate_limit=UNLIMITED, rate_window=60) as emulator:
        config = corpus.tap_config(emulator, harness.WORK_DIR / "tap" / "config.json")
        argvs = {
            "tap-podium": tap_argv(config),
            "baseline-tap": baseline_argv(emulator),
        }
        warm_up(argvs, contacts)
        runs = {name: [] for name in argvs}
        for i in range(settings.runs):
            for name, argv in argvs.items():
                runs[name].append(harness.run_measured(f"{name}-{i}", argv))
    start_up = harness.start_up("tap-podium", [harness.command("tap-podium")], 3)
    return result(contacts, runs, start_up)


def rate(contacts: int, runs: list, field: str) -> dict:
    """Return contacts per second of the given time field over the runs."""
    return harness.summarize([contacts / getattr(r, field) for r in runs], digits=0)


def result(contacts: int, runs: dict[str, list], start_up: dict) -> dict:
    """Return contacts per CPU-second and per wall-second of each side."""
    per_cpu = {
        n: harness.summarize([contacts / r.cpu_s for r in rs], 0)
        for n, rs in runs.items()
    }
    per_wall = {
        n: harness.summarize([contacts / r.wall_s for r in rs], 0)
        for n, rs in runs.items()
    }
    tap, base = per_cpu["tap-podium"]["median"], per_cpu["baseline-tap"]["median"]
    cpu_ratio = harness.ratio(tap, base)
    tap_cpu = statistics.median(r.cpu_s for r in runs["tap-podium"])
    return {
        "status": "ok",
        "contacts": contacts,
        "contacts_per_cpu_second": per_cpu,
        "contacts_per_wall_second": per_wall,
        "cpu_ratio_to_baseline": cpu_ratio,
        "wall_ratio_to_baseline": harness.ratio(
            per_wall["tap-podium"]["median"], per_wall["baseline-tap"]["median"]
        ),
        "peak_rss_mib": {n: max(r.peak_rss_mib for r in rs) for n, rs in runs.items()},
        "tap_start_up_cpu_s": start_up,
        "tap_contacts_per_cpu_second_after_start_up": round(
            contacts / (tap_cpu - start_up["median"]), 0
        ),
        "runs": {n: [r.as_dict() for r in rs] for n, rs in runs.items()},
        "goal": f"tap >= {GOAL} x baseline contacts per CPU-second",
        "goal_met": cpu_ratio is not None and cpu_ratio >= GOAL,
        "rows": [
            report.row(
                f"Tap, {contacts:,} contacts (CPU)",
                f"{tap:,.0f} contacts per CPU-second",
                f"{cpu_ratio} x bare httpx loop ({base:,.0f}/CPU-s)",
                f">= {GOAL}",
                cpu_ratio is not None and cpu_ratio >= GOAL,
            ),
            report.row(
                "Tap start-up (`tap-podium --about`)",
                f"{start_up['median']:.2f} CPU-s per run",
                f"{contacts / (tap_cpu - start_up['median']):,.0f} contacts per "
                "CPU-second once started",
            ),
            report.row(
                "Tap (wall clock)",
                f"{per_wall['tap-podium']['median']:,.0f} contacts/s",
                f"bare loop {per_wall['baseline-tap']['median']:,.0f} contacts/s",
            ),
        ],
    }
