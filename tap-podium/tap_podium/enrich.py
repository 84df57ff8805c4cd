"""Contact and location enrichment: pure functions, usable without the tap.

The SQL step and its tests call these on raw API objects too::

    from tap_podium.enrich import LocationIndex, enrich_contact, enrich_location

    index = LocationIndex.build(locations, default_region="AU")
    locations = [enrich_location(location, index) for location in locations]
    contacts = [enrich_contact(contact, index) for contact in contacts]

A contact gains ``phones``, ``natural_keys``, ``consent``, ``field_count`` and
``location_uids`` (ARCHITECTURE 4.1, docs/contracts.md section 5); a location
gains ``region``, ``phones`` and ``natural_keys`` (its business lines).
"""

from __future__ import annotations

import functools
import logging
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import phonenumbers

from tap_podium.phones import Phone, normalise_phone
from tap_podium.schemas import ADDRESS_FIELDS

logger = logging.getLogger(__name__)

# Epoch numbers at or above this are milliseconds (1e11 seconds is year 5138).
EPOCH_MILLISECONDS_FROM = 100_000_000_000

DEFAULT_PLACEHOLDER_NAMES = ("", "unknown", "customer", "no name", "n/a")

_LOCATION_PHONE_FIELDS = ("phoneNumber", "podiumPhoneNumber")
_PHONE_PUNCTUATION = frozenset("+-().# ")


@dataclass(frozen=True)
class LocationIndex:
    """What contact enrichment needs to know about the tenant's locations.

    Attributes:
        default_region: Region for contacts with no location of known region.
        regions: Region of each location uid that has one.
        business_keys: Natural keys of every location's own phone lines.
    """

    default_region: str | None
    regions: Mapping[str, str] = field(default_factory=dict)
    business_keys: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        locations: Iterable[Mapping[str, Any]],
        default_region: str | None,
        location_regions: Mapping[str, str] | None = None,
    ) -> LocationIndex:
        """Index the locations: each one's region, and all business lines.

        Args:
            locations: Location objects as the API returns them.
            default_region: Region for anything without a known region.
            location_regions: Configured regions by location uid; these win
                over the country of the location's address.
        """
        locations = list(locations)
        configured = dict(location_regions or {})
        regions = {
            uid: region
            for location in locations
            if (uid := location.get("uid"))
            and (region := configured.get(uid) or _address_region(location))
        }
        regions.update(configured)
        partial = cls(default_region=default_region, regions=regions)
        keys = {
            key for location in locations for key in partial.location_keys(location)
        }
        return cls(default_region, regions, frozenset(keys))

    def region_of_location(self, uid: str | None) -> str | None:
        """Return the region of one location, else the default region."""
        return self.regions.get(uid or "", self.default_region)

    def region_of_contact(self, location_uids: Iterable[str]) -> str | None:
        """Return the region of the contact's first location that has one."""
        for uid in location_uids:
            if uid in self.regions:
                return self.regions[uid]
        return self.default_region

    def location_phones(self, location: Mapping[str, Any]) -> list[Phone]:
        """Normalise a location's phoneNumber and podiumPhoneNumber."""
        region = self.region_of_location(location.get("uid"))
        raws = [location.get(name) for name in _LOCATION_PHONE_FIELDS]
        return [phone for raw in raws if raw for phone in normalise_phone(raw, region)]

    def location_keys(self, location: Mapping[str, Any]) -> list[str]:
        """Return the distinct natural keys of a location's own lines."""
        keys = (phone["natural_key"] for phone in self.location_phones(location))
        return sorted({key for key in keys if key})


def enrich_location(
    location: Mapping[str, Any], index: LocationIndex
) -> dict[str, Any]:
    """Return the location with ``region``, ``phones`` and ``natural_keys``."""
    record = dict(location)
    record["region"] = index.region_of_location(location.get("uid"))
    record["phones"] = index.location_phones(location)
    record["natural_keys"] = index.location_keys(location)
    return record


def enrich_contact(
    contact: Mapping[str, Any],
    index: LocationIndex,
    placeholder_names: Iterable[str] = DEFAULT_PLACEHOLDER_NAMES,
) -> dict[str, Any]:
    """Return the contact with the fields of ARCHITECTURE 4.1 added.

    Args:
        contact: A contact object as the API returns it; odd or missing
            fields are tolerated.
        index: The tenant's locations.
        placeholder_names: Names that count as no name in ``field_count``.
    """
    record = dict(contact)
    location_uids = contact_location_uids(contact)
    region = index.region_of_contact(location_uids)
    phones = contact_phones(contact, region, index.business_keys)
    record["phones"] = phones
    record["natural_keys"] = natural_keys(phones)
    record["consent"] = consent_view(contact)
    record["field_count"] = field_count(contact, placeholder_names)
    record["location_uids"] = location_uids
    return record


def contact_location_uids(contact: Mapping[str, Any]) -> list[str]:
    """Return the uids of the contact's locations, in the API's order."""
    uids = (item.get("uid") for item in _dicts(contact.get("locations")))
    return list(dict.fromkeys(uid for uid in uids if isinstance(uid, str)))


def contact_phones(
    contact: Mapping[str, Any], region: str | None, business_keys: frozenset[str]
) -> list[Phone]:
    """Normalise every raw phone of the contact."""
    return [
        phone
        for raw in _list(contact.get("phoneNumbers"))
        for phone in normalise_phone(raw, region, business_keys)
    ]


def natural_keys(phones: Iterable[Phone]) -> list[str]:
    """Return the sorted distinct keys that may group this contact.

    A business line keeps its key on its phone entry, for the SQL step's
    ``shared_line`` review, but is never a key of the contact.
    """
    return sorted({phone["natural_key"] for phone in phones if _is_contact_key(phone)})


def _is_contact_key(phone: Phone) -> bool:
    return phone["natural_key"] is not None and phone["reason"] is None


def consent_view(contact: Mapping[str, Any]) -> dict[str, Any]:
    """Build the consent view of docs/contracts.md section 5.

    An opt-out is any value in ``transactionalOptedOutAt`` other than null,
    false or blank: a time in a shape this module cannot read still means the
    person texted STOP, so it opts out and only its time is null.
    """
    channels = _dicts(contact.get("channels"))
    phone_channels = [c for c in channels if _channel_type(c) == "PHONE"]
    email_channels = [c for c in channels if _channel_type(c) == "EMAIL"]
    sms_out = _opt_out_of(contact, phone_channels, "PHONE")
    email_out = _opt_out_of(contact, email_channels, "EMAIL")
    marketing = [c for c in phone_channels if _marketing_uids(c)]
    return {
        "sms_opt_out": sms_out.opted_out,
        "sms_opted_out_at": sms_out.at,
        "email_opt_out": email_out.opted_out,
        "email_opted_out_at": email_out.at,
        "marketing_opted_in_location_uids": sorted(
            {uid for c in marketing for uid in _marketing_uids(c)}
        ),
        "marketing_opted_in_at": _latest(c.get("updatedAt") for c in marketing),
    }


class _OptOut(NamedTuple):
    """Whether a channel kind is opted out, and the latest readable time."""

    opted_out: bool
    at: str | None


def _opt_out_of(
    contact: Mapping[str, Any], channels: list[Mapping[str, Any]], kind: str
) -> _OptOut:
    values = [c.get("transactionalOptedOutAt") for c in channels]
    set_values = [value for value in values if is_opt_out_value(value)]
    at = _latest(set_values)
    if set_values and at is None:
        # The opt-out stands; only its time is lost. The value may hold
        # personal data in odd feeds, so only its type is logged.
        logger.warning(
            "Contact %s has a %s opt-out whose time cannot be read (a %s); "
            "it counts as an opt-out with no time; check the source of "
            "transactionalOptedOutAt",
            contact.get("uid"),
            kind,
            type(set_values[0]).__name__,
        )
    return _OptOut(bool(set_values), at)


def is_opt_out_value(value: Any) -> bool:
    """Tell whether a ``transactionalOptedOutAt`` value records an opt-out.

    Only null, false and blank text mean no opt-out; anything else, readable
    as a time or not, is the person's STOP and must never be dropped.
    """
    if value is None or value is False:
        return False
    return not (isinstance(value, str) and not value.strip())


def _channel_type(channel: Mapping[str, Any]) -> str:
    value = channel.get("type")
    return value.upper() if isinstance(value, str) else ""


def _marketing_uids(channel: Mapping[str, Any]) -> list[str]:
    uids = _list(channel.get("marketingOptedInLocationUids"))
    return [uid for uid in uids if isinstance(uid, str)]


def _latest(timestamps: Iterable[Any]) -> str | None:
    """Return the latest readable timestamp, as ISO 8601; None if none.

    ISO text is returned as written; other readable shapes (epoch numbers,
    HTTP dates) are rewritten as ISO 8601 UTC with a ``Z``.
    """
    readings = [reading for value in timestamps if (reading := read_time(value))]
    return max(readings)[1] if readings else None


def read_time(value: Any) -> tuple[datetime, str] | None:
    """Read a timestamp in an unambiguous shape; None if it cannot be read.

    Returns:
        The aware time and its ISO 8601 text, or None for booleans, empty
        values and ambiguous shapes such as ``12/01/2026``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    written = _from_iso(value)
    if written is not None:
        return written, value
    when = _from_http_date(value)
    return (when, _iso_z(when)) if when is not None else None


def _from_iso(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    # A time without a zone is UTC, as every Podium time is.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _from_http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _from_epoch(value: float) -> tuple[datetime, str] | None:
    # Seconds after 1970; a value this large can only be milliseconds.
    seconds = value / 1000 if abs(value) >= EPOCH_MILLISECONDS_FROM else value
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when, _iso_z(when)


def _iso_z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def field_count(
    contact: Mapping[str, Any],
    placeholder_names: Iterable[str] = DEFAULT_PLACEHOLDER_NAMES,
) -> int:
    """Count the populated user-visible values (docs/contracts.md section 5)."""
    address = contact.get("address")
    address = address if isinstance(address, Mapping) else {}
    counts = (
        0 if is_placeholder_name(contact.get("name"), placeholder_names) else 1,
        sum(_populated(email) for email in _list(contact.get("emails"))),
        sum(_populated(phone) for phone in _list(contact.get("phoneNumbers"))),
        sum(_populated(address.get(name)) for name in ADDRESS_FIELDS),
        len(_dicts(contact.get("tags"))),
        sum(a.get("value") is not None for a in _dicts(contact.get("attributes"))),
    )
    return sum(counts)


def is_placeholder_name(
    name: Any, placeholder_names: Iterable[str] = DEFAULT_PLACEHOLDER_NAMES
) -> bool:
    """Tell whether a name stands for no name at all.

    Empty names, the configured placeholders (compared case-folded and
    without punctuation) and names made only of phone digits count.
    """
    if not isinstance(name, str):
        return True
    placeholders = _folded_placeholders(tuple(placeholder_names))
    return _fold_name(name) in placeholders or _is_phone_digits(name)


@functools.lru_cache(maxsize=8)
def _folded_placeholders(placeholder_names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_fold_name(text) for text in placeholder_names)


def _fold_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(char for char in text if char not in string.punctuation)
    return " ".join(kept.split())


def _is_phone_digits(name: str) -> bool:
    text = unicodedata.normalize("NFKC", name).strip()
    has_digit = any(char.isdigit() for char in text)
    return has_digit and all(
        char.isdigit() or char in _PHONE_PUNCTUATION or char.isspace() for char in text
    )


def _address_region(location: Mapping[str, Any]) -> str | None:
    details = location.get("addressDetails")
    country = details.get("country") if isinstance(details, Mapping) else None
    if not isinstance(country, str):
        return None
    country = country.strip().upper()
    return country if country in phonenumbers.SUPPORTED_REGIONS else None


def _populated(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in _list(value) if isinstance(item, Mapping)]
