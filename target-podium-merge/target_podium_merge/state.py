"""Merge state in SQLite: one row per cluster, persisted before and after each call.

`merged_contacts` is shared with the SQL step (docs/contracts.md section 7): one
row per duplicate this target has merged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import os
import sqlite3
import threading
import typing as t
from pathlib import Path

import sqlite_utils

PROGRESS = ("pending", "checked", "merging", "merged", "consent_written", "verified")
OUTCOMES = ("conflict", "skipped", "review", "failed")
TERMINAL = frozenset({"verified", *OUTCOMES})
# Rows from runs before failures kept their progress as the state.
RESUMABLE_OUTCOMES = frozenset({"failed"})
# SQLite's companion files of a database in WAL mode.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def utc_now() -> str:
    """Return the time now, as Podium writes it (UTC, seconds, Z)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MergeState:
    """The durable record of every cluster this target has seen."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The rows hold members' pre-images (personal data): owner-only files,
        # including the -wal and -shm files SQLite creates on first use.
        with _owner_only_umask():
            connection = sqlite3.connect(
                str(self.path), check_same_thread=False, timeout=30
            )
            self._db = sqlite_utils.Database(connection)
            self._lock = threading.Lock()
            self._create_tables()
        restrict_to_owner(self.path)

    def _create_tables(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db["clusters"].create(
            {
                "cluster_id": str,
                "state": str,
                "progress": str,
                "plan": str,
                "pre_images": str,
                "reason": str,
                "attempts": int,
                "updated_at": str,
            },
            pk="cluster_id",
            if_not_exists=True,
        )
        self._db["operations"].create(
            {"cluster_id": str, "op_key": str, "done_at": str},
            pk=("cluster_id", "op_key"),
            if_not_exists=True,
        )
        self._db["merged_contacts"].create(
            {"uid": str, "merged_into": str, "cluster_id": str, "merged_at": str},
            pk="uid",
            if_not_exists=True,
        )
        self._db["review_items"].create(
            {"cluster_id": str, "reason": str, "item": str, "queued_at": str},
            pk="cluster_id",
            if_not_exists=True,
        )

    # Clusters

    def get(self, cluster_id: str) -> dict | None:
        """Return the cluster's row with its plan and pre-images decoded."""
        with self._lock:
            rows = list(self._db["clusters"].rows_where("cluster_id = ?", [cluster_id]))
        return _decode(rows[0]) if rows else None

    def start(self, plan: dict) -> dict:
        """Record a new plan as pending, keeping any earlier row; return the row."""
        row = {
            "cluster_id": plan["cluster_id"],
            "state": "pending",
            "progress": "pending",
            "plan": json.dumps(plan, default=_plain),
            "pre_images": None,
            "reason": None,
            "attempts": 0,
            "updated_at": utc_now(),
        }
        with self._lock, self._db.conn:
            self._db["clusters"].insert(row, ignore=True)
        return t.cast(dict, self.get(plan["cluster_id"]))

    def replan(self, plan: dict) -> None:
        """Replace a cluster's plan and start it over (after a conflict or review)."""
        with self._lock, self._db.conn:
            self._db["clusters"].update(
                plan["cluster_id"],
                {
                    "state": "pending",
                    "progress": "pending",
                    "plan": json.dumps(plan, default=_plain),
                    "pre_images": None,
                    "reason": None,
                    "updated_at": utc_now(),
                },
            )
            self._db["operations"].delete_where("cluster_id = ?", [plan["cluster_id"]])

    def advance(self, cluster_id: str, progress: str, **extra: t.Any) -> None:
        """Persist the cluster's progress (one of PROGRESS)."""
        self._update(cluster_id, {"state": progress, "progress": progress, **extra})

    def finish(self, cluster_id: str, outcome: str, reason: str) -> None:
        """Persist a terminal outcome, keeping the progress reached for a resume."""
        self._update(cluster_id, {"state": outcome, "reason": reason})

    def note_failure(self, cluster_id: str, reason: str) -> None:
        """Record why this run could not finish the cluster; its state stays.

        The state keeps the progress reached (never a terminal outcome), so the
        next run resumes the cluster first.
        """
        with self._lock, self._db.conn:
            self._db.execute(
                "UPDATE clusters SET state = progress, reason = ?, updated_at = ? "
                "WHERE cluster_id = ?",
                [f"failed: {reason}", utc_now(), cluster_id],
            )

    def count_attempt(self, cluster_id: str) -> None:
        """Count one more attempt at the cluster."""
        with self._lock, self._db.conn:
            self._db.execute(
                "UPDATE clusters SET attempts = attempts + 1 WHERE cluster_id = ?",
                [cluster_id],
            )

    def resumable(self) -> list[dict]:
        """Return clusters an earlier run left unfinished or failed, oldest first."""
        states = [*PROGRESS[:-1], *RESUMABLE_OUTCOMES]
        marks = ", ".join("?" for _ in states)
        with self._lock:
            rows = list(
                self._db["clusters"].rows_where(
                    f"state IN ({marks})", states, order_by="updated_at, cluster_id"
                )
            )
        return [_decode(row) for row in rows]

    def _update(self, cluster_id: str, values: dict) -> None:
        values = {**values, "updated_at": utc_now()}
        if "pre_images" in values:
            values["pre_images"] = json.dumps(values["pre_images"])
        with self._lock, self._db.conn:
            self._db["clusters"].update(cluster_id, values)

    # Operations (each fill or consent write, done at most once)

    def is_done(self, cluster_id: str, op_key: str) -> bool:
        """Whether the write `op_key` of the cluster was already accepted."""
        with self._lock:
            return bool(
                list(
                    self._db["operations"].rows_where(
                        "cluster_id = ? AND op_key = ?", [cluster_id, op_key]
                    )
                )
            )

    def mark_done(self, cluster_id: str, op_key: str) -> None:
        """Record that Podium accepted the write `op_key`."""
        with self._lock, self._db.conn:
            self._db["operations"].insert(
                {"cluster_id": cluster_id, "op_key": op_key, "done_at": utc_now()},
                ignore=True,
            )

    def forget_operations(self, cluster_id: str) -> None:
        """Forget which writes were accepted, so they are checked and sent again."""
        with self._lock, self._db.conn:
            self._db["operations"].delete_where("cluster_id = ?", [cluster_id])

    # Merged contacts (read by the SQL step)

    def record_merged(self, cluster_id: str, primary_uid: str, uids: list[str]) -> None:
        """Record each duplicate merged into the primary."""
        rows = [
            {
                "uid": uid,
                "merged_into": primary_uid,
                "cluster_id": cluster_id,
                "merged_at": utc_now(),
            }
            for uid in uids
        ]
        with self._lock, self._db.conn:
            self._db["merged_contacts"].upsert_all(rows, pk="uid")

    def merged_into(self, uid: str) -> str | None:
        """Return the primary a contact was merged into by this target, if any."""
        with self._lock:
            rows = list(self._db["merged_contacts"].rows_where("uid = ?", [uid]))
        return rows[0]["merged_into"] if rows else None

    # Review items

    def queue_review(self, item: dict) -> None:
        """Add or replace one review item."""
        row = {
            "cluster_id": item["cluster_id"],
            "reason": item.get("reason"),
            "item": json.dumps(item, default=_plain),
            "queued_at": utc_now(),
        }
        with self._lock, self._db.conn:
            self._db["review_items"].upsert(row, pk="cluster_id")

    def review_items(self) -> list[dict]:
        """Return every review item, in the order they were queued."""
        with self._lock:
            rows = list(
                self._db["review_items"].rows_where(order_by="queued_at, cluster_id")
            )
        return [json.loads(row["item"]) for row in rows]

    def counts(self) -> dict[str, int]:
        """Return how many clusters are in each state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, count(*) FROM clusters GROUP BY state"
            ).fetchall()
        return dict(rows)


def restrict_to_owner(path: Path) -> None:
    """Make the database and its companion files readable by the owner only."""
    for candidate in (path, *(Path(f"{path}{s}") for s in COMPANION_SUFFIXES)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(candidate, 0o600)


@contextlib.contextmanager
def _owner_only_umask() -> t.Iterator[None]:
    # The umask is per process; this runs once at start, before any thread.
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _plain(value: object) -> object:
    """JSON for the values singer-sdk parses records into (Decimal, datetime)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    msg = f"cannot store a {type(value).__name__} in a plan; send JSON values"
    raise TypeError(msg)


def _decode(row: dict) -> dict:
    row = dict(row)
    row["plan"] = json.loads(row["plan"]) if row.get("plan") else None
    row["pre_images"] = json.loads(row["pre_images"]) if row.get("pre_images") else None
    return row
