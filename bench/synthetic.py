"""Write a synthetic tap-podium Singer file for benchmarking dedup-plan.

Fast and deterministic per seed: E.164 strings are built directly (no
phonenumbers call), so a million contacts take seconds to write. A planted
share of people gets two or three contacts on the same mobile; a few of those
carry a different name (review), and a few contacts also hold their
location's business line.

    python bench/synthetic.py --contacts 1000000 --seed 7 -o bench/work/full.singer
    python bench/synthetic.py --contacts 1000000 --seed 7 --changed-fraction 0.01 \\
        --marker '{"index_id": "...", "contacts": 1000000}' -o bench/work/incr.singer
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from typing import TextIO

LOCATIONS = 20
BASE_DAY = "2026-11-01T"
FIRST = ["Ada", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"]
LAST = ["Quill", "Vance", "Kim", "Lee", "Chan", "Rivera", "Nguyen", "Smith"]

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def business_line(location: int) -> str:
    """Return the E.164 landline of a location."""
    return f"+6129{location:07d}"


def location_records() -> list[dict]:
    """Return the tenant's locations, each with its own line as a natural key."""
    return [
        {
            "uid": f"loc-{n:02d}",
            "name": f"Store {n:02d}",
            "phoneNumber": business_line(n),
            "natural_keys": [business_line(n)],
        }
        for n in range(LOCATIONS)
    ]


def contact_records(contacts: int, seed: int, dup_share: float) -> Iterator[dict]:
    """Yield `contacts` tap-shaped contact records, deterministic per seed."""
    rng = random.Random(seed)
    person = 0
    written = 0
    while written < contacts:
        copies = 1 + (rng.random() < dup_share) * rng.choice((1, 1, 2))
        for copy in range(min(copies, contacts - written)):
            yield _contact(rng, written, person, copy)
            written += 1
        person += 1


def _contact(rng: random.Random, n: int, person: int, copy: int) -> dict:
    mobile = f"+614{person:08d}"
    location = person % LOCATIONS
    name = f"{FIRST[person % 10]} {LAST[(person // 10) % 8]} {person}"
    if copy and rng.random() < 0.05:
        name = f"{FIRST[(person + 1) % 10]} {LAST[(person // 10) % 8]} {person}"
    keys = [mobile]
    if rng.random() < 0.005:
        keys.append(business_line(location))
    updated = f"{BASE_DAY}{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
    return _record(f"c{n:07d}", name, keys, f"loc-{location:02d}", updated, rng)


def _record(
    uid: str,
    name: str,
    keys: list[str],
    location: str,
    updated: str,
    rng: random.Random,
) -> dict:
    emails = [f"{uid}@example.test"] if rng.random() < 0.5 else []
    phones = [_phone(key) for key in keys]
    return {
        "uid": uid,
        "name": name,
        "emails": emails,
        "phoneNumbers": keys,
        "tags": [],
        "address": {"city": None, "postalCode": None},
        "locations": [{"uid": location}],
        "updatedAt": updated,
        "phones": phones,
        "natural_keys": keys,
        "consent": {
            "sms_opt_out": False,
            "sms_opted_out_at": None,
            "email_opt_out": False,
            "email_opted_out_at": None,
            "marketing_opted_in_location_uids": [],
            "marketing_opted_in_at": None,
        },
        "field_count": 1 + len(emails) + len(keys) + rng.randrange(3),
        "location_uids": [location],
    }


def _phone(key: str) -> dict:
    return {
        "raw": key,
        "e164": key,
        "extension": None,
        "natural_key": key,
        "national": None,
        "region": "AU",
        "number_type": "FIXED_LINE" if key.startswith("+612") else "MOBILE",
        "valid": True,
        "reason": None,
        "parser_version": "synthetic",
    }


def _changed(record: dict) -> dict:
    # A 1% change: the contact gave a new email, which leaves its routing alone.
    record["emails"] = [*record["emails"], f"{record['uid']}.new@example.test"]
    record["field_count"] += 1
    record["updatedAt"] = "2026-12-01T00:00:00Z"
    return record


def write_singer(args: argparse.Namespace, out: TextIO) -> None:
    """Write SCHEMA, RECORD and a final STATE messages for the chosen run."""
    out.write(_schema("locations"))
    for record in location_records():
        out.write(_dumps({"type": "RECORD", "stream": "locations", "record": record}))
        out.write("\n")
    out.write(_schema("contacts"))
    records = contact_records(args.contacts, args.seed, args.dup_share)
    if args.changed_fraction:
        records = _changed_subset(records, args)
    for record in records:
        out.write(_dumps({"type": "RECORD", "stream": "contacts", "record": record}))
        out.write("\n")
    out.write(_dumps({"type": "STATE", "value": _state(args)}) + "\n")


def _changed_subset(
    records: Iterator[dict], args: argparse.Namespace
) -> Iterator[dict]:
    rng = random.Random(args.seed + 1)
    chosen = set(
        rng.sample(range(args.contacts), int(args.contacts * args.changed_fraction))
    )
    return (_changed(record) for n, record in enumerate(records) if n in chosen)


def _state(args: argparse.Namespace) -> dict:
    bookmarks: dict = {
        "contacts": {
            "replication_key": "updatedAt",
            "replication_key_value": "2026-12-01T00:00:00Z",
        }
    }
    if args.marker:
        bookmarks["dedup_plan"] = json.loads(args.marker)
    return {"bookmarks": bookmarks}


def _schema(stream: str) -> str:
    message = {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": {"uid": {"type": "string"}}},
        "key_properties": ["uid"],
    }
    return _dumps(message) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and write the Singer file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--dup-share",
        type=float,
        default=0.1,
        help="share of people with two or three contacts",
    )
    parser.add_argument(
        "--changed-fraction",
        type=float,
        default=0.0,
        help="write only this share of contacts, changed",
    )
    parser.add_argument("--marker", help="bookmarks.dedup_plan JSON for the STATE")
    parser.add_argument("-o", "--output", help="file to write (default stdout)")
    args = parser.parse_args(argv)
    if args.output:
        with open(args.output, "w") as out:
            write_singer(args, out)
    else:
        write_singer(args, sys.stdout)


if __name__ == "__main__":
    main()
