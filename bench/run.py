"""`make bench`: measure speed, memory and API budget against same-run baselines.

Each measurement is a function of a Settings object that returns a JSON-ready
dict with a `status` ("ok", "not run: <why>" or "failed: <what>"). A part that
does not import yet is recorded as not run, never guessed. Results are written
after every measurement, so an interrupted run still leaves its figures.

Usage:
    python bench/run.py              # the full run (about 15 minutes)
    python bench/run.py --quick      # small sizes, for development
    python bench/run.py --only tap,plan_scale   # rerun some, keep the others
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_bench
import harness
import machine
import phones_bench
import plan_bench
import report
import tap_bench
import target_bench

LOGGER = logging.getLogger("bench")
RESULTS_JSON = harness.BENCH_DIR / "results.json"
RESULTS_MD = harness.BENCH_DIR / "results.md"

MEASUREMENTS = {
    "phone_normaliser": phones_bench.measure,
    "tap": tap_bench.measure,
    "plan_scale": plan_bench.measure_scale,
    "incremental_replan": plan_bench.measure_incremental,
    "target_api_calls": target_bench.measure_calls,
    "target_rate_budget": target_bench.measure_budget,
    "end_to_end": e2e_bench.measure,
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one bench run."""

    quick: bool
    runs: int
    phone_contacts: int
    tap_contacts: int
    plan_sizes: tuple[int, ...]
    incremental_size: int
    target_contacts: int
    budget_clusters: int
    seed: int = 7


FULL = Settings(
    quick=False,
    runs=3,
    phone_contacts=20_000,
    tap_contacts=20_000,
    plan_sizes=(10_000, 100_000, 1_000_000),
    incremental_size=1_000_000,
    target_contacts=5_000,
    budget_clusters=150,
)
QUICK = Settings(
    quick=True,
    runs=3,
    phone_contacts=2_000,
    tap_contacts=2_000,
    plan_sizes=(2_000, 10_000, 20_000),
    incremental_size=20_000,
    target_contacts=2_000,
    budget_clusters=60,
)


def measure_one(name: str, settings: Settings) -> dict:
    """Run one measurement; record an unready part or a failure, never raise."""
    started = time.perf_counter()
    try:
        result = MEASUREMENTS[name](settings)
    except ImportError as error:
        result = harness.not_run(f"a part does not import yet ({error})")
    except Exception as error:  # one failure must not stop the rest
        trace = harness.log_path(f"{name}.traceback")
        trace.write_text(traceback.format_exc())
        LOGGER.error("%s failed: %s (traceback in %s)", name, error, trace)
        result = {"status": f"failed: {error}"}
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["measured_at"] = machine.describe()["date"]
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    LOGGER.info("%s: %s in %.0f s", name, result["status"], result["seconds"])
    return result


def load_previous(path: Path) -> dict:
    """Return the measurements of an earlier results file (for --only)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text()).get("measurements", {})


def write_results(results: dict) -> None:
    """Write results.json and results.md (after every measurement)."""
    RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
    RESULTS_MD.write_text(report.markdown(results))


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {list(MEASUREMENTS)}"
    )
    parser.add_argument(
        "--plan-sizes",
        default="",
        help="override the dedup-plan sizes, e.g. 10000,100000",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen measurements and write the two results files."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # control calls are noise
    settings = QUICK if args.quick else FULL
    if args.plan_sizes:
        sizes = tuple(int(n) for n in args.plan_sizes.split(","))
        settings = dataclasses.replace(
            settings, plan_sizes=sizes, incremental_size=sizes[-1]
        )
    names = [n for n in args.only.split(",") if n] or list(MEASUREMENTS)
    unknown = set(names) - set(MEASUREMENTS)
    if unknown:
        LOGGER.error(
            "unknown measurement(s) %s; choose from %s", unknown, list(MEASUREMENTS)
        )
        return 2
    started = time.perf_counter()
    results = {
        "machine": machine.describe(),
        "mode": "quick" if settings.quick else "full",
        "settings": {k: v for k, v in vars(settings).items()},
        "measurements": load_previous(RESULTS_JSON) if args.only else {},
    }
    for name in names:
        results["measurements"][name] = measure_one(name, settings)
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        results["finished_at"] = datetime.datetime.now(datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        write_results(results)
    LOGGER.info("wrote %s and %s", RESULTS_JSON, RESULTS_MD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
