"""The ASGI app: a gateway in front of thin routes over the store.

The gateway gives every response an `x-request-id`, logs every request, and for
`/v4` routes adds the latency, spends the rate-limit budget (with the
`ratelimit-*` headers) and fires injected faults. Routes raise `ApiError`;
the app answers it with Podium's error envelope.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from podium_emulator import clock
from podium_emulator.emulator import Emulator
from podium_emulator.errors import ApiError
from podium_emulator.routes_consent import CONSENT_ROUTES
from podium_emulator.routes_contacts import CONTACT_ROUTES
from podium_emulator.routes_control import CONTROL_ROUTES
from podium_emulator.routes_locations import LOCATION_ROUTES
from podium_emulator.routes_oauth import OAUTH_ROUTES
from podium_emulator.store import mask

logger = logging.getLogger("podium_emulator")

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
SECRET_FIELDS = {"client_secret", "refresh_token"}
_PHONE_LIKE = re.compile(r"[+\d\s().\-]{3,}")


def build_app(emulator: Emulator) -> Gateway:
    """The ASGI app for one emulator."""
    routes = [
        *OAUTH_ROUTES,
        *CONSENT_ROUTES,
        *CONTACT_ROUTES,
        *LOCATION_ROUTES,
        *CONTROL_ROUTES,
    ]
    handlers = {ApiError: _api_error, HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.emulator = emulator
    return Gateway(app, emulator)


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    message = f"No route {request.method} {request.url.path}."
    return error_response(ApiError(404, "route_not_found", message))


def error_response(error: ApiError) -> JSONResponse:
    """Podium's error envelope for an `ApiError`."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


class Gateway:
    """Request ids, logging, latency, rate limit and faults around the routes."""

    def __init__(self, app: Starlette, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        entry = _log_entry(scope, body)
        extra = {"x-request-id": entry["id"]}
        scope.setdefault("state", {})["request_id"] = entry["id"]
        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), *_encode(extra)]
            await send(message)

        try:
            await self._guard(scope, extra)
            await self.app(scope, _replay(body), send_with_headers)
        except ApiError as error:
            await error_response(error)(scope, _replay(b""), send_with_headers)
        finally:
            self._record(entry, started)

    async def _guard(self, scope: dict, extra: dict[str, str]) -> None:
        """Latency, budget and faults, for the Podium routes only."""
        if not scope["path"].startswith("/v4"):
            return
        if self.emulator.settings.latency_ms > 0:
            await asyncio.sleep(self.emulator.settings.latency_ms / 1000)
        # A 429 carries its own rate-limit headers; a success adds them here.
        extra.update(self.emulator.rate_limiter.take())
        self.emulator.faults.check(scope["method"], scope["path"])

    def _record(self, entry: dict, started: float) -> None:
        entry["ms"] = round((time.perf_counter() - started) * 1000, 3)
        # The log is what the client under test did; control calls are not.
        if not entry["path"].startswith("/_emulator"):
            self.emulator.requests.append(entry)
        logger.info(
            "%s %s -> %s in %.1f ms [%s]",
            entry["method"],
            masked_path(entry["path"]),
            entry.get("status"),
            entry["ms"],
            entry["id"],
        )


def _log_entry(scope: dict, body: bytes) -> dict:
    entry = {
        "id": uuid.uuid4().hex,
        "time": clock.to_iso(clock.now()),
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "status": None,
    }
    if scope["method"] in WRITE_METHODS:
        entry["body"] = _decoded(body)
    if scope["path"] == "/oauth/token":
        entry["body"] = _without_secrets(entry.get("body"))
    return entry


def _without_secrets(body: object) -> object:
    """A token request's body with the secret and refresh token hidden."""
    if not isinstance(body, dict):
        return "<form body not logged>" if body else body
    return {
        key: "***" if key in SECRET_FIELDS else value for key, value in body.items()
    }


def _decoded(body: bytes) -> object:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes):
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # nothing more will come; the client waits
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def masked_path(path: str) -> str:
    """The path with any phone or email identifier masked, for the log."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if "@" in part or part.startswith("tel:") or _PHONE_LIKE.fullmatch(part):
            parts[index] = mask(part)
    return "/".join(parts)
