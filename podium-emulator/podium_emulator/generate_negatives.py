"""Hard negatives: different people on one number, and strings that are no key.

Every person here has exactly one record, and any phone of theirs other than
the shared one is their own, so each planted group is exactly the set of
contacts on the shared number.
"""

from __future__ import annotations

from podium_emulator import phone_shapes
from podium_emulator.generate import (
    EPOCH,
    SUFFIXES,
    Builder,
    Person,
    add_duplicated,
)
from podium_emulator.phones import natural_key_of
from podium_emulator.truth import normalise_name

AU_SHORT_CODE_PREFIXES = ("19 9", "19 7")
SWITCHBOARD_EXTENSIONS = ("12", "204", "31", "7", "45")


def plant_hard_negatives(builder: Builder) -> None:
    """Plant every kind of hard negative, scaled to the corpus size."""
    target = builder.target
    for index in range(max(2, target // 250)):
        plant_household(builder, "AU" if index % 2 == 0 else "US")
    for index in range(max(1, target // 700)):
        plant_twins(builder, "US" if index % 2 == 0 else "AU")
        plant_generations(builder, "AU" if index % 2 == 0 else "US")
    for location in builder.locations[: min(6, max(2, target // 500))]:
        plant_business_line(builder, location)
    for _ in range(max(1, target // 5000)):
        plant_reception(builder)
    for index in range(max(1, target // 2000)):
        plant_short_code(builder, "US" if index % 2 == 0 else "AU")
        plant_switchboard(builder)


def _family(builder: Builder, region: str, size: int, **shared) -> list[Person]:
    """People who share a last name and a location but not a first name."""
    head = builder.new_person(region)
    members, seen = [head], {normalise_name(head.first)}
    for _ in range(50):
        if len(members) == size:
            break
        first = builder.fake(region, "first_name")
        if normalise_name(first) not in seen:
            seen.add(normalise_name(first))
            members.append(
                builder.new_person(
                    region, first=first, last=head.last, location=head.location
                )
            )
    for member in members:
        for name, value in shared.items():
            setattr(member, name, value)
    return members


def _one_record_each(builder: Builder, people: list[Person], shared_raw) -> list[dict]:
    """One rich record per person with the shared string (and maybe their own)."""
    records = []
    for person in people:
        phones = [shared_raw(person)]
        if builder.rng.random() < 0.5:
            phones.append(phone_shapes.typed(builder.rng, person.number, person.region))
        created = builder.timestamp(EPOCH, 600)
        records.append(builder.record(person, phones, True, created))
    return records


def plant_household(builder: Builder, region: str) -> None:
    """A family's landline, each member with their own record: `name_conflict`."""
    kind = "au_landline" if region == "AU" else "us"
    landline = phone_shapes.new_number(builder.rng, kind, builder.used_numbers)
    family = _family(builder, region, builder.rng.choice((2, 3)))
    _one_record_each(
        builder, family, lambda p: phone_shapes.typed(builder.rng, landline, region)
    )


def plant_twins(builder: Builder, region: str) -> None:
    """Twins on one mobile: two real first names, one number."""
    twins = _family(builder, region, 2)
    shared = twins[0].number
    _one_record_each(
        builder, twins, lambda p: phone_shapes.typed(builder.rng, shared, region)
    )


def plant_generations(builder: Builder, region: str) -> None:
    """Father and son, Sr. and Jr. (or II and III), on one number."""
    father = builder.new_person(region)
    older, younger = builder.rng.choice(((0, 1), (2, 3), (0, 1)))
    father.suffix = SUFFIXES[older]
    son = builder.new_person(
        region, first=father.first, last=father.last, location=father.location,
        suffix=SUFFIXES[younger],
    )  # fmt: skip
    shared = father.number
    _one_record_each(
        builder,
        [father, son],
        lambda p: phone_shapes.typed(builder.rng, shared, region),
    )


def plant_business_line(builder: Builder, location: dict) -> None:
    """Customers whose record carries the store's own number: `shared_line`."""
    region = location["addressDetails"]["country"]
    people = [
        builder.new_person(region, location=location)
        for _ in range(builder.rng.choice((2, 3)))
    ]
    line = location["phoneNumber"]
    _one_record_each(
        builder, people, lambda p: phone_shapes.typed(builder.rng, line, region)
    )


def plant_reception(builder: Builder) -> None:
    """Six or seven colleagues all reached through one office number: `shared_line`."""
    region = "AU"
    reception = phone_shapes.new_number(
        builder.rng, "au_landline", builder.used_numbers
    )
    head = builder.new_person(region)
    people = [head] + [
        builder.new_person(region, location=head.location)
        for _ in range(builder.rng.choice((5, 6)))
    ]
    _one_record_each(
        builder, people, lambda p: phone_shapes.typed(builder.rng, reception, region)
    )


def plant_short_code(builder: Builder, region: str) -> None:
    """People who typed an SMS short code as their phone: never a key, left alone."""
    code = _short_code(builder, region)
    people = [builder.new_person(region) for _ in range(builder.rng.choice((2, 3, 4)))]
    records = _one_record_each(builder, people, lambda p: code)
    builder.leave_groups.append(_leave_group(code, records))


def _short_code(builder: Builder, region: str) -> str:
    for _ in range(100):
        if region == "US":
            code = str(builder.rng.randint(20000, 99999))
        else:
            prefix = builder.rng.choice(AU_SHORT_CODE_PREFIXES)
            code = f"{prefix}{builder.rng.randint(100, 999)}"
        if natural_key_of(code, region) is None:
            return code
    raise RuntimeError(f"no invalid short code found for {region}")


def plant_switchboard(builder: Builder) -> None:
    """Staff of one business behind a switchboard, each on their own extension.

    The extensions make different keys, so no group forms on the base number;
    one of them also has a duplicate record on the same extension (a merge).
    """
    base = phone_shapes.new_number(builder.rng, "au_landline", builder.used_numbers)
    head = builder.new_person("AU")
    staff = [head] + [
        builder.new_person("AU", location=head.location) for _ in range(2)
    ]
    for person, extension in zip(staff, SWITCHBOARD_EXTENSIONS, strict=False):
        person.extension = extension
    records = _one_record_each(
        builder,
        staff,
        lambda p: phone_shapes.typed(builder.rng, base, "AU", p.extension),
    )
    builder.leave_groups.append(_leave_group(base, records))
    twice = builder.new_person(
        "AU", location=head.location, number=base, extension=SWITCHBOARD_EXTENSIONS[3]
    )
    add_duplicated(builder, 2, twice)


def _leave_group(shared: str, records: list[dict]) -> dict:
    return {
        "kind": "group",
        "natural_key": None,
        "shared": shared,
        "uids": sorted(record["uid"] for record in records),
        "outcome": "leave",
        "reason": None,
        "reasons": [],
    }
