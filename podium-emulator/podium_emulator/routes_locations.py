"""`/v4/locations`: the tenant's locations (read only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium_emulator.errors import invalid, not_found
from podium_emulator.web import authorize, envelope


async def list_locations(request: Request) -> Response:
    """Every location; a tenant has few, so one page always holds them."""
    emulator = authorize(request, "read_locations")
    limit = request.query_params.get("limit", "10")
    if not limit.isdigit() or not 0 <= int(limit) <= 100:
        raise invalid(f"limit must be an integer from 0 to 100, not {limit!r}.")
    # TODO(#2): paginate locations past 100; generated tenants have a handful.
    # No nextCursor at all on the last page: the accounts spec types it as a string.
    return envelope(request, emulator.store.locations)


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
