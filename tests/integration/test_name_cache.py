"""A warm container remembers which key a name has (a pick is then two reads: profile and slot), and never lets
that memory show a name the profile no longer carries, nor keep it longer than a minute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import NotSubscribed
from shared.models import SubscriberStatus, Visibility
from shared.store import SubscriberStore
from shared.store.items import NAME_SK, Table, name_pk
from shared.subscriptions import visible

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = "1700000000000000042"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def subscribed(table: Table, ticks: Ticks) -> SubscriberStore:
    store = SubscriberStore(table, monotonic=ticks)
    store.create_subscriber(KEY, "Ada", NOW, NOW, x_user_id=KEY, visibility=Visibility.PUBLIC)
    return store


def test_a_known_name_is_found_without_reading_its_lookup_item_again(table: Table) -> None:
    ticks = Ticks()
    store = subscribed(table, ticks)
    first = store.find_by_name("ada")
    # The lookup item goes (as a direct table write, so only the cache can still know the key)
    table.names.get(name_pk("ada"), NAME_SK).delete()

    again = store.find_by_name("ada")

    assert first is not None
    assert again is not None
    assert again.key == first.key == KEY
    # A minute later the lookup item is asked again, and it is gone
    ticks.now += 61
    assert store.find_by_name("ada") is None


def test_a_rename_is_seen_at_once_despite_the_cache(table: Table) -> None:
    ticks = Ticks()
    store = subscribed(table, ticks)
    sub = store.find_by_name("ada")
    assert sub is not None

    store.rename(sub, "Bea")

    assert store.find_by_name("ada") is None
    renamed = store.find_by_name("bea")
    assert renamed is not None
    assert renamed.key == KEY


def test_a_subscription_being_deleted_is_seen_as_such_through_the_cache(table: Table) -> None:
    ticks = Ticks()
    store = subscribed(table, ticks)
    assert store.find_by_name("ada") is not None

    store.mark_deleting(KEY)

    # The remembered key still finds the profile (its name lookup item is gone), as deleting: nobody sees it
    found = store.find_by_name("ada")
    assert found is not None
    assert found.status is SubscriberStatus.DELETING
    with pytest.raises(NotSubscribed):
        visible("ada", None, store=store)
