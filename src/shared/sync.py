"""Sync one subscriber's likes from X into the table: the worker's one job.

A sync walks X's likes list (newest liked first) page by page and appends what is new. The walk is persisted
after every page (`Walk`: its base count and the next pagination token), so a rate limit, a timeout or a
crash resumes exactly where it stopped and never re-reads what is stored. A walk from the top stops at the
first post stored before it began; a walk resumed from a token first finishes, then one from the top catches
likes made meanwhile.

Before reading a connected account whose history is stored, the sync asks X its like_count (the probe, one
user read at $0.010) and reads no likes when it has not moved since the last finished sync; when it has, the
head walk's first page is sized to the difference (see `_read`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from shared.account_tokens import ReconnectNeeded
from shared.budget import ReadBudget
from shared.clock import Clock, next_utc_midnight
from shared.errors import (
    ConcurrentUpdate,
    XDeferred,
    XForbidden,
    XGrantInvalid,
    XInvalidCursor,
    XRateLimited,
    XRejected,
    XUnavailable,
    XUsageCapped,
    XUserNotFound,
)
from shared.models import (
    SOURCE_ARCHIVE,
    Activity,
    AuthKind,
    LikesPage,
    PageRecord,
    Post,
    PostMarker,
    Subscriber,
    SubscriberStatus,
    SyncEnd,
    SyncOutcome,
    Walk,
    XUser,
)
from shared.redact import redact
from shared.schedule import SchedulePolicy, after_sync
from shared.x_api import MAX_PAGE, MIN_PAGE, XApi

log = logging.getLogger(__name__)
RATE_WINDOW = timedelta(minutes=15)


class SyncSubscribers(Protocol):
    def acquire(self, key: str, now: datetime, hold_for: timedelta) -> Subscriber | None: ...

    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None: ...

    def set_x_user(self, sub: Subscriber, x_user_id: str, display_username: str) -> Subscriber: ...

    def finish_sync(self, key: str, end: SyncEnd) -> Subscriber | None: ...


class SyncLikes(Protocol):
    def post_markers(self, key: str, post_ids: Sequence[str]) -> dict[str, PostMarker]: ...

    def append_likes(
        self, sub: Subscriber, posts: Sequence[Post], page: PageRecord, *, now: datetime, source: str = "api"
    ) -> Subscriber: ...


class AccountX(Protocol):
    def __call__(self, sub: Subscriber, *, refused: bool = False) -> XApi:
        """The X of a connected account. `refused`: X refused the token this gave last (401) before it expired
        by our clock: refresh it first (X's clock decides; a grant that is gone is ReconnectNeeded)."""
        ...


@dataclass(frozen=True)
class SyncPorts:
    """What a sync works with: the subscriber's profile and likes, X, the shared budget and the time.

    `x` reads with the operator's credentials; `account_x` gives the X of a connected account (its own
    OAuth 2.0 token, refreshed if need be), asked only once the subscriber's lock is held.
    """

    subscribers: SyncSubscribers
    likes: SyncLikes
    x: XApi
    budget: ReadBudget
    clock: Clock
    account_x: AccountX | None = None


@dataclass(frozen=True)
class SyncPolicy:
    # The cadence of a subscription whose sync finished (shared/schedule.py); its min_interval is the
    # deployer's SyncIntervalMinutes.
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    lease: timedelta = timedelta(hours=1)
    first_page: int = MIN_PAGE  # an incremental sync usually finds a few new likes: ask for few (billed per post)
    backfill_page: int = MAX_PAGE
    max_pages: int = 40  # per sync; the rest waits for the next one (the walk is saved)
    min_seconds_left: float = 10.0  # stop paging when the invocation has less than this left
    refused_retry: timedelta = timedelta(hours=24)  # X refused (400/403/404): try again once a day, not in a loop
    # The account's grant is dead: nothing helps but its owner connecting again, which re-arms the subscription.
    reconnect_wait: timedelta = timedelta(days=30)
    # A failed sync's message comes back after this (the worker sets it from the receive count, and tells SQS).
    retry_in: timedelta = timedelta(seconds=30)
    lock_for: timedelta = timedelta(minutes=15)
    # A page's append that lost the like_count race (an archive import appends beside the sync, a batch at a
    # time) is classified again and retried, without asking X again; this many times in a row at most.
    conflict_retries: int = 8
    # This sync's fair share of a tight budget (the fetcher's SyncRequest.max_posts): it stops paging once it
    # has read this many posts, and asks for no more than what is left of it (X's smallest page at least).
    max_posts: int | None = None


@dataclass
class _Progress:
    pages: int = 0
    new_likes: int = 0
    posts_read: int = 0
    finished: bool = False
    x_like_count: int | None = None  # what X's like_count probe said, if the sync asked
    extra: dict[str, int] = field(default_factory=dict)


def classify_page(
    posts: Sequence[Post], known: Mapping[str, int], base: int, archived: Collection[str] = ()
) -> tuple[list[Post], bool]:
    """Split a page into the posts to store and whether the walk has reached likes stored before it began.

    A known post in a slot >= base was stored by this same walk (a retried page): skip it and go on.
    A known post in a slot < base is older territory: everything after it is stored already.
    A post an archive import stored (`archived`) is older territory wherever its slot: the archive holds every
    like older than itself, and an import appends beside a running walk, past its base.
    """
    new: list[Post] = []
    seen: set[str] = set()
    for post in posts:
        if post.id in seen:
            continue
        seen.add(post.id)
        slot = known.get(post.id)
        if slot is None:
            new.append(post)
        elif slot < base or post.id in archived:
            return new, True
    return new, False


def next_page_size(current: int, all_new: bool) -> int:
    """Grow a page only while every post on it was new: each post read is billed."""
    return min(MAX_PAGE, current * 2) if all_new else current


def sync_subscriber(
    key: str, *, ports: SyncPorts, policy: SyncPolicy, seconds_left: Callable[[], float]
) -> SyncOutcome:
    """Sync one subscriber (by its key); X's refusals and limits become statuses, only transient failures raise."""
    clock = ports.clock
    sub = ports.subscribers.acquire(key, clock.now(), policy.lock_for)
    if sub is None:
        current = ports.subscribers.get_subscriber(key)
        state = "gone" if current is None or current.status is SubscriberStatus.DELETING else "locked"
        log.info("sync skipped", extra={"subscriber": key, "reason": state})
        status = SubscriberStatus.DELETING if current is None else current.status
        return SyncOutcome(key, status, detail=f"skipped: {state}", skipped=True)

    progress = _Progress()
    observed = sub.caught_up  # its new likes are new activity, not a backfill's
    try:
        ports = replace(ports, x=_x_of(sub, ports))
        if sub.x_user_id is None:
            user: XUser = ports.x.user_by_username(sub.username)
            sub = ports.subscribers.set_x_user(sub, user.id, user.username)
        try:
            _read(sub, ports=ports, policy=policy, seconds_left=seconds_left, p=progress)
        except XGrantInvalid:
            if sub.auth is not AuthKind.OAUTH2 or ports.account_x is None:
                raise
            # X refused a token that is live by our clock (clocks differ, or X ended it early): refresh it once and
            # go on from the saved walk. A second refusal, or a refresh X refuses, is the owner's to fix.
            log.info("X refused a live access token; refreshing it once", extra={"subscriber": sub.key})
            ports = replace(ports, x=ports.account_x(sub, refused=True))
            _read(sub, ports=ports, policy=policy, seconds_left=seconds_left, p=progress)
    except (ReconnectNeeded, XGrantInvalid) as exc:
        # Not retried and never the DLQ's: the message is done, the page offers "Reconnect".
        message = f"X no longer accepts this account's connection; its owner must connect again: {exc}"
        return _finish(
            ports, sub.key, SubscriberStatus.RECONNECT_NEEDED, clock.now() + policy.reconnect_wait, message, progress
        )
    except (XDeferred, XForbidden, XUserNotFound, XRejected) as exc:
        status, retry_at, message = _refusal(exc, clock.now(), policy)
        return _finish(ports, sub.key, status, retry_at, message, progress)
    except Exception as exc:
        # Transient (X 5xx, a timeout, DynamoDB): record it, release the lock and let SQS retry the message at
        # retry_at. next_sync_at, the fetcher's lease, lies a lease beyond that retry, so the fetcher never
        # enqueues a second copy while this one waits; should the DLQ take the message, the fetcher takes over.
        retry_at = clock.now() + policy.retry_in
        try:
            _finish(
                ports,
                sub.key,
                SubscriberStatus.ERROR,
                retry_at + policy.lease,
                _describe(exc),
                progress,
                retry_at=retry_at,
            )
        except Exception:
            log.exception("could not record the failed sync", extra={"subscriber": sub.key})
        raise

    if progress.finished:
        now = clock.now()
        due, activity = after_sync(
            sub, now, progress.new_likes, progress.x_like_count, policy.schedule, observed=observed
        )
        return _finish(ports, sub.key, SubscriberStatus.READY, due, None, progress, activity=activity)
    # Out of time or pages, not of likes: due again at once, the fetcher's next run picks it up.
    return _finish(ports, sub.key, SubscriberStatus.SYNCING, clock.now(), None, progress)


def _x_of(sub: Subscriber, ports: SyncPorts) -> XApi:
    """Who reads this subscriber's likes: its owner's own token (connected accounts) or the operator's."""
    if sub.auth is not AuthKind.OAUTH2:
        return ports.x
    if sub.x_user_id is None:
        raise ReconnectNeeded("the subscription names no X account to read with")
    if ports.account_x is None:
        # A wiring fault, not the owner's: the sync fails and is retried, the subscription keeps its status.
        raise RuntimeError("this sync was given no way to read connected accounts")
    return ports.account_x(sub)


def _refusal(exc: Exception, now: datetime, policy: SyncPolicy) -> tuple[SubscriberStatus, datetime, str]:
    """X said no (for now): the status to show, when to try again, and why."""
    if isinstance(exc, XRateLimited):
        # X always sends x-rate-limit-reset with a 429; without it, one window is the longest it can take.
        return SubscriberStatus.RATE_LIMITED, exc.reset_at or now + RATE_WINDOW, str(exc)
    if isinstance(exc, XUsageCapped):
        # X does not say when its cap lifts; reads are billed per UTC day, so try after midnight (once).
        return SubscriberStatus.USAGE_CAPPED, exc.reset_at or next_utc_midnight(now), str(exc)
    if isinstance(exc, XForbidden):
        message = f"X will not give these likes with the configured credentials: {exc}"
        return SubscriberStatus.FORBIDDEN, now + policy.refused_retry, message
    if isinstance(exc, XRejected):
        # Not retried by SQS: the same request would get the same 400. Once a day, or when re-subscribed.
        return SubscriberStatus.REJECTED, now + policy.refused_retry, str(exc)
    return SubscriberStatus.NOT_FOUND, now + policy.refused_retry, str(exc)


def probes(sub: Subscriber, policy: SyncPolicy) -> bool:
    """Whether this sync asks X's like_count before reading likes.

    Only when the answer is this subscription's own count: users/me answers for the token's owner, so only a
    connected account's own OAuth 2.0 token is probed. The operator's OAuth 1.0a token answers for the operator
    alone; its subscriptions (even the operator's own account, the simplest honest rule) are read as before.
    And only once the history is stored and no walk is under way: a backfill or a resumed walk must go on
    whatever the count says.
    """
    return policy.schedule.probe and sub.auth is AuthKind.OAUTH2 and sub.caught_up


def _read(
    sub: Subscriber, *, ports: SyncPorts, policy: SyncPolicy, seconds_left: Callable[[], float], p: _Progress
) -> None:
    """Probe the like_count where it applies, then walk the likes unless the count has not moved.

    Price (X pay-per-use, each resource billed once per UTC day): the probe is one user read, $0.010 a day
    however often it is asked; the smallest page of likes is 5 posts, $0.025, and the same page read again that
    day is free. On a synced day when nothing moved, the probe costs $0.010 where the page cost $0.025. On a
    day when something did, the probe sizes the first page to the new likes and the one known post that ends
    the walk: without it a page of 5 reads known posts when fewer likes came, and a burst that fills it asks
    for a page twice as large, mostly of known posts. The simulated month measured both (docs/cost.md): with the
    probe every class paid less per new like, heavy accounts (one user read a day for ~20 likes) included.

    The probe is asked before the walk, so a like made during the walk makes the next probe differ. What it
    cannot see: likes removed and as many others added between two syncs leave the count as it was, and those
    new likes wait until the count moves again (the archive import, and classify_page, do not depend on it).
    """
    first_page: int | None = None
    if probes(sub, policy):
        if p.x_like_count is None:  # after a refused token is refreshed, an answered probe is not asked again
            p.x_like_count = _probe(sub, ports=ports)
        count, known = p.x_like_count, sub.x_like_count
        if count is not None and known is not None:
            if count == known:
                log.info("like_count unchanged; no likes read", extra={"username": sub.username, "x_like_count": count})
                p.finished = True
                return
            if count > known:
                first_page = max(MIN_PAGE, min(MAX_PAGE, count - known + 1))
        # Never probed (None), or fewer likes than before (unlikes, perhaps new ones too): the usual first page.
    _walk(sub, ports=ports, policy=policy, seconds_left=seconds_left, p=p, first_page=first_page)


def _probe(sub: Subscriber, *, ports: SyncPorts) -> int | None:
    """X's like_count for the subscription, counted in the budget; None when X could not say (read likes)."""
    try:
        count = ports.x.own_like_count()
    except XRateLimited as exc:
        # users/me has a window of its own at X, apart from liked_tweets': the likes window is left as it is,
        # and this subscription waits for the reset like any rate-limited sync.
        ports.budget.request_failed()
        raise XRateLimited(exc.reset_at or ports.clock.now() + RATE_WINDOW, str(exc)) from None
    except XUsageCapped:
        ports.budget.usage_capped()
        raise
    except XUnavailable as exc:
        # The probe only saves reads; X failing it is no reason not to read (the likes request will tell).
        ports.budget.request_failed()
        log.warning("like_count probe failed; reading likes", extra={"username": sub.username, "reason": str(exc)})
        return None
    except BaseException:
        ports.budget.request_failed()
        raise
    ports.budget.after_probe()
    return count


def _walk(
    sub: Subscriber,
    *,
    ports: SyncPorts,
    policy: SyncPolicy,
    seconds_left: Callable[[], float],
    p: _Progress,
    first_page: int | None = None,
) -> None:
    """Walk the likes; `first_page`: the size of a head walk's first page (the probe's estimate)."""
    resumed = sub.walk is not None
    walk = sub.walk or _head_walk(sub, policy, first_page)
    conflicts = 0
    while True:
        if p.pages >= policy.max_pages or seconds_left() < policy.min_seconds_left:
            log.info(
                "sync paused",
                extra={"username": sub.username, "pages": p.pages, "seconds_left": round(seconds_left(), 1)},
            )
            return
        if policy.max_posts is not None and p.posts_read >= policy.max_posts:
            # Its share is read; the walk is saved, the rest waits for a sync after the others have had theirs.
            log.info("sync paused: fair share read", extra={"username": sub.username, "posts_read": p.posts_read})
            return
        page, walk = _fetch(sub, walk, ports=ports, policy=policy, p=p)
        ports.budget.after_response(page.rate, len(page.posts), sub)
        p.pages += 1
        p.posts_read += len(page.posts)

        stored = _store_page(sub, walk, page, ports=ports, policy=policy)
        sub = stored.sub
        if stored.moved_walk is not None:
            # Another sync moved the walk (its lock expired under us): follow it, from X again.
            conflicts += 1
            if conflicts > policy.conflict_retries:
                raise ConcurrentUpdate(f"the walk of {sub.key} keeps moving under this sync")
            walk = stored.moved_walk
            continue
        new, next_walk = stored.new, stored.next_walk
        p.new_likes += len(new)
        log.info(
            "page stored",
            extra={
                "username": sub.username,
                "read": len(page.posts),
                "new": len(new),
                "skipped_by_x": page.skipped,
                "like_count": sub.like_count,
                "more": next_walk is not None,
            },
        )
        if next_walk is not None:
            walk = next_walk
            continue
        if resumed:
            # The resumed walk is done; now catch whatever was liked while it was under way.
            resumed = False
            walk = _head_walk(sub, policy)
            continue
        p.finished = True
        return


@dataclass(frozen=True)
class _Stored:
    sub: Subscriber
    new: list[Post] = field(default_factory=list)
    next_walk: Walk | None = None
    moved_walk: Walk | None = None  # set when the page was not stored: the walk another sync left


def _page_record(sub: Subscriber, walk: Walk, page: LikesPage, ports: SyncPorts) -> tuple[list[Post], PageRecord]:
    """What of `page` to store, and how the walk goes on, as the table stands now."""
    markers = ports.likes.post_markers(sub.key, [post.id for post in page.posts])
    known = {pid: marker.slot for pid, marker in markers.items()}
    archived = {pid for pid, marker in markers.items() if marker.source == SOURCE_ARCHIVE}
    new, reached_known = classify_page(page.posts, known, walk.base, archived)
    next_walk = None
    if not (reached_known or page.next_token is None):
        all_new = len(new) == len(page.posts)
        next_walk = Walk(walk.base, page.next_token, next_page_size(walk.page_size, all_new))
    record = PageRecord(
        walk=walk,
        next_walk=next_walk,
        history_complete=sub.history_complete or (page.next_token is None and not reached_known),
        posts_read=len(page.posts),
        x_requests=1,
        status=SubscriberStatus.SYNCING,
    )
    return new, record


def _store_page(sub: Subscriber, walk: Walk, page: LikesPage, *, ports: SyncPorts, policy: SyncPolicy) -> _Stored:
    """Append the page's new likes. One that lost the like_count race to another writer (an archive import
    appends beside the sync, a batch at a time) is classified again and retried without asking X again."""
    conflicts = 0
    while True:
        new, record = _page_record(sub, walk, page, ports)
        try:
            sub = ports.likes.append_likes(sub, new, record, now=ports.clock.now())
        except ConcurrentUpdate:
            conflicts += 1
            if conflicts > policy.conflict_retries:
                raise
            fresh = ports.subscribers.get_subscriber(sub.key, consistent=True)
            if fresh is None:
                raise
            log.warning(
                "storing a page conflicted; classifying it again",
                extra={"username": sub.username, "like_count": fresh.like_count, "conflicts": conflicts},
            )
            sub = fresh
            if fresh.walk is not None and fresh.walk != walk:
                return _Stored(sub, moved_walk=fresh.walk)
            continue
        return _Stored(sub, new=new, next_walk=record.next_walk)


def _fetch(
    sub: Subscriber, walk: Walk, *, ports: SyncPorts, policy: SyncPolicy, p: _Progress
) -> tuple[LikesPage, Walk]:
    """The walk's next page, and the walk that fetched it: a refused cursor restarts the walk from the top."""
    while True:
        wanted = walk.page_size
        if policy.max_posts is not None:
            wanted = min(wanted, max(MIN_PAGE, policy.max_posts - p.posts_read))
        size = ports.budget.before_request(wanted, sub)
        try:
            return ports.x.liked_posts(sub.x_user_id or "", max_results=size, pagination_token=walk.token), walk
        except XInvalidCursor:
            ports.budget.request_failed()
            if walk.token is None:
                raise
            # The base still tells ours from older likes, so restarting from the top loses nothing.
            log.warning("pagination token refused; walking again from the top", extra={"username": sub.username})
            walk = Walk(base=walk.base, token=None, page_size=policy.backfill_page)
            p.extra["cursor_restarts"] = p.extra.get("cursor_restarts", 0) + 1
        except XRateLimited as exc:
            # X's own 429 on this endpoint (not our budget's foresight): every sync spending this token's window
            # waits for it now.
            reset = exc.reset_at or ports.clock.now() + RATE_WINDOW
            ports.budget.rate_limited(reset, sub)
            raise XRateLimited(reset, str(exc)) from None
        except XUsageCapped:
            # X's own cap on the app's reads: every sync waits, the fetcher enqueues none until it lifts.
            ports.budget.usage_capped()
            raise
        except BaseException:
            ports.budget.request_failed()
            raise


def _head_walk(sub: Subscriber, policy: SyncPolicy, first_page: int | None = None) -> Walk:
    size = policy.first_page if sub.like_count > 0 else policy.backfill_page
    if first_page is not None:
        size = first_page
    return Walk(base=sub.like_count, token=None, page_size=size)


def _finish(
    ports: SyncPorts,
    key: str,
    status: SubscriberStatus,
    next_sync_at: datetime,
    error: str | None,
    p: _Progress,
    *,
    retry_at: datetime | None = None,
    activity: Activity | None = None,
) -> SyncOutcome:
    # The one way out of a sync: whatever X or an exception said is stored and logged without its secrets.
    error = redact(error)[:MAX_ERROR] if error else None
    end = SyncEnd(status, ports.clock.now(), next_sync_at, error, retry_at, activity)
    sub = ports.subscribers.finish_sync(key, end)
    outcome = SyncOutcome(
        username=sub.username if sub else key,
        status=status,
        new_likes=p.new_likes,
        pages=p.pages,
        posts_read=p.posts_read,
        deferred_until=next_sync_at if status in _DEFERRED else None,
        detail=error or "",
        extra={**p.extra, "like_count": sub.like_count if sub else 0},
    )
    log.info(
        "sync finished",
        extra={
            "subscriber": key,
            "username": outcome.username,
            "status": status.value,
            "new_likes": p.new_likes,
            "pages": p.pages,
            "posts_read": p.posts_read,
            "next_sync_at": next_sync_at.isoformat(),
            "retry_at": retry_at.isoformat() if retry_at else None,
            "error": error,
        },
    )
    return outcome


_DEFERRED = {SubscriberStatus.RATE_LIMITED, SubscriberStatus.USAGE_CAPPED}
MAX_ERROR = 500  # characters of last_error: X's detail and a few parameter messages fit


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
