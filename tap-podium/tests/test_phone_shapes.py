"""Property: any valid number, in any shape people type it, gives its own key."""

from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tap_podium.phones import SERVICE_NUMBER_TYPES, normalise_phone

REGIONS = ["AU", "NZ", "US", "GB", "IT", "DE", "IE", "AR", "CA"]
PERSONAL_TYPES = [PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]
SEPARATORS = [" ", "-", "\t", "\u00a0", "\u202f", "  "]
FULL_WIDTH = {ord(c): 0xFEE0 + ord(c) for c in "0123456789+"}


@st.composite
def valid_numbers(draw):
    """Draw a region and a valid personal number of it, varied from its example."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from(PERSONAL_TYPES))
    example = phonenumbers.example_number_for_type(region, kind)
    digits = phonenumbers.national_significant_number(example)
    tail = draw(st.text("0123456789", min_size=3, max_size=3))
    varied = phonenumbers.parse(f"+{example.country_code}{digits[:-3]}{tail}")
    valid = phonenumbers.is_valid_number(varied)
    number = varied if valid and _personal(varied) else example
    return region, number


def _personal(number):
    return phonenumbers.number_type(number) not in SERVICE_NUMBER_TYPES


def _e164(number):
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _shapes(region, number):
    """Every spelling of the number that a person of the region may type."""
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    dialled_abroad = phonenumbers.format_out_of_country_calling_number(number, region)
    shapes = {
        "e164": _e164(number),
        "international": international,
        "national": national,
        "bare-national": "".join(ch for ch in national if ch.isdigit()),
        "dialled-from-region": dialled_abroad,
        "tel-uri": phonenumbers.format_number(number, PhoneNumberFormat.RFC3966),
        "full-width": international.translate(FULL_WIDTH),
        "bracketed-trunk": _bracketed_trunk(number, national),
    }
    return {name: shape for name, shape in shapes.items() if shape}


def _bracketed_trunk(number, national):
    """Write '+CC (0)…' when the national form starts with a trunk 0."""
    if not national.startswith("0") or number.italian_leading_zero:
        return None
    rest = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} (0){rest}"


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    drawn=valid_numbers(),
    separator=st.sampled_from(SEPARATORS),
    shape=st.sampled_from(
        [
            "e164",
            "international",
            "national",
            "bare-national",
            "dialled-from-region",
            "tel-uri",
            "full-width",
            "bracketed-trunk",
        ]
    ),
)
def test_any_valid_number_in_any_shape_gives_its_own_key_and_no_other(
    drawn, separator, shape
):
    region, number = drawn
    written = _shapes(region, number).get(shape)
    if written is None:
        return
    if shape != "tel-uri":
        written = written.replace(" ", separator)
    keys = [phone["natural_key"] for phone in normalise_phone(written, region)]
    assert keys == [_e164(number)], f"{shape} {written!r} in {region}"


@settings(max_examples=60, deadline=None, database=None)
@given(drawn=valid_numbers(), extension=st.text("0123456789", min_size=1, max_size=5))
def test_any_valid_number_with_an_extension_gives_its_key_with_that_extension(
    drawn, extension
):
    region, number = drawn
    written = f"{_e164(number)} ext. {extension}"
    keys = [phone["natural_key"] for phone in normalise_phone(written, region)]
    assert keys == [f"{_e164(number)};ext={extension}"]


@settings(max_examples=80, deadline=None, database=None)
@given(
    drawn=valid_numbers(),
    home=st.sampled_from(REGIONS),
    separator=st.sampled_from(SEPARATORS),
)
def test_a_number_dialled_from_any_tenant_region_gives_its_own_key(
    drawn, home, separator
):
    _, number = drawn
    written = phonenumbers.format_out_of_country_calling_number(number, home)
    written = written.replace(" ", separator)
    keys = [phone["natural_key"] for phone in normalise_phone(written, home)]
    assert keys == [_e164(number)], f"{written!r} dialled from {home}"
