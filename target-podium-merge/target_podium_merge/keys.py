"""Whether a live contact carries a plan's natural key.

A plan may come from any warehouse, so the target does not trust its
`natural_key`: before any write it normalises each live member's raw
`phoneNumbers` and requires every member to carry the key (E.164 plus
extension). Raw strings without a `+` are read under the region of the key's
own country code, the only region the key itself tells us.
"""

from __future__ import annotations

import unicodedata

import phonenumbers

EXTENSION_MARK = ";ext="
# A raw string longer than this is not one phone number; it is never parsed whole.
MAX_RAW_LENGTH = 250


def parse_key(natural_key: object) -> tuple[str, str | None] | None:
    """Split a natural key into (E.164, extension); None when it is not one.

    A key is a valid number in E.164, plus `;ext=N` when it has an extension.
    """
    if not isinstance(natural_key, str) or not natural_key.startswith("+"):
        return None
    e164, marked, extension = natural_key.partition(EXTENSION_MARK)
    if marked and not extension.isdigit():
        return None
    number = _parse(e164, None)
    if number is None or _e164(number) != e164 or number.extension:
        return None
    # Only valid numbers are keys (ARCHITECTURE section 5).
    if not phonenumbers.is_valid_number(number):
        return None
    return e164, extension or None


def carries_key(contact: dict, natural_key: str) -> bool:
    """Whether one of the contact's raw phone strings normalises to the key."""
    key = parse_key(natural_key)
    if key is None:
        return False
    region = _region_of(key[0])
    return any(
        key in _keys_of(raw, region) for raw in contact.get("phoneNumbers") or []
    )


def members_without_key(live: dict[str, dict | None], natural_key: str) -> list[str]:
    """Return the uids of live members that do not carry the key, sorted."""
    return sorted(
        uid
        for uid, contact in live.items()
        if contact is not None and not carries_key(contact, natural_key)
    )


def cluster_numbers(plan: dict) -> list[str]:
    """Return the E.164 numbers that belong to a cluster: its key and filled phones."""
    key = parse_key(plan.get("natural_key"))
    filled = (plan.get("fill") or {}).get("phones") or []
    numbers = {key[0]} if key else set()
    numbers.update(phone for phone in filled if isinstance(phone, str))
    return sorted(numbers)


def holds_number(raw: object, numbers: list[str]) -> bool:
    """Whether a raw phone string is one of the given E.164 numbers.

    Each number is tried under its own country's region, so a national spelling
    (`0412 345 678`) matches its E.164 form (`+61412345678`).
    """
    for e164 in numbers:
        found = _keys_of(raw, _region_of(e164))
        if any(number == e164 for number, _extension in found):
            return True
    return False


def _keys_of(raw: object, region: str | None) -> set[tuple[str, str | None]]:
    """Every (E.164, extension) a raw phone string holds (several when typed so)."""
    if not isinstance(raw, str) or len(raw) > MAX_RAW_LENGTH:
        return set()
    text = _clean(raw)
    whole = _parse(text, region)
    found = {_key_of(whole)} if whole is not None else set()
    # Several numbers typed into one field: find each of them.
    matcher = phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE
    )
    found.update(_key_of(match.number) for match in matcher)
    return found


def _key_of(number: phonenumbers.PhoneNumber) -> tuple[str, str | None]:
    return _e164(number), number.extension or None


def _clean(raw: str) -> str:
    """Unicode spaces as spaces, format characters dropped, digits as ASCII."""
    kept = (
        " " if char.isspace() else char
        for char in raw
        if unicodedata.category(char) != "Cf"
    )
    return unicodedata.normalize("NFKC", "".join(kept)).strip()


def _region_of(e164: str) -> str | None:
    number = _parse(e164, None)
    if number is None:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    # Non-geographic codes (001) and unknown codes (ZZ) name no region to parse in.
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
