"""Test helpers for every package: a running emulator and a control client.

    from podium_emulator.testing import run_emulator, generate_corpus
    corpus = generate_corpus(contacts=2000, seed=7)
    with run_emulator(corpus=corpus, rate_limit=10_000, rate_window=1.0) as emu:
        emu.api_url, emu.oauth_url, emu.credentials
        emu.control.snapshot()

`run_emulator` starts `podium-emulator serve` in a subprocess on a free port of
127.0.0.1 and stops it on exit.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from podium_emulator.generate import Corpus, generate_corpus

__all__ = ["Control", "Corpus", "Emulator", "generate_corpus", "run_emulator"]

START_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0


class Control:
    """A client of the `/_emulator/` control surface."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url + "/_emulator", timeout=30.0)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def snapshot(self) -> list[dict]:
        """Every contact, soft-deleted ones included, with `deletedAt`, `mergedInto`."""
        return self._call("GET", "/snapshot")["contacts"]

    def purged(self) -> list[dict]:
        """Every hard purge the server has done (a pipeline should make none)."""
        return self._call("GET", "/snapshot")["purged"]

    def requests(self) -> list[dict]:
        """The request log: id, time, method, path, query, status, ms, write body."""
        return self._call("GET", "/requests")["requests"]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def fault(
        self,
        method: str,
        path: str,
        status: int,
        count: int = 1,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Fail the next `count` calls of a route (`*` wildcards allowed in path)."""
        body = {"method": method, "path": path, "status": status, "count": count}
        self._call("POST", "/faults", body | {"code": code, "retry_after": retry_after})

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._call("DELETE", "/faults")

    def settings(self, **changes: object) -> dict:
        """Change settings (rate_limit, random_5xx_rate, latency_ms, write_delay...)."""
        return self._call("POST", "/settings", changes)

    def edit(self, uid: str, **fields: object) -> dict:
        """Edit a contact as an operator would; bumps `updatedAt`."""
        return self._call("POST", f"/contacts/{uid}/edit", fields)

    def restore(self, uid: str) -> dict:
        """Undo a soft delete or a merge of one contact."""
        return self._call("POST", f"/contacts/{uid}/restore")

    def policy(self, **policies: str) -> dict:
        """Set tenant policies, e.g. `cross_location_merge="allow"`."""
        return self._call("POST", "/policy", policies)

    def expire_tokens(self) -> None:
        """Make every access token answer 401."""
        self._call("POST", "/expire_tokens")

    def expire_cursors(self) -> None:
        """Make every list cursor answer 400 `invalid_cursor`."""
        self._call("POST", "/expire_cursors")

    def load(self, corpus: Corpus | str | Path) -> int:
        """Replace the state with a corpus; returns the number of contacts."""
        if isinstance(corpus, Corpus):
            body = {"contacts": corpus.contacts, "locations": corpus.locations}
        else:
            body = {"corpus": str(corpus)}
        return self._call("POST", "/load", body)["contacts"]

    def reset(self) -> int:
        """Reload the start-up corpus and settings; forget faults and the log."""
        return self._call("POST", "/reset")["contacts"]

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()


@dataclass
class Emulator:
    """A running emulator: its URLs, credentials, control client and process."""

    base_url: str
    credentials: dict[str, str]
    control: Control
    process: subprocess.Popen
    corpus_dir: Path | None

    @property
    def api_url(self) -> str:
        """The Podium API base, `http://127.0.0.1:<port>/v4`."""
        return self.base_url + "/v4"

    @property
    def oauth_url(self) -> str:
        """The OAuth token URL."""
        return self.base_url + "/oauth/token"

    def access_token(self) -> str:
        """A fresh access token, for tests that call the API directly."""
        response = httpx.post(
            self.oauth_url, json={**self.credentials, "grant_type": "refresh_token"}
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def client(self) -> httpx.Client:
        """An httpx client on the API base with a fresh bearer token."""
        headers = {"authorization": f"Bearer {self.access_token()}"}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30.0)


@contextlib.contextmanager
def run_emulator(
    corpus: Corpus | str | Path | None = None, **options: object
) -> Iterator[Emulator]:
    """Serve the emulator in a subprocess for the duration of a `with` block.

    Args:
        corpus: a generated `Corpus`, a corpus folder, or None for an empty tenant.
        **options: `serve` flags by their Python names, e.g. `rate_limit=10_000`,
            `merge_delay=0`, `write_delay=0.5`, `client_id="x"`.
    """
    with tempfile.TemporaryDirectory(prefix="podium-emulator-") as scratch:
        folder = _corpus_folder(corpus, Path(scratch))
        process = _start(folder, options)
        try:
            emulator = _handle(_await_banner(process), process, folder, options)
            try:
                yield emulator
            finally:
                emulator.control.close()
        finally:
            _stop(process)


def _corpus_folder(corpus: Corpus | str | Path | None, scratch: Path) -> Path | None:
    if corpus is None:
        return None
    if isinstance(corpus, Corpus):
        corpus.write(scratch / "corpus")
        return scratch / "corpus"
    return Path(corpus)


def _start(folder: Path | None, options: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "podium_emulator.cli", "serve", "--port", "0"]
    if folder is not None:
        command += ["--corpus", str(folder)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", _flag_value(value)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _flag_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    return str(value)


def _await_banner(process: subprocess.Popen) -> str:
    """Read the start-up line and return the server's base URL.

    Raises:
        RuntimeError: when the server exits or stays silent for START_TIMEOUT.
    """
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: lines.put(process.stdout.readline()), daemon=True
    )
    reader.start()
    try:
        line = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        line = ""
    if not line.startswith("podium-emulator listening on "):
        _stop(process)
        raise RuntimeError(
            f"podium-emulator serve did not start (exit code {process.poll()}); "
            "run it by hand to see why."
        )
    return line.split()[3].removesuffix("/v4")


def _handle(base_url: str, process, folder, options: dict) -> Emulator:
    credentials = {
        "client_id": str(options.get("client_id", "demo-client")),
        "client_secret": str(options.get("client_secret", "demo-secret")),
        "refresh_token": str(options.get("refresh_token", "demo-refresh-token")),
    }
    return Emulator(base_url, credentials, Control(base_url), process, folder)


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server process and wait for it (kill it if it hangs)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    if process.stdout:
        process.stdout.close()
