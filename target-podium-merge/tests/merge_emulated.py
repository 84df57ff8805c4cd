"""Helpers for emulator tests: plans from truth, the target as a process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from merge_fakes import PLAN_SCHEMA
from target_podium_merge.plans import choose_primary


def contact_field_count(found: dict) -> int:
    """Count populated user-visible values (docs/contracts.md section 5)."""
    address = found.get("address") or {}
    return (
        bool(found.get("name"))
        + len(found.get("emails") or [])
        + len(found.get("phoneNumbers") or [])
        + sum(1 for v in address.values() if v)
        + len(found.get("tags") or [])
    )


def plans_from_truth(corpus, snapshot: list[dict], limit: int) -> list[dict]:
    """Build merge plans for the truth groups whose outcome is merge."""
    live = {c["uid"]: c for c in snapshot if not c.get("deletedAt")}
    groups = [
        g for g in corpus.truth if g.get("kind") == "group" and g["outcome"] == "merge"
    ]
    plans = []
    for group in groups:
        members = [live[uid] for uid in group["uids"] if uid in live]
        if len(members) >= 2:
            plans.append(plan_from_contacts(members, group["natural_key"]))
        if len(plans) >= limit:
            break
    return plans


def plan_from_contacts(members: list[dict], natural_key: str) -> dict:
    """One plan: the published primary rule, OR of opt-outs, fill from duplicates."""
    rows = [_member(c) for c in members]
    primary_uid = choose_primary(rows)
    primary = next(c for c in members if c["uid"] == primary_uid)
    duplicates = [c for c in members if c["uid"] != primary_uid]
    uids = sorted(c["uid"] for c in members)
    return {
        "cluster_id": hashlib.sha256(",".join(uids).encode()).hexdigest()[:16],
        "natural_key": natural_key,
        "primary_uid": primary_uid,
        "duplicate_uids": [c["uid"] for c in duplicates],
        "members": rows,
        "confidence": 0.9,
        "primary_reason": "field_count",
        "consent_target": {
            "sms_opt_out": _any_out(members, "PHONE"),
            "email_opt_out": _any_out(members, "EMAIL"),
            "marketing_opted_in_location_uids": [],
        },
        "fill": _fill(primary, duplicates),
        "planned_at": "2026-12-01T00:00:00Z",
        "plan_version": 1,
    }


def _member(found: dict) -> dict:
    return {
        "uid": found["uid"],
        "updated_at": found["updatedAt"],
        "field_count": contact_field_count(found),
        "location_uids": [loc["uid"] for loc in found.get("locations") or []],
        "consent": {},
    }


def _any_out(members: list[dict], kind: str) -> bool:
    return any(
        ch.get("transactionalOptedOutAt")
        for c in members
        for ch in c.get("channels") or []
        if ch.get("type") == kind
    )


def _fill(primary: dict, duplicates: list[dict]) -> dict:
    emails = [
        e
        for d in duplicates
        for e in d.get("emails") or []
        if e not in (primary.get("emails") or [])
    ]
    held = {t["uid"] for t in primary.get("tags") or []}
    tags = [
        {"uid": t["uid"], "label": t.get("label")}
        for d in duplicates
        for t in d.get("tags") or []
        if t["uid"] not in held
    ]
    names = [d["name"] for d in duplicates if d.get("name")]
    return {
        "name": None if primary.get("name") else (names[0] if names else None),
        "emails": list(dict.fromkeys(emails)),
        "address": {},
        "tags": list({t["uid"]: t for t in tags}.values()),
        "phones": [],
        "locations": [],
    }


def singer_input(plans: list[dict], state_every: int = 5) -> str:
    """SCHEMA, RECORDs with a STATE after every `state_every` plans."""
    lines = [PLAN_SCHEMA]
    for index, plan in enumerate(plans, 1):
        lines.append({"type": "RECORD", "stream": "merge_plans", "record": plan})
        if index % state_every == 0:
            lines.append({"type": "STATE", "value": {"bookmarks": {"plans": index}}})
    lines.append({"type": "STATE", "value": {"bookmarks": {"plans": len(plans)}}})
    return "".join(json.dumps(line) + "\n" for line in lines)


def target_config(emu, folder: Path, **overrides: object) -> dict:
    """A config pointing at the emulator, writing into `folder`."""
    return {
        "api_url": emu.api_url,
        "oauth_url": emu.oauth_url,
        **emu.credentials,
        "dry_run": False,
        "state_db": str(folder / "state.db"),
        "output_dir": str(folder / "out"),
        "requests_per_minute": 60_000,
        "max_in_flight": 4,
        "checkpoint_every": 5,
        "merge_confirm_timeout": 5,
        **overrides,
    }


def start_target(config: dict, messages: str, folder: Path) -> subprocess.Popen:
    """Start the target as a process reading `messages` on stdin."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "input.singer").write_text(messages)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "target_podium_merge.target",
            "--config",
            str(folder / "config.json"),
        ],
        stdin=open(folder / "input.singer"),
        stdout=subprocess.PIPE,
        stderr=open(folder / "stderr.log", "a"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )


def run_target(config: dict, messages: str, folder: Path) -> tuple[int, list[dict]]:
    """Run the target to the end; return its exit code and STATE messages."""
    process = start_target(config, messages, folder)
    out, _ = process.communicate(timeout=120)
    return process.returncode, [json.loads(x) for x in out.splitlines() if x.strip()]
