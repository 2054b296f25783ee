"""Enqueueing syncs: find the subscribers that are due (the fetcher's one job), and send leased requests.

Whoever enqueues a sync leases the subscriber first (moves its next_sync_at on, conditionally), so an
overlapping fetcher run never enqueues it twice; a request that could not be sent hands its lease back
(due now), so the next fetcher run retries it. `send_leased` is that second half, for every caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.clock import Clock
from shared.models import Subscriber
from shared.sync_queue import SyncQueue, SyncRequest

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    def lease(self, key: str, seen_next_sync_at: datetime | None, until: datetime) -> bool: ...


class DueStore(LeaseStore, Protocol):
    def iter_subscribers(
        self, *, due_before: datetime | None = None, limit: int | None = None
    ) -> Iterable[Subscriber]: ...


@dataclass(frozen=True)
class EnqueueReport:
    due: int
    leased: int
    sent: int
    failed: int

    def to_json(self) -> dict[str, int]:
        return {"due": self.due, "leased": self.leased, "sent": self.sent, "failed": self.failed}


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
    *, store: DueStore, queue: SyncQueue, clock: Clock, lease: timedelta, limit: int = 1000
) -> EnqueueReport:
    """Lease each due subscriber (conditional on nobody else having leased it), then enqueue the leased ones."""
    now = clock.now()
    due = list(store.iter_subscribers(due_before=now, limit=limit))
    leased = [sub for sub in due if store.lease(sub.key, sub.next_sync_at, now + lease)]
    requests = [SyncRequest(subscriber=sub.key, reason="schedule") for sub in leased]
    failed = send_leased(requests, store=store, queue=queue, now=now)
    report = EnqueueReport(due=len(due), leased=len(leased), sent=len(leased) - len(failed), failed=len(failed))
    log.info("due subscribers enqueued", extra=report.to_json())
    return report
