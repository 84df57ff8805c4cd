"""Opaque list cursors: the position, the filter, the page size and the issue time.

A cursor of a shuffled walk also carries the walk's shuffle, so the walk keeps
its order to the end whatever the `list_order` setting becomes meanwhile.

A cursor is `base64url(json).signature`, signed with HMAC-SHA256 under a
per-process secret, so a client cannot forge or edit one. It expires after the
cursor lifetime, or at once when the control surface expires every cursor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from podium_emulator import clock
from podium_emulator.errors import ApiError


@dataclass(frozen=True)
class Page:
    """Where the next page starts, and the query it continues.

    `walk` is None for the `(updatedAt, uid)` order; for a shuffled walk it is
    the walk's shuffle and the position is the last `uid` served.
    """

    updated_at: str
    uid: str
    limit: int
    updated_after: str | None
    walk: str | None = None


class Cursors:
    """Issues and checks cursors."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._generation = 0

    def expire_all(self) -> None:
        """Make every cursor issued so far invalid."""
        self._generation += 1

    def issue(self, page: Page) -> str:
        """An opaque cursor for the page after `page`'s position."""
        payload = {
            "p": [page.updated_at, page.uid],
            "l": page.limit,
            "u": page.updated_after,
            "t": int(clock.now()),
            "g": self._generation,
            "w": page.walk,
        }
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        return f"{body.rstrip('=')}.{self._sign(body.rstrip('='))}"

    def read(self, cursor: str, lifetime: float) -> Page:
        """The page a cursor points at.

        Raises:
            ApiError: 400 `invalid_cursor` when the cursor is malformed, forged,
                from an earlier generation or older than `lifetime` seconds.
        """
        payload = self._verified(cursor)
        if payload.get("g") != self._generation:
            raise _invalid("The cursor has expired; restart from your last bookmark.")
        if clock.now() - payload.get("t", 0) > lifetime:
            raise _invalid("The cursor has expired; restart from your last bookmark.")
        updated_at, uid = payload["p"]
        return Page(updated_at, uid, payload["l"], payload.get("u"), payload.get("w"))

    def _verified(self, cursor: str) -> dict:
        body, _, signature = cursor.partition(".")
        expected = self._sign(body).encode()
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), expected):
            raise _invalid("The cursor is not one this API issued.")
        try:
            padded = body + "=" * (-len(body) % 4)
            return json.loads(base64.urlsafe_b64decode(padded))
        except ValueError as error:
            raise _invalid("The cursor cannot be decoded.") from error

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode()


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_cursor", message)
