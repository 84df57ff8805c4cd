"""The Podium REST stream base: URL, auth, paging, errors, retries, throttle.

Errors, by what the stream does about them:

- ``RateLimited`` (429): wait for ``Retry-After``, else the ``ratelimit-reset``
  header, then retry.
- ``ServerError`` (5xx) and connection failures: exponential backoff with
  jitter, at most ``max_tries`` tries; then ``RetriesExhausted`` stops the
  sync, with the bookmark of the last STATE kept.
- 401: refresh the access token once and send the request again.
- ``CursorExpired`` (400 ``invalid_cursor``): the stream restarts its pages
  from the bookmark (see ``ContactsStream``).
- ``PodiumAPIError``: any other 4xx; fatal, with the API's error code.
"""

from __future__ import annotations

import decimal
import email.utils
import random
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_podium.auth import PodiumAuthenticator
    from tap_podium.throttle import Throttle

HTTP_UNAUTHORIZED = 401
HTTP_BAD_REQUEST = 400
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500

RETRIABLE_ERRORS = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

RequestFunc = Callable[[requests.PreparedRequest, Any], requests.Response]


class PodiumAPIError(FatalAPIError):
    """The API refused a request for a reason a retry cannot fix."""


class RetriesExhausted(FatalAPIError):
    """A transient failure outlasted every retry."""


class CursorExpired(PodiumAPIError):
    """The API no longer accepts the page cursor (``invalid_cursor``)."""


class ServerError(RetriableAPIError):
    """The API failed with a 5xx status."""


class RateLimited(RetriableAPIError):
    """The API answered 429; ``wait_seconds`` says how long it asked for."""

    def __init__(self, message: str, response: requests.Response) -> None:
        """Read the wait the API asked for from the response headers."""
        super().__init__(message, response)
        self.wait_seconds = requested_wait(response)


def requested_wait(response: requests.Response) -> float | None:
    """Return the seconds a 429 asks to wait, from its headers, if it says."""
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        return _seconds_from_retry_after(retry_after)
    reset = response.headers.get("ratelimit-reset")
    return _non_negative_float(reset)


def _seconds_from_retry_after(value: str) -> float | None:
    seconds = _non_negative_float(value)
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _non_negative_float(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def error_code(response: requests.Response) -> str | None:
    """Return the ``code`` of Podium's error envelope, if the body has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return str(code) if code is not None else None


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Follows ``metadata.nextCursor`` until it is absent."""

    def __init__(self) -> None:
        """Start on the first page, which has no cursor."""
        super().__init__(None)

    def get_next(self, response: requests.Response) -> str | None:
        """Return the cursor of the next page, or None on the last page."""
        metadata = response.json().get("metadata") or {}
        cursor = metadata.get("nextCursor") if isinstance(metadata, dict) else None
        return cursor or None


class PodiumStream(RESTStream[str | None]):
    """A stream of one Podium list endpoint, with the tap's shared session."""

    # Records are Podium's JSON plus fields the enrichment builds to the schema,
    # so the SDK's per-field conformance pass (a quarter of the tap's CPU) adds
    # nothing, and skipping it keeps Podium's unknown fields as the contract asks.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    # Retry policy; tests shorten the waits.
    max_tries = 8
    backoff_base_seconds = 1.0
    backoff_max_seconds = 60.0

    @property
    def url_base(self) -> str:
        """Return the API's base URL from the ``api_url`` setting."""
        return str(self.config["api_url"]).rstrip("/")

    @property
    def authenticator(self) -> PodiumAuthenticator:
        """Return the tap's authenticator, shared by every stream."""
        return self._tap.authenticator  # type: ignore[attr-defined]

    @property
    def throttle(self) -> Throttle:
        """Return the tap's request budget, shared by every stream."""
        return self._tap.throttle  # type: ignore[attr-defined]

    @property
    def http_headers(self) -> dict[str, str]:
        """Return the headers every request carries."""
        headers = {"Accept": "application/json"}
        if version := self.config.get("podium_version"):
            headers["podium-version"] = str(version)
        return headers

    @property
    def page_size(self) -> int:
        """Return the ``limit`` sent on a first page."""
        return int(self.config.get("page_size", 100))

    def get_new_paginator(self) -> CursorPaginator:
        """Return a paginator that follows ``metadata.nextCursor``."""
        return CursorPaginator()

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, Any]:
        """Send the cursor alone on follow-up pages; the API ignores the rest."""
        if next_page_token:
            return {"cursor": next_page_token}
        return {"limit": self.page_size, **self.first_page_params(context)}

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Return the filters of the first page; none by default."""
        return {}

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Yield the objects of the ``data`` list, skipping anything else."""
        # Decimals keep numbers exactly as sent, e.g. a phone stored as 4.41E+11.
        data = response.json(parse_float=decimal.Decimal).get("data")
        items = [item for item in _list(data) if isinstance(item, dict)]
        # The path only: the query holds the cursor, which is no one's business.
        self.logger.info(
            "GET %s %d: %d records in %.0f ms",
            self.path,
            response.status_code,
            len(items),
            response.elapsed.total_seconds() * 1000,
        )
        yield from items

    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Wrap a request in the retry policy of this module's docstring."""

        def with_retries(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            attempt = 1
            while True:
                try:
                    return func(prepared_request, context)
                except RETRIABLE_ERRORS as error:
                    self._give_up_after(attempt, error)
                    self._wait_before_retry(attempt, error)
                    attempt += 1

        return with_retries

    def _give_up_after(self, attempt: int, error: Exception) -> None:
        if attempt < self.max_tries:
            return
        msg = (
            f"GET {self.path} still failing after {attempt} tries "
            f"({_describe(error)}); the sync stops here and the last STATE "
            "keeps its bookmark: run it again later"
        )
        raise RetriesExhausted(msg) from error

    def _wait_before_retry(self, attempt: int, error: Exception) -> None:
        wait = self.retry_wait(attempt, error)
        self.logger.warning(
            "GET %s failed (%s); retry %d of %d in %.2f s",
            self.path,
            _describe(error),
            attempt,
            self.max_tries - 1,
            wait,
        )
        time.sleep(wait)

    def retry_wait(self, attempt: int, error: Exception) -> float:
        """Return the seconds to wait before the next try.

        A 429 waits what the API asked for; anything else waits an
        exponentially growing, jittered time.
        """
        if isinstance(error, RateLimited) and error.wait_seconds is not None:
            return min(error.wait_seconds, self.backoff_max_seconds)
        ceiling = self.backoff_base_seconds * 2 ** (attempt - 1)
        return min(ceiling, self.backoff_max_seconds) * random.uniform(0.5, 1.0)

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """Send one request; on 401 refresh the token once and send it again."""
        response = self._send(prepared_request, context)
        if response.status_code == HTTP_UNAUTHORIZED:
            self.logger.warning("GET %s answered 401; refreshing the token", self.path)
            self.authenticator.refresh()
            response = self._send(prepared_request, context)
        self.validate_response(response)
        return response

    def _send(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        self.throttle.wait()
        authenticated = self.authenticator(prepared_request)
        response = self.requests_session.send(authenticated, timeout=self.timeout)
        self._write_request_duration_log(
            endpoint=self.path, response=response, context=context, extra_tags=None
        )
        return response

    def validate_response(self, response: requests.Response) -> None:
        """Raise the exception of this module's docstring that fits the status."""
        status = response.status_code
        if status < HTTP_BAD_REQUEST:
            return
        message = self.response_error_message(response)
        if status == HTTP_TOO_MANY_REQUESTS:
            raise RateLimited(message, response)
        if status >= HTTP_SERVER_ERROR:
            raise ServerError(message, response)
        if error_code(response) == "invalid_cursor":
            raise CursorExpired(message)
        raise PodiumAPIError(f"{message}; check the tap's settings and scopes")

    def response_error_message(self, response: requests.Response) -> str:
        """Describe a failed response by status and error code, never by body.

        The body may echo an identifier, which can be a phone or an email.
        """
        code = error_code(response) or "no error code"
        return f"GET {self.path} answered {response.status_code} ({code})"


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _describe(error: Exception) -> str:
    if isinstance(error, RetriableAPIError) and error.response is not None:
        return f"status {error.response.status_code}"
    return type(error).__name__
