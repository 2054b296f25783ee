"""The random pick: a uniformly random stored like (or the next card of the caller's deck) in at most two reads."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shared.deck import deck_slot
from shared.errors import NothingStoredYet, NotSubscribed
from shared.models import StoredLike, SubscriberStatus


class PickStore(Protocol):
    def like_count(self, username: str) -> tuple[int, SubscriberStatus] | None: ...

    def get_like(self, username: str, slot: int) -> StoredLike | None: ...


@dataclass(frozen=True)
class Pick:
    """A like dealt to a caller, with the count it was dealt from (the page shows "one of N")."""

    username: str
    like_count: int
    like: StoredLike


@dataclass(frozen=True)
class Draw:
    """The caller's place in its shuffled deck: card `draw` of deck `deck` (see shared/deck.py)."""

    deck: int
    draw: int


class Picker:
    """Keeps each subscriber's like count for a few seconds in a warm container, so most picks are one read."""

    def __init__(
        self,
        store: PickStore,
        *,
        cache_seconds: float = 5.0,
        randbelow: Callable[[int], int] = secrets.randbelow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._randbelow = randbelow
        self._monotonic = monotonic
        self._counts: dict[str, tuple[float, int, SubscriberStatus]] = {}

    def pick(self, username: str, draw: Draw | None = None) -> Pick:
        count, status = self._count(username, fresh=False)
        like = self._store.get_like(username, self._slot(count, draw))
        if like is None:
            # The cached count ran ahead of the table (unsubscribed and subscribed again): read it afresh.
            count, status = self._count(username, fresh=True)
            like = self._store.get_like(username, self._slot(count, draw))
            if like is None:
                raise NothingStoredYet("no like is stored yet", status.value)
        return Pick(username=username, like_count=count, like=like)

    def _slot(self, count: int, draw: Draw | None) -> int:
        if draw is None:
            return self._randbelow(count)
        return deck_slot(draw.deck, draw.draw, count)

    def _count(self, username: str, *, fresh: bool) -> tuple[int, SubscriberStatus]:
        now = self._monotonic()
        cached = self._counts.get(username)
        if not fresh and cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1], cached[2]
        found = self._store.like_count(username)
        if found is None or found[1] is SubscriberStatus.DELETING:
            self._counts.pop(username, None)
            raise NotSubscribed(f"@{username} is not subscribed")
        count, status = found
        if count <= 0:
            self._counts.pop(username, None)
            raise NothingStoredYet(f"no like of @{username} is stored yet ({status.value})", status.value)
        if len(self._counts) > 10_000:  # a warm container serves many people; keep the cache bounded
            self._counts.clear()
        self._counts[username] = (now, count, status)
        return count, status
