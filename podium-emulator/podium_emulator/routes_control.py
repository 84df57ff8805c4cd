"""`/_emulator/`: the control surface for tests and the demo (not Podium's API)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from podium_emulator import corpus_io, writes
from podium_emulator.errors import invalid, not_found
from podium_emulator.faults import Fault
from podium_emulator.web import emulator_of, json_object

EDITABLE_FIELDS = {"name", "emails", "phoneNumbers", "address", "locations", "tags"}


async def snapshot(request: Request) -> JSONResponse:
    """Every contact with `deletedAt`, `mergedInto`, `restoredAt`; and purges."""
    store = emulator_of(request).store
    return JSONResponse(
        {
            "contacts": store.snapshot(),
            "locations": store.locations,
            "purged": store.purged,
        }
    )


async def requests_log(request: Request) -> JSONResponse:
    """The request log, oldest first."""
    return JSONResponse({"requests": list(emulator_of(request).requests)})


async def clear_requests(request: Request) -> JSONResponse:
    """Empty the request log."""
    emulator_of(request).requests.clear()
    return JSONResponse({"cleared": True})


async def load(request: Request) -> JSONResponse:
    """Load a corpus: `{"corpus": DIR}` or `{"contacts": [...], "locations": [...]}`."""
    emulator = emulator_of(request)
    body = await json_object(request)
    if "corpus" in body:
        try:
            contacts, locations = corpus_io.read_corpus(body["corpus"])
        except FileNotFoundError as error:
            raise invalid(str(error)) from error
        emulator.corpus_dir = body["corpus"]
    else:
        contacts, locations = body.get("contacts", []), body.get("locations", [])
    emulator.store.load(contacts, locations)
    return JSONResponse({"contacts": len(emulator.store.contacts)})


async def reset(request: Request) -> JSONResponse:
    """Reload the start-up corpus and settings; forget faults and the log."""
    emulator = emulator_of(request)
    contacts, locations = ([], [])
    if emulator.corpus_dir:
        contacts, locations = corpus_io.read_corpus(emulator.corpus_dir)
    emulator.store.load(contacts, locations)
    emulator.faults.clear()
    emulator.requests.clear()
    emulator.restore_settings()
    return JSONResponse({"contacts": len(emulator.store.contacts)})


async def add_fault(request: Request) -> JSONResponse:
    """Fail the next `count` calls of `method` `path` with `status`."""
    body = await json_object(request)
    try:
        fault = Fault(
            method=str(body["method"]).upper(),
            path=str(body["path"]),
            status=int(body["status"]),
            count=int(body.get("count", 1)),
            code=body.get("code"),
            retry_after=body.get("retry_after"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise invalid(
            "A fault needs method, path, status and an integer count."
        ) from error
    emulator_of(request).faults.arm(fault)
    return JSONResponse({"armed": len(emulator_of(request).faults.armed)})


async def clear_faults(request: Request) -> JSONResponse:
    """Disarm every fault."""
    emulator_of(request).faults.clear()
    return JSONResponse({"armed": 0})


async def settings(request: Request) -> JSONResponse:
    """Read (GET) or change (POST) the settings."""
    emulator = emulator_of(request)
    if request.method == "POST":
        try:
            emulator.settings.update(await json_object(request))
        except ValueError as error:
            raise invalid(str(error)) from error
    return JSONResponse(emulator.settings.public())


async def edit(request: Request) -> JSONResponse:
    """Change a contact as an operator would in Podium's UI; bumps `updatedAt`."""
    store = emulator_of(request).store
    uid = request.path_params["uid"]
    changes = await json_object(request)
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise invalid(f"Cannot edit {unknown}; editable: {sorted(EDITABLE_FIELDS)}.")
    store.settle()
    if not store.is_live(uid):
        raise not_found(f"No live contact with uid {uid} to edit.")
    store.touch(uid, lambda contact: _apply_edit(contact, changes))
    return JSONResponse({"uid": uid, "updatedAt": store.contacts[uid]["updatedAt"]})


def _apply_edit(contact: dict, changes: dict) -> bool:
    contact.update(changes)
    writes.sync_channels(contact)
    return True


async def restore(request: Request) -> JSONResponse:
    """Undo a soft delete (or a merge) of one contact."""
    store = emulator_of(request).store
    uid = request.path_params["uid"]
    store.restore(uid)
    return JSONResponse({"uid": uid, "updatedAt": store.contacts[uid]["updatedAt"]})


async def policy(request: Request) -> JSONResponse:
    """Set tenant policies: `cross_location_merge` is `allow` or `block`."""
    emulator = emulator_of(request)
    body = await json_object(request)
    unknown = sorted(set(body) - {"cross_location_merge"})
    if unknown:
        raise invalid(f"Unknown policies {unknown}; known: ['cross_location_merge'].")
    try:
        emulator.settings.update(body)
    except ValueError as error:
        raise invalid(str(error)) from error
    return JSONResponse(
        {"cross_location_merge": emulator.settings.cross_location_merge}
    )


async def expire_tokens(request: Request) -> JSONResponse:
    """Make every access token answer 401 from now on."""
    emulator_of(request).tokens.expire_all()
    return JSONResponse({"expired": "tokens"})


async def expire_cursors(request: Request) -> JSONResponse:
    """Make every cursor answer 400 `invalid_cursor` from now on."""
    emulator_of(request).cursors.expire_all()
    return JSONResponse({"expired": "cursors"})


CONTROL_ROUTES = [
    Route("/_emulator/snapshot", snapshot, methods=["GET"]),
    Route("/_emulator/requests", requests_log, methods=["GET"]),
    Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
    Route("/_emulator/load", load, methods=["POST"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/faults", add_fault, methods=["POST"]),
    Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
    Route("/_emulator/settings", settings, methods=["GET", "POST"]),
    Route("/_emulator/contacts/{uid}/edit", edit, methods=["POST"]),
    Route("/_emulator/contacts/{uid}/restore", restore, methods=["POST"]),
    Route("/_emulator/policy", policy, methods=["POST"]),
    Route("/_emulator/expire_tokens", expire_tokens, methods=["POST"]),
    Route("/_emulator/expire_cursors", expire_cursors, methods=["POST"]),
]
