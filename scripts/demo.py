"""Run the main job end to end on a generated corpus, and score what it did.

Steps: generate a 20,000-contact corpus (AU and US locations, fixed seed), start
podium-emulator on a free 127.0.0.1 port, run `meltano run dedup` (dry run),
`meltano run dedup-apply`, and `meltano run dedup-apply` again, stop the
emulator, then score the result from the emulator's snapshot and request log
against the generator's ground truth (scripts/summary.py). Writes
`output/summary.json` and prints a table. Exits non-zero when a step fails.

The demo deletes and writes only its own files: `.state/demo/` (bookmarks,
index, merge state), `output/demo/` (the target's outputs, the emulator's log)
and `output/summary.json`. A real run's `output/` and `.meltano/dedup/` are
never touched.

The emulator runs with a larger request budget than Podium's 300 a minute, so
the demo fits in minutes; the budget is stated in the summary.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from podium_emulator.testing import Control

sys.path.insert(0, str(Path(__file__).resolve().parent))
import summary as scoring

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORPUS_DIR = ROOT / "demo-corpus"
WORK_DIR = ROOT / ".state" / "demo"
OUTPUT_DIR = ROOT / "output" / "demo"
SUMMARY_FILE = ROOT / "output" / "summary.json"
CORPUS_MARKER = CORPUS_DIR / "params.json"

CONTACTS = 20_000
SEED = 20240601
RATE_LIMIT = 3000
RATE_WINDOW_SECONDS = 5
MERGE_DELAY_SECONDS = 0.05
# Clusters the target applies at once: the run is bound by round trips, not CPU.
MAX_IN_FLIGHT = 16
# The plugins' own throttles stay under the emulator's budget.
CLIENT_REQUESTS_PER_MINUTE = int(RATE_LIMIT * 60 / RATE_WINDOW_SECONDS * 0.9)
STARTUP_TIMEOUT_SECONDS = 60
RUN_TIMEOUT_SECONDS = 480
JOBS = ("dedup", "dedup-apply", "dedup-apply")
# podium-emulator's published demo credentials (not secrets).
DEMO_CREDENTIALS = {
    "CLIENT_ID": "demo-client",
    "CLIENT_SECRET": "demo-secret",
    "REFRESH_TOKEN": "demo-refresh-token",
}
# Log lines too frequent to be progress: singer-sdk metrics, httpx per request.
QUIET_LINES = ("METRIC", "HTTP Request:")


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and what to do."""


@dataclass
class Emulator:
    """A running `podium-emulator serve` and the URL it bound."""

    process: subprocess.Popen
    base_url: str

    @property
    def port(self) -> int:
        """Return the TCP port the emulator listens on."""
        return httpx.URL(self.base_url).port or 80

    @functools.cached_property
    def control(self) -> Control:
        """Return a client of the emulator's control surface."""
        return Control(self.base_url.removesuffix("/v4"))


def say(message: str) -> None:
    """Print one progress line, flushed so it shows at once."""
    print(f"==> {message}", flush=True)


def generate_corpus() -> None:
    """Write the demo corpus, unless the very same one is already on disk."""
    if corpus_is_current():
        say(f"reusing the corpus in {CORPUS_DIR.name}/ ({CONTACTS} contacts)")
        return
    say(f"generating {CONTACTS} contacts (seed {SEED}) into {CORPUS_DIR.name}/")
    shutil.rmtree(CORPUS_DIR, ignore_errors=True)
    command = [str(BIN / "podium-emulator"), "generate", "--contacts", str(CONTACTS)]
    command += ["--seed", str(SEED), "--out", str(CORPUS_DIR)]
    run_checked(command, "generating the corpus")
    CORPUS_MARKER.write_text(json.dumps(corpus_fingerprint()))


def corpus_is_current() -> bool:
    """Tell whether the corpus folder holds exactly what the demo generated.

    The marker records the contacts file's digest, not only the parameters: a
    by-hand `podium-emulator generate --out demo-corpus` rewrites the contacts
    but leaves the marker, and the demo would then score the wrong corpus.
    """
    if not (CORPUS_MARKER.exists() and (CORPUS_DIR / "contacts.jsonl").exists()):
        return False
    try:
        recorded = json.loads(CORPUS_MARKER.read_text())
    except ValueError:
        return False
    return recorded == corpus_fingerprint()


def corpus_fingerprint() -> dict:
    """Return the demo's parameters and the digest and size of its contacts."""
    digest = hashlib.sha256()
    lines = 0
    with (CORPUS_DIR / "contacts.jsonl").open("rb") as contacts:
        for line in contacts:
            digest.update(line)
            lines += 1
    return {
        "contacts": CONTACTS,
        "seed": SEED,
        "contacts_in_file": lines,
        "contacts_sha256": digest.hexdigest(),
    }


def run_checked(command: list[str], step: str) -> None:
    """Run a short command, and raise DemoError if it fails."""
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoError(f"{step} failed ({result.returncode}): {result.stderr[-2000:]}")


@contextmanager
def emulator() -> Iterator[Emulator]:
    """Start podium-emulator on a free port, and stop it on the way out."""
    command = [str(BIN / "podium-emulator"), "serve", "--corpus", str(CORPUS_DIR)]
    command += ["--host", "127.0.0.1", "--port", "0"]
    command += ["--rate-limit", str(RATE_LIMIT)]
    command += ["--rate-window", str(RATE_WINDOW_SECONDS)]
    command += ["--merge-delay", str(MERGE_DELAY_SECONDS)]
    log = (OUTPUT_DIR / "emulator.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        yield Emulator(process, read_base_url(process, log))
    finally:
        stop(process)
        log.close()


def read_base_url(process: subprocess.Popen, log) -> str:
    """Read the URL the emulator prints on start, then drain its output to a log."""
    found: list[str] = []

    def scan() -> None:
        for line in process.stdout:
            log.write(line)
            log.flush()
            if not found and "http://127.0.0.1:" in line:
                found.append(line[line.index("http://") :].split()[0])

    threading.Thread(target=scan, daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not found and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if not found:
        log_name = (OUTPUT_DIR / "emulator.log").relative_to(ROOT)
        raise DemoError(f"podium-emulator printed no URL; see {log_name}")
    return found[0].rstrip("/")


def stop(process: subprocess.Popen) -> None:
    """Stop a child process: terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def pipeline_env(emu: Emulator) -> dict[str, str]:
    """Return the environment that points every plugin at the demo's files.

    The plugins' URLs and credentials are pinned here too: a setting's own
    environment variable (say TAP_PODIUM_API_URL, left in a shell from a real
    run) would otherwise win over the `dev` environment and leave 127.0.0.1.
    """
    return {
        **os.environ,
        "MELTANO_ENVIRONMENT": "dev",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_LOG_FORMAT": "uncolored",
        "MELTANO_STATE_BACKEND_URI": (WORK_DIR / "meltano-state").as_uri(),
        "PODIUM_EMULATOR_PORT": str(emu.port),
        **emulator_settings(emu),
        "TAP_PODIUM_REQUESTS_PER_MINUTE": str(CLIENT_REQUESTS_PER_MINUTE),
        "DEDUP_PLAN_INDEX_DB": str(WORK_DIR / "index.db"),
        "DEDUP_PLAN_MERGE_STATE_DB": str(WORK_DIR / "merge-state.db"),
        "TARGET_PODIUM_MERGE_STATE_DB": str(WORK_DIR / "merge-state.db"),
        "TARGET_PODIUM_MERGE_OUTPUT_DIR": str(OUTPUT_DIR),
        "TARGET_PODIUM_MERGE_REQUESTS_PER_MINUTE": str(CLIENT_REQUESTS_PER_MINUTE),
        "TARGET_PODIUM_MERGE_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "TARGET_PODIUM_MERGE__DRY_RUN_STATE_DB": str(WORK_DIR / "dry-run-state.db"),
        "TARGET_PODIUM_MERGE__DRY_RUN_OUTPUT_DIR": str(OUTPUT_DIR / "dry-run"),
    }


def emulator_settings(emu: Emulator) -> dict[str, str]:
    """Return every plugin's URL and credential variables, set to the emulator's."""
    values = {
        "API_URL": emu.base_url,
        "OAUTH_URL": emu.base_url.removesuffix("/v4") + "/oauth/token",
        **DEMO_CREDENTIALS,
    }
    prefixes = ("TAP_PODIUM", "TARGET_PODIUM_MERGE", "TARGET_PODIUM_MERGE__DRY_RUN")
    return {
        f"{prefix}_{key}": value for prefix in prefixes for key, value in values.items()
    }


def meltano_run(job: str, env: dict[str, str]) -> float:
    """Run one Meltano job, streaming its log lines; return its wall seconds."""
    started = time.monotonic()
    command = [str(BIN / "meltano"), "run", job]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    echo = threading.Thread(target=stream_lines, args=(process,), daemon=True)
    echo.start()
    try:
        code = process.wait(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        stop(process)
        message = f"`meltano run {job}` ran over {RUN_TIMEOUT_SECONDS} s"
        raise DemoError(message) from None
    echo.join(timeout=10)
    if code != 0:
        raise DemoError(f"`meltano run {job}` failed ({code}); its log is above")
    return time.monotonic() - started


def stream_lines(process: subprocess.Popen) -> None:
    """Echo a child's log lines, indented and trimmed, without per-request noise."""
    for line in process.stdout:
        if any(noise in line for noise in QUIET_LINES):
            continue
        print(f"    | {line.rstrip()[:160]}", flush=True)


def run_jobs(emu: Emulator) -> list[scoring.RunLog]:
    """Run the dry run and the two applies; record what the emulator saw."""
    env = pipeline_env(emu)
    runs: list[scoring.RunLog] = []
    for number, job in enumerate(JOBS, start=1):
        before = emu.control.snapshot()
        emu.control.clear_requests()
        say(f"step {number}/{len(JOBS)}: meltano run {job}")
        seconds = meltano_run(job, env)
        requests = emu.control.requests()
        runs.append(scoring.RunLog(job, requests, before, seconds))
        say(f"meltano run {job} done in {seconds:.0f} s, {len(requests)} requests")
    return runs


def fresh_workspace() -> None:
    """Empty the demo's own folders, so the demo can be rerun from scratch.

    Only `.state/demo/`, `output/demo/` and `output/summary.json`: `output/`
    itself is the real target's default output folder, and its audit log must
    survive a demo.
    """
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)
    SUMMARY_FILE.unlink(missing_ok=True)
    WORK_DIR.mkdir(parents=True)
    OUTPUT_DIR.mkdir(parents=True)


def main() -> int:
    """Run the demo and print its summary; return the process exit code."""
    started = time.monotonic()
    try:
        fresh_workspace()
        generate_corpus()
        with emulator() as emu:
            say(
                f"podium-emulator on {emu.base_url}, {RATE_LIMIT} requests "
                f"per {RATE_WINDOW_SECONDS} s"
            )
            runs = run_jobs(emu)
            final = emu.control.snapshot()
        say("emulator stopped; scoring the result against the ground truth")
        budget = {"requests": RATE_LIMIT, "window_seconds": RATE_WINDOW_SECONDS}
        result = scoring.build_summary(
            CORPUS_DIR, final, runs, OUTPUT_DIR / "review-queue.json", budget
        )
    except (DemoError, httpx.HTTPError, OSError) as error:
        say(f"demo failed: {error}")
        return 1
    result["demo_wall_seconds"] = round(time.monotonic() - started, 1)
    result["checks"] = scoring.done_checks(result)
    SUMMARY_FILE.write_text(json.dumps(result, indent=2) + "\n")
    print(scoring.format_table(result), flush=True)
    print(scoring.format_checks(result["checks"]), flush=True)
    outputs = OUTPUT_DIR.relative_to(ROOT)
    say(f"wrote {SUMMARY_FILE.relative_to(ROOT)}; the target's files are in {outputs}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
