"""Subscribers' profiles: created, found (by key or by name), leased, locked for a sync, finished, re-armed,
renamed and marked for deletion.

Every write is one conditional UpdateItem (or a conditional Put), so concurrent fetchers, workers and api
calls never overwrite each other: the loser learns it (None or False) and decides what that means. A profile
is found by its key (`SUB#<key>`, the owner's X user id) or by its current name through the lookup item
`NAME#<lowercased username>`, which a rename moves (the old name then answers as unknown).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.errors import ConcurrentUpdate
from shared.models import AuthKind, RateLimit, Subscriber, SubscriberStatus, SyncEnd, Visibility
from shared.store import windows
from shared.store.items import (
    DUE_PK,
    NAME_SK,
    PROFILE_SK,
    NameItem,
    ProfileItem,
    Table,
    condition_failed,
    epoch,
    from_epoch,
    name_pk,
    subscriber_pk,
    to_subscriber,
)

# Written by every sync and lease; a subscriber being deleted is never brought back by one.
_LIVE = ProfileItem.pk.exists() & (ProfileItem.status != SubscriberStatus.DELETING.value)


# How long a warm container trusts a name's key without reading its lookup item again. Safe to keep: the profile
# read with it must still carry the name (a rename is seen at once); the window only bounds how long a name
# that X gave to another account meanwhile still shows the account that had it (whose privacy still holds).
NAME_CACHE_SECONDS = 60.0
NAME_CACHE_SIZE = 4096


class SubscriberStore:
    def __init__(self, table: Table, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._items = table.profile
        self._names = table.names
        self._monotonic = monotonic
        self._name_keys: dict[str, tuple[str, float]] = {}  # name -> (key, when it was read)

    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None:
        try:
            item = self._items.get(subscriber_pk(key), PROFILE_SK, consistent_read=consistent)
        except self._items.DoesNotExist:
            return None
        return to_subscriber(item)

    def key_for_name(self, username: str) -> str | None:
        """The key the lookup item maps a (lowercased) name to, if any."""
        try:
            return str(self._names.get(name_pk(username), NAME_SK).key)
        except self._names.DoesNotExist:
            return None

    def find_by_name(self, username: str) -> Subscriber | None:
        """The subscription that has this (lowercased) name now, or None.

        Its profile must still carry the name: a lookup item left behind by a rename, or a dangling one, finds
        nothing. A subscription stored before accounts has no lookup item; its key is the name itself.
        """
        cached = self._name_keys.get(username)
        if cached is not None and self._monotonic() - cached[1] < NAME_CACHE_SECONDS:
            sub = self.get_subscriber(cached[0])
            if sub is not None and sub.username == username:
                return sub  # a pick's reads: this profile, then its slot
            del self._name_keys[username]  # renamed, deleted or moved: ask the lookup item
        key = self.key_for_name(username) or username
        sub = self.get_subscriber(key)
        if sub is None or sub.username != username:
            return None
        if len(self._name_keys) >= NAME_CACHE_SIZE:
            self._name_keys.clear()
        self._name_keys[username] = (key, self._monotonic())
        return sub

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
    ) -> tuple[Subscriber, bool]:
        """Create a pending subscriber under `key`, leased (its first sync is enqueued at once), and point its
        name's lookup item at it, in one transaction. Returns (it, created); an existing one is left as it is."""
        item = self._items(
            pk=subscriber_pk(key),
            sk=PROFILE_SK,
            username=display_username,
            status=SubscriberStatus.PENDING.value,
            created_at=now,
            like_count=0,
            x_user_id=x_user_id,
            due_pk=DUE_PK,
            next_sync_at=epoch(lease_until),
            version=1,
            visibility=visibility.value,
            auth=auth.value,
        )
        try:
            with TransactWrite(connection=self._table.connection) as tx:
                tx.save(item, condition=ProfileItem.pk.does_not_exist())
                tx.save(self._names(pk=name_pk(display_username.lower()), sk=NAME_SK, key=key))
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            existing = self.get_subscriber(key, consistent=True)
            if existing is None:  # deleted between the two calls: let the caller try again
                raise ConcurrentUpdate(f"subscriber {key} changed while subscribing") from exc
            return existing, False
        return to_subscriber(item), True

    def rename(self, sub: Subscriber, display_username: str) -> Subscriber:
        """Record the name X now gives the account: the new name's lookup item points to the key, the profile
        carries the new name, and the old name's item goes (only if it still points here: someone else may have
        taken the old name meanwhile). The same name in another case only updates how it is spelled."""
        new = display_username.lower()
        if display_username == sub.display_username:
            return sub
        with TransactWrite(connection=self._table.connection) as tx:
            tx.save(self._names(pk=name_pk(new), sk=NAME_SK, key=sub.key))
            tx.update(
                self._items(pk=subscriber_pk(sub.key), sk=PROFILE_SK),
                actions=[ProfileItem.username.set(display_username), ProfileItem.version.add(1)],
                condition=ProfileItem.pk.exists(),
            )
        if new != sub.username:
            self._forget_name(sub.username, sub.key)
        renamed = self.get_subscriber(sub.key, consistent=True)
        if renamed is None:
            raise ConcurrentUpdate(f"subscriber {sub.key} disappeared")
        return renamed

    def connect(self, sub: Subscriber, x_user_id: str, lease_until: datetime | None) -> Subscriber | None:
        """Its owner connected (again): read with the owner's own token from now on. With `lease_until`, a
        subscriber X refused (or whose token was refused) is pending again and leased, once per change."""
        actions: list[Action] = [
            ProfileItem.x_user_id.set(x_user_id),
            ProfileItem.auth.set(AuthKind.OAUTH2.value),
            ProfileItem.version.add(1),
        ]
        if lease_until is not None:
            actions += [
                ProfileItem.status.set(SubscriberStatus.PENDING.value),
                ProfileItem.next_sync_at.set(epoch(lease_until)),
                ProfileItem.last_error.remove(),
                ProfileItem.retry_at.remove(),
            ]
        return self._update_if(sub.key, actions, _LIVE & (ProfileItem.version == sub.version))

    def set_visibility(self, key: str, visibility: Visibility) -> Subscriber | None:
        """Share a subscription (public) or hide it again (private); None if it is gone or being deleted."""
        actions = [ProfileItem.visibility.set(visibility.value), ProfileItem.version.add(1)]
        return self._update_if(key, actions, _LIVE)

    def iter_subscribers(self, *, due_before: datetime | None = None, limit: int | None = None) -> Iterator[Subscriber]:
        """Live subscribers from the sparse index, soonest due first (never a Scan)."""
        condition = None
        if due_before is not None:
            condition = ProfileItem.next_sync_at <= epoch(due_before)
        for item in self._items.due_index.query(DUE_PK, range_key_condition=condition, limit=limit):
            yield to_subscriber(item)

    def lease(self, key: str, seen_next_sync_at: datetime | None, until: datetime) -> bool:
        """Move next_sync_at to `until` if nobody moved it since we looked: one enqueue per due subscriber.

        A pending retry is forgotten: the message that failed is gone (the DLQ took it), a new one is sent."""
        condition = _LIVE
        if seen_next_sync_at is not None:
            condition &= ProfileItem.next_sync_at == epoch(seen_next_sync_at)
        actions = [
            ProfileItem.next_sync_at.set(epoch(until)),
            ProfileItem.retry_at.remove(),
            ProfileItem.version.add(1),
        ]
        return self._update_if(key, actions, condition) is not None

    def acquire(self, key: str, now: datetime, hold_for: timedelta) -> Subscriber | None:
        """Take the subscriber's sync lock; None if another sync holds it or the subscriber is gone.

        A pending retry is under way from here on, so it is no longer announced."""
        free = ProfileItem.lock_until.does_not_exist() | (ProfileItem.lock_until < epoch(now))
        actions = [
            ProfileItem.lock_until.set(epoch(now + hold_for)),
            ProfileItem.retry_at.remove(),
            ProfileItem.version.add(1),
        ]
        return self._update_if(key, actions, _LIVE & free)

    def set_x_user(self, sub: Subscriber, x_user_id: str, display_username: str) -> Subscriber:
        actions = [
            ProfileItem.x_user_id.set(x_user_id),
            ProfileItem.username.set(display_username),
            ProfileItem.version.add(1),
        ]
        updated = self._update_if(sub.key, actions, ProfileItem.pk.exists())
        if updated is None:
            raise ConcurrentUpdate(f"subscriber {sub.key} disappeared")
        return updated

    def finish_sync(self, key: str, end: SyncEnd) -> Subscriber | None:
        """Record how a sync ended, schedule the next one and release the lock (None: unsubscribed meanwhile)."""
        actions: list[Action] = [
            ProfileItem.status.set(end.status.value),
            ProfileItem.last_sync_at.set(end.at),
            ProfileItem.sync_count.add(1),
            ProfileItem.lock_until.remove(),
            ProfileItem.version.add(1),
            ProfileItem.last_error.set(end.last_error) if end.last_error else ProfileItem.last_error.remove(),
            ProfileItem.retry_at.set(epoch(end.retry_at)) if end.retry_at else ProfileItem.retry_at.remove(),
        ]
        a = end.activity
        if a is not None and a.parked:
            # Nobody opens its page: out of the due index until someone does (mark_viewed brings it back).
            actions += [ProfileItem.parked.set(True), ProfileItem.next_sync_at.remove()]
        else:
            actions += [ProfileItem.next_sync_at.set(epoch(end.next_sync_at)), ProfileItem.parked.remove()]
        if a is not None:
            actions += [
                ProfileItem.like_rate.set(round(a.like_rate, 4)),
                ProfileItem.x_like_count.set(a.x_like_count)
                if a.x_like_count is not None
                else ProfileItem.x_like_count.remove(),
            ]
            if a.last_new_like_at is not None:
                actions.append(ProfileItem.last_new_like_at.set(epoch(a.last_new_like_at)))
        return self._update_if(key, actions, _LIVE)

    def mark_viewed(self, key: str, now: datetime, *, every: timedelta) -> Subscriber | None:
        """Someone opened the subscription's page: remember when (at most once per `every`, so a pick stays a
        read), and a parked subscription is due now. None when nothing was written."""
        seen = ProfileItem.last_viewed_at.does_not_exist() | (ProfileItem.last_viewed_at < epoch(now - every))
        actions: list[Action] = [ProfileItem.last_viewed_at.set(epoch(now))]
        unparked = self._update_if(
            key,
            [
                *actions,
                ProfileItem.parked.remove(),
                ProfileItem.next_sync_at.set(epoch(now)),
                ProfileItem.version.add(1),
            ],
            _LIVE & (ProfileItem.parked == True),  # noqa: E712 - a pynamodb condition, not a comparison
        )
        if unparked is not None:
            return unparked
        return self._update_if(key, actions, _LIVE & seen)

    def retry_now(self, sub: Subscriber, lease_until: datetime) -> Subscriber | None:
        """Re-arm a subscriber that X refused or that failed, once per change (concurrent asks enqueue once)."""
        actions = [
            ProfileItem.status.set(SubscriberStatus.PENDING.value),
            ProfileItem.next_sync_at.set(epoch(lease_until)),
            ProfileItem.last_error.remove(),
            ProfileItem.retry_at.remove(),
            ProfileItem.version.add(1),
        ]
        return self._update_if(sub.key, actions, ProfileItem.version == sub.version)

    def mark_deleting(self, key: str) -> bool:
        """Hide the subscriber at once (reads 404, out of the index, its name answers as unknown; its owner's
        sessions end with it, see shared/accounts.py); the worker purges its likes."""
        actions = [
            ProfileItem.status.set(SubscriberStatus.DELETING.value),
            ProfileItem.due_pk.remove(),
            ProfileItem.next_sync_at.remove(),
            ProfileItem.version.add(1),
        ]
        marked = self._update_if(key, actions, ProfileItem.pk.exists())
        if marked is None:
            return False
        self._forget_name(marked.username, key)
        return True

    def _forget_name(self, username: str, key: str) -> None:
        """Delete a name's lookup item if it still points to `key`."""
        try:
            self._names(pk=name_pk(username), sk=NAME_SK).delete(condition=NameItem.key == key)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise

    def _update_if(self, key: str, actions: Sequence[Action], condition: Condition) -> Subscriber | None:
        """A conditional UpdateItem on a profile: the subscriber as it now is, or None if the condition failed."""
        item = self._items(pk=subscriber_pk(key), sk=PROFILE_SK)
        try:
            item.update(actions=list(actions), condition=condition)
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return to_subscriber(item)

    # --- a connected account's own rate-limit window (shared/budget.py) ----------------------------------

    def rate_window(self, key: str) -> RateLimit:
        """The subscription's window as its last request left it (all None: no request yet, or gone)."""
        try:
            item = self._items.get(
                subscriber_pk(key),
                PROFILE_SK,
                consistent_read=True,
                attributes_to_get=["rate_remaining", "rate_reset_at"],
            )
        except self._items.DoesNotExist:
            return RateLimit(None, None, None)
        remaining = None if item.rate_remaining is None else int(item.rate_remaining)
        return RateLimit(limit=None, remaining=remaining, reset_at=from_epoch(item.rate_reset_at))

    def take_request(self, key: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None:
        """Spend one request of the account's own window before it is sent (shared/store/windows.py): None
        when taken, else the reset to wait for. Concurrent takers never get more than the window has."""
        return windows.take(
            lambda: self._items(pk=subscriber_pk(key), sk=PROFILE_SK),
            ProfileItem.rate_remaining,
            ProfileItem.rate_reset_at,
            now=now,
            limit=limit,
            window=window,
            live=ProfileItem.pk.exists(),
        )

    def save_rate_window(self, key: str, remaining: int | None, reset_at: datetime | None) -> None:
        """Keep the window from X's headers (lower only, within one window). Not a versioned write (the sync's
        page transaction does not conflict with it), and never one that brings a deleted subscription back."""
        item = self._items(pk=subscriber_pk(key), sk=PROFILE_SK)
        try:
            if remaining == 0 and reset_at is not None:
                windows.exhaust(item, ProfileItem.rate_remaining, ProfileItem.rate_reset_at, reset=reset_at, live=_LIVE)
            else:
                windows.observe(
                    item,
                    ProfileItem.rate_remaining,
                    ProfileItem.rate_reset_at,
                    left=remaining,
                    reset=reset_at,
                    live=_LIVE,
                )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
