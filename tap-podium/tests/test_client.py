"""Retry waits, error mapping and odd pages, without a server where possible."""

from __future__ import annotations

import json

import pytest
import requests

from tap_podium.client import (
    CursorExpired,
    CursorPaginator,
    PodiumAPIError,
    RateLimited,
    ServerError,
    requested_wait,
)
from tap_podium.streams import ContactsStream
from tap_podium.tap import TapPodium

SETTINGS = {
    "client_id": "id",
    "client_secret": "secret",
    "refresh_token": "refresh",
    "api_url": "http://127.0.0.1:9/v4",
    "oauth_url": "http://127.0.0.1:9/oauth/token",
    "default_region": "AU",
}


def response(status=200, body=None, headers=None, url="http://127.0.0.1:9/v4/contacts"):
    """Build a requests.Response as the API would send it."""
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body if body is not None else {}).encode()
    answer.headers.update(headers or {})
    answer.url = url
    return answer


@pytest.fixture
def stream():
    """A contacts stream of a tap that never reaches the network."""
    return TapPodium(config=SETTINGS, parse_env_config=False).streams["contacts"]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param({"Retry-After": "7"}, 7.0, id="retry-after-seconds"),
        pytest.param({"Retry-After": "7", "ratelimit-reset": "30"}, 7.0, id="both"),
        pytest.param({"ratelimit-reset": "12"}, 12.0, id="reset-only"),
        pytest.param({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0, id="past"),
        pytest.param({"Retry-After": "soon"}, None, id="unreadable"),
        pytest.param({}, None, id="no-headers"),
    ],
)
def test_a_429_asks_for_the_wait_its_headers_say(headers, wait):
    assert requested_wait(response(429, headers=headers)) == wait


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        pytest.param(429, {"code": "rate_limit"}, RateLimited, id="429"),
        pytest.param(500, {"code": "internal_server_error"}, ServerError, id="500"),
        pytest.param(503, None, ServerError, id="503-no-body"),
        pytest.param(400, {"code": "invalid_cursor"}, CursorExpired, id="cursor"),
        pytest.param(403, {"code": "unauthorized"}, PodiumAPIError, id="403"),
        pytest.param(404, {"code": "route_not_found"}, PodiumAPIError, id="404"),
    ],
)
def test_each_status_raises_the_error_that_says_what_to_do(stream, status, body, error):
    with pytest.raises(error, match=rf"GET /contacts answered {status}"):
        stream.validate_response(response(status, body))


def test_an_error_message_never_repeats_the_body(stream):
    body = {"code": "bad_request", "message": "no contact +61412345678 a@b.test"}
    with pytest.raises(PodiumAPIError) as raised:
        stream.validate_response(response(400, body))
    assert "+61412345678" not in str(raised.value)
    assert "a@b.test" not in str(raised.value)


def test_a_429_waits_what_it_asked_for_capped_at_the_maximum(stream):
    error = RateLimited("429", response(429, headers={"Retry-After": "9999"}))
    assert stream.retry_wait(1, error) == stream.backoff_max_seconds


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5])
def test_backoff_grows_exponentially_with_jitter_below_the_ceiling(stream, attempt):
    error = ServerError("500", response(500))
    ceiling = min(stream.backoff_base_seconds * 2 ** (attempt - 1), 2.0)
    waits = {stream.retry_wait(attempt, error) for _ in range(20)}
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert len(waits) > 1


@pytest.mark.parametrize(
    ("body", "cursor"),
    [
        pytest.param({"data": [], "metadata": {"nextCursor": "abc"}}, "abc", id="next"),
        pytest.param({"data": [], "metadata": {"nextCursor": None}}, None, id="null"),
        pytest.param({"data": [], "metadata": {}}, None, id="absent"),
        pytest.param({"data": []}, None, id="no-metadata"),
        pytest.param({"data": [], "metadata": {"nextCursor": ""}}, None, id="empty"),
    ],
)
def test_paging_follows_next_cursor_until_it_is_absent(body, cursor):
    assert CursorPaginator().get_next(response(body=body)) == cursor


@pytest.mark.parametrize(
    ("body", "count"),
    [
        pytest.param({"data": [{"uid": "a"}, {"uid": "b"}]}, 2, id="list"),
        pytest.param({"data": {"uid": "a"}}, 0, id="one-object-as-the-openapi-says"),
        pytest.param({"data": [{"uid": "a"}, "junk", None]}, 1, id="junk-items"),
        pytest.param({"data": None, "surprise": 1}, 0, id="null-data"),
    ],
)
def test_a_page_yields_only_the_objects_of_its_data_list(stream, body, count):
    assert len(list(stream.parse_response(response(body=body)))) == count


def test_follow_up_pages_send_the_cursor_alone(stream):
    assert stream.get_url_params(None, "abc") == {"cursor": "abc"}


def test_a_first_page_without_bookmark_or_start_date_sends_only_the_limit(stream):
    assert stream.get_url_params(None, None) == {"limit": 100}


def test_the_podium_version_header_is_sent_when_set():
    tap = TapPodium(
        config={**SETTINGS, "podium_version": "2021.04.01"}, parse_env_config=False
    )
    assert tap.streams["contacts"].http_headers["podium-version"] == "2021.04.01"


def test_contacts_are_declared_unsorted(stream):
    assert isinstance(stream, ContactsStream)
    assert stream.is_sorted is False


@pytest.fixture
def served_contacts(monkeypatch):
    """Serve the given contacts, and no locations, without any network."""
    from tap_podium.streams import LocationsStream

    def serve(contacts):
        monkeypatch.setattr(
            ContactsStream, "request_records", lambda self, context: iter(contacts)
        )
        monkeypatch.setattr(
            LocationsStream, "request_records", lambda self, context: iter([])
        )

    return serve


def test_a_contact_without_a_readable_updated_at_leaves_the_bookmark_alone(
    served_contacts, sync
):
    served_contacts(
        [
            {"uid": "a", "updatedAt": "2026-01-01T00:00:00Z"},
            {"uid": "b"},
            {"uid": "c", "updatedAt": None},
            {"uid": "d", "updatedAt": "zzz-not-a-time"},
        ]
    )
    result = sync(SETTINGS)
    assert [r["uid"] for r in result.records("contacts")] == ["a", "b", "c", "d"]
    bookmark = result.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert bookmark == "2026-01-01T00:00:00Z"


def test_contacts_arriving_out_of_order_still_bookmark_the_latest(
    served_contacts, sync
):
    served_contacts(
        [
            {"uid": "a", "updatedAt": "2026-01-02T00:00:00Z"},
            {"uid": "b", "updatedAt": "2026-03-01T00:00:00Z"},
            {"uid": "c", "updatedAt": "2026-01-01T00:00:00Z"},
        ]
    )
    final = sync(SETTINGS).final_state["bookmarks"]["contacts"]
    assert final["replication_key_value"] == "2026-03-01T00:00:00Z"
    assert "progress_markers" not in final
