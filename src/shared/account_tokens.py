"""A connected account's access token, fresh when a sync needs it: read, refreshed under a lock, revoked.

X's access tokens last 2 hours and its refresh tokens work once, so two workers must never both spend one:
a worker takes a short lock on the account's tokens (a conditional write) BEFORE it calls X's token endpoint,
stores the rotated tokens (conditional on the connection it read and on still holding the lock) and only
then uses the new access token. A worker that finds the lock taken waits a little and reads the tokens the
lock holder stored. Tokens X refuses (invalid_grant), tokens that are gone, and tokens that do not decrypt
under the account's id all mean one thing: only the owner can fix it, by connecting again.

Domain code: the token store and X's OAuth 2.0 endpoints are ports; no token ever reaches a log or an error.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.clock import Clock
from shared.errors import DomainError, XGrantInvalid
from shared.tokens import TokenSet

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)  # refresh a token that expires within this: a sync must not outlive it
LOCK_FOR = timedelta(seconds=30)  # far longer than one token call (3 s connect + 5 s read), short if we crash


@dataclass(frozen=True)
class StoredTokens:
    """An account's tokens as stored: the connection they belong to (`generation`) and its lock, if held."""

    x_user_id: str
    tokens: TokenSet
    generation: str
    lock_until: datetime | None = None


class ReconnectNeeded(DomainError):
    """The account's tokens cannot be used (gone, refused by X, or not decryptable under its id): only its
    owner can fix it, by connecting again. Never retried; the subscriber shows `reconnect_needed`."""


class TokensUnreadable(DomainError):
    """The stored ciphertext does not decrypt under this account's id (KMS context mismatch) or is not a
    token set: the store says so instead of failing on every sync."""


class TokensBusy(DomainError):
    """Another worker held the account's token lock for longer than we wait: transient, SQS retries."""


class TokenPort(Protocol):
    def get(self, x_user_id: str) -> StoredTokens | None: ...

    def lock(self, x_user_id: str, owner: str, now: datetime, hold_for: timedelta) -> StoredTokens | None: ...

    def store_rotated(
        self, x_user_id: str, tokens: TokenSet, *, generation: str, owner: str, now: datetime
    ) -> bool: ...

    def release(self, x_user_id: str, owner: str) -> None: ...

    def delete(self, x_user_id: str) -> None: ...


class OAuth2Port(Protocol):
    def refresh(self, refresh_token: str, now: datetime) -> TokenSet: ...

    def revoke(self, token: str, hint: str) -> None: ...


@dataclass
class AccountTokens:
    """Fresh access tokens for syncs, and revocation on disconnect. `oauth` is called only when X's token
    endpoint is needed (it reads the client secret), `sleep` is how a worker waits for another's refresh."""

    store: TokenPort
    oauth: Callable[[], OAuth2Port]
    clock: Clock
    refresh_margin: timedelta = REFRESH_MARGIN
    lock_for: timedelta = LOCK_FOR
    wait_step: float = 0.5  # seconds between reads while another worker refreshes
    sleep: Callable[[float], None] = time.sleep
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)  # this worker, as the lock names it

    def access_token(self, x_user_id: str, *, refused: str | None = None) -> str:
        """A live access token of the account, refreshed first if it expires soon. ReconnectNeeded if none can
        be had; XTransient / XOAuthFailed / TokensBusy are passing or operator failures (the message retries).

        `refused`: an access token X has just refused (401) although it had not expired by our clock. X's clock
        decides, and X may end a token early: that token counts as expired, so it is refreshed (once, under the
        lock; a token another worker stored meanwhile is used as it is). If the grant itself is gone the refresh
        says so (invalid_grant) and the account is ReconnectNeeded."""
        waited = 0.0
        while True:
            current = self._read(x_user_id)
            if self._fresh(current.tokens, refused):
                return current.tokens.access_token
            locked = self._lock(x_user_id)
            if locked is None:
                # Another worker is refreshing: its new tokens will be stored within its lock.
                if waited >= self.lock_for.total_seconds() + self.wait_step:
                    raise TokensBusy("another worker kept the account's token lock; trying again later")
                if waited == 0:
                    log.info("waiting for another worker's token refresh", extra={"x_user_id": x_user_id})
                self.sleep(self.wait_step)
                waited += self.wait_step
                continue
            token = self._refresh_locked(locked, refused)
            if token is not None:
                return token
            # The account was connected again (or disconnected) meanwhile: read what is stored now.

    def disconnect(self, x_user_id: str) -> bool:
        """Revoke the account's tokens at X (best effort) and delete them. False: there were none."""
        try:
            stored = self.store.get(x_user_id)
        except TokensUnreadable:
            log.warning("the account's tokens do not decrypt; deleting them unrevoked", extra={"x_user_id": x_user_id})
            self.store.delete(x_user_id)
            return True
        if stored is None:
            return False
        self._revoke(x_user_id, stored.tokens)
        self.store.delete(x_user_id)
        log.info("account tokens revoked and deleted", extra={"x_user_id": x_user_id})
        return True

    # --- internals --------------------------------------------------------------------------------------

    def _read(self, x_user_id: str) -> StoredTokens:
        try:
            stored = self.store.get(x_user_id)
        except TokensUnreadable as exc:
            raise ReconnectNeeded(f"the stored tokens of this account cannot be read ({exc})") from None
        if stored is None:
            raise ReconnectNeeded("no tokens are stored for this account: connect with X again")
        return stored

    def _lock(self, x_user_id: str) -> StoredTokens | None:
        try:
            return self.store.lock(x_user_id, self.owner, self.clock.now(), self.lock_for)
        except TokensUnreadable as exc:
            raise ReconnectNeeded(f"the stored tokens of this account cannot be read ({exc})") from None

    def _fresh(self, tokens: TokenSet, refused: str | None = None) -> bool:
        if refused is not None and tokens.access_token == refused:
            return False
        return tokens.expires_at - self.refresh_margin > self.clock.now()

    def _refresh_locked(self, locked: StoredTokens, refused: str | None = None) -> str | None:
        """Under the lock: refresh (unless the tokens read with the lock are fresh already) and store the new
        tokens before anyone uses them. None: the account changed meanwhile and the store refused ours."""
        x_user_id = locked.x_user_id
        stored = False
        try:
            if self._fresh(locked.tokens, refused):
                return locked.tokens.access_token  # refreshed by another worker between our read and our lock
            if not locked.tokens.refresh_token:
                raise ReconnectNeeded("X gave this account no refresh token (offline.access): connect again")
            now = self.clock.now()
            try:
                new = self.oauth().refresh(locked.tokens.refresh_token, now)
            except XGrantInvalid as exc:
                if self._rotated_since(locked):
                    # Our lock ran out while X was slow and another worker refreshed (or the owner reconnected):
                    # the grant lives on, under tokens we have not read yet.
                    log.warning(
                        "the refresh token was spent by another worker; reading again", extra={"x_user_id": x_user_id}
                    )
                    return None
                raise ReconnectNeeded(f"X refused to refresh the account's token: {exc}") from None
            # Stored before it is used: the old refresh token is spent, this one is the only way on.
            stored = self.store.store_rotated(
                x_user_id, new, generation=locked.generation, owner=self.owner, now=self.clock.now()
            )
            if not stored:
                log.warning(
                    "the account's tokens changed during a refresh (reconnected or disconnected); reading them again",
                    extra={"x_user_id": x_user_id},
                )
                if self._gone(x_user_id):
                    # Disconnected meanwhile: the tokens X just gave are nobody's now; end them too.
                    self._revoke(x_user_id, new)
                return None
            log.info("access token refreshed", extra={"x_user_id": x_user_id, "expires_at": new.expires_at.isoformat()})
            return new.access_token
        finally:
            if not stored:
                self._release(x_user_id)

    def _revoke(self, x_user_id: str, tokens: TokenSet) -> None:
        """Revoke at X, best effort. The refresh token first: it ends the grant (the access token would die
        within 2 hours anyway). A failure is logged, without the token, and does not stop a deletion."""
        for hint, token in (("refresh_token", tokens.refresh_token), ("access_token", tokens.access_token)):
            if not token:
                continue
            try:
                self.oauth().revoke(token, hint)
            except Exception as exc:  # a failed revoke must not keep the tokens (or the likes) here
                log.warning(
                    "could not revoke a token at X; deleting it anyway",
                    extra={"x_user_id": x_user_id, "token_type": hint, "reason": type(exc).__name__},
                )

    def _rotated_since(self, locked: StoredTokens) -> bool:
        try:
            now = self.store.get(locked.x_user_id)
        except TokensUnreadable:
            return False
        return now is not None and (
            now.generation != locked.generation or now.tokens.refresh_token != locked.tokens.refresh_token
        )

    def _gone(self, x_user_id: str) -> bool:
        try:
            return self.store.get(x_user_id) is None
        except TokensUnreadable:
            return False

    def _release(self, x_user_id: str) -> None:
        try:
            self.store.release(x_user_id, self.owner)
        except Exception:
            # The lock runs out by itself within lock_for; the next worker waits at most that long.
            log.exception("could not release the account's token lock", extra={"x_user_id": x_user_id})
