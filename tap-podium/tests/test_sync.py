"""Whole syncs against the emulator: records, order, enrichment, logs."""

from __future__ import annotations

import logging
import re

import pytest


def test_a_full_sync_delivers_every_contact_as_the_emulator_holds_it(
    emulator, tap_config, sync, check_delivery
):
    result = sync(tap_config)
    check_delivery(result, emulator)


def test_locations_come_before_contacts(emulator, tap_config, sync):
    streams = [m["stream"] for m in sync(tap_config).messages if m["type"] == "RECORD"]
    assert streams.index("contacts") > streams.index("locations")
    assert "locations" not in streams[streams.index("contacts") :]


def test_every_location_is_delivered_with_the_keys_of_its_own_lines(
    emulator, corpus, tap_config, sync
):
    locations = sync(tap_config).records("locations")
    assert {loc["uid"] for loc in locations} == {loc["uid"] for loc in corpus.locations}
    assert all(loc["natural_keys"] for loc in locations if loc.get("phoneNumber"))


def test_contacts_carry_the_enrichment_fields_of_the_contract(
    emulator, tap_config, sync
):
    contacts = sync(tap_config).records("contacts")
    expected = {"phones", "natural_keys", "consent", "field_count", "location_uids"}
    assert all(expected <= record.keys() for record in contacts)
    assert any(record["natural_keys"] for record in contacts)


def test_no_contact_key_is_a_locations_own_line(emulator, tap_config, sync):
    result = sync(tap_config)
    lines = {key for loc in result.records("locations") for key in loc["natural_keys"]}
    contact_keys = {k for c in result.records("contacts") for k in c["natural_keys"]}
    assert not lines & contact_keys


def test_the_tap_keys_exactly_what_the_emulators_truth_keys(
    emulator, corpus, tap_config, sync
):
    """The truth's keyed groups hold the same uids the tap's keys group."""
    truth_groups = {
        row["natural_key"]: set(row["uids"])
        for row in corpus.truth
        if row["kind"] == "group" and row["natural_key"]
    }
    holders: dict[str, set[str]] = {}
    for contact in sync(tap_config).records("contacts"):
        for phone in contact["phones"]:
            if phone["natural_key"]:
                holders.setdefault(phone["natural_key"], set()).add(contact["uid"])
    tap_groups = {key: uids for key, uids in holders.items() if len(uids) > 1}
    assert tap_groups == truth_groups


def test_a_sync_logs_no_phone_email_or_token_at_info_or_above(
    emulator, corpus, tap_config, sync, caplog
):
    caplog.set_level(logging.INFO)
    sync(tap_config)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    logged = "\n".join(messages)
    secrets = [tap_config["client_secret"], tap_config["refresh_token"]]
    emails = [email for c in corpus.contacts for email in c.get("emails") or []]
    raws = [str(raw) for c in corpus.contacts for raw in c.get("phoneNumbers") or []]
    phone_digits = {re.sub(r"\D", "", raw)[-8:] for raw in raws}
    logged_digits = {re.sub(r"\D", "", message) for message in messages}
    assert len(messages) > 10, "too little was logged for the check to prove much"
    assert [s for s in secrets + emails if s and s in logged] == []
    assert [raw for raw in raws if len(raw) >= 6 and raw in logged] == []
    leaked = [d for d in phone_digits for m in logged_digits if len(d) == 8 and d in m]
    assert leaked == []


def test_the_access_token_never_reaches_the_log(emulator, tap_config, sync, caplog):
    caplog.set_level(logging.DEBUG)
    sync(tap_config)
    token = emulator.access_token()
    assert token not in caplog.text
    assert "Bearer" not in caplog.text


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        pytest.param("page_size", 101, r"page_size", id="page-size-too-big"),
        pytest.param("page_size", 0, r"page_size", id="page-size-zero"),
        pytest.param("default_region", "XX", r"default_region", id="unknown-region"),
        pytest.param("api_url", "ftp://x", r"api_url", id="not-http"),
        pytest.param("start_date", "yesterday", r"start_date", id="bad-start-date"),
        pytest.param(
            "location_regions", {"loc-1": "ZZ"}, r"location_regions\.loc-1", id="lr"
        ),
        pytest.param("requests_per_minute", 0, r"requests_per_minute", id="budget-0"),
    ],
)
def test_an_invalid_setting_fails_at_start_naming_the_setting(setting, value, message):
    from singer_sdk.exceptions import ConfigValidationError

    from tap_podium.tap import TapPodium

    config = {
        "client_id": "id",
        "client_secret": "secret",
        "refresh_token": "refresh",
        "default_region": "AU",
        setting: value,
    }
    with pytest.raises(ConfigValidationError) as raised:
        TapPodium(config=config, parse_env_config=False)
    assert re.search(message, " ".join(raised.value.errors))


def test_a_missing_credential_fails_at_start_naming_it():
    from singer_sdk.exceptions import ConfigValidationError

    from tap_podium.tap import TapPodium

    with pytest.raises(ConfigValidationError) as raised:
        TapPodium(config={"default_region": "AU"}, parse_env_config=False)
    assert re.search("refresh_token", " ".join(raised.value.errors))


def test_secrets_are_marked_secret_in_the_settings_schema():
    from tap_podium.tap import TapPodium

    properties = TapPodium.config_jsonschema["properties"]
    secret = {name for name, spec in properties.items() if spec.get("secret")}
    assert {"client_secret", "refresh_token"} <= secret


def catalog_selecting(config, selected_streams):
    """Return the tap's catalog with only the given streams selected."""
    from tap_podium.tap import TapPodium

    catalog = TapPodium(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in (
                    selected_streams
                )
    return catalog


def test_contacts_alone_still_know_the_business_lines(emulator, tap_config, sync):
    full = sync(tap_config)
    alone = sync(tap_config, catalog=catalog_selecting(tap_config, {"contacts"}))
    assert alone.records("locations") == []
    assert [r["phones"] for r in alone.records("contacts")] == [
        r["phones"] for r in full.records("contacts")
    ]
    assert any(
        p["reason"] == "business_line"
        for r in alone.records("contacts")
        for p in r["phones"]
    )
