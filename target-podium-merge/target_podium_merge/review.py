"""The review queue: every cluster a person must decide, as JSON and CSV."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

REVIEW_JSON = "review-queue.json"
REVIEW_CSV = "review-queue.csv"
CSV_COLUMNS = (
    "cluster",
    "reason",
    "natural_key",
    "uid",
    "name",
    "proposed_primary",
    "updated_at",
    "field_count",
    "location_uids",
    "location_names",
    "decision",
)


def review_item(plan: dict, reason: str, location_names: dict[str, str]) -> dict:
    """Build a review item from a plan the target will not apply."""
    members = plan.get("members") or []
    uids = {uid for member in members for uid in member.get("location_uids") or []}
    return {
        "cluster_id": plan.get("cluster_id"),
        "natural_key": plan.get("natural_key"),
        "reason": reason,
        "primary_uid": plan.get("primary_uid"),
        "members": members,
        "location_names": sorted(location_names.get(uid, uid) for uid in uids),
    }


def write_queue(output_dir: str | Path, items: list[dict]) -> None:
    """Rewrite review-queue.json and review-queue.csv from every item."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / REVIEW_JSON, json.dumps(items, indent=2, default=str) + "\n")
    _write_csv(folder / REVIEW_CSV, items)


def _write_csv(path: Path, items: list[dict]) -> None:
    temp = path.with_suffix(".csv.tmp")
    with _owner_only(temp) as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for item in items:
            writer.writerows(_csv_rows(item))
    os.replace(temp, path)


def _csv_rows(item: dict) -> list[dict]:
    """One row per member, with an empty decision column for a person to fill."""
    cluster_names = item.get("location_names") or []
    # dedup-plan names the rule's choice `proposed_primary_uid`; a plan the
    # target itself sent to review carries its `primary_uid`.
    primary = item.get("proposed_primary_uid") or item.get("primary_uid")
    return [
        {
            "cluster": item.get("cluster_id"),
            "reason": item.get("reason"),
            "natural_key": item.get("natural_key"),
            "uid": member.get("uid"),
            "name": member.get("name"),
            "proposed_primary": member.get("uid") == primary,
            "updated_at": member.get("updated_at"),
            "field_count": member.get("field_count"),
            "location_uids": "; ".join(member.get("location_uids") or []),
            "location_names": "; ".join(member.get("location_names") or cluster_names),
            "decision": "",
        }
        for member in item.get("members") or []
    ]


def _replace(path: Path, text: str) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    with _owner_only(temp) as handle:
        handle.write(text)
    os.replace(temp, path)


def _owner_only(path: Path):
    # Review items name people and their contact details: owner-only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
