"""The random pick: a uniformly random stored like of a subscription (or the next card of the caller's deck).

The caller has already read the subscription's profile (to check who may see it), so its like count is at hand:
a pick is then one more read, the slot.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shared.deck import deck_slot
from shared.errors import NothingStoredYet
from shared.models import StoredLike, Subscriber


class PickStore(Protocol):
    def get_like(self, key: str, slot: int) -> StoredLike | None: ...


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
    def __init__(self, store: PickStore, *, randbelow: Callable[[int], int] = secrets.randbelow) -> None:
        self._store = store
        self._randbelow = randbelow

    def pick(self, sub: Subscriber, draw: Draw | None = None) -> Pick:
        """A like of `sub` (its profile as just read); NothingStoredYet before its first like is stored."""
        count = sub.like_count
        if count <= 0:
            raise NothingStoredYet(
                f"no like of @{sub.display_username} is stored yet ({sub.status.value})", sub.status.value
            )
        slot = self._randbelow(count) if draw is None else deck_slot(draw.deck, draw.draw, count)
        like = self._store.get_like(sub.key, slot)
        if like is None:  # slots are dense below like_count; only a purge racing this read gets here
            raise NothingStoredYet("no like is stored yet", sub.status.value)
        return Pick(username=sub.username, like_count=count, like=like)
