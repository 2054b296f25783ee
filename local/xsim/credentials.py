"""The demo app's fake keys and each demo account's OAuth 1.0a user tokens, derived from the seed.

Nothing here is a real credential, and nothing looks like one: every value starts with `xsim`. The same seed
gives the same keys, so a process that knows the seed (the offline stack) can configure its X client
without asking the simulator.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from local.xsim.data import Account

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class OAuth1Credentials:
    """An app's consumer key and secret with one user's access token and secret (OAuth 1.0a user context)."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)

    def as_dict(self) -> dict[str, str]:
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }


@dataclass(frozen=True)
class OAuth2Client:
    """The demo app as an OAuth 2.0 confidential client (X's "Web App" type: client secret + PKCE)."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class UserToken:
    user_id: str
    secret: str = field(repr=False)


class Credentials:
    """The demo app (owned by `owner`) and a user token for every account."""

    def __init__(self, seed: int, accounts: Iterable[Account], *, owner: Account) -> None:
        self._key = f"xsim:{seed}".encode()
        self.app_id = str(int(self._derive("app-id", 16, alphabet="0123456789")) + 10**16)
        self.owner_id = owner.id
        self.consumer_key = "xsim" + self._derive("consumer-key", 21)
        self.consumer_secret = "xsim" + self._derive("consumer-secret", 46)
        self.bearer_token = "xsim-bearer-" + self._derive("bearer", 60)
        self.oauth2 = OAuth2Client(
            client_id="xsim-" + self._derive("client-id", 29),
            client_secret="xsim-" + self._derive("client-secret", 45),
        )
        self._tokens: dict[str, UserToken] = {}
        self._by_username: dict[str, str] = {}
        for account in accounts:
            token = f"{account.id}-xsim{self._derive('access-token:' + account.id, 36)}"
            secret = "xsim" + self._derive("access-secret:" + account.id, 41)
            self._tokens[token] = UserToken(account.id, secret)
            self._by_username[account.username.lower()] = token

    def oauth1(self, username: str) -> OAuth1Credentials:
        token = self._by_username.get(username.lower())
        if token is None:
            raise KeyError(f"no demo account @{username}")
        return OAuth1Credentials(self.consumer_key, self.consumer_secret, token, self._tokens[token].secret)

    def user_token(self, access_token: str) -> UserToken | None:
        return self._tokens.get(access_token)

    def _derive(self, label: str, length: int, *, alphabet: str = _ALPHABET) -> str:
        digest = hmac.new(self._key, label.encode(), hashlib.sha512).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(length):
            number, index = divmod(number, len(alphabet))
            chars.append(alphabet[index])
        return "".join(chars)
