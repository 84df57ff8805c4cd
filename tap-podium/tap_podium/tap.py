"""tap-podium: Podium contacts and locations, with E.164 phone enrichment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import phonenumbers
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_podium import __version__
from tap_podium.auth import PodiumAuthenticator
from tap_podium.enrich import LocationIndex
from tap_podium.streams import ContactsStream, LocationsStream
from tap_podium.throttle import Throttle

DEFAULT_API_URL = "https://api.podium.com/v4"
DEFAULT_OAUTH_URL = "https://api.podium.com/oauth/token"
# Streams run in this order: business lines must be known before contacts.
STREAM_TYPES = (LocationsStream, ContactsStream)


class TapPodium(Tap):
    """Singer tap for the Podium API."""

    name = "tap-podium"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_url",
            th.URIType,
            default=DEFAULT_API_URL,
            description="Base URL of the Podium API, up to and including /v4.",
        ),
        th.Property(
            "oauth_url",
            th.URIType,
            default=DEFAULT_OAUTH_URL,
            description="The OAuth2 token URL where the refresh token is traded.",
        ),
        th.Property("client_id", th.StringType, required=True, secret=True),
        th.Property("client_secret", th.StringType, required=True, secret=True),
        th.Property("refresh_token", th.StringType, required=True, secret=True),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest updatedAt to sync; without a time zone it is UTC.",
        ),
        th.Property(
            "default_region",
            th.StringType,
            required=True,
            description="ISO country of numbers written without +, e.g. AU.",
        ),
        th.Property(
            "location_regions",
            th.ObjectType(additional_properties=th.StringType),
            default={},
            description="Region by location uid, for tenants spanning countries.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=100),
            default=100,
            description="Records per page (the API's limit, 1..100).",
        ),
        th.Property(
            "requests_per_minute",
            th.IntegerType(minimum=1),
            default=300,
            description="Client-side request budget; Podium allows 300 a minute.",
        ),
        th.Property(
            "podium_version",
            th.StringType,
            description="Value of the podium-version header, e.g. 2021.04.01.",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            default=f"tap-podium/{__version__}",
            description="User-Agent header of every request.",
        ),
    ).to_dict()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Check the settings against the JSON schema and what it cannot say."""
        errors = [
            *super()._validate_config(raise_errors=False),
            *settings_errors(self.config),
        ]
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        # Discovery does not raise; name each bad setting so the later failure
        # ("Invalid catalog" under Meltano) can be traced to it.
        for error in errors:
            self.logger.warning("Invalid setting: %s", error)
        return errors

    def discover_streams(self) -> list:
        """Return the streams, locations first."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def load_streams(self) -> list:
        """Keep the discovery order; the SDK would sort streams by name."""
        return list(self.discover_streams())

    @cached_property
    def authenticator(self) -> PodiumAuthenticator:
        """Return the one authenticator all streams share."""
        return PodiumAuthenticator(
            oauth_url=self.config.get("oauth_url", DEFAULT_OAUTH_URL),
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            refresh_token=self.config["refresh_token"],
            user_agent=self.config.get("user_agent", f"tap-podium/{__version__}"),
        )

    @cached_property
    def throttle(self) -> Throttle:
        """Return the one request budget all streams share."""
        return Throttle(int(self.config.get("requests_per_minute", 300)))

    def location_index(self) -> LocationIndex:
        """Return the tenant's locations as contact enrichment needs them."""
        if self._location_index is None:
            locations = self.streams["locations"]
            self._location_index = LocationIndex.build(
                locations.all_locations(),  # type: ignore[attr-defined]
                default_region=self.config["default_region"].upper(),
                location_regions=_upper_values(self.config.get("location_regions")),
            )
        return self._location_index

    _location_index: LocationIndex | None = None


def settings_errors(config: Mapping[str, Any]) -> list[str]:
    """Return one message per setting with a bad value, naming the setting."""
    return [
        *_check_url(config, "api_url"),
        *_check_url(config, "oauth_url"),
        *_check_default_region(config.get("default_region")),
        *_check_location_regions(config.get("location_regions") or {}),
        *_check_start_date(config.get("start_date")),
    ]


def _check_url(config: Mapping[str, Any], name: str) -> list[str]:
    value = config.get(name)
    if value is None:
        return []
    parsed = urlparse(str(value))
    if parsed.scheme in {"http", "https"} and parsed.netloc:
        return []
    return [f"{name}: {value!r} is not an http(s) URL"]


def _check_default_region(value: Any) -> list[str]:
    # Absent is the JSON schema's error ("required"); say it once.
    return [] if value is None else _check_region("default_region", value)


def _check_region(name: str, value: Any) -> list[str]:
    if isinstance(value, str) and value.upper() in phonenumbers.SUPPORTED_REGIONS:
        return []
    return [f"{name}: {value!r} is not an ISO country code phonenumbers knows, e.g. AU"]


def _check_location_regions(regions: dict[str, Any]) -> list[str]:
    return [
        error
        for uid, region in regions.items()
        for error in _check_region(f"location_regions.{uid}", region)
    ]


def _check_start_date(value: Any) -> list[str]:
    if value is None:
        return []
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return [f"start_date: {value!r} is not an ISO 8601 date-time"]
    return []


def _upper_values(regions: dict[str, str] | None) -> dict[str, str]:
    return {uid: region.upper() for uid, region in (regions or {}).items()}


if __name__ == "__main__":
    TapPodium.cli()
