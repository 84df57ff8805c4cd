"""The only module that knows Podium's endpoint paths.

One `httpx.Client` shared by every thread, OAuth refresh on 401, the shared
`Throttle`, bounded retries with backoff, and the classification of every
failure into `errors`. Writes go through `send(Call)`, so a dry run can record
the exact calls instead of sending them.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
import typing as t
from urllib.parse import quote

import httpx

from target_podium_merge import errors
from target_podium_merge.throttle import Throttle

logger = logging.getLogger(__name__)
# httpx logs every request with its full URL at INFO (thousands of lines per
# run); this module logs each call at DEBUG and one line per cluster at INFO.
logging.getLogger("httpx").setLevel(logging.WARNING)

CONTACT = "/contacts/{uid}"
MERGE = "/contacts/{uid}/merge"
TAG = "/contacts/{uid}/tags/{tag_uid}"
TRANSACTIONAL_OPT_OUT = "/contacts/transactional/opt_out"
CAMPAIGNS_OPT_OUT = "/contacts/campaigns/opt_out"
LOCATIONS = "/locations"

_STATUS_ERRORS: dict[int, type[errors.PodiumError]] = {
    400: errors.RejectedRequest,
    401: errors.FatalError,
    403: errors.FatalError,
    404: errors.ResourceNotFound,
    409: errors.RejectedRequest,
    422: errors.RejectedRequest,
    429: errors.RateLimited,
}
_CODE_ERRORS: dict[str, type[errors.PodiumError]] = {
    "invalid_duplicate_uid": errors.InvalidDuplicate,
    "merge_in_progress": errors.MergeInProgress,
    "cross_location_merge_blocked": errors.CrossLocationBlocked,
}


@dataclasses.dataclass(frozen=True)
class Call:
    """One write to Podium, as it would go on the wire."""

    method: str
    path: str
    body: dict | None = None

    def as_dict(self) -> dict:
        """Return the call as a JSON-ready mapping."""
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclasses.dataclass
class Result:
    """What came back from one call; `status` is None for a dry-run call."""

    call: Call
    status: int | None
    request_id: str | None = None
    data: t.Any = None


def merge_call(primary_uid: str, duplicate_uids: list[str]) -> Call:
    """Merge the duplicates into the primary (assumed endpoint, answers 202)."""
    return Call(
        "POST", _path(MERGE, uid=primary_uid), {"duplicateUids": duplicate_uids}
    )


def patch_call(uid: str, body: dict) -> Call:
    """Update the contact's fields (PATCH takes one email or phone at a time)."""
    return Call("PATCH", _path(CONTACT, uid=uid), body)


def tag_call(uid: str, tag_uid: str) -> Call:
    """Add a tag to the contact."""
    return Call("POST", _path(TAG, uid=uid, tag_uid=tag_uid), None)


def transactional_opt_out_call(identifier: str, channel_type: str) -> Call:
    """Opt the channel out of transactional messages (the person said STOP)."""
    channel = {"identifier": identifier, "type": channel_type}
    return Call("POST", TRANSACTIONAL_OPT_OUT, {"channel": channel})


def campaigns_opt_out_call(
    identifier: str, channel_type: str, location_uid: str | None
) -> Call:
    """Remove marketing consent at one location, or at every one when None."""
    body: dict = {"channel": {"identifier": identifier, "type": channel_type}}
    if location_uid is not None:
        body["locationUid"] = location_uid
    return Call("POST", CAMPAIGNS_OPT_OUT, body)


def _path(template: str, **uids: str) -> str:
    return template.format(**{k: quote(v, safe="") for k, v in uids.items()})


class PodiumClient:
    """Reads and writes Podium contacts under one budget, with bounded retries."""

    def __init__(
        self,
        *,
        api_url: str,
        oauth_url: str,
        credentials: t.Mapping[str, str],
        throttle: Throttle,
        dry_run: bool = True,
        record_dry_run: t.Callable[[Call, str | None], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_tries: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url
        self._credentials = dict(credentials)
        self.throttle = throttle
        self.dry_run = dry_run
        self._record_dry_run = record_dry_run or (lambda _call, _cluster: None)
        self._http = httpx.Client(transport=transport, timeout=30.0)
        self._max_tries = max_tries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self.calls_sent = 0

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # Reads

    def get_contact(self, uid: str) -> dict | None:
        """Return the live contact, or None when Podium answers 404."""
        try:
            return self.request("GET", _path(CONTACT, uid=uid)).data
        except errors.ResourceNotFound:
            return None

    def list_locations(self, max_pages: int = 100) -> list[dict]:
        """Return every location (bounded by `max_pages` pages of 100)."""
        found: list[dict] = []
        params: dict = {"limit": 100}
        for _page in range(max_pages):
            result = self.request("GET", LOCATIONS, params=params)
            found.extend(result.data or [])
            cursor = (result.metadata or {}).get("nextCursor")
            if not cursor or not result.data:
                break
            params = {"cursor": cursor}
        return found

    # Writes

    def send(self, call: Call, cluster_id: str | None = None) -> Result:
        """Send one write, or only record it (for `cluster_id`) in a dry run."""
        if self.dry_run:
            self._record_dry_run(call, cluster_id)
            return Result(call=call, status=None)
        result = self.request(call.method, call.path, json=call.body)
        return Result(call, result.status, result.request_id, result.data)

    # Plumbing

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict | None = None,
        params: dict | None = None,
    ) -> _Response:
        """Send one request with retries; raise the classified error on failure."""
        refreshed = False
        last: errors.PodiumError | None = None
        for attempt in range(self._max_tries):
            try:
                return self._send_once(method, path, json, params)
            except errors.FatalError as exc:
                if exc.status != 401 or refreshed:
                    raise
                refreshed = True
                self._refresh_token()
            except errors.RetriableError as exc:
                last = exc
                self._back_off(exc, attempt, method, path)
        msg = (
            f"{method} {path} failed {self._max_tries} times (last: {last}); "
            "the cluster stays resumable and is retried on the next run"
        )
        raise errors.RetriesExhausted(
            msg, status=last.status if last else None, code=last.code if last else None
        )

    def _send_once(
        self, method: str, path: str, json: dict | None, params: dict | None
    ) -> _Response:
        self.throttle.acquire()
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        try:
            response = self._http.request(
                method, self._api_url + path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            msg = f"{method} {path}: no answer from Podium ({type(exc).__name__})"
            raise errors.ServerError(msg) from exc
        finally:
            self.calls_sent += 1
        self.throttle.observe(response.headers)
        logger.debug("%s %s -> %s", method, path, response.status_code)
        return _classify(method, path, response)

    def _back_off(
        self, exc: errors.RetriableError, attempt: int, method: str, path: str
    ) -> None:
        if isinstance(exc, errors.RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            self.throttle.pause(wait)
            logger.warning(
                "%s %s: rate limited, all requests wait %.2fs", method, path, wait
            )
            return
        ceiling = min(self._backoff_cap, self._backoff_base * 2**attempt)
        wait = ceiling / 2 + random.uniform(0, ceiling / 2)
        logger.warning(
            "%s %s: %s (status %s), retry %d in %.2fs",
            method,
            path,
            exc.code or "error",
            exc.status,
            attempt + 1,
            wait,
        )
        self._sleep(wait)

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self._fetch_token()
            return self._token

    def _refresh_token(self) -> None:
        with self._token_lock:
            self._token = self._fetch_token()

    def _fetch_token(self) -> str:
        body = {
            "client_id": self._credentials.get("client_id"),
            "client_secret": self._credentials.get("client_secret"),
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.get("refresh_token"),
        }
        try:
            response = self._http.post(self._oauth_url, json=body)
        except httpx.TransportError as exc:
            msg = "the OAuth token URL did not answer; check oauth_url"
            raise errors.FatalError(msg) from exc
        if response.status_code != 200:
            msg = (
                f"token refresh answered {response.status_code}; check client_id, "
                "client_secret and refresh_token"
            )
            raise errors.FatalError(msg, status=response.status_code)
        return response.json()["access_token"]


@dataclasses.dataclass
class _Response:
    status: int
    request_id: str | None
    data: t.Any
    metadata: dict | None


def _classify(method: str, path: str, response: httpx.Response) -> _Response:
    """Return the response on success, else raise the error the status means."""
    request_id = response.headers.get("x-request-id")
    body = _json_or_none(response)
    if response.status_code < 400:
        envelope = body if isinstance(body, dict) else {}
        return _Response(
            response.status_code,
            request_id,
            envelope.get("data"),
            envelope.get("metadata"),
        )
    code = body.get("code") if isinstance(body, dict) else None
    error_class = _error_class(response.status_code, code)
    msg = f"{method} {path} answered {response.status_code} {code or ''}".rstrip()
    exc = error_class(
        msg, status=response.status_code, code=code, request_id=request_id
    )
    if isinstance(exc, errors.RateLimited):
        exc.retry_after = _retry_after(response.headers)
    raise exc


def _error_class(status: int, code: str | None) -> type[errors.PodiumError]:
    if code in _CODE_ERRORS:
        return _CODE_ERRORS[code]
    if status >= 500:
        return errors.ServerError
    return _STATUS_ERRORS.get(status, errors.RejectedRequest)


def _retry_after(headers: t.Mapping[str, str]) -> float | None:
    for name in ("retry-after", "ratelimit-reset"):
        try:
            return max(0.0, float(headers[name]))
        except (KeyError, ValueError):
            continue
    return None


def _json_or_none(response: httpx.Response) -> t.Any:
    try:
        return response.json()
    except ValueError:
        return None
