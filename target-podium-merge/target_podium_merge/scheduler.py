"""Run clusters in parallel, never two that share a contact.

Threads, not asyncio: singer-sdk calls sinks synchronously, the work waits on
the network, `httpx.Client` is thread-safe, and the shared `Throttle` bounds
the request rate whatever the number of threads.
"""

from __future__ import annotations

import collections
import concurrent.futures as futures
import logging
import threading
import typing as t

from target_podium_merge.plans import member_uids

logger = logging.getLogger(__name__)


def run_clusters(
    plans: t.Iterable[dict],
    apply: t.Callable[[dict], str],
    *,
    max_in_flight: int,
    stop: threading.Event | None = None,
) -> collections.Counter:
    """Apply every plan, at most `max_in_flight` at once; return outcome counts.

    A plan waits while any of its contacts is in flight in another plan, and
    plans otherwise start in the order given.
    """
    waiting = list(plans)
    outcomes: collections.Counter = collections.Counter()
    in_flight: dict[futures.Future, set[str]] = {}
    with futures.ThreadPoolExecutor(max_workers=max(1, max_in_flight)) as pool:
        while waiting or in_flight:
            if not (stop and stop.is_set()):
                _start_free(waiting, in_flight, pool, apply, max_in_flight)
            elif not in_flight:
                break
            done, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
            for future in done:
                in_flight.pop(future)
                outcomes[future.result()] += 1
    return outcomes


def _start_free(
    waiting: list[dict],
    in_flight: dict[futures.Future, set[str]],
    pool: futures.ThreadPoolExecutor,
    apply: t.Callable[[dict], str],
    max_in_flight: int,
) -> None:
    busy = set().union(*in_flight.values()) if in_flight else set()
    for plan in list(waiting):
        if len(in_flight) >= max_in_flight:
            return
        uids = member_uids(plan)
        if uids & busy:
            continue
        waiting.remove(plan)
        busy |= uids
        in_flight[pool.submit(apply, plan)] = uids
