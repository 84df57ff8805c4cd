"""target-podium-merge: apply merge plans to Podium, resumably and audibly."""

from __future__ import annotations

import collections
import decimal
import functools
import logging
import os
import sys
import threading
import time
import typing as t
from pathlib import Path

import httpx
from singer_sdk import typing as th
from singer_sdk.target_base import Target

from target_podium_merge import review
from target_podium_merge.apply import ApplySettings, ClusterApplier
from target_podium_merge.audit import AUDIT_LOG, DRY_RUN_CALLS, AuditLog, JsonLines
from target_podium_merge.client import Call, PodiumClient
from target_podium_merge.plans import DEFAULT_MERGE_THRESHOLD, review_key
from target_podium_merge.scheduler import run_clusters
from target_podium_merge.sinks import IgnoredSink, MergePlansSink, ReviewItemsSink
from target_podium_merge.state import MergeState
from target_podium_merge.throttle import Throttle

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.sinks import Sink

SINKS: dict[str, type[Sink]] = {
    "merge_plans": MergePlansSink,
    "review_items": ReviewItemsSink,
}
# Settings that count something and must be at least 1, with their defaults.
COUNTING_SETTINGS = {
    "max_in_flight": 4,
    "max_tries": 6,
    "requests_per_minute": 300,
    "checkpoint_every": 50,
}
RERUN_HINT = "rerun dedup-apply (dry_run false) to finish them"
# Shared with dedup-plan, whose merge_state_db defaults to the same file.
DEFAULT_STATE_DB = ".meltano/dedup/merge-state.db"


class SettingsError(ValueError):
    """A setting is out of range; the message names it and the allowed values."""


def check_settings(config: t.Mapping[str, t.Any]) -> None:
    """Refuse settings the SDK's schema check lets through, naming the setting."""
    for name, default in COUNTING_SETTINGS.items():
        value = config.get(name, default)
        if not _is_number(value) or value < 1:
            msg = f"setting {name} must be a number >= 1, got {value!r}; fix the config"
            raise SettingsError(msg)
    threshold = config.get("merge_threshold", DEFAULT_MERGE_THRESHOLD)
    if not _is_number(threshold):
        msg = f"setting merge_threshold must be a number, got {threshold!r}"
        raise SettingsError(msg)
    if not 0 <= threshold <= 1:
        msg = f"setting merge_threshold must be between 0 and 1, got {threshold!r}"
        raise SettingsError(msg)


def _is_number(value: object) -> bool:
    # singer-sdk may hand numbers over as Decimal; a bool is not a count.
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(
        value, bool
    )


class Engine:
    """What every sink shares: the client, the merge state and the applier."""

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        logger: logging.Logger,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self.logger = logger
        self.output_dir = Path(config["output_dir"])
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.state = MergeState(config["state_db"])
        self.audit = AuditLog(self.output_dir / AUDIT_LOG)
        self.dry_run_calls: collections.Counter = collections.Counter()
        # Clusters this run could not finish; while any, no STATE may leave.
        self.failed_clusters: set[str] = set()
        self._failed_lock = threading.Lock()
        # Opened here, before any thread runs: this run's calls only.
        self._dry_run_log = (
            JsonLines(self.output_dir / DRY_RUN_CALLS, fresh=True)
            if self.dry_run
            else None
        )
        self.stop = threading.Event()
        self.client = self._make_client()
        self.applier = ClusterApplier(
            self.client,
            self.state,
            self.audit,
            ApplySettings(
                allow_cross_location=config.get("allow_cross_location", False),
                merge_threshold=float(
                    config.get("merge_threshold", DEFAULT_MERGE_THRESHOLD)
                ),
                dry_run=self.dry_run,
                confirm_timeout=float(config.get("merge_confirm_timeout", 30)),
            ),
        )

    @property
    def dry_run(self) -> bool:
        """Whether writes are recorded instead of sent (the default)."""
        return bool(self.config.get("dry_run", True))

    def _make_client(self) -> PodiumClient:
        return PodiumClient(
            api_url=self.config["api_url"],
            oauth_url=self.config["oauth_url"],
            credentials={
                k: self.config.get(k)
                for k in ("client_id", "client_secret", "refresh_token")
            },
            throttle=Throttle(float(self.config.get("requests_per_minute", 300))),
            dry_run=self.dry_run,
            record_dry_run=self._record_dry_run,
            max_tries=int(self.config.get("max_tries", 6)),
            transport=self._transport,
        )

    def _record_dry_run(self, call: Call, cluster_id: str | None) -> None:
        # Never on stdout: stdout carries Singer STATE.
        if self._dry_run_log is not None:
            self._dry_run_log.write({"cluster_id": cluster_id, **call.as_dict()})
        self.dry_run_calls[call.method] += 1

    def resume_earlier_runs(self) -> None:
        """Finish the clusters an earlier run left unfinished, from their plans."""
        rows = self.state.resumable()
        if not rows:
            return
        if self.dry_run:
            self.logger.info(
                "dry run: %d unfinished clusters left as they are", len(rows)
            )
            return
        self.logger.info("resuming %d clusters left by an earlier run", len(rows))
        self.apply_plans([row["plan"] for row in rows])

    def apply_plans(self, plans: list[dict]) -> None:
        """Apply plans in parallel and return when every one is terminal."""
        started = time.monotonic()
        outcomes = run_clusters(
            plans,
            self._apply_one,
            stop=self.stop,
            max_in_flight=int(self.config.get("max_in_flight", 4)),
        )
        self.write_review_queue()
        self.logger.info(
            "applied %d plans in %.1fs: %s (%d API calls so far)",
            len(plans),
            time.monotonic() - started,
            dict(sorted(outcomes.items())),
            self.client.calls_sent,
        )

    def _apply_one(self, plan: dict) -> str:
        outcome = self.applier.apply(plan)
        if outcome == "failed":
            with self._failed_lock:
                self.failed_clusters.add(plan["cluster_id"])
        return outcome

    def report_failures(self) -> bool:
        """Log, at ERROR, the clusters this run could not finish; True if any."""
        if not self.failed_clusters:
            return False
        self.logger.error(
            "%d clusters could not be finished in this run and stay resumable "
            "(%s); no STATE was forwarded after the first of them; %s",
            len(self.failed_clusters),
            ", ".join(sorted(self.failed_clusters)),
            RERUN_HINT,
        )
        return True

    def queue_review_items(self, items: list[dict]) -> None:
        """Queue review items from the SQL step, then rewrite the queue files."""
        for item in items:
            if not item.get("location_names") and item.get("members"):
                # Read from Podium only when the SQL step did not name them.
                names = self.applier.location_names()
                item = {**item, **review.review_item(item, item.get("reason"), names)}
            # An item without a cluster_id gets a key of its own, never a shared one.
            self.state.queue_review({**item, "cluster_id": review_key(item)})
        self.write_review_queue()

    def write_review_queue(self) -> None:
        """Rewrite review-queue.json and review-queue.csv."""
        review.write_queue(self.output_dir, self.state.review_items())

    def summarise(self) -> None:
        """Log what the run did (and, in a dry run, what it would have sent)."""
        if self.dry_run:
            self.logger.info(
                "dry run: nothing was written to Podium; %d calls would be sent %s, "
                "listed in %s",
                sum(self.dry_run_calls.values()),
                dict(self.dry_run_calls),
                self.output_dir / DRY_RUN_CALLS,
            )
        self.logger.info("merge state: %s", self.state.counts())

    def close(self) -> None:
        """Close the HTTP client and the output files."""
        self.client.close()
        self.audit.close()
        if self._dry_run_log is not None:
            self._dry_run_log.close()


class TargetPodiumMerge(Target):
    """Merges duplicate Podium contacts and keeps every opt-out of each cluster."""

    name = "target-podium-merge"
    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_url",
            th.StringType,
            required=True,
            description="Podium API base URL, e.g. https://api.podium.com/v4",
        ),
        th.Property(
            "oauth_url", th.StringType, required=True, description="OAuth token URL"
        ),
        th.Property("client_id", th.StringType, secret=True),
        th.Property("client_secret", th.StringType, secret=True),
        th.Property("refresh_token", th.StringType, secret=True),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=True,
            description="Write nothing to Podium; list the calls instead",
        ),
        th.Property(
            "state_db",
            th.StringType,
            default=DEFAULT_STATE_DB,
            description="SQLite file of the merge state (dedup-plan reads it too)",
        ),
        th.Property(
            "output_dir",
            th.StringType,
            default="output",
            description="Folder of the audit log and review queue",
        ),
        th.Property(
            "requests_per_minute",
            th.NumberType(minimum=1),
            default=300,
            description="Request budget shared by all clusters in flight",
        ),
        th.Property(
            "max_in_flight",
            th.IntegerType(minimum=1),
            default=4,
            description="Clusters applied at once",
        ),
        th.Property(
            "checkpoint_every",
            th.IntegerType(minimum=1),
            default=50,
            description="Plans between checkpoints (a STATE follows each)",
        ),
        th.Property("allow_cross_location", th.BooleanType, default=False),
        th.Property(
            "merge_threshold",
            th.NumberType(minimum=0, maximum=1),
            default=DEFAULT_MERGE_THRESHOLD,
            description="Lowest plan confidence that may auto-merge; below: review",
        ),
        th.Property(
            "merge_confirm_timeout",
            th.NumberType,
            default=30,
            description="Seconds to wait for an accepted write to show",
        ),
        th.Property(
            "max_tries",
            th.IntegerType(minimum=1),
            default=6,
            description="Tries per request before the cluster fails",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._check_settings_or_exit()
        self._resumed = False
        self._plans_since_checkpoint = 0

    @functools.cached_property
    def engine(self) -> Engine:
        """The shared client, state and applier, made on first use."""
        return Engine(self.config, self.logger)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """Return the sink for the stream; streams we do not handle are ignored."""
        return SINKS.get(stream_name, IgnoredSink)

    def get_sink(self, *args: t.Any, **kwargs: t.Any) -> Sink:
        """Return the sink, wired to the shared engine."""
        sink = super().get_sink(*args, **kwargs)
        sink._target_engine = lambda: self.engine  # type: ignore[attr-defined]
        return sink

    def _process_schema_message(self, message_dict: dict) -> None:
        self._resume_once()
        super()._process_schema_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        self._resume_once()
        super()._process_state_message(message_dict)

    def _process_record_message(self, message_dict: dict) -> None:
        super()._process_record_message(message_dict)
        if message_dict.get("stream") != "merge_plans":
            return
        self._plans_since_checkpoint += 1
        if self._plans_since_checkpoint >= int(self.config.get("checkpoint_every", 50)):
            # Apply the batch, then emit the latest STATE: everything before it is done.
            self._plans_since_checkpoint = 0
            self.drain_all()

    def process_endofpipe(self) -> None:
        """Apply what is left, emit the last STATE, and summarise the run.

        Any cluster this run could not finish (outcome `failed`) makes the run
        exit 1 after everything else is done and persisted, and holds back every
        STATE from the first such cluster on: fail-stop, never fail-silent.
        """
        self._resume_once()
        super().process_endofpipe()
        if "engine" not in self.__dict__:
            return
        self.engine.summarise()
        failed = self.engine.report_failures()
        self.engine.close()
        if failed:
            sys.exit(1)

    def _write_state_message(self, state: dict) -> None:
        # A STATE would tell Meltano the plans before it are done.
        if "engine" in self.__dict__ and self.engine.failed_clusters:
            self.logger.warning(
                "STATE held back: %d clusters are unfinished",
                len(self.engine.failed_clusters),
            )
            return
        super()._write_state_message(state)

    def _check_settings_or_exit(self) -> None:
        try:
            check_settings(self.config)
        except SettingsError as exc:
            # A message naming the setting, not a traceback.
            self.logger.error("%s", exc)
            sys.exit(2)

    def _resume_once(self) -> None:
        if self._resumed:
            return
        self._resumed = True
        if self._touches_podium():
            self.engine.resume_earlier_runs()

    def _touches_podium(self) -> bool:
        """Whether an earlier run may have left work (its state_db exists)."""
        return Path(self.config.get("state_db", DEFAULT_STATE_DB)).exists()

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # A drain here could re-enter a batch and emit a STATE for clusters not
        # done (case R29). Stop at once instead: every step is already durable,
        # and the next run resumes from state_db.
        self.logger.warning(
            "received signal %d: stopping without a STATE; rerun to resume", signum
        )
        if "engine" in self.__dict__:
            self.engine.stop.set()
        sys.stdout.flush()
        os._exit(128 + signum)


if __name__ == "__main__":
    TargetPodiumMerge.cli()
