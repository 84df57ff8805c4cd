"""Build merge plans and review items from the index with the SQL models."""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from dedup_plan import PLAN_VERSION
from dedup_plan.clusters import Cluster, build_clusters
from dedup_plan.index import ContactIndex
from dedup_plan.models import MODELS_AFTER_CLUSTERS, MODELS_BEFORE_CLUSTERS, run_models
from dedup_plan.settings import PlanSettings

logger = logging.getLogger(__name__)

MAX_SCOPE_ROUNDS = 50


@dataclass
class PlanCounts:
    """How many clusters one run planned, and how each was routed."""

    clusters: int = 0
    merge_plans: int = 0
    review_items: int = 0


class Planner:
    """Run the SQL models over an index and shape their rows as records."""

    def __init__(self, index: ContactIndex, settings: PlanSettings) -> None:
        """Plan from `index` under `settings`."""
        self.index = index
        self.conn = index.conn
        self.settings = settings
        self.counts = PlanCounts()

    def plan(self, *, incremental: bool) -> Iterator[tuple[str, dict]]:
        """Build plans for every cluster, or only the touched ones.

        Records are yielded one at a time in cluster_id order, so a million
        contacts never sit in memory as plans; `counts` is complete once the
        iterator is exhausted.

        Args:
            incremental: Re-plan only clusters that a contact of this run
                touches (now or through the keys it held before).

        Yields:
            (stream, record) for `merge_plans` and `review_items`.
        """
        started = time.perf_counter()
        self._write_run_settings()
        if incremental:
            self._scope_to_touched_keys()
        run_models(self.conn, MODELS_BEFORE_CLUSTERS)
        clusters = build_clusters(self._shared_key_holders())
        if incremental:
            clusters = self._touched(clusters)
        self._write_clusters(clusters)
        run_models(self.conn, MODELS_AFTER_CLUSTERS)
        self.counts.clusters = len(clusters)
        yield from self._records({c.cluster_id: c for c in clusters})
        logger.info(
            "Planned %d clusters (%d merge plans, %d review items) in %.2f s",
            self.counts.clusters,
            self.counts.merge_plans,
            self.counts.review_items,
            time.perf_counter() - started,
        )

    # Steps

    def _write_run_settings(self) -> None:
        row = self.settings.sql_row(self.index.run_id)
        columns = ", ".join(f"? as {name}" for name in row)
        self.conn.execute("drop table if exists temp.run_settings")
        self.conn.execute(
            f"create temp table run_settings as select {columns}", list(row.values())
        )

    def _shared_key_holders(self) -> Iterable[tuple[str, str, bool]]:
        return self.conn.execute(
            "select shared_keys.natural_key, key_members.uid, "
            "shared_keys.is_shared_line from shared_keys "
            "inner join key_members using (natural_key) "
            "order by shared_keys.natural_key, key_members.uid"
        )

    def _scope_to_touched_keys(self) -> None:
        """Narrow every model to the keys reachable from this run's contacts.

        A breadth-first walk from the touched keys over holders and their
        other keys; a temp view named `contact_keys` then shadows the index
        table for the models, so an incremental run reads only the clusters it
        can change. A walk that does not settle falls back to the whole index.
        """
        self.conn.execute("create temp table key_scope (natural_key text primary key)")
        self.conn.execute("create temp table uid_scope (uid text primary key)")
        self.conn.execute("insert into key_scope select natural_key from touched_keys")
        for _round in range(MAX_SCOPE_ROUNDS):
            if not self._widen_scope():
                break
        else:
            logger.warning(
                "Incremental scope did not settle in %d rounds; planning from the "
                "whole index instead",
                MAX_SCOPE_ROUNDS,
            )
            return
        self.conn.execute(
            "create temp view contact_keys as select * from main.contact_keys"
            " where natural_key in (select natural_key from key_scope)"
        )

    def _widen_scope(self) -> int:
        self.conn.execute(
            "insert or ignore into uid_scope select uid from main.contact_keys"
            " where natural_key in (select natural_key from key_scope)"
        )
        cursor = self.conn.execute(
            "insert or ignore into key_scope select natural_key from main.contact_keys"
            " where uid in (select uid from uid_scope)"
        )
        return cursor.rowcount

    def _touched(self, clusters: list[Cluster]) -> list[Cluster]:
        # Every contact of this run put its keys into touched_keys, so a
        # cluster it belongs to (or left) holds one of them.
        touched = {key for (key,) in self.conn.execute("select * from touched_keys")}
        return [cluster for cluster in clusters if not touched.isdisjoint(cluster.keys)]

    def _write_clusters(self, clusters: list[Cluster]) -> None:
        self.conn.execute("drop table if exists temp.clusters")
        self.conn.execute("drop table if exists temp.cluster_uids")
        self.conn.execute(
            "create temp table clusters (cluster_id text primary key, "
            "cluster_kind text not null, natural_key text not null)"
        )
        self.conn.execute(
            "create temp table cluster_uids (cluster_id text not null, "
            "uid text not null, primary key (cluster_id, uid))"
        )
        with self.conn:
            self.conn.executemany(
                "insert into clusters values (?, ?, ?)",
                [(c.cluster_id, c.kind, c.natural_key) for c in clusters],
            )
            self.conn.executemany(
                "insert into cluster_uids values (?, ?)",
                [(c.cluster_id, uid) for c in clusters for uid in c.uids],
            )

    # Reading the models

    def _records(self, clusters: dict[str, Cluster]) -> Iterator[tuple[str, dict]]:
        reasons = self._reasons()
        weakest = self._weakest_pairs()
        location_names = dict(self.conn.execute("select uid, name from locations"))
        planned_at = self.index.latest_updated_at()
        members = self._members()
        for row in self._cluster_rows():
            cluster_id, group = next(members)
            context = PlanContext(
                clusters[cluster_id], row, group, planned_at, location_names
            )
            if cluster_id in reasons:
                self.counts.review_items += 1
                item = context.review_item(reasons[cluster_id], weakest.get(cluster_id))
                yield "review_items", item
            else:
                self.counts.merge_plans += 1
                yield "merge_plans", context.merge_plan()

    def _cluster_rows(self) -> Iterator[dict]:
        cursor = self.conn.execute(
            "select cluster_scores.*, primaries.primary_uid, primaries.primary_reason,"
            " consent_targets.sms_opt_out, consent_targets.email_opt_out,"
            " consent_targets.marketing_opted_in_location_uids,"
            " fills.name as fill_name, fills.emails as fill_emails,"
            " fills.address as fill_address, fills.tags as fill_tags,"
            " fills.phones as fill_phones, fills.locations as fill_locations"
            " from cluster_scores"
            " inner join primaries using (cluster_id)"
            " inner join consent_targets using (cluster_id)"
            " inner join fills using (cluster_id)"
            " order by cluster_scores.cluster_id"
        )
        names = [column[0] for column in cursor.description]
        return (dict(zip(names, values, strict=True)) for values in cursor)

    def _members(self) -> Iterator[tuple[str, list[dict]]]:
        cursor = self.conn.execute(
            "select cluster_id, uid, name, updated_at, field_count, location_uids,"
            " consent from cluster_members order by cluster_id, uid"
        )
        for cluster_id, rows in itertools.groupby(cursor, key=lambda row: row[0]):
            yield cluster_id, [_member(row) for row in rows]

    def _reasons(self) -> dict[str, list[str]]:
        reasons: dict[str, list[str]] = defaultdict(list)
        for cluster_id, reason in self.conn.execute(
            "select cluster_id, reason from review_routes order by cluster_id, priority"
        ):
            reasons[cluster_id].append(reason)
        return reasons

    def _weakest_pairs(self) -> dict[str, tuple[str, str, float]]:
        weakest: dict[str, tuple[str, str, float]] = {}
        for cluster_id, first, second, score in self.conn.execute(
            "select cluster_id, first_uid, second_uid, score from pair_scores"
            " where cluster_id in (select cluster_id from review_routes)"
            " order by cluster_id, score desc, first_uid desc, second_uid desc"
        ):
            weakest[cluster_id] = (first, second, score)
        return weakest


@dataclass
class PlanContext:
    """One cluster's model rows, shaped into a merge plan or a review item."""

    cluster: Cluster
    row: dict
    members: list[dict]
    planned_at: str | None
    location_names: dict[str, str]

    def merge_plan(self) -> dict:
        """Return the `merge_plans` record of this cluster."""
        primary_uid = self.row["primary_uid"]
        return {
            "cluster_id": self.cluster.cluster_id,
            "natural_key": self.cluster.natural_key,
            "primary_uid": primary_uid,
            "duplicate_uids": [
                m["uid"] for m in self.members if m["uid"] != primary_uid
            ],
            "members": [_plan_member(member) for member in self.members],
            "confidence": self.row["confidence"],
            "primary_reason": self.row["primary_reason"],
            "consent_target": self._consent_target(),
            "fill": self._fill(),
            "planned_at": self.planned_at,
            "plan_version": PLAN_VERSION,
        }

    def review_item(self, reasons: list[str], weakest: tuple | None) -> dict:
        """Return the `review_items` record of this cluster."""
        members = [self._review_member(member) for member in self.members]
        return {
            "cluster_id": self.cluster.cluster_id,
            "natural_key": self.cluster.natural_key,
            "natural_keys": sorted(self.cluster.keys),
            "members": members,
            "location_names": sorted(
                {name for member in members for name in member["location_names"]}
            ),
            "reason": reasons[0],
            "reasons": reasons,
            "detail": self._detail(reasons, weakest),
            "confidence": self.row["confidence"],
            "proposed_primary_uid": self.row["primary_uid"],
            "planned_at": self.planned_at,
            "plan_version": PLAN_VERSION,
        }

    def _consent_target(self) -> dict:
        return {
            "sms_opt_out": bool(self.row["sms_opt_out"]),
            "email_opt_out": bool(self.row["email_opt_out"]),
            "marketing_opted_in_location_uids": sorted(
                orjson.loads(self.row["marketing_opted_in_location_uids"])
            ),
        }

    def _fill(self) -> dict:
        address = orjson.loads(self.row["fill_address"] or "{}")
        return {
            "name": self.row["fill_name"],
            "emails": sorted(orjson.loads(self.row["fill_emails"])),
            "address": dict(sorted(address.items())),
            "tags": sorted(orjson.loads(self.row["fill_tags"]), key=lambda t: t["uid"]),
            "phones": sorted(orjson.loads(self.row["fill_phones"])),
            "locations": sorted(orjson.loads(self.row["fill_locations"])),
        }

    def _review_member(self, member: dict) -> dict:
        location_uids = orjson.loads(member["location_list"])
        return {
            "uid": member["uid"],
            "name": member["name"],
            "updated_at": member["updated_at"],
            "field_count": member["field_count"],
            "location_uids": location_uids,
            "location_names": [
                self.location_names.get(uid) or uid for uid in location_uids
            ],
            "consent": member["consent"],
        }

    def _detail(self, reasons: list[str], weakest: tuple | None) -> str:
        sentences = [_REASON_DETAILS[reason](self, weakest) for reason in reasons]
        return " ".join(sentences)


def _member(row: tuple) -> dict:
    _cluster_id, uid, name, updated_at, field_count, locations, consent = row
    # Fragments embed the indexed JSON as is: no parse, no re-encode.
    return {
        "uid": uid,
        "name": name,
        "updated_at": updated_at,
        "field_count": field_count,
        "location_uids": orjson.Fragment(locations),
        "consent": orjson.Fragment(consent),
        "location_list": locations,
    }


def _plan_member(member: dict) -> dict:
    return {key: member[key] for key in _PLAN_MEMBER_FIELDS}


_PLAN_MEMBER_FIELDS = ("uid", "updated_at", "field_count", "location_uids", "consent")


def _restored_detail(context: PlanContext, _weakest: tuple | None) -> str:
    return (
        "A member was merged away by an earlier run and is live again (restored "
        "by an admin); decide whether it is a separate person."
    )


def _shared_line_detail(context: PlanContext, _weakest: tuple | None) -> str:
    holders = context.cluster.keys[context.cluster.natural_key]
    return (
        f"The shared number is a business line or is held by {holders} live "
        "contacts; a shared line is no proof of one person."
    )


def _consent_detail(context: PlanContext, _weakest: tuple | None) -> str:
    return (
        "A member's marketing opt-in is newer than another member's sms opt-out; "
        "confirm re-consent evidence before any opt-out is cleared."
    )


def _cross_location_detail(context: PlanContext, _weakest: tuple | None) -> str:
    return "The members share no location (setting allow_cross_location is off)."


def _name_conflict_detail(context: PlanContext, _weakest: tuple | None) -> str:
    return "Two members carry different real names (or generational suffixes)."


def _below_threshold_detail(context: PlanContext, weakest: tuple | None) -> str:
    if not weakest:
        return "A pair of members scores under merge_threshold."
    first, second, score = weakest
    return f"Pair {first}/{second} scores {score:.2f}, under merge_threshold."


_REASON_DETAILS = {
    "restored_after_merge": _restored_detail,
    "shared_line": _shared_line_detail,
    "consent_conflict": _consent_detail,
    "cross_location": _cross_location_detail,
    "name_conflict": _name_conflict_detail,
    "below_threshold": _below_threshold_detail,
}
