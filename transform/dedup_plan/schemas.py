"""JSON schemas of the streams the SQL step emits."""

from __future__ import annotations

_STRING_LIST = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STRING = {"type": ["string", "null"]}

_CONSENT_TARGET = {
    "type": "object",
    "properties": {
        "sms_opt_out": {"type": "boolean"},
        "email_opt_out": {"type": "boolean"},
        "marketing_opted_in_location_uids": _STRING_LIST,
    },
}

_PLAN_MEMBER = {
    "type": "object",
    "properties": {
        "uid": {"type": "string"},
        "updated_at": _NULLABLE_STRING,
        "field_count": {"type": "integer"},
        "location_uids": _STRING_LIST,
        "consent": {"type": "object"},
    },
}

_FILL = {
    "type": "object",
    "properties": {
        "name": _NULLABLE_STRING,
        "emails": _STRING_LIST,
        "address": {"type": "object"},
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"uid": {"type": "string"}, "label": _NULLABLE_STRING},
            },
        },
        "phones": _STRING_LIST,
        "locations": _STRING_LIST,
    },
}

MERGE_PLANS_SCHEMA = {
    "type": "object",
    "properties": {
        "cluster_id": {"type": "string"},
        "natural_key": {"type": "string"},
        "primary_uid": {"type": "string"},
        "duplicate_uids": _STRING_LIST,
        "members": {"type": "array", "items": _PLAN_MEMBER},
        "confidence": {"type": "number"},
        "primary_reason": {"enum": ["field_count", "updated_at", "uid"]},
        "consent_target": _CONSENT_TARGET,
        "fill": _FILL,
        "planned_at": _NULLABLE_STRING,
        "plan_version": {"type": "string"},
    },
    "required": ["cluster_id", "primary_uid", "duplicate_uids", "consent_target"],
}

_REVIEW_MEMBER = {
    "type": "object",
    "properties": {
        "uid": {"type": "string"},
        "name": _NULLABLE_STRING,
        "updated_at": _NULLABLE_STRING,
        "field_count": {"type": "integer"},
        "location_uids": _STRING_LIST,
        "location_names": _STRING_LIST,
        "consent": {"type": "object"},
    },
}

REVIEW_ITEMS_SCHEMA = {
    "type": "object",
    "properties": {
        "cluster_id": {"type": "string"},
        "natural_key": {"type": "string"},
        "natural_keys": _STRING_LIST,
        "members": {"type": "array", "items": _REVIEW_MEMBER},
        "location_names": _STRING_LIST,
        "reason": {"type": "string"},
        "reasons": _STRING_LIST,
        "detail": {"type": "string"},
        "confidence": {"type": ["number", "null"]},
        "proposed_primary_uid": {"type": "string"},
        "planned_at": _NULLABLE_STRING,
        "plan_version": {"type": "string"},
    },
    "required": ["cluster_id", "members", "reason", "reasons"],
}
