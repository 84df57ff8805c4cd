"""Score dedup-plan's plans against a generated corpus's ground truth.

Generates a corpus with `podium_emulator.testing.generate_corpus`, enriches it
with the tap's pure `tap_podium.enrich`, feeds it to the mapper in-process,
and counts precision and recall over unordered pairs of contact uids
(docs/contracts.md section 3).

    python transform/scripts/score_corpus.py --contacts 20000 --seed 7
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from dedup_plan.mapper import DedupPlanMapper


def singer_text(corpus, region: str) -> str:
    """Return the corpus as the tap would write it: SCHEMA, RECORD, STATE."""
    from tap_podium.enrich import LocationIndex, enrich_contact, enrich_location

    index = LocationIndex.build(corpus.locations, default_region=region)
    lines = [_schema("locations")]
    lines += [_record("locations", enrich_location(r, index)) for r in corpus.locations]
    lines.append(_schema("contacts"))
    lines += [_record("contacts", enrich_contact(r, index)) for r in corpus.contacts]
    lines.append({"type": "STATE", "value": {"bookmarks": {}}})
    return "".join(json.dumps(line, default=str) + "\n" for line in lines)


def _schema(stream: str) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": {}, "key_properties": ["uid"]}


def _record(stream: str, record: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def run_mapper(text: str, index_db: Path) -> list[dict]:
    """Run the mapper on `text` and return the messages it wrote."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        DedupPlanMapper(config={"index_db": str(index_db)}).listen(io.StringIO(text))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def pairs(uid_sets) -> set[frozenset[str]]:
    """Return every unordered pair of uids inside each set."""
    return {
        frozenset(pair)
        for uids in uid_sets
        for pair in itertools.combinations(sorted(uids), 2)
    }


def score(corpus, messages: list[dict]) -> dict:
    """Compare the plans with the truth and return figures and examples."""
    plans = [
        m["record"]
        for m in messages
        if m.get("stream") == "merge_plans" and m["type"] == "RECORD"
    ]
    reviews = [
        m["record"]
        for m in messages
        if m.get("stream") == "review_items" and m["type"] == "RECORD"
    ]
    groups = [row for row in corpus.truth if row["kind"] == "group"]
    person = {
        row["uid"]: row["person"] for row in corpus.truth if row["kind"] == "contact"
    }
    merged = pairs([m["uid"] for m in plan["members"]] for plan in plans)
    mergeable = pairs(g["uids"] for g in groups if g["outcome"] == "merge")
    wrong_person = {p for p in merged if len({person[u] for u in p}) > 1}
    return {
        "contacts": len(corpus.contacts),
        "merge_plans": len(plans),
        "review_items": len(reviews),
        "review_reasons": Counter(r["reason"] for r in reviews),
        "auto_merged_pairs": len(merged),
        "mergeable_pairs": len(mergeable),
        "precision": len(merged & mergeable) / len(merged) if merged else 1.0,
        "recall": len(merged & mergeable) / len(mergeable) if mergeable else 1.0,
        "different_person_merges": len(wrong_person),
        "merged_not_mergeable": _explain(merged - mergeable, groups),
        "missed": _missed(mergeable - merged, groups, reviews),
        "items_without_reason": sum(1 for r in reviews if not r.get("reason")),
        "review_groups": _review_agreement(groups, plans, reviews),
    }


def _review_agreement(
    groups: list[dict], plans: list[dict], reviews: list[dict]
) -> Counter:
    """Count, per truth review reason, what the plans did with that group."""
    found = {}
    for plan in plans:
        for uid in plan["members"]:
            found[uid["uid"]] = "merged"
    for review in reviews:
        for member in review["members"]:
            found.setdefault(member["uid"], review["reason"])
    outcome = Counter()
    for group in groups:
        if group["outcome"] == "review":
            ours = {found.get(uid, "not clustered") for uid in group["uids"]}
            outcome[f"{group['reason']} -> {'/'.join(sorted(ours))}"] += 1
    return outcome


def _explain(extra: set, groups: list[dict]) -> Counter:
    where = {}
    for group in groups:
        for pair in pairs([group["uids"]]):
            where[pair] = f"{group['outcome']}:{group['reason']}"
    return Counter(where.get(pair, "no truth group") for pair in extra)


def _missed(missing: set, groups: list[dict], reviews: list[dict]) -> Counter:
    reason_of = {}
    for review in reviews:
        for pair in pairs([[m["uid"] for m in review["members"]]]):
            reason_of[pair] = review["reason"]
    return Counter(reason_of.get(pair, "not clustered") for pair in missing)


def main(argv: list[str] | None = None) -> None:
    """Generate, plan, score and print the figures as JSON."""
    from podium_emulator.testing import generate_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--region", default="AU")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = generate_corpus(contacts=args.contacts, seed=args.seed)
    text = singer_text(corpus, args.region)
    with tempfile.TemporaryDirectory() as folder:
        figures = score(corpus, run_mapper(text, Path(folder) / "index.db"))
    figures["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(figures, sys.stdout, indent=2, default=str)
    print()


if __name__ == "__main__":
    main()
