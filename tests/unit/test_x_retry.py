"""Retrying X within an invocation: which failures are asked again, after how long, and when it stops.

X here is a script of answers; sleeping is recorded, never done, so the waits themselves are what is checked.
"""

from __future__ import annotations

from contextlib import suppress

import pytest

from shared.errors import XError, XForbidden, XRejected, XTransient, XUnavailable
from shared.models import LikesPage, RateLimit, XUser
from shared.x_retry import RetryingX, RetryPolicy

POLICY = RetryPolicy(attempts=4, first_wait=0.2, max_wait=2.0, max_retry_after=10.0, reserve=15.0)
PAGE = LikesPage(posts=(), next_token=None, rate=RateLimit(None, None, None))


class ScriptedX:
    """Answers each call with the next item of `script`: an exception to raise, or success."""

    def __init__(self, *script: XError | None) -> None:
        self.script = list(script)
        self.calls = 0

    def _next(self) -> None:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome

    def user_by_username(self, username: str) -> XUser:
        self._next()
        return XUser(id="1", username=username, name=username)

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        self._next()
        return PAGE

    def own_like_count(self) -> int:
        self._next()
        return 317


def retrying(
    x: ScriptedX, *, seconds_left: float = 100.0, jitter: float = 0.0, policy: RetryPolicy = POLICY
) -> tuple[RetryingX, list[float]]:
    waits: list[float] = []
    return RetryingX(x, policy, seconds_left=lambda: seconds_left, sleep=waits.append, jitter=lambda: jitter), waits


def likes(x: RetryingX) -> LikesPage:
    return x.liked_posts("1", max_results=5, pagination_token=None)


@pytest.mark.parametrize(
    "failure", [XTransient("X answered 503"), XTransient("X did not answer: ConnectionError")], ids=str
)
def test_a_transient_failure_is_asked_again_and_the_answer_returned(failure: XTransient) -> None:
    # Given X failing once, then answering
    x = ScriptedX(failure, None)
    client, waits = retrying(x)

    # When a page is asked for, Then it comes, after one wait
    assert likes(client) is PAGE
    assert x.calls == 2
    assert waits == [0.1]


def test_the_like_count_probe_is_retried_as_a_page_is() -> None:
    # Given X failing the probe twice with a passing blip, then answering
    x = ScriptedX(XTransient("X answered 503"), XTransient("X answered 502"), None)
    client, waits = retrying(x)

    # When the like_count is asked for, Then it comes after two growing waits
    assert client.own_like_count() == 317
    assert x.calls == 3
    assert waits == [0.1, 0.2]


@pytest.mark.parametrize(
    "failure",
    [XUnavailable("X answered 500"), XRejected("X answered 400"), XForbidden("no")],
    ids=lambda e: type(e).__name__,
)
def test_other_failures_are_not_asked_again(failure: XError) -> None:
    # Given X failing in a way that is not a passing blip (a 500, a 400, a refusal)
    x = ScriptedX(failure, None)
    client, waits = retrying(x)

    # When a page is asked for, Then the failure goes up at once
    with pytest.raises(type(failure)):
        likes(client)
    assert (x.calls, waits) == (1, [])


@pytest.mark.parametrize(("jitter", "expected"), [(0.0, [0.1, 0.2, 0.4]), (0.5, [0.15, 0.3, 0.6])])
def test_the_backoff_doubles_with_half_of_it_jittered_and_gives_up_after_the_last_attempt(
    jitter: float, expected: list[float]
) -> None:
    # Given X failing on every attempt
    x = ScriptedX(*[XTransient("X answered 503")] * 10)
    client, waits = retrying(x, jitter=jitter)

    # When a page is asked for
    with pytest.raises(XTransient):
        likes(client)

    # Then four attempts were made, three waits between them, each in [ceiling/2, ceiling)
    assert x.calls == 4
    assert waits == pytest.approx(expected)


def test_the_backoff_never_exceeds_its_cap() -> None:
    policy = RetryPolicy(attempts=10, first_wait=0.2, max_wait=1.0)
    assert [policy.backoff(n, 0.999) for n in range(1, 8)] == pytest.approx(
        [0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0], abs=0.001
    )


def test_retry_after_is_honoured_instead_of_the_backoff() -> None:
    # Given a 503 asking to wait 3 s
    x = ScriptedX(XTransient("X answered 503", retry_after=3.0), None)
    client, waits = retrying(x)

    # Then the client waits exactly that long, then succeeds
    assert likes(client) is PAGE
    assert waits == [3.0]


def test_a_retry_after_longer_than_an_invocation_should_wait_is_left_to_sqs() -> None:
    # Given a 503 asking for a minute (billed Lambda time; SQS can wait for free)
    x = ScriptedX(XTransient("X answered 503", retry_after=60.0), None)
    client, waits = retrying(x)

    with pytest.raises(XTransient):
        likes(client)
    assert (x.calls, waits) == (1, [])


@pytest.mark.parametrize(
    ("seconds_left", "failure", "expected_waits", "expected_calls"),
    [
        (15.05, XTransient("X answered 503"), [pytest.approx(0.05)], 2),  # the backoff, cut to what is left
        (17.0, XTransient("X answered 503", retry_after=3.0), [], 1),  # Retry-After does not fit: give up
        (15.0, XTransient("X answered 503"), [], 1),  # nothing left beyond the reserve
    ],
    ids=["backoff-capped", "retry-after-too-long", "no-time"],
)
def test_no_wait_runs_into_the_time_the_invocation_keeps_for_the_attempt(
    seconds_left: float, failure: XTransient, expected_waits: list[object], expected_calls: int
) -> None:
    # Given an invocation with little time left beyond the 15 s reserve
    x = ScriptedX(failure, None)
    client, waits = retrying(x, seconds_left=seconds_left)

    # When a page is asked for
    with suppress(XTransient):
        likes(client)

    # Then no wait reaches into the reserve, and none is made when it would
    assert waits == expected_waits
    assert x.calls == expected_calls


def test_once_x_fails_a_call_through_every_retry_the_invocation_stops_retrying() -> None:
    # Given X down: the first call fails through all its retries
    x = ScriptedX(*[XTransient("X answered 503")] * 5)
    client, waits = retrying(x)
    with pytest.raises(XTransient):
        client.user_by_username("demo")
    assert len(waits) == 3

    # When another record of the same invocation asks X
    with pytest.raises(XTransient):
        likes(client)

    # Then it was tried once, with no wait: SQS backs it off instead
    assert x.calls == 5
    assert len(waits) == 3

    # And when X is back, the next call goes through
    assert likes(client) is PAGE


def test_each_attempt_is_a_new_call_through_the_port() -> None:
    # Each call is what signs the request (a fresh OAuth 1.0a nonce): a retry must repeat the call itself.
    calls: list[str] = []

    class Recording(ScriptedX):
        def user_by_username(self, username: str) -> XUser:
            calls.append(username)
            return super().user_by_username(username)

    client, _ = retrying(Recording(XTransient("X answered 502"), XTransient("X answered 504"), None))

    assert client.user_by_username("demo").username == "demo"
    assert calls == ["demo", "demo", "demo"]
