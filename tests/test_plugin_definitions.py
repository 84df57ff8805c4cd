"""plugins/*.meltano.yml declare what each installed plugin says about itself."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# Meltano's setting kind for each JSON-schema type a plugin declares.
KINDS = {
    "string": {"string", "date_iso8601", "options"},
    "integer": {"integer"},
    "number": {"decimal"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}
# Meltano 4.4.1 cannot write a `decimal` setting given through an environment
# variable (Decimal is not JSON serializable), and the demo and the tests set the
# target's budget that way; a whole number of requests loses nothing.
INTEGER_FOR_NUMBER = {("target-podium-merge", "requests_per_minute")}
PLUGINS = [
    pytest.param(
        "extractors", "tap-podium", "tap-podium.meltano.yml", "tap-podium", id="tap"
    ),
    pytest.param(
        "mappers", "dedup-planner", "dedup-plan.meltano.yml", "dedup-plan", id="mapper"
    ),
    pytest.param(
        "loaders",
        "target-podium-merge",
        "target-podium-merge.meltano.yml",
        "target-podium-merge",
        id="target",
    ),
]


@functools.cache
def about(plugin_type: str, name: str, executable: str) -> dict:
    """Return what an installed plugin reports with `--about --format json`."""
    binary = ROOT / ".meltano" / plugin_type / name / "venv" / "bin" / executable
    if not binary.exists():
        pytest.fail(f"{name} is not installed; run `make meltano-install`")
    result = subprocess.run(
        [str(binary), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def definition(plugin_type: str, file_name: str) -> dict:
    """Return the first plugin of a type declared in a plugins/ file."""
    document = yaml.safe_load((ROOT / "plugins" / file_name).read_text())
    return document["plugins"][plugin_type][0]


def schema_type(schema: dict) -> str:
    """Return the non-null JSON-schema type of a setting."""
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    return next(kind for kind in types if kind != "null")


def kinds_for(plugin: str, setting: str, schema: dict) -> set[str]:
    """Return the Meltano kinds that fit a setting's JSON-schema type."""
    if (plugin, setting) in INTEGER_FOR_NUMBER:
        return {"integer"}
    return KINDS[schema_type(schema)]


@pytest.mark.parametrize(("plugin_type", "name", "file_name", "executable"), PLUGINS)
def test_every_setting_is_declared_with_its_kind(
    plugin_type, name, file_name, executable
):
    properties = about(plugin_type, name, executable)["settings"]["properties"]
    declared = {s["name"]: s for s in definition(plugin_type, file_name)["settings"]}
    mismatched = {
        key: (schema_type(schema), declared.get(key, {}).get("kind"))
        for key, schema in properties.items()
        if declared.get(key, {}).get("kind") not in kinds_for(name, key, schema)
    }
    assert (mismatched, sorted(set(declared) - set(properties))) == ({}, [])


@pytest.mark.parametrize(("plugin_type", "name", "file_name", "executable"), PLUGINS)
def test_secrets_are_sensitive(plugin_type, name, file_name, executable):
    properties = about(plugin_type, name, executable)["settings"]["properties"]
    declared = {s["name"]: s for s in definition(plugin_type, file_name)["settings"]}
    secrets = {key for key, schema in properties.items() if schema.get("secret")}
    sensitive = {key for key, setting in declared.items() if setting.get("sensitive")}
    assert sensitive == secrets


@pytest.mark.parametrize(("plugin_type", "name", "file_name", "executable"), PLUGINS)
def test_capabilities_match_the_plugin(plugin_type, name, file_name, executable):
    reported = about(plugin_type, name, executable)["capabilities"]
    declared = definition(plugin_type, file_name)["capabilities"]
    assert sorted(declared) == sorted(reported)


def test_the_dry_run_job_loads_into_its_own_plugin():
    """Separate loaders give the dry run and the apply separate state ids."""
    jobs = yaml.safe_load((ROOT / "meltano.yml").read_text())["jobs"]
    loaders = {job["name"]: job["tasks"][0].split()[-1] for job in jobs}
    assert loaders == {
        "dedup": "target-podium-merge--dry-run",
        "dedup-apply": "target-podium-merge",
    }
