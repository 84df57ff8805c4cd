"""Apply one cluster: the persisted state machine of ARCHITECTURE section 6.

pending -> checked -> merging -> merged -> consent_written -> verified, with
the terminal outcomes conflict, skipped, review and failed. The state is
written before and after every call, and every step can be re-entered after a
crash: it reads Podium's own state first, so nothing is applied twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import typing as t

from target_podium_merge import client as api
from target_podium_merge import consent, errors, fill
from target_podium_merge.audit import AuditLog
from target_podium_merge.plans import (
    DEFAULT_MERGE_THRESHOLD,
    has_cluster_id,
    live_problem,
    member_uids,
    plan_problem,
    review_key,
    same_time,
)
from target_podium_merge.review import review_item
from target_podium_merge.state import PROGRESS, MergeState

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ApplySettings:
    """How a cluster is applied."""

    allow_cross_location: bool = False
    merge_threshold: float = DEFAULT_MERGE_THRESHOLD
    dry_run: bool = True
    confirm_timeout: float = 30.0
    poll_interval: float = 0.25


class Stop(Exception):
    """End the cluster with a terminal outcome."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class ClusterApplier:
    """Drives clusters through the state machine; safe to share across threads."""

    def __init__(
        self,
        client: api.PodiumClient,
        state: MergeState,
        audit: AuditLog,
        settings: ApplySettings,
        *,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.state = state
        self.audit = audit
        self.settings = settings
        self._sleep = sleep
        self._location_names: dict[str, str] | None = None
        self._names_lock = threading.Lock()

    # Entry points

    def apply(self, plan: dict) -> str:
        """Apply one incoming plan and return the cluster's outcome."""
        if not has_cluster_id(plan):
            return self._send_to_review(
                plan, "invalid_plan: the plan has no cluster_id"
            )
        row = self.state.get(plan["cluster_id"])
        try:
            restored = self._restored_uids(plan)
        except (errors.RetriableError, errors.ClusterError) as exc:
            logger.warning(
                "cluster %s: failed: could not read its merged contacts (%s); "
                "the next run tries again",
                plan["cluster_id"],
                exc,
            )
            return "failed"
        if row and row["state"] == "verified":
            return self._replayed(plan, restored)
        if row and PROGRESS.index(row["progress"]) >= PROGRESS.index("merging"):
            # A merge already went out: finish the survivor's consent first.
            outcome = self.resume(row)
            if restored:
                self._queue_restored(plan, restored, finish_row=False)
            return outcome
        problem = plan_problem(
            plan,
            allow_cross_location=self.settings.allow_cross_location,
            merge_threshold=self.settings.merge_threshold,
        )
        if problem:
            return self._send_to_review(plan, problem)
        if restored:
            return self._queue_restored(plan, restored)
        if self.settings.dry_run:
            return self._dry_run(plan)
        row = self.state.start(plan) if row is None else self._restart(plan)
        return self.resume(row)

    def resume(self, row: dict) -> str:
        """Drive a persisted cluster from its progress to a terminal outcome."""
        cluster_id, started = row["cluster_id"], time.monotonic()
        self.state.count_attempt(cluster_id)
        try:
            outcome = self._run_steps(row)
        except Stop as stop:
            outcome = self._finish(row, stop)
        except errors.RetriableError as exc:
            outcome = self._finish(row, Stop("failed", f"{exc}"))
        except errors.ClusterError as exc:
            # Podium rejected a call as written: retrying will not help.
            self._queue_review(
                row["plan"], f"rejected_by_podium: {exc.code or exc.status}"
            )
            outcome = self._finish(row, Stop("review", f"{exc}; a person must decide"))
        logger.info(
            "cluster %s: %s in %.2fs", cluster_id, outcome, time.monotonic() - started
        )
        return outcome

    # The steps

    def _run_steps(self, row: dict) -> str:
        steps = {
            "pending": self._check,
            "checked": self._merge,
            "merging": self._confirm_after_crash,
            "merged": self._write_fill_and_consent,
            "consent_written": self._verify,
        }
        progress, row = row["progress"], {**row, "seen": {}}
        for _step in range(2 * len(steps)):
            if progress == "verified":
                return "verified"
            progress = steps[progress](row)
            # Keep what this run already read (the survivor), to spare a read.
            row = {
                **t.cast(dict, self.state.get(row["cluster_id"])),
                "seen": row["seen"],
            }
        msg = f"cluster {row['cluster_id']} did not settle; rerun to resume it"
        raise Stop("failed", msg)

    def _check(self, row: dict) -> str:
        """Step 1: re-read every member and compare with the plan."""
        plan, cluster_id = row["plan"], row["cluster_id"]
        live = {m["uid"]: self.client.get_contact(m["uid"]) for m in plan["members"]}
        indexed = {m["uid"]: m.get("updated_at") for m in plan["members"]}
        found = {uid: (c or {}).get("updatedAt") for uid, c in live.items()}
        details = {"indexed_updated_at": indexed, "live_updated_at": found}
        if live[plan["primary_uid"]] is None:
            self.audit.record(cluster_id, "check", outcome="skipped", **details)
            raise Stop(
                "skipped", "the primary is gone (404); the cluster is re-planned"
            )
        changed = sorted(u for u in live if not same_time(indexed[u], found[u]))
        if changed:
            self.audit.record(
                cluster_id,
                "check",
                outcome="conflict",
                pre_images=live,
                changed_uids=changed,
                **details,
            )
            msg = f"members changed or gone since planning: {', '.join(changed)}"
            raise Stop("conflict", msg + "; the next run re-plans the cluster")
        self._reject_unsupported(plan, live)
        self.state.advance(cluster_id, "checked", pre_images=live)
        self.audit.record(cluster_id, "check", outcome="checked", pre_images=live)
        return "checked"

    def _reject_unsupported(self, plan: dict, live: dict[str, dict | None]) -> None:
        """Send the cluster to review when the live members do not bear it out."""
        problem = live_problem(plan, live, self.settings.merge_threshold)
        if problem is None:
            return
        self.audit.record(plan["cluster_id"], "check", outcome="review", reason=problem)
        self._queue_review(plan, problem)
        raise Stop("review", f"{problem}; nothing merged, a person must decide")

    def _merge(self, row: dict) -> str:
        """Step 2: merge the duplicates into the primary, then confirm it."""
        plan, cluster_id = row["plan"], row["cluster_id"]
        call = api.merge_call(plan["primary_uid"], list(plan["duplicate_uids"]))
        self.state.advance(cluster_id, "merging")
        try:
            result = self.client.send(call)
        except errors.InvalidDuplicate as exc:
            self._audit_call(cluster_id, "merge", call, exc)
            return self._merged_already_or_stop(row)
        except errors.ResourceNotFound as exc:
            self._audit_call(cluster_id, "merge", call, exc)
            raise Stop(
                "skipped", "the primary is gone (404); audited, not merged"
            ) from exc
        except errors.CrossLocationBlocked as exc:
            self._audit_call(cluster_id, "merge", call, exc)
            self._queue_review(plan, "cross_location_merge_blocked")
            raise Stop("review", "tenant policy blocks a cross-location merge") from exc
        self._audit_call(
            cluster_id,
            "merge",
            call,
            result,
            pre_images=row["pre_images"],
            primary_reason=plan.get("primary_reason"),
        )
        return self._await_merge(row)

    def _confirm_after_crash(self, row: dict) -> str:
        """Resume in `merging`: prove the merge from Podium, or send it again.

        When nothing moved and no member changed since planning, the merge is
        sent again: if the first one is still processing, Podium answers 409
        and then 400, and the read-back proves it, so it is never applied twice.
        """
        proof = self._merge_proof(row)
        if proof == "merged":
            return self._record_merge(row)
        if proof == "not_merged" and self._unchanged_since_planning(row):
            self.state.advance(row["cluster_id"], "checked")
            return "checked"
        raise Stop("conflict", f"after a restart the merge state is {proof}; re-plan")

    def _unchanged_since_planning(self, row: dict) -> bool:
        members = row["plan"]["members"]
        live = {m["uid"]: self.client.get_contact(m["uid"]) for m in members}
        return all(
            live[m["uid"]]
            and same_time(m.get("updated_at"), live[m["uid"]].get("updatedAt"))
            for m in members
        )

    def _await_merge(self, row: dict) -> str:
        deadline = time.monotonic() + self.settings.confirm_timeout
        while True:
            proof = self._merge_proof(row)
            if proof == "merged":
                return self._record_merge(row)
            if time.monotonic() >= deadline:
                msg = (
                    f"the merge was accepted but not visible after "
                    f"{self.settings.confirm_timeout:.0f}s ({proof}); rerun to confirm"
                )
                raise Stop("failed", msg)
            self._sleep(self.settings.poll_interval)

    def _merged_already_or_stop(self, row: dict) -> str:
        """400 invalid_duplicate_uid: done if merged into this primary, else re-plan."""
        if self._merge_proof(row) == "merged":
            return self._record_merge(row)
        raise Stop("conflict", "a duplicate is gone or merged elsewhere; re-plan")

    def _merge_proof(self, row: dict) -> str:
        """Read back: merged, not_merged, primary_gone or partial.

        A duplicate whose conversations are all on the primary is proven merged
        without reading it; any other duplicate is read, and a 404 with no
        conversation to move counts as merged.
        """
        plan, pre = row["plan"], row["pre_images"] or {}
        primary = self.client.get_contact(plan["primary_uid"])
        if primary is None:
            return "primary_gone"
        held = {c.get("uid") for c in primary.get("conversations") or []}
        live = moved = 0
        for uid in plan["duplicate_uids"]:
            theirs = {
                c.get("uid") for c in (pre.get(uid) or {}).get("conversations") or []
            }
            if theirs and theirs <= held:
                moved += 1
            elif self.client.get_contact(uid) is not None:
                live += 1
            elif not theirs:
                moved += 1
        if moved == len(plan["duplicate_uids"]):
            row["seen"]["survivor"] = primary
            return "merged"
        return "not_merged" if live == len(plan["duplicate_uids"]) else "partial"

    def _record_merge(self, row: dict) -> str:
        plan, cluster_id = row["plan"], row["cluster_id"]
        self.state.record_merged(
            cluster_id, plan["primary_uid"], plan["duplicate_uids"]
        )
        self.state.advance(cluster_id, "merged")
        self.audit.record(
            cluster_id,
            "merge_confirmed",
            primary_uid=plan["primary_uid"],
            duplicate_uids=plan["duplicate_uids"],
        )
        return "merged"

    def _write_fill_and_consent(self, row: dict) -> str:
        """Step 3: fill what the survivor lacks, then opt it out where needed.

        When the survivor already holds everything, the read that showed it is
        the verification, and the cluster is done.
        """
        plan, cluster_id = row["plan"], row["cluster_id"]
        survivor = row["seen"].pop("survivor", None) or self._read_survivor(row)
        target = consent.effective_target(plan, row["pre_images"] or {})
        filled = self._send_once(
            cluster_id, "fill", fill.fill_calls(survivor, plan.get("fill"))
        )
        if filled and _fill_adds_channels_to_opt_out(plan.get("fill") or {}, target):
            # The new channels must be readable before they can be opted out.
            survivor = self._await(row, lambda s: not fill.missing(s, plan.get("fill")))
        opted = self._send_once(
            cluster_id, "consent", consent.opt_out_calls(survivor, target)
        )
        self.state.advance(cluster_id, "consent_written")
        if not filled and not opted:
            return self._done(row, survivor, target)
        return "consent_written"

    def _verify(self, row: dict) -> str:
        """Step 4: read the survivor back; done only when consent and fields hold."""
        plan, cluster_id = row["plan"], row["cluster_id"]
        target = consent.effective_target(plan, row["pre_images"] or {})

        def holds(survivor: dict) -> bool:
            return not consent.unmet(survivor, target) and not fill.missing(
                survivor, plan.get("fill")
            )

        survivor = self._await(row, holds, fail=False)
        problems = consent.unmet(survivor, target) + fill.missing(
            survivor, plan.get("fill")
        )
        if problems:
            # Redo step 3 on the next run: forget which writes were accepted.
            self.state.forget_operations(cluster_id)
            self.state.advance(cluster_id, "merged")
            self.audit.record(cluster_id, "verify", outcome="failed", unmet=problems)
            msg = f"the survivor lacks {len(problems)} consent or fill values"
            raise Stop("failed", msg + "; the next run writes them again")
        return self._done(row, survivor, target)

    def _done(self, row: dict, survivor: dict, target: dict) -> str:
        cluster_id, plan = row["cluster_id"], row["plan"]
        self.state.advance(cluster_id, "verified")
        self.audit.record(
            cluster_id,
            "verify",
            outcome="verified",
            post_image=survivor,
            consent_target=target,
            primary_reason=plan.get("primary_reason"),
        )
        return "verified"

    # Helpers

    def _send_once(self, cluster_id: str, step: str, calls: list) -> int:
        """Send each keyed write unless an earlier attempt already had it accepted.

        Returns:
            How many writes were sent.
        """
        sent = 0
        for key, call in calls:
            if self.state.is_done(cluster_id, key):
                continue
            try:
                result = self.client.send(call)
            except errors.PodiumError as exc:
                self._audit_call(cluster_id, step, call, exc)
                raise
            self.state.mark_done(cluster_id, key)
            self._audit_call(cluster_id, step, call, result)
            sent += 1
        return sent

    def _read_survivor(self, row: dict) -> dict:
        survivor = self.client.get_contact(row["plan"]["primary_uid"])
        if survivor is None:
            raise Stop("skipped", "the survivor is gone (404) after the merge; audited")
        return survivor

    def _await(
        self, row: dict, ready: t.Callable[[dict], bool], *, fail: bool = True
    ) -> dict:
        """Re-read the survivor until `ready` holds or the confirm timeout ends."""
        deadline = time.monotonic() + self.settings.confirm_timeout
        survivor = self._read_survivor(row)
        while not ready(survivor) and time.monotonic() < deadline:
            self._sleep(self.settings.poll_interval)
            survivor = self._read_survivor(row)
        if fail and not ready(survivor):
            raise Stop("failed", "writes were accepted but are not visible; rerun")
        return survivor

    def _finish(self, row: dict, stop: Stop) -> str:
        if stop.outcome == "failed":
            # Keep the progress reached as the state: the next run resumes it first.
            self.state.note_failure(row["cluster_id"], stop.reason)
        else:
            self.state.finish(row["cluster_id"], stop.outcome, stop.reason)
        self.audit.record(
            row["cluster_id"], "finish", outcome=stop.outcome, reason=stop.reason
        )
        if stop.outcome != "review":
            logger.warning(
                "cluster %s: %s: %s", row["cluster_id"], stop.outcome, stop.reason
            )
        return stop.outcome

    def _restart(self, plan: dict) -> dict:
        """A plan for a cluster that stopped before merging starts over."""
        self.state.replan(plan)
        return t.cast(dict, self.state.get(plan["cluster_id"]))

    def _restored_uids(self, plan: dict) -> list[str]:
        """Return the plan's contacts this target merged away that read live again.

        Only contacts in `merged_contacts` are read, so a plan that touches
        none of them costs no call here.
        """
        merged = sorted(u for u in member_uids(plan) if self.state.merged_into(u))
        return [uid for uid in merged if self.client.get_contact(uid) is not None]

    def _replayed(self, plan: dict, restored: list[str]) -> str:
        """A verified cluster arriving again: skipped, unless a member was restored."""
        if restored:
            self._queue_restored(plan, restored, finish_row=False)
            return "review"
        logger.info("cluster %s: already verified, skipped", plan["cluster_id"])
        return "verified"

    def _queue_restored(
        self, plan: dict, restored: list[str], *, finish_row: bool = True
    ) -> str:
        """An admin restored a contact this target merged: a person decides."""
        self._queue_review(
            plan, "restored_after_merge", restored_uids=restored, finish_row=finish_row
        )
        logger.info(
            "cluster %s: sent to review (restored_after_merge: %s)",
            plan["cluster_id"],
            ", ".join(restored),
        )
        return "review"

    def _send_to_review(self, plan: dict, reason: str) -> str:
        self._queue_review(plan, reason)
        logger.info("cluster %s: sent to review (%s)", review_key(plan), reason)
        return "review"

    def _queue_review(
        self, plan: dict, reason: str, *, finish_row: bool = True, **extra: t.Any
    ) -> None:
        item = {
            **review_item(plan, reason, self.location_names()),
            "cluster_id": review_key(plan),
            **extra,
        }
        self.state.queue_review(item)
        if self.settings.dry_run or not finish_row or not has_cluster_id(plan):
            return
        if self.state.get(plan["cluster_id"]) is None:
            self.state.start(plan)
        self.state.finish(plan["cluster_id"], "review", reason)

    def location_names(self) -> dict[str, str]:
        """Return location names by uid, read once (a failed read gives uids)."""
        with self._names_lock:
            if self._location_names is None:
                try:
                    found = self.client.list_locations()
                except errors.FatalError:
                    # Wrong credentials or scopes: stop the run, do not hide it.
                    raise
                except errors.PodiumError as exc:
                    logger.warning(
                        "could not read locations (%s); review shows uids", exc
                    )
                    found = []
                self._location_names = {
                    loc["uid"]: loc.get("name") or loc.get("displayName") or loc["uid"]
                    for loc in found
                }
            return self._location_names

    def _audit_call(
        self,
        cluster_id: str,
        step: str,
        call: api.Call,
        outcome: object,
        **extra: t.Any,
    ) -> None:
        status = getattr(outcome, "status", None)
        self.audit.record(
            cluster_id,
            step,
            call=call.as_dict(),
            status=status,
            request_id=getattr(outcome, "request_id", None),
            error=str(outcome) if isinstance(outcome, Exception) else None,
            **extra,
        )

    # Dry run

    def _dry_run(self, plan: dict) -> str:
        """Read the members and record the calls a real run would make."""
        cluster_id = plan["cluster_id"]
        live = {m["uid"]: self.client.get_contact(m["uid"]) for m in plan["members"]}
        gone = sorted(uid for uid, contact in live.items() if contact is None)
        changed = sorted(
            m["uid"]
            for m in plan["members"]
            if live[m["uid"]]
            and not same_time(m.get("updated_at"), live[m["uid"]].get("updatedAt"))
        )
        if gone or changed:
            logger.info(
                "cluster %s: dry run: would stop as conflict (%d gone, %d changed)",
                cluster_id,
                len(gone),
                len(changed),
            )
            return "conflict"
        problem = live_problem(plan, live, self.settings.merge_threshold)
        if problem:
            return self._send_to_review(plan, problem)
        for _key, call in self._predicted_calls(plan, live):
            self.client.send(call, cluster_id)
        return "dry_run"

    def _predicted_calls(self, plan: dict, live: dict[str, dict]) -> list:
        primary = live[plan["primary_uid"]]
        merge = [
            ("merge", api.merge_call(plan["primary_uid"], list(plan["duplicate_uids"])))
        ]
        filled = fill.fill_calls(primary, plan.get("fill"))
        survivor = _with_new_channels(primary, plan.get("fill") or {})
        target = consent.effective_target(plan, live)
        return merge + filled + consent.opt_out_calls(survivor, target)


def _with_new_channels(primary: dict, planned_fill: dict) -> dict:
    """The survivor as it will look after the fill: new channels carry no consent."""
    channels = list(primary.get("channels") or [])
    known = {c.get("identifier") for c in channels}
    for kind, values in (
        ("PHONE", planned_fill.get("phones")),
        ("EMAIL", planned_fill.get("emails")),
    ):
        channels += [
            {"type": kind, "identifier": v} for v in values or [] if v not in known
        ]
    return {**primary, "channels": channels}


def _fill_adds_channels_to_opt_out(planned_fill: dict, target: dict) -> bool:
    """Whether the fill adds a phone or email channel that must be opted out."""
    return bool(
        (planned_fill.get("phones") and target["sms_opt_out"])
        or (planned_fill.get("emails") and target["email_opt_out"])
    )
