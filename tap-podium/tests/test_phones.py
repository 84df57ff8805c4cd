"""The phone normaliser: public bug-report cases, whole kinds of fault, shapes."""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import phonenumbers
import pytest

from tap_podium.phones import PARSER_VERSION, normalise_phone

FULL_WIDTH = {ord(c): 0xFEE0 + ord(c) for c in "0123456789+"}
ARABIC_INDIC = {ord(c): 0x0660 + int(c) for c in "0123456789"}
CASES_FILE = (
    Path(__file__).resolve().parents[3] / "shared" / "cases" / ("public-reports.jsonl")
)


def keys_of(raw, region, business_keys=()):
    """Return the natural keys a raw value gives, None for a non-key entry."""
    return [
        phone["natural_key"] for phone in normalise_phone(raw, region, business_keys)
    ]


def reasons_of(raw, region, business_keys=()):
    """Return the reason of every entry a raw value gives."""
    return [phone["reason"] for phone in normalise_phone(raw, region, business_keys)]


# One row per phone case of public-reports.jsonl: (id, input, region,
# expected natural keys, expected reasons).
PUBLIC_CASES = [
    ("R01", "+61 (0)491 570 156", "AU", ["+61491570156"], [None]),
    ("R02", "+44 07700 900123", "GB", [None], ["not_valid"]),
    ("R04", "0011 44 20 7946 0018", "NZ", [None], ["not_valid"]),
    ("R05", "1234567891.0", "US", [None], ["mangled_numeric"]),
    ("R06", "4.41E+11", "GB", [None], ["mangled_numeric"]),
    ("R08", "+39 0471 234567", "IT", ["+390471234567"], [None]),
    ("R09", "02125550123", "US", [None], ["not_valid"]),
    ("R10", "+54 9 351 612 3456 ext.", "AR", ["+5493516123456"], [None]),
    ("R12", "+353xy.21 234 5678", None, [None], ["has_letters"]),
    ("R16", "0491\t570\t156", "AU", ["+61491570156"], [None]),
    ("R18", "tel:0491570156;phone-context=+61", "AU", ["+61491570156"], [None]),
    (
        "R19",
        "0491570156;0491570157",
        "AU",
        ["+61491570156", "+61491570157"],
        [None, None],
    ),
    ("R21", "0494 000 000", "AU", ["+61494000000"], [None]),
    ("R22", "(02) 5550 1234 x123", "AU", ["+61255501234;ext=123"], [None]),
]


@pytest.mark.parametrize(
    ("raw", "region", "keys", "reasons"),
    [pytest.param(*row[1:], id=row[0]) for row in PUBLIC_CASES],
)
def test_public_report_case_gives_the_right_keys(raw, region, keys, reasons):
    assert keys_of(raw, region) == keys
    assert reasons_of(raw, region) == reasons


def test_every_phone_case_of_the_public_reports_has_a_row():
    if not CASES_FILE.exists():
        pytest.skip(f"{CASES_FILE} is not beside this clone")
    lines = CASES_FILE.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    file_ids = {case["id"] for case in cases if case["kind"] == "phone"}
    assert file_ids == {row[0] for row in PUBLIC_CASES}


def test_public_rows_use_the_inputs_of_the_public_reports():
    if not CASES_FILE.exists():
        pytest.skip(f"{CASES_FILE} is not beside this clone")
    lines = CASES_FILE.read_text(encoding="utf-8").splitlines()
    inputs = {case["id"]: case["input"] for case in map(json.loads, lines)}
    assert {row[0]: row[1] for row in PUBLIC_CASES}.items() <= inputs.items()


@pytest.mark.parametrize(
    ("raw", "region", "key"),
    [
        pytest.param("+61 412 345 678", "AU", "+61412345678", id="international"),
        pytest.param("0412 345 678", "AU", "+61412345678", id="national"),
        pytest.param("(04) 1234-5678", "AU", "+61412345678", id="bracketed-04"),
        pytest.param("+61412345678", "AU", "+61412345678", id="e164"),
        pytest.param("0412345678", "AU", "+61412345678", id="bare-national"),
        pytest.param("+61 (0)412 345 678", "AU", "+61412345678", id="bracketed-0"),
        pytest.param("0011 61 412 345 678", "AU", "+61412345678", id="au-exit"),
        pytest.param("+61 0491 570 156", "AU", "+61491570156", id="R01-unbracketed"),
    ],
)
def test_the_seeds_spellings_of_one_sydney_mobile_give_one_key(raw, region, key):
    assert keys_of(raw, region) == [key]


def test_the_uk_drama_range_gives_one_e164_for_every_spelling_but_no_key():
    spellings = ["+44 07700 900123", "07700 900123", "+447700900123"]
    phones = [normalise_phone(raw, "GB")[0] for raw in spellings]
    assert {phone["e164"] for phone in phones} == {"+447700900123"}
    assert {phone["natural_key"] for phone in phones} == {None}


def test_an_exit_code_typed_in_the_wrong_country_is_keyed_only_where_it_is_right():
    assert keys_of("0011 44 20 7946 0018", "AU") == ["+442079460018"]
    assert keys_of("0011 44 20 7946 0018", "NZ") == [None]


def test_an_italian_leading_zero_stays_in_the_key_and_the_type_is_fixed_line():
    phone = normalise_phone("+39 0471 234567", "IT")[0]
    assert phone["e164"] == "+390471234567"
    assert phone["number_type"] == "FIXED_LINE"


def test_letters_keep_the_candidate_number_for_the_reviewer():
    phone = normalise_phone("+353xy.21 234 5678", None)[0]
    assert phone["e164"] == "+353212345678"
    assert phone["natural_key"] is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("tel:+1-212-555-0123;ext=45", id="tel-uri-with-extension"),
        pytest.param("+1 212 555 0123 ext. 45", id="ext-dot"),
        pytest.param("+1 212 555 0123 x45", id="x"),
        pytest.param("+1 212 555 0123 extension 45", id="extension-word"),
        pytest.param("+1 212 555 0123 #45", id="hash"),
    ],
)
def test_an_extension_is_part_of_the_key(raw):
    assert keys_of(raw, "US") == ["+12125550123;ext=45"]


def test_a_main_line_and_its_extension_are_different_keys():
    assert keys_of("(02) 5550 1234", "AU") != keys_of("(02) 5550 1234 x123", "AU")


def test_digits_after_a_dash_are_not_silently_glued_into_a_key():
    assert reasons_of("(02) 5550 1234 - 123", "AU") == ["not_valid"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(1234567891.0, id="json-float"),
        pytest.param(61491570156, id="json-integer"),
        pytest.param(decimal.Decimal("61491570156.0"), id="json-decimal"),
        pytest.param("61491570156.0", id="float-string-au"),
        pytest.param("+61491570156.0", id="float-string-with-plus"),
        pytest.param("491570156.00", id="float-string-two-zeros"),
        pytest.param("6.1491570156E10", id="scientific-full-digits"),
        pytest.param("4.41e+11", id="scientific-lowercase"),
        pytest.param(" 4.41E11 ", id="scientific-no-sign-padded"),
    ],
)
def test_spreadsheet_damage_is_mangled_numeric_and_never_a_key(raw):
    assert reasons_of(raw, "AU") == ["mangled_numeric"]
    assert keys_of(raw, "AU") == [None]


def test_a_true_boolean_is_not_read_as_a_json_number():
    assert reasons_of(True, "AU") != ["mangled_numeric"]


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        pytest.param(
            "0491570156; 0491570157", ["+61491570156", "+61491570157"], id="semi"
        ),
        pytest.param(
            "0491570156 / 0491570157", ["+61491570156", "+61491570157"], id="slash"
        ),
        pytest.param(
            "0491570156,0491570157", ["+61491570156", "+61491570157"], id="comma"
        ),
        pytest.param(
            "0491570156 or 0491570157", ["+61491570156", "+61491570157"], id="or"
        ),
        pytest.param(
            "0491 570 156 | (02) 5550 1234",
            ["+61491570156", "+61255501234"],
            id="pipe-mobile-and-landline",
        ),
        pytest.param(
            "0491570156\n0491570157", ["+61491570156", "+61491570157"], id="newline"
        ),
    ],
)
def test_several_numbers_in_one_field_become_several_phones(raw, keys):
    assert keys_of(raw, "AU") == keys


def test_each_phone_of_a_shared_field_keeps_the_whole_raw_value():
    phones = normalise_phone("0491570156;0491570157", "AU")
    assert [phone["raw"] for phone in phones] == ["0491570156;0491570157"] * 2


def test_a_slash_inside_one_national_number_does_not_split_it():
    assert len(normalise_phone("02/123 45 67", "BE")) == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(
            "+61 2 5550 1234 x 12345678", "suspicious_extension", id="8-digit"
        ),
        pytest.param(
            "+1 212 555 0123 ext. 0491570157", "suspicious_extension", id="10"
        ),
    ],
)
def test_a_long_extension_is_suspicious_not_a_key(raw, reason):
    assert reasons_of(raw, "AU") == [reason]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("+54 9 351 612 3456 ext.", id="ext-dot"),
        pytest.param("+54 9 351 612 3456 ext", id="ext"),
        pytest.param("+54 9 351 612 3456 x", id="x"),
        pytest.param("+54 9 351 612 3456 #", id="hash"),
        pytest.param("+54 9 351 612 3456 Extension:", id="extension-colon"),
        pytest.param("+54 9 351 612 3456, ext.", id="comma-ext"),
    ],
)
def test_a_dangling_extension_label_is_ignored(raw):
    phone = normalise_phone(raw, "AR")[0]
    assert (phone["natural_key"], phone["extension"]) == ("+5493516123456", None)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0412 345 678 (mum)", id="round-brackets"),
        pytest.param("0412 345 678 [work]", id="square-brackets"),
        pytest.param("(Jo's mobile) 0412 345 678", id="leading-note"),
    ],
)
def test_a_bracketed_name_is_an_annotation_not_digits(raw):
    assert keys_of(raw, "AU") == ["+61412345678"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("+353xyz.21 234 5678", id="three-letters-become-keypad-digits"),
        pytest.param("0412 345 678 mum", id="unbracketed-word"),
        pytest.param("1-800-FLOWERS", id="vanity"),
        pytest.param("0412 345 678 fax", id="fax"),
        pytest.param("O412 345 678", id="letter-o-for-zero"),
        pytest.param("04I2 345 678", id="letter-i-for-one"),
    ],
)
def test_other_letters_send_the_phone_to_review(raw):
    assert reasons_of(raw, "AU") == ["has_letters"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0491\u202f570\u202f156", id="narrow-nbsp"),
        pytest.param("0491\u00a0570\u00a0156", id="nbsp"),
        pytest.param("\u200b0491 570 156", id="zero-width-space"),
        pytest.param("0491\u2009570\u2009156", id="thin-space"),
        pytest.param("\u202a0491 570 156\u202c", id="direction-marks"),
        pytest.param("\ufeff0491570156", id="byte-order-mark"),
        pytest.param("0491 570 156".translate(FULL_WIDTH), id="full-width-digits"),
        pytest.param("0491570156".translate(ARABIC_INDIC), id="arabic-indic-digits"),
        pytest.param("+61 491 570 156".translate(FULL_WIDTH), id="full-width-plus"),
        pytest.param(" 0491 570 156 \n", id="padding-and-newline"),
        pytest.param("0491-570-156", id="dashes"),
        pytest.param("0491.570.156", id="dots"),
    ],
)
def test_unicode_spaces_format_characters_and_any_digits_are_read(raw):
    assert keys_of(raw, "AU") == ["+61491570156"]


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        pytest.param("000", "AU", id="au-emergency"),
        pytest.param("112", "GB", id="eu-emergency"),
        pytest.param("911", "US", id="us-emergency"),
        pytest.param("13 22 11", "AU", id="au-13-service-number"),
        pytest.param("1800 123 456", "AU", id="au-toll-free"),
        pytest.param("1300 975 707", "AU", id="au-1300-shared-cost"),
        pytest.param("1-800-555-0199", "US", id="us-toll-free"),
    ],
)
def test_short_codes_and_service_numbers_are_short_code(raw, region):
    assert reasons_of(raw, region) == ["short_code"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(None, "empty", id="none"),
        pytest.param("", "empty", id="empty"),
        pytest.param(" \t\u00a0", "empty", id="blanks"),
        pytest.param("+", "parse_failed", id="plus-only"),
        pytest.param("--", "parse_failed", id="punctuation-only"),
        pytest.param("0" * 10_000, "oversized", id="10kB-of-digits"),
        pytest.param("0412 345 678 " * 800, "oversized", id="10kB-of-numbers"),
    ],
)
def test_values_that_are_no_number_give_one_entry_with_a_reason(raw, reason):
    assert reasons_of(raw, "AU") == [reason]


def test_a_number_written_without_a_plus_and_without_a_region_fails_to_parse():
    assert reasons_of("0491 570 156", None) == ["parse_failed"]


def test_a_locations_own_number_keeps_its_key_but_is_a_business_line():
    phone = normalise_phone("(02) 9876 5432", "AU", {"+61298765432"})[0]
    assert (phone["natural_key"], phone["reason"]) == ("+61298765432", "business_line")


def test_every_entry_carries_the_parser_version_and_the_contract_fields():
    phone = normalise_phone("0412 345 678", "AU")[0]
    assert phone == {
        "raw": "0412 345 678",
        "e164": "+61412345678",
        "extension": None,
        "natural_key": "+61412345678",
        "national": "0412 345 678",
        "region": "AU",
        "number_type": "MOBILE",
        "valid": True,
        "reason": None,
        "parser_version": phonenumbers.__version__,
    }
    assert phonenumbers.__version__ == PARSER_VERSION


def test_the_region_of_an_international_number_is_its_own_country():
    phone = normalise_phone("+1 212 555 0123", "AU")[0]
    assert phone["region"] == "US"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        pytest.param("412345678", "AU", id="au-mobile"),
        pytest.param("298765432", "AU", id="au-landline"),
        pytest.param("7400123456", "GB", id="gb-mobile"),
        pytest.param("211234567", "NZ", id="nz-mobile"),
    ],
)
def test_bare_digits_that_lost_their_trunk_zero_are_mangled_numeric(raw, region):
    assert reasons_of(raw, region) == ["mangled_numeric"]


@pytest.mark.parametrize(
    ("raw", "region", "key"),
    [
        pytest.param("2125550142", "US", "+12125550142", id="us-has-no-trunk-zero"),
        pytest.param("3123456073", "IT", "+393123456073", id="it-keeps-its-zero"),
        pytest.param("412 345 678", "AU", "+61412345678", id="typed-with-spaces"),
    ],
)
def test_digits_without_a_trunk_zero_are_keys_where_no_zero_was_lost(raw, region, key):
    assert keys_of(raw, region) == [key]


def test_an_extension_on_a_locations_switchboard_is_a_business_line():
    phone = normalise_phone("(02) 9876 5432 x12", "AU", {"+61298765432"})[0]
    assert (phone["natural_key"], phone["reason"]) == (
        "+61298765432;ext=12",
        "business_line",
    )
