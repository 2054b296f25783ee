"""Signed-in sessions and pending logins: small items beside the subscriptions, each expired by the table's TTL
(and checked on every read, since TTL deletes lazily). Only hashes of the session ids and states are keys.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, UpdateError

from shared.models import PendingLogin, Session
from shared.store.items import (
    LOGIN_PREFIX,
    LOGIN_SK,
    SESSION_PREFIX,
    SESSION_SK,
    LoginItem,
    SessionItem,
    Table,
    condition_failed,
    epoch,
)


class SessionStore:
    def __init__(self, table: Table) -> None:
        self._items = table.sessions

    def put_session(self, session: Session) -> None:
        self._items(
            pk=SESSION_PREFIX + session.id_hash,
            sk=SESSION_SK,
            x_user_id=session.x_user_id,
            created_at=session.created_at,
            expires_at=epoch(session.expires_at),
            name=session.name or None,
            profile_image_url=session.profile_image_url,
        ).save()

    def get_session(self, id_hash: str) -> Session | None:
        try:
            item = self._items.get(SESSION_PREFIX + id_hash, SESSION_SK)
        except self._items.DoesNotExist:
            return None
        return Session(
            id_hash=id_hash,
            x_user_id=item.x_user_id,
            created_at=item.created_at,
            expires_at=_at(item.expires_at),
            name=item.name or "",
            profile_image_url=item.profile_image_url,
        )

    def extend_session(self, session: Session, expires_at: datetime) -> bool:
        """Slide a session's expiry on, once (conditional on the expiry we read: concurrent requests extend once)."""
        item = self._items(pk=SESSION_PREFIX + session.id_hash, sk=SESSION_SK)
        try:
            item.update(
                actions=[SessionItem.expires_at.set(epoch(expires_at))],
                condition=SessionItem.expires_at == epoch(session.expires_at),
            )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def delete_session(self, id_hash: str) -> None:
        self._items(pk=SESSION_PREFIX + id_hash, sk=SESSION_SK).delete()


class LoginStore:
    def __init__(self, table: Table) -> None:
        self._items = table.logins

    def put_login(self, state_hash: str, login: PendingLogin) -> None:
        self._items(
            pk=LOGIN_PREFIX + state_hash,
            sk=LOGIN_SK,
            verifier=login.verifier,
            next_path=login.next_path,
            binding_hash=login.binding_hash,
            expires_at=epoch(login.expires_at),
        ).save()

    def consume_login(self, state_hash: str) -> PendingLogin | None:
        """Take a pending login out of the table and return it, in one conditional DeleteItem (ALL_OLD): two
        callbacks with the same state never both get it."""
        connection = self._items._get_connection()  # pynamodb's own table connection
        try:
            response = connection.delete_item(
                LOGIN_PREFIX + state_hash, LOGIN_SK, condition=LoginItem.pk.exists(), return_values="ALL_OLD"
            )
        except DeleteError as exc:
            if condition_failed(exc):
                return None
            raise
        attributes = response.get("Attributes")
        if not attributes:
            return None
        item = self._items.from_raw_data(attributes)
        return PendingLogin(
            verifier=item.verifier,
            next_path=item.next_path,
            binding_hash=item.binding_hash,
            expires_at=_at(item.expires_at),
        )


def _at(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)
