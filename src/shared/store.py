"""The data layer: every DynamoDB read and write, returning domain objects (never pynamodb items).

Likes are appended with TransactWriteItems — the slot items, the post markers (attribute_not_exists) and
the profile update guarded by `like_count = :old`, all or nothing — so a crash or a retry never leaves a
gap or a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared import items
from shared.errors import ConcurrentUpdate
from shared.items import (
    APP_PK,
    DUE_PK,
    POST_PREFIX,
    PROFILE_SK,
    SLOT_PREFIX,
    AppItem,
    PostMarkerItem,
    ProfileItem,
    SlotItem,
    post_sk,
    slot_sk,
    subscriber_pk,
)
from shared.models import Post, StoredLike, Subscriber, SubscriberStatus, Walk

# TransactWriteItems takes at most 100 items: 49 likes (slot + marker each) and the profile update.
LIKES_PER_TRANSACTION = 49


@dataclass(frozen=True)
class DueSubscriber:
    username: str
    next_sync_at: int  # as seen by the query: the lease is conditional on it still being this


@dataclass(frozen=True)
class RateWindow:
    """The last x-rate-limit-* headers X sent, shared by every worker."""

    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Usage:
    day: str
    posts_read: int
    x_requests: int


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class Store:
    def __init__(self, table_name: str, region: str, endpoint_url: str | None = None) -> None:
        items.bind(table_name, region, endpoint_url)
        self._connection = Connection(region=region, host=endpoint_url)
        self.table_name = table_name

    # --- subscribers -------------------------------------------------------------------------------------

    def get_subscriber(self, username: str, *, consistent: bool = False) -> Subscriber | None:
        try:
            item = ProfileItem.get(subscriber_pk(username), PROFILE_SK, consistent_read=consistent)
        except DoesNotExist:
            return None
        return _subscriber(item)

    def like_count(self, username: str) -> tuple[int, SubscriberStatus] | None:
        """The profile's count and status only: the first of a random pick's two reads."""
        try:
            item = ProfileItem.get(
                subscriber_pk(username),
                PROFILE_SK,
                attributes_to_get=["like_count", "status"],
            )
        except DoesNotExist:
            return None
        return int(item.like_count or 0), SubscriberStatus(item.status)

    def create_subscriber(
        self, username: str, display_username: str, now: datetime, lease_until: datetime
    ) -> tuple[Subscriber, bool]:
        """Create a pending subscriber, leased (its first sync is enqueued at once). Returns (it, created)."""
        item = ProfileItem(
            pk=subscriber_pk(username),
            sk=PROFILE_SK,
            username=display_username,
            status=SubscriberStatus.PENDING.value,
            created_at=now,
            like_count=0,
            due_pk=DUE_PK,
            next_sync_at=epoch(lease_until),
            version=1,
        )
        try:
            item.save(condition=ProfileItem.pk.does_not_exist())
        except PutError as exc:
            if not _condition_failed(exc):
                raise
            existing = self.get_subscriber(username, consistent=True)
            if existing is None:  # deleted between the two calls: let the caller try again
                raise ConcurrentUpdate(f"subscriber {username} changed while subscribing") from exc
            return existing, False
        return _subscriber(item), True

    def iter_subscribers(self, *, due_before: datetime | None = None, limit: int | None = None) -> Iterator[Subscriber]:
        """Live subscribers from the sparse index, soonest due first (never a Scan)."""
        condition = None
        if due_before is not None:
            condition = ProfileItem.next_sync_at <= epoch(due_before)
        for item in ProfileItem.due_index.query(DUE_PK, range_key_condition=condition, limit=limit):
            yield _subscriber(item)

    def due_subscribers(self, now: datetime, limit: int) -> list[DueSubscriber]:
        return [
            DueSubscriber(sub.username, epoch(sub.next_sync_at))
            for sub in self.iter_subscribers(due_before=now, limit=limit)
            if sub.next_sync_at is not None
        ]

    def lease(self, username: str, seen_next_sync_at: int | None, until: datetime) -> bool:
        """Move next_sync_at to `until` if nobody moved it since we looked: one enqueue per due subscriber."""
        condition = ProfileItem.pk.exists() & (ProfileItem.status != SubscriberStatus.DELETING.value)
        if seen_next_sync_at is not None:
            condition &= ProfileItem.next_sync_at == seen_next_sync_at
        actions = [ProfileItem.next_sync_at.set(epoch(until)), ProfileItem.version.add(1)]
        return _update_if(_profile(username), actions, condition) is not None

    def acquire(self, username: str, now: datetime, hold_for: timedelta) -> Subscriber | None:
        """Take the subscriber's sync lock; None if another sync holds it or the subscriber is gone."""
        condition = (
            ProfileItem.pk.exists()
            & (ProfileItem.status != SubscriberStatus.DELETING.value)
            & (ProfileItem.lock_until.does_not_exist() | (ProfileItem.lock_until < epoch(now)))
        )
        actions = [ProfileItem.lock_until.set(epoch(now + hold_for)), ProfileItem.version.add(1)]
        return _update_if(_profile(username), actions, condition)

    def set_x_user(self, sub: Subscriber, x_user_id: str, display_username: str) -> Subscriber:
        actions = [
            ProfileItem.x_user_id.set(x_user_id),
            ProfileItem.username.set(display_username),
            ProfileItem.version.add(1),
        ]
        updated = _update_if(_profile(sub.username), actions, ProfileItem.pk.exists())
        if updated is None:
            raise ConcurrentUpdate(f"subscriber {sub.username} disappeared")
        return updated

    def finish_sync(
        self,
        username: str,
        *,
        status: SubscriberStatus,
        now: datetime,
        next_sync_at: datetime,
        last_error: str | None,
    ) -> Subscriber | None:
        """Record how a sync ended, schedule the next one and release the lock."""
        actions: list[Action] = [
            ProfileItem.status.set(status.value),
            ProfileItem.next_sync_at.set(epoch(next_sync_at)),
            ProfileItem.last_sync_at.set(now),
            ProfileItem.sync_count.add(1),
            ProfileItem.lock_until.remove(),
            ProfileItem.version.add(1),
            ProfileItem.last_error.set(last_error) if last_error else ProfileItem.last_error.remove(),
        ]
        # None when it was unsubscribed while syncing: nothing to record.
        condition = ProfileItem.pk.exists() & (ProfileItem.status != SubscriberStatus.DELETING.value)
        return _update_if(_profile(username), actions, condition)

    def retry_now(self, sub: Subscriber, lease_until: datetime) -> Subscriber | None:
        """Re-arm a subscriber that X refused or that failed, once per change (concurrent asks enqueue once)."""
        actions = [
            ProfileItem.status.set(SubscriberStatus.PENDING.value),
            ProfileItem.next_sync_at.set(epoch(lease_until)),
            ProfileItem.last_error.remove(),
            ProfileItem.version.add(1),
        ]
        return _update_if(_profile(sub.username), actions, ProfileItem.version == sub.version)

    def mark_deleting(self, username: str) -> bool:
        """Hide the subscriber at once (reads 404, out of the index); the worker purges its likes."""
        actions = [
            ProfileItem.status.set(SubscriberStatus.DELETING.value),
            ProfileItem.due_pk.remove(),
            ProfileItem.next_sync_at.remove(),
            ProfileItem.version.add(1),
        ]
        return _update_if(_profile(username), actions, ProfileItem.pk.exists()) is not None

    def purge(self, username: str, max_items: int = 2000) -> tuple[int, bool]:
        """Delete up to max_items of a deleting subscriber's likes; the profile goes last. (deleted, done)."""
        pk = subscriber_pk(username)
        deleted = 0
        kinds: tuple[tuple[type[SlotItem] | type[PostMarkerItem], str], ...] = (
            (SlotItem, SLOT_PREFIX),
            (PostMarkerItem, POST_PREFIX),
        )
        for model, prefix in kinds:
            with model.batch_write() as batch:
                for item in model.query(pk, model.sk.startswith(prefix), attributes_to_get=["pk", "sk"]):
                    batch.delete(item)
                    deleted += 1
                    if deleted >= max_items:
                        return deleted, False
        try:
            ProfileItem(pk=pk, sk=PROFILE_SK).delete(condition=ProfileItem.status == SubscriberStatus.DELETING.value)
        except DeleteError as exc:
            if not _condition_failed(exc):
                raise
        return deleted, True

    # --- likes ---------------------------------------------------------------------------------------------

    def known_posts(self, username: str, post_ids: Iterable[str]) -> dict[str, int]:
        """Which of these posts are already stored, and in which slot (one BatchGetItem per 100 ids)."""
        pk = subscriber_pk(username)
        keys = [(pk, post_sk(pid)) for pid in dict.fromkeys(post_ids)]
        if not keys:
            return {}
        return {
            marker.sk.removeprefix(POST_PREFIX): int(marker.slot)
            for marker in PostMarkerItem.batch_get(keys, attributes_to_get=["sk", "slot"])
        }

    def append_likes(
        self,
        sub: Subscriber,
        posts: Sequence[Post],
        *,
        now: datetime,
        walk: Walk,
        next_walk: Walk | None,
        history_complete: bool,
        posts_read: int,
        x_requests: int,
        status: SubscriberStatus,
        source: str = "api",
    ) -> Subscriber:
        """Append a page's new likes in dense slots and move the walk on, atomically per transaction.

        `walk` is the walk that fetched this page, `next_walk` where it goes next (None: it ended). A page
        takes several transactions (49 likes each); the earlier ones persist `walk` itself, only the last
        moves it on, so a crash between them re-reads the same page and the walk's `base` recognises the
        likes it already stored.
        """
        count, version = sub.like_count, sub.version
        chunks = [posts[i : i + LIKES_PER_TRANSACTION] for i in range(0, len(posts), LIKES_PER_TRANSACTION)] or [[]]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            actions: list[Action] = [
                ProfileItem.like_count.set(count + len(chunk)),
                ProfileItem.version.add(1),
            ]
            if last:
                actions += [
                    ProfileItem.status.set(status.value),
                    ProfileItem.history_complete.set(history_complete),
                    ProfileItem.posts_read.add(posts_read),
                    ProfileItem.x_requests.add(x_requests),
                ]
                actions += _walk_actions(next_walk)
            else:
                actions += _walk_actions(walk)
            self._transact(sub.username, count, chunk, actions, now, source)
            count += len(chunk)
            version += 1
        # Each transaction was conditional on the count it started from, so the profile is now exactly this:
        # no need to read it back.
        return replace(
            sub,
            like_count=count,
            walk=next_walk,
            history_complete=history_complete,
            status=status,
            posts_read=sub.posts_read + posts_read,
            x_requests=sub.x_requests + x_requests,
            version=version,
        )

    def _transact(
        self,
        username: str,
        count: int,
        chunk: Sequence[Post],
        profile_actions: list[Action],
        now: datetime,
        source: str,
    ) -> None:
        pk = subscriber_pk(username)
        try:
            with TransactWrite(connection=self._connection) as tx:
                for offset, post in enumerate(chunk):
                    slot = count + offset
                    tx.save(
                        SlotItem(
                            pk=pk,
                            sk=slot_sk(slot),
                            post_id=post.id,
                            post=post.to_json(),
                            source=source,
                            first_seen_at=now,
                        ),
                        condition=SlotItem.sk.does_not_exist(),
                    )
                    tx.save(
                        PostMarkerItem(pk=pk, sk=post_sk(post.id), slot=slot),
                        condition=PostMarkerItem.sk.does_not_exist(),
                    )
                tx.update(
                    ProfileItem(pk=pk, sk=PROFILE_SK),
                    actions=profile_actions,
                    condition=(ProfileItem.like_count == count)
                    & (ProfileItem.status != SubscriberStatus.DELETING.value),
                )
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                reasons = [r.code for r in exc.cancellation_reasons if r is not None]
                raise ConcurrentUpdate(
                    f"storing {len(chunk)} likes for {username} at slot {count} was cancelled: {reasons}"
                ) from exc
            raise

    def get_like(self, username: str, slot: int) -> StoredLike | None:
        try:
            item = SlotItem.get(subscriber_pk(username), slot_sk(slot))
        except DoesNotExist:
            return None
        return StoredLike(
            slot=slot,
            post=Post.from_json(item.post),
            source=item.source,
            first_seen_at=item.first_seen_at,
        )

    def all_post_ids(self, username: str) -> list[tuple[int, str]]:
        """Every stored (slot, post id), in slot order: for checks and operators, not for the hot path."""
        return [
            (int(item.sk.removeprefix(SLOT_PREFIX)), item.post_id)
            for item in SlotItem.query(
                subscriber_pk(username),
                SlotItem.sk.startswith(SLOT_PREFIX),
                attributes_to_get=["sk", "post_id"],
            )
        ]

    # --- app-wide state ----------------------------------------------------------------------------------

    def rate_window(self, endpoint: str) -> RateWindow:
        try:
            item = AppItem.get(APP_PK, f"RATE#{endpoint}", consistent_read=True)
        except DoesNotExist:
            return RateWindow(None, None)
        return RateWindow(None if item.remaining is None else int(item.remaining), from_epoch(item.reset_at))

    def save_rate_window(self, endpoint: str, remaining: int | None, reset_at: datetime | None) -> None:
        actions: list[Action] = []
        actions.append(AppItem.remaining.set(remaining) if remaining is not None else AppItem.remaining.remove())
        actions.append(AppItem.reset_at.set(epoch(reset_at)) if reset_at else AppItem.reset_at.remove())
        AppItem(pk=APP_PK, sk=f"RATE#{endpoint}").update(actions=actions)

    def add_usage(self, now: datetime, posts_read: int, x_requests: int) -> Usage:
        day = now.strftime("%Y-%m-%d")
        item = AppItem(pk=APP_PK, sk=f"USAGE#{day}")
        item.update(
            actions=[
                AppItem.posts_read.add(posts_read),
                AppItem.x_requests.add(x_requests),
                AppItem.expires_at.set(epoch(now + timedelta(days=90))),
            ]
        )
        return Usage(day, int(item.posts_read or 0), int(item.x_requests or 0))

    def usage(self, day: str) -> Usage:
        try:
            item = AppItem.get(APP_PK, f"USAGE#{day}", consistent_read=True)
        except DoesNotExist:
            return Usage(day, 0, 0)
        return Usage(day, int(item.posts_read or 0), int(item.x_requests or 0))

    def record_fetcher_run(self, now: datetime, detail: dict[str, Any]) -> None:
        AppItem(pk=APP_PK, sk="FETCHER").update(actions=[AppItem.last_run_at.set(now), AppItem.detail.set(detail)])

    def fetcher_run(self) -> tuple[datetime | None, dict[str, Any]]:
        try:
            item = AppItem.get(APP_PK, "FETCHER")
        except DoesNotExist:
            return None, {}
        return item.last_run_at, dict(item.detail or {})


def _profile(username: str) -> ProfileItem:
    return ProfileItem(pk=subscriber_pk(username), sk=PROFILE_SK)


def _update_if(item: ProfileItem, actions: Sequence[Action], condition: Condition) -> Subscriber | None:
    """A conditional UpdateItem on a profile: the subscriber as it now is, or None if the condition failed."""
    try:
        item.update(actions=list(actions), condition=condition)
    except UpdateError as exc:
        if _condition_failed(exc):
            return None
        raise
    return _subscriber(item)


def _walk_actions(walk: Walk | None) -> list[Action]:
    if walk is None:
        return [
            ProfileItem.walk_base.remove(),
            ProfileItem.walk_token.remove(),
            ProfileItem.walk_page_size.remove(),
        ]
    return [
        ProfileItem.walk_base.set(walk.base),
        ProfileItem.walk_token.set(walk.token) if walk.token else ProfileItem.walk_token.remove(),
        ProfileItem.walk_page_size.set(walk.page_size),
    ]


def _condition_failed(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _subscriber(item: ProfileItem) -> Subscriber:
    walk = None
    if item.walk_base is not None:
        walk = Walk(
            base=int(item.walk_base),
            token=item.walk_token,
            page_size=int(item.walk_page_size or 100),
        )
    return Subscriber(
        username=item.pk.removeprefix("SUB#"),
        display_username=item.username,
        status=SubscriberStatus(item.status),
        created_at=item.created_at,
        like_count=int(item.like_count or 0),
        x_user_id=item.x_user_id,
        walk=walk,
        history_complete=bool(item.history_complete),
        next_sync_at=from_epoch(item.next_sync_at),
        last_sync_at=item.last_sync_at,
        last_error=item.last_error,
        sync_count=int(item.sync_count or 0),
        posts_read=int(item.posts_read or 0),
        x_requests=int(item.x_requests or 0),
        version=int(item.version or 0),
    )
