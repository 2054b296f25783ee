"""Connected accounts as the worker reaches them: their tokens (the tokens table, KMS), X's token endpoint
with the app's OAuth 2.0 client (SSM), and an X client reading as the account.

Made on first use and cached per settings (a warm container keeps them); the client secret is read only when
a token is refreshed or revoked, and a rotated one is picked up within five minutes.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities import parameters

from shared.account_tokens import AccountTokens
from shared.clock import Clock
from shared.models import Subscriber
from shared.settings import Settings, SettingsError
from shared.store.tokens import TokenStore
from shared.sync import AccountX
from shared.tokens import KmsTokenCipher
from shared.x_api import XApi
from shared.x_client import XClient
from shared.x_oauth2 import OAuth2ClientCredentials, XOAuth2
from shared.x_retry import RetryingX

CREDENTIALS_MAX_AGE = 300  # seconds; a rotated credential is picked up within five minutes


@cache
def _oauth2(raw_client: str, base_url: str) -> XOAuth2:
    return XOAuth2(base_url, OAuth2ClientCredentials.from_json(raw_client))


def oauth2_client(settings: Settings) -> XOAuth2:
    """X's token endpoint with the app's OAuth 2.0 client (read only when a token is refreshed or revoked)."""
    if not settings.x_oauth2_client_parameter:
        raise SettingsError("X_OAUTH2_CLIENT_PARAMETER is not set")
    raw: str = parameters.get_parameter(settings.x_oauth2_client_parameter, decrypt=True, max_age=CREDENTIALS_MAX_AGE)
    return _oauth2(raw, settings.x_api_base_url)


@cache
def _token_store(settings: Settings) -> TokenStore:
    cipher = KmsTokenCipher(settings.tokens_key_id or "", settings.region, settings.aws_endpoint_url)
    return TokenStore.open(settings.tokens_table_name or "", settings.region, settings.aws_endpoint_url, cipher)


def account_tokens(settings: Settings, clock: Clock) -> AccountTokens | None:
    """Connected accounts' tokens; None on a stack without the tokens table (operator credentials only)."""
    if not (settings.tokens_table_name and settings.tokens_key_id):
        return None
    return AccountTokens(_token_store(settings), oauth=lambda: oauth2_client(settings), clock=clock)


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
