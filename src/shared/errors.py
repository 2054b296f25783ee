"""The domain's exceptions: few, each mapped once (to an HTTP status in the api, to retry/defer/stop in the worker)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar


def snake_case(name: str) -> str:
    """`XUserNotFound` -> `x_user_not_found`: how an error class names itself to clients, logs and the DLQ view."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class DomainError(Exception):
    """Base of every error the domain raises on purpose. Its `code` (the `error.code` of an API answer) is the
    class name in snake case, unless the class sets one of its own: one name to keep, not two."""

    code: ClassVar[str] = "error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = snake_case(cls.__name__)


class InvalidUsername(DomainError):
    pass


class InvalidRequest(DomainError):
    pass


class NotSubscribed(DomainError):
    pass


class NothingStoredYet(DomainError):
    """Subscribed, but no like is stored yet: the api answers 409 with the subscriber's status."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class BeingDeleted(DomainError):
    pass


class NotSignedIn(DomainError):
    """A write (or /api/me) without a valid session: the api answers 401 and points to Connect with X."""


class Forbidden(DomainError):
    """Signed in, but the subscription is someone else's (public) one, or another account was named: 403."""


class CrossSite(DomainError):
    """A state-changing request sent from another site (its Origin, or Sec-Fetch-Site: cross-site): 403."""

    code = "cross_site"


class UnsupportedMediaType(DomainError):
    """A write whose body is not application/json: 415."""


class ConcurrentUpdate(DomainError):
    """Someone else wrote the subscriber between our read and our write; reload and try again."""


class MalformedMessage(DomainError):
    """A queue message the worker cannot act on: fails the record, so SQS moves it to the DLQ in the end."""


# --- what X said -------------------------------------------------------------------------------------------


class XError(DomainError):
    pass


class XDeferred(XError):
    """X (or our own budget) says not now: wait until `reset_at`, or, when X does not say, as the sync decides."""

    def __init__(self, reset_at: datetime | None, message: str) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class XRateLimited(XDeferred):
    """A 429 rate-limit-exceeded (or no requests left in the window): defer to X's reset time."""


class XUsageCapped(XDeferred):
    """A 429 usage-capped, or our own daily read budget spent: stop until the budget resets."""


class XForbidden(XError):
    """401/403 on liked_tweets: X will not give these likes with these credentials."""


class XInvalidCursor(XError):
    """X refused a pagination token (too old, or from another query): the walk restarts from the top."""


class XUserNotFound(XError):
    pass


class XUnavailable(XError):
    """5xx, timeout, dropped connection, a body we cannot parse: transient, so the SQS record fails and retries."""


class XTransient(XUnavailable):
    """A 502, 503 or 504, or a connection that failed, dropped or timed out: worth asking again within the
    invocation (shared/x_retry.py) before SQS retries the message. `retry_after`: X's Retry-After, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class XRejected(XError):
    """A 400: X says the request itself is wrong (a parameter it does not accept). Asking again cannot help, so
    the subscriber shows it and the message is done; the text is X's own, which names the parameter."""


class XGrantInvalid(XError):
    """X's token endpoint refused the account's grant (invalid_grant, a used or revoked refresh token), or X
    refused its access token: only the owner can fix it, by connecting again (status `reconnect_needed`)."""


class XOAuthFailed(XError):
    """X's token endpoint refused our client or request (401 unauthorized_client, a 4xx other than a bad
    grant): the app's OAuth 2.0 client is misconfigured. The message is X's error code, never a token."""
