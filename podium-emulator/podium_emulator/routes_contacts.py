"""`/v4/contacts`: list, read, upsert, patch, soft delete, merge, purge, tags,
attributes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium_emulator import clock, writes
from podium_emulator.cursor import Page
from podium_emulator.emulator import Emulator
from podium_emulator.errors import ApiError, invalid, not_found
from podium_emulator.store import new_uid
from podium_emulator.web import (
    E164_PATTERN,
    EMAIL_PATTERN,
    accepted,
    authorize,
    envelope,
    expect,
    expect_pattern,
    json_body,
)

PATCH_FIELDS = {
    "name", "email", "phoneNumber", "locations", "address", "contactStatus",
    "conversationUid",
}  # fmt: skip
UPSERT_FIELDS = {
    "name", "email", "phoneNumber", "locations", "address", "contactStatus",
    "attributes", "tags",
}  # fmt: skip
DEFAULT_LIMIT = 10
START = ("", "")


# -- reads -----------------------------------------------------------------


async def list_contacts(request: Request) -> Response:
    """A page of live contacts; `nextCursor` whenever the page is full."""
    emulator = authorize(request, "read_contacts")
    page = _requested_page(request, emulator)
    contacts = _served_page(emulator, page)
    next_cursor = None
    if len(contacts) == page.limit:
        last = contacts[-1]
        position = Page(
            last["updatedAt"], last["uid"], page.limit, page.updated_after, page.walk
        )
        next_cursor = emulator.cursors.issue(position)
    return envelope(request, contacts, nextCursor=next_cursor)


def _served_page(emulator: Emulator, page: Page) -> list[dict]:
    """The contacts of one page, in the order of the walk the page belongs to."""
    if page.walk is None:
        return emulator.store.page_after((page.updated_at, page.uid), page.limit)
    return emulator.store.shuffled_page_after(
        page.walk, page.uid or None, page.limit, page.updated_after
    )


def _new_walk(emulator: Emulator) -> str | None:
    """The shuffle of a walk that starts now; None in `updated` order.

    Deterministic: the n-th walk since the corpus was loaded gets the same
    shuffle for the same seed.
    """
    if emulator.settings.list_order != "shuffled":
        return None
    return f"{emulator.settings.seed}:{emulator.store.start_walk()}"


def _requested_page(request: Request, emulator: Emulator) -> Page:
    """The page a query asks for; a cursor overrides every other parameter."""
    query = request.query_params
    if "cursor" in query:
        return emulator.cursors.read(query["cursor"], emulator.settings.cursor_lifetime)
    limit = _limit(query.get("limit"))
    updated_after = query.get("updated_at")
    if updated_after is None:
        return Page(*START, limit, None, _new_walk(emulator))
    try:
        clock.from_iso(updated_after)
    except ValueError as error:
        message = "updated_at must look like 2024-01-31T23:59:59Z."
        raise invalid(message) from error
    walk = _new_walk(emulator)
    if walk is not None:
        return Page(*START, limit, updated_after, walk)
    # Strictly after: every uid sorts below this sentinel at that second.
    return Page(updated_after, "\uffff", limit, updated_after)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid(f"limit must be an integer from 1 to 100, not {raw!r}.")
    return int(raw)


async def get_contact(request: Request) -> Response:
    """One live contact by uid, E.164 phone, email or conversation uid."""
    emulator = authorize(request, "read_contacts")
    uid = emulator.store.resolve(request.path_params["identifier"])
    return envelope(request, emulator.store.contacts[uid])


async def list_tags(request: Request) -> Response:
    """The tag catalogue of the tenant."""
    emulator = authorize(request, "read_contacts")
    return envelope(request, list(emulator.store.tags.values()), nextCursor=None)


async def list_attributes(request: Request) -> Response:
    """The attribute catalogue of the tenant."""
    emulator = authorize(request, "read_contacts")
    return envelope(request, list(emulator.store.attributes.values()), nextCursor=None)


# -- writes ----------------------------------------------------------------


def _write_later(emulator: Emulator, uid: str, change) -> None:
    """Apply a change to a contact after the write delay, if it is still live."""

    def apply() -> None:
        if emulator.store.is_live(uid):
            emulator.store.touch(uid, change)

    emulator.store.later(emulator.settings.write_delay, apply)


async def patch_contact(request: Request) -> Response:
    """PATCH: change the fields of the OpenAPI only; answers 202."""
    emulator = authorize(request, "write_contacts")
    body = await json_body(request, PATCH_FIELDS)
    if not body:
        raise invalid("The body must change at least one field.")
    _check_contact_fields(body, emulator)
    uid = emulator.store.resolve(request.path_params["identifier"])
    _write_later(emulator, uid, lambda contact: writes.apply_patch(contact, body))
    return accepted(request, uid)


def _check_contact_fields(body: dict, emulator: Emulator) -> None:
    """Type and pattern checks shared by PATCH and the upsert."""
    if "name" in body:
        expect(body["name"], str, "name")
    if body.get("email") is not None:
        expect_pattern(body["email"], EMAIL_PATTERN, "email")
    if body.get("phoneNumber") is not None:
        expect_pattern(body["phoneNumber"], E164_PATTERN, "phoneNumber")
    if "locations" in body:
        _check_locations(body["locations"], emulator)
    if body.get("address") is not None:
        _check_address(body["address"])
    for name in ("conversationUid",):
        if body.get(name) is not None:
            expect(body[name], str, name)
    if body.get("contactStatus") is not None:
        expect(body["contactStatus"], dict, "contactStatus")


def _check_locations(locations: object, emulator: Emulator) -> None:
    expect(locations, list, "locations")
    known = {location["uid"] for location in emulator.store.locations}
    for uid in locations:
        expect(uid, str, "locations[]")
        if uid not in known:
            raise invalid(f"Unknown location uid {uid!r} in 'locations'.")


def _check_address(address: object) -> None:
    expect(address, dict, "address")
    unknown = sorted(set(address) - set(writes.ADDRESS_FIELDS))
    if unknown:
        raise invalid(f"Unknown address fields {unknown}.")
    for name, value in address.items():
        if value is not None:
            expect(value, str, f"address.{name}")


async def upsert_contact(request: Request) -> Response:
    """POST: update the live contact with this phone or email, else create one."""
    emulator = authorize(request, "write_contacts")
    body = await json_body(request, UPSERT_FIELDS, required=("name", "locations"))
    _check_contact_fields(body, emulator)
    uid = _upsert_match(emulator, body)
    if uid is None:
        uid = _create(emulator, body)
    else:
        _write_later(emulator, uid, lambda contact: writes.apply_patch(contact, body))
    return accepted(request, uid)


def _upsert_match(emulator: Emulator, body: dict) -> str | None:
    """The live contact an upsert updates: exact phone string, then email."""
    for identifier in (body.get("phoneNumber"), body.get("email")):
        if identifier:
            try:
                return emulator.store.resolve(identifier)
            except ApiError:
                continue
    return None


def _create(emulator: Emulator, body: dict) -> str:
    stamp = clock.to_iso(clock.now())
    uid = new_uid()
    contact = {
        "uid": uid,
        "name": None,
        "emails": [],
        "phoneNumbers": [],
        "channels": [],
        "locations": [],
        "address": dict.fromkeys(writes.ADDRESS_FIELDS),
        "tags": [],
        "attributes": [],
        "conversations": [{"uid": new_uid()}],
        "organization": {"uid": _organization_uid(emulator)},
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    writes.apply_patch(contact, body)
    emulator.store.later(
        emulator.settings.write_delay, lambda: emulator.store.create(contact)
    )
    return uid


def _organization_uid(emulator: Emulator) -> str | None:
    for location in emulator.store.locations:
        return location.get("organizationUid")
    return None


async def delete_contact(request: Request) -> Response:
    """DELETE: a soft delete; the contact reads as 404 until an operator restores it."""
    emulator = authorize(request, "write_contacts")
    uid = emulator.store.resolve(request.path_params["identifier"])
    emulator.store.later(
        emulator.settings.write_delay, lambda: emulator.store.soft_delete(uid)
    )
    return accepted(request, uid)


async def purge_contact(request: Request) -> Response:
    """Hard purge, with its own scope; recorded so tests can prove it never ran."""
    emulator = authorize(request, "purge_contacts")
    identifier = request.path_params["identifier"]
    uid = identifier
    if uid not in emulator.store.contacts:
        uid = emulator.store.resolve(identifier)
    emulator.store.purge(uid, request.scope["state"]["request_id"])
    return accepted(request, uid)


# -- tags and attributes ---------------------------------------------------


async def add_tag(request: Request) -> Response:
    """Add a catalogue tag to a contact."""
    emulator = authorize(request, "write_contacts")
    tag = _catalogue_entry(emulator.store.tags, request.path_params["uid"], "tag")
    uid = emulator.store.resolve(request.path_params["identifier"])
    _write_later(emulator, uid, lambda contact: writes.add_tag(contact, tag))
    return accepted(request, uid)


async def remove_tag(request: Request) -> Response:
    """Remove a tag from a contact."""
    emulator = authorize(request, "write_contacts")
    tag_uid = request.path_params["uid"]
    _catalogue_entry(emulator.store.tags, tag_uid, "tag")
    uid = emulator.store.resolve(request.path_params["identifier"])
    _write_later(emulator, uid, lambda contact: writes.remove_tag(contact, tag_uid))
    return accepted(request, uid)


async def set_attribute(request: Request) -> Response:
    """Add or change a contact's attribute value (POST and PATCH)."""
    emulator = authorize(request, "write_contacts")
    body = await json_body(request, {"value"}, required=("value",))
    expect(body["value"], str, "value")
    catalogue = emulator.store.attributes
    attribute = _catalogue_entry(catalogue, request.path_params["uid"], "attribute")
    uid = emulator.store.resolve(request.path_params["identifier"])
    _write_later(
        emulator,
        uid,
        lambda contact: writes.set_attribute(contact, attribute, body["value"]),
    )
    return accepted(request, uid)


async def remove_attribute(request: Request) -> Response:
    """Remove an attribute from a contact."""
    emulator = authorize(request, "write_contacts")
    attribute_uid = request.path_params["uid"]
    _catalogue_entry(emulator.store.attributes, attribute_uid, "attribute")
    uid = emulator.store.resolve(request.path_params["identifier"])
    _write_later(
        emulator, uid, lambda contact: writes.remove_attribute(contact, attribute_uid)
    )
    return accepted(request, uid)


def _catalogue_entry(catalogue: dict, uid: str, kind: str) -> dict:
    if uid not in catalogue:
        raise not_found(f"No {kind} with uid {uid}; list them at /v4/contact_{kind}s.")
    return catalogue[uid]


# -- merge -----------------------------------------------------------------


async def merge_contacts(request: Request) -> Response:
    """Merge duplicates into a primary (assumed endpoint; contracts section 2)."""
    emulator = authorize(request, "write_contacts")
    body = await json_body(request, {"duplicateUids"}, required=("duplicateUids",))
    duplicates = body["duplicateUids"]
    expect(duplicates, list, "duplicateUids")
    for uid in duplicates:
        expect(uid, str, "duplicateUids[]")
    primary = emulator.store.resolve(request.path_params["identifier"])
    _check_merge(emulator, primary, duplicates)
    _start_merge(emulator, primary, duplicates)
    return accepted(request, primary)


def _check_merge(emulator: Emulator, primary: str, duplicates: list[str]) -> None:
    """Refuse a merge that clashes, names a bad duplicate or crosses locations.

    Raises:
        ApiError: 409 `merge_in_progress`, 400 `invalid_duplicate_uid`, 422
            `cross_location_merge_blocked`.
    """
    store = emulator.store
    busy = [uid for uid in [primary, *duplicates] if uid in store.merging]
    if busy:
        raise ApiError(
            409,
            "merge_in_progress",
            f"A merge is still processing contact {busy[0]}; retry after it ends.",
        )
    for uid in duplicates:
        if uid == primary or not store.is_live(uid):
            raise ApiError(
                400,
                "invalid_duplicate_uid",
                f"Duplicate {uid} is the primary, unknown, deleted or already merged.",
            )
    if emulator.settings.cross_location_merge == "block":
        _check_shared_location(store, primary, duplicates)


def _check_shared_location(store, primary: str, duplicates: list[str]) -> None:
    members = [primary, *duplicates]
    shared = set.intersection(
        *({loc["uid"] for loc in store.contacts[uid].get("locations") or []}
          for uid in members)
    )  # fmt: skip
    if not shared:
        raise ApiError(
            422,
            "cross_location_merge_blocked",
            f"Contacts {members} share no location and the tenant policy blocks "
            "cross-location merges; review them by hand.",
        )


def _start_merge(emulator: Emulator, primary: str, duplicates: list[str]) -> None:
    store = emulator.store
    delay = emulator.settings.merge_delay + emulator.settings.write_delay
    due = clock.now() + delay
    for uid in [primary, *duplicates]:
        store.merging[uid] = due
    store.later(delay, lambda: store.merge(primary, duplicates))


CONTACT_ROUTES = [
    Route("/v4/contacts", list_contacts, methods=["GET"]),
    Route("/v4/contacts", upsert_contact, methods=["POST"]),
    Route("/v4/contact_tags", list_tags, methods=["GET"]),
    Route("/v4/contact_attributes", list_attributes, methods=["GET"]),
    Route("/v4/contacts/{identifier}", get_contact, methods=["GET"]),
    Route("/v4/contacts/{identifier}", patch_contact, methods=["PATCH"]),
    Route("/v4/contacts/{identifier}", delete_contact, methods=["DELETE"]),
    Route("/v4/contacts/{identifier}/merge", merge_contacts, methods=["POST"]),
    Route("/v4/contacts/{identifier}/purge", purge_contact, methods=["POST"]),
    Route("/v4/contacts/{identifier}/tags/{uid}", add_tag, methods=["POST"]),
    Route("/v4/contacts/{identifier}/tags/{uid}", remove_tag, methods=["DELETE"]),
    Route(
        "/v4/contacts/{identifier}/attributes/{uid}",
        set_attribute,
        methods=["POST", "PATCH"],
    ),
    Route(
        "/v4/contacts/{identifier}/attributes/{uid}",
        remove_attribute,
        methods=["DELETE"],
    ),
]
