"""Checks on an incoming merge plan, which may come from any warehouse."""

from __future__ import annotations

import datetime as dt


def plan_problem(plan: dict, *, allow_cross_location: bool) -> str | None:
    """Return why the plan must not be applied as it stands, or None.

    The reason is a review reason: `invalid_plan: ...`, `primary_mismatch`
    or `cross_location`.
    """
    members = plan.get("members") or []
    uids = [member.get("uid") for member in members]
    primary = plan.get("primary_uid")
    duplicates = plan.get("duplicate_uids") or []
    if len(uids) < 2 or None in uids:
        return "invalid_plan: a cluster needs two or more members with a uid"
    if len(set(uids)) != len(uids):
        return "invalid_plan: a member is listed twice"
    if primary not in uids:
        return "invalid_plan: the primary is not a member"
    if sorted(duplicates) != sorted(uid for uid in uids if uid != primary):
        return "invalid_plan: duplicates are not the members less the primary"
    if choose_primary(members) != primary:
        return "primary_mismatch"
    if not allow_cross_location and not shared_locations(members):
        return "cross_location"
    return None


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
