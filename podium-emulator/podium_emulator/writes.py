"""What each contact write does to a contact object (docs/contracts.md section 2).

Each function changes one contact dict in place and returns whether anything
changed, so the store bumps `updatedAt` only for real changes.
"""

from __future__ import annotations

from podium_emulator import clock

ADDRESS_FIELDS = (
    "addressLine1",
    "addressLine2",
    "city",
    "country",
    "postalCode",
    "state",
)


def new_channel(identifier: str, kind: str, stamp: str) -> dict:
    """A channel for a new phone or email, with no consent given or withdrawn."""
    return {
        "identifier": identifier,
        "type": kind,
        "label": None,
        "marketingOptedInLocationUids": [],
        "transactionalOptedOutAt": None,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def apply_patch(contact: dict, body: dict) -> bool:
    """Apply a PATCH or an upsert body; see the module docstring."""
    stamp = clock.to_iso(clock.now())
    changed = False
    if "name" in body and body["name"] != contact.get("name"):
        contact["name"], changed = body["name"], True
    if body.get("email"):
        changed |= _add_value(contact, "emails", body["email"], "EMAIL", stamp)
    if body.get("phoneNumber"):
        changed |= _add_value(
            contact, "phoneNumbers", body["phoneNumber"], "PHONE", stamp
        )
    if body.get("address"):
        changed |= _replace_address(contact, body["address"])
    if "locations" in body:
        changed |= _replace_locations(contact, body["locations"])
    if body.get("conversationUid"):
        changed |= _add_conversation(contact, body["conversationUid"])
    return changed


def _add_value(contact: dict, field: str, value: str, kind: str, stamp: str) -> bool:
    values = contact.get(field) or []
    if value in values:
        return False
    contact[field] = [*values, value]
    contact.setdefault("channels", []).append(new_channel(value, kind, stamp))
    return True


def _replace_address(contact: dict, address: dict) -> bool:
    current = contact.get("address") or dict.fromkeys(ADDRESS_FIELDS)
    updated = {**current, **address}
    contact["address"] = updated
    return updated != current


def _replace_locations(contact: dict, location_uids: list[str]) -> bool:
    locations = [{"uid": uid} for uid in location_uids]
    if locations == contact.get("locations"):
        return False
    contact["locations"] = locations
    return True


def _add_conversation(contact: dict, conversation_uid: str) -> bool:
    conversations = contact.setdefault("conversations", [])
    if any(c["uid"] == conversation_uid for c in conversations):
        return False
    conversations.append({"uid": conversation_uid})
    return True


def sync_channels(contact: dict) -> None:
    """Give every phone and email a channel and drop channels of removed ones."""
    stamp = clock.to_iso(clock.now())
    wanted = [(str(p), "PHONE") for p in contact.get("phoneNumbers") or []]
    wanted += [(e, "EMAIL") for e in contact.get("emails") or []]
    kept = [
        channel
        for channel in contact.get("channels") or []
        if (channel["identifier"], channel["type"]) in wanted
    ]
    present = {(channel["identifier"], channel["type"]) for channel in kept}
    for identifier, kind in wanted:
        if (identifier, kind) not in present:
            kept.append(new_channel(identifier, kind, stamp))
    contact["channels"] = kept


def add_tag(contact: dict, tag: dict) -> bool:
    """Add a tag unless the contact already has it."""
    tags = contact.setdefault("tags", [])
    if any(t["uid"] == tag["uid"] for t in tags):
        return False
    tags.append(dict(tag))
    return True


def remove_tag(contact: dict, tag_uid: str) -> bool:
    """Remove a tag if the contact has it."""
    tags = contact.get("tags") or []
    kept = [t for t in tags if t["uid"] != tag_uid]
    contact["tags"] = kept
    return len(kept) != len(tags)


def set_attribute(contact: dict, attribute: dict, value: str) -> bool:
    """Set an attribute's value, adding the attribute if the contact lacks it."""
    attributes = contact.setdefault("attributes", [])
    for entry in attributes:
        if entry["uid"] == attribute["uid"]:
            changed = entry.get("value") != value
            entry["value"] = value
            return changed
    attributes.append({**attribute, "value": value})
    return True


def remove_attribute(contact: dict, attribute_uid: str) -> bool:
    """Remove an attribute if the contact has it."""
    attributes = contact.get("attributes") or []
    kept = [a for a in attributes if a["uid"] != attribute_uid]
    contact["attributes"] = kept
    return len(kept) != len(attributes)


def change_consent(
    contact: dict, identifier: str, operation: str, location: str | None
):
    """Apply one consent operation to the contact's channel with this identifier."""
    changed = False
    for channel in contact.get("channels") or []:
        if channel["identifier"] == identifier and _consent(
            channel, operation, location
        ):
            channel["updatedAt"] = clock.bumped(channel.get("updatedAt"))
            changed = True
    return changed


def _consent(channel: dict, operation: str, location: str | None) -> bool:
    if operation == "transactional/opt_out":
        if channel.get("transactionalOptedOutAt"):
            return False
        channel["transactionalOptedOutAt"] = clock.to_iso(clock.now())
        return True
    if operation == "transactional/opt_in":
        was = channel.get("transactionalOptedOutAt")
        channel["transactionalOptedOutAt"] = None
        return was is not None
    return _marketing(channel, operation, location)


def _marketing(channel: dict, operation: str, location: str | None) -> bool:
    current = list(channel.get("marketingOptedInLocationUids") or [])
    if operation == "campaigns/opt_in":
        updated = current if location in current else [*current, location]
    elif location is None:
        updated = []
    else:
        updated = [uid for uid in current if uid != location]
    channel["marketingOptedInLocationUids"] = updated
    return updated != current
