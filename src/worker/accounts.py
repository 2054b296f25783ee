"""Connected accounts as the worker reaches them: their tokens (the tokens table, KMS), X's token endpoint
with the app's OAuth 2.0 client (SSM), and an X client reading as the account.

Made on first use and cached per settings (a warm container keeps them); the client secret is read only when
a token is refreshed or revoked, and a rotated one is picked up within five minutes.
"""

from __future__ import annotations

from functools import cache

from shared.account_tokens import AccountTokens
from shared.clock import Clock
from shared.models import Subscriber
from shared.runtime import x_oauth2
from shared.settings import Settings, SettingsError
from shared.store.tokens import TokenStore
from shared.sync import AccountX
from shared.tokens import KmsTokenCipher
from shared.x_api import XApi
from shared.x_client import XClient
from shared.x_retry import RetryingX


@cache
def _token_store(settings: Settings) -> TokenStore:
    cipher = KmsTokenCipher(settings.tokens_key_id or "", settings.region, settings.aws_endpoint_url)
    return TokenStore.open(settings.tokens_table_name or "", settings.region, settings.aws_endpoint_url, cipher)


def account_tokens(settings: Settings, clock: Clock) -> AccountTokens | None:
    """Connected accounts' tokens; None on a stack without the tokens table (operator credentials only)."""
    if not (settings.tokens_table_name and settings.tokens_key_id):
        return None
    return AccountTokens(_token_store(settings), oauth=lambda: x_oauth2(settings), clock=clock)


def account_x(settings: Settings, tokens: AccountTokens | None, retrying: RetryingX) -> AccountX:
    """How a sync reads a connected account: its fresh access token, with this invocation's retries."""

    last: dict[str, str] = {}  # the access token each account was last read with, in this invocation

    def x_for(sub: Subscriber, *, refused: bool = False) -> XApi:
        if tokens is None:
            raise SettingsError("TOKENS_TABLE_NAME and TOKENS_KEY_ID are needed to sync connected accounts")
        x_user_id = sub.x_user_id or ""
        token = tokens.access_token(x_user_id, refused=last.get(x_user_id) if refused else None)
        last[x_user_id] = token
        return retrying.with_client(XClient.for_user_token(token, settings.x_api_base_url))

    return x_for
