"""Rate limiting, injected faults, random 5xx, latency and the OAuth endpoint."""

from __future__ import annotations

import time

import httpx
import pytest
from podium_emulator.app import masked_path
from podium_emulator.testing import run_emulator


def test_every_v4_response_carries_the_rate_limit_headers(api):
    response = api.get("/contacts", params={"limit": 1})

    assert response.headers["ratelimit-limit"] == "100000"
    assert int(response.headers["ratelimit-remaining"]) < 100000
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 60


def test_the_control_surface_and_the_token_url_spend_no_budget(emulator):
    emulator.control.settings(rate_limit=2)
    with emulator.client() as api:
        emulator.control.snapshot()
        first = api.get("/contacts", params={"limit": 1})

    assert first.headers["ratelimit-remaining"] == "1"


def test_over_the_budget_answers_429_with_retry_after(emulator):
    emulator.control.settings(rate_limit=3, rate_window=30)
    with emulator.client() as api:
        statuses = [api.get("/contacts", params={"limit": 1}) for _ in range(4)]

    refused = statuses[-1]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert refused.json()["code"] == "rate_limit"
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert refused.headers["ratelimit-remaining"] == "0"


def test_the_budget_comes_back_when_the_window_ends(emulator):
    emulator.control.settings(rate_limit=1, rate_window=0.3)
    with emulator.client() as api:
        first = api.get("/contacts", params={"limit": 1}).status_code
        second = api.get("/contacts", params={"limit": 1}).status_code
        time.sleep(0.35)
        third = api.get("/contacts", params={"limit": 1}).status_code

    assert (first, second, third) == (200, 429, 200)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "internal_server_error"),
        (503, "internal_server_error"),
        (429, "rate_limit"),
        (409, "merge_in_progress"),
    ],
    ids=["500", "503", "429", "409"],
)
def test_a_fault_fails_exactly_the_next_n_matching_calls(api, emulator, status, code):
    emulator.control.fault("GET", "/v4/contacts", status=status, count=2)

    answers = [api.get("/contacts", params={"limit": 1}) for _ in range(3)]

    assert [r.status_code for r in answers] == [status, status, 200]
    assert answers[0].json()["code"] == code


def test_a_fault_path_may_hold_wildcards_and_a_retry_after(api, emulator, small_corpus):
    emulator.control.fault("POST", "/v4/contacts/*/merge", status=429, retry_after=2)
    uid = small_corpus.contacts[0]["uid"]

    response = api.post(f"/contacts/{uid}/merge", json={"duplicateUids": ["x"]})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


def test_a_random_5xx_rate_of_one_fails_every_call(api, emulator):
    emulator.control.settings(random_5xx_rate=1.0)

    response = api.get("/contacts")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_server_error"


def test_latency_delays_every_api_response(api, emulator):
    emulator.control.settings(latency_ms=150)

    started = time.perf_counter()
    api.get("/contacts", params={"limit": 1})

    assert time.perf_counter() - started >= 0.15


def test_a_write_body_is_kept_in_the_request_log(api, emulator, small_corpus):
    uid = small_corpus.contacts[0]["uid"]

    api.patch(f"/contacts/{uid}", json={"name": "Logged"})

    logged = [r for r in emulator.control.requests() if r["method"] == "PATCH"]
    assert logged[-1]["body"] == {"name": "Logged"}
    assert logged[-1]["status"] == 202


def test_unknown_settings_are_refused_by_the_control_surface(emulator):
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        emulator.control.settings(no_such_setting=1)


# -- OAuth ---------------------------------------------------------------------


def grant(emulator, **changes) -> httpx.Response:
    body = {**emulator.credentials, "grant_type": "refresh_token", **changes}
    return httpx.post(emulator.oauth_url, json=body)


def test_the_refresh_grant_returns_a_bearer_token_with_scopes(emulator):
    response = grant(emulator)

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"
    assert "read_contacts" in response.json()["scope"].split()
    assert response.json()["expires_in"] == 36000


def test_the_request_log_never_keeps_the_client_secret(emulator):
    grant(emulator)

    logged = [r for r in emulator.control.requests() if r["path"] == "/oauth/token"]
    assert logged[-1]["body"]["client_secret"] == "***"
    assert logged[-1]["body"]["refresh_token"] == "***"
    assert logged[-1]["body"]["client_id"] == "demo-client"


def test_the_refresh_grant_accepts_a_form_body(emulator):
    body = {**emulator.credentials, "grant_type": "refresh_token"}

    response = httpx.post(emulator.oauth_url, data=body)

    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"refresh_token": "wrong"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
    ids=["bad-secret", "bad-refresh-token", "bad-grant-type"],
)
def test_bad_token_requests_are_refused(emulator, changes, status, error):
    response = grant(emulator, **changes)

    assert response.status_code == status
    assert response.json()["error"] == error


def test_the_server_takes_its_credentials_from_the_command_line():
    with run_emulator(client_id="c", client_secret="s", refresh_token="r") as emulator:
        response = grant(emulator)

    assert emulator.credentials == {
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    }
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/v4/contacts/+61491570156", "/v4/contacts/***156"),
        ("/v4/contacts/jane@example.com/tags/t1", "/v4/contacts/***com/tags/t1"),
        ("/v4/contacts/0491 570 156", "/v4/contacts/***156"),
        ("/v4/contacts/6f1c2e9a-0b7d-4c1e-9a55-1f0e2d3c4b5a", None),
    ],
    ids=["e164", "email", "raw-phone", "uid-kept"],
)
def test_logged_paths_never_show_a_phone_or_an_email(path, shown):
    assert masked_path(path) == (shown or path)
