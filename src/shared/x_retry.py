"""X's passing failures retried within the invocation, before they cost the message a trip through SQS.

A 502, 503 or 504 or a connection that failed (`XTransient`) is asked again after a short backoff with
jitter, or after X's Retry-After when it sends one, and never past the time the invocation has left. When the
retries run out, the error goes up as before: the SQS record fails and comes back later, with a delay of its
own (shared/sync_queue.py's `redelivery_delay`). Brief blips are this module's; outages are SQS's, which waits
for free where a Lambda would be billed.

Each attempt is a new call through the X port, so the client signs it afresh: an OAuth 1.0a nonce works once,
and a replay of the same signed request would be refused.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shared.errors import XTransient
from shared.models import LikesPage, XUser
from shared.x_api import XApi

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the call and three retries; with 4 in 10 requests failing, 1 call in 40 still fails
    first_wait: float = 0.2  # seconds before the first retry; doubles for each one after it ...
    max_wait: float = 2.0  # ... up to this: at most 0.2 + 0.4 + 0.8 = 1.4 s of waiting per call
    max_retry_after: float = 10.0  # X asking for longer than this: SQS waits instead (free; a Lambda is billed)
    reserve: float = 15.0  # seconds the invocation keeps after a wait: the attempt's timeout (10 s) and its page

    def backoff(self, retry: int, jitter: float) -> float:
        """The wait before retry `retry` (1, 2, ...) when X gives no Retry-After: exponential and capped, with
        "equal jitter" (half fixed, half random, `jitter` in [0, 1)) so syncs that failed together spread out."""
        ceiling = min(self.max_wait, self.first_wait * 2.0 ** (retry - 1))
        return ceiling / 2 + ceiling / 2 * jitter

    def wait_before(self, retry: int, error: XTransient, seconds_left: float, jitter: float) -> float | None:
        """How long to wait before retry `retry`, or None to give up and let SQS retry the message."""
        budget = seconds_left - self.reserve
        if retry >= self.attempts or budget <= 0:
            return None
        if error.retry_after is not None:
            # Asking sooner than X said is pointless; asking later than we can is impossible.
            return error.retry_after if error.retry_after <= min(self.max_retry_after, budget) else None
        return min(self.backoff(retry, jitter), budget)


@dataclass
class _Outage:
    given_up: bool = False  # a call has failed through all its retries in this invocation


class RetryingX:
    """The X port, retrying another implementation's transient failures. Made per invocation: it knows how
    much time the invocation has left, which the X client (cached across invocations) does not. Once a call
    has failed through all its retries, X looks down: every later call in the invocation is tried once, so an
    outage costs a batch one call's waits, and SQS backs the rest off for free."""

    def __init__(
        self,
        x: XApi,
        policy: RetryPolicy,
        *,
        seconds_left: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        _outage: _Outage | None = None,
    ) -> None:
        self._x = x
        self._policy = policy
        self._seconds_left = seconds_left
        self._sleep = sleep
        self._jitter = jitter
        self._outage = _outage or _Outage()

    def with_client(self, x: XApi) -> RetryingX:
        """The same retries around another client (a connected account's own), sharing what this invocation
        learnt: an outage found through one account's client spares the others their retries too."""
        return RetryingX(
            x,
            self._policy,
            seconds_left=self._seconds_left,
            sleep=self._sleep,
            jitter=self._jitter,
            _outage=self._outage,
        )

    def user_by_username(self, username: str) -> XUser:
        return self._retry("user", lambda: self._x.user_by_username(username))

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        return self._retry(
            "likes", lambda: self._x.liked_posts(user_id, max_results=max_results, pagination_token=pagination_token)
        )

    def own_like_count(self) -> int:
        return self._retry("like_count", self._x.own_like_count)

    def _retry(self, call: str, attempt: Callable[[], T]) -> T:
        failures = 0
        while True:
            try:
                return attempt()
            except XTransient as exc:
                failures += 1
                wait = None
                if not self._outage.given_up:
                    wait = self._policy.wait_before(failures, exc, self._seconds_left(), self._jitter())
                if wait is None:
                    self._outage.given_up = True
                    log.warning(
                        "X is still failing; no more retries in this invocation, SQS retries the message",
                        extra={"call": call, "attempts": failures, "reason": str(exc)},
                    )
                    raise
                log.info(
                    "X failed; asking again",
                    extra={"call": call, "attempt": failures, "wait_seconds": round(wait, 3), "reason": str(exc)},
                )
                self._sleep(wait)
