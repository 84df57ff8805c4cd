"""Measurement 1: the phone normaliser against a bare phonenumbers loop.

Both sides see the same raw phone strings of the same generated contacts, in
the same region (the contact's location's country). The product side is the
tap's pure enrichment of a whole contact (every phone entry, natural keys,
consent view, field count) and, separately, its phone normaliser alone; the
baseline is parse + is_valid_number + format_number(E164) per string. Runs are
interleaved so that a noisy neighbour slows both sides alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import corpus
import harness
import phonenumbers
import report


def baseline_loop(jobs: list[tuple[list, str]]) -> None:
    """Parse, validate and format every raw phone string: the floor."""
    e164 = phonenumbers.PhoneNumberFormat.E164
    for raws, region in jobs:
        for raw in raws:
            try:
                number = phonenumbers.parse(str(raw), region)
            except phonenumbers.NumberParseException:
                continue
            phonenumbers.is_valid_number(number)
            phonenumbers.format_number(number, e164)


def jobs_of(contacts: list[dict], locations: list[dict]) -> list[tuple[list, str]]:
    """Return each contact's raw phones with the region of its first location."""
    regions = {
        loc["uid"]: (loc.get("addressDetails") or {}).get("country") or "US"
        for loc in locations
    }
    return [
        (c.get("phoneNumbers") or [], regions.get(first_location(c), "US"))
        for c in contacts
    ]


def first_location(contact: dict) -> str | None:
    """Return the uid of a contact's first location, if any."""
    locations = contact.get("locations") or []
    return locations[0].get("uid") if locations else None


def timed(work: Callable[[], None]) -> float:
    """Return the seconds one call of ``work`` takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(settings) -> dict:
    """Time enrichment, the normaliser and the baseline; return rates and ratios."""
    import product_phones

    data = corpus.generated(settings.phone_contacts, settings.seed)
    contacts = corpus.live_contacts(data)
    jobs = jobs_of(contacts, data.locations)
    enrich_all = product_phones.enricher(contacts, data.locations)
    normalise_all = product_phones.normaliser(jobs)
    sides = {
        "enrichment": enrich_all,
        "normaliser": normalise_all,
        "baseline": lambda: baseline_loop(jobs),
    }
    for work in sides.values():
        work()  # warm caches (phonenumbers loads region metadata lazily)
    seconds = {name: [] for name in sides}
    for _ in range(settings.runs):
        for name, work in sides.items():
            seconds[name].append(timed(work))
    return result(len(contacts), sum(len(r) for r, _ in jobs), seconds)


def result(contacts: int, phones: int, seconds: dict[str, list[float]]) -> dict:
    """Turn the timings into contacts/s per side and ratios to the baseline."""
    rates = {
        name: harness.summarize([contacts / s for s in runs], digits=0)
        for name, runs in seconds.items()
    }
    base = rates["baseline"]["median"]
    ratios = {name: harness.ratio(rates[name]["median"], base) for name in rates}
    return {
        "status": "ok",
        "contacts": contacts,
        "phone_strings": phones,
        "contacts_per_second": rates,
        "ratio_to_baseline": ratios,
        "rows": [
            report.row(
                "Phone normaliser",
                f"{rates['normaliser']['median']:,.0f} contacts/s",
                f"{ratios['normaliser']} x bare phonenumbers loop "
                f"({base:,.0f} contacts/s)",
            ),
            report.row(
                "Contact enrichment (phones, keys, consent)",
                f"{rates['enrichment']['median']:,.0f} contacts/s",
                f"{ratios['enrichment']} x bare phonenumbers loop",
            ),
        ],
    }
