"""OAuth2 refresh-token authentication for the Podium API.

Podium issues no API keys: the tap trades its refresh token for an access
token at the OAuth token URL (a JSON body, not a form), and trades again when
the token nears its end of life or the API answers 401.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import FatalAPIError

# Refresh this long before the token's stated end of life.
EXPIRY_MARGIN_SECONDS = 60
TOKEN_REQUEST_TRIES = 3
TOKEN_RETRY_WAIT_SECONDS = 1.0
TOKEN_TIMEOUT_SECONDS = 60

logger = logging.getLogger(__name__)


class TokenRefreshError(FatalAPIError):
    """The OAuth token URL refused the refresh token or did not answer."""


class PodiumAuthenticator(APIAuthenticatorBase):
    """Adds a bearer token to every request, refreshing it when needed."""

    def __init__(
        self,
        *,
        oauth_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        user_agent: str,
    ) -> None:
        """Create an authenticator; no request is made until the first use."""
        super().__init__()
        self.oauth_url = oauth_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._user_agent = user_agent
        self._access_token: str | None = None
        self._expires_at: float | None = None
        self._lock = threading.Lock()
        self._session = requests.Session()
        self.refresh_count = 0

    def authenticate_request(
        self, request: requests.PreparedRequest
    ) -> requests.PreparedRequest:
        """Set the Authorization header, refreshing an absent or old token."""
        with self._lock:
            if not self._is_fresh():
                self._refresh()
            token = self._access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def refresh(self) -> None:
        """Get a new access token now, e.g. after the API answered 401."""
        with self._lock:
            self._refresh()

    def _is_fresh(self) -> bool:
        if self._access_token is None:
            return False
        return self._expires_at is None or time.monotonic() < self._expires_at

    def _refresh(self) -> None:
        answer = self._request_token()
        self._access_token = answer["access_token"]
        # Some servers rotate the refresh token; keep the newest one.
        self._refresh_token = answer.get("refresh_token") or self._refresh_token
        self._expires_at = _expiry(answer.get("expires_in"))
        self.refresh_count += 1
        logger.info("Got a new access token (refresh %d)", self.refresh_count)

    def _request_token(self) -> dict[str, Any]:
        response = None
        for attempt in range(1, TOKEN_REQUEST_TRIES + 1):
            response = self._post_refresh()
            if response is not None and response.status_code < 500:
                break
            logger.warning(
                "OAuth token URL failed (try %d of %d); retrying",
                attempt,
                TOKEN_REQUEST_TRIES,
            )
            time.sleep(TOKEN_RETRY_WAIT_SECONDS * attempt)
        return self._read_token(response)

    def _post_refresh(self) -> requests.Response | None:
        body = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
        }
        headers = {"User-Agent": self._user_agent}
        try:
            return self._session.post(
                self.oauth_url,
                json=body,
                headers=headers,
                timeout=TOKEN_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            logger.warning("OAuth token URL unreachable: %s", type(error).__name__)
            return None

    def _read_token(self, response: requests.Response | None) -> dict[str, Any]:
        if response is None or response.status_code >= 500:
            msg = f"The OAuth token URL {self.oauth_url} did not answer; try later"
            raise TokenRefreshError(msg)
        answer = _json_or_empty(response)
        if response.status_code != 200 or not answer.get("access_token"):
            msg = (
                f"The OAuth token URL {self.oauth_url} refused the refresh token "
                f"(status {response.status_code}, code {_error_code(answer)!r}); "
                "check the settings client_id, client_secret and refresh_token"
            )
            raise TokenRefreshError(msg)
        return answer


def _error_code(answer: dict[str, Any]) -> Any:
    # Podium's API says `code`; OAuth token endpoints say `error` (RFC 6749).
    return answer.get("code") or answer.get("error")


def _expiry(expires_in: Any) -> float | None:
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return None
    return time.monotonic() + max(seconds - EXPIRY_MARGIN_SECONDS, 0.0)


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
