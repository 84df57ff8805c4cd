"""Score a pipeline run from what Podium ended up holding, not from what it said.

Every figure here comes from three independent sources: the generator's corpus
and ground truth (`contacts.jsonl`, `truth.jsonl`), the emulator's final
snapshot (every contact, soft-deleted ones included, with `mergedInto`), and the
emulator's request log. The pipeline's own counters are never read, so the
summary cannot agree with the pipeline by construction. The one exception is
the review queue, which only the target knows; it is read from the file the
target wrote, and the ground truth's expected review groups sit beside it.

Pairs are unordered pairs of contact uids (docs/contracts.md section 3): an
auto-merged pair is two contacts that ended in the same live survivor; a
mergeable pair is two uids of one truth group whose outcome is `merge`.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl

import phonenumbers

PLACEHOLDER_NAMES = frozenset({"", "unknown", "customer", "no name", "na", "n a"})
GENERATIONAL_SUFFIXES = frozenset({"sr", "jr", "ii", "iii", "iv"})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class RunLog:
    """What one `meltano run` did, as the emulator saw it.

    Attributes:
        name: The job that ran (`dedup`, `dedup-apply`).
        requests: The request-log entries made while it ran.
        snapshot_before: The emulator's snapshot taken just before it started.
        wall_seconds: How long the `meltano run` took.
    """

    name: str
    requests: list[dict]
    snapshot_before: list[dict]
    wall_seconds: float
    extra: dict = field(default_factory=dict)


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSON-lines file into a list of objects."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


# --- reading the request log ---------------------------------------------------


def request_path(entry: dict) -> str:
    """Return the path of a logged request, without its query string."""
    return str(entry.get("path", "")).split("?", 1)[0]


def request_query(entry: dict) -> dict:
    """Return the query parameters of a logged request as a dict."""
    query = entry.get("query") or {}
    if isinstance(query, str):
        return dict(parse_qsl(query, keep_blank_values=True))
    return dict(query)


def request_time(entry: dict) -> float:
    """Return the time a request was logged, in seconds since the epoch."""
    value = entry.get("time", entry.get("timestamp", 0.0))
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def is_api_call(entry: dict) -> bool:
    """Tell whether a logged request went to the Podium API (`/v4`)."""
    return request_path(entry).startswith("/v4")


def is_merge_call(entry: dict) -> bool:
    """Tell whether a logged request is a merge of contacts."""
    path = request_path(entry)
    return entry.get("method") == "POST" and path.endswith("/merge")


def is_write(entry: dict) -> bool:
    """Tell whether a logged request asked the API to change something."""
    return is_api_call(entry) and entry.get("method") in WRITE_METHODS


def is_hard_delete(entry: dict) -> bool:
    """Tell whether a logged request deleted or purged a contact."""
    path = request_path(entry)
    return is_api_call(entry) and (entry.get("method") == "DELETE" or "purge" in path)


def count_429(requests: list[dict], window_seconds: float) -> tuple[int, int]:
    """Count 429 answers, in all and after the first rate window of the run."""
    api = [entry for entry in requests if is_api_call(entry)]
    if not api:
        return 0, 0
    first_window_ends = min(request_time(entry) for entry in api) + window_seconds
    limited = [entry for entry in api if entry.get("status") == 429]
    late = [entry for entry in limited if request_time(entry) > first_window_ends]
    return len(limited), len(late)


def contacts_read(run: RunLog) -> int:
    """Count the contacts a run's list requests returned.

    Uses the logged item count when the emulator records one; otherwise counts
    the live contacts of the snapshot taken before the run that match the
    `updated_at` filter of the run's first list request.
    """
    pages = [
        entry
        for entry in run.requests
        if entry.get("method") == "GET"
        and request_path(entry) == "/v4/contacts"
        and entry.get("status") == 200
    ]
    if not pages:
        return 0
    if all("items" in entry for entry in pages):
        return sum(int(entry["items"]) for entry in pages)
    return _contacts_after(run.snapshot_before, _first_filter(pages))


def _first_filter(pages: list[dict]) -> str | None:
    """Return the `updated_at` of the first list request that sent no cursor."""
    for entry in sorted(pages, key=request_time):
        query = request_query(entry)
        if "cursor" not in query:
            return query.get("updated_at")
    return None


def _contacts_after(snapshot: list[dict], updated_at: str | None) -> int:
    """Count live contacts updated strictly after a time (all when it is None)."""
    live = [contact for contact in snapshot if not contact.get("deletedAt")]
    if updated_at is None:
        return len(live)
    return sum(1 for contact in live if contact["updatedAt"] > updated_at)


# --- survivors and pairs -------------------------------------------------------


def survivors(snapshot: list[dict]) -> dict[str, str | None]:
    """Map every contact uid to the live contact it ended in (None if gone)."""
    by_uid = {contact["uid"]: contact for contact in snapshot}
    return {uid: _follow(uid, by_uid) for uid in by_uid}


def _follow(uid: str, by_uid: dict[str, dict]) -> str | None:
    """Follow `mergedInto` from a contact to a live one, bounded by the corpus."""
    for _ in range(len(by_uid) + 1):
        contact = by_uid.get(uid)
        if contact is None:
            return None
        if not contact.get("deletedAt"):
            return uid
        if not contact.get("mergedInto"):
            return None
        uid = contact["mergedInto"]
    return None


def merge_families(snapshot: list[dict]) -> dict[str, set[str]]:
    """Group each live survivor with every contact merged into it."""
    families: dict[str, set[str]] = {}
    for uid, survivor in survivors(snapshot).items():
        if survivor is not None:
            families.setdefault(survivor, set()).add(uid)
    return {key: uids for key, uids in families.items() if len(uids) > 1}


def pairs_of(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    """Return the unordered pairs of uids within each group."""
    return {
        pair
        for group in groups
        for pair in itertools.combinations(sorted(set(group)), 2)
    }


def truth_groups(truth: list[dict], outcome: str | None = None) -> list[dict]:
    """Return the truth groups, optionally only those with one outcome."""
    groups = [row for row in truth if row.get("kind") == "group"]
    return [row for row in groups if outcome in (None, row.get("outcome"))]


def precision_recall(
    truth: list[dict], snapshot: list[dict]
) -> tuple[float | None, float | None]:
    """Score the auto-merged pairs against the mergeable pairs of the truth."""
    merged = pairs_of(merge_families(snapshot).values())
    mergeable = pairs_of(group["uids"] for group in truth_groups(truth, "merge"))
    right = len(merged & mergeable)
    precision = right / len(merged) if merged else None
    recall = right / len(mergeable) if mergeable else None
    return precision, recall


# --- consent -------------------------------------------------------------------


def opt_outs(contact: dict) -> set[str]:
    """Return the channel kinds (`sms`, `email`) a contact is opted out of."""
    kinds = {"PHONE": "sms", "EMAIL": "email"}
    return {
        kinds[channel.get("type")]
        for channel in contact.get("channels") or []
        if channel.get("transactionalOptedOutAt") and channel.get("type") in kinds
    }


def opt_out_figures(
    truth: list[dict], corpus: list[dict], snapshot: list[dict]
) -> dict[str, int]:
    """Count the opt-outs of auto-merge groups and how many the survivors keep.

    One expected opt-out is one (truth merge group, channel kind) where some
    member was opted out before the run; it is preserved when the live contact
    that each such member ended in carries an opt-out of that kind.
    """
    before = {contact["uid"]: opt_outs(contact) for contact in corpus}
    after = {contact["uid"]: opt_outs(contact) for contact in snapshot}
    ends = survivors(snapshot)
    expected = preserved = 0
    for group in truth_groups(truth, "merge"):
        for kind in ("sms", "email"):
            holders = [uid for uid in group["uids"] if kind in before.get(uid, ())]
            if not holders:
                continue
            expected += 1
            kept = (kind in after.get(ends.get(uid) or "", ()) for uid in holders)
            preserved += all(kept)
    return {"opt_outs_expected": expected, "opt_outs_preserved": preserved}


def spread_opt_outs(corpus: list[dict], snapshot: list[dict]) -> dict[str, int]:
    """Count live contacts that gained an opt-out no member of their cluster had.

    Consent belongs to a channel, so an opt-out written on one survivor's phone
    string reaches every contact that carries the same string; a contact of
    another cluster (or of none) can end opted out without ever asking.
    """
    before = {contact["uid"]: opt_outs(contact) for contact in corpus}
    families: dict[str, set[str]] = {}
    for uid, survivor in survivors(snapshot).items():
        if survivor is not None:
            families.setdefault(survivor, set()).add(uid)
    spread: Counter[str] = Counter()
    for contact in snapshot:
        if contact["uid"] in families:
            held = set().union(
                *(before.get(u, set()) for u in families[contact["uid"]])
            )
            spread.update(opt_outs(contact) - held)
    return {
        "opt_outs_spread": sum(spread.values()),
        "opt_outs_spread_by_kind": dict(spread),
    }


# --- field values --------------------------------------------------------------


def normalise_name(name: str | None) -> str:
    """Fold a name as the SQL step does: case, punctuation, spacing, "Last, First".

    Generational suffixes (Sr., Jr., II) stay significant, moved to the end.
    """
    text = unicodedata.normalize("NFKC", name or "").casefold()
    if text.count(",") == 1:
        last, first = text.split(",")
        text = f"{first} {last}"
    words = re.sub(r"[^\w\s]", " ", text).split()
    suffixes = [word for word in words if word in GENERATIONAL_SUFFIXES]
    return " ".join([w for w in words if w not in GENERATIONAL_SUFFIXES] + suffixes)


def is_placeholder(name: str | None) -> bool:
    """Tell whether a name means "no name" (blank, Unknown, only digits...)."""
    folded = normalise_name(name)
    return folded in PLACEHOLDER_NAMES or folded.replace(" ", "").isdigit()


def phone_keys(raws: Iterable[object], regions: Iterable[str]) -> set[str]:
    """Return the valid E.164 numbers that raw phone strings give in any region."""
    keys: set[str] = set()
    for raw in raws:
        if isinstance(raw, str):
            keys.update(_e164(raw, region) for region in regions)
    keys.discard("")
    return keys


def _e164(raw: str, region: str) -> str:
    """Return the E.164 form of a raw phone in a region, or "" if it is not valid."""
    try:
        number = phonenumbers.parse(_plain(raw), region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plain(raw: str) -> str:
    """Fold full-width digits and odd spaces (tab, NBSP) that the parser rejects."""
    folded = unicodedata.normalize("NFKC", raw)
    kept = (char for char in folded if unicodedata.category(char) != "Cf")
    return "".join(" " if char.isspace() else char for char in kept)


def lost_values(member: dict, survivor: dict, regions: list[str]) -> list[str]:
    """List the kinds of the member's values that its survivor does not hold."""
    return [
        *_lost_name(member.get("name"), survivor.get("name")),
        *_lost_items("email", _emails(member), _emails(survivor)),
        *_lost_items(
            "phone",
            phone_keys(member.get("phoneNumbers") or [], regions[:1]),
            phone_keys(survivor.get("phoneNumbers") or [], regions),
        ),
        *_lost_address(member.get("address") or {}, survivor.get("address") or {}),
        *_lost_items("tag", _tag_labels(member), _tag_labels(survivor)),
    ]


def _lost_name(member: str | None, survivor: str | None) -> list[str]:
    """Return ["name"] when a member's real name is not the survivor's."""
    if is_placeholder(member) or normalise_name(member) == normalise_name(survivor):
        return []
    return ["name"]


def _lost_items(kind: str, member: set[str], survivor: set[str]) -> list[str]:
    """Return one `kind` per value of the member that the survivor lacks."""
    return [kind for _ in member - survivor]


def _emails(contact: dict) -> set[str]:
    """Return a contact's email addresses, case-folded."""
    return {str(email).casefold() for email in contact.get("emails") or []}


def _tag_labels(contact: dict) -> set[str]:
    """Return a contact's tag labels, case-folded."""
    return {_tag_label(tag) for tag in contact.get("tags") or []}


def _lost_address(member: dict, survivor: dict) -> list[str]:
    """List address sub-fields the member had and the survivor left empty."""
    return [
        f"address.{name}"
        for name, value in sorted(member.items())
        if str(value or "").strip() and not str(survivor.get(name) or "").strip()
    ]


def _tag_label(tag: dict | str) -> str:
    """Return a tag's label, case-folded."""
    label = tag.get("label", "") if isinstance(tag, dict) else tag
    return str(label or "").casefold()


def field_value_figures(truth: list[dict], snapshot: list[dict]) -> dict:
    """Count member values that are missing from the survivor they merged into.

    Returns:
        `field_values_lost`, the same by kind, and up to ten examples naming the
        member and survivor uids and the kind (never the value: it is personal).
    """
    region_of = {
        row["uid"]: row.get("region") or "AU"
        for row in truth
        if row.get("kind") == "contact"
    }
    by_uid = {contact["uid"]: contact for contact in snapshot}
    lost: Counter[str] = Counter()
    examples: list[dict] = []
    for uid, survivor in survivors(snapshot).items():
        if survivor is None or survivor == uid:
            continue
        regions = [region_of.get(uid, "AU"), region_of.get(survivor, "AU")]
        kinds = lost_values(by_uid[uid], by_uid[survivor], regions)
        lost.update(kinds)
        if kinds and len(examples) < 10:
            examples.append({"member": uid, "survivor": survivor, "lost": kinds})
    return {
        "field_values_lost": sum(lost.values()),
        "field_values_lost_by_kind": dict(lost),
        "field_values_lost_examples": examples,
    }


# --- the review queue ----------------------------------------------------------


def review_reasons(review_queue: Path) -> Counter[str]:
    """Count the review items the target wrote, by reason."""
    if not review_queue.exists():
        return Counter()
    items = json.loads(review_queue.read_text(encoding="utf-8"))
    if isinstance(items, dict):
        items = items.get("items") or items.get("review_items") or []
    return Counter(str(item.get("reason")) for item in _unique_clusters(items))


def _unique_clusters(items: list[dict]) -> Iterator[dict]:
    """Yield each review item once per cluster (the queue may list members)."""
    seen: set[str] = set()
    for item in items:
        key = str(item.get("cluster_id", id(item)))
        if key not in seen:
            seen.add(key)
            yield item


# --- the summary ---------------------------------------------------------------


def run_figures(run: RunLog, window_seconds: float) -> dict:
    """Summarise one run: calls, 429s, contacts read, merges and writes."""
    api = [entry for entry in run.requests if is_api_call(entry)]
    limited, late = count_429(run.requests, window_seconds)
    return {
        "job": run.name,
        "wall_seconds": round(run.wall_seconds, 1),
        "api_calls": len(api),
        "writes": sum(1 for entry in api if is_write(entry)),
        "merges": sum(1 for entry in api if is_merge_call(entry)),
        "http_429": limited,
        "http_429_after_first_window": late,
        "contacts_read": contacts_read(run),
        **run.extra,
    }


def build_summary(
    corpus_dir: Path,
    final_snapshot: list[dict],
    runs: list[RunLog],
    review_queue: Path,
    budget: dict,
) -> dict:
    """Build the demo's summary from the corpus, the emulator and the review queue.

    Args:
        corpus_dir: Folder written by `podium-emulator generate`.
        final_snapshot: The emulator's snapshot after the last run.
        runs: The runs in order: the dry run, the apply, the second apply.
        review_queue: The `review-queue.json` the applying target wrote.
        budget: The emulator's rate limit: `requests` per `window_seconds`.
    """
    truth = read_jsonl(corpus_dir / "truth.jsonl")
    corpus = read_jsonl(corpus_dir / "contacts.jsonl")
    per_run = [run_figures(run, budget["window_seconds"]) for run in runs]
    apply_run, second_run = per_run[1], per_run[-1]
    families = merge_families(final_snapshot)
    precision, recall = precision_recall(truth, final_snapshot)
    reasons = review_reasons(review_queue)
    every_request = [entry for run in runs for entry in run.requests]
    return {
        "contacts": len(corpus),
        "contacts_read": apply_run["contacts_read"],
        "clusters": len(families) + sum(reasons.values()),
        "auto_merged_clusters": len(families),
        "duplicates_merged": sum(len(uids) - 1 for uids in families.values()),
        "review_items": dict(sorted(reasons.items())),
        "truth_groups": dict(Counter(g["outcome"] for g in truth_groups(truth))),
        "truth_review_groups": dict(
            Counter(g.get("reason") for g in truth_groups(truth, "review"))
        ),
        **opt_out_figures(truth, corpus, final_snapshot),
        **spread_opt_outs(corpus, final_snapshot),
        **field_value_figures(truth, final_snapshot),
        "precision": precision,
        "recall": recall,
        "api_calls": sum(run["api_calls"] for run in per_run),
        "http_429": sum(run["http_429"] for run in per_run),
        "http_429_after_first_window": sum(
            run["http_429_after_first_window"] for run in per_run
        ),
        "hard_deletes": sum(1 for entry in every_request if is_hard_delete(entry)),
        "dry_run_writes": per_run[0]["writes"],
        "wall_seconds": round(sum(run.wall_seconds for run in runs), 1),
        "second_run_contacts_read": second_run["contacts_read"],
        "second_run_merges": second_run["merges"],
        "rate_budget": budget,
        "runs": per_run,
    }


def done_checks(summary: dict) -> dict[str, bool]:
    """Check the figures against issue 6's "done when" list."""
    return {
        "precision is 1.0": summary["precision"] == 1.0,
        "recall is at least 0.9": (summary["recall"] or 0.0) >= 0.9,
        "every expected opt-out preserved": (
            summary["opt_outs_preserved"] == summary["opt_outs_expected"]
        ),
        "no field value lost": summary["field_values_lost"] == 0,
        "no 429 after the first rate window": (
            summary["http_429_after_first_window"] == 0
        ),
        "the second run merges nothing": summary["second_run_merges"] == 0,
        "the dry run writes nothing": summary["dry_run_writes"] == 0,
        "no hard delete": summary["hard_deletes"] == 0,
    }


def format_checks(checks: dict[str, bool]) -> str:
    """Render the done checks as PASS/FAIL lines."""
    return "\n".join(
        f"  {'PASS' if passed else 'FAIL'}  {name}" for name, passed in checks.items()
    )


def format_table(summary: dict) -> str:
    """Render the headline figures of a summary as a two-column text table."""
    rows = [
        ("contacts in the corpus", summary["contacts"]),
        ("contacts read (apply)", summary["contacts_read"]),
        ("auto-merged clusters", summary["auto_merged_clusters"]),
        ("duplicates merged", summary["duplicates_merged"]),
        ("review items", sum(summary["review_items"].values())),
        *((f"  review: {k}", v) for k, v in summary["review_items"].items()),
        ("precision", _ratio(summary["precision"])),
        ("recall", _ratio(summary["recall"])),
        (
            "opt-outs preserved",
            f"{summary['opt_outs_preserved']} / {summary['opt_outs_expected']}",
        ),
        ("opt-outs spread to others", summary["opt_outs_spread"]),
        ("field values lost", summary["field_values_lost"]),
        ("API calls", summary["api_calls"]),
        ("HTTP 429 (after 1st window)", _late(summary)),
        ("writes in the dry run", summary["dry_run_writes"]),
        ("second run: contacts read", summary["second_run_contacts_read"]),
        ("second run: merges", summary["second_run_merges"]),
        ("rate budget", _budget(summary["rate_budget"])),
        ("pipeline wall seconds", summary["wall_seconds"]),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


def _ratio(value: float | None) -> str:
    """Format a ratio to four places, or say it could not be computed."""
    return "n/a (nothing to score)" if value is None else f"{value:.4f}"


def _late(summary: dict) -> str:
    """Format the 429 count with the part that came after the first window."""
    return f"{summary['http_429']} ({summary['http_429_after_first_window']})"


def _budget(budget: dict) -> str:
    """Format a rate budget as requests per window."""
    return f"{budget['requests']} requests / {budget['window_seconds']} s"
