"""`random-likes subscribers list|show` and `random-likes sync NAME`: subscribers as an operator sees them.

`sync` enqueues exactly as the fetcher does (shared/enqueue.py): lease the subscriber first — a conditional
move of next_sync_at, so a fetcher run at the same moment does not enqueue it a second time — then send
one message with the same body; if the send fails, hand the lease back so the next fetcher run picks the
subscriber up. For a subscriber being unsubscribed it enqueues the purge again instead: the way to finish a
deletion whose purge message was lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ops.errors import OpsError, UnknownSubscriber
from ops.render import Style, iso, table, truncate, when
from shared.enqueue import send_leased
from shared.models import X_USER_ID_RE, AuthKind, RateLimit, Subscriber, SubscriberStatus
from shared.settings import Settings
from shared.store import SubscriberStore
from shared.sync_queue import SyncRequest

# The pipeline's own default (SYNC_LEASE_SECONDS): a message in flight owns its subscriber this long.
LEASE = timedelta(seconds=Settings.lease_seconds)


def owner(sub: Subscriber) -> str:
    """Who owns a subscription, for an operator: its X user id, or why it has none."""
    if sub.x_user_id is None:
        return "- (unowned)"
    return sub.x_user_id + (" (legacy key)" if sub.key != sub.x_user_id else "")


def to_json(sub: Subscriber) -> dict[str, Any]:
    return {
        "key": sub.key,
        "username": sub.username,
        "display_username": sub.display_username,
        "owner_x_user_id": sub.x_user_id,
        "visibility": sub.visibility.value,
        "reads_with": "connected account (OAuth 2.0)" if sub.auth is AuthKind.OAUTH2 else "operator (OAuth 1.0a)",
        "status": sub.status.value,
        "like_count": sub.like_count,
        "history_complete": sub.history_complete,
        "x_user_id": sub.x_user_id,
        "created_at": iso(sub.created_at),
        "last_sync_at": iso(sub.last_sync_at),
        "next_sync_at": iso(sub.next_sync_at),
        "retry_at": iso(sub.retry_at),
        "last_error": sub.last_error,
        "sync_count": sub.sync_count,
        "posts_read": sub.posts_read,
        "x_requests": sub.x_requests,
    }


def detail_json(sub: Subscriber) -> dict[str, Any]:
    """`show`: everything `list` gives, and the walk in progress (a backfill resumes from it)."""
    walk = (
        None
        if sub.walk is None
        else {"base": sub.walk.base, "page_size": sub.walk.page_size, "resumes": bool(sub.walk.token)}
    )
    return {**to_json(sub), "walk": walk, "version": sub.version}


def find(store: SubscriberStore, username: str) -> Subscriber:
    """By current name (its lookup item), or by key: an X user id, or a subscription stored before accounts."""
    sub = store.find_by_name(username)
    if sub is None and X_USER_ID_RE.fullmatch(username):
        sub = store.get_subscriber(username, consistent=True)
    if sub is None:
        raise UnknownSubscriber(f"{username!r} is not subscribed", hint="random-likes subscribers list")
    return sub


def render_list(subs: list[Subscriber], now: datetime, style: Style) -> str:
    if not subs:
        return "No subscribers yet."
    rows = [
        [
            sub.display_username,
            owner(sub),
            sub.visibility.value,
            style.status(sub.status.value),
            str(sub.like_count),
            when(sub.last_sync_at, now),
            when(sub.next_attempt_at(now), now),  # a failed sync's retry, when one is due before the schedule
            truncate(sub.last_error, 50),
        ]
        for sub in subs
    ]
    return table(["USERNAME", "OWNER", "VISIBILITY", "STATUS", "LIKES", "LAST SYNC", "NEXT SYNC", "LAST ERROR"], rows)


def window_json(window: RateLimit | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {"remaining": window.remaining, "reset_at": iso(window.reset_at)}


def window_text(window: RateLimit | None, now: datetime) -> str:
    """A connected account's own liked_tweets window (X counts requests per user token)."""
    if window is None:
        return "- (the operator's credentials: `random-likes status` shows their window)"
    if window.remaining is None and window.reset_at is None:
        return "no request recorded yet"
    if window.reset_at is not None and window.reset_at <= now:
        return "a fresh window"
    left = "?" if window.remaining is None else str(window.remaining)
    return f"{left} requests left, resets {when(window.reset_at, now)}"


def render_show(sub: Subscriber, now: datetime, style: Style, window: RateLimit | None = None) -> str:
    walk = "-"
    if sub.walk is not None:
        walk = f"from slot {sub.walk.base}, pages of {sub.walk.page_size}" + (", resumes" if sub.walk.token else "")
    fields = [
        ("username", sub.display_username),
        ("owner", owner(sub)),
        ("visibility", sub.visibility.value),
        (
            "reads with",
            "its owner's connected account" if sub.auth is AuthKind.OAUTH2 else "the operator's credentials",
        ),
        ("status", style.status(sub.status.value)),
        ("likes stored", f"{sub.like_count}" + (" (all X lets us reach)" if sub.history_complete else "")),
        ("X user id", sub.x_user_id or "- (not looked up yet)"),
        ("subscribed", when(sub.created_at, now)),
        ("last sync", when(sub.last_sync_at, now)),
        ("next sync", when(sub.next_sync_at, now)),
        ("retry", "-" if sub.retry_at is None else f"{when(sub.retry_at, now)}, when SQS delivers the failed sync"),
        ("syncs", str(sub.sync_count)),
        ("X requests", str(sub.x_requests)),
        ("posts read", str(sub.posts_read)),
        ("walk", walk),
        ("rate window", window_text(window, now)),
        ("last error", sub.last_error or "-"),
    ]
    return "\n".join(f"{style.bold(f'{name:<13}')} {value}" for name, value in fields)


@dataclass(frozen=True)
class Enqueued:
    username: str
    message: dict[str, str | int]
    leased_until: datetime | None  # None for a purge: a subscriber being deleted has no schedule to lease

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "enqueued": True,
            "message": self.message,
            "leased_until": iso(self.leased_until),
        }


class CliQueue:
    """The fetch queue through the command's own client. Unlike the functions' queue, an AWS error is raised
    (the CLI explains it, ops/errors.py), never only logged; `send_leased` hands the lease back first."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        for request in requests:
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=request.body())
        return []


def sync_now(store: SubscriberStore, queue: CliQueue, username: str, *, now: datetime) -> Enqueued:
    sub = find(store, username)
    if sub.status is SubscriberStatus.DELETING:
        purge = SyncRequest(subscriber=sub.key, reason="manual", action="purge")
        queue.send([purge])
        return Enqueued(sub.display_username, purge.to_json(), None)
    until = now + LEASE
    if not store.lease(sub.key, sub.next_sync_at, until):
        raise OpsError(
            f"{username!r} changed while it was being leased (a fetcher run, or an unsubscribe, got there first)",
            hint="look at it with `random-likes subscribers show`, then try again",
        )
    request = SyncRequest(subscriber=sub.key, reason="manual", action="sync")
    send_leased([request], store=store, queue=queue, now=now)
    return Enqueued(sub.display_username, request.to_json(), until)
