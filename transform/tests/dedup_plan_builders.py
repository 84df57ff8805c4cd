"""Builders of tap-shaped Singer messages and a runner for the mapper.

Imported by the tests of transform/ (conftest puts this folder on sys.path;
the module name is unique so it cannot shadow another package's helpers).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dedup_plan.mapper import DedupPlanMapper

DEFAULT_UPDATED_AT = "2026-11-01T00:00:00Z"


def contact(
    uid: str,
    *,
    name: str | None = "Ada Quill",
    keys: Iterable[str] = ("+61491570156",),
    number_type: str = "MOBILE",
    emails: Iterable[str] = (),
    tags: Iterable[str] = (),
    locations: Iterable[str] = ("loc-1",),
    updated_at: str = DEFAULT_UPDATED_AT,
    field_count: int | None = None,
    consent: dict | None = None,
    address: dict | None = None,
) -> dict:
    """Return a `contacts` record shaped as the tap emits it."""
    keys, emails, tags = list(keys), list(emails), list(tags)
    phones = [_phone(key, number_type) for key in keys]
    return {
        "uid": uid,
        "name": name,
        "emails": emails,
        "phoneNumbers": [phone["raw"] for phone in phones],
        "tags": [{"uid": f"tag-{label}", "label": label} for label in tags],
        "address": address or {},
        "locations": [{"uid": location} for location in locations],
        "updatedAt": updated_at,
        "phones": phones,
        "natural_keys": keys,
        "consent": {**_consent(), **(consent or {})},
        "field_count": len(keys) + len(emails) + len(tags) + bool(name)
        if field_count is None
        else field_count,
        "location_uids": list(locations),
    }


def location(uid: str, name: str, keys: Iterable[str] = ()) -> dict:
    """Return a `locations` record with the natural keys of its own lines."""
    return {"uid": uid, "name": name, "natural_keys": list(keys)}


def _phone(key: str, number_type: str) -> dict:
    e164, _, extension = key.partition(";ext=")
    return {
        "raw": e164,
        "e164": e164,
        "extension": extension or None,
        "natural_key": key,
        "national": None,
        "region": "AU",
        "number_type": number_type,
        "valid": True,
        "reason": None,
        "parser_version": "9.0.43",
    }


def _consent() -> dict:
    return {
        "sms_opt_out": False,
        "sms_opted_out_at": None,
        "email_opt_out": False,
        "email_opted_out_at": None,
        "marketing_opted_in_location_uids": [],
        "marketing_opted_in_at": None,
    }


def singer_lines(
    contacts: Iterable[dict],
    locations: Iterable[dict] = (),
    state: dict | None = None,
) -> list[dict]:
    """Return the Singer messages a tap run with these records would write."""
    messages: list[dict] = [_schema("locations")]
    messages += [_record("locations", record) for record in locations]
    messages.append(_schema("contacts"))
    messages += [_record("contacts", record) for record in contacts]
    if state is not None:
        messages.append({"type": "STATE", "value": state})
    return messages


def _schema(stream: str) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": {"uid": {"type": "string"}}},
        "key_properties": ["uid"],
    }


def _record(stream: str, record: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def tap_state(marker: dict | None = None) -> dict:
    """Return a tap STATE value, with the step's marker when given."""
    bookmarks: dict = {"contacts": {"replication_key_value": DEFAULT_UPDATED_AT}}
    if marker is not None:
        bookmarks["dedup_plan"] = marker
    return {"bookmarks": bookmarks}


@dataclass
class MapperOutput:
    """What one mapper run wrote, split by kind."""

    messages: list[dict]
    raw: str
    plans: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Sort the messages into plans, review items and states."""
        for message in self.messages:
            if message["type"] == "STATE":
                self.states.append(message["value"])
            elif message["type"] == "RECORD" and message["stream"] == "merge_plans":
                self.plans.append(message["record"])
            elif message["type"] == "RECORD" and message["stream"] == "review_items":
                self.reviews.append(message["record"])

    def review_for(self, uid: str) -> dict:
        """Return the one review item that holds `uid`."""
        (item,) = [r for r in self.reviews if uid in {m["uid"] for m in r["members"]}]
        return item

    def merged_pairs(self) -> set[frozenset[str]]:
        """Return every pair of uids that one merge plan merges."""
        return {
            frozenset((a["uid"], b["uid"]))
            for plan in self.plans
            for a in plan["members"]
            for b in plan["members"]
            if a["uid"] < b["uid"]
        }


@dataclass
class MapperRunner:
    """Runs the mapper in-process on hand-built messages."""

    index_db: Path
    capsys: pytest.CaptureFixture

    def run(
        self, messages: list[dict], *, compact: bool = False, **settings: object
    ) -> MapperOutput:
        """Feed `messages` to a fresh mapper and parse what it writes.

        `compact` writes the lines as singer-sdk taps do (no spaces), which
        takes the reader's fast path for `contacts` records.
        """
        # A merge state beside the index, so no test reads the project's own.
        merge_state = self.index_db.parent / "merge-state.db"
        config = {
            "index_db": str(self.index_db),
            "merge_state_db": str(merge_state),
            **settings,
        }
        separators = (",", ":") if compact else None
        text = "".join(
            json.dumps(message, separators=separators) + "\n" for message in messages
        )
        self.capsys.readouterr()
        DedupPlanMapper(config=config).listen(io.StringIO(text))
        raw = self.capsys.readouterr().out
        parsed = [json.loads(line) for line in raw.splitlines() if line]
        return MapperOutput(messages=parsed, raw=raw)
