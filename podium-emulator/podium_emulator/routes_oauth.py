"""`/oauth/token`: the refresh-token grant, with a JSON or form body."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from podium_emulator.auth import OAuthError
from podium_emulator.web import emulator_of


async def token(request: Request) -> JSONResponse:
    """Exchange the refresh token for an access token."""
    try:
        form = await _form(request)
        granted = emulator_of(request).tokens.grant(form)
    except OAuthError as error:
        return JSONResponse(error.body, status_code=error.status)
    return JSONResponse(granted)


async def _form(request: Request) -> dict:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError as error:
            raise OAuthError(400, "invalid_request", "The body is not JSON.") from error
        if not isinstance(body, dict):
            raise OAuthError(400, "invalid_request", "The body must be an object.")
        return body
    # URL-encoded form, parsed here so the emulator needs no multipart library.
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


OAUTH_ROUTES = [Route("/oauth/token", token, methods=["POST"])]
