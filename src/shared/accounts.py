"""Accounts: Connect with X (a pending login, then the connection itself) and the sessions that follow.

No boto3 and no HTTP here: the stores, the token store and the queue are ports, the api's auth routes drive
this module. Secrets (states, verifiers, binding nonces, session ids, tokens) are generated here and leave it
only towards the browser or X; the table keeps SHA-256 hashes of the ones that are keys, and no log line here
carries any of them.

When a session ends, all at once: a session is valid only while its owner's subscription exists, is not being
deleted, and was created no later than the session (`session.created_at >= subscription.created_at`). So a
disconnect (the subscription marked deleting, then purged) ends every session of the owner at once, and a
reconnect after the purge (a new subscription) does not bring an old session back. No session list to walk.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.enqueue import send_leased
from shared.errors import BeingDeleted, ConcurrentUpdate, DomainError
from shared.models import (
    AuthKind,
    PendingLogin,
    Session,
    Subscriber,
    SubscriberStatus,
    Visibility,
    XUser,
)
from shared.subscriptions import RETRYABLE, SubscriptionStore
from shared.sync_queue import SyncQueue, SyncRequest
from shared.tokens import TokenSet

log = logging.getLogger(__name__)

LOGIN_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(days=30)
# A session's expiry slides on with use, but is written at most once a day.
SESSION_EXTEND_AFTER = timedelta(days=1)
MAX_SECRET_LENGTH = 200  # longer than anything this module hands out; a longer cookie or state is not ours
# A subscriber in one of these is pending again when its owner connects (again).
REARM_ON_CONNECT = RETRYABLE | {SubscriberStatus.RECONNECT_NEEDED}


class LoginFailed(DomainError):
    """The callback cannot finish a login. `reason` says which page the person sees (never a secret)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # expired | not_bound | denied | x_failed | being_deleted


def digest(secret: str) -> str:
    """The SHA-256 (hex) of a secret: what the table keys sessions and pending logins by."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# --- pending logins --------------------------------------------------------------------------------------


class LoginPort(Protocol):
    def put_login(self, state_hash: str, login: PendingLogin) -> None: ...

    def consume_login(self, state_hash: str) -> PendingLogin | None: ...


@dataclass(frozen=True)
class LoginStart:
    """What `GET /auth/x/login` hands out: the state and challenge for X, the nonce for the binding cookie."""

    state: str = field(repr=False)
    code_challenge: str
    binding: str = field(repr=False)


def start_login(next_path: str, now: datetime, *, logins: LoginPort) -> LoginStart:
    """Store a pending login (hashed by its state, expiring in minutes) and return what the browser carries."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43..128
    binding = secrets.token_urlsafe(32)
    logins.put_login(
        digest(state),
        PendingLogin(
            verifier=verifier, next_path=next_path, binding_hash=digest(binding), expires_at=now + LOGIN_LIFETIME
        ),
    )
    return LoginStart(state=state, code_challenge=pkce_challenge(verifier), binding=binding)


def finish_login(state: str | None, binding: str | None, now: datetime, *, logins: LoginPort) -> PendingLogin:
    """Consume the pending login of `state` (once, whatever happens next) and check that this browser started
    it. LoginFailed: unknown, used or expired state (`expired`); a missing or wrong binding cookie (`not_bound`)."""
    if not state or len(state) > MAX_SECRET_LENGTH:
        raise LoginFailed("expired", "this sign-in link is not valid")
    login = logins.consume_login(digest(state))
    if login is None or login.expires_at <= now:
        raise LoginFailed("expired", "this sign-in has expired or was already used")
    if (
        not binding
        or len(binding) > MAX_SECRET_LENGTH
        or not secrets.compare_digest(digest(binding), login.binding_hash)
    ):
        raise LoginFailed("not_bound", "this sign-in was started in another browser")
    return login


# --- connecting an account -------------------------------------------------------------------------------


class AccountStore(SubscriptionStore, Protocol):
    def rename(self, sub: Subscriber, display_username: str) -> Subscriber: ...

    def connect(self, sub: Subscriber, x_user_id: str, lease_until: datetime | None) -> Subscriber | None: ...


class TokenWriter(Protocol):
    def put(self, x_user_id: str, tokens: TokenSet, now: datetime) -> None: ...


def connect(
    x_user: XUser,
    tokens: TokenSet,
    now: datetime,
    *,
    store: AccountStore,
    token_store: TokenWriter,
    queue: SyncQueue,
    lease: timedelta,
) -> Subscriber:
    """Create or update the subscription owned by `x_user` and enqueue its first sync (or its re-armed one).

    New: keyed by the X user id, private, read with the owner's token. Existing: its visibility is kept, its
    name follows X's (a rename moves the lookup), and a refused one (`reconnect_needed`, forbidden, ...) is
    pending again. The tokens are stored first: the sync this enqueues needs them.
    """
    token_store.put(x_user.id, tokens, now)
    for _ in range(3):  # a sync or another tab may write the profile between our read and our write
        sub = store.get_subscriber(x_user.id, consistent=True)
        if sub is None:
            sub, created = store.create_subscriber(
                x_user.id,
                x_user.username,
                now,
                now + lease,
                x_user_id=x_user.id,
                visibility=Visibility.PRIVATE,
                auth=AuthKind.OAUTH2,
            )
            if created:
                _enqueue(sub, "connect", store=store, queue=queue, now=now)
                return sub
        if sub.status is SubscriberStatus.DELETING:
            raise BeingDeleted("this account's data is still being deleted; connect again in a minute")
        if sub.display_username != x_user.username:
            sub = store.rename(sub, x_user.username)
            log.info("subscriber renamed on X", extra={"subscriber": sub.key})
        rearm = sub.status in REARM_ON_CONNECT
        updated = store.connect(sub, x_user.id, now + lease if rearm else None)
        if updated is None:
            continue
        if rearm:
            _enqueue(updated, "reconnect", store=store, queue=queue, now=now)
        return updated
    raise ConcurrentUpdate(f"subscriber {x_user.id} kept changing while connecting")


def _enqueue(sub: Subscriber, reason: str, *, store: AccountStore, queue: SyncQueue, now: datetime) -> None:
    if send_leased([SyncRequest(subscriber=sub.key, reason=reason)], store=store, queue=queue, now=now):
        log.warning("first sync not enqueued; the schedule will pick it up", extra={"subscriber": sub.key})
    else:
        log.info("sync enqueued", extra={"subscriber": sub.key, "reason": reason})


# --- sessions --------------------------------------------------------------------------------------------


class SessionPort(Protocol):
    def put_session(self, session: Session) -> None: ...

    def get_session(self, id_hash: str) -> Session | None: ...

    def extend_session(self, session: Session, expires_at: datetime) -> bool: ...

    def delete_session(self, id_hash: str) -> None: ...


class OwnerLookup(Protocol):
    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None: ...


@dataclass(frozen=True)
class SignedIn:
    """A request's valid session and its owner's subscription (as just read)."""

    session: Session
    subscriber: Subscriber


def open_session(x_user: XUser, now: datetime, *, sessions: SessionPort) -> str:
    """A new session for `x_user`: returns its id (for the cookie only); the table keeps its hash."""
    session_id = secrets.token_urlsafe(32)  # 256 bits
    sessions.put_session(
        Session(
            id_hash=digest(session_id),
            x_user_id=x_user.id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            name=x_user.name,
            profile_image_url=x_user.profile_image_url,
        )
    )
    return session_id


def signed_in(
    session_id: str | None, now: datetime, *, sessions: SessionPort, subscribers: OwnerLookup
) -> SignedIn | None:
    """The session a cookie names, if it is valid now (see the module docstring), its expiry slid on."""
    if not session_id or len(session_id) > MAX_SECRET_LENGTH:
        return None
    session = sessions.get_session(digest(session_id))
    if session is None or session.expires_at <= now:
        return None
    sub = subscribers.get_subscriber(session.x_user_id)
    if sub is None or sub.status is SubscriberStatus.DELETING or session.created_at < sub.created_at:
        return None
    if session.expires_at - now < SESSION_LIFETIME - SESSION_EXTEND_AFTER:
        sessions.extend_session(session, now + SESSION_LIFETIME)
    return SignedIn(session=session, subscriber=sub)


def end_session(session_id: str | None, *, sessions: SessionPort) -> None:
    """Sign out: the session is gone from the table (a copy of the cookie is worth nothing after this)."""
    if session_id and len(session_id) <= MAX_SECRET_LENGTH:
        sessions.delete_session(digest(session_id))
