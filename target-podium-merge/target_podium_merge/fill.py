"""Field values the survivor lacks and a duplicate has (the plan's `fill`)."""

from __future__ import annotations

from target_podium_merge import client as api


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
    if not name or survivor.get("name") == name:
        return []
    return [("name", api.patch_call(uid, {"name": name}))]


def _address_call(uid: str, survivor: dict, fill: dict) -> list[tuple[str, api.Call]]:
    current = survivor.get("address") or {}
    wanted = {k: v for k, v in (fill.get("address") or {}).items() if v}
    lacking = {k: v for k, v in wanted.items() if not current.get(k)}
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


def _uid_of(value: str | dict) -> str | None:
    return value if isinstance(value, str) else (value or {}).get("uid")
