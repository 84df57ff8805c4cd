"""Whatever a client sends, the emulator answers with an envelope, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)
BODY_KEYS = st.sampled_from(
    ["name", "email", "phoneNumber", "locations", "address", "duplicateUids",
     "channel", "locationUid", "value", "conversationUid", "contactStatus"]
)  # fmt: skip
BODIES = st.dictionaries(BODY_KEYS, JSON, max_size=3) | JSON
WRITE_PATHS = [
    ("PATCH", "/contacts/{uid}"),
    ("POST", "/contacts"),
    ("POST", "/contacts/{uid}/merge"),
    ("POST", "/contacts/campaigns/opt_in"),
    ("POST", "/contacts/transactional/opt_out"),
    ("POST", "/contacts/{uid}/attributes/{uid}"),
]


def _fits_in_a_path(text: str) -> bool:
    """httpx refuses control characters in a URL, and `/` would change the route."""
    return "/" not in text and all(ch.isprintable() for ch in text)


@pytest.fixture(scope="module")
def uid(small_corpus) -> str:
    return small_corpus.contacts[5]["uid"]


@pytest.fixture(scope="module")
def session_api(running_emulator):
    running_emulator.control.reset()
    with running_emulator.client() as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"), WRITE_PATHS, ids=[p for _, p in WRITE_PATHS]
)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
def test_any_json_body_gets_an_enveloped_answer(
    session_api, small_corpus, method, path, body
):
    uid = small_corpus.contacts[5]["uid"]

    response = session_api.request(method, path.format(uid=uid), json=body)

    assert response.status_code < 500
    assert "data" in response.json() or isinstance(response.json()["code"], str)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "cursor", "updated_at", "other"]),
        st.text(max_size=30),
        max_size=3,
    )
)
def test_any_list_query_gets_an_enveloped_answer(session_api, params):
    response = session_api.get("/contacts", params=params)

    assert response.status_code in (200, 400)
    assert "data" in response.json() or isinstance(response.json()["code"], str)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(identifier=st.text(min_size=1, max_size=30).filter(_fits_in_a_path))
def test_any_identifier_reads_as_a_contact_or_a_404(session_api, identifier):
    response = session_api.get(f"/contacts/{identifier}")

    assert response.status_code in (200, 404)
