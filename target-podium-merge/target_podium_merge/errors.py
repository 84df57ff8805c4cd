"""Errors of target-podium-merge, grouped by what the caller should do.

Exception tree::

    PodiumError                   any failed call to Podium
    ├── FatalError                stop the run: credentials, scopes, settings
    ├── RetriableError            retried with backoff inside the client
    │   ├── RateLimited           429: wait for Retry-After or the window reset
    │   ├── MergeInProgress       409 merge_in_progress: another merge holds a member
    │   ├── ServerError           5xx or a broken connection
    │   └── RetriesExhausted      the bounded retries ran out; retry next run
    └── ClusterError              this cluster cannot go on; the run goes on
        ├── InvalidDuplicate      400 invalid_duplicate_uid: re-read, then decide
        ├── ResourceNotFound      404 resource_not_found: the contact is gone
        ├── CrossLocationBlocked  422 cross_location_merge_blocked: to review
        └── RejectedRequest       any other 4xx: the call itself is wrong
"""

from __future__ import annotations


class PodiumError(Exception):
    """A call to Podium failed.

    Attributes:
        status: HTTP status, or None when no response came back.
        code: Podium's error code from the error envelope, when present.
        request_id: the response's x-request-id header, when present.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class FatalError(PodiumError):
    """The run cannot go on: fix the credentials or settings, then rerun."""


class RetriableError(PodiumError):
    """A transient failure: the same call may succeed after a wait."""


class RateLimited(RetriableError):
    """429: over the request budget."""

    retry_after: float | None = None


class MergeInProgress(RetriableError):
    """409 merge_in_progress: another merge holds one of these contacts."""


class ServerError(RetriableError):
    """5xx or a broken connection: transient on Podium's side."""


class RetriesExhausted(RetriableError):
    """The bounded retries ran out; the cluster is retried on the next run."""


class ClusterError(PodiumError):
    """This cluster cannot go on now; other clusters are not affected."""


class InvalidDuplicate(ClusterError):
    """400 invalid_duplicate_uid: a duplicate is gone or already merged."""


class ResourceNotFound(ClusterError):
    """404 resource_not_found: the contact is gone."""


class CrossLocationBlocked(ClusterError):
    """422 cross_location_merge_blocked: tenant policy forbids the merge."""


class RejectedRequest(ClusterError):
    """Any other 4xx: Podium rejected the call as written."""
