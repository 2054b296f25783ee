"""Domain objects: what a subscriber, a stored like and a page of likes from X are.

Plain dataclasses, so every layer above the store and the X client can be tested without either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.errors import InvalidUsername

# What X allows for a handle. ASCII classes on purpose: `\w` would accept look-alikes such as Cyrillic letters.
USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
# An X user id (a snowflake: at most 20 digits), the key of every subscription made with accounts.
X_USER_ID_RE = re.compile(r"[0-9]{1,20}")


def normalize_username(raw: object) -> str:
    """The canonical (lowercased) form of a username, or InvalidUsername with a message a person can act on."""
    if not isinstance(raw, str):
        raise InvalidUsername("username must be a string")
    name = raw.strip().removeprefix("@")
    if not name:
        raise InvalidUsername("username is empty")
    if len(name) > 15:
        raise InvalidUsername("username is longer than 15 characters, the most X allows")
    if not USERNAME_RE.fullmatch(name):
        raise InvalidUsername("username may contain only the letters A-Z, digits and underscores")
    return name.lower()


def valid_key(raw: object) -> str:
    """A subscription key as a queue message or the CLI names it: an X user id, or (a subscription stored before
    accounts) a lowercased username. Anything else is InvalidUsername, so poison still goes to the DLQ."""
    if isinstance(raw, str) and X_USER_ID_RE.fullmatch(raw):
        return raw
    return normalize_username(raw)


class SubscriberStatus(StrEnum):
    """Where a subscriber's sync stands, in words the page and the CLI show as they are."""

    PENDING = "pending"  # subscribed, first sync not run yet
    SYNCING = "syncing"  # a walk through X's likes is under way (more pages to fetch)
    READY = "ready"  # everything X lets us reach is stored
    RATE_LIMITED = "rate_limited"  # waiting for X's rate-limit window (next_sync_at is X's reset time)
    USAGE_CAPPED = "usage_capped"  # the app's post-read budget (ours or X's) is spent for now
    FORBIDDEN = "forbidden"  # X will not give these likes with the configured credentials
    NOT_FOUND = "not_found"  # X knows no such user
    REJECTED = "rejected"  # X answered 400: the request itself is wrong, so asking again cannot help; once a day
    ERROR = "error"  # the last sync failed; SQS retries it (at retry_at)
    RECONNECT_NEEDED = "reconnect_needed"  # X refused the account's token (revoked, invalid_grant): owner reconnects
    DELETING = "deleting"  # unsubscribed; its likes are being removed


class Visibility(StrEnum):
    """Who may see a subscription: its owner only (the default, as X keeps likes), or anyone with its link."""

    PRIVATE = "private"
    PUBLIC = "public"


class AuthKind(StrEnum):
    """Which credentials read a subscription's likes from X."""

    OAUTH2 = "oauth2"  # the owner's own OAuth 2.0 user token, from Connect with X (the tokens table)
    OPERATOR = "oauth1"  # the operator's OAuth 1.0a credentials (SSM): the one account the CLI subscribes


@dataclass(frozen=True)
class Author:
    """The author of a liked post, as the card shows them."""

    id: str
    username: str
    name: str
    profile_image_url: str | None = None
    verified: bool = False


@dataclass(frozen=True)
class Link:
    """A t.co link in a post's text and where it really goes."""

    url: str
    expanded_url: str
    display_url: str
    start: int
    end: int


@dataclass(frozen=True)
class Media:
    media_key: str
    type: str  # photo | video | animated_gif
    url: str | None = None
    preview_image_url: str | None = None
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Post:
    """Everything needed to render a liked post without asking X again."""

    id: str
    text: str
    author: Author | None
    created_at: str | None = None
    lang: str | None = None
    links: tuple[Link, ...] = ()
    media: tuple[Media, ...] = ()

    @property
    def url(self) -> str:
        handle = self.author.username if self.author else "i"
        return f"https://x.com/{handle}/status/{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "url": self.url,
            "created_at": self.created_at,
            "lang": self.lang,
            "author": None
            if self.author is None
            else {
                "id": self.author.id,
                "username": self.author.username,
                "name": self.author.name,
                "profile_image_url": self.author.profile_image_url,
                "verified": self.author.verified,
            },
            "links": [
                {
                    "url": link.url,
                    "expanded_url": link.expanded_url,
                    "display_url": link.display_url,
                    "start": link.start,
                    "end": link.end,
                }
                for link in self.links
            ],
            "media": [
                {
                    "media_key": m.media_key,
                    "type": m.type,
                    "url": m.url,
                    "preview_image_url": m.preview_image_url,
                    "alt_text": m.alt_text,
                    "width": m.width,
                    "height": m.height,
                }
                for m in self.media
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Post:
        author = data.get("author")
        return cls(
            id=str(data["id"]),
            text=str(data.get("text", "")),
            author=None
            if not author
            else Author(
                id=str(author["id"]),
                username=str(author["username"]),
                name=str(author.get("name") or author["username"]),
                profile_image_url=author.get("profile_image_url"),
                verified=bool(author.get("verified", False)),
            ),
            created_at=data.get("created_at"),
            lang=data.get("lang"),
            links=tuple(
                Link(
                    url=str(link["url"]),
                    expanded_url=str(link["expanded_url"]),
                    display_url=str(link["display_url"]),
                    start=int(link["start"]),
                    end=int(link["end"]),
                )
                for link in data.get("links") or ()
            ),
            media=tuple(
                Media(
                    media_key=str(m["media_key"]),
                    type=str(m["type"]),
                    url=m.get("url"),
                    preview_image_url=m.get("preview_image_url"),
                    alt_text=m.get("alt_text"),
                    width=m.get("width"),
                    height=m.get("height"),
                )
                for m in data.get("media") or ()
            ),
        )


@dataclass(frozen=True)
class StoredLike:
    """A like as the table holds it: the post, its slot, where it came from and when we first saw it."""

    slot: int
    post: Post
    source: str  # "api" | "archive"
    first_seen_at: datetime


# Who stored a like (a slot's `source`, a marker's when it is not the API).
SOURCE_API = "api"
SOURCE_ARCHIVE = "archive"


@dataclass(frozen=True)
class PostMarker:
    """A post already stored for a subscriber: its slot, and who stored it ("api" or "archive")."""

    slot: int
    source: str


@dataclass(frozen=True)
class Walk:
    """An unfinished walk through X's likes list, persisted so a crash or a rate limit resumes it exactly.

    `base` is like_count when the walk began: a post already stored in a slot >= base was stored by this
    same walk (before a crash), so it is skipped; one in a slot < base is older territory, and the walk stops.
    `token` is the pagination token of the next page; None means the top of the list.
    """

    base: int
    token: str | None
    page_size: int


@dataclass(frozen=True)
class PageRecord:
    """What storing one page of likes moves on, besides the likes: the walk, the counters and the status."""

    walk: Walk  # the walk that fetched the page
    next_walk: Walk | None  # where it goes next; None: it has ended
    history_complete: bool
    posts_read: int
    x_requests: int
    status: SubscriberStatus


@dataclass(frozen=True)
class SyncEnd:
    """How a sync ended, as the subscriber's profile records it (the lock is released with it)."""

    status: SubscriberStatus
    at: datetime
    next_sync_at: datetime
    last_error: str | None = None
    retry_at: datetime | None = None  # a failed sync: when SQS delivers its message again
    # What the sync learnt of the account's activity (None: nothing, e.g. X refused): the schedule's input.
    activity: Activity | None = None


@dataclass(frozen=True)
class Activity:
    """How active an account is, as its syncs see it: what sets its cadence (shared/schedule.py)."""

    like_rate: float  # new likes per day, a moving average over its syncs
    last_new_like_at: datetime | None  # when a sync last found a new like
    x_like_count: int | None  # the like_count X's /2/users/me gave at the last probe (None: never probed)
    # Nobody has opened the subscription's page for a while: it is not synced until someone does.
    parked: bool = False


@dataclass
class Subscriber:
    # The subscription's key in the table (its partition `SUB#<key>`): the owner's X user id, or the lowercased
    # username for a subscription stored before accounts (until it is migrated). A rename on X keeps it.
    key: str
    username: str  # the current name, lowercased (what the NAME# lookup item maps to the key)
    display_username: str  # as X spells it (or as the operator typed it, until X is asked)
    status: SubscriberStatus
    created_at: datetime
    like_count: int = 0
    x_user_id: str | None = None
    walk: Walk | None = None
    history_complete: bool = False  # reached the end of what X's API returns at least once
    # When the fetcher may enqueue the next sync. Also its lease: while a message is in flight (or waiting in
    # SQS to be retried) it lies beyond that message's run, so the fetcher never enqueues a second one.
    next_sync_at: datetime | None = None
    # Set only while a failed sync waits for SQS to deliver its message again: the truth about the next attempt.
    retry_at: datetime | None = None
    last_sync_at: datetime | None = None
    last_error: str | None = None
    sync_count: int = 0
    posts_read: int = 0  # posts X billed us for, for this subscriber, all time
    x_requests: int = 0
    version: int = 0  # bumped by every write, for optimistic concurrency
    visibility: Visibility = Visibility.PRIVATE
    auth: AuthKind = AuthKind.OPERATOR
    # The schedule's view of the account (shared/schedule.py): its like rate, X's like_count at the last probe,
    # when a new like was last found, when its page was last opened, and whether it waits for that.
    like_rate: float | None = None  # None: no history yet (the schedule assumes its prior)
    x_like_count: int | None = None
    last_new_like_at: datetime | None = None
    last_viewed_at: datetime | None = None
    parked: bool = False

    @property
    def caught_up(self) -> bool:
        """Its history is stored and no walk is under way: a sync reads only what is new (the probe applies,
        and what it finds is new activity, not a backfill's)."""
        return self.history_complete and self.walk is None

    def owned_by(self, x_user_id: str | None) -> bool:
        """Whether this X account owns the subscription (a subscription with no known X user id has no owner)."""
        return x_user_id is not None and self.x_user_id == x_user_id

    def next_attempt_at(self, now: datetime) -> datetime | None:
        """When X is next asked: SQS's retry of a failed sync while it lies ahead, else the schedule's next sync
        (an overdue retry may have gone to the DLQ with its message; the schedule takes over at next_sync_at)."""
        if self.retry_at is not None and self.retry_at > now:
            return self.retry_at
        return self.next_sync_at

    def public_json(self) -> dict[str, Any]:
        """What the api shows about a subscription: no ids or cursors a visitor has no use for."""
        return {
            "username": self.display_username,
            "visibility": self.visibility.value,
            "status": self.status.value,
            "like_count": self.like_count,
            "history_complete": self.history_complete,
            "created_at": _iso(self.created_at),
            "last_sync_at": _iso(self.last_sync_at),
            "next_sync_at": _iso(self.next_sync_at),
            "retry_at": _iso(self.retry_at),
            "last_error": self.last_error,
        }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class RateLimit:
    """X's x-rate-limit-* headers from one response; the table keeps the last ones for every worker."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Usage:
    """What the app read from X in one period (a UTC day `YYYY-MM-DD` or month `YYYY-MM`), all subscribers
    together: posts read (reserved before each request, settled after it, so it never passes the budget), X
    requests, and the other counters the workers keep for `random-likes cost` (names in shared/usage.py)."""

    day: str
    posts_read: int
    x_requests: int
    counters: Mapping[str, int] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return int(self.counters.get(name, 0))


@dataclass(frozen=True)
class Budgets:
    """The app's own limits on post reads: per UTC day and per calendar month (UTC); 0 = none of its own."""

    daily: int = 0
    monthly: int = 0

    @property
    def any(self) -> bool:
        return self.daily > 0 or self.monthly > 0

    def left(self, day_read: int, month_read: int) -> int:
        """Post reads left, today's or this month's whichever is fewer (a large number with no budget)."""
        lefts = [1 << 40]
        if self.daily > 0:
            lefts.append(self.daily - day_read)
        if self.monthly > 0:
            lefts.append(self.monthly - month_read)
        return max(0, min(lefts))


@dataclass(frozen=True)
class SyncPause:
    """Syncing is paused for every subscription until `until`: `reason` is daily_budget, monthly_budget or
    x_usage_cap (X answered usage-capped)."""

    until: datetime
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"until": _iso(self.until) or "", "reason": self.reason}


@dataclass(frozen=True)
class XUser:
    """Who X says a username is: the id a subscription's likes are read with, and the name as X spells it."""

    id: str
    username: str
    name: str
    profile_image_url: str | None = None


@dataclass(frozen=True)
class Session:
    """A signed-in browser, as stored: the SHA-256 of its id (never the id), its owner and its expiry."""

    id_hash: str
    x_user_id: str
    created_at: datetime
    expires_at: datetime
    # Who the owner is on X, as /2/users/me said at sign-in (what /api/me shows beside the subscription).
    name: str = ""
    profile_image_url: str | None = None


@dataclass(frozen=True)
class PendingLogin:
    """A Connect with X under way: what the callback needs (the PKCE verifier, where to go next) and the hash of
    the nonce in the browser's binding cookie. Stored under the hash of its state, used once."""

    verifier: str = field(repr=False)
    next_path: str
    binding_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class LikesPage:
    posts: tuple[Post, ...]
    next_token: str | None
    rate: RateLimit
    # Partial errors X returned with the page (deleted or protected posts): counted, never fatal.
    skipped: int = 0
    result_count: int = 0


@dataclass(frozen=True)
class SyncOutcome:
    """What one sync did, for the log line and the metrics."""

    username: str
    status: SubscriberStatus
    new_likes: int = 0
    pages: int = 0
    posts_read: int = 0
    deferred_until: datetime | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False  # another sync held the subscriber (or it was gone): nothing was read or written


class ImportStatus(StrEnum):
    """Where an archive import stands (the import routes' `status`)."""

    WAITING_FOR_UPLOAD = "waiting_for_upload"  # the presigned POST is out; no upload has arrived yet
    IMPORTING = "importing"  # the upload arrived: the import function validates it, then writes the likes
    DONE = "done"
    FAILED = "failed"  # `error` says why; nothing of a failed validation was stored


class ImportOrigin(StrEnum):
    """Who started an import: the signed-in owner (the page) or the operator (`random-likes import`). Both may
    upload a bare like.js, which has no account.js to check the archive's owner against."""

    OWNER = "owner"
    OPERATOR = "operator"


@dataclass(frozen=True)
class ArchiveImport:
    """One archive import into one subscription, as its item records it. The counts are the API's."""

    id: str
    subscriber: str  # the subscription's key (its partition SUB#<key>)
    status: ImportStatus
    origin: ImportOrigin
    created_at: datetime
    updated_at: datetime  # every step of the importer moves it on: an `importing` import that stops moving stalled
    upload_deadline: datetime  # when the presigned POST expires
    object_key: str  # uploads/<subscriber>/<id>.tar.gz
    likes_found: int = 0  # likes in the archive (known once the parse pass is through)
    likes_stored: int = 0  # new to the subscription, stored by this import
    likes_already_stored: int = 0  # already stored (by a sync, an earlier import, or twice in this archive)
    position: int = 0  # the write pass's checkpoint: archive entries done, in bundle order
    validated: bool = False  # the parse pass found every part well-formed and the archive the owner's
    error_code: str | None = None
    error_message: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)


@dataclass(frozen=True)
class ImportProgress:
    """An import's write pass so far (its checkpoint): archive entries done, in bundle order, and what they were."""

    position: int = 0
    likes_stored: int = 0
    likes_already_stored: int = 0
