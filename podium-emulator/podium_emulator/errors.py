"""Podium's error envelope and the one exception the routes raise.

Every failure the emulator answers is an `ApiError`; the app turns it into
`{"code", "message", "moreInfo"}` with a string `code`, never a stack trace.
"""

from __future__ import annotations

MORE_INFO = "https://docs.podium.com/docs/errors"

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "unauthorized",
    404: "resource_not_found",
    409: "merge_in_progress",
    422: "invalid_request_values",
    429: "rate_limit",
}


class ApiError(Exception):
    """A failure answered to the client with Podium's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        """The JSON error envelope."""
        return {"code": self.code, "message": self.message, "moreInfo": MORE_INFO}


def code_for_status(status: int) -> str:
    """The error code Podium uses for a bare status (faults, 5xx)."""
    if status >= 500:
        return "internal_server_error"
    return CODE_BY_STATUS.get(status, "bad_request")


def invalid(message: str) -> ApiError:
    """A 400 `invalid_request_values` for a body or query that breaks the schema."""
    return ApiError(400, "invalid_request_values", message)


def not_found(message: str) -> ApiError:
    """A 404 `resource_not_found`."""
    return ApiError(404, "resource_not_found", message)
