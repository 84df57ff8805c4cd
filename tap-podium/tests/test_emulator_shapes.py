"""The emulator's own shape writers: typed shapes key, damaged ones never do."""

from __future__ import annotations

import random

import pytest

from tap_podium.phones import normalise_phone

phone_shapes = pytest.importorskip("podium_emulator.phone_shapes")

KINDS = [("au_mobile", "AU"), ("au_landline", "AU"), ("us", "US")]
DRAWS_PER_KIND = 40


def drawn_numbers(seed):
    """Yield (e164, region) for valid numbers the emulator's generator draws."""
    rng = random.Random(seed)
    used: set[str] = set()
    for kind, region in KINDS:
        for _ in range(DRAWS_PER_KIND):
            yield phone_shapes.new_number(rng, kind, used), region


@pytest.mark.parametrize("shape", sorted(phone_shapes.SHAPES))
def test_every_shape_the_emulator_types_gives_the_numbers_own_key(shape):
    writer = phone_shapes.SHAPES[shape]
    checked = 0
    for e164, region in drawn_numbers(seed=11):
        raw = writer(e164, region)
        # A shape of one country's habit may not fit another's number; the
        # generator redraws those, so they never reach a contact.
        if phone_shapes.natural_key_of(raw, region) != e164:
            continue
        assert [p["natural_key"] for p in normalise_phone(raw, region)] == [e164], raw
        checked += 1
    assert checked > 0


def test_typed_numbers_with_extensions_keep_the_extension_in_the_key():
    rng = random.Random(5)
    for e164, region in drawn_numbers(seed=5):
        extension = str(rng.randint(1, 9999))
        raw = phone_shapes.typed(rng, e164, region, extension)
        keys = [p["natural_key"] for p in normalise_phone(raw, region)]
        assert keys == [f"{e164};ext={extension}"], raw


def test_numbers_damaged_as_spreadsheets_damage_them_are_never_keys():
    rng = random.Random(3)
    for e164, region in drawn_numbers(seed=3):
        raw, kind = phone_shapes.damaged(rng, e164, region)
        phones = normalise_phone(raw, region)
        assert [p["natural_key"] for p in phones] == [None], (kind, raw)
