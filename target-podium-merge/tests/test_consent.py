"""Which channels of a survivor receive the cluster's opt-outs."""

from __future__ import annotations

from target_podium_merge import consent


def phone(identifier: str, opted_out: str | None = None) -> dict:
    return {
        "type": "PHONE",
        "identifier": identifier,
        "transactionalOptedOutAt": opted_out,
        "marketingOptedInLocationUids": ["loc-1"],
    }


def plan(**fill: object) -> dict:
    return {
        "natural_key": "+61412345678",
        "consent_target": {"sms_opt_out": True, "email_opt_out": False},
        "fill": fill,
        "members": [],
    }


def opted_out_identifiers(survivor: dict, cluster: dict) -> set[str]:
    target = consent.effective_target(cluster, {})
    return {
        call.body["channel"]["identifier"]
        for key, call in consent.opt_out_calls(survivor, target)
        if key.startswith("transactional_opt_out")
    }


def test_a_damaged_phone_string_shared_by_strangers_is_never_opted_out():
    # From the demo: `6.15E+10` sat on many unrelated contacts, and opting it
    # out for one cluster opted all of them out.
    survivor = {"channels": [phone("0412 345 678"), phone("6.15E+10")]}

    assert opted_out_identifiers(survivor, plan()) == {"0412 345 678"}


def test_a_number_the_fill_adds_is_opted_out_with_the_key():
    survivor = {"channels": [phone("+61412345678"), phone("+61491570156")]}

    identifiers = opted_out_identifiers(survivor, plan(phones=["+61491570156"]))

    assert identifiers == {"+61412345678", "+61491570156"}


def test_a_phone_that_is_not_the_clusters_number_is_left_alone():
    survivor = {"channels": [phone("+61412345678"), phone("(02) 9876 5432")]}

    assert opted_out_identifiers(survivor, plan()) == {"+61412345678"}
