"""The natural-key index: contacts, their keys and locations in SQLite.

The index outlives a run, so an incremental run can plan from the whole corpus.
Its `index_id` is written into every STATE the step forwards; a later run that
receives a STATE naming another index refuses to plan (see `check_marker`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import sqlite_utils

from dedup_plan.errors import IndexMismatchError
from dedup_plan.names import is_placeholder, normalise_name

logger = logging.getLogger(__name__)

CONTACT_COLUMNS = (
    "uid",
    "name_norm",
    "name_placeholder",
    "updated_at",
    "field_count",
    "seen_run",
    "gone",
    "detail",
)

_UPSERT_CONTACT = "insert or replace into contacts ({}) values ({})".format(
    ", ".join(CONTACT_COLUMNS), ", ".join("?" * len(CONTACT_COLUMNS))
)


@dataclass(frozen=True)
class ContactRows:
    """A batch of contacts turned into rows of `contacts` and `contact_keys`."""

    contacts: list[tuple]
    keys: list[tuple]


@dataclass(frozen=True)
class IndexMarker:
    """What the index writes into `bookmarks.dedup_plan` of a STATE."""

    index_id: str
    contacts: int

    def as_bookmark(self) -> dict:
        """Return the marker as the STATE carries it."""
        return {"index_id": self.index_id, "contacts": self.contacts}


class ContactIndex:
    """A natural-key index kept in one SQLite file through sqlite-utils."""

    def __init__(self, path: str | Path, placeholders: frozenset[str]) -> None:
        """Open (or create) the index file and start a run in it.

        Args:
            path: The SQLite file; its folder is created when missing.
            placeholders: Normalised placeholder names (setting
                `placeholder_names`).
        """
        self.path = Path(path)
        self.existed = self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(_connect_owner_only(self.path))
        self.conn: sqlite3.Connection = self.db.conn
        self.placeholders = placeholders
        self._configure()
        self._create_tables()
        self.index_id: str | None = self._index_id()
        self.contacts_at_open = self.contact_count()
        self.latest_seen: str | None = None
        self.run_id = self._begin_run()

    @classmethod
    def for_batches(
        cls,
        path: str | Path,
        placeholders: frozenset[str],
        run_id: int,
        contacts_at_open: int,
    ) -> ContactIndex:
        """Open an index that a run already started, only to write batches.

        Used by the worker process that writes contacts while the mapper
        reads the next lines; the run itself belongs to the opening process.
        """
        index = cls.__new__(cls)
        index.path = Path(path)
        index.existed = True
        index.db = sqlite_utils.Database(sqlite3.connect(index.path))
        index.conn = index.db.conn
        index.placeholders = placeholders
        index._configure()
        index.index_id = None
        index.contacts_at_open = contacts_at_open
        index.latest_seen = None
        index.run_id = run_id
        return index

    # Setup

    def _configure(self) -> None:
        self.conn.execute("pragma journal_mode=wal")
        self.conn.execute("pragma synchronous=normal")
        self.conn.execute("pragma temp_store=memory")
        self.conn.execute("pragma cache_size=-131072")

    def _create_tables(self) -> None:
        script = (Path(__file__).parent / "index_schema.sql").read_text()
        self.conn.executescript(script)

    def _index_id(self) -> str:
        row = self.conn.execute(
            "select value from meta where key = 'index_id'"
        ).fetchone()
        if row:
            return row[0]
        index_id = uuid.uuid4().hex
        with self.conn:
            self.conn.execute(
                "insert into meta (key, value) values ('index_id', ?)", (index_id,)
            )
        return index_id

    def _begin_run(self) -> int:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute("delete from touched_keys")
            cursor = self.conn.execute(
                "insert into plan_runs (started_at) values (?)", (started_at,)
            )
        return int(cursor.lastrowid)

    # Singer state

    def marker(self) -> IndexMarker:
        """Return the marker that names this index and its size now."""
        return IndexMarker(self.index_id, self.contact_count())

    def check_marker(self, bookmark: Mapping) -> None:
        """Refuse to continue an incremental run against the wrong index.

        The marker must name this file's `index_id`, and the index must hold at
        least as many contacts as when the marker was written (contacts are
        never deleted from the index, only marked gone).

        Raises:
            IndexMismatchError: The index is missing, replaced or older.
        """
        expected = bookmark.get("index_id")
        problem = self._marker_problem(expected, int(bookmark.get("contacts") or 0))
        if problem:
            raise IndexMismatchError(
                f"{problem} The STATE names index {expected}, but {self.path} "
                f"holds index {self.index_id} with {self.contacts_at_open} "
                "contacts; an incremental run would plan from a partial corpus. "
                "Run a full refresh (`meltano run --full-refresh dedup-apply` "
                "in this project, or `--full-refresh` on your own pipeline) or "
                "point `index_db` at the index file of the earlier runs."
            )

    def _marker_problem(self, expected: str | None, contacts: int) -> str | None:
        if not self.existed:
            return "The index file was missing at the start of this run."
        if expected != self.index_id:
            return "The index file was replaced."
        if self.contacts_at_open < contacts:
            return "The index file is older than the STATE."
        return None

    # Upserts

    def upsert_contacts(self, records: Sequence[Mapping]) -> int:
        """Upsert a batch of tap `contacts` records in one transaction.

        Returns:
            The number of contacts written.
        """
        return self.write_contact_rows(self.contact_rows(records))

    def write_contact_lines(self, lines: Sequence[str]) -> int:
        """Upsert a batch of raw Singer RECORD lines of the `contacts` stream.

        Returns:
            The number of contacts written.
        """
        return self.upsert_contacts([orjson.loads(line)["record"] for line in lines])

    def contact_rows(self, records: Sequence[Mapping]) -> ContactRows:
        """Turn a batch of `contacts` records into index rows (CPU only)."""
        return ContactRows(
            contacts=[self._contact_row(record) for record in records],
            keys=[key for record in records for key in _key_rows(record)],
        )

    def write_contact_rows(self, rows: ContactRows) -> int:
        """Write rows from `contact_rows` in one transaction.

        Returns:
            The number of contacts written.
        """
        uids = [(row[0],) for row in rows.contacts]
        with self.conn:
            if self.contacts_at_open:
                # Keys a contact held before this run may leave a cluster
                # behind; remember them so the incremental run re-plans it.
                self.conn.executemany(
                    "insert or ignore into touched_keys select natural_key"
                    " from contact_keys where uid = ?",
                    uids,
                )
            # A contact sent twice in one run must not keep its older keys.
            self.conn.executemany("delete from contact_keys where uid = ?", uids)
            self.conn.executemany(_UPSERT_CONTACT, rows.contacts)
            self.conn.executemany(
                "insert or ignore into contact_keys values (?, ?, ?)", rows.keys
            )
            self.conn.executemany(
                "insert or ignore into touched_keys values (?)",
                [(key[1],) for key in rows.keys],
            )
        self.note_latest(row[3] for row in rows.contacts)
        return len(uids)

    def upsert_locations(self, records: Sequence[Mapping]) -> int:
        """Upsert a batch of tap `locations` records in one transaction.

        Returns:
            The number of locations written.
        """
        rows = [(r["uid"], _location_name(r), self.run_id) for r in records]
        keys = [
            (record["uid"], key)
            for record in records
            for key in record.get("natural_keys") or ()
        ]
        with self.conn:
            self.conn.executemany(
                "delete from location_keys where location_uid = ?",
                [(row[0],) for row in rows],
            )
            self.conn.executemany(
                "insert or replace into locations values (?, ?, ?)", rows
            )
            self.conn.executemany(
                "insert or ignore into location_keys values (?, ?)", keys
            )
        return len(rows)

    def mark_unseen_gone(self) -> int:
        """Mark every contact this full sync did not see as gone.

        Returns:
            The number of contacts newly marked gone.
        """
        with self.conn:
            cursor = self.conn.execute(
                "update contacts set gone = 1 where seen_run <> ? and gone = 0",
                (self.run_id,),
            )
        return cursor.rowcount

    def load_merged_contacts(self, merge_state_db: str | None) -> int:
        """Copy the target's `merged_contacts` uids into this connection.

        Returns:
            The number of merged-away contacts the target reports.
        """
        uids = _read_merged_uids(merge_state_db)
        with self.conn:
            self.conn.execute("delete from merged_away")
            self.conn.executemany("insert or ignore into merged_away values (?)", uids)
        return len(uids)

    # Reading

    def contact_count(self) -> int:
        """Return how many contacts the index holds, gone ones included."""
        return self.conn.execute("select count(*) from contacts").fetchone()[0]

    def latest_updated_at(self) -> str | None:
        """Return the latest `updatedAt` ever indexed (the plans' clock).

        Kept in `meta` rather than scanned, so an incremental run does not
        read every contact; the same input on the same index gives the same
        value, which keeps plans byte-identical.
        """
        row = self.conn.execute(
            "select value from meta where key = 'latest_updated_at'"
        ).fetchone()
        stored = row[0] if row else None
        return max(filter(None, (stored, self.latest_seen)), default=None)

    def note_latest(self, updated_ats: Iterable[str | None]) -> None:
        """Remember the latest `updatedAt` written in this run."""
        latest = max(filter(None, updated_ats), default=None)
        if latest and (self.latest_seen is None or latest > self.latest_seen):
            self.latest_seen = latest

    def finish_run(self, mode: str, counts: Mapping[str, int]) -> None:
        """Record how the run went in `plan_runs`."""
        finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute(
                "update plan_runs set mode = ?, finished_at = ?, contacts_seen = ?,"
                " merge_plans = ?, review_items = ? where run_id = ?",
                (
                    mode,
                    finished_at,
                    counts.get("contacts_seen", 0),
                    counts.get("merge_plans", 0),
                    counts.get("review_items", 0),
                    self.run_id,
                ),
            )

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # Row building

    def _contact_row(self, record: Mapping) -> tuple:
        name = record.get("name")
        name_norm = normalise_name(name)
        return (
            record["uid"],
            name_norm,
            int(is_placeholder(name_norm, self.placeholders)),
            record.get("updatedAt"),
            int(record.get("field_count") or 0),
            self.run_id,
            0,
            _detail(record),
        )


def _detail(record: Mapping) -> str:
    """Return what the models read of a contact, as one JSON text."""
    consent = record.get("consent") or {}
    emails = [email for email in record.get("emails") or () if email]
    tags = [
        {"uid": tag.get("uid"), "label": tag.get("label")}
        for tag in record.get("tags") or ()
    ]
    detail = {
        "name": record.get("name"),
        "location_uids": _sorted(record.get("location_uids")),
        "emails": emails,
        "emails_folded": _sorted({email.casefold() for email in emails}),
        "tags": tags,
        "tag_labels": _sorted({str(t["label"]).casefold() for t in tags if t["label"]}),
        "address": record.get("address") or {},
        "e164s": _sorted({phone["e164"] for phone in _valid_phones(record)}),
        "consent": consent,
        "marketing_location_uids": _sorted(
            consent.get("marketing_opted_in_location_uids")
        ),
    }
    return orjson.dumps(detail, default=str, option=orjson.OPT_SORT_KEYS).decode()


def _sorted(values: Iterable[str] | None) -> list[str]:
    # Most lists hold zero or one value; skip the sort for those.
    if not values:
        return []
    listed = list(values)
    return listed if len(listed) == 1 else sorted(listed)


def _key_rows(record: Mapping) -> list[tuple[str, str, str | None]]:
    uid = record["uid"]
    natural_keys = record.get("natural_keys") or ()
    types: dict[str, str | None] = {}
    lines: list[str] = []
    for phone in record.get("phones") or ():
        key = phone.get("natural_key")
        types[key] = phone.get("number_type")
        # The tap leaves business lines out of natural_keys; index them anyway
        # so the contacts on one line reach review as shared_line instead of
        # never meeting (a business line never joins a cluster).
        if key and phone.get("reason") == "business_line":
            lines.append(key)
    keys = dict.fromkeys([*natural_keys, *lines]) if lines else natural_keys
    return [(uid, key, types.get(key)) for key in keys]


def _valid_phones(record: Mapping) -> list[Mapping]:
    return [
        phone
        for phone in record.get("phones") or ()
        if phone.get("valid")
        and phone.get("e164")
        and phone.get("reason") != "business_line"
    ]


def _location_name(record: Mapping) -> str | None:
    return record.get("name") or record.get("displayName")


def _connect_owner_only(path: Path) -> sqlite3.Connection:
    """Open the index so that only its owner can read it: it holds personal data."""
    previous = os.umask(0o077)
    try:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version")  # creates the file under this umask
    finally:
        os.umask(previous)
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            os.chmod(candidate, 0o600)
    return conn


def _read_merged_uids(merge_state_db: str | None) -> list[tuple[str]]:
    if not merge_state_db or not Path(merge_state_db).exists():
        logger.info("No merge state at %s; no contact counts as merged", merge_state_db)
        return []
    uri = f"{Path(merge_state_db).resolve().as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        try:
            return conn.execute("select uid from merged_contacts").fetchall()
        except sqlite3.OperationalError:
            logger.warning(
                "Merge state %s has no merged_contacts table yet; no contact "
                "counts as merged",
                merge_state_db,
            )
            return []
