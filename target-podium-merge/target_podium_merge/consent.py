"""The consent target of a cluster, and the opt-outs that put it on the survivor.

The target only ever removes consent: no function here yields an opt-in.

Consent belongs to a channel, and Podium applies a consent call to every contact
that carries the channel's identifier. So the target writes phone consent only on
channels that hold one of the cluster's own numbers (the natural key, or a number
the fill adds): a damaged string such as `6.15E+10`, which many unrelated contacts
share, is never opted out on their behalf.
"""

from __future__ import annotations

from target_podium_merge import client as api
from target_podium_merge import keys


def effective_target(plan: dict, pre_images: dict[str, dict]) -> dict:
    """Return the plan's consent target, strengthened by the members' live consent.

    A plan may come from a stale warehouse, so every opt-out seen on a member's
    live channels is added, and marketing consent only narrows.
    """
    planned = plan.get("consent_target") or {}
    contacts = [c for c in pre_images.values() if c]
    sms = bool(planned.get("sms_opt_out")) or _any_opted_out(contacts, "PHONE")
    email = bool(planned.get("email_opt_out")) or _any_opted_out(contacts, "EMAIL")
    locations = set(planned.get("marketing_opted_in_location_uids") or [])
    kept = set() if sms else {loc for loc in locations if _all_opted_in(contacts, loc)}
    return {
        "sms_opt_out": sms,
        "email_opt_out": email,
        "marketing_opted_in_location_uids": sorted(kept),
        "phone_numbers": keys.cluster_numbers(plan),
    }


def opt_out_calls(survivor: dict, target: dict) -> list[tuple[str, api.Call]]:
    """Return (operation key, call) for every opt-out the survivor still needs."""
    calls: list[tuple[str, api.Call]] = []
    for channel in survivor.get("channels") or []:
        calls.extend(_channel_calls(channel, target))
    return calls


def unmet(survivor: dict, target: dict) -> list[str]:
    """Return which parts of the consent target the survivor does not carry."""
    return [key for key, _call in opt_out_calls(survivor, target)]


def _channel_calls(channel: dict, target: dict) -> list[tuple[str, api.Call]]:
    kind, identifier = channel.get("type"), channel.get("identifier")
    if kind == "PHONE" and not keys.holds_number(identifier, target["phone_numbers"]):
        return []
    calls = []
    wants_out = (kind == "PHONE" and target["sms_opt_out"]) or (
        kind == "EMAIL" and target["email_opt_out"]
    )
    if wants_out and not channel.get("transactionalOptedOutAt"):
        key = f"transactional_opt_out:{kind}:{identifier}"
        calls.append((key, api.transactional_opt_out_call(identifier, kind)))
    if kind == "PHONE":
        calls.extend(_marketing_calls(channel, target))
    return calls


def _marketing_calls(channel: dict, target: dict) -> list[tuple[str, api.Call]]:
    identifier = channel.get("identifier")
    opted_in = set(channel.get("marketingOptedInLocationUids") or [])
    extra = sorted(opted_in - set(target["marketing_opted_in_location_uids"]))
    if not extra:
        return []
    if target["sms_opt_out"]:
        # One call removes every location when the channel must lose them all.
        key = f"campaigns_opt_out:{identifier}:*"
        return [(key, api.campaigns_opt_out_call(identifier, "PHONE", None))]
    return [
        (
            f"campaigns_opt_out:{identifier}:{location}",
            api.campaigns_opt_out_call(identifier, "PHONE", location),
        )
        for location in extra
    ]


def _any_opted_out(contacts: list[dict], kind: str) -> bool:
    return any(
        channel.get("transactionalOptedOutAt")
        for contact in contacts
        for channel in contact.get("channels") or []
        if channel.get("type") == kind
    )


def _all_opted_in(contacts: list[dict], location: str) -> bool:
    """Whether every member of the location is opted in there on a phone channel."""
    for contact in contacts:
        belongs = {loc.get("uid") for loc in contact.get("locations") or []}
        if location in belongs and location not in _marketing(contact):
            return False
    return True


def _marketing(contact: dict) -> set[str]:
    return {
        loc
        for channel in contact.get("channels") or []
        if channel.get("type") == "PHONE"
        for loc in channel.get("marketingOptedInLocationUids") or []
    }
