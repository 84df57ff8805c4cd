"""Contract tests of the read endpoints: list, get, locations, auth, validation."""

from __future__ import annotations

import jsonschema
import pytest
from podium_emulator import schemas


def assert_valid(body: dict, schema: dict) -> None:
    jsonschema.validate(body, schema)


def list_schema() -> dict:
    return schemas.response_schema("contacts", "/v4/contacts", "GET", 200)


def test_the_contact_list_pages_through_every_live_contact_once(list_all, small_corpus):
    served = list_all()

    assert sorted(c["uid"] for c in served) == sorted(
        c["uid"] for c in small_corpus.contacts
    )


def test_a_list_page_validates_against_the_corrected_openapi_schema(api):
    response = api.get("/contacts", params={"limit": 100})

    assert response.status_code == 200
    assert_valid(_without_number_phones(response.json()), list_schema())


def test_every_served_contact_validates_against_the_contact_schema(list_all):
    schema = list_schema()["properties"]["data"]["items"]

    served = list_all()

    for contact in _without_number_phones({"data": served})["data"]:
        jsonschema.validate(contact, schema)
    assert served


def _without_number_phones(body: dict) -> dict:
    """Drop the JSON-number phones the generator plants as spreadsheet damage."""
    for contact in body["data"]:
        contact["phoneNumbers"] = [
            p for p in contact["phoneNumbers"] if isinstance(p, str)
        ]
    return body


def test_the_default_page_size_is_ten(api):
    assert len(api.get("/contacts").json()["data"]) == 10


def test_a_full_last_page_is_followed_by_an_empty_page(api, small_corpus):
    total = len(small_corpus.contacts)
    first = api.get("/contacts", params={"limit": 100}).json()
    cursor, pages = first["metadata"]["nextCursor"], [first]
    while cursor:
        pages.append(api.get("/contacts", params={"cursor": cursor}).json())
        cursor = pages[-1]["metadata"]["nextCursor"]

    assert total % 100 == 0
    assert pages[-1]["data"] == []
    assert sum(len(page["data"]) for page in pages) == total


def test_updated_at_returns_only_contacts_updated_strictly_after_it(
    list_all, small_corpus
):
    stamps = sorted(c["updatedAt"] for c in small_corpus.contacts)
    middle = stamps[len(stamps) // 2]

    served = list_all(updated_at=middle)

    expected = {c["uid"] for c in small_corpus.contacts if c["updatedAt"] > middle}
    assert {c["uid"] for c in served} == expected


def test_a_cursor_keeps_its_page_size_and_ignores_other_parameters(api):
    first = api.get("/contacts", params={"limit": 7}).json()
    cursor = first["metadata"]["nextCursor"]

    second = api.get("/contacts", params={"cursor": cursor, "limit": 50}).json()

    assert len(second["data"]) == 7
    assert not {c["uid"] for c in first["data"]} & {c["uid"] for c in second["data"]}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "invalid_request_values"),
        ({"limit": "101"}, "invalid_request_values"),
        ({"limit": "ten"}, "invalid_request_values"),
        ({"updated_at": "2024-01-01"}, "invalid_request_values"),
        ({"updated_at": "2024-01-01T00:00:00+00:00"}, "invalid_request_values"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "eyJwIjpbXX0.forged"}, "invalid_cursor"),
        ({"cursor": "é.ü"}, "invalid_cursor"),
    ],
    ids=[
        "limit-zero",
        "limit-101",
        "limit-word",
        "date-only",
        "offset",
        "junk",
        "forged",
        "non-ascii",
    ],
)
def test_bad_list_parameters_answer_400_with_a_string_code(api, params, code):
    response = api.get("/contacts", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert_valid(response.json(), schemas.error_schema())


def test_an_expired_cursor_answers_invalid_cursor(api, emulator):
    cursor = api.get("/contacts", params={"limit": 5}).json()["metadata"]["nextCursor"]
    emulator.control.expire_cursors()

    response = api.get("/contacts", params={"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert "expired" in response.json()["message"]


def test_a_cursor_older_than_the_cursor_lifetime_is_refused(api, emulator):
    emulator.control.settings(cursor_lifetime=-1)
    cursor = api.get("/contacts", params={"limit": 5}).json()["metadata"]["nextCursor"]

    response = api.get("/contacts", params={"cursor": cursor})

    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "identify",
    [
        lambda c: c["uid"],
        lambda c: c["emails"][0].upper(),
        lambda c: c["conversations"][0]["uid"],
        lambda c: c["phoneNumbers"][0],
    ],
    ids=["uid", "email-any-case", "conversation-uid", "raw-phone"],
)
def test_a_contact_reads_by_any_of_its_identifiers(api, small_corpus, identify):
    contact = _unique_contact(small_corpus)

    response = api.get(f"/contacts/{identify(contact)}")

    assert response.status_code == 200
    assert response.json()["data"]["uid"] == contact["uid"]
    schema = schemas.response_schema(
        "contacts", "/v4/contacts/{identifier}", "GET", 200
    )
    assert_valid(response.json(), schema)


def test_a_contact_reads_by_the_e164_form_of_a_phone_typed_otherwise(api, small_corpus):
    contact = _unique_contact(small_corpus)
    truth = next(r for r in small_corpus.truth if r.get("uid") == contact["uid"])

    response = api.get(f"/contacts/{truth['e164'][0]}")

    assert response.status_code == 200
    assert response.json()["data"]["uid"] == contact["uid"]


def _unique_contact(corpus) -> dict:
    """A contact with an email and a phone that no other contact shares."""
    grouped = {
        uid for row in corpus.truth if row["kind"] == "group" for uid in row["uids"]
    }
    return next(
        c
        for c in corpus.contacts
        if c["emails"]
        and c["uid"] not in grouped
        and all(
            isinstance(p, str) and p.startswith(("0", "(", "+"))
            for p in c["phoneNumbers"]
        )
        and len(c["phoneNumbers"]) == 1
    )


def test_an_unknown_contact_answers_404_resource_not_found(api):
    response = api.get("/contacts/no-such-contact")

    assert response.status_code == 404
    assert response.json()["code"] == "resource_not_found"
    assert_valid(response.json(), schemas.error_schema())


def test_locations_list_every_location_with_a_country_and_a_business_line(
    api, small_corpus
):
    response = api.get("/locations")

    assert response.status_code == 200
    locations = response.json()["data"]
    assert len(locations) == len(small_corpus.locations)
    assert {loc["addressDetails"]["country"] for loc in locations} == {"AU", "US"}
    assert all(loc["phoneNumber"].startswith("+") for loc in locations)
    schema = schemas.response_schema("accounts", "/v4/locations", "GET", 200)
    assert_valid(response.json(), schema)


def test_a_location_reads_by_uid_and_an_unknown_one_is_404(api, small_corpus):
    uid = small_corpus.locations[0]["uid"]

    assert api.get(f"/locations/{uid}").json()["data"]["uid"] == uid
    assert api.get("/locations/nope").json()["code"] == "resource_not_found"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthenticated"),
        ({"authorization": "Bearer wrong"}, 401, "unauthenticated"),
        ({"authorization": "Basic abc"}, 401, "unauthenticated"),
    ],
    ids=["no-token", "unknown-token", "wrong-scheme"],
)
def test_requests_without_a_valid_token_answer_401(anonymous, headers, status, code):
    response = anonymous.get("/contacts", headers=headers)

    assert response.status_code == status
    assert response.json()["code"] == code


def test_an_expired_token_answers_401_and_a_refresh_fixes_it(emulator):
    with emulator.client() as api:
        emulator.control.expire_tokens()
        assert api.get("/contacts").status_code == 401
    with emulator.client() as api:
        assert api.get("/contacts").status_code == 200


def test_a_token_past_its_lifetime_answers_401(emulator):
    emulator.control.settings(token_lifetime=-1)
    with emulator.client() as api:
        response = api.get("/contacts")

    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_token_without_the_read_scope_answers_403(emulator):
    emulator.control.settings(scopes=["write_contacts"])
    with emulator.client() as api:
        response = api.get("/contacts")

    assert response.status_code == 403
    assert response.json()["code"] == "unauthorized"
    assert "read_contacts" in response.json()["message"]


@pytest.mark.parametrize(
    ("version", "status"),
    [("2021.04.01", 200), ("2020.01.01", 400), ("latest", 400)],
    ids=["published", "old", "word"],
)
def test_the_podium_version_header_accepts_only_the_published_value(
    api, version, status
):
    response = api.get("/contacts", headers={"podium-version": version})

    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "invalid_header_version"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing"), ("PUT", "/contacts"), ("GET", "/contacts/a/b/c")],
    ids=["unknown-path", "wrong-method", "too-deep"],
)
def test_unknown_routes_answer_404_route_not_found(api, method, path):
    response = api.request(method, path)

    assert response.status_code == 404
    assert response.json()["code"] == "route_not_found"


def test_every_response_carries_a_request_id_that_the_log_records(api, emulator):
    response = api.get("/contacts", params={"limit": 3})

    request_id = response.headers["x-request-id"]
    logged = [r for r in emulator.control.requests() if r["id"] == request_id]
    assert logged[0]["status"] == 200
    assert logged[0]["query"] == "limit=3"
    assert logged[0]["method"] == "GET"


@pytest.mark.parametrize("path", ["/v4/contact_tags", "/v4/contact_attributes"])
def test_the_tag_and_attribute_catalogues_validate_against_the_schema(api, path):
    response = api.get(path.removeprefix("/v4"))

    assert response.status_code == 200
    assert response.json()["data"]
    assert_valid(response.json(), schemas.response_schema("contacts", path, "GET", 200))


def test_locations_page_by_limit_and_cursor(api, small_corpus):
    first = api.get("/locations", params={"limit": 4}).json()
    second = api.get("/locations", params={"cursor": first["metadata"]["nextCursor"]})

    served = first["data"] + second.json()["data"]
    assert len(first["data"]) == 4
    assert "nextCursor" not in second.json()["metadata"]
    assert sorted(loc["uid"] for loc in served) == sorted(
        loc["uid"] for loc in small_corpus.locations
    )


def test_a_bad_location_limit_is_refused(api):
    response = api.get("/locations", params={"limit": "101"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_values"
