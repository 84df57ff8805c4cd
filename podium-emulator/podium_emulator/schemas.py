"""JSON Schemas of Podium's responses, from its own OpenAPI files.

The OpenAPI files in `../shared/reference/` (set `PODIUM_REFERENCE_DIR` to
move them) are OpenAPI 3.0: `nullable` and `$ref` are turned into plain JSON
Schema here. The spec's two known errors are corrected in `CORRECTIONS`, the
one place that knows about them:

1. `GET /v4/contacts` declares `data` as one contact; it is a list, and its
   `metadata.nextCursor` is a string or null.
2. The error envelope types `code` as an integer; real responses use strings.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path

SPECS = {
    "contacts": "podium-contacts-openapi.json",
    "accounts": "podium-accounts-openapi.json",
}


def reference_dir() -> Path:
    """Where Podium's OpenAPI files are (beside the clone, in `shared/reference`)."""
    override = os.environ.get("PODIUM_REFERENCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "reference"


@cache
def spec(name: str) -> dict:
    """One OpenAPI file, parsed.

    Raises:
        FileNotFoundError: naming the file and the variable that moves it.
    """
    path = reference_dir() / SPECS[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; set PODIUM_REFERENCE_DIR.")
    return json.loads(path.read_text(encoding="utf-8"))


def response_schema(spec_name: str, path: str, method: str, status: int) -> dict:
    """The JSON Schema of one documented response (`default` for errors)."""
    if status >= 400:
        return error_schema()
    operation = spec(spec_name)["paths"][path][method.lower()]
    responses = operation["responses"]
    response = responses.get(str(status)) or responses["default"]
    schema = response["content"]["application/json"]["schema"]
    converted = to_json_schema(schema, spec(spec_name))
    return CORRECTIONS.get((path, method.upper(), status), lambda s: s)(converted)


def error_schema() -> dict:
    """The error envelope, with `code` a string (correction 2)."""
    schema = to_json_schema(
        spec("contacts")["components"]["schemas"]["Error"], spec("contacts")
    )
    schema["properties"]["code"] = {"type": "string"}
    schema["required"] = ["code", "message", "moreInfo"]
    return schema


def write_schema() -> dict:
    """The 202 envelope of every write: `{data: {identifier}}`."""
    return response_schema("contacts", "/v4/contacts/{identifier}", "PATCH", 202)


def to_json_schema(node: object, document: dict) -> object:
    """Inline `$ref`s and turn OpenAPI's `nullable` into a JSON Schema type list."""
    if isinstance(node, list):
        return [to_json_schema(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(_resolve(node["$ref"], document), document)
    converted = {key: to_json_schema(value, document) for key, value in node.items()}
    if converted.pop("nullable", False) and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def _resolve(reference: str, document: dict) -> dict:
    node = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _contact_list(schema: dict) -> dict:
    """Correction 1: the contact list's `data` is an array."""
    corrected = copy.deepcopy(schema)
    corrected["properties"]["data"] = {
        "type": "array",
        "items": schema["properties"]["data"],
    }
    metadata = corrected["properties"]["metadata"]["properties"]
    metadata["nextCursor"] = {"type": ["string", "null"]}
    return corrected


CORRECTIONS = {("/v4/contacts", "GET", 200): _contact_list}
