"""Checks on an incoming merge plan, which may come from any warehouse."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json

from target_podium_merge import keys

DEFAULT_MERGE_THRESHOLD = 0.80


def plan_problem(
    plan: dict, *, allow_cross_location: bool, merge_threshold: float
) -> str | None:
    """Return why the plan must not be applied as it stands, or None.

    The reason is a review reason: `invalid_plan: ...`, `below_threshold: ...`,
    `primary_mismatch` or `cross_location`.
    """
    members = plan.get("members") or []
    uids = [member.get("uid") for member in members]
    primary = plan.get("primary_uid")
    duplicates = plan.get("duplicate_uids") or []
    if not has_cluster_id(plan):
        return "invalid_plan: the plan has no cluster_id"
    if keys.parse_key(plan.get("natural_key")) is None:
        return "invalid_plan: natural_key is not an E.164 number (plus ;ext=N)"
    if len(uids) < 2 or None in uids:
        return "invalid_plan: a cluster needs two or more members with a uid"
    if len(set(uids)) != len(uids):
        return "invalid_plan: a member is listed twice"
    if primary not in uids:
        return "invalid_plan: the primary is not a member"
    if sorted(duplicates) != sorted(uid for uid in uids if uid != primary):
        return "invalid_plan: duplicates are not the members less the primary"
    if (low := confidence_problem(plan, merge_threshold)) is not None:
        return low
    if choose_primary(members) != primary:
        return "primary_mismatch"
    if not allow_cross_location and not shared_locations(members):
        return "cross_location"
    return None


def confidence_problem(plan: dict, merge_threshold: float) -> str | None:
    """Return why the plan's confidence does not allow an auto-merge, or None."""
    confidence = plan.get("confidence")
    if isinstance(confidence, bool) or not isinstance(
        confidence, int | float | decimal.Decimal
    ):
        return "invalid_plan: confidence is missing or not a number"
    if float(confidence) < merge_threshold:
        return (
            f"below_threshold: confidence {float(confidence):.2f} is below "
            f"merge_threshold {merge_threshold:.2f}"
        )
    return None


def live_problem(
    plan: dict, live: dict[str, dict | None], merge_threshold: float
) -> str | None:
    """Return why the live members do not bear the plan out, or None.

    Checked on the members as re-read just before any write, so a stale or
    hand-made plan never merges contacts that do not share its natural key.
    """
    if (low := confidence_problem(plan, merge_threshold)) is not None:
        return low
    without = keys.members_without_key(live, plan.get("natural_key") or "")
    if without:
        return (
            f"plan_rejected: {len(without)} member(s) do not carry the plan's "
            f"natural key: {', '.join(without)}"
        )
    return None


def has_cluster_id(plan: dict) -> bool:
    """Whether the plan names its cluster (a warehouse NULL or '' does not)."""
    cluster_id = plan.get("cluster_id")
    return isinstance(cluster_id, str) and bool(cluster_id.strip())


def review_key(plan: dict) -> str:
    """Return the plan's cluster_id, or a key of its own when it has none.

    Plans without a cluster_id are each kept apart in the review queue, keyed
    by a hash of the whole plan, so two of them never replace each other.
    """
    if has_cluster_id(plan):
        return plan["cluster_id"]
    text = json.dumps(plan, sort_keys=True, default=str)
    return "no-cluster-id-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def choose_primary(members: list[dict]) -> str:
    """Apply the published rule: most fields, then most recent, then lowest uid."""

    def rank(member: dict) -> tuple:
        updated = parse_time(member.get("updated_at"))
        stamp = updated.timestamp() if updated else float("-inf")
        return (-(member.get("field_count") or 0), -stamp, member["uid"])

    return min(members, key=rank)["uid"]


def shared_locations(members: list[dict]) -> set[str]:
    """Return the locations every member belongs to."""
    sets = [set(member.get("location_uids") or []) for member in members]
    return set.intersection(*sets) if sets else set()


def member_uids(plan: dict) -> set[str]:
    """Return every contact uid the plan touches."""
    uids = {member.get("uid") for member in plan.get("members") or []}
    uids.update(plan.get("duplicate_uids") or [])
    uids.add(plan.get("primary_uid"))
    return {uid for uid in uids if uid}


def parse_time(value: object) -> dt.datetime | None:
    """Parse an ISO 8601 time (Z or offset) to an aware datetime; None if absent."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def same_time(left: object, right: object) -> bool:
    """Whether two timestamps name the same second."""
    a, b = parse_time(left), parse_time(right)
    if a is None or b is None:
        return a is b
    return int(a.timestamp()) == int(b.timestamp())
