"""A small in-memory Podium for unit tests, served through httpx.MockTransport."""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path

import httpx
from target_podium_merge.apply import ApplySettings, ClusterApplier
from target_podium_merge.audit import AuditLog
from target_podium_merge.client import PodiumClient
from target_podium_merge.state import MergeState
from target_podium_merge.throttle import Throttle

# The SCHEMA message a plan stream starts with; plans may carry any field.
PLAN_SCHEMA = {
    "type": "SCHEMA",
    "stream": "merge_plans",
    "key_properties": ["cluster_id"],
    "schema": {
        "type": "object",
        "properties": {"cluster_id": {"type": "string"}},
        "additionalProperties": True,
    },
}

API = "http://127.0.0.1:9/v4"
OAUTH = "http://127.0.0.1:9/oauth/token"
CREDENTIALS = {
    "client_id": "client-3c3c",
    "client_secret": "secret-5a5a",
    "refresh_token": "rt-7b7b",
}
ACCESS_TOKEN = "tok-9f8e7d"


def channel(
    kind: str,
    identifier: str,
    *,
    opted_out: str | None = None,
    marketing: list[str] | None = None,
) -> dict:
    """Build one consent channel."""
    return {
        "type": kind,
        "identifier": identifier,
        "transactionalOptedOutAt": opted_out,
        "marketingOptedInLocationUids": marketing or [],
    }


def contact(
    uid: str,
    *,
    updated_at: str = "2026-11-01T00:00:00Z",
    name: str | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    locations: tuple[str, ...] = ("loc-1",),
    channels: list[dict] | None = None,
    tags: list[dict] | None = None,
) -> dict:
    """Build one contact as the emulator serves it."""
    phones = phones or []
    emails = emails or []
    channels = (
        channels
        if channels is not None
        else (
            [channel("PHONE", p) for p in phones]
            + [channel("EMAIL", e) for e in emails]
        )
    )
    return {
        "uid": uid,
        "name": name,
        "emails": emails,
        "phoneNumbers": phones,
        "channels": channels,
        "locations": [{"uid": loc} for loc in locations],
        "address": {},
        "tags": tags or [],
        "conversations": [{"uid": f"conv-{uid}"}],
        "updatedAt": updated_at,
    }


class FakePodium:
    """Contacts in a dict, a request log, and faults queued per (method, path)."""

    def __init__(
        self, contacts: list[dict], locations: list[dict] | None = None
    ) -> None:
        self.contacts = {c["uid"]: copy.deepcopy(c) for c in contacts}
        self.deleted: dict[str, dict] = {}
        self.locations = locations or [{"uid": "loc-1", "name": "Bondi"}]
        self.requests: list[tuple[str, str, int]] = []
        self.faults: list[tuple[str, str, int, str, dict]] = []
        self.token_valid = True
        self._ids = itertools.count(1)

    def fault(
        self,
        method: str,
        pattern: str,
        status: int,
        code: str = "",
        headers: dict | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next `count` matching requests with an error."""
        self.faults += [(method, pattern, status, code, headers or {})] * count

    def transport(self) -> httpx.MockTransport:
        """The transport to give the client."""
        return httpx.MockTransport(self.handle)

    def writes(self) -> list[tuple[str, str, int]]:
        """Every non-GET request sent to the API (token requests excluded)."""
        return [r for r in self.requests if r[0] != "GET" and "/oauth/" not in r[1]]

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one request."""
        response = self._route(request)
        self.requests.append((request.method, request.url.path, response.status_code))
        response.headers["x-request-id"] = f"req-{next(self._ids)}"
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        if path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": ACCESS_TOKEN})
        for index, (f_method, pattern, status, code, headers) in enumerate(self.faults):
            if f_method == method and re.search(pattern, path):
                del self.faults[index]
                return httpx.Response(status, json={"code": code}, headers=headers)
        body = json.loads(request.content) if request.content else {}
        return self._api(method, path.removeprefix("/v4"), body)

    def _api(self, method: str, path: str, body: dict) -> httpx.Response:
        if path == "/locations":
            return _ok(self.locations)
        if m := re.fullmatch(r"/contacts/([^/]+)/merge", path):
            return self._merge(m[1], body["duplicateUids"])
        if m := re.fullmatch(r"/contacts/([^/]+)/tags/([^/]+)", path):
            return self._write(m[1], lambda c: c["tags"].append({"uid": m[2]}))
        if path.startswith("/contacts/transactional/opt_out"):
            return self._consent(
                body,
                lambda ch: ch.update(
                    transactionalOptedOutAt=ch["transactionalOptedOutAt"]
                    or "2026-12-01T00:00:00Z"
                ),
            )
        if path.startswith("/contacts/campaigns/opt_out"):
            loc = body.get("locationUid")
            return self._consent(
                body,
                lambda ch: ch.update(
                    marketingOptedInLocationUids=[
                        x
                        for x in ch["marketingOptedInLocationUids"]
                        if loc and x != loc
                    ]
                ),
            )
        if m := re.fullmatch(r"/contacts/([^/]+)", path):
            if method == "PATCH":
                return self._write(m[1], lambda c: _patch(c, body))
            found = self.contacts.get(m[1])
            return _ok(found) if found else _error(404, "resource_not_found")
        return _error(404, "route_not_found")

    def _merge(self, primary: str, duplicates: list[str]) -> httpx.Response:
        if primary not in self.contacts:
            return _error(404, "resource_not_found")
        if any(d not in self.contacts for d in duplicates):
            return _error(400, "invalid_duplicate_uid")
        for uid in duplicates:
            gone = self.contacts.pop(uid)
            self.deleted[uid] = {**gone, "mergedInto": primary}
            self.contacts[primary]["conversations"] += gone["conversations"]
        self._bump(primary)
        return httpx.Response(202, json={"data": {"identifier": primary}})

    def _write(self, uid: str, change) -> httpx.Response:
        if uid not in self.contacts:
            return _error(404, "resource_not_found")
        change(self.contacts[uid])
        self._bump(uid)
        return httpx.Response(202, json={"data": {"identifier": uid}})

    def _consent(self, body: dict, change) -> httpx.Response:
        identifier = body["channel"]["identifier"]
        for found in self.contacts.values():
            for ch in found["channels"]:
                if ch["identifier"] == identifier:
                    change(ch)
        return httpx.Response(202, json={"data": {"identifier": identifier}})

    def _bump(self, uid: str) -> None:
        self.contacts[uid]["updatedAt"] = (
            f"2026-12-01T00:00:{next(self._ids) % 60:02d}Z"
        )


def _patch(found: dict, body: dict) -> None:
    if "name" in body:
        found["name"] = body["name"]
    if "email" in body and body["email"] not in found["emails"]:
        found["emails"].append(body["email"])
        found["channels"].append(channel("EMAIL", body["email"]))
    if "phoneNumber" in body and body["phoneNumber"] not in found["phoneNumbers"]:
        found["phoneNumbers"].append(body["phoneNumber"])
        found["channels"].append(channel("PHONE", body["phoneNumber"]))
    if "address" in body:
        found["address"] = {**found["address"], **body["address"]}
    if "locations" in body:
        found["locations"] = [{"uid": loc} for loc in body["locations"]]


def _ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "metadata": {}})


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": code})


def plan_for(primary: dict, duplicates: list[dict], **extra: object) -> dict:
    """Build a merge plan by hand (ARCHITECTURE 4.3) from contacts."""
    members = [primary, *duplicates]
    plan = {
        "cluster_id": "cl-" + "-".join(sorted(m["uid"] for m in members)),
        "natural_key": "+61412345678",
        "primary_uid": primary["uid"],
        "duplicate_uids": [d["uid"] for d in duplicates],
        "members": [
            {
                "uid": m["uid"],
                "updated_at": m["updatedAt"],
                "field_count": 10 if m is primary else 1,
                "location_uids": [loc["uid"] for loc in m["locations"]],
                "consent": {},
            }
            for m in members
        ],
        "confidence": 0.95,
        "primary_reason": "field_count",
        "consent_target": {
            "sms_opt_out": False,
            "email_opt_out": False,
            "marketing_opted_in_location_uids": [],
        },
        "fill": {
            "name": None,
            "emails": [],
            "address": {},
            "tags": [],
            "phones": [],
            "locations": [],
        },
        "planned_at": "2026-12-01T00:00:00Z",
        "plan_version": 1,
    }
    plan.update(extra)
    return plan


def make_applier(
    podium: FakePodium, tmp_path: Path, *, dry_run: bool = False, **settings: object
) -> ClusterApplier:
    """Wire a client, state and audit log in tmp_path to the fake."""
    recorded: list = []
    client = PodiumClient(
        api_url=API,
        oauth_url=OAUTH,
        credentials=CREDENTIALS,
        throttle=Throttle(60_000),
        dry_run=dry_run,
        record_dry_run=lambda call, _cluster: recorded.append(call),
        transport=podium.transport(),
        max_tries=3,
        backoff_base=0.001,
        sleep=lambda _s: None,
    )
    client.recorded = recorded  # type: ignore[attr-defined]
    applier = ClusterApplier(
        client,
        MergeState(tmp_path / "state.db"),
        AuditLog(tmp_path / "audit-log.jsonl"),
        ApplySettings(
            dry_run=dry_run, confirm_timeout=0.2, poll_interval=0.01, **settings
        ),  # type: ignore[arg-type]
        sleep=lambda _s: None,
    )
    return applier
