"""Consent operations: campaign and transactional opt-in and opt-out.

Each addresses a channel by its exact identifier and applies to that channel
on every live contact that carries it (contracts section 2).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium_emulator import writes
from podium_emulator.errors import invalid, not_found
from podium_emulator.store import mask
from podium_emulator.web import accepted, authorize, expect, json_body

CHANNEL_TYPES = {"PHONE", "EMAIL"}
OPERATIONS = (
    "campaigns/opt_in",
    "campaigns/opt_out",
    "transactional/opt_in",
    "transactional/opt_out",
)


def consent_route(operation: str):
    """The endpoint for one consent operation."""

    async def endpoint(request: Request) -> Response:
        emulator = authorize(request, "write_contacts")
        identifier, location = await _consent_request(request, operation)
        uids = _carriers(emulator.store, identifier)

        def apply() -> None:
            for uid in uids:
                if emulator.store.is_live(uid):
                    emulator.store.touch(
                        uid,
                        lambda c: writes.change_consent(
                            c, identifier, operation, location
                        ),
                    )

        emulator.store.later(emulator.settings.write_delay, apply)
        return accepted(request, uids[0])

    endpoint.__name__ = operation.replace("/", "_")
    return endpoint


async def _consent_request(request: Request, operation: str) -> tuple[str, str | None]:
    """The channel identifier and location of a consent body, checked.

    Raises:
        ApiError: 400 `invalid_request_values` for a malformed body.
    """
    allowed = {"channel", "locationUid", "name", "tags"}
    required = (
        ["channel", "locationUid"] if operation == "campaigns/opt_in" else ["channel"]
    )
    body = await json_body(request, allowed, required=required)
    channel = body["channel"]
    expect(channel, dict, "channel")
    if set(channel) != {"identifier", "type"}:
        raise invalid("channel must hold exactly 'identifier' and 'type'.")
    expect(channel["identifier"], str, "channel.identifier")
    if channel["type"] not in CHANNEL_TYPES:
        raise invalid(f"channel.type must be one of {sorted(CHANNEL_TYPES)}.")
    location = body.get("locationUid")
    if location is not None:
        expect(location, str, "locationUid")
    return channel["identifier"], location


def _carriers(store, identifier: str) -> list[str]:
    """Live contacts that carry a channel with this identifier.

    Raises:
        ApiError: 404 when no live contact carries it.
    """
    uids = store.carriers(identifier)
    if not uids:
        raise not_found(f"No live contact has a channel {mask(identifier)}.")
    return uids


CONSENT_ROUTES = [
    Route(f"/v4/contacts/{operation}", consent_route(operation), methods=["POST"])
    for operation in OPERATIONS
]
