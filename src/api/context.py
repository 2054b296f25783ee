"""What the api function builds once per cold start (on its first invocation, not at import) and keeps warm:
the shared runtime, the picker, and the accounts' stores, token writer and X OAuth 2.0 client."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from shared.pick import Picker
from shared.runtime import Runtime, load_runtime, observability, x_oauth2
from shared.settings import Settings, SettingsError
from shared.store.items import bind
from shared.store.sessions import LoginStore, SessionStore
from shared.store.tokens import TokenStore
from shared.tokens import KmsTokenCipher
from shared.x_oauth2 import XOAuth2

# No Powertools Tracer here: importing the X-Ray SDK costs ~0.4 s of every cold start, and a pick is two
# GetItems; the function's own segment still comes from `Tracing: Active`.
logger, metrics = observability("api")


@cache
def runtime() -> Runtime:
    return load_runtime(logger)


@cache
def picker() -> Picker:
    return Picker(runtime().likes)


@dataclass(frozen=True)
class Accounts:
    settings: Settings
    sessions: SessionStore
    logins: LoginStore
    tokens: TokenStore

    def oauth(self) -> XOAuth2:
        """X's OAuth 2.0 endpoints with the app's client (its secret from the SSM SecureString, cached)."""
        return x_oauth2(self.settings)


@cache
def accounts() -> Accounts:
    settings = runtime().settings
    if not (settings.tokens_table_name and settings.tokens_key_id):
        raise SettingsError("TOKENS_TABLE_NAME and TOKENS_KEY_ID must be set")
    table = bind(settings.table_name, settings.region, settings.aws_endpoint_url)
    cipher = KmsTokenCipher(settings.tokens_key_id, settings.region, settings.aws_endpoint_url)
    return Accounts(
        settings=settings,
        sessions=SessionStore(table),
        logins=LoginStore(table),
        tokens=TokenStore.open(settings.tokens_table_name, settings.region, settings.aws_endpoint_url, cipher),
    )
