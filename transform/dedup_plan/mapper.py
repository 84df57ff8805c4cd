"""dedup-plan: a Singer mapper that plans contact merges from a natural-key index.

Input streams pass through unchanged. `contacts` and `locations` records are
also upserted into the index; at the end of the pipe the SQL models build
`merge_plans` and `review_items`, and only then is the held STATE released,
carrying `bookmarks.dedup_plan` so the next run can recognise its index.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import typing as t
from concurrent.futures import Future, ProcessPoolExecutor

import orjson
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.singerlib import SchemaMessage, StateMessage

from dedup_plan import index_worker
from dedup_plan.index import ContactIndex
from dedup_plan.names import DEFAULT_PLACEHOLDER_NAMES
from dedup_plan.planner import PlanCounts, Planner
from dedup_plan.schemas import MERGE_PLANS_SCHEMA, REVIEW_ITEMS_SCHEMA
from dedup_plan.settings import DEFAULT_INDEX_DB, DEFAULT_MERGE_STATE_DB, PlanSettings
from dedup_plan.singer_io import BufferedWriter, LineKeepingReader, RawLine

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
MARKER = "dedup_plan"


class DedupPlanMapper(InlineMapper):
    """Keep the natural-key index and emit merge plans and review items."""

    name = "dedup-plan"
    # Stream maps and flattening would change the records this step indexes.
    capabilities: t.ClassVar = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    message_reader_class = LineKeepingReader
    message_writer_class = BufferedWriter

    config_jsonschema = th.PropertiesList(
        th.Property("index_db", th.StringType, default=DEFAULT_INDEX_DB),
        th.Property(
            "merge_state_db",
            th.StringType,
            default=DEFAULT_MERGE_STATE_DB,
            description="The target's state_db, read for merged_contacts.",
        ),
        th.Property("weight_shared_key", th.NumberType, default=0.60),
        th.Property("weight_same_name", th.NumberType, default=0.20),
        th.Property("weight_same_email", th.NumberType, default=0.15),
        th.Property("weight_shared_tag", th.NumberType, default=0.05),
        th.Property("merge_threshold", th.NumberType, default=0.80),
        th.Property("allow_cross_location", th.BooleanType, default=False),
        th.Property("max_contacts_per_key", th.IntegerType, default=5),
        th.Property(
            "placeholder_names",
            th.ArrayType(th.StringType),
            default=list(DEFAULT_PLACEHOLDER_NAMES),
            description="Names that mean 'no name' (empty and digits-only always do).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Read the settings; the index opens with the first message."""
        super().__init__(*args, **kwargs)
        self.settings = PlanSettings.from_config(self.config)
        self._index: ContactIndex | None = None
        self._contacts: list[str] = []
        self._locations: list[dict] = []
        self._held_state: dict | None = None
        self._incremental = False
        self._counts = {"contacts_seen": 0, "locations_seen": 0}
        self._worker: ProcessPoolExecutor | None = None
        self._pending_write: Future | None = None
        self._batches_written = 0

    @property
    def index(self) -> ContactIndex:
        """Return the index, opening it on first use."""
        if self._index is None:
            self._index = ContactIndex(
                self.settings.index_db, self.settings.placeholders
            )
        return self._index

    # Singer messages

    def map_schema_message(self, message_dict: dict) -> t.Iterable[t.Any]:
        """Pass a SCHEMA through unchanged."""
        return (self._raw_line(),)

    def map_record_message(self, message_dict: dict) -> t.Iterable[t.Any]:
        """Pass a RECORD through, indexing contacts and locations on the way."""
        # Called a million times: a tuple, not a generator, and no helpers.
        stream = message_dict["stream"]
        line = self.message_reader.last_line
        if stream == "contacts":
            self._contacts.append(line)
            if len(self._contacts) >= BATCH_SIZE:
                self._flush_batches()
        elif stream == "locations":
            self._add(self._locations, message_dict["record"])
        return (RawLine(line),)

    def map_state_message(self, message_dict: dict) -> t.Iterable[t.Any]:
        """Hold a STATE until the plans built from the records before it are out."""
        value = message_dict["value"]
        marker = (value.get("bookmarks") or {}).get(MARKER)
        if marker:
            self.index.check_marker(marker)
            self._incremental = True
        self._held_state = value
        return ()

    def map_activate_version_message(self, message_dict: dict) -> t.Iterable[t.Any]:
        """Pass an ACTIVATE_VERSION through unchanged."""
        return (self._raw_line(),)

    def process_endofpipe(self) -> None:
        """Plan from the index, emit the plans, then release the held STATE."""
        if not (self._contacts or self._locations or self._index or self._held_state):
            logger.info("No input received; nothing to plan")
            return
        self._flush_batches()
        self._stop_worker()
        self._mark_gone_if_full_sync()
        merged = self.index.load_merged_contacts(self.settings.merge_state_db)
        planner = Planner(self.index, self.settings)
        self._emit_plans(planner.plan(incremental=self._incremental))
        self._release_state()
        self._finish(planner.counts, merged)

    # Steps

    def _raw_line(self) -> RawLine:
        return RawLine(self.message_reader.last_line)

    def _add(self, batch: list[dict], record: dict) -> None:
        batch.append(record)
        if len(batch) >= BATCH_SIZE:
            self._flush_batches()

    def _flush_batches(self) -> None:
        if self._contacts:
            self._write_contact_lines(self._contacts)
            self._counts["contacts_seen"] += len(self._contacts)
            self._contacts = []
        if self._locations:
            self._wait_for_writes()
            self._counts["locations_seen"] += self.index.upsert_locations(
                self._locations
            )
            self._locations = []

    def _write_contact_lines(self, lines: list[str]) -> None:
        # The first batch is written here; a run with more starts one worker
        # process, so parsing and writing batch n overlaps reading batch n+1.
        self._wait_for_writes()
        if self._worker is None and not self._batches_written:
            self.index.write_contact_lines(lines)
        else:
            self._pending_write = self._start_worker().submit(
                index_worker.write_lines, lines
            )
        self._batches_written += 1

    def _start_worker(self) -> ProcessPoolExecutor:
        if self._worker is None:
            self._worker = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=index_worker.start,
                initargs=(
                    str(self.index.path),
                    self.index.placeholders,
                    self.index.run_id,
                    self.index.contacts_at_open,
                ),
            )
        return self._worker

    def _wait_for_writes(self) -> None:
        if self._pending_write is not None:
            _written, latest = self._pending_write.result()
            self.index.note_latest([latest])
            self._pending_write = None

    def _stop_worker(self) -> None:
        self._wait_for_writes()
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None

    def _mark_gone_if_full_sync(self) -> None:
        if self._incremental:
            return
        gone = self.index.mark_unseen_gone()
        logger.info("Full sync: %d contacts not seen this run marked gone", gone)

    def _emit_plans(self, records: t.Iterable[tuple[str, dict]]) -> None:
        # Both SCHEMAs first: records then stream out in cluster_id order.
        for stream, schema in (
            ("merge_plans", MERGE_PLANS_SCHEMA),
            ("review_items", REVIEW_ITEMS_SCHEMA),
        ):
            self.write_message(SchemaMessage(stream, schema, ["cluster_id"]))
        for stream, record in records:
            self.write_message(_record_line(stream, record))
        self.message_writer.flush()

    def _release_state(self) -> None:
        # No STATE leaves before one came in: an empty STATE could overwrite
        # a good bookmark in Meltano when the tap fails later.
        if self._held_state is None:
            return
        value = copy.deepcopy(self._held_state)
        value.setdefault("bookmarks", {})[MARKER] = self.index.marker().as_bookmark()
        self.write_message(StateMessage(value=value))
        self.message_writer.flush()

    def _finish(self, plans: PlanCounts, merged: int) -> None:
        counts = {
            **self._counts,
            "merge_plans": plans.merge_plans,
            "review_items": plans.review_items,
        }
        mode = "incremental" if self._incremental else "full"
        self.index.finish_run(mode, counts)
        logger.info(
            "Run %d (%s): %d contacts and %d locations indexed, %d merged away "
            "per merge state, %d merge plans, %d review items",
            self.index.run_id,
            mode,
            counts["contacts_seen"],
            counts["locations_seen"],
            merged,
            counts["merge_plans"],
            counts["review_items"],
        )
        self.index.close()


def _record_line(stream: str, record: dict) -> RawLine:
    # orjson writes a record about ten times faster than the SDK's encoder,
    # and in a fixed key order, so the same plans give the same bytes.
    message = {"type": "RECORD", "stream": stream, "record": record}
    return RawLine(orjson.dumps(message).decode())
