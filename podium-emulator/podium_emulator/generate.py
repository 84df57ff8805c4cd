"""Generate a messy Podium tenant with planted duplicates and ground truth.

Deterministic for a seed: one `random.Random(seed)`, Faker seeded per locale,
timestamps counted from a fixed epoch, uids drawn from the same generator.

What is planted (see `truth.py` for how outcomes are judged):

- Most people have one contact; about 15% have two to five. A person's
  records share one number (typed in different shapes) and differ in name case,
  spacing, "Last, First" or a placeholder name, email presence, richness (an
  older rich record beside newer thin ones), sometimes location, and consent
  (an opt-out on a record that is not the richest; a few consent conflicts).
- Hard negatives, each person with one record: household landlines shared by
  family members, twins and Sr./Jr. on one number, people carrying their
  store's business line, an office reception number held by more than five
  people, short codes, switchboard numbers under different extensions.
- Spreadsheet damage (`.0`, scientific notation, a lost leading zero, a JSON
  number) only ever beside a good phone of the same record, or on a person
  with one record, so the groups are the same whether a parser keys it or not.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

from podium_emulator import phone_shapes
from podium_emulator.clock import from_iso, to_iso
from podium_emulator.corpus_io import read_corpus, read_jsonl, write_jsonl
from podium_emulator.generate_locations import TAGS, attribute_catalogue, make_locations
from podium_emulator.truth import build_truth, check_precision, normalise_name

EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z: every timestamp counts from here
DAY = 86_400
DUPLICATED_SHARE = 0.15
RECORD_COUNT_WEIGHTS = {2: 60, 3: 25, 4: 10, 5: 5}
PLACEHOLDERS = ("", None, "Unknown", "Customer", "no name", "N/A")
SUFFIXES = ("Sr.", "Jr.", "II", "III")
POOL_SIZE = 400


@dataclass
class Corpus:
    """A generated tenant: contacts, locations and ground truth rows."""

    contacts: list[dict]
    locations: list[dict]
    truth: list[dict]

    def write(self, folder: str | Path) -> Path:
        """Write `contacts.jsonl`, `locations.jsonl` and `truth.jsonl`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_jsonl(folder / "contacts.jsonl", self.contacts)
        write_jsonl(folder / "locations.jsonl", self.locations)
        write_jsonl(folder / "truth.jsonl", self.truth)
        return folder

    @classmethod
    def read(cls, folder: str | Path) -> Corpus:
        """Read a corpus folder written by `write` or `podium-emulator generate`."""
        folder = Path(folder)
        contacts, locations = read_corpus(folder)
        truth_file = folder / "truth.jsonl"
        truth = read_jsonl(truth_file) if truth_file.exists() else []
        return cls(contacts, locations, truth)


@dataclass
class Person:
    """Who a set of records belongs to."""

    pid: str
    region: str
    first: str
    last: str
    number: str
    location: dict
    email: str | None = None
    suffix: str | None = None
    extension: str | None = None

    @property
    def name(self) -> str:
        """The full name as the person gives it."""
        return " ".join(part for part in (self.first, self.last, self.suffix) if part)


@dataclass
class Builder:
    """Draws people and writes their records, keeping every planted fact."""

    rng: random.Random
    seed: int
    target: int
    contacts: list[dict] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)
    damaged: dict[str, list] = field(default_factory=dict)
    leave_groups: list[dict] = field(default_factory=list)
    used_numbers: set[str] = field(default_factory=set)
    person_count: int = 0

    def __post_init__(self) -> None:
        self.fakers = {"AU": Faker("en_AU"), "US": Faker("en_US")}
        for offset, faker in enumerate(self.fakers.values()):
            faker.seed_instance(self.seed * 101 + offset)
        self._pools: dict[tuple[str, str], list[str]] = {}
        self._tag_catalogue: list[dict] | None = None
        self.organization_uid = self.new_uid()
        self.locations = make_locations(self)
        self.attributes = attribute_catalogue(self)

    # -- small draws -------------------------------------------------------

    def fake(self, region: str, provider: str) -> str:
        """A Faker value of a locale, drawn from a pool (Faker is slow per call)."""
        key = (region, provider)
        if key not in self._pools:
            faker = self.fakers[region]
            self._pools[key] = [getattr(faker, provider)() for _ in range(POOL_SIZE)]
        return self.rng.choice(self._pools[key])

    def new_uid(self) -> str:
        """A uuid4-shaped uid from the seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def room(self) -> int:
        """How many more contacts the corpus may take."""
        return self.target - len(self.contacts)

    def new_person(self, region: str | None = None, **overrides) -> Person:
        """A person with a name, an email and a number of their own."""
        region = region or self.rng.choice(("AU", "US"))
        self.person_count += 1
        kind = "au_mobile" if region == "AU" else "us"
        person = Person(
            pid=f"p{self.person_count:06d}",
            region=region,
            first=self.fake(region, "first_name"),
            last=self.fake(region, "last_name"),
            number=phone_shapes.new_number(self.rng, kind, self.used_numbers),
            location=self.rng.choice(
                [x for x in self.locations if _country(x) == region]
            ),
        )
        for name, value in overrides.items():
            setattr(person, name, value)
        person.email = self._email(person)
        return person

    def _email(self, person: Person) -> str:
        local = "".join(
            ch
            for ch in f"{person.first}.{person.last}".lower()
            if ch.isalnum() or ch == "."
        )
        domain = self.fake(person.region, "free_email_domain")
        return f"{local}{person.pid[1:]}@{domain}"

    def timestamp(self, earliest: int, spread_days: int) -> int:
        """A second between `earliest` and `spread_days` later."""
        return earliest + self.rng.randrange(spread_days * DAY)

    # -- records -----------------------------------------------------------

    def record(
        self, person: Person, phones: list, rich: bool, created: int, **extra
    ) -> dict:
        """One contact record of a person, its channels and consent."""
        updated = created + self.rng.randrange(30 * DAY)
        locations = extra.pop("locations", [person.location["uid"]])
        contact = {
            "uid": self.new_uid(),
            "name": extra.pop("name", person.name),
            "emails": extra.pop("emails", [person.email] if rich else []),
            "phoneNumbers": phones,
            "locations": [{"uid": uid} for uid in locations],
            "address": self._address(person) if rich else _empty_address(),
            "tags": self._tags() if rich else [],
            "attributes": self._attributes() if rich else [],
            "conversations": [{"uid": self.new_uid()}],
            "organization": {"uid": self.organization_uid},
            "createdAt": to_iso(created),
            "updatedAt": to_iso(updated),
        }
        contact["channels"] = self._channels(contact, created, locations)
        self.contacts.append(contact)
        self.people[contact["uid"]] = person.pid
        return contact

    def _address(self, person: Person) -> dict:
        region = person.region
        return {
            "addressLine1": self.fake(region, "street_address"),
            "addressLine2": None,
            "city": self.fake(region, "city"),
            "country": region,
            "postalCode": self.fake(region, "postcode"),
            "state": self.fake(region, "state_abbr"),
        }

    def _tags(self) -> list[dict]:
        return [
            dict(tag)
            for tag in self.rng.sample(self.tag_catalogue, self.rng.randint(0, 2))
        ]

    @property
    def tag_catalogue(self) -> list[dict]:
        """The tenant's tags, drawn when the first record needs one."""
        if self._tag_catalogue is None:
            self._tag_catalogue = [
                {"uid": self.new_uid(), "label": label, "description": description}
                for label, description in TAGS
            ]
        return self._tag_catalogue

    def _attributes(self) -> list[dict]:
        if self.rng.random() < 0.5:
            return []
        attribute = self.rng.choice(self.attributes)
        return [{**attribute, "value": f"C{self.rng.randint(10000, 99999)}"}]

    def _channels(
        self, contact: dict, created: int, locations: list[str]
    ) -> list[dict]:
        stamp = to_iso(created)
        channels = []
        for raw in contact["phoneNumbers"]:
            opted_in = list(locations) if self.rng.random() < 0.4 else []
            channels.append(_channel(str(raw), "PHONE", stamp, opted_in))
        for email in contact["emails"]:
            channels.append(_channel(email, "EMAIL", stamp, []))
        return channels

    def mark_damaged(self, contact: dict, raw) -> None:
        """Remember a deliberately damaged phone string of a contact."""
        self.damaged.setdefault(contact["uid"], []).append(raw)


def _channel(identifier: str, kind: str, stamp: str, opted_in: list[str]) -> dict:
    return {
        "identifier": identifier,
        "type": kind,
        "label": None,
        "marketingOptedInLocationUids": opted_in,
        "transactionalOptedOutAt": None,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def _empty_address() -> dict:
    return dict.fromkeys(
        ("addressLine1", "addressLine2", "city", "country", "postalCode", "state")
    )


def _country(location: dict) -> str:
    return location["addressDetails"]["country"]


# -- people with one or more records -----------------------------------------


def add_single(builder: Builder) -> None:
    """A person with one record, sometimes with a damaged extra phone."""
    rng = builder.rng
    person = builder.new_person()
    phones = [phone_shapes.typed(rng, person.number, person.region)]
    broken = None
    if rng.random() < 0.03:
        broken, _ = phone_shapes.damaged(rng, person.number, person.region)
        phones = [*phones, broken] if rng.random() < 0.5 else [broken]
    contact = builder.record(person, phones, True, builder.timestamp(EPOCH, 600))
    if broken is not None:
        builder.mark_damaged(contact, broken)


def add_duplicated(builder: Builder, count: int, person: Person | None = None) -> None:
    """A person with `count` records sharing one number; see the module docstring."""
    rng = builder.rng
    person = person or builder.new_person()
    created = builder.timestamp(EPOCH, 500)
    records = [builder.record(person, [_typed(builder, person)], True, created)]
    for _ in range(count - 1):
        created += rng.randrange(DAY, 60 * DAY)
        records.append(_thin_record(builder, person, created))
    _vary_locations(builder, person, records)
    _plant_consent(builder, records)
    _maybe_damage(builder, person, records)


def _typed(builder: Builder, person: Person) -> str:
    return phone_shapes.typed(
        builder.rng, person.number, person.region, person.extension
    )


def _thin_record(builder: Builder, person: Person, created: int) -> dict:
    """A later, poorer record: another phone shape, a name variant, maybe an email."""
    rng = builder.rng
    emails = [_email_variant(rng, person.email)] if rng.random() < 0.4 else []
    rich = rng.random() < 0.15
    return builder.record(
        person,
        [_typed(builder, person)],
        rich,
        created,
        name=name_variant(rng, person),
        emails=emails,
    )


def _email_variant(rng: random.Random, email: str) -> str:
    return rng.choice([email, email.upper(), email.capitalize()])


def name_variant(rng: random.Random, person: Person) -> str | None:
    """The person's name as another front desk typed it; normalises equal or is
    a placeholder (never a different real name)."""
    if rng.random() < 0.15:
        return rng.choice((*PLACEHOLDERS, _digits_name(person)))
    variants = [
        person.name,
        person.name.upper(),
        person.name.lower(),
        f"{person.first}  {person.last} ",
        f"{person.first}\u00a0{person.last}",
        f"{person.last}, {person.first}",
        f"{person.last.lower()},{person.first.lower()}",
        f"{person.first} {person.last}.",
    ]
    if person.suffix:
        variants = variants[:3]  # "Last, First" would move the suffix
    variant = rng.choice(variants)
    return (
        variant
        if normalise_name(variant) == normalise_name(person.name)
        else person.name
    )


def _digits_name(person: Person) -> str:
    return person.number


def _vary_locations(builder: Builder, person: Person, records: list[dict]) -> None:
    """About one duplicated person in ten has a record at another location."""
    rng = builder.rng
    if rng.random() >= 0.10:
        return
    others = [
        loc for loc in builder.locations
        if _country(loc) == person.region and loc is not person.location
    ]  # fmt: skip
    moved = rng.choice(records[1:])
    moved["locations"] = [{"uid": rng.choice(others)["uid"]}]
    for channel in moved["channels"]:
        if channel["marketingOptedInLocationUids"]:
            channel["marketingOptedInLocationUids"] = [moved["locations"][0]["uid"]]


def _plant_consent(builder: Builder, records: list[dict]) -> None:
    """An opt-out on a record that is not the richest, or a consent conflict."""
    rng = builder.rng
    draw = rng.random()
    if draw < 0.05:
        _plant_conflict(builder, records)
    elif draw < 0.30:
        _plant_opt_out(builder, rng.choice(records[1:]), records)


def _latest(records: list[dict]) -> int:
    return max(from_iso(record["updatedAt"]) for record in records)


def _plant_opt_out(builder: Builder, record: dict, records: list[dict]) -> None:
    """An sms opt-out newer than every marketing opt-in of the person: no conflict."""
    stamp = to_iso(_latest(records) + builder.rng.randrange(DAY, 30 * DAY))
    channel = next(c for c in record["channels"] if c["type"] == "PHONE")
    channel["transactionalOptedOutAt"] = stamp
    channel["marketingOptedInLocationUids"] = []
    channel["updatedAt"] = stamp
    record["updatedAt"] = stamp


def _plant_conflict(builder: Builder, records: list[dict]) -> None:
    """An older sms opt-out on one record, a newer marketing opt-in on another."""
    opted_out, opted_in = builder.rng.sample(records, 2)
    _plant_opt_out(builder, opted_out, records)
    later = to_iso(_latest(records) + builder.rng.randrange(DAY, 30 * DAY))
    channel = next(c for c in opted_in["channels"] if c["type"] == "PHONE")
    channel["marketingOptedInLocationUids"] = [opted_in["locations"][0]["uid"]]
    channel["updatedAt"] = later
    opted_in["updatedAt"] = later


def _maybe_damage(builder: Builder, person: Person, records: list[dict]) -> None:
    """Now and then a record also carries its number broken by a spreadsheet."""
    rng = builder.rng
    if rng.random() >= 0.08:
        return
    record = rng.choice(records)
    broken, _ = phone_shapes.damaged(rng, person.number, person.region)
    record["phoneNumbers"].append(broken)
    stamp = record["createdAt"]
    record["channels"].append(_channel(str(broken), "PHONE", stamp, []))
    builder.mark_damaged(record, broken)


# -- the corpus ----------------------------------------------------------------


def generate_corpus(contacts: int = 2000, seed: int = 7) -> Corpus:
    """Generate a tenant of exactly `contacts` contacts, deterministic for `seed`.

    Raises:
        ValueError: when `contacts` is too small to hold the hard negatives.
    """
    from podium_emulator.generate_negatives import plant_hard_negatives

    if contacts < 60:
        raise ValueError("generate at least 60 contacts, so every planted case fits")
    builder = Builder(random.Random(seed), seed, contacts)
    plant_hard_negatives(builder)
    _fill_with_people(builder)
    truth = build_truth(
        builder.contacts, builder.locations, builder.people, builder.damaged,
        builder.leave_groups,
    )  # fmt: skip
    check_precision(truth)
    return Corpus(builder.contacts, builder.locations, truth)


def _fill_with_people(builder: Builder) -> None:
    rng = builder.rng
    counts = list(RECORD_COUNT_WEIGHTS)
    weights = list(RECORD_COUNT_WEIGHTS.values())
    while builder.room() > 0:
        count = rng.choices(counts, weights=weights)[0]
        if rng.random() < DUPLICATED_SHARE and builder.room() >= count:
            add_duplicated(builder, count)
        else:
            add_single(builder)
