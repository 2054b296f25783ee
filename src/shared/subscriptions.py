"""Subscribing, looking up and unsubscribing: what the api does besides picks (it never calls X)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from shared.clock import Clock
from shared.enqueue import LeaseStore, send_leased
from shared.errors import BeingDeleted, ConcurrentUpdate, NotSubscribed
from shared.models import Subscriber, SubscriberStatus, normalize_username
from shared.sync_queue import SyncQueue, SyncRequest

log = logging.getLogger(__name__)

# A subscriber in one of these is re-armed when someone subscribes it again ("try again").
RETRYABLE = {
    SubscriberStatus.FORBIDDEN,
    SubscriberStatus.NOT_FOUND,
    SubscriberStatus.REJECTED,
    SubscriberStatus.ERROR,
}


class SubscriptionStore(LeaseStore, Protocol):
    def get_subscriber(self, username: str, *, consistent: bool = False) -> Subscriber | None: ...

    def create_subscriber(
        self, username: str, display_username: str, now: datetime, lease_until: datetime
    ) -> tuple[Subscriber, bool]: ...

    def retry_now(self, sub: Subscriber, lease_until: datetime) -> Subscriber | None: ...

    def mark_deleting(self, username: str) -> bool: ...


def subscribe(
    raw_username: object, *, store: SubscriptionStore, queue: SyncQueue, clock: Clock, lease: timedelta
) -> tuple[Subscriber, bool]:
    """Subscribe a username and enqueue its first sync at once. Returns (subscriber, created)."""
    display = raw_username.strip().removeprefix("@") if isinstance(raw_username, str) else ""
    username = normalize_username(raw_username)
    now = clock.now()
    try:
        sub, created = store.create_subscriber(username, display, now, now + lease)
    except ConcurrentUpdate:
        raise BeingDeleted(f"@{username} is being unsubscribed; try again in a minute") from None
    if sub.status is SubscriberStatus.DELETING:
        raise BeingDeleted(f"@{username} is being unsubscribed; try again in a minute")
    if not created and sub.status not in RETRYABLE:
        return sub, False
    if not created:
        rearmed = store.retry_now(sub, now + lease)
        if rearmed is None:
            return sub, False
        sub = rearmed
    reason = "subscribe" if created else "retry"
    if send_leased([SyncRequest(username=username, reason=reason)], store=store, queue=queue, now=now):
        # Nothing is lost, only later: the fetcher's next run enqueues it.
        log.warning("first sync not enqueued; the schedule will pick it up", extra={"username": username})
    else:
        log.info("sync enqueued", extra={"username": username, "reason": reason})
    return sub, created


def subscription(raw_username: object, *, store: SubscriptionStore) -> Subscriber:
    username = normalize_username(raw_username)
    sub = store.get_subscriber(username)
    if sub is None or sub.status is SubscriberStatus.DELETING:
        raise NotSubscribed(f"@{username} is not subscribed")
    return sub


def unsubscribe(raw_username: object, *, store: SubscriptionStore, queue: SyncQueue) -> bool:
    """Hide the subscriber now and have the worker delete its likes. Idempotent; True if it existed."""
    username = normalize_username(raw_username)
    if not store.mark_deleting(username):
        return False
    if queue.send([SyncRequest(username=username, reason="unsubscribe", action="purge")]):
        log.error("purge not enqueued; run `random-likes sync` later", extra={"username": username})
    return True
