"""Baseline for the SQL step: the dedup rules as a plain single-pass script.

This is what a user might write by hand instead of running dedup-plan: read a
Singer file of tap-shaped `contacts` (and `locations`) once into dicts, group
contacts by natural key, join groups that share a contact, score every pair,
choose the primary and print one JSON line per merge plan or review item. It
keeps no index, so it cannot re-plan incrementally, and it is not the product:
it exists so that `make bench` can time the product against it in the same run.

Usage: python bench/baseline_dedup.py < contacts.singer > plans.jsonl
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import unicodedata
from collections import defaultdict

MERGE_THRESHOLD = 0.80
MAX_CONTACTS_PER_KEY = 5
PLACEHOLDERS = {"", "unknown", "customer", "no name", "n/a", "na"}
MOBILE_TYPES = {"MOBILE", "FIXED_LINE_OR_MOBILE"}
PUNCTUATION = re.compile(r"[^\w\s]")


def normalise_name(name: str | None) -> str:
    """Return the name NFKC-folded, without punctuation, "Last, First" turned."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    if text.count(",") == 1:
        last, first = text.split(",")
        text = f"{first} {last}"
    return " ".join(PUNCTUATION.sub(" ", text).split())


def is_placeholder(name: str) -> bool:
    """Tell whether a normalised name carries no identity (blank, digits, ...)."""
    return name in PLACEHOLDERS or name.replace(" ", "").isdigit()


def read_singer(lines) -> tuple[dict, set]:
    """Return live contacts by uid and the natural keys of location lines."""
    contacts, business_keys = {}, set()
    for line in lines:
        message = json.loads(line)
        if message.get("type") != "RECORD":
            continue
        record = message["record"]
        if message["stream"] == "contacts" and not record.get("deletedAt"):
            contacts[record["uid"]] = record
        elif message["stream"] == "locations":
            business_keys.update(record.get("natural_keys") or [])
    return contacts, business_keys


def holders_by_key(contacts: dict) -> dict[str, list[str]]:
    """Return the uids holding each natural key."""
    holders = defaultdict(list)
    for uid, contact in contacts.items():
        for key in contact.get("natural_keys") or []:
            holders[key].append(uid)
    return holders


def is_shared_line(key: str, uids: list[str], business_keys: set) -> bool:
    """A location's own line, or a key held by too many contacts to be a person."""
    return key in business_keys or len(uids) > MAX_CONTACTS_PER_KEY


def clusters_by_key(holders: dict, business_keys: set) -> list[tuple[str, list[str]]]:
    """Join contacts that share a personal key (union-find over uids)."""
    parent: dict[str, str] = {}

    def root(uid: str) -> str:
        while parent.setdefault(uid, uid) != uid:
            parent[uid] = parent[parent[uid]]
            uid = parent[uid]
        return uid

    first_key: dict[str, str] = {}
    for key, uids in holders.items():
        if len(uids) < 2 or is_shared_line(key, uids, business_keys):
            continue
        for uid in uids:
            first_key[uid] = min(key, first_key.get(uid, key))
            parent[root(uid)] = root(uids[0])
    members = defaultdict(list)
    for uid in first_key:
        members[root(uid)].append(uid)
    return [
        (min(first_key[u] for u in uids), sorted(uids)) for uids in members.values()
    ]


def mobile_keys(contact: dict) -> set[str]:
    """Return the contact's natural keys whose number type is a mobile."""
    return {
        phone["natural_key"]
        for phone in contact.get("phones") or []
        if phone.get("number_type") in MOBILE_TYPES and phone.get("natural_key")
    }


def pair_score(a: dict, b: dict) -> tuple[float, bool]:
    """Score a pair of contacts; also tell whether two real names conflict."""
    shared = set(a.get("natural_keys") or []) & set(b.get("natural_keys") or [])
    if not shared:
        return 0.0, False
    score = 0.60
    name_a, name_b = normalise_name(a.get("name")), normalise_name(b.get("name"))
    placeholder = is_placeholder(name_a) or is_placeholder(name_b)
    conflict = not placeholder and name_a != name_b
    on_mobile = bool(shared & mobile_keys(a))
    if (placeholder and on_mobile) or (not placeholder and name_a == name_b):
        score += 0.20
    emails_a = {e.casefold() for e in a.get("emails") or []}
    if emails_a & {e.casefold() for e in b.get("emails") or []}:
        score += 0.15
    tags_a = {t.get("label") for t in a.get("tags") or []}
    if tags_a & {t.get("label") for t in b.get("tags") or []}:
        score += 0.05
    return round(score, 2), conflict


def primary_of(members: list[dict]) -> dict:
    """Most populated fields, then most recently updated, then the lowest uid."""
    by_uid = sorted(members, key=lambda c: c["uid"])
    return max(by_uid, key=lambda c: (c.get("field_count") or 0, c.get("updatedAt")))


def consent_target(members: list[dict]) -> dict:
    """OR of the opt-outs; marketing kept where every member there is opted in."""
    views = [m.get("consent") or {} for m in members]
    sms = any(v.get("sms_opt_out") for v in views)
    email = any(v.get("email_opt_out") for v in views)
    marketing = set()
    for location in {loc for m in members for loc in m.get("location_uids") or []}:
        there = [
            v
            for m, v in zip(members, views, strict=True)
            if location in (m.get("location_uids") or [])
        ]
        if all(
            location in (v.get("marketing_opted_in_location_uids") or []) for v in there
        ):
            marketing.add(location)
    return {
        "sms_opt_out": sms,
        "email_opt_out": email,
        "marketing_opted_in_location_uids": [] if sms else sorted(marketing),
    }


def consent_conflict(members: list[dict]) -> bool:
    """Tell whether a marketing opt-in is newer than another member's sms opt-out."""
    views = [m.get("consent") or {} for m in members]
    opted_in = [
        v["marketing_opted_in_at"] for v in views if v.get("marketing_opted_in_at")
    ]
    opted_out = [v["sms_opted_out_at"] for v in views if v.get("sms_opted_out_at")]
    return bool(opted_in and opted_out and max(opted_in) > min(opted_out))


def review_reason(members: list[dict]) -> str | None:
    """Return why the cluster must go to a person, or None when it may merge."""
    if consent_conflict(members):
        return "consent_conflict"
    locations = [set(m.get("location_uids") or []) for m in members]
    if not set.intersection(*locations):
        return "cross_location"
    scores = [pair_score(a, b) for a, b in itertools.combinations(members, 2)]
    if any(conflict for _, conflict in scores):
        return "name_conflict"
    if min(score for score, _ in scores) < MERGE_THRESHOLD:
        return "below_threshold"
    return None


def plan(key: str, uids: list[str], contacts: dict) -> dict:
    """Return a merge plan or a review item for one cluster."""
    members = [contacts[uid] for uid in uids]
    reason = review_reason(members)
    if reason:
        return {
            "stream": "review_items",
            "cluster_id": "|".join(uids),
            "natural_key": key,
            "reason": reason,
        }
    primary = primary_of(members)
    return {
        "stream": "merge_plans",
        "cluster_id": "|".join(uids),
        "natural_key": key,
        "primary_uid": primary["uid"],
        "duplicate_uids": [u for u in uids if u != primary["uid"]],
        "consent_target": consent_target(members),
    }


def main() -> None:
    """Read the Singer file on stdin and print one plan per line on stdout."""
    contacts, business_keys = read_singer(sys.stdin)
    out = sys.stdout
    counts: dict[str, int] = defaultdict(int)
    holders = holders_by_key(contacts)
    rows = [
        plan(key, uids, contacts)
        for key, uids in clusters_by_key(holders, business_keys)
    ]
    rows += [
        {
            "stream": "review_items",
            "cluster_id": "|".join(sorted(uids)),
            "natural_key": key,
            "reason": "shared_line",
        }
        for key, uids in holders.items()
        if len(uids) > 1 and is_shared_line(key, uids, business_keys)
    ]
    for row in rows:
        counts[row["stream"]] += 1
        out.write(json.dumps(row) + "\n")
    print(f"baseline: {len(contacts)} contacts, {dict(counts)}", file=sys.stderr)


if __name__ == "__main__":
    main()
