"""The data layer: every DynamoDB read and write, returning domain objects (never pynamodb items).

One table, stores over it split where the data is independent: subscribers' profiles (and the lookup of their
names), their likes (whose append also moves the profile, in one transaction), the app-wide counters and rate
window, and the accounts' sessions and pending logins.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.store.app_state import AppStateStore
from shared.store.items import bind
from shared.store.likes import LikeStore
from shared.store.sessions import LoginStore, SessionStore
from shared.store.subscribers import SubscriberStore

__all__ = ["AppStateStore", "LikeStore", "LoginStore", "SessionStore", "Stores", "SubscriberStore"]


@dataclass(frozen=True)
class Stores:
    subscribers: SubscriberStore
    likes: LikeStore
    app_state: AppStateStore
    sessions: SessionStore
    logins: LoginStore

    @classmethod
    def open(cls, table_name: str, region: str, endpoint_url: str | None = None) -> Stores:
        table = bind(table_name, region, endpoint_url)
        return cls(
            SubscriberStore(table),
            LikeStore(table),
            AppStateStore(table),
            SessionStore(table),
            LoginStore(table),
        )
