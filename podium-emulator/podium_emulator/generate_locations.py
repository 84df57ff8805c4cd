"""The generated tenant's locations, tag catalogue and attribute catalogue."""

from __future__ import annotations

from podium_emulator import phone_shapes
from podium_emulator.clock import to_iso

BRAND = "Brightwater Dental"
EPOCH = 1_704_067_200 - 400 * 86_400  # locations predate every contact
# city, state, state name, country, country name, postcode, number kind
SITES = (
    ("Sydney", "NSW", "New South Wales", "AU", "Australia", "2000", "au_landline"),
    ("Melbourne", "VIC", "Victoria", "AU", "Australia", "3000", "au_landline"),
    ("Brisbane", "QLD", "Queensland", "AU", "Australia", "4000", "au_landline"),
    ("Austin", "TX", "Texas", "US", "United States", "78701", "us"),
    ("Denver", "CO", "Colorado", "US", "United States", "80202", "us"),
    ("Portland", "OR", "Oregon", "US", "United States", "97204", "us"),
)
TAGS = (
    ("vip", "Spends a lot"),
    ("recall-due", "Due for a check-up"),
    ("insurance", "Claims through insurance"),
    ("newsletter", "Reads the newsletter"),
    ("family-plan", "On a family plan"),
)


def make_locations(builder) -> list[dict]:
    """One location per site, each with its own business line."""
    return [_location(builder, *site) for site in SITES]


def _location(builder, city, state, state_name, country, country_name, postcode, kind):
    rng = builder.rng
    road = (
        f"{rng.randint(1, 400)} {rng.choice(['George', 'Collins', 'Main', 'Queen'])} St"
    )
    created = to_iso(EPOCH + rng.randrange(100 * 86_400))
    return {
        "uid": builder.new_uid(),
        "name": f"{BRAND} {city}",
        "displayName": f"{BRAND} \u2013 {city}",
        "phoneNumber": phone_shapes.new_number(rng, kind, builder.used_numbers),
        "podiumPhoneNumber": phone_shapes.new_number(rng, kind, builder.used_numbers),
        "organizationUid": builder.organization_uid,
        "archived": False,
        "archivedAt": None,
        "address": f"{road}, {city} {state} {postcode}",
        "addressDetails": {
            "city": city,
            "country": country,
            "countryLongName": country_name,
            "houseNumber": road.split()[0],
            "postalCode": postcode,
            "road": " ".join(road.split()[1:]),
            "state": state,
            "stateLongName": state_name,
            "unit": None,
        },
        "createdAt": created,
        "updatedAt": created,
    }


def attribute_catalogue(builder) -> list[dict]:
    """The tenant's contact attributes (without values)."""
    return [
        {
            "uid": builder.new_uid(),
            "label": label,
            "dataType": "STRING",
            "ownerResource": {"type": "ORGANIZATION", "uid": builder.organization_uid},
        }
        for label in ("Patient number", "Referral code")
    ]
