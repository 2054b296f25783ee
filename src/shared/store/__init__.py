"""The data layer: every DynamoDB read and write, returning domain objects (never pynamodb items).

One table, three stores over it, split where the data is independent: subscribers' profiles, their likes
(whose append also moves the profile, in one transaction), and the app-wide counters and rate window.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.store.app_state import AppStateStore
from shared.store.items import bind
from shared.store.likes import LikeStore
from shared.store.subscribers import SubscriberStore

__all__ = ["AppStateStore", "LikeStore", "Stores", "SubscriberStore"]


@dataclass(frozen=True)
class Stores:
    subscribers: SubscriberStore
    likes: LikeStore
    app_state: AppStateStore

    @classmethod
    def open(cls, table_name: str, region: str, endpoint_url: str | None = None) -> Stores:
        table = bind(table_name, region, endpoint_url)
        return cls(SubscriberStore(table), LikeStore(table), AppStateStore(table))
