"""A connected account's OAuth 2.0 tokens and the KMS envelope they are stored in.

Tokens are encrypted with the stack's TokensKey under the account's X user id as encryption context: a
ciphertext copied to another account's item does not decrypt. The api may only encrypt (it stores the tokens
of an account that has just connected); only the worker decrypts, refreshes and revokes (template.yaml).
Nothing here ever logs a token: TokenSet hides them from repr.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

CONTEXT_KEY = "x_user_id"


@dataclass(frozen=True)
class TokenSet:
    """What X's token endpoint answered: a 2-hour access token and a rotating, single-use refresh token."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    scope: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": int(self.expires_at.timestamp()),
                "scope": self.scope,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> TokenSet:
        data = json.loads(raw)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromtimestamp(int(data["expires_at"]), UTC),
            scope=str(data.get("scope", "")),
        )

    @classmethod
    def from_token_response(cls, body: dict[str, Any], now: datetime) -> TokenSet:
        """From X's token endpoint answer (RFC 6749 §5.1)."""
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=datetime.fromtimestamp(now.timestamp() + int(body.get("expires_in", 7200)), UTC),
            scope=str(body.get("scope", "")),
        )


class TokenCipher(Protocol):
    def encrypt(self, x_user_id: str, plaintext: bytes) -> bytes: ...

    def decrypt(self, x_user_id: str, ciphertext: bytes) -> bytes: ...


class KmsTokenCipher:
    """KMS Encrypt/Decrypt (a token set is far below KMS's 4 KB limit, so no data key is needed)."""

    def __init__(self, key_id: str, region: str, endpoint_url: str | None = None, *, client: Any = None) -> None:
        self._key_id = key_id
        self._region = region
        self._endpoint_url = endpoint_url
        self._client: Any = client

    def encrypt(self, x_user_id: str, plaintext: bytes) -> bytes:
        answer = self.client().encrypt(
            KeyId=self._key_id, Plaintext=plaintext, EncryptionContext={CONTEXT_KEY: x_user_id}
        )
        return bytes(answer["CiphertextBlob"])

    def decrypt(self, x_user_id: str, ciphertext: bytes) -> bytes:
        answer = self.client().decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext={CONTEXT_KEY: x_user_id}
        )
        return bytes(answer["Plaintext"])

    def client(self) -> Any:
        if self._client is None:
            import botocore.session  # noqa: PLC0415 - made on first use, as the SQS client is

            self._client = botocore.session.get_session().create_client(
                "kms", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client
