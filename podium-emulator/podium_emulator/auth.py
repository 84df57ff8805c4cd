"""OAuth2 refresh-token grant and bearer-token checks."""

from __future__ import annotations

import secrets

from podium_emulator import clock
from podium_emulator.errors import ApiError
from podium_emulator.settings import Settings


class OAuthError(Exception):
    """A token request refused in OAuth2's own error format."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


class Tokens:
    """Access tokens issued for the refresh token, with scopes and expiry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._issued: dict[str, tuple[float, tuple[str, ...]]] = {}

    def grant(self, form: dict) -> dict:
        """Answer a refresh-token grant.

        Raises:
            OAuthError: 400 for a bad grant type or refresh token, 401 for bad
                client credentials.
        """
        if form.get("grant_type") != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", "Use refresh_token.")
        if (form.get("client_id"), form.get("client_secret")) != (
            self.settings.client_id,
            self.settings.client_secret,
        ):
            raise OAuthError(401, "invalid_client", "Unknown client id or secret.")
        if form.get("refresh_token") != self.settings.refresh_token:
            raise OAuthError(400, "invalid_grant", "The refresh token is not valid.")
        return self._issue()

    def _issue(self) -> dict:
        token = secrets.token_urlsafe(24)
        lifetime = self.settings.token_lifetime
        self._issued[token] = (clock.now() + lifetime, tuple(self.settings.scopes))
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "refresh_token": self.settings.refresh_token,
            "scope": " ".join(self.settings.scopes),
        }

    def expire_all(self) -> None:
        """Make every access token issued so far answer 401."""
        self._issued.clear()

    def scopes_of(self, authorization: str | None) -> tuple[str, ...]:
        """The scopes of a valid bearer token.

        Raises:
            ApiError: 401 `unauthenticated` for a missing, unknown or expired token.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "unauthenticated", "Send 'Authorization: Bearer <token>'."
            )
        expires_at, scopes = self._issued.get(token, (0.0, ()))
        if expires_at <= clock.now():
            self._issued.pop(token, None)
            raise ApiError(
                401,
                "unauthenticated",
                "The access token is unknown or expired; refresh it.",
            )
        return scopes


def require_scope(scopes: tuple[str, ...], needed: str) -> None:
    """Raise 403 `unauthorized` unless the token holds the scope.

    Raises:
        ApiError: 403 naming the missing scope.
    """
    if needed not in scopes:
        raise ApiError(
            403, "unauthorized", f"The access token lacks the scope {needed}."
        )
