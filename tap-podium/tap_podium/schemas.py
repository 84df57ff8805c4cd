"""JSON schemas of the streams: Podium's objects plus the enrichment fields.

Every object schema allows additional properties, so fields the API adds
later pass through unchanged (ARCHITECTURE 4.1: unknown fields are kept).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _nullable(*types: str) -> Schema:
    return {"type": [*types, "null"]}


def _object(properties: dict[str, Schema], *, nullable: bool = True) -> Schema:
    types = ["object", "null"] if nullable else ["object"]
    return {"type": types, "properties": properties, "additionalProperties": True}


def _array(items: Schema) -> Schema:
    return {"type": ["array", "null"], "items": items}


STRING = _nullable("string")
TIMESTAMP = {**_nullable("string"), "format": "date-time"}
REFERENCE = _object({"uid": STRING})

PHONE = _object(
    {
        "raw": STRING,
        "e164": STRING,
        "extension": STRING,
        "natural_key": STRING,
        "national": STRING,
        "region": STRING,
        "number_type": STRING,
        "valid": _nullable("boolean"),
        "reason": STRING,
        "parser_version": STRING,
    }
)

CHANNEL = _object(
    {
        "type": STRING,
        "identifier": STRING,
        "label": STRING,
        "marketingOptedInLocationUids": _array({"type": "string"}),
        "transactionalOptedOutAt": TIMESTAMP,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }
)

CONSENT = _object(
    {
        "sms_opt_out": {"type": "boolean"},
        "sms_opted_out_at": TIMESTAMP,
        "email_opt_out": {"type": "boolean"},
        "email_opted_out_at": TIMESTAMP,
        "marketing_opted_in_location_uids": _array({"type": "string"}),
        "marketing_opted_in_at": TIMESTAMP,
    }
)

# The sub-fields of a contact's address, as Podium names them.
ADDRESS_FIELDS = (
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "postalCode",
    "country",
)
ADDRESS = _object({name: STRING for name in ADDRESS_FIELDS})

CONTACT = _object(
    {
        "uid": {"type": "string"},
        "name": STRING,
        "emails": _array(_nullable("string")),
        # A spreadsheet import can leave a JSON number here (case R05).
        "phoneNumbers": _array(_nullable("string", "number")),
        "channels": _array(CHANNEL),
        "locations": _array(REFERENCE),
        "address": ADDRESS,
        "tags": _array(
            _object({"uid": STRING, "label": STRING, "description": STRING})
        ),
        "attributes": _array(_object({"uid": STRING, "label": STRING})),
        "conversations": _array(REFERENCE),
        "organization": REFERENCE,
        "createdAt": TIMESTAMP,
        # Nullable only so that a contact with a broken time still arrives.
        "updatedAt": TIMESTAMP,
        "phones": _array(PHONE),
        "natural_keys": _array({"type": "string"}),
        "consent": CONSENT,
        "field_count": {"type": "integer"},
        "location_uids": _array({"type": "string"}),
    },
    nullable=False,
)

LOCATION = _object(
    {
        "uid": {"type": "string"},
        "name": STRING,
        "displayName": STRING,
        "address": STRING,
        "addressDetails": _object({"country": STRING, "state": STRING, "city": STRING}),
        "phoneNumber": STRING,
        "podiumPhoneNumber": STRING,
        "organizationUid": STRING,
        "archived": _nullable("boolean"),
        "archivedAt": TIMESTAMP,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "region": STRING,
        "phones": _array(PHONE),
        "natural_keys": _array({"type": "string"}),
    },
    nullable=False,
)
