"""When each subscription is synced next: its cadence, from its activity, and whether it waits for a view.

X bills every post a request returns, once per post per UTC day, and its smallest page is 5 posts: a light
account read every day pays about 5 reads for its one new like. Old likes are the point of this app, so
freshness gives way: an account is read about when `target_new` likes have gathered (so the page, sized by
the like_count probe, is mostly new likes beside the one known post that ends the walk), never more often
than `min_interval` (the
deployer's SyncIntervalMinutes) and never less often than `max_interval`. Its like rate is a moving average
over its syncs, each weighted by the time it covers. A subscription nobody has opened for `park_after` is not
synced at all until its page is opened again (which makes it due at once).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.models import Activity, Subscriber

DAY = timedelta(days=1)


@dataclass(frozen=True)
class SchedulePolicy:
    min_interval: timedelta = timedelta(hours=1)
    max_interval: timedelta = timedelta(days=7)
    # New likes a sync should find: with the probe sizing the page to them plus the known post that ends the walk
    # (X's smallest page is 5), 6 keep the month's billed reads per new like under 1.25 (docs/cost.md).
    target_new: float = 6.0
    half_life: timedelta = timedelta(days=2)  # of the like-rate average
    # Likes a day assumed of an account with no history yet (None: target_new per min_interval, so a new account
    # starts at the shortest interval and slows down as its syncs find nothing; re-reading the same small page
    # within a UTC day is free at X, so a fast start costs requests more than reads).
    prior_rate: float | None = None
    park_after: timedelta = timedelta(days=30)  # unviewed this long: wait until someone opens its page
    view_every: timedelta = timedelta(days=1)  # a view is written at most this often per subscription
    spread: float = 0.2  # next syncs are spread over ± spread/2 of the interval, so they do not bunch up
    # Ask X's like_count (GET /2/users/me, a user read: $0.010 once a day) before reading likes: an unchanged
    # count reads nothing, a moved one sizes the first page to the new likes plus the known one that ends the
    # walk. The simulated month measured it worth its price for every class (docs/cost.md).
    probe: bool = True


def prior(policy: SchedulePolicy) -> float:
    """The like rate assumed of an account whose syncs have not yet shown one."""
    if policy.prior_rate is not None:
        return policy.prior_rate
    return policy.target_new / (policy.min_interval / DAY)


def updated_rate(previous: float, new_likes: int, elapsed: timedelta, policy: SchedulePolicy) -> float:
    """The like rate (per day) after a sync that found `new_likes` over `elapsed` since the one before."""
    days = elapsed / DAY
    if days <= 0:
        return previous
    weight = 1 - math.pow(0.5, days / (policy.half_life / DAY))
    return previous + weight * (new_likes / days - previous)


def interval_for(rate: float, policy: SchedulePolicy) -> timedelta:
    """How long until an account with this like rate is read again: about when `target_new` likes gathered."""
    if rate <= 0:
        return policy.max_interval
    wanted = DAY * (policy.target_new / rate)
    return max(policy.min_interval, min(policy.max_interval, wanted))


def spread(key: str, when: datetime, interval: timedelta, policy: SchedulePolicy) -> datetime:
    """`when`, moved by up to ± spread/2 of the interval, the same for the same key and time (no bunching)."""
    digest = hashlib.blake2b(f"{key}@{int(when.timestamp())}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / float(1 << 64)  # [0, 1)
    return when + interval * (policy.spread * (u - 0.5))


def unviewed(sub: Subscriber, now: datetime, policy: SchedulePolicy) -> bool:
    """Nobody has opened the subscription's page for `park_after` (its creation counts as a view)."""
    seen = sub.last_viewed_at or sub.created_at
    return now - seen >= policy.park_after


def after_sync(
    sub: Subscriber,
    now: datetime,
    new_likes: int,
    x_like_count: int | None,
    policy: SchedulePolicy,
    *,
    observed: bool = True,
) -> tuple[datetime, Activity]:
    """When a finished sync's subscription is due next, and its activity as the sync leaves it. `observed`:
    the sync began with the history stored, so its new likes are new activity (a backfill's are not)."""
    rate = prior(policy) if sub.like_rate is None else sub.like_rate
    if observed:
        rate = updated_rate(rate, new_likes, now - (sub.last_sync_at or sub.created_at), policy)
    last_new = now if new_likes and observed else sub.last_new_like_at
    interval = interval_for(rate, policy)
    activity = Activity(rate, last_new, x_like_count, parked=unviewed(sub, now, policy))
    return spread(sub.key, now + interval, interval, policy), activity
