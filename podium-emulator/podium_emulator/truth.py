"""Ground truth: the right outcome for each set of contacts that share a key.

The rules are the product's defaults (ARCHITECTURE section 5, contracts
section 6), written out simply so the SQL step can be reconciled against them:

1. Natural keys of a contact: for every phone string that was not deliberately
   damaged, the E.164 form of the number as parsed in the contact's region
   (its first location's country), plus `;ext=N` when it has an extension.
   Only valid numbers are keys. A key held by two or more contacts is a group;
   a key held by one contact is not.
2. Names are compared normalised: NFKC, casefold, "Last, First" turned into
   "first last" (at the first comma), punctuation removed, whitespace
   collapsed. Suffixes (sr, jr, ii, iii, iv) stay, so they differ.
   Placeholders (no name, "unknown", "customer", "no name", "n/a", digits
   only) match any name on a key whose number type is MOBILE or
   FIXED_LINE_OR_MOBILE, and score no name points on any other key.
3. Pair score, in hundredths to stay exact: 60 for the shared key, +20 same
   name, +15 a common email (casefolded), +5 a common tag label.
4. Review reasons, each checked on the whole group: `shared_line` (the key is
   a location's phone number, or more than 5 contacts hold it),
   `consent_conflict` (a member's `marketing_opted_in_at` is later than
   another member's `sms_opted_out_at`), `cross_location` (the members'
   location sets have no uid in common), `name_conflict` (a pair of two
   different real names), `below_threshold` (another pair scores under 80).
   `reason` is the first of `reasons` in that order; no reason means `merge`.
5. `primary_uid`: most populated fields (contracts section 5), then latest
   `updatedAt`, then lowest uid.

Groups of `leave` carry `natural_key: null`: contacts that share a string that
must never become a key (a short code) or a switchboard number under different
extensions. `check_precision` proves no merge group mixes two people.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from itertools import combinations

import phonenumbers

from podium_emulator.phones import natural_key_of, parse

PLACEHOLDER_NAMES = {"", "unknown", "customer", "no name", "na"}
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
REASON_PRIORITY = (
    "restored_after_merge",
    "shared_line",
    "consent_conflict",
    "cross_location",
    "name_conflict",
    "below_threshold",
)
MERGE_THRESHOLD = 80
MAX_CONTACTS_PER_KEY = 5
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_DIGITS_ONLY = re.compile(r"[\d\s]*")


def normalise_name(name: str | None) -> str:
    """The comparable form of a contact name (rule 2)."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    text = _PUNCTUATION.sub("", text)
    return " ".join(text.split())


def is_placeholder(name: str | None) -> bool:
    """Whether a name says nothing about who the person is."""
    normalised = normalise_name(name)
    return normalised in PLACEHOLDER_NAMES or bool(_DIGITS_ONLY.fullmatch(normalised))


def field_count(contact: dict) -> int:
    """Populated user-visible values (contracts section 5)."""
    address = contact.get("address") or {}
    return (
        (0 if is_placeholder(contact.get("name")) else 1)
        + len(contact.get("emails") or [])
        + len(contact.get("phoneNumbers") or [])
        + sum(1 for value in address.values() if value)
        + len(contact.get("tags") or [])
        + sum(1 for a in contact.get("attributes") or [] if a.get("value") is not None)
    )


def consent_view(contact: dict) -> dict:
    """The consent timestamps the conflict rule needs (contracts section 5)."""
    phones = [c for c in contact.get("channels") or [] if c.get("type") == "PHONE"]
    opted_out = [
        c["transactionalOptedOutAt"] for c in phones if c.get("transactionalOptedOutAt")
    ]
    opted_in = [c["updatedAt"] for c in phones if c.get("marketingOptedInLocationUids")]
    return {
        "sms_opted_out_at": max(opted_out, default=None),
        "marketing_opted_in_at": max(opted_in, default=None),
    }


def contact_keys(contact: dict, region: str, damaged: set) -> list[str]:
    """The natural keys of a contact (rule 1), sorted and distinct."""
    keys = {
        natural_key_of(raw, region)
        for raw in contact.get("phoneNumbers") or []
        if isinstance(raw, str) and raw not in damaged
    }
    return sorted(key for key in keys if key)


def build_truth(
    contacts: list[dict],
    locations: list[dict],
    people: dict[str, str],
    damaged: dict[str, list],
    leave_groups: list[dict],
) -> list[dict]:
    """Every `contact` row, then every `group` row, in a stable order."""
    region_of = _regions(locations)
    business_lines = _business_lines(locations)
    rows, holders = [], defaultdict(list)
    by_uid = {contact["uid"]: contact for contact in contacts}
    for contact in contacts:
        region = region_of(contact)
        keys = contact_keys(
            contact, region, set(map(str, damaged.get(contact["uid"], [])))
        )
        for key in keys:
            holders[key].append(contact["uid"])
        rows.append(_contact_row(contact, people, region, keys, damaged))
    for key in sorted(holders):
        if len(holders[key]) > 1:
            members = [by_uid[uid] for uid in sorted(holders[key])]
            rows.append(judge_group(key, members, business_lines))
    return rows + leave_groups


def _contact_row(contact, people, region, keys, damaged) -> dict:
    return {
        "kind": "contact",
        "uid": contact["uid"],
        "person": people[contact["uid"]],
        "region": region,
        "e164": keys,
        "damaged": damaged.get(contact["uid"], []),
    }


def _regions(locations: list[dict]):
    country = {loc["uid"]: loc["addressDetails"]["country"] for loc in locations}

    def region_of(contact: dict) -> str:
        for location in contact.get("locations") or []:
            if location["uid"] in country:
                return country[location["uid"]]
        return "US"

    return region_of


def _business_lines(locations: list[dict]) -> set[str]:
    lines = set()
    for location in locations:
        for field in ("phoneNumber", "podiumPhoneNumber"):
            if location.get(field):
                lines.add(location[field])
    return lines


def judge_group(key: str, members: list[dict], business_lines: set[str]) -> dict:
    """The outcome of one group of contacts sharing a natural key (rules 3-5)."""
    reasons = set()
    if key.split(";")[0] in business_lines or len(members) > MAX_CONTACTS_PER_KEY:
        reasons.add("shared_line")
    if _consent_conflict(members):
        reasons.add("consent_conflict")
    if not set.intersection(*(_location_uids(m) for m in members)):
        reasons.add("cross_location")
    reasons |= _pair_reasons(key, members)
    ordered = [reason for reason in REASON_PRIORITY if reason in reasons]
    return {
        "kind": "group",
        "natural_key": key,
        "uids": [m["uid"] for m in members],
        "outcome": "review" if ordered else "merge",
        "reason": ordered[0] if ordered else None,
        "reasons": ordered,
        "primary_uid": choose_primary(members),
    }


def _location_uids(contact: dict) -> set[str]:
    return {location["uid"] for location in contact.get("locations") or []}


def _consent_conflict(members: list[dict]) -> bool:
    views = [consent_view(member) for member in members]
    for index, view in enumerate(views):
        for other_index, other in enumerate(views):
            opted_in, opted_out = (
                view["marketing_opted_in_at"],
                other["sms_opted_out_at"],
            )
            if index != other_index and opted_in and opted_out and opted_in > opted_out:
                return True
    return False


def _pair_reasons(key: str, members: list[dict]) -> set[str]:
    mobile = _is_mobile_key(key)
    reasons = set()
    for first, second in combinations(members, 2):
        score, conflict = pair_score(first, second, mobile)
        if conflict:
            reasons.add("name_conflict")
        elif score < MERGE_THRESHOLD:
            reasons.add("below_threshold")
    return reasons


def _is_mobile_key(key: str) -> bool:
    number = parse(key.split(";")[0], "US")
    return number is not None and phonenumbers.number_type(number) in MOBILE_TYPES


def pair_score(first: dict, second: dict, mobile_key: bool) -> tuple[int, bool]:
    """The pair's score in hundredths, and whether two real names differ."""
    score, conflict = 60, False
    placeholder = is_placeholder(first.get("name")) or is_placeholder(
        second.get("name")
    )
    if placeholder:
        score += 20 if mobile_key else 0
    elif normalise_name(first.get("name")) == normalise_name(second.get("name")):
        score += 20
    else:
        conflict = True
    if _folded(first.get("emails")) & _folded(second.get("emails")):
        score += 15
    if _labels(first) & _labels(second):
        score += 5
    return score, conflict


def _folded(emails: list[str] | None) -> set[str]:
    return {email.casefold() for email in emails or []}


def _labels(contact: dict) -> set[str]:
    return {tag["label"] for tag in contact.get("tags") or []}


def choose_primary(members: list[dict]) -> str:
    """Most fields, then latest `updatedAt`, then lowest uid."""
    best = sorted(members, key=lambda m: m["uid"])
    best = sorted(best, key=lambda m: (field_count(m), m["updatedAt"]), reverse=True)
    return best[0]["uid"]


def check_precision(truth: list[dict]) -> None:
    """Prove that no merge group holds contacts of two different people.

    Raises:
        AssertionError: naming the group, when the generator planted a bad merge.
    """
    person = {row["uid"]: row["person"] for row in truth if row["kind"] == "contact"}
    for row in truth:
        if row["kind"] == "group" and row["outcome"] == "merge":
            people = {person[uid] for uid in row["uids"]}
            if len(people) > 1:
                raise AssertionError(
                    f"group {row['natural_key']} would merge people {sorted(people)}"
                )
