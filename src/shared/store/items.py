"""The table's item types as pynamodb models, bound to one table per store, and their keys.

One table (DESIGN.md): a subscriber's profile, its likes by slot and its post markers share the partition
`SUB#<key>` (the owner's X user id; the lowercased username for a subscription stored before accounts);
a lookup item `NAME#<lowercased username>` maps a current name to its key; signed-in sessions
(`SESSION#<hash>`) and pending logins (`LOGIN#<hash>`) live beside them, expired by TTL; app-wide counters
live under `APP`. The classes here name no table. `bind()` makes a set of
subclasses whose `Meta` names one table, so two stores on two tables in one process never share a class
attribute (the base classes are never used to talk to DynamoDB). Only the store modules use these types;
everything above them sees domain objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.models import AuthKind, Subscriber, SubscriberStatus, Visibility, Walk

DUE_INDEX = "DueIndex"
DUE_PK = "SUB"  # every live subscriber carries it, so the index lists exactly the subscribers
PROFILE_SK = "PROFILE"
SLOT_PREFIX = "SLOT#"
POST_PREFIX = "POST#"
APP_PK = "APP"
SUB_PREFIX = "SUB#"
NAME_PREFIX = "NAME#"
NAME_SK = "NAME"
SESSION_PREFIX = "SESSION#"
SESSION_SK = "SESSION"
LOGIN_PREFIX = "LOGIN#"
LOGIN_SK = "LOGIN"
IMPORT_PREFIX = "IMPORT#"  # an archive import, in its subscription's partition: IMPORT#<id>
CURRENT_IMPORT_SK = "IMPORT"  # the subscription's latest import (one at a time runs): its id


# Every counter a USAGE# item keeps (AppItem attributes of these names).
COUNTERS = (
    "posts_read",
    "x_requests",
    "user_reads",
    "syncs",
    "new_likes",
    "ddb_writes",
    "fetcher_runs",
    "messages_sent",
    "worker_ms",
    "fetcher_ms",
)


def counters_to_add(counters: Mapping[str, int]) -> dict[str, int]:
    """The counters that move (non-zero), every name one of COUNTERS (else ValueError: a typo would be lost)."""
    moved = {name: value for name, value in counters.items() if value}
    unknown = set(moved) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    return moved


def subscriber_pk(key: str) -> str:
    return f"{SUB_PREFIX}{key}"


def name_pk(username: str) -> str:
    return f"{NAME_PREFIX}{username}"


def slot_sk(slot: int) -> str:
    # Zero-padded so slots sort numerically; 10 digits outlast any like count X can have.
    return f"{SLOT_PREFIX}{slot:010d}"


def post_sk(post_id: str) -> str:
    return f"{POST_PREFIX}{post_id}"


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class DueIndex(GlobalSecondaryIndex["ProfileItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only subscriber profiles carry `due_pk`, so querying it never touches a like."""

    class Meta:
        index_name = DUE_INDEX
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    next_sync_at = NumberAttribute(range_key=True)


class ProfileItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=PROFILE_SK)
    username = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    like_count = NumberAttribute(default=0)
    x_user_id = UnicodeAttribute(null=True)
    walk_base = NumberAttribute(null=True)
    walk_token = UnicodeAttribute(null=True)
    walk_page_size = NumberAttribute(null=True)
    history_complete = BooleanAttribute(default=False)
    due_pk = UnicodeAttribute(null=True)
    next_sync_at = NumberAttribute(null=True)  # epoch seconds; the DueIndex range key
    retry_at = NumberAttribute(null=True)  # epoch seconds; a failed sync's message comes back then
    last_sync_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    sync_count = NumberAttribute(default=0)
    posts_read = NumberAttribute(default=0)
    x_requests = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    lock_until = NumberAttribute(null=True)
    # Absent on subscriptions stored before accounts: private, read with the operator's credentials.
    visibility = UnicodeAttribute(null=True)
    auth = UnicodeAttribute(null=True)

    due_index = DueIndex()
    # The subscription's own X rate-limit window (connected accounts: X counts requests per user token),
    # from the x-rate-limit-* headers of its last request. Written apart from the sync's optimistic version.
    rate_remaining = NumberAttribute(null=True)
    rate_reset_at = NumberAttribute(null=True)  # epoch seconds
    # The schedule's view of the account (shared/schedule.py; models.Activity).
    like_rate = NumberAttribute(null=True)  # new likes per day, a moving average
    x_like_count = NumberAttribute(null=True)  # like_count from X's /2/users/me at the last probe
    last_new_like_at = NumberAttribute(null=True)  # epoch seconds
    last_viewed_at = NumberAttribute(null=True)  # epoch seconds; written at most once a day per subscription
    parked = BooleanAttribute(null=True)  # waits until its page is opened (next_sync_at removed meanwhile)


class SlotItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute()
    post = JSONAttribute()
    source = UnicodeAttribute(default="api")
    first_seen_at = UTCDateTimeAttribute()


class PostMarkerItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    slot = NumberAttribute()
    source = UnicodeAttribute(null=True)  # who stored the post, unless the API (absent): "archive"


class AppItem(Model):
    """App-wide state: X's rate-limit window, each day's post reads, the fetcher's last run."""

    pk = UnicodeAttribute(hash_key=True, default=APP_PK)
    sk = UnicodeAttribute(range_key=True)
    posts_read = NumberAttribute(null=True)
    x_requests = NumberAttribute(null=True)
    # The other counters of a USAGE# item (COUNTERS), kept by the workers for `random-likes cost`.
    user_reads = NumberAttribute(null=True)  # GET /2/users/me probes (X bills a user read once per user per day)
    syncs = NumberAttribute(null=True)  # worker syncs run
    new_likes = NumberAttribute(null=True)  # likes stored by syncs
    ddb_writes = NumberAttribute(null=True)  # DynamoDB write request units the syncs spent, as counted by them
    fetcher_runs = NumberAttribute(null=True)
    messages_sent = NumberAttribute(null=True)  # sync messages the fetcher enqueued
    worker_ms = NumberAttribute(null=True)  # worker time spent in syncs (milliseconds)
    fetcher_ms = NumberAttribute(null=True)  # fetcher time spent in runs (milliseconds)
    remaining = NumberAttribute(null=True)
    reset_at = NumberAttribute(null=True)
    last_run_at = UTCDateTimeAttribute(null=True)
    detail = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL


class NameItem(Model):
    """`NAME#<lowercased username>` -> the key of the subscription that has that name on X now."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=NAME_SK)
    key = UnicodeAttribute()


class SessionItem(Model):
    """A signed-in browser: only the SHA-256 of its id is stored (the pk), never the id itself."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=SESSION_SK)
    x_user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute (and checked on read: TTL is lazy)
    name = UnicodeAttribute(null=True)
    profile_image_url = UnicodeAttribute(null=True)


class LoginItem(Model):
    """A pending Connect with X, keyed by the SHA-256 of its state; deleted by the callback that uses it."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=LOGIN_SK)
    verifier = UnicodeAttribute()
    next_path = UnicodeAttribute()
    binding_hash = UnicodeAttribute()
    expires_at = NumberAttribute()  # TTL, and checked on read


class ImportItem(Model):
    """An archive import (`IMPORT#<id>` in its subscription's partition): status, counts and checkpoint."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    origin = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    upload_deadline = UTCDateTimeAttribute()
    object_key = UnicodeAttribute()
    likes_found = NumberAttribute(default=0)
    likes_stored = NumberAttribute(default=0)
    likes_already_stored = NumberAttribute(default=0)
    position = NumberAttribute(default=0)
    validated = BooleanAttribute(default=False)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: an import's record outlives it by IMPORT_RECORD_DAYS


class CurrentImportItem(Model):
    """`IMPORT` in a subscription's partition: the id of its latest import. Replacing it is conditional on the
    id read, so two starts never both win; whether that import still runs is its own item's business."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CURRENT_IMPORT_SK)
    import_id = UnicodeAttribute()


@dataclass(frozen=True)
class Table:
    """The item types bound to one table, and a connection to it for transactions."""

    name: str
    profile: type[ProfileItem]
    slot: type[SlotItem]
    marker: type[PostMarkerItem]
    app: type[AppItem]
    connection: Connection
    names: type[NameItem]
    sessions: type[SessionItem]
    logins: type[LoginItem]
    imports: type[ImportItem]
    current_imports: type[CurrentImportItem]


_M = TypeVar("_M", bound=Model)


def bound_model(model: type[_M], table_name: str, region: str, host: str | None) -> type[_M]:
    """`model` as a subclass whose Meta names one table (every table's items are bound this way)."""
    meta = type(
        "Meta",
        (),
        {
            "table_name": table_name,
            "region": region,
            "host": host,
            "max_retry_attempts": 3,
            "connect_timeout_seconds": 3,
            "read_timeout_seconds": 5,
        },
    )
    bound: Any = type(model.__name__, (model,), {"Meta": meta, "__module__": __name__})
    return bound  # type: ignore[no-any-return]


@cache
def bind(table_name: str, region: str, host: str | None = None) -> Table:
    """The item types for one table (made once per table and process; a cold start makes them once)."""
    return Table(
        name=table_name,
        profile=bound_model(ProfileItem, table_name, region, host),
        slot=bound_model(SlotItem, table_name, region, host),
        marker=bound_model(PostMarkerItem, table_name, region, host),
        app=bound_model(AppItem, table_name, region, host),
        connection=Connection(region=region, host=host),
        names=bound_model(NameItem, table_name, region, host),
        sessions=bound_model(SessionItem, table_name, region, host),
        logins=bound_model(LoginItem, table_name, region, host),
        imports=bound_model(ImportItem, table_name, region, host),
        current_imports=bound_model(CurrentImportItem, table_name, region, host),
    )


def condition_failed(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def to_subscriber(item: ProfileItem) -> Subscriber:
    walk = None
    if item.walk_base is not None:
        walk = Walk(
            base=int(item.walk_base),
            token=item.walk_token,
            page_size=int(item.walk_page_size or 100),
        )
    return Subscriber(
        key=item.pk.removeprefix(SUB_PREFIX),
        username=item.username.lower(),
        display_username=item.username,
        status=SubscriberStatus(item.status),
        created_at=item.created_at,
        like_count=int(item.like_count or 0),
        x_user_id=item.x_user_id,
        walk=walk,
        history_complete=bool(item.history_complete),
        next_sync_at=from_epoch(item.next_sync_at),
        retry_at=from_epoch(item.retry_at),
        last_sync_at=item.last_sync_at,
        last_error=item.last_error,
        sync_count=int(item.sync_count or 0),
        posts_read=int(item.posts_read or 0),
        x_requests=int(item.x_requests or 0),
        version=int(item.version or 0),
        visibility=Visibility(item.visibility or Visibility.PRIVATE.value),
        auth=AuthKind(item.auth or AuthKind.OPERATOR.value),
        like_rate=None if item.like_rate is None else float(item.like_rate),
        x_like_count=None if item.x_like_count is None else int(item.x_like_count),
        last_new_like_at=from_epoch(item.last_new_like_at),
        last_viewed_at=from_epoch(item.last_viewed_at),
        parked=bool(item.parked),
    )
