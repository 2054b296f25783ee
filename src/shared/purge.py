"""Deleting an unsubscribed subscriber's likes, in bounded steps, until the profile itself goes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class PurgeStore(Protocol):
    def purge(self, key: str, max_items: int = 2000) -> tuple[int, bool]: ...


class PurgeUnfinished(Exception):
    """Out of time with likes left: the record fails and SQS brings it back to carry on."""


def purge_subscriber(
    key: str, *, store: PurgeStore, seconds_left: Callable[[], float], min_seconds_left: float = 10.0
) -> int:
    deleted = 0
    while True:
        count, done = store.purge(key)
        deleted += count
        if done:
            log.info("subscriber purged", extra={"subscriber": key, "items_deleted": deleted})
            return deleted
        if seconds_left() < min_seconds_left:
            log.warning("purge paused; SQS will redeliver", extra={"subscriber": key, "items_deleted": deleted})
            raise PurgeUnfinished(f"{deleted} items of subscriber {key} deleted; more remain")
