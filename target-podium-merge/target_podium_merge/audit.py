"""Append-only JSON-lines files that only the owner can read."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from target_podium_merge.state import utc_now

AUDIT_LOG = "audit-log.jsonl"
DRY_RUN_CALLS = "dry-run-calls.jsonl"


class JsonLines:
    """One JSON object per line, created with mode 0600, flushed per line."""

    def __init__(self, path: str | Path, *, fresh: bool = False) -> None:
        """Open the file for appending; `fresh` empties it first."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if fresh else 0)
        # The file holds personal data: create it owner-only, whatever the umask.
        fd = os.open(self.path, flags, 0o600)
        os.fchmod(fd, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, entry: dict) -> None:
        """Append one entry and push it to disk."""
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()


class AuditLog(JsonLines):
    """The audit log: one line per operation on a cluster."""

    def record(self, cluster_id: str, step: str, **details: object) -> None:
        """Append one operation of a cluster."""
        self.write({"at": utc_now(), "cluster_id": cluster_id, "step": step, **details})
