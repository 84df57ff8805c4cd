"""Reading a raw phone string as the real service's lookups do."""

from __future__ import annotations

import re

import phonenumbers

# Tabs and the narrow no-break space are not phone punctuation for
# libphonenumber; people paste them anyway, so any whitespace counts as a space.
_WHITESPACE = re.compile(r"\s+")


def fold_whitespace(raw: str) -> str:
    """Replace every run of Unicode whitespace with one ASCII space."""
    return _WHITESPACE.sub(" ", raw).strip()


def parse(raw: object, region: str) -> phonenumbers.PhoneNumber | None:
    """Parse a phone string in a region; None when it is not a phone string."""
    if not isinstance(raw, str):
        return None
    try:
        return phonenumbers.parse(fold_whitespace(raw), region)
    except phonenumbers.NumberParseException:
        return None


def e164_of(raw: object, region: str) -> str | None:
    """The E.164 form of a valid phone string, else None (extension ignored)."""
    number = parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def natural_key_of(raw: object, region: str) -> str | None:
    """E.164 plus `;ext=N` when the number carries an extension, else None."""
    number = parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    key = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{key};ext={number.extension}" if number.extension else key
