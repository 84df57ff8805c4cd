"""Field values the survivor lacks and a duplicate has (the plan's `fill`).

Fill only ever adds: a value the survivor already has is never replaced, so a
plan (which may come from any warehouse) cannot make the survivor poorer.
"""

from __future__ import annotations

import string
import unicodedata

from target_podium_merge import client as api

# Names that stand for no name at all (compared case-folded, without punctuation).
PLACEHOLDER_NAMES = frozenset({"", "unknown", "customer", "no name", "na"})


def fill_calls(survivor: dict, fill: dict | None) -> list[tuple[str, api.Call]]:
    """Return (operation key, call) for every fill value the survivor lacks."""
    fill = fill or {}
    uid = survivor["uid"]
    calls = _name_call(uid, survivor, fill) + _address_call(uid, survivor, fill)
    calls += _list_calls(uid, "email", survivor.get("emails"), fill.get("emails"))
    calls += _list_calls(
        uid, "phoneNumber", survivor.get("phoneNumbers"), fill.get("phones")
    )
    calls += _locations_call(uid, survivor, fill) + _tag_calls(uid, survivor, fill)
    return calls


def missing(survivor: dict, fill: dict | None) -> list[str]:
    """Return the keys of fill values the survivor does not carry yet."""
    return [key for key, _call in fill_calls(survivor, fill)]


def _name_call(uid: str, survivor: dict, fill: dict) -> list[tuple[str, api.Call]]:
    name = fill.get("name")
    if not name or is_placeholder_name(name):
        return []
    if not is_placeholder_name(survivor.get("name")):
        return []
    return [("name", api.patch_call(uid, {"name": name}))]


def is_placeholder_name(name: object) -> bool:
    """Whether a name is empty, a placeholder, or only the digits of a phone."""
    if not isinstance(name, str):
        return True
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(c for c in folded if c not in string.punctuation)
    words = " ".join(kept.split())
    return words in PLACEHOLDER_NAMES or words.replace(" ", "").isdigit()


def _address_call(uid: str, survivor: dict, fill: dict) -> list[tuple[str, api.Call]]:
    current = survivor.get("address") or {}
    wanted = {k: v for k, v in (fill.get("address") or {}).items() if _text(v)}
    # A sub-field the survivor has (even one space-padded) is never replaced.
    lacking = {k: v for k, v in wanted.items() if not _text(current.get(k))}
    if not lacking:
        return []
    return [("address", api.patch_call(uid, {"address": lacking}))]


def _list_calls(
    uid: str, field: str, held: list | None, wanted: list | None
) -> list[tuple[str, api.Call]]:
    # PATCH adds one email or phone number a call.
    held_set = set(held or [])
    return [
        (f"{field}:{value}", api.patch_call(uid, {field: value}))
        for value in wanted or []
        if value and value not in held_set
    ]


def _locations_call(uid: str, survivor: dict, fill: dict) -> list[tuple[str, api.Call]]:
    held = [loc.get("uid") for loc in survivor.get("locations") or []]
    wanted = [_uid_of(loc) for loc in fill.get("locations") or []]
    lacking = [loc for loc in wanted if loc and loc not in held]
    if not lacking:
        return []
    # PATCH replaces the location list, so send the union.
    return [("locations", api.patch_call(uid, {"locations": held + lacking}))]


def _tag_calls(uid: str, survivor: dict, fill: dict) -> list[tuple[str, api.Call]]:
    held = {tag.get("uid") for tag in survivor.get("tags") or []}
    return [
        (f"tag:{tag['uid']}", api.tag_call(uid, tag["uid"]))
        for tag in fill.get("tags") or []
        if tag.get("uid") and tag["uid"] not in held
    ]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _uid_of(value: str | dict) -> str | None:
    return value if isinstance(value, str) else (value or {}).get("uid")
