"""Adapters from the bench to tap_podium's pure enrichment and phone normaliser.

The tap's function names live here only, so a rename there is one edit here.
"""

from __future__ import annotations

from collections.abc import Callable

import corpus


def enricher(contacts: list[dict], locations: list[dict]) -> Callable[[], None]:
    """Return a callable that enriches every contact as the tap does."""
    from tap_podium.enrich import LocationIndex, enrich_contact

    index = LocationIndex.build(locations, default_region=corpus.DEFAULT_REGION)

    def enrich_all() -> None:
        for contact in contacts:
            enrich_contact(contact, index)

    return enrich_all


def normaliser(jobs: list[tuple[list, str]]) -> Callable[[], None]:
    """Return a callable that normalises every raw phone string as the tap does."""
    from tap_podium.phones import normalise_phone

    def normalise_all() -> None:
        for raws, region in jobs:
            for raw in raws:
                normalise_phone(raw, region)

    return normalise_all
