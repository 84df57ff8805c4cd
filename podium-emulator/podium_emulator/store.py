"""The emulator's state: contacts, locations, their indexes, and delayed writes.

One `Store` holds everything under one lock. Live contacts sit in a list sorted
by `(updatedAt, uid)` so that a page of the contact list is a bisect and a
slice. A shuffled walk ranks the same contacts by a hash of the walk and the
uid instead, so its order is fixed for the walk but unrelated to `updatedAt`.

Writes are validated at once and applied when they are due (the write delay,
the merge delay); every read first applies what is due, so no thread or timer
is needed.
"""

from __future__ import annotations

import bisect
import copy
import functools
import hashlib
import heapq
import itertools
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable

from podium_emulator import clock
from podium_emulator.errors import ApiError, not_found
from podium_emulator.phones import e164_of

SortKey = tuple[str, str]


class Store:
    """Contacts by uid, with indexes by email, raw phone, E.164 and conversation."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every contact, location, catalogue entry and pending write."""
        self.contacts: dict[str, dict] = {}
        self.meta: dict[str, dict] = {}
        self.order: list[SortKey] = []
        self.locations: list[dict] = []
        self.tags: dict[str, dict] = {}
        self.attributes: dict[str, dict] = {}
        self.purged: list[dict] = []
        self.merging: dict[str, float] = {}
        self._pending: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._by_email: dict[str, set[str]] = defaultdict(set)
        self._by_phone: dict[str, set[str]] = defaultdict(set)
        self._by_conversation: dict[str, set[str]] = defaultdict(set)
        self._by_e164: dict[str, set[str]] | None = None
        self._region_by_location: dict[str, str] = {}
        self._walks = itertools.count(1)

    # -- loading -----------------------------------------------------------

    def load(self, contacts: Iterable[dict], locations: Iterable[dict]) -> None:
        """Replace the state with a corpus (contact and location objects)."""
        with self.lock:
            self.reset()
            self.locations = [dict(location) for location in locations]
            self._region_by_location = {
                loc["uid"]: (loc.get("addressDetails") or {}).get("country") or "US"
                for loc in self.locations
            }
            for contact in contacts:
                self._insert(copy.deepcopy(contact))
                self._catalogue(self.contacts[contact["uid"]])
            self.order.sort()

    def _catalogue(self, contact: dict) -> None:
        """Remember the tags and attributes a corpus uses, so writes can add them."""
        for tag in contact.get("tags") or []:
            self.tags.setdefault(tag["uid"], dict(tag))
        for attribute in contact.get("attributes") or []:
            entry = {k: v for k, v in attribute.items() if k != "value"}
            self.attributes.setdefault(attribute["uid"], entry)

    def _insert(self, contact: dict) -> None:
        uid = contact["uid"]
        self.contacts[uid] = contact
        self.meta.setdefault(uid, {"deletedAt": None, "mergedInto": None})
        self.order.append((contact["updatedAt"], uid))
        self._index(contact)

    # -- indexes -----------------------------------------------------------

    def _index(self, contact: dict) -> None:
        uid = contact["uid"]
        for email in contact.get("emails") or []:
            self._by_email[str(email).casefold()].add(uid)
        for phone in contact.get("phoneNumbers") or []:
            self._by_phone[str(phone)].add(uid)
            if self._by_e164 is not None:
                self._index_e164(uid, phone, contact)
        for conversation in contact.get("conversations") or []:
            self._by_conversation[conversation["uid"]].add(uid)

    def _unindex(self, contact: dict) -> None:
        uid = contact["uid"]
        for email in contact.get("emails") or []:
            self._by_email[str(email).casefold()].discard(uid)
        for phone in contact.get("phoneNumbers") or []:
            self._by_phone[str(phone)].discard(uid)
            number = self._by_e164 is not None and e164_of(
                phone, self.region_of(contact)
            )
            if number:
                self._by_e164[number].discard(uid)
        for conversation in contact.get("conversations") or []:
            self._by_conversation[conversation["uid"]].discard(uid)

    def _index_e164(self, uid: str, phone: object, contact: dict) -> None:
        number = e164_of(phone, self.region_of(contact))
        if number is not None:
            self._by_e164[number].add(uid)

    def _ensure_e164_index(self) -> dict[str, set[str]]:
        """Build the E.164 index on first use: parsing every phone is slow."""
        if self._by_e164 is None:
            self._by_e164 = defaultdict(set)
            for uid, contact in self.contacts.items():
                for phone in contact.get("phoneNumbers") or []:
                    self._index_e164(uid, phone, contact)
        return self._by_e164

    def region_of(self, contact: dict) -> str:
        """The region a contact's phones are read in: its first location's country."""
        for location in contact.get("locations") or []:
            region = self._region_by_location.get(location["uid"])
            if region:
                return region
        return "US"

    # -- delayed writes ----------------------------------------------------

    def later(self, delay: float, apply: Callable[[], None]) -> None:
        """Apply a write after `delay` seconds (at once when the delay is 0)."""
        with self.lock:
            if delay <= 0:
                apply()
                return
            due = clock.now() + delay
            heapq.heappush(self._pending, (due, next(self._sequence), apply))

    def settle(self) -> None:
        """Apply every delayed write that is due."""
        with self.lock:
            current = clock.now()
            while self._pending and self._pending[0][0] <= current:
                _, _, apply = heapq.heappop(self._pending)
                apply()

    # -- reads -------------------------------------------------------------

    def is_live(self, uid: str) -> bool:
        """Whether a contact exists and is not soft-deleted."""
        return uid in self.contacts and self.meta[uid]["deletedAt"] is None

    def resolve(self, identifier: str) -> str:
        """The uid of the live contact an identifier names.

        The identifier is a uid, an E.164 phone, an email, a conversation uid or
        a raw phone string. When several live contacts match, the most recently
        updated one wins (the real service does not document which).

        Raises:
            ApiError: 404 `resource_not_found` when no live contact matches.
        """
        with self.lock:
            self.settle()
            if self.is_live(identifier):
                return identifier
            candidates = [u for u in self._candidates(identifier) if self.is_live(u)]
            if not candidates:
                raise not_found(f"No contact found for identifier {mask(identifier)}.")
            return max(candidates, key=lambda u: (self.contacts[u]["updatedAt"], u))

    def _candidates(self, identifier: str) -> set[str]:
        if "@" in identifier:
            return self._by_email.get(identifier.casefold(), set())
        found = set(self._by_conversation.get(identifier, set()))
        found |= self._by_phone.get(identifier, set())
        if identifier.startswith("+"):
            found |= self._ensure_e164_index().get(identifier, set())
        return found

    def carriers(self, identifier: str) -> list[str]:
        """Live contacts with a channel whose identifier is exactly this string."""
        with self.lock:
            self.settle()
            found = self._by_phone.get(identifier, set())
            found = found | self._by_email.get(identifier.casefold(), set())
            return sorted(
                uid
                for uid in found
                if self.is_live(uid)
                and any(
                    channel["identifier"] == identifier
                    for channel in self.contacts[uid].get("channels") or []
                )
            )

    def page_after(self, position: SortKey, limit: int) -> list[dict]:
        """Up to `limit` live contacts strictly after a `(updatedAt, uid)` position."""
        with self.lock:
            self.settle()
            start = bisect.bisect_right(self.order, position)
            return [self.contacts[uid] for _, uid in self.order[start : start + limit]]

    def start_walk(self) -> int:
        """Number a new shuffled walk of the contact list (1 after each load)."""
        with self.lock:
            return next(self._walks)

    def shuffled_page_after(
        self, walk: str, after_uid: str | None, limit: int, updated_after: str | None
    ) -> list[dict]:
        """Up to `limit` live contacts after `after_uid` in the walk's shuffle.

        Only contacts updated strictly after `updated_after` take part. A
        contact keeps its rank when it changes, so a walk serves it at most
        once; one created during the walk may fall before or after the page.
        """
        with self.lock:
            self.settle()
            start = 0
            if updated_after is not None:
                start = bisect.bisect_right(self.order, (updated_after, "\uffff"))
            position = (_rank(walk, after_uid), after_uid) if after_uid else ("", "")
            ranked = ((_rank(walk, uid), uid) for _, uid in self.order[start:])
            chosen = heapq.nsmallest(limit, (key for key in ranked if key > position))
            return [self.contacts[uid] for _, uid in chosen]

    def snapshot(self) -> list[dict]:
        """Every contact, soft-deleted ones included, with the hidden fields."""
        with self.lock:
            self.settle()
            return [
                {**copy.deepcopy(contact), **self.meta[uid]}
                for uid, contact in self.contacts.items()
            ]

    # -- writes ------------------------------------------------------------

    def touch(self, uid: str, change: Callable[[dict], bool]) -> None:
        """Change a contact in place and bump `updatedAt` when anything changed.

        `change` returns whether it changed anything; indexes and the sorted
        order are kept in step.
        """
        with self.lock:
            contact = self.contacts[uid]
            self._unindex(contact)
            changed = change(contact)
            if changed:
                self._reorder(uid, clock.bumped(contact["updatedAt"]))
            self._index(contact)

    def _reorder(self, uid: str, updated_at: str) -> None:
        contact = self.contacts[uid]
        self._drop_from_order(uid)
        contact["updatedAt"] = updated_at
        if self.is_live(uid):
            bisect.insort(self.order, (updated_at, uid))

    def _drop_from_order(self, uid: str) -> None:
        key = (self.contacts[uid]["updatedAt"], uid)
        position = bisect.bisect_left(self.order, key)
        if position < len(self.order) and self.order[position] == key:
            del self.order[position]

    def create(self, contact: dict) -> None:
        """Add a new live contact."""
        with self.lock:
            self.contacts[contact["uid"]] = contact
            self.meta[contact["uid"]] = {"deletedAt": None, "mergedInto": None}
            bisect.insort(self.order, (contact["updatedAt"], contact["uid"]))
            self._index(contact)

    def soft_delete(self, uid: str, merged_into: str | None = None) -> None:
        """Hide a contact from reads; an operator can restore it."""
        with self.lock:
            if not self.is_live(uid):
                return
            self._drop_from_order(uid)
            self.meta[uid]["deletedAt"] = clock.to_iso(clock.now())
            self.meta[uid]["mergedInto"] = merged_into

    def restore(self, uid: str) -> None:
        """Undo a soft delete: live again, `updatedAt` bumped, `restoredAt` kept.

        Raises:
            ApiError: 404 when the uid is unknown, 400 when it is not deleted.
        """
        with self.lock:
            self.settle()
            if uid not in self.contacts:
                raise not_found(f"No contact with uid {uid} to restore.")
            if self.is_live(uid):
                raise ApiError(400, "bad_request", f"Contact {uid} is not deleted.")
            stamp = clock.bumped(self.contacts[uid]["updatedAt"])
            self.meta[uid]["deletedAt"] = None
            self.meta[uid]["restoredAt"] = stamp
            self.contacts[uid]["updatedAt"] = stamp
            bisect.insort(self.order, (stamp, uid))

    def purge(self, uid: str, request_id: str) -> None:
        """Remove a contact for good, and record that it happened."""
        with self.lock:
            self._drop_from_order(uid)
            contact = self.contacts.pop(uid)
            self._unindex(contact)
            self.meta.pop(uid)
            stamp = clock.to_iso(clock.now())
            self.purged.append({"uid": uid, "purgedAt": stamp, "requestId": request_id})

    def merge(self, primary: str, duplicates: list[str]) -> None:
        """Fold duplicates into the primary.

        The duplicates are soft-deleted and their conversations move to the
        primary (a duplicate keeps none); the primary keeps its own fields and
        consent.
        """
        with self.lock:
            moved = []
            for uid in duplicates:
                if self.is_live(uid):
                    moved += self._take_conversations(uid)
                    self.soft_delete(uid, merged_into=primary)
            if self.is_live(primary):
                self.touch(primary, lambda c: _append_conversations(c, moved))
            for uid in [primary, *duplicates]:
                self.merging.pop(uid, None)

    def _take_conversations(self, uid: str) -> list[dict]:
        """Remove and return a contact's conversations (no `updatedAt` bump)."""
        contact = self.contacts[uid]
        self._unindex(contact)
        taken = _take_conversations_of(contact)
        self._index(contact)
        return taken


def _take_conversations_of(contact: dict) -> list[dict]:
    taken = contact.get("conversations") or []
    contact["conversations"] = []
    return taken


def _append_conversations(contact: dict, moved: list[dict]) -> bool:
    contact.setdefault("conversations", []).extend(moved)
    return True


@functools.lru_cache(maxsize=262_144)
def _rank(walk: str, uid: str) -> str:
    """The place of a contact in a shuffled walk: a keyed hash of its uid."""
    return hashlib.blake2b(uid.encode(), digest_size=8, key=walk.encode()).hexdigest()


def new_uid() -> str:
    """A fresh uid for a contact or conversation created through the API."""
    return str(uuid.uuid4())


def mask(identifier: str) -> str:
    """Hide all but the last three characters of a phone, email or uid."""
    if len(identifier) <= 4:
        return "***"
    return "***" + identifier[-3:]
