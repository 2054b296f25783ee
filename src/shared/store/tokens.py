"""The tokens table: one item per connected account, `TOKEN#<x user id>`, holding its KMS-encrypted TokenSet.

The api only ever puts (a new connection replaces the old tokens, with a new generation); the worker reads,
locks, rotates and deletes. The lock (`lock_until`, `lock_owner`) is taken with a conditional UpdateItem
before X's token endpoint is called; the rotated tokens are stored only by the lock's holder and only if
the connection (`generation`) is still the one it read, so a reconnect that happened meanwhile wins.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.models import Model

from shared.account_tokens import StoredTokens, TokensUnreadable
from shared.store.items import bound_model
from shared.tokens import TokenCipher, TokenSet

TOKEN_PREFIX = "TOKEN#"  # noqa: S105 - a key prefix, not a secret


def token_pk(x_user_id: str) -> str:
    return f"{TOKEN_PREFIX}{x_user_id}"


class TokenItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    ciphertext = BinaryAttribute(legacy_encoding=False)
    # A new one on every connect: a refresh that began before a reconnect must not overwrite its tokens.
    generation = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    lock_until = NumberAttribute(null=True)
    lock_owner = UnicodeAttribute(null=True)  # the worker holding the lock (a random id per worker)


@cache
def bind_tokens(table_name: str, region: str, host: str | None = None) -> type[TokenItem]:
    return bound_model(TokenItem, table_name, region, host)


class TokenStore:
    def __init__(self, items: type[TokenItem], cipher: TokenCipher) -> None:
        self._items = items
        self._cipher = cipher

    @classmethod
    def open(cls, table_name: str, region: str, endpoint_url: str | None, cipher: TokenCipher) -> TokenStore:
        return cls(bind_tokens(table_name, region, endpoint_url), cipher)

    def put(self, x_user_id: str, tokens: TokenSet, now: datetime) -> None:
        """Store a freshly connected account's tokens (replacing any older ones). Write-only: reads nothing back."""
        ciphertext = self._cipher.encrypt(x_user_id, tokens.to_json().encode())
        self._items(pk=token_pk(x_user_id), ciphertext=ciphertext, generation=uuid.uuid4().hex, updated_at=now).save()

    def get(self, x_user_id: str) -> StoredTokens | None:
        """The account's tokens, decrypted (None: not connected). TokensUnreadable: not decryptable under its id."""
        try:
            item = self._items.get(token_pk(x_user_id), consistent_read=True)
        except self._items.DoesNotExist:
            return None
        return self._stored(x_user_id, item)

    def lock(self, x_user_id: str, owner: str, now: datetime, hold_for: timedelta) -> StoredTokens | None:
        """Take the account's token lock for `hold_for` if it is free; the tokens as they are now (read by the
        same write), or None if another worker holds the lock or the account has no tokens."""
        free = TokenItem.lock_until.does_not_exist() | (TokenItem.lock_until < _epoch(now))
        item = self._items(pk=token_pk(x_user_id))
        try:
            item.update(
                actions=[TokenItem.lock_until.set(_epoch(now + hold_for)), TokenItem.lock_owner.set(owner)],
                condition=TokenItem.pk.exists() & free,
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return None
            raise
        return self._stored(x_user_id, item)

    def store_rotated(self, x_user_id: str, tokens: TokenSet, *, generation: str, owner: str, now: datetime) -> bool:
        """Store refreshed tokens and release the lock, only if `owner` holds it and the connection is still
        `generation` (False: reconnected, disconnected or the lock was lost; nothing is written)."""
        ciphertext = self._cipher.encrypt(x_user_id, tokens.to_json().encode())
        try:
            self._items(pk=token_pk(x_user_id)).update(
                actions=[
                    TokenItem.ciphertext.set(ciphertext),
                    TokenItem.updated_at.set(now),
                    TokenItem.lock_until.remove(),
                    TokenItem.lock_owner.remove(),
                ],
                condition=(TokenItem.generation == generation) & (TokenItem.lock_owner == owner),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def release(self, x_user_id: str, owner: str) -> None:
        """Release the lock if `owner` still holds it (a lock that ran out and was taken by another stays)."""
        try:
            self._items(pk=token_pk(x_user_id)).update(
                actions=[TokenItem.lock_until.remove(), TokenItem.lock_owner.remove()],
                condition=TokenItem.lock_owner == owner,
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def delete(self, x_user_id: str) -> None:
        try:
            self._items(pk=token_pk(x_user_id)).delete()
        except DeleteError as exc:
            if not _condition_failed(exc):
                raise

    def _stored(self, x_user_id: str, item: TokenItem) -> StoredTokens:
        try:
            plaintext = self._cipher.decrypt(x_user_id, bytes(item.ciphertext))
            tokens = TokenSet.from_json(plaintext)
        except Exception as exc:
            if _kms_refused_ciphertext(exc) or isinstance(exc, ValueError | KeyError | TypeError):
                # Never the ciphertext or the plaintext in the message: only what kind of failure it was.
                raise TokensUnreadable(f"not decryptable as this account's tokens ({type(exc).__name__})") from None
            raise
        lock_until = None if item.lock_until is None else datetime.fromtimestamp(int(item.lock_until), UTC)
        return StoredTokens(x_user_id=x_user_id, tokens=tokens, generation=item.generation, lock_until=lock_until)


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _condition_failed(exc: UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _kms_refused_ciphertext(exc: Exception) -> bool:
    """KMS's answer to a ciphertext made under another encryption context (or for another key)."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("InvalidCiphertextException", "IncorrectKeyException")
