"""Process measurement for the benchmarks: wall time, CPU time and peak memory.

Every product process and every baseline runs as a child process of the harness,
so that its own CPU seconds and peak resident memory come from the kernel
(`os.wait4`) and not from sampling. A watchdog kills a child that overruns its
time limit, so no benchmark can hang `make bench`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

LOGGER = logging.getLogger("bench")

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / "work"
LOG_DIR = WORK_DIR / "logs"
VENV_BIN = Path(sys.executable).parent
GNU_TIME = Path("/usr/bin/time")


class BenchError(RuntimeError):
    """A measured process failed; the message names the process and its log."""


@dataclass
class ProcessRun:
    """What one child process cost, as the kernel counted it."""

    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int

    def as_dict(self) -> dict:
        """Return the run as a JSON-ready dict, rounded for reading."""
        row = asdict(self)
        for field in ("wall_s", "cpu_s", "peak_rss_mib"):
            row[field] = round(row[field], 3)
        return row


def command(name: str) -> str:
    """Return the path of a console script of the shared virtual environment."""
    path = VENV_BIN / name
    return str(path) if path.exists() else name


def log_path(name: str) -> Path:
    """Return the stderr log file of a named process (its folder created)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR / f"{name}.log"


def wrapped(name: str, argv: Sequence[str]) -> list[str]:
    """Prefix a command with GNU time, which reports the child's own peak RSS.

    The kernel's ru_maxrss of a child started from this process never reads
    below this process's own size at the fork (Linux keeps the high-water mark
    across exec), so a small child would inherit the bench's memory. GNU time
    is a small parent whose child reports its true peak.
    """
    if not GNU_TIME.exists():
        return list(argv)
    rss_path(name).unlink(missing_ok=True)
    return [str(GNU_TIME), "-f", "%M", "-o", str(rss_path(name)), *argv]


def rss_path(name: str) -> Path:
    """Return the file where GNU time writes a process's peak RSS (KiB)."""
    return log_path(name).with_suffix(".maxrss")


def peak_rss_mib(name: str, fallback_kib: int) -> float:
    """Return the peak RSS GNU time recorded, else the kernel's (upper bound)."""
    path = rss_path(name)
    lines = path.read_text().split() if path.exists() else []
    kib = int(lines[-1]) if lines and lines[-1].isdigit() else fallback_kib
    return kib / 1024


def run_measured(
    name: str,
    argv: Sequence[str],
    *,
    stdin_path: Path | None = None,
    stdout_path: Path | str = os.devnull,
    env: dict | None = None,
    timeout_s: float = 600.0,
    check: bool = True,
) -> ProcessRun:
    """Run one child process to the end and return its wall, CPU and peak RSS.

    Args:
        name: a short name for logs and errors, e.g. ``dedup-plan-100k``.
        argv: the command line.
        stdin_path: a file fed to the child's stdin (default: nothing).
        stdout_path: where the child's stdout goes (default: the null device).
        env: extra environment variables.
        timeout_s: the child is killed after this many seconds.
        check: raise BenchError on a non-zero exit.
    """
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
    with contextlib.ExitStack() as stack:
        if stdin_path:
            stack.enter_context(stdin)
        stdout = stack.enter_context(open(stdout_path, "wb"))
        stderr = stack.enter_context(open(log_path(name), "wb"))
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped(name, argv),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, **(env or {})},
            cwd=REPO_DIR,
            start_new_session=True,  # the watchdog kills the whole group
        )
        run = _wait_measured(name, process, started, timeout_s)
    if check and run.returncode != 0:
        raise BenchError(
            f"{name} exited with {run.returncode}; see {log_path(name)} "
            f"for its stderr, then rerun with --only to retry this measurement"
        )
    LOGGER.info(
        "%s: %.2f s wall, %.2f s CPU, %.0f MiB peak",
        name,
        run.wall_s,
        run.cpu_s,
        run.peak_rss_mib,
    )
    return run


def _wait_measured(
    name: str, process: subprocess.Popen, started: float, timeout_s: float
) -> ProcessRun:
    """Reap the child with wait4 (its own rusage), killing it on overrun."""
    watchdog = threading.Timer(timeout_s, _kill_group, [process])
    watchdog.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessRun(
        name=name,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=peak_rss_mib(name, usage.ru_maxrss),  # Linux reports KiB
        returncode=process.returncode,
    )


def _kill_group(process: subprocess.Popen) -> None:
    """Kill a child that overran its time limit, with its own children."""
    LOGGER.error(
        "pid %s overran its time limit; killing its process group", process.pid
    )
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)


def run_pipeline(
    names: Sequence[str],
    argvs: Sequence[Sequence[str]],
    *,
    stdout_path: Path | str = os.devnull,
    env: dict | None = None,
    timeout_s: float = 900.0,
) -> list[ProcessRun]:
    """Run ``argv1 | argv2 | ...`` and return one ProcessRun per process."""
    started = time.perf_counter()
    processes: list[subprocess.Popen] = []
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open(stdout_path, "wb"))
        upstream = subprocess.DEVNULL
        for index, (name, argv) in enumerate(zip(names, argvs, strict=True)):
            last = index == len(argvs) - 1
            process = subprocess.Popen(
                wrapped(name, argv),
                stdin=upstream,
                stdout=sink if last else subprocess.PIPE,
                stderr=stack.enter_context(open(log_path(name), "wb")),
                env={**os.environ, **(env or {})},
                cwd=REPO_DIR,
                start_new_session=True,
            )
            if index:
                upstream.close()  # the next process owns the read end now
            upstream = process.stdout
            processes.append(process)
        runs = [
            _wait_measured(name, process, started, timeout_s)
            for name, process in zip(names, processes, strict=True)
        ]
    for run in runs:
        if run.returncode != 0:
            raise BenchError(
                f"{run.name} exited with {run.returncode} in the pipeline; "
                f"see {log_path(run.name)}"
            )
    return runs


def start_up(name: str, argv: Sequence[str], runs: int) -> dict:
    """Return the CPU seconds of a plugin that does nothing (``--about``).

    This is the fixed cost of importing the plugin and its SDK, paid once per
    run; at small sizes it dominates any per-contact figure.
    """
    return summarize(
        [
            run_measured(f"{name}-about-{i}", [*argv, "--about"]).cpu_s
            for i in range(runs)
        ]
    )


def summarize(values: Sequence[float], digits: int = 3) -> dict:
    """Return the median, min and max of repeated measurements, and the runs."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def repeat(times: int, measure: Callable[[int], float]) -> list[float]:
    """Call ``measure(i)`` for i in range(times) and collect what it returns."""
    return [measure(i) for i in range(times)]


def ratio(numerator: float, denominator: float, digits: int = 3) -> float | None:
    """Return numerator / denominator, or None when the denominator is zero."""
    return round(numerator / denominator, digits) if denominator else None


def fresh_folder(folder: Path) -> Path:
    """Empty a scratch folder (state, index, outputs of an earlier run)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def not_run(why: str) -> dict:
    """Return the record of a measurement that could not run, and why."""
    return {"status": f"not run: {why}"}
