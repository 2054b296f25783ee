"""The operator's own account and subscriptions stored before accounts: `subscribers add` and `migrate`.

X shows a person's likes to that person only, so the operator's OAuth 1.0a credentials (the SSM SecureString
the worker reads) can read exactly one account's likes: their own. `subscribers add NAME` asks X who those
credentials belong to (`GET /2/users/me`) and subscribes that account, keyed and owned by its X user id, so
its owner finds it after Connect with X. Any other name is refused with the reason, before anything is written.

`migrate` moves each subscription stored before accounts (keyed by its username) to its X user id: its likes
are copied to the new partition, the name's lookup item is written and the old profile is marked for deletion
in one transaction, and the worker purges the old partition (a purge message, retried like any other). It is
idempotent: a rerun finds nothing left to move. A subscription whose X user id was never learnt (it never
synced) has no owner to give it; it stays private (nobody can see it) and is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ops.errors import OpsError, error_code
from ops.subscribers import LEASE
from shared.enqueue import send_leased
from shared.errors import XError
from shared.models import AuthKind, Subscriber, SubscriberStatus, Visibility, XUser
from shared.settings import DEFAULT_X_API_BASE_URL
from shared.store import SubscriberStore
from shared.store.items import (
    DUE_PK,
    NAME_SK,
    PROFILE_SK,
    ProfileItem,
    Table,
    epoch,
    name_pk,
    subscriber_pk,
)
from shared.sync_queue import SyncQueue, SyncRequest

if TYPE_CHECKING:
    from shared.x_client import XClient, XCredentials

MIGRATION_LOCK = timedelta(minutes=15)  # no sync writes the old partition while its likes are copied


# --- subscribers add --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackX:
    """Where the stack's worker reads X, and with which operator credentials (the stack's parameters)."""

    base_url: str
    credentials_parameter: str


def stack_x(cloudformation: Any, stack_name: str) -> StackX:
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}
    return StackX(
        base_url=parameters.get("XApiBaseUrl") or DEFAULT_X_API_BASE_URL,
        credentials_parameter=parameters.get("XCredentialsParameter") or "/random-likes/prod/x-credentials",
    )


def operator_account(ssm: Any, where: StackX, *, client: Callable[[XCredentials, str], XClient] | None = None) -> XUser:
    """Who the operator's credentials belong to, as X says. (tweepy is loaded here, for this one command: the
    rest of the CLI never pays for it.)"""
    from shared.x_client import XClient, XCredentials  # noqa: PLC0415

    client = client or XClient
    try:
        raw = ssm.get_parameter(Name=where.credentials_parameter, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            raise OpsError(
                f"the operator's X credentials are not stored at {where.credentials_parameter}",
                hint="aws ssm put-parameter --type SecureString --name ... (see the README's deploy steps)",
            ) from None
        raise
    try:
        credentials = XCredentials.from_json(raw)
    except ValueError as exc:
        raise OpsError(f"{where.credentials_parameter} does not hold X credentials: {exc}") from None
    try:
        return client(credentials, where.base_url).me()
    except XError as exc:
        raise OpsError(f"X would not say whose the operator's credentials are: {exc}") from None


@dataclass(frozen=True)
class Added:
    subscriber: Subscriber
    created: bool
    enqueued: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.subscriber.display_username,
            "x_user_id": self.subscriber.x_user_id,
            "visibility": self.subscriber.visibility.value,
            "created": self.created,
            "first_sync_enqueued": self.enqueued,
        }


def add_operator_subscription(
    store: SubscriberStore, queue: SyncQueue, name: str, me: XUser, *, public: bool, now: datetime
) -> Added:
    """Subscribe the operator's own account, owned by its X user id; refuse any other name."""
    if me.username.lower() != name:
        raise OpsError(
            f"the stack's X credentials belong to @{me.username}, not @{name}; X shows likes to their owner only",
            hint=f"subscribe @{me.username}, or have @{name} use Connect with X on the page",
        )
    visibility = Visibility.PUBLIC if public else Visibility.PRIVATE
    sub, created = store.create_subscriber(
        me.id, me.username, now, now + LEASE, x_user_id=me.id, visibility=visibility, auth=AuthKind.OPERATOR
    )
    if not created and public and sub.visibility is not Visibility.PUBLIC:
        sub = store.set_visibility(sub.key, Visibility.PUBLIC) or sub
    enqueued = False
    if created:
        enqueued = not send_leased(
            [SyncRequest(subscriber=sub.key, reason="subscribe")], store=store, queue=queue, now=now
        )
    return Added(sub, created, enqueued)


# --- migrate ----------------------------------------------------------------------------------------------


def is_legacy(sub: Subscriber) -> bool:
    """Stored before accounts: keyed by its username rather than its owner's X user id."""
    return sub.key != sub.x_user_id


@dataclass
class MigrationReport:
    moved: list[dict[str, Any]] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)  # never synced: no X user id to own it
    skipped: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "moved": self.moved, "unowned": self.unowned, "skipped": self.skipped}


def migrate(
    table: Table,
    store: SubscriberStore,
    queue: SyncQueue,
    *,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> MigrationReport:
    report = MigrationReport(dry_run=dry_run)
    for sub in [s for s in store.iter_subscribers() if is_legacy(s)]:
        if sub.x_user_id is None:
            report.unowned.append(sub.display_username)
            continue
        if store.get_subscriber(sub.x_user_id, consistent=True) is not None:
            report.skipped.append(
                {
                    "username": sub.display_username,
                    "reason": "its owner has connected already: that subscription is kept",
                }
            )
            continue
        if dry_run:
            report.moved.append({"username": sub.display_username, "x_user_id": sub.x_user_id, "likes": sub.like_count})
            continue
        locked = store.acquire(sub.key, now, MIGRATION_LOCK)
        if locked is None:
            report.skipped.append({"username": sub.display_username, "reason": "a sync holds it; run migrate again"})
            continue
        copied = _copy_likes(table, locked, progress)
        if not _switch(table, locked, now):
            report.skipped.append(
                {"username": sub.display_username, "reason": "it changed meanwhile; run migrate again"}
            )
            continue
        if queue.send([SyncRequest(subscriber=locked.key, reason="migrate", action="purge")]):
            report.skipped.append({"username": sub.display_username, "reason": "the old copy's purge was not enqueued"})
        report.moved.append({"username": locked.display_username, "x_user_id": locked.x_user_id, "likes": copied})
        progress(f"moved @{locked.display_username}: {copied} likes")
    return report


def _copy_likes(table: Table, sub: Subscriber, progress: Callable[[str], None]) -> int:
    """Copy every slot and post marker of the old partition to the new one (idempotent: the same items)."""
    new_pk = subscriber_pk(str(sub.x_user_id))
    slots = 0
    with table.slot.batch_write() as batch:
        for item in table.slot.query(subscriber_pk(sub.key), table.slot.sk.startswith("SLOT#")):
            batch.save(
                table.slot(
                    new_pk,
                    item.sk,
                    post_id=item.post_id,
                    post=item.post,
                    source=item.source,
                    first_seen_at=item.first_seen_at,
                )
            )
            slots += 1
            if slots % 500 == 0:
                progress(f"@{sub.display_username}: {slots} of {sub.like_count} likes copied")
    with table.marker.batch_write() as batch:
        for marker in table.marker.query(subscriber_pk(sub.key), table.marker.sk.startswith("POST#")):
            batch.save(table.marker(new_pk, marker.sk, slot=marker.slot, source=marker.source))
    return slots


def _switch(table: Table, sub: Subscriber, now: datetime) -> bool:
    """In one transaction: the new profile, the name's lookup item, and the old profile hidden for its purge."""
    owner = str(sub.x_user_id)
    old = table.profile.get(subscriber_pk(sub.key), PROFILE_SK, consistent_read=True)
    new = table.profile(subscriber_pk(owner), PROFILE_SK)
    for name, value in old.attribute_values.items():
        if name not in ("pk", "sk", "lock_until"):
            setattr(new, name, value)
    new.visibility = Visibility.PRIVATE.value
    new.auth = AuthKind.OPERATOR.value
    new.due_pk = DUE_PK
    new.next_sync_at = epoch(now)  # sync it soon under its new key
    new.version = 1
    try:
        with TransactWrite(connection=table.connection) as tx:
            tx.save(new, condition=ProfileItem.pk.does_not_exist())
            tx.save(table.names(name_pk(sub.username), NAME_SK, key=owner))
            tx.update(
                table.profile(subscriber_pk(sub.key), PROFILE_SK),
                actions=[
                    ProfileItem.status.set(SubscriberStatus.DELETING.value),
                    ProfileItem.due_pk.remove(),
                    ProfileItem.next_sync_at.remove(),
                    ProfileItem.version.add(1),
                ],
                condition=ProfileItem.version == sub.version,
            )
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise
    return True
