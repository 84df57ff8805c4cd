"""Name normalisation and placeholder detection for pair scoring.

A normalised name is compared as a whole: two real names score the name points
only when their normalised forms are equal. Generational suffixes stay in the
normalised form (moved to the end) so "Rob Vance Sr." never equals
"Rob Vance Jr.".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

GENERATIONAL_SUFFIXES = frozenset({"sr", "jr", "ii", "iii", "iv"})

DEFAULT_PLACEHOLDER_NAMES = ("unknown", "customer", "no name", "n/a")

_ASCII_PUNCTUATION = str.maketrans(
    {
        chr(code): None
        for code in range(128)
        if unicodedata.category(chr(code))[0] == "P"
    }
)


def normalise_name(name: str | None) -> str:
    """Return the comparable form of a contact name.

    NFKC, casefold, "Last, First" turned into "first last", punctuation
    removed, whitespace collapsed, generational suffixes moved to the end.

    Args:
        name: The name as Podium returns it, or None.

    Returns:
        The normalised name; an empty string for a missing name.
    """
    if not name:
        return ""
    if name.isascii():
        # The same steps, fast: NFKC changes no ASCII and casefold is lower.
        tokens = _first_name_first(name.lower()).translate(_ASCII_PUNCTUATION).split()
    else:
        folded = unicodedata.normalize("NFKC", name).casefold()
        tokens = _strip_punctuation(_first_name_first(folded)).split()
    return " ".join(_suffixes_last(tokens))


def is_placeholder(normalised: str, placeholders: frozenset[str]) -> bool:
    """Tell whether a normalised name stands for "no name".

    Args:
        normalised: A name as `normalise_name` returns it.
        placeholders: Normalised placeholder names from the settings.

    Returns:
        True for an empty name, a listed placeholder, or a name that is only
        digits (a phone number typed into the name field).
    """
    compact = normalised.replace(" ", "")
    digits_only = compact.lstrip("+").isdigit()
    return not compact or normalised in placeholders or digits_only


def placeholder_set(names: Iterable[str]) -> frozenset[str]:
    """Normalise the `placeholder_names` setting for `is_placeholder`."""
    return frozenset(normalise_name(name) for name in names)


def _first_name_first(name: str) -> str:
    # Only one comma reads as "Last, First"; more commas are anyone's guess.
    if name.count(",") != 1:
        return name
    last, first = name.split(",")
    return f"{first} {last}"


def _strip_punctuation(text: str) -> str:
    kept = (
        " " if char.isspace() else char
        for char in text
        if not unicodedata.category(char).startswith("P")
    )
    return "".join(kept)


def _suffixes_last(tokens: list[str]) -> list[str]:
    if not GENERATIONAL_SUFFIXES.intersection(tokens):
        return tokens
    words = [token for token in tokens if token not in GENERATIONAL_SUFFIXES]
    suffixes = [token for token in tokens if token in GENERATIONAL_SUFFIXES]
    return words + suffixes
