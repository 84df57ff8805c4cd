"""`/v4/locations`: the tenant's locations (read only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium_emulator.cursor import Page
from podium_emulator.emulator import Emulator
from podium_emulator.errors import invalid, not_found
from podium_emulator.web import authorize, envelope

DEFAULT_LIMIT = 10


async def list_locations(request: Request) -> Response:
    """A page of locations in uid order; `nextCursor` only when more follow.

    The accounts spec types `nextCursor` as a string, so the last page has
    none at all rather than a null.
    """
    emulator = authorize(request, "read_locations")
    page = _requested_page(request, emulator)
    ordered = sorted(emulator.store.locations, key=lambda location: location["uid"])
    after = [location for location in ordered if location["uid"] > page.uid]
    served, rest = after[: page.limit], after[page.limit :]
    if not rest:
        return envelope(request, served)
    position = Page("", served[-1]["uid"], page.limit, None)
    return envelope(request, served, nextCursor=emulator.cursors.issue(position))


def _requested_page(request: Request, emulator: Emulator) -> Page:
    query = request.query_params
    if "cursor" in query:
        return emulator.cursors.read(query["cursor"], emulator.settings.cursor_lifetime)
    limit = query.get("limit", str(DEFAULT_LIMIT))
    if not limit.isdigit() or not 0 <= int(limit) <= 100:
        raise invalid(f"limit must be an integer from 0 to 100, not {limit!r}.")
    return Page("", "", int(limit) or DEFAULT_LIMIT, None)


async def get_location(request: Request) -> Response:
    """One location by uid."""
    emulator = authorize(request, "read_locations")
    for location in emulator.store.locations:
        if location["uid"] == request.path_params["uid"]:
            return envelope(request, location)
    raise not_found(f"No location with uid {request.path_params['uid']}.")


LOCATION_ROUTES = [
    Route("/v4/locations", list_locations, methods=["GET"]),
    Route("/v4/locations/{uid}", get_location, methods=["GET"]),
]
