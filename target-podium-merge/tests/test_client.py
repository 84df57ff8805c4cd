"""The client: error classification, retries, token refresh, the shared throttle."""

from __future__ import annotations

import pytest
from merge_fakes import FakePodium, contact, make_applier
from target_podium_merge import errors
from target_podium_merge.throttle import HEADROOM, Throttle


@pytest.fixture
def client(tmp_path):
    podium = FakePodium([contact("p1")])
    applier = make_applier(podium, tmp_path)
    applier.client.podium = podium
    return applier.client


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        pytest.param(400, "invalid_duplicate_uid", errors.InvalidDuplicate, id="400"),
        pytest.param(404, "resource_not_found", errors.ResourceNotFound, id="404"),
        pytest.param(
            422, "cross_location_merge_blocked", errors.CrossLocationBlocked, id="422"
        ),
        pytest.param(403, "unauthorized", errors.FatalError, id="403"),
        pytest.param(
            400, "invalid_request_values", errors.RejectedRequest, id="400-other"
        ),
    ],
)
def test_each_status_raises_the_error_that_says_what_to_do(client, status, code, error):
    client.podium.fault("POST", r"/merge$", status, code)

    with pytest.raises(error, match=str(status)):
        client.request("POST", "/contacts/p1/merge", json={"duplicateUids": ["x"]})


def test_a_429_is_retried_after_the_retry_after_pause(client):
    client.podium.fault(
        "GET", r"/contacts/p1$", 429, "rate_limit", headers={"retry-after": "0.01"}
    )

    assert client.get_contact("p1")["uid"] == "p1"
    assert [r[2] for r in client.podium.requests if r[1].endswith("p1")] == [429, 200]


def test_server_errors_are_retried_a_bounded_number_of_times(client):
    client.podium.fault("GET", r"/contacts/p1$", 500, "internal_server_error", count=5)

    with pytest.raises(errors.RetriesExhausted, match="next run"):
        client.get_contact("p1")
    assert len([r for r in client.podium.requests if r[1].endswith("p1")]) == 3


def test_an_expired_token_is_refreshed_once(client):
    client.podium.fault("GET", r"/contacts/p1$", 401, "unauthenticated")

    assert client.get_contact("p1")["uid"] == "p1"
    assert len([r for r in client.podium.requests if "/oauth/" in r[1]]) == 2


def test_a_gone_contact_reads_as_none(client):
    assert client.get_contact("nobody") is None


def test_the_throttle_spaces_requests_to_the_budget():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    throttle = Throttle(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        throttle.acquire()

    # Four gaps of half a second, stretched by the headroom below the budget.
    assert now[0] == pytest.approx(4 * 0.5 / HEADROOM)


def test_spent_ratelimit_headers_pause_every_request():
    now = [0.0]
    throttle = Throttle(
        60_000, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    throttle.observe({"ratelimit-remaining": "0", "ratelimit-reset": "3"})

    assert throttle.acquire() == pytest.approx(3.0)


def test_a_zero_budget_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="requests_per_minute"):
        Throttle(0)
