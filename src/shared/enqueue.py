"""Enqueueing syncs: find the subscribers that are due and send them, within the budget (the fetcher's one
job), and send leased requests for every caller.

Whoever enqueues a sync leases the subscriber first (moves its next_sync_at on, conditionally), so an
overlapping fetcher run never enqueues it twice; a request that could not be sent hands its lease back
(due now), so the next fetcher run retries it. `send_leased` is that second half, for every caller.

The fetcher enqueues only what the app's limits allow: nothing while syncing is paused (a budget spent, or X's
usage cap), no operator-token subscription while that token's shared window is empty, and no more syncs than
what is left of the budget pays for, the most stale accounts first. When what is left is less than the due
accounts want, each sync gets an equal share of it (`max_posts`) and stops there: a backfill resumes from its
saved walk on a later sync, once the others have had theirs, so no account starves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shared.budget import LIKES_ENDPOINT, UsageReader, pause_of, usage_now
from shared.clock import Clock
from shared.models import AuthKind, Budgets, RateLimit, Subscriber, SyncPause
from shared.sync_queue import SyncQueue, SyncRequest
from shared.x_api import MIN_PAGE

# Due subscriptions a run reads and leases at most: a million accounts at the month's mix make about 1,600 due
# per 5-minute run (docs/architecture.md, "Scale on paper"); 3,000 leases take about 30 s of the 60 s timeout.
DUE_PER_RUN = 3000
# What one sync of a caught-up account reads, as the fetcher counts it against what is left of the budget: X's
# smallest page (5 posts, the first page of an incremental sync) and change for a like or two more.
EXPECTED_POSTS_PER_SYNC = 6
# What a backfill would read if nothing stopped it: about as deep as X's API lets a likes list be read (DESIGN:
# 3-5k). Only used to tell whether the budget is tight, i.e. whether the due accounts would want more than is left.
BACKFILL_POSTS = 3200

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    def lease(self, key: str, seen_next_sync_at: datetime | None, until: datetime) -> bool: ...


class DueStore(LeaseStore, Protocol):
    def iter_subscribers(
        self, *, due_before: datetime | None = None, limit: int | None = None
    ) -> Iterable[Subscriber]: ...


class Limits(UsageReader, Protocol):
    """What the fetcher reads of the app's state: X's pause, the budget's use, the operator token's window."""

    def pause(self, now: datetime) -> SyncPause | None: ...

    def rate_window(self, name: str) -> RateLimit: ...


@dataclass(frozen=True)
class EnqueueReport:
    due: int
    leased: int
    sent: int
    failed: int
    held_back: int = 0  # due, but what is left of the budget does not pay for their syncs this run
    waiting_for_window: int = 0  # the operator token's subscriptions, while its window is empty
    max_posts: int | None = None  # each sync's fair share when the budget is tight
    pause: SyncPause | None = None  # syncing is paused: nothing was enqueued

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"due": self.due, "leased": self.leased, "sent": self.sent, "failed": self.failed}
        if self.held_back:
            body["held_back"] = self.held_back
        if self.waiting_for_window:
            body["waiting_for_window"] = self.waiting_for_window
        if self.max_posts is not None:
            body["max_posts"] = self.max_posts
        if self.pause is not None:
            body["paused_until"] = self.pause.until.astimezone(UTC).isoformat()
            body["pause_reason"] = self.pause.reason
        return body


def send_leased(
    requests: Sequence[SyncRequest], *, store: LeaseStore, queue: SyncQueue, now: datetime
) -> list[SyncRequest]:
    """Send requests for subscribers the caller has leased; each one not sent is due again `now`.

    Returns the requests that were not sent. An interrupt mid-send (Ctrl-C in the CLI) hands every lease
    back before it goes on, so nothing waits for a lease to expire (a request that did go out meanwhile may be
    enqueued again by the fetcher: harmless, the worker's lock runs one sync at a time).
    """
    try:
        failed = queue.send(requests)
    except BaseException:
        for request in requests:
            store.lease(request.subscriber, None, now)
        raise
    for request in failed:
        store.lease(request.subscriber, None, now)
    return failed


def enqueue_due(
    *,
    store: DueStore,
    queue: SyncQueue,
    clock: Clock,
    lease: timedelta,
    limits: Limits,
    budgets: Budgets,
    limit: int = DUE_PER_RUN,
) -> EnqueueReport:
    """Lease the due subscribers the app's limits allow, most stale first (each lease conditional on nobody
    else having leased it), then enqueue the leased ones."""
    now = clock.now()
    day, month = usage_now(limits, now)
    pause = pause_of(now, day, month, budgets, limits.pause(now))
    if pause is not None:
        report = EnqueueReport(due=0, leased=0, sent=0, failed=0, pause=pause)
        log.info("syncing paused; nothing enqueued", extra=report.to_json())
        return report
    due = most_stale_first(store.iter_subscribers(due_before=now, limit=limit))
    ready = due
    if _empty(limits.rate_window(LIKES_ENDPOINT), now):
        # Their syncs would only find the window empty: they stay due and go once it resets.
        ready = [sub for sub in due if sub.auth is not AuthKind.OPERATOR]
    left = budgets.left(day.posts_read, month.posts_read)
    chosen = ready[: left // EXPECTED_POSTS_PER_SYNC]
    max_posts = fair_share(left, chosen)
    leased = [sub for sub in chosen if store.lease(sub.key, sub.next_sync_at, now + lease)]
    requests = [SyncRequest(subscriber=sub.key, reason="schedule", max_posts=max_posts) for sub in leased]
    failed = send_leased(requests, store=store, queue=queue, now=now)
    report = EnqueueReport(
        due=len(due),
        leased=len(leased),
        sent=len(leased) - len(failed),
        failed=len(failed),
        held_back=len(ready) - len(chosen),
        waiting_for_window=len(due) - len(ready),
        max_posts=max_posts,
    )
    log.info("due subscribers enqueued", extra=report.to_json())
    return report


def most_stale_first(subscribers: Iterable[Subscriber]) -> list[Subscriber]:
    """Never synced first, then the longest since its last sync; ties keep the index's order (soonest due)."""
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(subscribers, key=lambda sub: (sub.last_sync_at is not None, sub.last_sync_at or never))


def fair_share(left: int, chosen: Sequence[Subscriber]) -> int | None:
    """Each sync's cap when the chosen ones would want more than is left of the budget, else None (no cap).

    A caught-up account wants about one small page; a backfill wants as much as X lets it read."""
    if not chosen:
        return None
    wanted = sum(EXPECTED_POSTS_PER_SYNC if sub.caught_up else BACKFILL_POSTS for sub in chosen)
    if left >= wanted:
        return None
    return max(MIN_PAGE, left // len(chosen))


def _empty(window: RateLimit, now: datetime) -> bool:
    return (
        window.remaining is not None and window.remaining <= 0 and window.reset_at is not None and window.reset_at > now
    )
