"""Phone numbers for generated people, and the shapes people type them in.

`new_number` draws a valid, unused number of a kind (AU mobile, AU landline,
US number). `typed` writes a number the way a person or a front desk would;
every shape it returns parses back, in the person's region, to the number's
natural key (checked here, with the E.164 form as the fallback). `damaged`
writes it the way spreadsheets break phone columns; those strings must not
become keys.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers
from phonenumbers import PhoneNumberFormat

from podium_emulator.phones import natural_key_of

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
FULL_WIDTH = {ord("0") + digit: 0xFF10 + digit for digit in range(10)}
EXIT_CODES = {"AU": "0011", "US": "011"}
US_AREA_CODES = (
    "212", "213", "303", "312", "404", "415", "503", "512", "602", "617",
    "702", "720", "801", "206", "214", "305", "615", "704", "919", "971",
)  # fmt: skip
AU_LANDLINE_PREFIXES = ("2 9", "2 8", "3 9", "3 8", "7 3", "8 9", "8 8")


def new_number(rng: random.Random, kind: str, used: set[str]) -> str:
    """A valid E.164 number of `kind` (`au_mobile`, `au_landline`, `us`), unused.

    Raises:
        RuntimeError: when no valid unused number turns up in 1,000 draws.
    """
    for _ in range(1000):
        candidate = _DRAWS[kind](rng)
        number = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(number) and candidate not in used:
            used.add(candidate)
            return candidate
    raise RuntimeError(f"could not draw an unused valid {kind} number")


def _au_mobile(rng: random.Random) -> str:
    return "+614" + "".join(rng.choice("0123456789") for _ in range(8))


def _au_landline(rng: random.Random) -> str:
    prefix = rng.choice(AU_LANDLINE_PREFIXES).replace(" ", "")
    return "+61" + prefix + "".join(rng.choice("0123456789") for _ in range(7))


def _us(rng: random.Random) -> str:
    exchange = str(rng.randint(2, 9)) + f"{rng.randint(0, 99):02d}"
    line = f"{rng.randint(0, 9999):04d}"
    return "+1" + rng.choice(US_AREA_CODES) + exchange + line


_DRAWS: dict[str, Callable[[random.Random], str]] = {
    "au_mobile": _au_mobile,
    "au_landline": _au_landline,
    "us": _us,
}


# -- typed shapes -----------------------------------------------------------


def _formats(e164: str) -> tuple[str, str]:
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return national, international


def _national(e164: str, region: str) -> str:
    return _formats(e164)[0]


def _national_compact(e164: str, region: str) -> str:
    return "".join(ch for ch in _formats(e164)[0] if ch.isdigit())


def _national_dashed(e164: str, region: str) -> str:
    national = _formats(e164)[0].replace("(", "").replace(")", "")
    return "-".join(national.split())


def _national_dotted(e164: str, region: str) -> str:
    national = _formats(e164)[0].replace("(", "").replace(")", "").replace("-", " ")
    return ".".join(national.split())


def _bracketed(e164: str, region: str) -> str:
    """`(04) 1234-5678`: an area-code habit applied to a mobile."""
    digits = _national_compact(e164, region)
    return f"({digits[:2]}) {digits[2:6]}-{digits[6:]}"


def _international(e164: str, region: str) -> str:
    return _formats(e164)[1]


def _e164(e164: str, region: str) -> str:
    return e164


def _trunk_in_brackets(e164: str, region: str) -> str:
    """`+61 (0)412 345 678`: the domestic trunk 0 kept in brackets."""
    international = _formats(e164)[1]
    code, _, rest = international.partition(" ")
    return f"{code} (0){rest}"


def _exit_code(e164: str, region: str) -> str:
    """`0011 61 412 345 678`: dialled from abroad with the region's exit code."""
    return EXIT_CODES[region] + " " + _formats(e164)[1].lstrip("+")


def _tel_uri(e164: str, region: str) -> str:
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, PhoneNumberFormat.RFC3966)


def _with_nbsp(e164: str, region: str) -> str:
    return _formats(e164)[0].replace(" ", NBSP)


def _with_narrow_nbsp(e164: str, region: str) -> str:
    return _formats(e164)[1].replace(" ", NARROW_NBSP)


def _with_tabs(e164: str, region: str) -> str:
    return _formats(e164)[0].replace(" ", "\t")


def _full_width(e164: str, region: str) -> str:
    return _national_compact(e164, region).translate(FULL_WIDTH)


def _us_with_one(e164: str, region: str) -> str:
    national = _formats(e164)[0].replace("(", "").replace(") ", "-")
    return "1-" + national


SHAPES: dict[str, Callable[[str, str], str]] = {
    "national": _national,
    "national_compact": _national_compact,
    "national_dashed": _national_dashed,
    "national_dotted": _national_dotted,
    "bracketed": _bracketed,
    "international": _international,
    "e164": _e164,
    "trunk_in_brackets": _trunk_in_brackets,
    "exit_code": _exit_code,
    "tel_uri": _tel_uri,
    "nbsp": _with_nbsp,
    "narrow_nbsp": _with_narrow_nbsp,
    "tabs": _with_tabs,
    "full_width": _full_width,
    "us_with_one": _us_with_one,
}
# Common shapes come up more often, as they do in real front-desk data.
SHAPE_WEIGHTS = {
    "national": 10, "national_compact": 6, "national_dashed": 3, "national_dotted": 1,
    "bracketed": 1, "international": 6, "e164": 6, "trunk_in_brackets": 2,
    "exit_code": 1, "tel_uri": 1, "nbsp": 1, "narrow_nbsp": 1, "tabs": 1,
    "full_width": 1, "us_with_one": 2,
}  # fmt: skip
# Habits of one country that do not parse in the other.
NOT_IN_REGION = {"AU": {"us_with_one"}, "US": {"trunk_in_brackets"}}


def shapes_for(region: str) -> list[str]:
    """The shape names people in a region use."""
    return [name for name in SHAPES if name not in NOT_IN_REGION.get(region, set())]


def typed(
    rng: random.Random, e164: str, region: str, extension: str | None = None
) -> str:
    """The number as a person might type it; parses back to its natural key.

    A drawn shape that would not parse back is redrawn; after three misses
    the E.164 form is used (never seen for the generated numbers).
    """
    names = shapes_for(region)
    weights = [SHAPE_WEIGHTS[name] for name in names]
    expected = f"{e164};ext={extension}" if extension else e164
    for shape in rng.choices(names, weights=weights, k=3):
        raw = SHAPES[shape](e164, region)
        if extension:
            raw = _with_extension(rng, raw, extension)
        if natural_key_of(raw, region) == expected:
            return raw
    return f"{e164} ext. {extension}" if extension else e164


def _with_extension(rng: random.Random, raw: str, extension: str) -> str:
    if raw.startswith("tel:"):
        return f"{raw};ext={extension}"
    return raw + rng.choice(
        [f" ext {extension}", f" x{extension}", f" ext. {extension}"]
    )


# -- damage -----------------------------------------------------------------


def damaged(rng: random.Random, e164: str, region: str) -> tuple[str | int, str]:
    """The number broken as spreadsheets break it, and the kind of damage.

    Kinds: `trailing_point_zero` (`61412345678.0`), `scientific` (`6.14E+10`),
    `lost_leading_zero` (`412345678`, AU only) and `json_number` (a JSON
    number instead of a string).
    """
    digits = e164.lstrip("+")
    # A JSON number breaks the contact schema, so it stays the rarest damage.
    weights = {"trailing_point_zero": 3, "scientific": 3, "json_number": 1}
    if region == "AU":
        weights["lost_leading_zero"] = 3
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    if kind == "trailing_point_zero":
        return digits + ".0", kind
    if kind == "scientific":
        return f"{float(digits):.2E}", kind
    if kind == "lost_leading_zero":
        return _national_compact(e164, region).lstrip("0"), kind
    return int(digits), kind
