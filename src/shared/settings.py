"""Configuration, read from the environment once per cold start into one immutable object.

Nothing here runs at import time: handlers call `Settings.from_env()` on their first invocation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.models import Budgets
from shared.sync_queue import FIRST_REDELIVERY, MAX_REDELIVERY

DEFAULT_X_API_BASE_URL = "https://api.x.com"
DEFAULT_X_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"


class SettingsError(ValueError):
    """A setting is missing or malformed: the function cannot start, and says which one."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    queue_url: str
    region: str
    x_api_base_url: str = DEFAULT_X_API_BASE_URL
    x_credentials_parameter: str | None = None  # only the worker is given (and allowed to read) it
    sync_interval_minutes: int = 60
    daily_read_budget: int = 2000  # posts per UTC day, all subscribers together
    monthly_read_budget: int = 0  # posts per calendar month (UTC), all subscribers together; 0 = none
    # A message in flight "owns" its subscriber this long: the fetcher will not enqueue it again meanwhile.
    lease_seconds: int = 3600
    aws_endpoint_url: str | None = None  # set by the offline stack (moto); unset on AWS
    # A failed fetch-queue message comes back after first x 2^(receives-1) s, at most max (the worker; the
    # offline stack's --accelerate shortens both, as it shortens the queue's own visibility timeout).
    redelivery_first_seconds: int = FIRST_REDELIVERY
    redelivery_max_seconds: int = MAX_REDELIVERY
    # Accounts (Connect with X). Only the api and the worker are given these; the fetcher has none.
    x_authorize_url: str = DEFAULT_X_AUTHORIZE_URL
    x_oauth2_client_parameter: str | None = None  # SSM SecureString {"client_id", "client_secret"}
    tokens_table_name: str | None = None
    tokens_key_id: str | None = None
    # The app's public base URL (ending in /) when it is not the one the request came in on (a custom domain
    # in front of API Gateway); unset, it is derived from each request (scheme, host and stage).
    app_url: str | None = None
    # One more X request window shared by every account (X documents per-user windows only for user-context
    # calls; should a plan add an app-wide cap, turn this on: X_APP_RATE_WINDOW=true). Off by default.
    app_rate_window: bool = False
    # Archive imports: the bucket uploads go to (the api presigns, the importer reads) and the import queue
    # (the importer sends its own continuation messages there). Only the api and the importer are given them.
    imports_bucket: str | None = None
    import_queue_url: str | None = None

    @property
    def budgets(self) -> Budgets:
        return Budgets(daily=self.daily_read_budget, monthly=self.monthly_read_budget)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base_url = env.get("X_API_BASE_URL", "").strip() or DEFAULT_X_API_BASE_URL
        if not base_url.startswith(("https://", "http://")):
            raise SettingsError(f"X_API_BASE_URL must be an http(s) URL, got {base_url!r}")
        authorize_url = env.get("X_AUTHORIZE_URL", "").strip() or DEFAULT_X_AUTHORIZE_URL
        if not authorize_url.startswith(("https://", "http://")):
            raise SettingsError(f"X_AUTHORIZE_URL must be an http(s) URL, got {authorize_url!r}")
        app_url = env.get("APP_URL", "").strip() or None
        if app_url is not None and not (app_url.startswith(("https://", "http://")) and app_url.endswith("/")):
            raise SettingsError(f"APP_URL must be an http(s) URL ending in /, got {app_url!r}")
        return cls(
            table_name=_required(env, "TABLE_NAME"),
            queue_url=env.get("FETCH_QUEUE_URL", ""),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            x_api_base_url=base_url.rstrip("/"),
            x_credentials_parameter=env.get("X_CREDENTIALS_PARAMETER") or None,
            sync_interval_minutes=_int(env, "SYNC_INTERVAL_MINUTES", 60, minimum=1),
            daily_read_budget=_int(env, "X_DAILY_READ_BUDGET", 2000, minimum=0),
            monthly_read_budget=_int(env, "X_MONTHLY_READ_BUDGET", 0, minimum=0),
            lease_seconds=_int(env, "SYNC_LEASE_SECONDS", 3600, minimum=60),
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            redelivery_first_seconds=_int(env, "SQS_REDELIVERY_FIRST_SECONDS", FIRST_REDELIVERY, minimum=0),
            redelivery_max_seconds=_int(env, "SQS_REDELIVERY_MAX_SECONDS", MAX_REDELIVERY, minimum=0),
            x_authorize_url=authorize_url,
            x_oauth2_client_parameter=env.get("X_OAUTH2_CLIENT_PARAMETER") or None,
            tokens_table_name=env.get("TOKENS_TABLE_NAME") or None,
            tokens_key_id=env.get("TOKENS_KEY_ID") or None,
            app_url=app_url,
            app_rate_window=env.get("X_APP_RATE_WINDOW", "").strip().lower() in ("1", "true", "yes", "on"),
            imports_bucket=env.get("IMPORTS_BUCKET", "").strip() or None,
            import_queue_url=env.get("IMPORT_QUEUE_URL", "").strip() or None,
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value
