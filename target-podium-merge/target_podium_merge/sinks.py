"""Sinks: `merge_plans` are applied, `review_items` queued, other streams ignored."""

from __future__ import annotations

import typing as t

from singer_sdk.sinks import BatchSink

if t.TYPE_CHECKING:
    from target_podium_merge.target import Engine

# The target drains every `checkpoint_every` plans itself (so a STATE follows),
# so the SDK's own size-based drain must never fire first.
NEVER_FULL = 10**12


class _EngineSink(BatchSink):
    """A batch sink that hands its batch to the target's shared engine."""

    @property
    def max_size(self) -> int:
        """The target decides when to drain."""
        return NEVER_FULL

    @property
    def engine(self) -> Engine:
        """The target's shared client, state and applier."""
        return self._target_engine()  # type: ignore[attr-defined]


class MergePlansSink(_EngineSink):
    """Applies each batch of plans; returns only when every cluster is terminal."""

    def process_batch(self, context: dict) -> None:
        """Apply the batch, then rewrite the review queue."""
        plans = context.get("records") or []
        self.engine.apply_plans(plans)


class ReviewItemsSink(_EngineSink):
    """Adds each review item to the review queue."""

    def process_batch(self, context: dict) -> None:
        """Queue the items, then rewrite the review queue files."""
        self.engine.queue_review_items(context.get("records") or [])


class IgnoredSink(_EngineSink):
    """Streams this target does not handle: read and dropped."""

    def process_batch(self, context: dict) -> None:
        """Drop the batch, keeping only a count in the log."""
        self.logger.debug("ignored %d records", len(context.get("records") or []))
