"""Name normalisation and placeholder detection."""

from __future__ import annotations

import pytest
from dedup_plan.names import (
    DEFAULT_PLACEHOLDER_NAMES,
    is_placeholder,
    normalise_name,
    placeholder_set,
)

NORMALISE_CASES = [
    pytest.param("Ada Quill", "ada quill", id="casefold"),
    pytest.param("  Ada \t  Quill ", "ada quill", id="whitespace-collapsed"),
    pytest.param("Quill, Ada", "ada quill", id="last-comma-first"),
    pytest.param("O'Brien-Smith, Jo.", "jo obriensmith", id="punctuation-removed"),
    pytest.param("\uff2a\uff4f \uff2b\uff49\uff4d", "jo kim", id="nfkc-full-width"),
    pytest.param("Rob Vance Sr.", "rob vance sr", id="suffix-kept"),
    pytest.param("Vance, Rob Sr.", "rob vance sr", id="suffix-moved-last"),
    pytest.param("STRASSE Straße", "strasse strasse", id="casefold-not-lower"),
    pytest.param(None, "", id="missing-name"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALISE_CASES)
def test_names_normalise_to_a_comparable_form(raw, expected):
    assert normalise_name(raw) == expected


def test_generational_suffixes_keep_names_apart():
    assert normalise_name("Rob Vance Sr.") != normalise_name("Rob Vance Jr.")


PLACEHOLDER_CASES = [
    pytest.param("", True, id="empty"),
    pytest.param("Unknown", True, id="unknown"),
    pytest.param("N/A", True, id="n-a"),
    pytest.param("No Name", True, id="no-name"),
    pytest.param("+61 491 570 156", True, id="phone-number-as-name"),
    pytest.param("0491570156", True, id="digits-only"),
    pytest.param("Ada Quill", False, id="real-name"),
    pytest.param("Unknown Pleasures", False, id="placeholder-inside-a-real-name"),
]


@pytest.mark.parametrize(("raw", "expected"), PLACEHOLDER_CASES)
def test_placeholder_names_are_recognised(raw, expected):
    placeholders = placeholder_set(DEFAULT_PLACEHOLDER_NAMES)
    assert is_placeholder(normalise_name(raw), placeholders) is expected
