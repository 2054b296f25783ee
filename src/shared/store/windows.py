"""X's request windows, kept atomically in the table so concurrent workers never overspend one between them.

A request is taken from its window before it is sent (`take`): one conditional UpdateItem that spends a request
while the window has one left, or opens a new window once the old one has reset. Many workers taking from one
window at once get exactly as many requests as it has: the loser of each race reads the window again. X's
headers then correct the window (`observe`), but only downwards within one window: a response that left
before a concurrent request was taken must not give that request back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from shared.store.items import condition_failed, epoch, from_epoch

# How often a take retries after losing a race (each loss means another worker took a request meanwhile).
TAKE_ATTEMPTS = 8


def take(
    item: Callable[[], Model],
    remaining: NumberAttribute,
    reset_at: NumberAttribute,
    *,
    now: datetime,
    limit: int,
    window: timedelta,
    live: Condition | None = None,
) -> datetime | None:
    """Spend one request of the window on `item()`; None when taken, else the reset the caller must wait for."""
    at = epoch(now)
    for _ in range(TAKE_ATTEMPTS):
        open_window = (remaining > 0) & (reset_at > at)
        if _update(item(), [remaining.add(-1)], _and(open_window, live)):
            return None
        reset_passed = reset_at.does_not_exist() | (reset_at <= at) | remaining.does_not_exist()
        opened = [remaining.set(limit - 1), reset_at.set(at + int(window.total_seconds()))]
        if _update(item(), opened, _and(reset_passed, live)):
            return None
        current = _read(item(), remaining, reset_at)
        if current is None:
            return None  # the item is gone (a deleted subscription): nothing left to protect
        left, reset = current
        if left is not None and left <= 0 and reset is not None and reset > now:
            return reset
    raise RuntimeError("could not take a request from the window: too many concurrent takers")


def observe(
    item: Model,
    remaining: NumberAttribute,
    reset_at: NumberAttribute,
    *,
    left: int | None,
    reset: datetime | None,
    live: Condition | None = None,
) -> None:
    """Keep what X's headers say of the window: its reset, and what is left, if that is lower than ours (or
    the window is another one than ours)."""
    if left is None or reset is None:
        return
    at = epoch(reset)
    lower = reset_at.does_not_exist() | remaining.does_not_exist() | (reset_at != at) | (remaining > left)
    _update(item, [remaining.set(left), reset_at.set(at)], _and(lower, live))


def exhaust(
    item: Model,
    remaining: NumberAttribute,
    reset_at: NumberAttribute,
    *,
    reset: datetime,
    live: Condition | None = None,
) -> None:
    """X answered 429: the window has nothing left until `reset`."""
    _update(item, [remaining.set(0), reset_at.set(epoch(reset))], live)


def _and(condition: Condition, live: Condition | None) -> Condition:
    return condition if live is None else condition & live


def _update(item: Model, actions: list[Any], condition: Condition | None) -> bool:
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _read(
    item: Model, remaining: NumberAttribute, reset_at: NumberAttribute
) -> tuple[int | None, datetime | None] | None:
    try:
        item.refresh(consistent_read=True)
    except item.DoesNotExist:
        return None
    left = getattr(item, remaining.attr_name)
    reset = getattr(item, reset_at.attr_name)
    return (None if left is None else int(left)), from_epoch(reset)
