"""What can stop an operator's command, each with its exit code and a message a person can act on.

The CLI maps these (and botocore's own exceptions, through `from_aws`) to a one-line message on stderr and
an exit code; no traceback. The codes are documented in docs/operations.md and stable for scripts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from shared.errors import snake_case

# Exit codes (docs/operations.md, "Exit codes").
OK = 0
FAILED = 1  # AWS refused the request for another reason, or the command could not finish its work
USAGE = 2  # argparse's own code for a bad command line
STACK_NOT_FOUND = 3
NO_ACCESS = 4  # no credentials, no region, unknown profile, or access denied
UNREACHABLE = 5
UNKNOWN_SUBSCRIBER = 6
INCOMPLETE = 7  # a redrive ended with messages left behind (the report says which)
INTERRUPTED = 130  # Ctrl-C, after cleaning up (128 + SIGINT, as shells report it)

_ACCESS_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "AuthFailure",
}


class OpsError(Exception):
    """What went wrong, in words an operator can act on; `code` (the `error.code` of --json output) is the class
    name in snake case, as the domain's errors do."""

    exit_code = FAILED
    code: ClassVar[str] = "failed"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = snake_case(cls.__name__)


class StackNotFound(OpsError):
    exit_code = STACK_NOT_FOUND


class NoAccess(OpsError):
    exit_code = NO_ACCESS


class Unreachable(OpsError):
    exit_code = UNREACHABLE


class UnknownSubscriber(OpsError):
    exit_code = UNKNOWN_SUBSCRIBER


class InvalidArgument(OpsError):
    exit_code = USAGE


def from_aws(exc: BaseException, endpoint_url: str | None) -> OpsError | None:  # noqa: PLR0911 - one per kind
    """The OpsError a botocore (or pynamodb-wrapped botocore) exception means, or None if it is not one."""
    cause = _root_cause(exc)
    where = endpoint_url or "AWS"
    if isinstance(cause, ProfileNotFound):
        return NoAccess(str(cause), hint="check --profile, or the profiles in ~/.aws/config")
    if isinstance(cause, NoCredentialsError | PartialCredentialsError):
        return NoAccess(
            "no AWS credentials found",
            hint="configure them (aws configure, AWS_PROFILE, --profile), or pass --endpoint-url for make dev's stack",
        )
    if isinstance(cause, NoRegionError):
        return NoAccess("no AWS region configured", hint="pass --region or set AWS_REGION")
    if isinstance(cause, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError | ReadTimeoutError):
        hint = "is `make dev` running?" if endpoint_url else "check your network and --region"
        return Unreachable(f"cannot reach {where}: {cause}", hint=hint)
    if isinstance(cause, ClientError):
        code = error_code(cause)
        message = cause.response.get("Error", {}).get("Message") or str(cause)
        if refused(cause):
            return NoAccess(
                f"{where} refused {cause.operation_name}: {code}: {message}",
                hint="docs/operations.md lists the IAM policy an operator needs",
            )
        return OpsError(f"{where} answered {cause.operation_name} with {code}: {_one_line(message)}")
    if isinstance(cause, BotoCoreError):
        return OpsError(f"AWS client error: {cause}")
    return None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def refused(exc: ClientError) -> bool:
    """AWS said no to this identity (no permission, bad or expired credentials)."""
    code = error_code(exc)
    return code in _ACCESS_CODES or code.startswith("AccessDenied")


def _root_cause(exc: BaseException) -> BaseException:
    """pynamodb wraps botocore's exceptions (QueryError(cause=...)); the cause is what happened."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "cause", None) or current.__cause__
        if not isinstance(inner, BaseException):
            break
        current = inner
    return current


def _one_line(text: str) -> str:
    # moto answers a missing API with an HTML page: keep the message to one readable line.
    return " ".join(text.split())[:200]
