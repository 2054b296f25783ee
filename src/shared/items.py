"""The table's item types as pynamodb models. Only store.py uses them; everything above sees domain objects.

One table (DESIGN.md): a subscriber's profile, its likes by slot and its post markers share the partition
`SUB#<username>`; app-wide counters live under `APP`. The table name, region and endpoint are bound at run
time by `bind()`, never at import.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

DUE_INDEX = "DueIndex"
DUE_PK = "SUB"  # every live subscriber carries it, so the index lists exactly the subscribers
PROFILE_SK = "PROFILE"
SLOT_PREFIX = "SLOT#"
POST_PREFIX = "POST#"
APP_PK = "APP"


def subscriber_pk(username: str) -> str:
    return f"SUB#{username}"


def slot_sk(slot: int) -> str:
    # Zero-padded so slots sort numerically; 10 digits outlast any like count X can have.
    return f"{SLOT_PREFIX}{slot:010d}"


def post_sk(post_id: str) -> str:
    return f"{POST_PREFIX}{post_id}"


class _Meta:
    table_name: str | None = None
    region: str | None = None
    host: str | None = None
    max_retry_attempts = 3
    connect_timeout_seconds = 3
    read_timeout_seconds = 5


class DueIndex(GlobalSecondaryIndex["ProfileItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only subscriber profiles carry `due_pk`, so querying it never touches a like."""

    class Meta:
        index_name = DUE_INDEX
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    next_sync_at = NumberAttribute(range_key=True)


class ProfileItem(Model):
    class Meta(_Meta):
        pass

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
    last_sync_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    sync_count = NumberAttribute(default=0)
    posts_read = NumberAttribute(default=0)
    x_requests = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    lock_until = NumberAttribute(null=True)

    due_index = DueIndex()


class SlotItem(Model):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute()
    post = JSONAttribute()
    source = UnicodeAttribute(default="api")
    first_seen_at = UTCDateTimeAttribute()


class PostMarkerItem(Model):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    slot = NumberAttribute()


class AppItem(Model):
    """App-wide state: X's rate-limit window, today's post reads, the fetcher's last run."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True, default=APP_PK)
    sk = UnicodeAttribute(range_key=True)
    posts_read = NumberAttribute(null=True)
    x_requests = NumberAttribute(null=True)
    remaining = NumberAttribute(null=True)
    reset_at = NumberAttribute(null=True)
    last_run_at = UTCDateTimeAttribute(null=True)
    detail = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL


ALL_ITEMS: tuple[type[Model], ...] = (ProfileItem, SlotItem, PostMarkerItem, AppItem)


def bind(table_name: str, region: str, host: str | None) -> None:
    """Point every item type at one table. Called once per cold start, from the store's constructor."""
    for item in ALL_ITEMS:
        meta: Any = item.Meta
        meta.table_name = table_name
        meta.region = region
        meta.host = host
