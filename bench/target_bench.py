"""Measurement 5: the target's API calls per merged cluster, and its rate budget.

Plans come from the product itself: tap-podium reads a generated corpus from
the emulator and dedup-plan plans it. The target then applies the merge plans
of one cluster size at a time (dry_run off) while the emulator logs every
request, so calls per cluster are counts that do not depend on speed. The
floor counted for a cluster of k members is:

    k re-reads (step 1) + 1 merge + 1 read that confirms it (step 2)
    + w writes the plan demands (fill and consent, step 3)
    + 1 read that verifies them (step 4, only when w > 0)

where w is computed from the plan and the survivor's channels before the run
(`required_writes`). Token refreshes are counted apart, once per run.

The budget part applies plans against an emulator limited to a short fixed
window and compares the requests per second it achieved with the budget.
"""

from __future__ import annotations

import collections
import json
import re
import statistics
from pathlib import Path

import corpus
import harness
import report
import tap_bench

SIZES = (2, 3, 4)
CLUSTERS_PER_SIZE = 10
BUDGET_REQUESTS, BUDGET_WINDOW_S = 100, 2.0
BUDGET_GOAL = 0.9
WIDER_IN_FLIGHT = 8
MERGE_DELAY_S = 0.2  # the emulator's default: a merge shows after this long
UNLIMITED = 1_000_000_000
PLANS: dict[int, tuple[dict, list[dict]]] = {}
TARGET_DIR = harness.WORK_DIR / "target"
UID = re.compile(r"/contacts/(?!transactional/|campaigns/)[^/]+")
TAG = re.compile(r"/tags/[^/]+")


def build_plans(emulator, contacts: int) -> tuple[dict, list[dict]]:
    """Run tap-podium | dedup-plan against the emulator; return schema, plans.

    The plans are kept for the rest of the run: a fresh emulator serving the
    same generated corpus (fixed timestamps) accepts them too.
    """
    folder = harness.fresh_folder(TARGET_DIR / "plans")
    tap_config = corpus.tap_config(emulator, folder / "tap.json")
    mapper_config = corpus.write_json(
        folder / "dedup-plan.json", {"index_db": str(folder / "index.db")}
    )
    out = folder / "plans.singer"
    harness.run_pipeline(
        ["tap-podium-plans", "dedup-plan-plans"],
        [
            tap_bench.tap_argv(tap_config),
            [harness.command("dedup-plan"), "--config", str(mapper_config)],
        ],
        stdout_path=out,
    )
    PLANS[contacts] = read_plans(out)
    return PLANS[contacts]


def read_plans(path: Path) -> tuple[dict, list[dict]]:
    """Return the merge_plans SCHEMA message and every merge plan record."""
    schema, plans = None, []
    with open(path, "rb") as lines:
        for line in lines:
            if b"merge_plans" not in line:
                continue
            message = json.loads(line)
            if message.get("stream") != "merge_plans":
                continue
            if message["type"] == "SCHEMA":
                schema = message
            elif message["type"] == "RECORD":
                plans.append(message["record"])
    if schema is None:
        raise harness.BenchError(f"dedup-plan emitted no merge_plans SCHEMA in {path}")
    return schema, plans


def cluster_size(plan: dict) -> int:
    """Return the number of members of a planned cluster."""
    return 1 + len(plan["duplicate_uids"])


def singer_file(path: Path, schema: dict, plans: list[dict]) -> Path:
    """Write a Singer file of merge plans for the target's stdin."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as out:
        out.write(json.dumps(schema) + "\n")
        for plan in plans:
            out.write(
                json.dumps({"type": "RECORD", "stream": "merge_plans", "record": plan})
                + "\n"
            )
    return path


def target_config(emulator, folder: Path, **extra) -> Path:
    """Write the target's config (writes on) and return its path."""
    config = {
        "api_url": emulator.api_url,
        "oauth_url": emulator.oauth_url,
        **emulator.credentials,
        "dry_run": False,
        "state_db": str(folder / "state.db"),
        "output_dir": str(folder / "output"),
        **extra,
    }
    return corpus.write_json(folder / "target.json", config)


def run_target(name: str, source: Path, config: Path):
    """Run target-podium-merge over a plans file and return its ProcessRun."""
    return harness.run_measured(
        name,
        [harness.command("target-podium-merge"), "--config", str(config)],
        stdin_path=source,
        timeout_s=600,
    )


def api_requests(emulator) -> list[dict]:
    """Return the logged /v4 requests (not the token endpoint, not control)."""
    return [r for r in emulator.control.requests() if r["path"].startswith("/v4")]


def token_requests(emulator) -> int:
    """Count the OAuth token requests in the log."""
    return sum(1 for r in emulator.control.requests() if "oauth" in r["path"])


def endpoint(entry: dict) -> str:
    """Return 'METHOD /v4/contacts/{uid}/...' for a logged request."""
    path = UID.sub("/contacts/{uid}", entry["path"])
    path = TAG.sub("/tags/{uid}", path)
    return f"{entry['method']} {path}"


def merged_clusters(snapshot: list[dict], plans: list[dict]) -> int:
    """Count plans whose duplicates all show mergedInto their primary."""
    by_uid = {c["uid"]: c for c in snapshot}
    return sum(
        all(
            by_uid.get(d, {}).get("mergedInto") == p["primary_uid"]
            for d in p["duplicate_uids"]
        )
        for p in plans
    )


def required_writes(plan: dict, before: dict[str, dict]) -> int:
    """Return the fewest writes a plan demands: fill, then consent.

    PATCH takes one email and one phoneNumber each, so the fill needs as many
    PATCHes as the longest of those lists (at least one when name, address
    or locations change), plus one call per tag. Consent operations address
    a channel: one per survivor channel whose consent exceeds the target.
    """
    fill = plan.get("fill") or {}
    emails, phones = fill.get("emails") or [], fill.get("phones") or []
    single = any(fill.get(k) for k in ("name", "address", "locations"))
    patches = max(len(emails), len(phones), 1 if single else 0)
    return patches + len(fill.get("tags") or []) + consent_writes(plan, before, fill)


def consent_writes(plan: dict, before: dict[str, dict], fill: dict) -> int:
    """Count consent operations the survivor's channels need."""
    target = plan.get("consent_target") or {}
    keep = set(target.get("marketing_opted_in_location_uids") or [])
    channels = (before.get(plan["primary_uid"]) or {}).get("channels") or []
    count = 0
    for channel in channels:
        phone = channel.get("type") == "PHONE"
        opt_out = target.get("sms_opt_out") if phone else target.get("email_opt_out")
        count += bool(opt_out and not channel.get("transactionalOptedOutAt"))
        extra = set(channel.get("marketingOptedInLocationUids") or []) - keep
        if phone and extra:
            count += 1 if not keep else len(extra)
    # Filled numbers and addresses arrive with no consent: only opt-outs apply.
    count += len(fill.get("phones") or []) * bool(target.get("sms_opt_out"))
    count += len(fill.get("emails") or []) * bool(target.get("email_opt_out"))
    return count


def floor_calls(plan: dict, before: dict[str, dict]) -> tuple[int, int]:
    """Return the floor of (reads, writes) for one plan (module docstring)."""
    writes = required_writes(plan, before)
    return cluster_size(plan) + 1 + (1 if writes else 0), 1 + writes


def measure_calls(settings) -> dict:
    """Calls per merged cluster for clusters of 2, 3 and 4 members."""
    import target_podium_merge.target  # noqa: F401 - not run until it imports
    from podium_emulator.testing import run_emulator

    data = corpus.generated(settings.target_contacts, settings.seed)
    with run_emulator(
        corpus=data, rate_limit=UNLIMITED, rate_window=60, merge_delay=MERGE_DELAY_S
    ) as emulator:
        schema, plans = build_plans(emulator, settings.target_contacts)
        by_size = collections.defaultdict(list)
        for plan in plans:
            by_size[cluster_size(plan)].append(plan)
        rows = [
            calls_for_size(emulator, schema, by_size[k][:CLUSTERS_PER_SIZE], k)
            for k in SIZES
        ]
    return calls_result(rows, {k: len(v) for k, v in sorted(by_size.items())})


def reads_writes(by_endpoint: dict[str, int]) -> tuple[int, int]:
    """Split a per-endpoint count into reads (GET) and writes."""
    reads = sum(n for name, n in by_endpoint.items() if name.startswith("GET "))
    return reads, sum(by_endpoint.values()) - reads


def calls_for_size(emulator, schema: dict, plans: list[dict], size: int) -> dict:
    """Apply the plans of one size and count what the emulator saw."""
    if not plans:
        return {"members": size, "status": "no plans of this size in the corpus"}
    folder = harness.fresh_folder(TARGET_DIR / f"calls-{size}")
    before = {c["uid"]: c for c in emulator.control.snapshot()}
    emulator.control.clear_requests()
    source = singer_file(folder / "plans.singer", schema, plans)
    config = target_config(emulator, folder, requests_per_minute=UNLIMITED // 1000)
    run_target(f"target-calls-{size}", source, config)
    requests = api_requests(emulator)
    (folder / "requests.json").write_text(json.dumps(requests, indent=1))
    merged = merged_clusters(emulator.control.snapshot(), plans)
    floors = [floor_calls(p, before) for p in plans]
    floor = statistics.mean(reads + writes for reads, writes in floors)
    per_cluster = len(requests) / merged if merged else None
    by_endpoint = dict(collections.Counter(endpoint(r) for r in requests))
    reads, writes = reads_writes(by_endpoint)
    return {
        "members": size,
        "clusters": len(plans),
        "merged": merged,
        "api_calls": len(requests),
        "token_calls": token_requests(emulator),
        "calls_per_cluster": round(per_cluster, 2) if per_cluster else None,
        "floor_per_cluster": round(floor, 2),
        "ratio_to_floor": harness.ratio(per_cluster or 0, floor),
        "reads_per_cluster": round(reads / merged, 2) if merged else None,
        "floor_reads_per_cluster": round(statistics.mean(r for r, _ in floors), 2),
        "writes_per_cluster": round(writes / merged, 2) if merged else None,
        "floor_writes_per_cluster": round(statistics.mean(w for _, w in floors), 2),
        "by_endpoint": by_endpoint,
    }


def calls_row(r: dict) -> dict:
    """Return the table row of one cluster size."""
    if not r.get("merged"):
        return report.row(
            f"Target, {r['members']}-member clusters",
            f"no cluster merged ({r.get('status') or '0 of ' + str(r['clusters'])})",
            "-",
            met=False,
        )
    return report.row(
        f"Target, {r['members']}-member clusters",
        f"{r['calls_per_cluster']} API calls per merged cluster "
        f"({r['merged']}/{r['clusters']} merged)",
        f"{r['ratio_to_floor']} x floor of {r['floor_per_cluster']} "
        f"(reads {r['reads_per_cluster']} vs {r['floor_reads_per_cluster']}, "
        f"writes {r['writes_per_cluster']} vs {r['floor_writes_per_cluster']})",
    )


def calls_result(rows: list[dict], plans_by_size: dict) -> dict:
    """Return the calls record with one table row per cluster size."""
    short = [r for r in rows if r.get("merged") != r.get("clusters")]
    return {
        "status": "ok",
        "emulator_merge_delay_s": MERGE_DELAY_S,
        "floor": "k re-reads + 1 merge + 1 confirm read + w plan writes "
        "+ 1 verify read if w > 0",
        "plans_by_cluster_size": plans_by_size,
        "sizes": rows,
        "rows": [calls_row(r) for r in rows],
        "notes": [
            f"{r['members']}-member clusters: {r.get('merged', 0)} of "
            f"{r.get('clusters', 0)} merged; see bench/work/logs/"
            f"target-calls-{r['members']}.log"
            for r in short
        ],
    }


def measure_budget(settings) -> dict:
    """Achieved requests/s against a short-window budget, and the 429s.

    The target runs with its default concurrency (the figure judged against
    the goal), then once more with more clusters in flight, which tells
    whether a shortfall comes from the throttle or from waiting on merges.
    """
    import target_podium_merge.target  # noqa: F401 - not run until it imports

    data = corpus.generated(settings.target_contacts, settings.seed)
    schema, plans = PLANS.get(settings.target_contacts) or plans_for(data, settings)
    plans = plans[: settings.budget_clusters]
    result = budget_result(*apply_under_budget(data, schema, plans, {}), len(plans))
    wider = apply_under_budget(data, schema, plans, {"max_in_flight": WIDER_IN_FLIGHT})
    result["with_max_in_flight"] = budget_result(*wider, len(plans))
    result["with_max_in_flight"]["target_settings"]["max_in_flight"] = WIDER_IN_FLIGHT
    result["rows"].append(wider_row(result["with_max_in_flight"]))
    return result


def plans_for(data, settings) -> tuple[dict, list[dict]]:
    """Plan the corpus on an emulator of its own (when no earlier step did)."""
    from podium_emulator.testing import run_emulator

    with run_emulator(corpus=data, rate_limit=UNLIMITED, rate_window=60) as emulator:
        return build_plans(emulator, settings.target_contacts)


def apply_under_budget(data, schema: dict, plans: list[dict], extra: dict) -> tuple:
    """Apply plans on a fresh rate-limited emulator; return its log and counts."""
    from podium_emulator.testing import run_emulator

    name = "budget" + "".join(f"-{k}-{v}" for k, v in extra.items())
    folder = harness.fresh_folder(TARGET_DIR / name)
    source = singer_file(folder / "plans.singer", schema, plans)
    with run_emulator(
        corpus=data,
        rate_limit=BUDGET_REQUESTS,
        rate_window=BUDGET_WINDOW_S,
        merge_delay=MERGE_DELAY_S,
    ) as emulator:
        config = target_config(
            emulator, folder, requests_per_minute=per_minute_of_budget(), **extra
        )
        run = run_target(f"target-{name}", source, config)
        requests = api_requests(emulator)
        merged = merged_clusters(emulator.control.snapshot(), plans)
    return requests, run, merged


def wider_row(result: dict) -> dict:
    """Return the diagnostic row of the run with more clusters in flight."""
    return report.row(
        f"Same budget, max_in_flight {WIDER_IN_FLIGHT} (diagnostic)",
        f"{result['steady_fraction_of_budget']} of the budget in steady state, "
        f"{result['http_429']} x 429 ({result['http_429_after_first_window']} late)",
        "shows whether the default's shortfall is concurrency or throttle",
    )


def per_minute_of_budget() -> int:
    """Return the budget as the target's requests_per_minute setting."""
    return int(BUDGET_REQUESTS * 60 / BUDGET_WINDOW_S)


def per_second(requests: list[dict]) -> dict[int, int]:
    """Count accepted requests per wall second of the emulator's clock."""
    from podium_emulator.clock import from_iso

    counts = collections.Counter(
        from_iso(r["time"]) for r in requests if r.get("status") != 429
    )
    first, last = min(counts), max(counts)
    return {second: counts.get(second, 0) for second in range(first, last + 1)}


def budget_result(requests: list[dict], run, merged: int, clusters: int) -> dict:
    """Return achieved/allowed rates and the 429s (the log has 1 s precision)."""
    from podium_emulator.clock import from_iso

    budget = BUDGET_REQUESTS / BUDGET_WINDOW_S
    seconds = per_second(requests)
    steady = list(seconds.values())[1:-1] or list(seconds.values())
    accepted = sum(seconds.values())
    overall = accepted / len(seconds)
    start = min(seconds)
    throttled = [r for r in requests if r.get("status") == 429]
    late = [r for r in throttled if from_iso(r["time"]) >= start + BUDGET_WINDOW_S + 1]
    fraction = round(statistics.mean(steady) / budget, 3)
    met = fraction >= BUDGET_GOAL and not late
    return {
        "status": "ok",
        "budget": f"{BUDGET_REQUESTS} requests per {BUDGET_WINDOW_S:g} s",
        "budget_per_second": budget,
        "clusters": clusters,
        "merged": merged,
        "accepted_requests": accepted,
        "http_429": len(throttled),
        "http_429_after_first_window": len(late),
        "seconds_spanned": len(seconds),
        "overall_fraction_of_budget": round(overall / budget, 3),
        "steady_fraction_of_budget": fraction,
        "requests_per_second_by_second": list(seconds.values()),
        "target_run": run.as_dict(),
        "target_settings": {
            "requests_per_minute": per_minute_of_budget(),
            "max_in_flight": "default",
        },
        "goal": f">= {BUDGET_GOAL} of the budget, no 429 after the first window",
        "goal_met": met,
        "rows": [
            report.row(
                f"Target under a {BUDGET_REQUESTS} per {BUDGET_WINDOW_S:g} s budget",
                f"{fraction} of the budget in steady state "
                f"({round(overall / budget, 3)} over the whole run), "
                f"{len(throttled)} x 429 ({len(late)} after the first window)",
                f"budget {budget:g} requests/s",
                f">= {BUDGET_GOAL}, no late 429",
                met,
            )
        ],
    }
