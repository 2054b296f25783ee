"""What the api function builds once per cold start (on its first invocation, not at import) and keeps warm:
the shared runtime, the picker, the accounts' stores, token writer and X OAuth 2.0 client, and the archive
imports' store and presigner."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from shared.pick import Picker
from shared.runtime import Runtime, load_runtime, observability, x_oauth2
from shared.settings import Settings, SettingsError
from shared.store.imports import ImportStore
from shared.store.items import bind
from shared.store.presign import S3Presigner
from shared.store.presign import upload_origin as _upload_origin
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


@dataclass(frozen=True)
class Imports:
    store: ImportStore
    presigner: S3Presigner


def imports() -> Imports:
    return _imports(runtime().settings)


@cache
def _imports(settings: Settings) -> Imports:
    """Built once per settings, i.e. once per cold start (a test's new environment is new settings)."""
    if not settings.imports_bucket:
        raise SettingsError("IMPORTS_BUCKET must be set")
    table = bind(settings.table_name, settings.region, settings.aws_endpoint_url)
    return Imports(
        store=ImportStore(table),
        presigner=S3Presigner(settings.imports_bucket, settings.region, settings.aws_endpoint_url),
    )


def upload_origin() -> str | None:
    """Where the page's upload goes (its CSP's connect-src allows it): the presigner's own URL's origin."""
    settings = runtime().settings
    return _upload_origin(settings.imports_bucket, settings.region, settings.aws_endpoint_url)
