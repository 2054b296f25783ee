"""A subscriber's likes: dense slots for the random pick, post markers for dedupe, and their deletion.

Likes are appended with TransactWriteItems — the slot items, the post markers (attribute_not_exists) and
the profile update guarded by `like_count = :old`, all or nothing — so a crash or a retry never leaves a
gap or a duplicate. That transaction is the one place a like and its subscriber's profile are written together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.errors import ConcurrentUpdate
from shared.models import (
    SOURCE_API,
    PageRecord,
    Post,
    PostMarker,
    StoredLike,
    Subscriber,
    SubscriberStatus,
    Walk,
)
from shared.store.items import (
    POST_PREFIX,
    PROFILE_SK,
    SLOT_PREFIX,
    ProfileItem,
    Table,
    condition_failed,
    post_sk,
    slot_sk,
    subscriber_pk,
)

# TransactWriteItems takes at most 100 items: 49 likes (slot + marker each) and the profile update.
LIKES_PER_TRANSACTION = 49


def chunked(posts: Sequence[Post]) -> list[Sequence[Post]]:
    """A page's new likes in the transactions that store them, LIKES_PER_TRANSACTION each; one empty one for
    a page without new likes (it still moves the walk on)."""
    return [posts[i : i + LIKES_PER_TRANSACTION] for i in range(0, len(posts), LIKES_PER_TRANSACTION)] or [[]]


def appended(sub: Subscriber, page: PageRecord, like_count: int, version: int) -> Subscriber:
    """The profile as a page's append left it, at `like_count` and `version`. Each of the append's
    transactions was conditional on the count it started from, so this is exactly what is stored: no need to
    read it back."""
    return replace(
        sub,
        like_count=like_count,
        walk=page.next_walk,
        history_complete=page.history_complete,
        status=page.status,
        posts_read=sub.posts_read + page.posts_read,
        x_requests=sub.x_requests + page.x_requests,
        version=version,
    )


class LikeStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def like_count(self, key: str) -> tuple[int, SubscriberStatus] | None:
        """The profile's count and status only: the first of a random pick's two reads."""
        profile = self._table.profile
        try:
            item = profile.get(subscriber_pk(key), PROFILE_SK, attributes_to_get=["like_count", "status"])
        except profile.DoesNotExist:
            return None
        return int(item.like_count or 0), SubscriberStatus(item.status)

    def get_like(self, key: str, slot: int) -> StoredLike | None:
        slots = self._table.slot
        try:
            item = slots.get(subscriber_pk(key), slot_sk(slot))
        except slots.DoesNotExist:
            return None
        post = Post.from_json(item.post)
        return StoredLike(slot=slot, post=post, source=item.source, first_seen_at=item.first_seen_at)

    def known_posts(self, key: str, post_ids: Iterable[str]) -> dict[str, int]:
        """Which of these posts are already stored, and in which slot (one BatchGetItem per 100 ids)."""
        return {pid: marker.slot for pid, marker in self.post_markers(key, post_ids).items()}

    def post_markers(self, key: str, post_ids: Iterable[str]) -> dict[str, PostMarker]:
        """Which of these posts are already stored, in which slot and by whom (one BatchGetItem per 100 ids)."""
        pk = subscriber_pk(key)
        keys = [(pk, post_sk(pid)) for pid in dict.fromkeys(post_ids)]
        if not keys:
            return {}
        return {
            marker.sk.removeprefix(POST_PREFIX): PostMarker(int(marker.slot), marker.source or SOURCE_API)
            for marker in self._table.marker.batch_get(keys, attributes_to_get=["sk", "slot", "source"])
        }

    def all_post_ids(self, key: str) -> list[tuple[int, str]]:
        """Every stored (slot, post id), in slot order: for checks and operators, not for the hot path."""
        slots = self._table.slot
        return [
            (int(item.sk.removeprefix(SLOT_PREFIX)), item.post_id)
            for item in slots.query(
                subscriber_pk(key), slots.sk.startswith(SLOT_PREFIX), attributes_to_get=["sk", "post_id"]
            )
        ]

    def append_likes(
        self, sub: Subscriber, posts: Sequence[Post], page: PageRecord, *, now: datetime, source: str = "api"
    ) -> Subscriber:
        """Append a page's new likes in dense slots and move the walk on, atomically per transaction.

        A page takes several transactions (49 likes each); the earlier ones persist `page.walk` itself, only
        the last moves it on to `page.next_walk`, so a crash between them re-reads the same page and the walk's
        `base` recognises the likes it already stored.
        """
        count, version = sub.like_count, sub.version
        chunks = chunked(posts)
        for index, chunk in enumerate(chunks):
            actions: list[Action] = [ProfileItem.like_count.set(count + len(chunk)), ProfileItem.version.add(1)]
            if index == len(chunks) - 1:
                actions += [
                    ProfileItem.status.set(page.status.value),
                    ProfileItem.history_complete.set(page.history_complete),
                    ProfileItem.posts_read.add(page.posts_read),
                    ProfileItem.x_requests.add(page.x_requests),
                    *_walk_actions(page.next_walk),
                ]
            else:
                actions += _walk_actions(page.walk)
            self._transact(sub.key, count, chunk, actions, now, source)
            count += len(chunk)
            version += 1
        return appended(sub, page, count, version)

    def _transact(
        self,
        key: str,
        count: int,
        chunk: Sequence[Post],
        profile_actions: list[Action],
        now: datetime,
        source: str,
    ) -> None:
        t = self._table
        try:
            with TransactWrite(connection=t.connection) as tx:
                put_likes(tx, t, key, count, chunk, profile_actions, now=now, source=source)
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                reasons = [r.code for r in exc.cancellation_reasons if r is not None]
                raise ConcurrentUpdate(
                    f"storing {len(chunk)} likes for {key} at slot {count} was cancelled: {reasons}"
                ) from exc
            raise

    def purge(self, key: str, max_items: int = 2000) -> tuple[int, bool]:
        """Delete up to max_items of a deleting subscriber's likes; the profile goes last. (deleted, done)."""
        t = self._table
        pk = subscriber_pk(key)
        deleted = 0
        for model, prefix in ((t.slot, SLOT_PREFIX), (t.marker, POST_PREFIX)):
            with model.batch_write() as batch:
                for item in model.query(pk, model.sk.startswith(prefix), attributes_to_get=["pk", "sk"]):
                    batch.delete(item)
                    deleted += 1
                    if deleted >= max_items:
                        return deleted, False
        try:
            t.profile(pk=pk, sk=PROFILE_SK).delete(condition=ProfileItem.status == SubscriberStatus.DELETING.value)
        except DeleteError as exc:
            if not condition_failed(exc):
                raise
        return deleted, True


def put_likes(
    tx: TransactWrite,
    t: Table,
    key: str,
    count: int,
    posts: Sequence[Post],
    profile_actions: list[Action],
    *,
    now: datetime,
    source: str,
) -> None:
    """Add to `tx` the append of `posts` at slots count.. of `key`: the slot items, the post markers (none may
    exist yet) and the profile update, guarded by like_count == count and a live subscription. The one shape of
    an append, whoever appends (a sync, an import: see shared/archive_import.py)."""
    pk = subscriber_pk(key)
    for offset, post in enumerate(posts):
        slot = count + offset
        item = t.slot(pk=pk, sk=slot_sk(slot), post_id=post.id, post=post.to_json(), source=source, first_seen_at=now)
        tx.save(item, condition=t.slot.sk.does_not_exist())
        # A marker says who stored its post only when it is not the API (absent: api, as every marker before).
        marker = t.marker(pk=pk, sk=post_sk(post.id), slot=slot, source=None if source == SOURCE_API else source)
        tx.save(marker, condition=t.marker.sk.does_not_exist())
    tx.update(
        t.profile(pk=pk, sk=PROFILE_SK),
        actions=profile_actions,
        condition=(ProfileItem.like_count == count) & (ProfileItem.status != SubscriberStatus.DELETING.value),
    )


def _walk_actions(walk: Walk | None) -> list[Action]:
    if walk is None:
        return [ProfileItem.walk_base.remove(), ProfileItem.walk_token.remove(), ProfileItem.walk_page_size.remove()]
    return [
        ProfileItem.walk_base.set(walk.base),
        ProfileItem.walk_token.set(walk.token) if walk.token else ProfileItem.walk_token.remove(),
        ProfileItem.walk_page_size.set(walk.page_size),
    ]
