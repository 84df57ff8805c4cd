"""The tap's streams: ``locations`` (full table) and ``contacts`` (incremental)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_podium import schemas
from tap_podium.client import CursorExpired, PodiumStream, RetriesExhausted
from tap_podium.enrich import LocationIndex, enrich_contact, enrich_location

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

BOOKMARK_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The API's filter is strictly after; one second earlier makes the bookmark
# inclusive, so contacts that share the bookmark's second are read again.
INCLUSIVE_STEP = timedelta(seconds=1)
MAX_CURSOR_RESTARTS = 5


class LocationsStream(PodiumStream):
    """Podium locations; their own phone numbers are business lines."""

    name = "locations"
    path = "/locations"
    primary_keys = ("uid",)
    replication_key = None
    schema = schemas.LOCATION

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the stream; locations are fetched once per run."""
        super().__init__(*args, **kwargs)
        self._fetched: list[dict] | None = None

    def all_locations(self) -> list[dict]:
        """Return every location as the API gives it, fetching them once."""
        if self._fetched is None:
            self._fetched = list(self.request_records(None))
            self.logger.info("Fetched %d locations", len(self._fetched))
        return self._fetched

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Yield the locations, from the run's one fetch."""
        yield from self.all_locations()

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Add the location's region, phones and natural keys."""
        return enrich_location(row, self._tap.location_index())  # type: ignore[attr-defined]


class ContactsStream(PodiumStream):
    """Podium contacts, enriched with phones, natural keys and consent.

    Podium documents no sort order for the list, so the stream is unsorted:
    the SDK keeps progress markers during the sync and promotes the highest
    ``updatedAt`` to the bookmark only at the end.
    """

    name = "contacts"
    path = "/contacts"
    primary_keys = ("uid",)
    replication_key = "updatedAt"
    is_sorted = False
    schema = schemas.CONTACT

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Send the bookmark, one second early, as ``updated_at``."""
        start = self.bookmark_start(context)
        if start is None:
            return {}
        return {"updated_at": (start - INCLUSIVE_STEP).strftime(BOOKMARK_FORMAT)}

    def bookmark_start(self, context: Context | None) -> datetime | None:
        """Return the bookmark, else ``start_date``, as an aware UTC time."""
        value = self.get_starting_replication_key_value(context)
        if not value:
            return None
        moment = value if isinstance(value, datetime) else _parse_time(str(value))
        if moment.tzinfo is None:
            # A start_date without a time zone is UTC, as Podium's times are.
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """Return the stream's start time in ``updatedAt``'s own shape.

        The SDK caps an unsorted stream's final bookmark at this signpost by
        comparing text. Its ``+00:00`` shape sorts wrongly against Podium's
        ``Z`` within one second (``...42Z`` > ``...42.030000+00:00``), which
        left a bookmark in another shape and later than every record.
        Truncated to the second the cap is safe: the next sync re-reads that
        second, as the inclusive bookmark does anyway.
        """
        signpost = super().get_replication_key_signpost(context)
        if isinstance(signpost, datetime):
            return signpost.astimezone(UTC).strftime(BOOKMARK_FORMAT)
        return signpost

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Yield each contact once, restarting from the bookmark on a bad cursor.

        A restart re-reads pages already read; a contact already yielded with
        the same ``updatedAt`` is skipped, so nothing repeats beyond the ties
        the inclusive bookmark re-reads.
        """
        # TODO(#3): one fingerprint per contact stays in memory for the whole
        # sync (about 60 MB for a million contacts); only restarts need them.
        seen: set[int] = set()
        for restart in range(MAX_CURSOR_RESTARTS + 1):
            try:
                yield from _first_sight(self.request_records(context), seen)
                return
            except CursorExpired:
                self.logger.warning(
                    "The page cursor expired; restarting from the bookmark "
                    "(restart %d of %d)",
                    restart + 1,
                    MAX_CURSOR_RESTARTS,
                )
        msg = (
            f"The page cursor of GET {self.path} expired {MAX_CURSOR_RESTARTS + 1} "
            "times in one sync; check that the tap is not stalled between pages "
            "(a slow target holds it back) and run it again"
        )
        raise RetriesExhausted(msg)

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Add phones, natural keys, consent view, field count, location uids."""
        index: LocationIndex = self._tap.location_index()  # type: ignore[attr-defined]
        return enrich_contact(self._readable_updated_at(row), index)

    def _readable_updated_at(self, row: dict) -> dict:
        """Null an unreadable ``updatedAt``, which would poison the bookmark."""
        value = row.get("updatedAt")
        if isinstance(value, str) and _readable_time(value):
            return row
        self.logger.warning(
            "Contact %s has no readable updatedAt; it is delivered without one "
            "and does not move the bookmark",
            row.get("uid"),
        )
        return {**row, "updatedAt": None}


def _first_sight(records: Iterable[dict], seen: set[int]) -> Iterable[dict]:
    for record in records:
        fingerprint = hash((record.get("uid"), record.get("updatedAt")))
        if fingerprint not in seen:
            seen.add(fingerprint)
            yield record


def _readable_time(text: str) -> bool:
    try:
        _parse_time(text)
    except ValueError:
        return False
    return True


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
