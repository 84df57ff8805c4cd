"""Regression tests for the reviewer's findings on phones and the consent view.

Each test names the finding (breaker1, test_phones_and_consent_view.py) and
covers the whole kind of fault, not only the reported string.
"""

from __future__ import annotations

import logging

import pytest

from tap_podium.enrich import consent_view, is_opt_out_value
from tap_podium.phones import normalise_phone

MOBILE = "0491 570 156"


def entries_of(raw, region):
    """Return (natural_key, reason) for every entry a raw value gives."""
    return [(p["natural_key"], p["reason"]) for p in normalise_phone(raw, region)]


def phone_opted_out_at(value, uid="c-1"):
    """Return a contact whose one PHONE channel has this opt-out value."""
    channel = {
        "type": "PHONE",
        "identifier": MOBILE,
        "transactionalOptedOutAt": value,
        "marketingOptedInLocationUids": [],
    }
    return {"uid": uid, "channels": [channel]}


# Finding 1: an opt-out whose time cannot be read was dropped (fail-open).
@pytest.mark.parametrize(
    ("value", "opted_out_at"),
    [
        pytest.param(1764583200, "2025-12-01T10:00:00Z", id="epoch-seconds"),
        pytest.param(1764583200000, "2025-12-01T10:00:00Z", id="epoch-milliseconds"),
        pytest.param(
            "Mon, 01 Dec 2026 10:00:00 GMT", "2026-12-01T10:00:00Z", id="http-date"
        ),
        pytest.param("12/01/2026", None, id="ambiguous-day-month-date"),
        pytest.param(True, None, id="boolean-true"),
        pytest.param("yes", None, id="any-other-text"),
        pytest.param({"at": "soon"}, None, id="an-object"),
        pytest.param(1e30, None, id="epoch-out-of-range"),
    ],
)
@pytest.mark.parametrize("kind", ["PHONE", "EMAIL"])
def test_an_opt_out_in_any_shape_is_an_opt_out_with_its_readable_time(
    kind, value, opted_out_at
):
    contact = phone_opted_out_at(value)
    contact["channels"][0]["type"] = kind
    view = consent_view(contact)
    prefix = "sms" if kind == "PHONE" else "email"
    assert (view[f"{prefix}_opt_out"], view[f"{prefix}_opted_out_at"]) == (
        True,
        opted_out_at,
    )


@pytest.mark.parametrize(
    "value",
    [None, False, "", "   "],
    ids=["null", "false", "empty-text", "blank-text"],
)
def test_only_null_false_or_blank_mean_no_opt_out(value):
    assert is_opt_out_value(value) is False
    assert consent_view(phone_opted_out_at(value))["sms_opt_out"] is False


def test_a_readable_time_wins_over_an_unreadable_one_on_another_channel():
    contact = phone_opted_out_at(True)
    contact["channels"].append(
        {"type": "PHONE", "identifier": "b", "transactionalOptedOutAt": "2026-02-01"}
    )
    view = consent_view(contact)
    assert (view["sms_opt_out"], view["sms_opted_out_at"]) == (True, "2026-02-01")


def test_an_unreadable_opt_out_time_warns_with_the_uid_and_never_the_phone(caplog):
    with caplog.at_level(logging.WARNING, logger="tap_podium.enrich"):
        consent_view(phone_opted_out_at("12/01/2026", uid="c-42"))
    [warning] = caplog.records
    assert "c-42" in warning.getMessage()
    assert "0491" not in warning.getMessage()
    assert "12/01/2026" not in warning.getMessage()


def test_a_readable_opt_out_time_logs_no_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="tap_podium.enrich"):
        consent_view(phone_opted_out_at("2026-02-01T00:00:00Z"))
    assert not caplog.records


# Finding 2: a float with a decimal comma became extension 0 of a key.
@pytest.mark.parametrize(
    ("raw", "region"),
    [
        pytest.param("12125550142,0", "US", id="us-decimal-comma"),
        pytest.param("61491570156,0", "AU", id="au-decimal-comma"),
        pytest.param("61491570156,00", "AU", id="au-decimal-comma-two-zeros"),
        pytest.param("+61491570156,0", "AU", id="plus-and-decimal-comma"),
        pytest.param("0491570156,000", "AU", id="national-and-decimal-comma"),
        pytest.param("0491 570 156,0", "AU", id="spaced-then-decimal-comma"),
        pytest.param("+61 491 570 156.00", "AU", id="spaced-then-decimal-point"),
        pytest.param("4,41E+11", "GB", id="scientific-with-decimal-comma"),
    ],
)
def test_zeros_behind_a_decimal_mark_are_mangled_numeric_never_an_extension(
    raw, region
):
    assert entries_of(raw, region) == [(None, "mangled_numeric")]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param("0491570156,5", "+61491570156;ext=5", id="comma-pause-extension"),
        pytest.param("02 9876 5432 x0", "+61298765432;ext=0", id="labelled-zero"),
        pytest.param("02.9876.0000", "+61298760000", id="dotted-number-ending-zeros"),
    ],
)
def test_real_extensions_and_dotted_numbers_keep_their_keys(raw, key):
    assert entries_of(raw, "AU") == [(key, None)]


# Finding 3: a number inside a leading bracketed note was silently dropped.
@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        pytest.param(
            "(Home 02 9876 5432) 0491 570 156",
            {"+61298765432", "+61491570156"},
            id="leading-note",
        ),
        pytest.param(
            "0491 570 156 (work: 02 9876 5432)",
            {"+61298765432", "+61491570156"},
            id="trailing-note",
        ),
        pytest.param(
            "[Mum's mobile 0412 345 678] (02) 9876 5432",
            {"+61298765432", "+61412345678"},
            id="square-note-with-label-words",
        ),
        pytest.param("(Home 02 9876 5432)", {"+61298765432"}, id="only-a-note"),
    ],
)
def test_a_number_inside_a_bracketed_note_is_its_own_phone(raw, keys):
    assert {key for key, _ in entries_of(raw, "AU")} == keys


def test_a_note_with_letters_inside_its_number_goes_to_review_not_away():
    entries = entries_of("(Home 02 9876 ABCD 5432) 0491 570 156", "AU")
    assert entries == [("+61491570156", None), (None, "has_letters")]


@pytest.mark.parametrize(
    "raw",
    ["0491 570 156 (call after 5pm)", "(ext 12) 0491 570 156", "0491 570 156 (Mum)"],
    ids=["time-note", "short-extension-note", "name-note"],
)
def test_a_note_without_a_number_stays_an_annotation(raw):
    assert entries_of(raw, "AU") == [("+61491570156", None)]


# Finding 4: AU 131144 was mangled_numeric (the lost-trunk-zero rule ran first).
@pytest.mark.parametrize(
    ("raw", "region"),
    [
        pytest.param("131144", "AU", id="au-13-number"),
        pytest.param("13 11 44", "AU", id="au-13-number-spaced"),
        pytest.param("1300655506", "AU", id="au-1300-number"),
        pytest.param("1800123456", "AU", id="au-1800-freecall"),
        pytest.param("000", "AU", id="au-emergency"),
        pytest.param("0800838383", "NZ", id="nz-freephone"),
    ],
)
def test_short_codes_and_service_numbers_are_short_code_not_mangled(raw, region):
    assert entries_of(raw, region) == [(None, "short_code")]


def test_a_mobile_that_lost_its_trunk_zero_is_still_mangled_numeric():
    assert entries_of("491570156", "AU") == [(None, "mangled_numeric")]
