"""Baseline for the tap: a bare httpx loop over the same contact list endpoint.

It does the least a hand-written extractor must do: refresh a token, read the
locations (for each contact's region), page `GET /v4/contacts` by cursor,
parse every raw phone with phonenumbers (parse, is_valid_number, format to
E.164) and write one JSON line per contact. No schema, no state, no retries:
`make bench` times tap-podium's CPU seconds against this script's.

Usage: python bench/baseline_tap.py API_URL OAUTH_URL CLIENT_ID SECRET REFRESH
"""

from __future__ import annotations

import json
import sys

import httpx
import phonenumbers

PAGE_SIZE = 100
MAX_PAGES = 100_000  # a bound, far above any corpus the bench serves


def access_token(client: httpx.Client, oauth_url: str, credentials: list) -> str:
    """Exchange the refresh token for an access token."""
    client_id, client_secret, refresh_token = credentials
    response = client.post(
        oauth_url,
        json={
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


def location_regions(client: httpx.Client, api_url: str) -> dict[str, str]:
    """Return each location uid's country code (the region for its contacts)."""
    response = client.get(f"{api_url}/locations")
    response.raise_for_status()
    return {
        location["uid"]: (location.get("addressDetails") or {}).get("country") or "US"
        for location in response.json()["data"]
    }


def e164_numbers(contact: dict, regions: dict[str, str]) -> list[str | None]:
    """Parse each raw phone of a contact in its location's region."""
    locations = contact.get("locations") or [{}]
    region = regions.get(locations[0].get("uid"), "US")
    numbers = []
    for raw in contact.get("phoneNumbers") or []:
        try:
            number = phonenumbers.parse(str(raw), region)
        except phonenumbers.NumberParseException:
            numbers.append(None)
            continue
        valid = phonenumbers.is_valid_number(number)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        numbers.append(e164 if valid else None)
    return numbers


def main() -> None:
    """Page every contact and write each with its E.164 numbers to stdout."""
    api_url, oauth_url, *credentials = sys.argv[1:6]
    out = sys.stdout
    count = 0
    with httpx.Client(timeout=30) as client:
        client.headers["Authorization"] = (
            f"Bearer {access_token(client, oauth_url, credentials)}"
        )
        regions = location_regions(client, api_url)
        params: dict = {"limit": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            response = client.get(f"{api_url}/contacts", params=params)
            response.raise_for_status()
            body = response.json()
            for contact in body["data"]:
                contact["e164"] = e164_numbers(contact, regions)
                out.write(json.dumps(contact) + "\n")
            count += len(body["data"])
            cursor = (body.get("metadata") or {}).get("nextCursor")
            if not cursor or not body["data"]:
                break
            params = {"cursor": cursor}
    print(f"baseline tap: {count} contacts", file=sys.stderr)


if __name__ == "__main__":
    main()
