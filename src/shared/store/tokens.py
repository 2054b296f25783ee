"""The tokens table: one item per connected account, `TOKEN#<x user id>`, holding its KMS-encrypted TokenSet.

The api only ever puts (a new connection replaces the old tokens, with a new generation); the worker reads,
locks, rotates and deletes (its methods come with the refresh).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

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


@cache
def bind_tokens(table_name: str, region: str, host: str | None = None) -> type[TokenItem]:
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
    bound: Any = type("TokenItem", (TokenItem,), {"Meta": meta, "__module__": __name__})
    return bound  # type: ignore[no-any-return]


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
