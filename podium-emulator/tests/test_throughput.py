"""Served list pages must never bound a benchmark of the pipeline."""

from __future__ import annotations

import time

import pytest
from podium_emulator.testing import generate_corpus, run_emulator

GOAL_CONTACTS_PER_SECOND = 2_000


def walk(api) -> int:
    """Read the whole contact list at 100 per page; the number of contacts read."""
    served, params = 0, {"limit": 100}
    for _ in range(10_000):
        body = api.get("/contacts", params=params).json()
        served += len(body["data"])
        if not body["metadata"]["nextCursor"]:
            return served
        params = {"cursor": body["metadata"]["nextCursor"]}
    raise AssertionError("the list did not end within 10,000 pages")


@pytest.mark.slow
def test_list_pages_serve_at_least_two_thousand_contacts_per_second():
    corpus = generate_corpus(contacts=3000, seed=3)
    with (
        run_emulator(corpus=corpus, rate_limit=1_000_000) as emulator,
        emulator.client() as api,
    ):
        walk(api)  # warm up
        started = time.perf_counter()
        served = walk(api)
        rate = served / (time.perf_counter() - started)

    print(f"served {served} contacts at {rate:,.0f} contacts/s")
    assert served == 3000
    assert rate >= GOAL_CONTACTS_PER_SECOND
