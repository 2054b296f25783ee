"""An in-memory store behind the same ports as the DynamoDB one (shared/store/), for the simulated month
(`python -m bench month`) and for tests of the domain's arithmetic: same answers, same atomicity (one lock
stands for DynamoDB's conditional writes), none of moto's cost.

Every write is counted as the DynamoDB write request units it would spend (`writes`), so the month can
report them.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.clock import day_of, month_of
from shared.errors import ConcurrentUpdate
from shared.models import (
    SOURCE_API,
    AuthKind,
    Budgets,
    PageRecord,
    Post,
    PostMarker,
    RateLimit,
    StoredLike,
    Subscriber,
    SubscriberStatus,
    SyncEnd,
    SyncPause,
    Usage,
    Visibility,
)
from shared.store.items import COUNTERS, counters_to_add, epoch, from_epoch
from shared.store.likes import appended, chunked


@dataclass
class _Window:
    remaining: int | None = None
    reset_at: datetime | None = None


class MemoryWindows:
    """Request windows by name (the app's endpoint names or the subscriptions' keys), as store/windows.py keeps
    them: taken before a request, corrected downwards by X's headers, emptied by a 429."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._windows: dict[str, _Window] = {}
        self.writes = 0

    def rate_window(self, name: str) -> RateLimit:
        with self._lock:
            w = self._windows.get(name, _Window())
            return RateLimit(None, w.remaining, w.reset_at)

    def take_request(self, name: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None:
        with self._lock:
            w = self._windows.setdefault(name, _Window())
            self.writes += 1
            if w.remaining is not None and w.reset_at is not None and w.reset_at > now:
                if w.remaining > 0:
                    w.remaining -= 1
                    return None
                return w.reset_at
            w.remaining, w.reset_at = limit - 1, now + window
            return None

    def save_rate_window(self, name: str, remaining: int | None, reset_at: datetime | None) -> None:
        if remaining is None or reset_at is None:
            return
        with self._lock:
            w = self._windows.setdefault(name, _Window())
            reset = reset_at.replace(microsecond=0)
            if remaining == 0 or w.remaining is None or w.reset_at != reset or w.remaining > remaining:
                w.remaining, w.reset_at = remaining, reset
                self.writes += 1


class MemoryAppState(MemoryWindows):
    """The app's windows, its read budget (day and month), its counters and X's pause."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        super().__init__(lock)
        self._usage: dict[str, dict[str, int]] = {}
        self._pause: SyncPause | None = None
        self._fetcher: tuple[datetime | None, dict[str, object]] = (None, {})

    def reserve_posts(self, now: datetime, wanted: int, budgets: Budgets) -> int:
        if not budgets.any:
            return wanted
        with self._lock:
            n = min(wanted, self._left(now, budgets))
            if n <= 0:
                return 0
            for period in (day_of(now), month_of(now)):
                counters = self._usage.setdefault(period, {})
                counters["posts_read"] = counters.get("posts_read", 0) + n
            self.writes += 2
            return n

    def posts_left(self, now: datetime, budgets: Budgets) -> int:
        with self._lock:
            return self._left(now, budgets)

    def _left(self, now: datetime, budgets: Budgets) -> int:
        day, month = self._usage.get(day_of(now), {}), self._usage.get(month_of(now), {})
        return budgets.left(day.get("posts_read", 0), month.get("posts_read", 0))

    def settle(self, now: datetime, *, reserved: int, posts_read: int, x_requests: int, **counters: int) -> None:
        self.count(now, {"posts_read": posts_read - reserved, "x_requests": x_requests, **counters})

    def count(self, now: datetime, counters: Mapping[str, int]) -> None:
        moved = counters_to_add(counters)
        if not moved:
            return
        with self._lock:
            for period in (day_of(now), month_of(now)):
                kept = self._usage.setdefault(period, {})
                for name, value in moved.items():
                    kept[name] = kept.get(name, 0) + value
            self.writes += 2

    def usage(self, period: str) -> Usage:
        with self._lock:
            kept = dict(self._usage.get(period, {}))
        counters = {name: kept.get(name, 0) for name in COUNTERS}
        return Usage(period, counters["posts_read"], counters["x_requests"], counters)

    def save_pause(self, pause: SyncPause) -> None:
        with self._lock:
            self._pause = pause
            self.writes += 1

    def pause(self, now: datetime) -> SyncPause | None:
        with self._lock:
            pause = self._pause
        return pause if pause is not None and pause.until > now else None

    def record_fetcher_run(self, now: datetime, detail: dict[str, object]) -> None:
        with self._lock:
            self._fetcher = (now, dict(detail))
            self.writes += 1

    def fetcher_run(self) -> tuple[datetime | None, dict[str, object]]:
        with self._lock:
            return self._fetcher


# --- subscribers and their likes ----------------------------------------------------------------------------

KB = 1024
PROFILE_BYTES = 700  # a profile item with its counters, walk and window: under 1 KB, one WRU per UpdateItem
MARKER_BYTES = 60  # POST#<id> -> slot
SLOT_OVERHEAD = 120  # keys, post_id, source, first_seen_at beside the post's JSON


def wru(size: int) -> int:
    """DynamoDB write request units of one item written on its own (UpdateItem, PutItem): 1 per KB started."""
    return max(1, -(-size // KB))


def _sec(when: datetime | None) -> datetime | None:
    """A time as the table keeps it in a Number attribute: whole epoch seconds."""
    return None if when is None else from_epoch(epoch(when))


@dataclass
class _Profile:
    sub: Subscriber  # username holds the display name, as the item's `username` does
    lock_until: int | None = None
    in_index: bool = True  # carries due_pk (mark_deleting removes it)
    window: _Window | None = None


@dataclass
class _Slot:
    post_id: str
    post: Post | None  # None: seeded history (seed_history), rendered from its id alone
    source: str
    first_seen_at: datetime


class MemoryTable:
    """The subscriber partitions of the one table: profiles, name lookups, slots and markers, one lock, and
    the write request units DynamoDB would bill for them (`writes`; a failed conditional write is billed too)."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self.lock = lock or threading.RLock()
        self.profiles: dict[str, _Profile] = {}
        self.names: dict[str, str] = {}
        self.slots: dict[str, list[_Slot]] = {}
        self.markers: dict[str, dict[str, PostMarker]] = {}
        self.writes = 0
        # Profile writes that changed the item: each is also a write to the DueIndex, whose projection is ALL (two
        # when next_sync_at, its sort key, moved: the old entry goes, a new one comes).
        self.index_writes = 0
        self.due: list[tuple[int, str]] = []  # (next_sync_at epoch, key), a heap; stale entries are skipped

    def live(self, key: str) -> _Profile | None:
        p = self.profiles.get(key)
        return p if p is not None and p.sub.status is not SubscriberStatus.DELETING else None

    def view(self, p: _Profile) -> Subscriber:
        """The subscriber as to_subscriber() reads the item back: a copy, name lowercased."""
        return replace(p.sub, username=p.sub.username.lower(), display_username=p.sub.username)

    def indexed(self, key: str) -> None:
        p = self.profiles.get(key)
        if p is not None and p.in_index and p.sub.next_sync_at is not None:
            heapq.heappush(self.due, (epoch(p.sub.next_sync_at), key))


class MemorySubscribers:
    """SubscriberStore's methods over a MemoryTable, with its conditions: a lease conditional on the
    next_sync_at read, the sync lock, parking, views, the walk and the account's own rate window."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table or MemoryTable()
        self._windows = MemoryWindows(self.table.lock)

    @property
    def writes(self) -> int:
        return self.table.writes + self._windows.writes

    @property
    def index_writes(self) -> int:
        """DueIndex writes: profile changes (see MemoryTable) and the account windows kept on the profile."""
        return self.table.index_writes + self._windows.writes

    # --- reads ----------------------------------------------------------------------------------------

    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None:
        with self.table.lock:
            p = self.table.profiles.get(key)
            return None if p is None else self.table.view(p)

    def key_for_name(self, username: str) -> str | None:
        with self.table.lock:
            return self.table.names.get(username)

    def find_by_name(self, username: str) -> Subscriber | None:
        key = self.key_for_name(username) or username
        sub = self.get_subscriber(key)
        return sub if sub is not None and sub.username == username else None

    def iter_subscribers(self, *, due_before: datetime | None = None, limit: int | None = None) -> Iterator[Subscriber]:
        """Live subscribers in the due index, soonest first. With `due_before`, only the due ones are taken off
        the heap (and put back): a fetcher tick costs the due subscribers, not all of them."""
        t = self.table
        with t.lock:
            if due_before is None:
                found = sorted(
                    (p for p in t.profiles.values() if p.in_index and p.sub.next_sync_at is not None),
                    key=lambda p: (epoch(p.sub.next_sync_at or due_before or datetime.min), p.sub.key),
                )
                chosen = [t.view(p) for p in found[:limit]]
            else:
                bound = epoch(due_before)
                taken: list[tuple[int, str]] = []
                seen: set[str] = set()
                while t.due and t.due[0][0] <= bound and (limit is None or len(taken) < limit):
                    at, key = heapq.heappop(t.due)
                    p = t.profiles.get(key)
                    current = p is not None and p.in_index and p.sub.next_sync_at is not None
                    if not current or key in seen or epoch(p.sub.next_sync_at) != at:  # type: ignore[union-attr, arg-type]
                        continue  # moved, parked or gone since it was pushed
                    seen.add(key)
                    taken.append((at, key))
                for entry in taken:
                    heapq.heappush(t.due, entry)
                chosen = [t.view(t.profiles[key]) for _, key in sorted(taken)]
        yield from chosen

    # --- writes ---------------------------------------------------------------------------------------

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
        t = self.table
        with t.lock:
            t.writes += 4  # a transaction of two items
            existing = t.profiles.get(key)
            if existing is not None:
                return t.view(existing), False
            sub = Subscriber(
                key=key,
                username=display_username,
                display_username=display_username,
                status=SubscriberStatus.PENDING,
                created_at=now,
                x_user_id=x_user_id,
                next_sync_at=_sec(lease_until),
                version=1,
                visibility=visibility,
                auth=auth,
            )
            t.profiles[key] = _Profile(sub)
            t.names[display_username.lower()] = key
            t.indexed(key)
            return t.view(t.profiles[key]), True

    def seed(self, sub: Subscriber) -> None:
        """Put a subscriber as it stands (the month starts with accounts already synced): not a domain write,
        not counted."""
        with self.table.lock:
            stored = replace(
                sub,
                username=sub.display_username,
                next_sync_at=_sec(sub.next_sync_at),
                last_viewed_at=_sec(sub.last_viewed_at),
                last_new_like_at=_sec(sub.last_new_like_at),
                retry_at=_sec(sub.retry_at),
            )
            self.table.profiles[sub.key] = _Profile(stored)
            self.table.names[sub.username] = sub.key
            self.table.indexed(sub.key)

    def rename(self, sub: Subscriber, display_username: str) -> Subscriber:
        t = self.table
        if display_username == sub.display_username:
            return sub
        with t.lock:
            p = t.profiles.get(sub.key)
            t.writes += 4
            if p is None:
                raise ConcurrentUpdate(f"subscriber {sub.key} disappeared")
            t.names[display_username.lower()] = sub.key
            self._update(p, username=display_username, version=p.sub.version + 1)
            if display_username.lower() != sub.username:
                self._forget_name(sub.username, sub.key)
            return t.view(p)

    def connect(self, sub: Subscriber, x_user_id: str, lease_until: datetime | None) -> Subscriber | None:
        def write(p: _Profile) -> None:
            changes: dict[str, object] = {"x_user_id": x_user_id, "auth": AuthKind.OAUTH2}
            if lease_until is not None:
                changes |= {
                    "status": SubscriberStatus.PENDING,
                    "next_sync_at": _sec(lease_until),
                    "last_error": None,
                    "retry_at": None,
                }
            self._update(p, version=p.sub.version + 1, **changes)

        return self._update_if(sub.key, lambda p: self._is_live(p) and p.sub.version == sub.version, write)

    def set_visibility(self, key: str, visibility: Visibility) -> Subscriber | None:
        return self._update_if(
            key, self._is_live, lambda p: self._update(p, visibility=visibility, version=p.sub.version + 1)
        )

    def lease(self, key: str, seen_next_sync_at: datetime | None, until: datetime) -> bool:
        def condition(p: _Profile) -> bool:
            if not self._is_live(p):
                return False
            return seen_next_sync_at is None or _epoch_or_none(p.sub.next_sync_at) == epoch(seen_next_sync_at)

        def write(p: _Profile) -> None:
            self._update(p, next_sync_at=_sec(until), retry_at=None, version=p.sub.version + 1)

        return self._update_if(key, condition, write) is not None

    def acquire(self, key: str, now: datetime, hold_for: timedelta) -> Subscriber | None:
        def free(p: _Profile) -> bool:
            return self._is_live(p) and (p.lock_until is None or p.lock_until < epoch(now))

        def write(p: _Profile) -> None:
            p.lock_until = epoch(now + hold_for)
            self._update(p, retry_at=None, version=p.sub.version + 1)

        return self._update_if(key, free, write)

    def set_x_user(self, sub: Subscriber, x_user_id: str, display_username: str) -> Subscriber:
        def write(p: _Profile) -> None:
            self._update(p, x_user_id=x_user_id, username=display_username, version=p.sub.version + 1)

        updated = self._update_if(sub.key, lambda p: True, write)
        if updated is None:
            raise ConcurrentUpdate(f"subscriber {sub.key} disappeared")
        return updated

    def finish_sync(self, key: str, end: SyncEnd) -> Subscriber | None:
        def write(p: _Profile) -> None:
            a = end.activity
            p.lock_until = None
            changes: dict[str, object] = {
                "status": end.status,
                "last_sync_at": end.at,
                "sync_count": p.sub.sync_count + 1,
                "version": p.sub.version + 1,
                "last_error": end.last_error or None,
                "retry_at": _sec(end.retry_at),
            }
            if a is not None and a.parked:
                changes |= {"parked": True, "next_sync_at": None}
            else:
                changes |= {"next_sync_at": _sec(end.next_sync_at), "parked": False}
            if a is not None:
                changes |= {"like_rate": round(a.like_rate, 4), "x_like_count": a.x_like_count}
                if a.last_new_like_at is not None:
                    changes["last_new_like_at"] = _sec(a.last_new_like_at)
            self._update(p, **changes)

        return self._update_if(key, self._is_live, write)

    def mark_viewed(self, key: str, now: datetime, *, every: timedelta) -> Subscriber | None:
        def unpark(p: _Profile) -> None:
            self._update(p, last_viewed_at=_sec(now), parked=False, next_sync_at=_sec(now), version=p.sub.version + 1)

        unparked = self._update_if(key, lambda p: self._is_live(p) and p.sub.parked, unpark)
        if unparked is not None:
            return unparked

        def stale(p: _Profile) -> bool:
            seen = p.sub.last_viewed_at
            return self._is_live(p) and (seen is None or epoch(seen) < epoch(now - every))

        return self._update_if(key, stale, lambda p: self._update(p, last_viewed_at=_sec(now)))

    def retry_now(self, sub: Subscriber, lease_until: datetime) -> Subscriber | None:
        def write(p: _Profile) -> None:
            self._update(
                p,
                status=SubscriberStatus.PENDING,
                next_sync_at=_sec(lease_until),
                last_error=None,
                retry_at=None,
                version=p.sub.version + 1,
            )

        return self._update_if(sub.key, lambda p: p.sub.version == sub.version, write)

    def mark_deleting(self, key: str) -> bool:
        def write(p: _Profile) -> None:
            p.in_index = False
            self._update(p, status=SubscriberStatus.DELETING, next_sync_at=None, version=p.sub.version + 1)

        marked = self._update_if(key, lambda p: True, write)
        if marked is None:
            return False
        with self.table.lock:
            self._forget_name(marked.username, key)
        return True

    # --- a connected account's own rate-limit window ------------------------------------------------------

    def rate_window(self, key: str) -> RateLimit:
        with self.table.lock:
            if key not in self.table.profiles:
                return RateLimit(None, None, None)
            window = self._windows.rate_window(key)
            return RateLimit(None, window.remaining, _sec(window.reset_at))

    def take_request(self, key: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None:
        with self.table.lock:
            if key not in self.table.profiles:
                return None  # gone: nothing left to protect
            reset = self._windows.take_request(key, now.replace(microsecond=0), limit=limit, window=window)
            return _sec(reset)

    def save_rate_window(self, key: str, remaining: int | None, reset_at: datetime | None) -> None:
        with self.table.lock:
            if self.table.live(key) is not None:
                self._windows.save_rate_window(key, remaining, reset_at)

    # --- internals ------------------------------------------------------------------------------------

    @staticmethod
    def _is_live(p: _Profile) -> bool:
        return p.sub.status is not SubscriberStatus.DELETING

    def _update_if(
        self, key: str, condition: Callable[[_Profile], bool], write: Callable[[_Profile], None]
    ) -> Subscriber | None:
        """One conditional UpdateItem on a profile (billed whether or not its condition holds)."""
        t = self.table
        with t.lock:
            t.writes += 1
            p = t.profiles.get(key)
            if p is None or not condition(p):
                return None
            write(p)
            return t.view(p)

    def _update(self, p: _Profile, **changes: object) -> None:
        before = p.sub.next_sync_at
        p.sub = replace(p.sub, **changes)  # type: ignore[arg-type]
        self.table.index_writes += 1
        if p.sub.next_sync_at != before:
            self.table.index_writes += 1
            self.table.indexed(p.sub.key)

    def _forget_name(self, username: str, key: str) -> None:
        self.table.writes += 1
        if self.table.names.get(username) == key:
            del self.table.names[username]


def _epoch_or_none(when: datetime | None) -> int | None:
    return None if when is None else epoch(when)


class MemoryLikes:
    """LikeStore's methods over a MemoryTable: dense slots, post markers, and the append that is all or nothing
    per 49 likes (slots and markers that must not exist, the profile guarded by its like_count)."""

    def __init__(self, table: MemoryTable) -> None:
        self.table = table

    def like_count(self, key: str) -> tuple[int, SubscriberStatus] | None:
        with self.table.lock:
            p = self.table.profiles.get(key)
            return None if p is None else (p.sub.like_count, p.sub.status)

    def get_like(self, key: str, slot: int) -> StoredLike | None:
        with self.table.lock:
            slots = self.table.slots.get(key, [])
            if not 0 <= slot < len(slots):
                return None
            s = slots[slot]
        post = s.post or Post(id=s.post_id, text="", author=None)
        return StoredLike(slot=slot, post=post, source=s.source, first_seen_at=s.first_seen_at)

    def known_posts(self, key: str, post_ids: Iterable[str]) -> dict[str, int]:
        return {pid: marker.slot for pid, marker in self.post_markers(key, post_ids).items()}

    def post_markers(self, key: str, post_ids: Iterable[str]) -> dict[str, PostMarker]:
        with self.table.lock:
            markers = self.table.markers.get(key, {})
            return {pid: markers[pid] for pid in dict.fromkeys(post_ids) if pid in markers}

    def all_post_ids(self, key: str) -> list[tuple[int, str]]:
        with self.table.lock:
            return [(n, s.post_id) for n, s in enumerate(self.table.slots.get(key, []))]

    def first_seen(self, key: str) -> dict[str, datetime]:
        """When each stored post was first seen (the month's like-to-storage delay)."""
        with self.table.lock:
            return {s.post_id: s.first_seen_at for s in self.table.slots.get(key, [])}

    def seed_history(self, key: str, post_ids: Sequence[str], at: datetime, *, source: str = SOURCE_API) -> None:
        """Store an account's history (oldest first) as a finished sync would have: not counted as writes."""
        with self.table.lock:
            slots = self.table.slots.setdefault(key, [])
            markers = self.table.markers.setdefault(key, {})
            for pid in post_ids:
                markers[pid] = PostMarker(len(slots), source)
                slots.append(_Slot(pid, None, source, at))

    def append_likes(
        self, sub: Subscriber, posts: Sequence[Post], page: PageRecord, *, now: datetime, source: str = "api"
    ) -> Subscriber:
        count, version = sub.like_count, sub.version
        chunks = chunked(posts)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            self._transact(sub.key, count, chunk, page, last, now, source)
            count += len(chunk)
            version += 1
        return appended(sub, page, count, version)

    def _transact(
        self,
        key: str,
        count: int,
        chunk: Sequence[Post],
        page: PageRecord,
        last: bool,
        now: datetime,
        source: str,
    ) -> None:
        t = self.table
        with t.lock:
            sizes = [SLOT_OVERHEAD + len(json.dumps(post.to_json(), ensure_ascii=False)) for post in chunk]
            t.writes += 2 * (sum(wru(size) for size in sizes) + wru(MARKER_BYTES) * len(chunk) + wru(PROFILE_BYTES))
            p = t.profiles.get(key)
            slots = t.slots.setdefault(key, [])
            markers = t.markers.setdefault(key, {})
            reasons = []
            if p is None or p.sub.like_count != count or p.sub.status is SubscriberStatus.DELETING:
                reasons.append("profile")
            if len(slots) > count:
                reasons.append("slot")
            if any(post.id in markers for post in chunk) or len({post.id for post in chunk}) < len(chunk):
                reasons.append("marker")
            if reasons or p is None:
                raise ConcurrentUpdate(f"storing {len(chunk)} likes for {key} at slot {count} was cancelled: {reasons}")
            for post in chunk:
                markers[post.id] = PostMarker(len(slots), source)
                slots.append(_Slot(post.id, post, source, now))
            walk = page.next_walk if last else page.walk
            changes: dict[str, object] = {"like_count": count + len(chunk), "version": p.sub.version + 1, "walk": walk}
            if last:
                changes |= {
                    "status": page.status,
                    "history_complete": page.history_complete,
                    "posts_read": p.sub.posts_read + page.posts_read,
                    "x_requests": p.sub.x_requests + page.x_requests,
                }
            p.sub = replace(p.sub, **changes)  # type: ignore[arg-type]
            t.index_writes += 1  # the profile's like_count and walk, in the DueIndex too

    def purge(self, key: str, max_items: int = 2000) -> tuple[int, bool]:
        t = self.table
        with t.lock:
            slots = t.slots.get(key, [])
            markers = t.markers.get(key, {})
            deleted = min(max_items, len(slots) + len(markers))
            t.writes += deleted
            if len(slots) + len(markers) > max_items:
                take = min(max_items, len(slots))
                del slots[len(slots) - take :]
                for pid in list(markers)[: max_items - take]:
                    del markers[pid]
                return deleted, False
            t.slots.pop(key, None)
            t.markers.pop(key, None)
            p = t.profiles.get(key)
            t.writes += 1
            if p is not None and p.sub.status is SubscriberStatus.DELETING:
                del t.profiles[key]
            return deleted, True


def memory_stores(lock: threading.RLock | None = None) -> tuple[MemorySubscribers, MemoryLikes, MemoryAppState]:
    """The three stores the fetcher and the worker use, over one in-memory table."""
    table = MemoryTable(lock)
    return MemorySubscribers(table), MemoryLikes(table), MemoryAppState(table.lock)
