"""The phone normaliser: one raw phone value in, one or more phone entries out.

A phone entry is the contract of ARCHITECTURE 4.1: ``raw``, ``e164``,
``extension``, ``natural_key``, ``national``, ``region``, ``number_type``,
``valid``, ``reason`` and ``parser_version``. ``natural_key`` is set only when
the number may be used to group contacts; ``reason`` then is ``None`` or
``business_line`` (a location's own number: kept visible so the SQL step can
route it to review as ``shared_line``, but never in ``natural_keys``).

Reasons a value is not a key, checked in this order:

- ``empty``: nothing but blanks.
- ``mangled_numeric``: a JSON number, a float string (``1234567891.0``, or
  ``12125550142,0`` with a decimal comma), scientific notation (``4.41E+11``),
  an extension made only of zeros behind a decimal mark, or bare digits that
  lost their trunk 0 (``412345678``; not short codes and service numbers,
  which are written without one). Spreadsheet damage; digits may be lost or
  added, so no recovery is attempted.
- ``oversized``: longer than any list of phone numbers a person types.
- ``has_letters``: letters that are not an extension label, a ``tel:`` URI or
  a bracketed annotation. The parser would drop them or read them as keypad
  digits, so a person must look at it. A bracketed note that holds a number
  (``(Home 02 9876 5432)``) gives that number its own entry; only the note's
  label is dropped.
- ``parse_failed``, ``short_code`` (short codes, and valid service numbers
  such as toll-free or shared-cost lines), ``not_valid``.
- ``suspicious_extension``: an extension of eight or more digits is most
  likely a second number glued on.
- ``business_line``: a location's own number, or an extension of it.
"""

from __future__ import annotations

import decimal
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, NamedTuple, TypedDict

import phonenumbers
from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberMatcher,
    PhoneNumberType,
    shortnumberinfo,
)

PARSER_VERSION: str = phonenumbers.__version__

# A field longer than this is not a phone number people type; the library
# itself refuses inputs over 250 characters.
MAX_FIELD_LENGTH = 250

# Extensions this long are a second number, not a desk extension (case R19).
SUSPICIOUS_EXTENSION_DIGITS = 8

# Valid numbers of these types belong to services, not to people.
SERVICE_NUMBER_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
    }
)

# A decimal mark is a point or, in many locales' exports, a comma.
_FLOAT_TEXT = re.compile(r"^\+?\d+(?:[.,]0+|(?:[.,]\d+)?[eE][+-]?\d+)$")
# Zeros behind a decimal mark, which the parser would read as an extension.
_DECIMAL_ZEROS = re.compile(r"\d[.,](0+)$")
# A bracketed note with this many digits holds a number, not a time or label.
NOTE_NUMBER_DIGITS = 6
_ANNOTATION = re.compile(r"[(\[{][^)\]}]*[^\W\d_][^)\]}]*[)\]}]")
_DANGLING_EXTENSION = re.compile(
    r"[\s,;:]*(?:ext(?:ension|n)?|x|#)[\s.:=]*$", re.IGNORECASE
)
_EXTENSION_LABEL = re.compile(
    r"(?:ext(?:ension|n)?|x)[\s.:=]*(?=\d+\s*$)", re.IGNORECASE
)
_LONG_EXTENSION = re.compile(
    rf"(?:ext(?:ension|n)?|x|#)[\s.:=]*\d{{{SUSPICIOUS_EXTENSION_DIGITS},}}\s*$",
    re.IGNORECASE,
)
_SEVERAL_NUMBERS = re.compile(r"[;/,|\n]|\s(?:or|and|&)\s", re.IGNORECASE)
_NOTE_LABEL = re.compile(r"^[^\d+(]*|[^\d)]*$")
_DIGITS_OF_ONE_NUMBER = 17


class Phone(TypedDict):
    """One phone entry of a contact, as the contacts stream emits it."""

    raw: str
    e164: str | None
    extension: str | None
    natural_key: str | None
    national: str | None
    region: str | None
    number_type: str | None
    valid: bool
    reason: str | None
    parser_version: str


def normalise_phone(
    raw: Any,
    region: str | None,
    business_keys: Iterable[str] = (),
) -> list[Phone]:
    """Normalise one raw phone value into one or more phone entries.

    Args:
        raw: An element of a contact's ``phoneNumbers``, as the API gave it.
        region: ISO country code used for numbers written without ``+``.
        business_keys: Natural keys of the locations' own phone lines.

    Returns:
        One entry per number found in the value; never empty.
    """
    business = frozenset(business_keys)
    if _is_json_number(raw):
        return [_rejected(str(raw), region, "mangled_numeric")]
    text = str(raw) if raw is not None else ""
    cleaned = clean_text(text)
    if len(cleaned) > MAX_FIELD_LENGTH:
        return [_rejected(text, region, "oversized")]
    if _FLOAT_TEXT.match(cleaned) or lost_trunk_zero(cleaned, region):
        return [_rejected(text, region, "mangled_numeric")]
    parts = [
        number
        for part in _split_notes(cleaned)
        for number in _split_numbers(part, region)
    ]
    return [_normalise_one(text, part, region, business) for part in parts]


def natural_key(e164: str, extension: str | None) -> str:
    """Build the natural key of a number: E.164, plus ``;ext=N`` if any."""
    return f"{e164};ext={extension}" if extension else e164


def lost_trunk_zero(text: str, region: str | None) -> bool:
    """Tell whether bare digits are a national number whose leading 0 was lost.

    Spreadsheets read ``0412345678`` as the integer ``412345678``. In regions
    whose national numbers start with a trunk 0, bare digits without it are
    that damage, not something a person types.
    """
    if not text.isdigit() or text.startswith("0") or region is None:
        return False
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix != "0":
        return False
    number = _parse(text, region)
    return (
        number is not None
        and phonenumbers.is_valid_number(number)
        and (phonenumbers.national_significant_number(number) == text)
        # Short codes and service numbers (AU 13 11 44, 1800 ...) are dialled
        # without a trunk 0, so bare digits are how people write them.
        and not _is_service_number(number, text, region)
    )


def _is_service_number(number: PhoneNumber, text: str, region: str) -> bool:
    service = phonenumbers.number_type(number) in SERVICE_NUMBER_TYPES
    return service or _is_short_code(text, region)


def clean_text(text: str) -> str:
    """Return text with Unicode spaces as spaces and any digits as ASCII.

    Tabs and spaces such as U+202F make the parser fail (case R16), format
    characters (zero-width space, direction marks) are invisible, and
    full-width or other-script digits are digits.
    """
    return " ".join("".join(map(_clean_char, text)).split())


def _clean_char(char: str) -> str:
    if char.isspace() or unicodedata.category(char) == "Zs":
        return " "
    if unicodedata.category(char) == "Cf":
        return ""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", char)


def _is_json_number(raw: Any) -> bool:
    return isinstance(raw, int | float | decimal.Decimal) and not isinstance(raw, bool)


def _split_notes(text: str) -> list[str]:
    """Give each number written inside a bracketed note its own part.

    ``(Home 02 9876 5432) 0491 570 156`` holds two numbers; dropping the note
    whole would lose one without a trace. Notes with few digits (``(after
    5pm)``, ``(ext 12)``) stay annotations.
    """
    notes = [
        note.group()
        for note in _ANNOTATION.finditer(text)
        if sum(char.isdigit() for char in note.group()) >= NOTE_NUMBER_DIGITS
    ]
    if not notes:
        return [text]
    rest = text
    for note in notes:
        rest = rest.replace(note, " ", 1)
    inner = [_NOTE_LABEL.sub("", note[1:-1]).strip() for note in notes]
    return [part for part in (" ".join(rest.split()), *inner) if part]


def _split_numbers(text: str, region: str | None) -> list[str]:
    """Find several numbers typed into one field (case R19).

    Only fields that look like more than one number are searched, because the
    matcher drops extensions written in some shapes (case R22).
    """
    if text.lower().startswith("tel:") or not _may_hold_several(text):
        return [text]
    matches = PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE)
    found = [match.raw_string for match in matches]
    return found if len(found) > 1 else [text]


def _may_hold_several(text: str) -> bool:
    digits = sum(char.isdigit() for char in text)
    return digits > _DIGITS_OF_ONE_NUMBER or bool(_SEVERAL_NUMBERS.search(text))


def _normalise_one(
    raw: str, text: str, region: str | None, business: frozenset[str]
) -> Phone:
    if not text:
        return _rejected(raw, region, "empty")
    text = _strip_labels(text)
    if _has_letters(text):
        return _candidate_with_letters(raw, text, region)
    return _parsed_entry(raw, text, region, business)


def _strip_labels(text: str) -> str:
    """Drop bracketed annotations and an extension label with no digits."""
    without_notes = _ANNOTATION.sub(" ", text)
    return " ".join(_DANGLING_EXTENSION.sub("", without_notes).split())


def _has_letters(text: str) -> bool:
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    text = _EXTENSION_LABEL.sub("", text)
    return any(char.isalpha() for char in text)


def _candidate_with_letters(raw: str, text: str, region: str | None) -> Phone:
    """Keep what the digits alone would give, for the person who reviews it."""
    digits_only = "".join(char for char in text if not char.isalpha())
    number = _parse(digits_only, region)
    if number is None:
        return _rejected(raw, region, "has_letters")
    return _entry(raw, _facts_of(number), region, reason="has_letters", key=None)


def _parsed_entry(
    raw: str, text: str, region: str | None, business: frozenset[str]
) -> Phone:
    number = _parse(text, region)
    if number is None:
        return _rejected(raw, region, _reason_unparsed(text, region))
    if _decimal_zeros_damage(text, number, region):
        return _rejected(raw, region, "mangled_numeric")
    facts = _facts_of(number)
    reason = _reason_not_a_key(facts)
    if reason is not None:
        return _entry(raw, facts, region, reason=reason, key=None)
    key = natural_key(facts.e164, facts.extension)
    # A desk extension on a location's own switchboard is that location's line.
    line = facts.e164 in business or key in business
    return _entry(raw, facts, region, reason="business_line" if line else None, key=key)


def _decimal_zeros_damage(text: str, number: PhoneNumber, region: str | None) -> bool:
    """Tell whether trailing zeros are a float's ``.0`` or ``,00`` (case R05).

    The parser reads a comma, and some points, as an extension mark, and
    other points as punctuation that glues the zeros on as digits. Either way
    the zeros are a decimal fraction: an extension of only those zeros, or a
    number that is valid only without them, is spreadsheet damage.
    """
    zeros = _DECIMAL_ZEROS.search(text)
    if zeros is None:
        return False
    if number.extension == zeros.group(1):
        return True
    before = _parse(text[: zeros.start(1) - 1], region)
    return (
        not phonenumbers.is_valid_number(number)
        and before is not None
        and phonenumbers.is_valid_number(before)
    )


def _reason_unparsed(text: str, region: str | None) -> str:
    if _is_short_code(text, region):
        return "short_code"
    if _LONG_EXTENSION.search(text):
        return "suspicious_extension"
    return "parse_failed"


def _reason_not_a_key(facts: _Facts) -> str | None:
    if not facts.valid:
        short = shortnumberinfo.is_valid_short_number(facts.number)
        return "short_code" if short else "not_valid"
    if facts.number_type in SERVICE_NUMBER_TYPES:
        return "short_code"
    if len(facts.extension or "") >= SUSPICIOUS_EXTENSION_DIGITS:
        return "suspicious_extension"
    return None


def _parse(text: str, region: str | None) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def _is_short_code(text: str, region: str | None) -> bool:
    digits = "".join(char for char in text if char.isdigit())
    if not digits or region is None:
        return False
    number = PhoneNumber(
        country_code=phonenumbers.country_code_for_region(region),
        national_number=int(digits),
    )
    return shortnumberinfo.is_valid_short_number_for_region(number, region)


class _Facts(NamedTuple):
    """What the library says about one parsed number, each asked once."""

    number: PhoneNumber
    e164: str
    extension: str | None
    region: str | None
    valid: bool
    number_type: int


def _facts_of(number: PhoneNumber) -> _Facts:
    region = phonenumbers.region_code_for_number(number)
    return _Facts(
        number=number,
        # format_number keeps an Italian leading zero that national_number
        # alone loses (case R08).
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        extension=number.extension or None,
        region=region,
        valid=phonenumbers.is_valid_number_for_region(number, region),
        number_type=phonenumbers.number_type(number),
    )


def _entry(
    raw: str,
    facts: _Facts,
    region: str | None,
    *,
    reason: str | None,
    key: str | None,
) -> Phone:
    national = phonenumbers.format_number(facts.number, PhoneNumberFormat.NATIONAL)
    return Phone(
        raw=raw,
        e164=facts.e164,
        extension=facts.extension,
        natural_key=key,
        national=national,
        region=facts.region or region,
        number_type=PhoneNumberType.to_string(facts.number_type),
        valid=facts.valid,
        reason=reason,
        parser_version=PARSER_VERSION,
    )


def _rejected(raw: str, region: str | None, reason: str) -> Phone:
    return Phone(
        raw=raw,
        e164=None,
        extension=None,
        natural_key=None,
        national=None,
        region=region,
        number_type=None,
        valid=False,
        reason=reason,
        parser_version=PARSER_VERSION,
    )
