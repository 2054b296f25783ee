"""Subscriptions as the api sees them: who may see one, who may change it, and the owner's actions on it.

The rule (DESIGN.md "Accounts and privacy"): a subscription belongs to an X account and is private unless its
owner shares it. Someone else's private subscription is indistinguishable from none (the same NotSubscribed,
the same message); someone else's public one may be read, not changed. The api never calls X.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from shared.budget import UsageReader, pause_of, usage_now
from shared.clock import Clock
from shared.enqueue import LeaseStore, send_leased
from shared.errors import BeingDeleted, Forbidden, NotSubscribed
from shared.models import (
    AuthKind,
    Budgets,
    Subscriber,
    SubscriberStatus,
    SyncPause,
    Visibility,
    normalize_username,
)
from shared.sync_queue import SyncQueue, SyncRequest

log = logging.getLogger(__name__)

# A subscriber in one of these is re-armed when its owner subscribes it again ("try again").
RETRYABLE = {
    SubscriberStatus.FORBIDDEN,
    SubscriberStatus.NOT_FOUND,
    SubscriberStatus.REJECTED,
    SubscriberStatus.ERROR,
}


class SubscriptionStore(LeaseStore, Protocol):
    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None: ...

    def find_by_name(self, username: str) -> Subscriber | None: ...

    def create_subscriber(
        self,
        key: str,
        display_username: str,
        now: datetime,
        lease_until: datetime,
        *,
        x_user_id: str | None = None,
        visibility: Visibility = Visibility.PRIVATE,
        auth: AuthKind = AuthKind.OPERATOR,
    ) -> tuple[Subscriber, bool]: ...

    def retry_now(self, sub: Subscriber, lease_until: datetime) -> Subscriber | None: ...

    def mark_deleting(self, key: str) -> bool: ...

    def set_visibility(self, key: str, visibility: Visibility) -> Subscriber | None: ...


class PauseStore(UsageReader, Protocol):
    def pause(self, now: datetime) -> SyncPause | None: ...


def sync_paused(now: datetime, *, store: PauseStore, budgets: Budgets) -> SyncPause | None:
    """Whether syncing is paused for everyone, and until when: today's or this month's read budget is spent,
    or X answered usage-capped. Three GetItems (the day's and the month's counters, X's pause); when two
    pauses hold, the one that lasts longer."""
    return pause_of(now, *usage_now(store, now), budgets, store.pause(now))


def visible(
    raw_username: object, viewer: str | None, *, store: SubscriptionStore, own: Subscriber | None = None
) -> Subscriber:
    """The subscription with this name if `viewer` (an X user id, None when signed out) may see it: its owner
    always, anyone if it is public. Otherwise NotSubscribed, worded exactly as for a name nobody subscribed.
    `own`: the viewer's own subscription as the session check just read it; asking for it reads nothing more."""
    username = normalize_username(raw_username)
    sub = own if own is not None and own.username == username else store.find_by_name(username)
    if sub is None or sub.status is SubscriberStatus.DELETING:
        raise NotSubscribed(f"@{username} is not subscribed")
    if sub.visibility is not Visibility.PUBLIC and not sub.owned_by(viewer):
        raise NotSubscribed(f"@{username} is not subscribed")
    return sub


class ViewStore(Protocol):
    def mark_viewed(self, key: str, now: datetime, *, every: timedelta) -> Subscriber | None: ...


def note_view(sub: Subscriber, *, store: ViewStore, now: datetime, every: timedelta) -> Subscriber:
    """Someone allowed to see the subscription opened its page (its status or a pick): remember it, so the
    schedule keeps syncing it, and make a parked one due now. `sub` is the profile the request just read: a
    view is written only when it is parked or its last view is `every` old, so most picks stay reads.

    Returns the subscription as it now is. A failed write is logged and forgotten: the view is a hint for the
    schedule, never a reason to fail the page (the next view writes it again)."""
    seen = sub.last_viewed_at or sub.created_at  # its creation counts as a view (shared/schedule.py)
    if not sub.parked and now - seen < every:
        return sub
    try:
        updated = store.mark_viewed(sub.key, now, every=every)
    except Exception:  # whatever the table said, the page is answered: only the schedule's hint is lost
        log.warning("could not record a view", extra={"subscriber": sub.key}, exc_info=True)
        return sub
    if updated is not None and sub.parked:
        log.info("parked subscription viewed; due now", extra={"subscriber": sub.key})
    return updated or sub


def owned(raw_username: object, viewer: str | None, *, store: SubscriptionStore) -> Subscriber:
    """The subscription with this name if `viewer` owns it; someone else's public one is Forbidden, someone
    else's private one NotSubscribed (as `visible`)."""
    sub = visible(raw_username, viewer, store=store)
    if not sub.owned_by(viewer):
        raise Forbidden(f"only the owner of @{sub.display_username} may change it")
    return sub


def subscribe_own(
    raw_username: object,
    own: Subscriber,
    *,
    store: SubscriptionStore,
    queue: SyncQueue,
    clock: Clock,
    lease: timedelta,
) -> tuple[Subscriber, bool]:
    """Subscribe the signed-in account itself (connecting made its subscription; this re-arms one that X
    refused). Naming another account is Forbidden. Returns (subscriber, re-armed)."""
    if normalize_username(raw_username) != own.username:
        raise Forbidden("you can subscribe only your own account; connect with X as that account")
    if own.status is SubscriberStatus.DELETING:
        raise BeingDeleted(f"@{own.username} is being unsubscribed; try again in a minute")
    if own.status not in RETRYABLE:
        return own, False
    now = clock.now()
    rearmed = store.retry_now(own, now + lease)
    if rearmed is None:
        return own, False
    if send_leased([SyncRequest(subscriber=own.key, reason="retry")], store=store, queue=queue, now=now):
        # Nothing is lost, only later: the fetcher's next run enqueues it.
        log.warning("sync not enqueued; the schedule will pick it up", extra={"subscriber": own.key})
    else:
        log.info("sync enqueued", extra={"subscriber": own.key, "reason": "retry"})
    return rearmed, True


def set_visibility(
    raw_username: object, viewer: str | None, visibility: Visibility, *, store: SubscriptionStore
) -> Subscriber:
    sub = owned(raw_username, viewer, store=store)
    updated = store.set_visibility(sub.key, visibility)
    if updated is None:
        raise NotSubscribed(f"@{sub.username} is not subscribed")
    log.info("visibility changed", extra={"subscriber": sub.key, "visibility": visibility.value})
    return updated


def unsubscribe(raw_username: object, viewer: str | None, *, store: SubscriptionStore, queue: SyncQueue) -> Subscriber:
    """Disconnect: hide the subscription now (which ends its owner's sessions, see shared/accounts.py) and have
    the worker revoke the token at X and delete the tokens and likes. Only its owner may."""
    sub = owned(raw_username, viewer, store=store)
    if store.mark_deleting(sub.key) and queue.send(
        [SyncRequest(subscriber=sub.key, reason="unsubscribe", action="purge")]
    ):
        log.error("purge not enqueued; run `random-likes sync` later", extra={"subscriber": sub.key})
    return sub
