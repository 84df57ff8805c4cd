"""Helpers every Podium route uses: auth, the envelope, strict body parsing."""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import Response

from podium_emulator.auth import require_scope
from podium_emulator.emulator import Emulator
from podium_emulator.errors import ApiError, invalid

API_VERSION = "2021.04.01"
EMAIL_PATTERN = re.compile(r"(.+)@(.+)\.(.+)")
E164_PATTERN = re.compile(r"^\+[1-9]\d{1,15}$")


def emulator_of(request: Request) -> Emulator:
    """The emulator behind the app serving this request."""
    return request.app.state.emulator


def authorize(request: Request, scope: str) -> Emulator:
    """Check the bearer token, its scope and the `podium-version` header.

    Raises:
        ApiError: 401, 403 or 400 `invalid_header_version`.
    """
    emulator = emulator_of(request)
    scopes = emulator.tokens.scopes_of(request.headers.get("authorization"))
    require_scope(scopes, scope)
    version = request.headers.get("podium-version")
    if version is not None and version != API_VERSION:
        raise ApiError(
            400,
            "invalid_header_version",
            f"Unknown podium-version {version!r}; the supported one is {API_VERSION}.",
        )
    emulator.store.settle()
    return emulator


def envelope(
    request: Request, data: object, status: int = 200, **metadata: object
) -> Response:
    """Podium's success envelope `{data, metadata}`."""
    body = {
        "data": data,
        "metadata": {"url": str(request.url), "version": API_VERSION, **metadata},
    }
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(encoded, status_code=status, media_type="application/json")


def accepted(request: Request, identifier: str) -> Response:
    """The answer to every write: 202 with the contact identifier only."""
    return envelope(request, {"identifier": identifier}, status=202)


async def json_object(request: Request) -> dict:
    """The request's body as a JSON object; an empty body is `{}`.

    Raises:
        ApiError: 400 `bad_request` for malformed JSON, 400
            `invalid_request_values` for JSON that is not an object.
    """
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as error:
        raise ApiError(400, "bad_request", "The body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.")
    return body


async def json_body(request: Request, allowed: set[str], required=()) -> dict:
    """The request's JSON object, refusing unknown and missing fields.

    Raises:
        ApiError: 400 `bad_request` for malformed JSON, 400
            `invalid_request_values` for a field outside the schema.
    """
    body = await json_object(request)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"Unknown fields {unknown}; allowed: {sorted(allowed)}.")
    missing = [name for name in required if body.get(name) in (None, "", [])]
    if missing:
        raise invalid(f"Missing required fields {missing}.")
    return body


def expect(value: object, kind: type | tuple[type, ...], name: str) -> None:
    """Refuse a field value of the wrong JSON type.

    Raises:
        ApiError: 400 `invalid_request_values` naming the field.
    """
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise invalid(f"Field {name!r} has the wrong type.")


def expect_pattern(value: object, pattern: re.Pattern, name: str) -> None:
    """Refuse a string field that does not match its schema pattern.

    Raises:
        ApiError: 400 `invalid_request_values` naming the field.
    """
    expect(value, str, name)
    if not pattern.fullmatch(value):
        raise invalid(f"Field {name!r} is not in the expected format.")
