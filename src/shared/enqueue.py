"""The fetcher's one job: find the subscribers that are due and enqueue one sync message each."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.clock import Clock
from shared.models import SyncRequest
from shared.store import DueSubscriber
from shared.sync_queue import SyncQueue

log = logging.getLogger(__name__)


class DueStore(Protocol):
    def due_subscribers(self, now: datetime, limit: int) -> list[DueSubscriber]: ...

    def lease(self, username: str, seen_next_sync_at: int | None, until: datetime) -> bool: ...


@dataclass(frozen=True)
class EnqueueReport:
    due: int
    leased: int
    sent: int
    failed: int

    def to_json(self) -> dict[str, int]:
        return {"due": self.due, "leased": self.leased, "sent": self.sent, "failed": self.failed}


def enqueue_due(
    *, store: DueStore, queue: SyncQueue, clock: Clock, lease: timedelta, limit: int = 1000
) -> EnqueueReport:
    """Lease each due subscriber (conditional on nobody else having leased it), then enqueue the leased ones.

    Leasing first means an overlapping run, or a slow one, never enqueues the same subscriber twice; a send
    that fails hands the subscriber back (due now), so the next run retries it.
    """
    now = clock.now()
    due = store.due_subscribers(now, limit)
    leased = [d for d in due if store.lease(d.username, d.next_sync_at, now + lease)]
    failed = queue.send([SyncRequest(username=d.username, reason="schedule") for d in leased])
    for request in failed:
        store.lease(request.username, None, now)
    report = EnqueueReport(due=len(due), leased=len(leased), sent=len(leased) - len(failed), failed=len(failed))
    log.info("due subscribers enqueued", extra=report.to_json())
    return report
