"""The domain's exceptions: few, each mapped once (to an HTTP status in the api, to retry/defer/stop in the worker)."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"


class InvalidUsername(DomainError):
    code = "invalid_username"


class InvalidRequest(DomainError):
    code = "invalid_request"


class NotSubscribed(DomainError):
    code = "not_subscribed"


class NothingStoredYet(DomainError):
    """Subscribed, but no like is stored yet: the api answers 409 with the subscriber's status."""

    code = "nothing_stored_yet"

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class BeingDeleted(DomainError):
    code = "being_deleted"


class ConcurrentUpdate(DomainError):
    """Someone else wrote the subscriber between our read and our write; reload and try again."""

    code = "concurrent_update"


class MalformedMessage(DomainError):
    """A queue message the worker cannot act on: fails the record, so SQS moves it to the DLQ in the end."""

    code = "malformed_message"


# --- what X said -------------------------------------------------------------------------------------------


class XError(DomainError):
    code = "x_error"


class XRateLimited(XError):
    """A 429 rate-limit-exceeded (or no requests left in the window): defer to X's reset time."""

    code = "x_rate_limited"

    def __init__(self, reset_at: datetime, message: str = "rate limit reached") -> None:
        super().__init__(message)
        self.reset_at = reset_at


class XUsageCapped(XError):
    """A 429 usage-capped, or our own daily read budget spent: stop until the budget resets."""

    code = "x_usage_capped"

    def __init__(self, reset_at: datetime, message: str = "post-read budget spent") -> None:
        super().__init__(message)
        self.reset_at = reset_at


class XForbidden(XError):
    """401/403 on liked_tweets: X will not give these likes with these credentials."""

    code = "x_forbidden"


class XInvalidCursor(XError):
    """X refused a pagination token (too old, or from another query): the walk restarts from the top."""

    code = "x_invalid_cursor"


class XUserNotFound(XError):
    code = "x_user_not_found"


class XUnavailable(XError):
    """5xx, timeout, dropped connection, a body we cannot parse: transient, so the SQS record fails and retries."""

    code = "x_unavailable"
