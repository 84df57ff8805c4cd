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
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from tap_podium.phones import Phone, normalise_phone

DEFAULT_PLACEHOLDER_NAMES = ("", "unknown", "customer", "no name", "n/a")

_LOCATION_PHONE_FIELDS = ("phoneNumber", "podiumPhoneNumber")
_ADDRESS_FIELDS = (
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "postalCode",
    "country",
)
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
    """Build the consent view of docs/contracts.md section 5."""
    channels = _dicts(contact.get("channels"))
    phone_channels = [c for c in channels if _channel_type(c) == "PHONE"]
    email_channels = [c for c in channels if _channel_type(c) == "EMAIL"]
    sms_opted_out_at = _latest(c.get("transactionalOptedOutAt") for c in phone_channels)
    email_opted_out_at = _latest(
        c.get("transactionalOptedOutAt") for c in email_channels
    )
    marketing = [c for c in phone_channels if _marketing_uids(c)]
    return {
        "sms_opt_out": sms_opted_out_at is not None,
        "sms_opted_out_at": sms_opted_out_at,
        "email_opt_out": email_opted_out_at is not None,
        "email_opted_out_at": email_opted_out_at,
        "marketing_opted_in_location_uids": sorted(
            {uid for c in marketing for uid in _marketing_uids(c)}
        ),
        "marketing_opted_in_at": _latest(c.get("updatedAt") for c in marketing),
    }


def _channel_type(channel: Mapping[str, Any]) -> str:
    value = channel.get("type")
    return value.upper() if isinstance(value, str) else ""


def _marketing_uids(channel: Mapping[str, Any]) -> list[str]:
    uids = _list(channel.get("marketingOptedInLocationUids"))
    return [uid for uid in uids if isinstance(uid, str)]


def _latest(timestamps: Iterable[Any]) -> str | None:
    """Return the latest of the ISO timestamps, as written; None if none."""
    parsed = [(when, text) for text in timestamps if (when := _parse_time(text))]
    return max(parsed)[1] if parsed else None


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


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
        sum(_populated(address.get(name)) for name in _ADDRESS_FIELDS),
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
