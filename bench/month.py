"""The simulated month (issue 12): 1,000 connected accounts for 30 days on one simulated clock, in minutes.

The real domain code runs it: every 5 simulated minutes the fetcher's enqueue_due, then the worker's
sync_subscriber for each message (batches of 5, as the template's event source mapping), with the real
ReadBudget, the real X client (tweepy, RetryingX) talking to the simulated X in-process
(local/xsim/inprocess.py), over the in-memory store (local/memstore.py: moto scans the whole table for each
DueIndex query, far too slow for a month). `tests/integration/test_month_agrees.py` runs a short month on
both that store and the DynamoDB stores on moto and checks they agree.

Accounts: 10% heavy (20 likes a day, 2,000 stored), 60% light (1 a day, 300), 30% idle (none, 100). Each
starts connected and synced. Events: unlikes, a revoked account (day 15), X's usage cap one afternoon
(day 10, 13:00-17:00 UTC), a 503 storm (day 20, 09:00-10:00 UTC). Reported from the simulator's meter
and the store's counters; `python -m bench month --accounts 100 --days 5` for a quick run.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import math
import random
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from local.memstore import MemoryLikes, MemorySubscribers, memory_stores
from local.xsim.app import XSimApp
from local.xsim.clock import ManualClock
from local.xsim.config import XSimConfig
from local.xsim.inprocess import XSimTransport, in_process
from local.xsim.limits import Billing, Prices
from shared import costs
from shared.account_tokens import ReconnectNeeded
from shared.budget import ReadBudget
from shared.clock import day_of, month_of
from shared.enqueue import enqueue_due
from shared.models import AuthKind, Budgets, LikesPage, Subscriber, SubscriberStatus, SyncOutcome, XUser
from shared.schedule import SchedulePolicy, interval_for
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from shared.sync_queue import SyncRequest, redelivery_delay
from shared.x_api import XApi
from shared.x_client import XClient
from shared.x_retry import RetryingX, RetryPolicy

START = datetime(2026, 3, 1, tzinfo=UTC)  # a 31-day month: 30 days stay inside one monthly budget
TICK = timedelta(minutes=5)  # the fetcher's schedule (template: rate(5 minutes))
WORKER_BATCH = 5  # the event source mapping's BatchSize
WORKER_TIMEOUT = 120.0  # seconds (template)
MAX_RECEIVES = 5  # the fetch queue's maxReceiveCount
PRICE_POST, PRICE_USER = 0.005, 0.010
BASE_URL = "http://xsim.month"
TEMPLATE_BUDGETS = Budgets(
    daily=2000, monthly=40000
)  # XDailyReadBudget, XMonthlyReadBudget  # never resolved: the transport answers in-process


@dataclass(frozen=True)
class AccountClass:
    name: str
    share: float
    likes_per_day: float
    history: int
    view_every: timedelta | None  # None: never viewed (half of the idle ones)


CLASSES = (
    AccountClass("heavy", 0.10, 20.0, 2000, timedelta(days=1)),
    AccountClass("light", 0.60, 1.0, 300, timedelta(days=3)),
    AccountClass("idle", 0.30, 0.0, 100, timedelta(days=7)),
)


@dataclass(frozen=True)
class MonthConfig:
    accounts: int = 1000
    days: float = 30.0
    seed: int = 12
    target_new: float = SchedulePolicy().target_new
    probe: bool = True
    budgets: Budgets = field(default_factory=lambda: TEMPLATE_BUDGETS)
    events: bool = True  # unlikes, the revoke, the usage cap, the storm
    seeded: bool = True  # start synced (False: subscribed, the first syncs backfill: the store check)
    history_scale: float = 1.0  # of each class's history (the store check keeps it small)
    naive: bool = True  # the naive reader's meter beside
    park_after: timedelta = timedelta(days=30)  # the schedule's (shorter in the store check, to park within it)
    fixed_interval: timedelta | None = None  # every account read this often, whatever its activity (rules table)
    snapshot_every: timedelta | None = None  # keep every subscription's state this often (the store check)


class Stores(Protocol):
    subscribers: Any
    likes: Any
    app_state: Any


@dataclass
class MemoryStores:
    subscribers: MemorySubscribers
    likes: MemoryLikes
    app_state: Any

    @classmethod
    def new(cls) -> MemoryStores:
        return cls(*memory_stores())

    def writes(self) -> int:
        return int(self.subscribers.writes + self.app_state.writes)


@dataclass
class Account:
    index: int
    cls: AccountClass
    username: str
    user_id: str
    token: str
    view_phase: timedelta
    viewed: bool


class NaiveMeter:
    """What a naive reader would be billed: each account's newest 100 posts every hour, through a Billing of
    the simulator's own (a fresh one per UTC day, so a month of ids is never kept)."""

    def __init__(self, clock: ManualClock, app_id: str) -> None:
        self._clock = clock
        self._app = app_id
        self._day = ""
        self._billing: Billing | None = None
        self._lengths: dict[str, int] = {}
        self.by_user: Counter[str] = Counter()

    def read(self, world_likes: Callable[[str], Sequence[Any]], user_ids: Sequence[str]) -> None:
        day = day_of(self._clock.now())
        fresh_day = day != self._day
        if fresh_day:
            self._day = day
            self._billing = Billing(self._clock, cap=None, period="daily", prices=Prices(PRICE_POST, PRICE_POST))
        assert self._billing is not None
        for uid in user_ids:
            likes = world_likes(uid)
            before = self._lengths.get(uid, -1)
            # The newest 100 again; only those not yet billed today can cost anything, which for a list that
            # only grew are its new likes (an unlike shifts older ones in: read the whole page then).
            if fresh_day or before < 0 or len(likes) < before:
                page = likes[-100:]
            else:
                page = likes[len(likes) - min(100, len(likes) - before) :]
            self._lengths[uid] = len(likes)
            if page:
                self.by_user[uid] += self._billing.record_reads(self._app, [like.post_id for like in page], owned=False)


class MonthQueue:
    """The fetch queue: messages visible at once, a failed one visible again after its redelivery delay."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._heap: list[tuple[datetime, int, str, int, int | None]] = []
        self._seq = 0
        self.sent = 0
        self.dead: list[str] = []

    def send(self, requests_: Sequence[SyncRequest]) -> list[SyncRequest]:
        for r in requests_:
            self.put(r.subscriber, self._clock.now(), 0, r.max_posts)
            self.sent += 1
        return []

    def put(self, key: str, visible_at: datetime, receives: int, max_posts: int | None = None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (visible_at, self._seq, key, receives, max_posts))

    def visible(self) -> list[tuple[str, int, int | None]]:
        """The messages visible now: (subscriber, receive count, the fetcher's fair share of posts)."""
        now = self._clock.now()
        out: list[tuple[str, int, int | None]] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, key, receives, max_posts = heapq.heappop(self._heap)
            out.append((key, receives + 1, max_posts))
        return out


class _NoOperatorX:
    """Every month account is connected (OAuth 2.0): nothing reads with the operator's credentials."""

    def user_by_username(self, username: str) -> XUser:
        raise AssertionError("the month reads no account with the operator's credentials")

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        raise AssertionError("the month reads no account with the operator's credentials")

    def own_like_count(self) -> int:
        raise AssertionError("the month probes no account with the operator's credentials")


@dataclass
class Result:
    config: MonthConfig
    wall_seconds: float = 0.0
    accounts: dict[str, list[Account]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)  # status -> syncs
    new_likes: Counter[str] = field(default_factory=Counter)  # class -> likes stored
    posts: Counter[str] = field(default_factory=Counter)  # class -> posts billed
    users: Counter[str] = field(default_factory=Counter)  # class -> user reads billed
    naive_posts: Counter[str] = field(default_factory=Counter)
    delays: dict[str, list[float]] = field(default_factory=dict)  # class -> minutes, like to storage
    waiting: Counter[str] = field(default_factory=Counter)  # class -> liked, never stored by the end
    refusals: Counter[str] = field(default_factory=Counter)
    sim_posts_billed: int = 0
    sim_cost: float = 0.0
    fetcher_runs: int = 0
    worker_invocations: int = 0
    messages: int = 0
    redelivered: int = 0
    dead: int = 0
    writes: int = 0
    writes_by: dict[str, int] = field(default_factory=dict)
    index_writes: int = 0  # DueIndex writes (projection ALL: every profile change)
    usage_days: dict[str, int] = field(default_factory=dict)  # posts_read per day (our own counter)
    budget_refusals: int = 0
    x_cap_refusals: int = 0
    parked: int = 0
    unlikes: int = 0  # likes taken back on X
    unliked: int = 0  # of the month's own likes
    unliked_after_storage: int = 0
    revoked: str = ""
    revoked_status: str = ""
    retries_slept: float = 0.0
    snapshot: dict[str, Any] = field(default_factory=dict)  # per-key state for the store check
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # the same, along the way


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Month:
    def __init__(self, config: MonthConfig, stores: Stores | None = None) -> None:
        self.cfg = config
        self.clock = ManualClock(START)
        self.sim = XSimApp(
            XSimConfig(seed=config.seed, like_every_minutes={}, depth_cap=3200, usage_cap=None), self.clock
        )
        self.stores: Stores = stores or MemoryStores.new()
        self.transport = XSimTransport(self.sim)
        self.queue = MonthQueue(self.clock)
        self.schedule = SchedulePolicy(
            target_new=config.target_new,
            probe=config.probe,
            park_after=config.park_after,
        )
        if config.fixed_interval is not None:
            self.schedule = replace(
                self.schedule, min_interval=config.fixed_interval, max_interval=config.fixed_interval
            )
        self.policy = SyncPolicy(schedule=self.schedule)
        self.rng = random.Random(config.seed)
        self.accounts: list[Account] = []
        self.by_key: dict[str, Account] = {}
        self.arrived: dict[str, tuple[datetime, str]] = {}  # post id -> (liked at, user id)
        self.unliked: set[str] = set()
        self.clients: dict[str, XClient] = {}
        self.naive = NaiveMeter(self.clock, self.sim.credentials.app_id)
        self.result = Result(config)
        self.slept = 0.0

    # --- setting up -------------------------------------------------------------------------------------

    def setup(self) -> None:
        n = self.cfg.accounts
        counts = [round(n * c.share) for c in CLASSES]
        counts[1] += n - sum(counts)
        index = 0
        for cls, count in zip(CLASSES, counts, strict=True):
            for _ in range(count):
                self._add(index, cls)
                index += 1
        self.result.accounts = {c.name: [a for a in self.accounts if a.cls is c] for c in CLASSES}

    def _add(self, index: int, cls: AccountClass) -> None:
        name = f"m{index:04d}"
        history = max(1, int(cls.history * self.cfg.history_scale))
        uid = self.sim.add_account(name, history)
        # Connected with a token that outlives the month: the worker's refresh path (tokens table, KMS) is
        # not what the month measures; a revoked grant still fails as X fails it (401 -> reconnect_needed).
        token = self.sim.grant(uid, access_ttl=int(timedelta(days=62).total_seconds()))
        never = cls.name == "idle" and self.rng.random() < 0.5
        account = Account(index, cls, name, uid, token, timedelta(seconds=self.rng.uniform(0, 86400)), not never)
        self.accounts.append(account)
        self.by_key[uid] = account
        subs, likes = self.stores.subscribers, self.stores.likes
        if not self.cfg.seeded:
            subs.create_subscriber(uid, name, START, START, x_user_id=uid, auth=AuthKind.OAUTH2)
            return
        # Synced before the month: its history stored, its rate the one its class has (what the moving
        # average settles on), its next sync somewhere within its interval.
        rate = cls.likes_per_day
        interval = interval_for(rate, self.schedule)
        last = START - interval * self.rng.random()
        post_ids = [like.post_id for like in self.sim.world.likes_of(uid)]
        seen = START - timedelta(days=25 if never else 1)
        subs.seed(
            Subscriber(
                key=uid,
                username=name,
                display_username=name,
                status=SubscriberStatus.READY,
                created_at=START - timedelta(days=90),
                like_count=len(post_ids),
                x_user_id=uid,
                history_complete=True,
                next_sync_at=last + interval,
                last_sync_at=last,
                version=1,
                auth=AuthKind.OAUTH2,
                like_rate=rate,
                x_like_count=len(post_ids),
                last_viewed_at=seen,
            )
        )
        likes.seed_history(uid, post_ids, START - timedelta(days=1))

    def _events(self) -> list[tuple[datetime, int, str, Any]]:
        """Every event of the month, in time order: likes, views, unlikes and the day-N incidents."""
        end = START + timedelta(days=self.cfg.days)
        events: list[tuple[datetime, int, str, Any]] = []
        seq = 0

        def add(at: datetime, kind: str, arg: Any) -> None:
            nonlocal seq
            if at < end:
                seq += 1
                events.append((at, seq, kind, arg))

        rng = random.Random(f"{self.cfg.seed}:events")
        for a in self.accounts:
            if a.cls.likes_per_day > 0:
                t = START
                while True:
                    t += timedelta(days=rng.expovariate(a.cls.likes_per_day))
                    if t >= end:
                        break
                    add(t, "like", a)
            if a.viewed and a.cls.view_every is not None:
                t = START + a.view_phase
                while t < end:
                    add(t, "view", a)
                    t += a.cls.view_every
        if self.cfg.events:
            active = [a for a in self.accounts if a.cls.likes_per_day > 0]
            for a in rng.sample(active, k=min(len(active), max(1, len(self.accounts) // 30))):
                for _ in range(2):
                    add(START + timedelta(days=rng.uniform(1, self.cfg.days - 1)), "unlike", a)
            heavy = [a for a in self.accounts if a.cls.name == "heavy"]
            if heavy:
                add(START + timedelta(days=14, hours=12), "revoke", heavy[0])
            add(START + timedelta(days=9, hours=13), "cap", True)
            add(START + timedelta(days=9, hours=17), "cap", False)
            add(START + timedelta(days=19, hours=9), "storm", True)
            add(START + timedelta(days=19, hours=10), "storm", False)
        events.sort(key=lambda e: (e[0], e[1]))
        return events

    # --- running ----------------------------------------------------------------------------------------

    def run(self) -> Result:
        started = time.perf_counter()
        self.setup()
        events = self._events()
        end = START + timedelta(days=self.cfg.days)
        tick = START
        e = 0
        last_naive_hour = None
        user_ids = [a.user_id for a in self.accounts]
        while tick < end:
            if self.clock.now() < tick:
                self.clock.set(tick)
            while e < len(events) and events[e][0] <= self.clock.now():
                self._apply(events[e])
                e += 1
            hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
            if self.cfg.naive and hour != last_naive_hour:
                last_naive_hour = hour
                self.naive.read(self.sim.world.likes_of, user_ids)
            self._fetcher()
            self._worker()
            every = self.cfg.snapshot_every
            if every is not None and (tick - START) % every == timedelta(0):
                self.result.snapshots.append(self._snapshot())
            # The next run, or later if retries' waits moved the clock past it.
            tick = max(tick + TICK, self.clock.now())
        self.clock.set(end)
        self.result.wall_seconds = time.perf_counter() - started
        self._collect()
        return self.result

    def _apply(self, event: tuple[datetime, int, str, Any]) -> None:
        at, _, kind, arg = event
        if kind == "like":
            post_id = self.sim.like(arg.user_id, at)
            self.arrived[post_id] = (at, arg.user_id)
        elif kind == "view":
            self.stores.subscribers.mark_viewed(arg.user_id, self.clock.now(), every=self.schedule.view_every)
        elif kind == "unlike":
            likes = self.sim.world.likes_of(arg.user_id)
            if likes:
                post_id = likes[-1 - self.rng.randrange(min(3, len(likes)))].post_id
                self.result.unlikes += self.sim.unlike(arg.user_id, post_id)
                self.unliked.add(post_id)
        elif kind == "revoke":
            self.sim.revoke(arg.user_id)
            self.result.revoked = arg.username
        elif kind == "cap":
            # X's cap lands at what the app has been billed today: the next read is refused.
            self.sim.set_usage_cap(self.sim.billing.reads_in_period(self.sim.credentials.app_id) if arg else None)
        elif kind == "storm":
            if arg:
                self.sim.faults.storm()
            else:
                self.sim.faults.clear()

    def _fetcher(self) -> None:
        self.result.fetcher_runs += 1
        enqueue_due(
            store=self.stores.subscribers,
            queue=self.queue,
            clock=self.clock,
            lease=self.policy.lease,
            limits=self.stores.app_state,
            budgets=self.cfg.budgets,
        )
        self.stores.app_state.record_fetcher_run(self.clock.now(), {})

    def _worker(self) -> None:
        messages = self.queue.visible()
        for start in range(0, len(messages), WORKER_BATCH):
            self._invocation(messages[start : start + WORKER_BATCH])

    def _invocation(self, batch: list[tuple[str, int, int | None]]) -> None:
        self.result.worker_invocations += 1
        deadline = self.clock.now() + timedelta(seconds=WORKER_TIMEOUT)

        def seconds_left() -> float:
            return (deadline - self.clock.now()).total_seconds()

        retrying = RetryingX(
            _NoOperatorX(), RetryPolicy(), seconds_left=seconds_left, sleep=self._sleep, jitter=self.rng.random
        )
        budget = ReadBudget(self.stores.app_state, self.clock, self.cfg.budgets, accounts=self.stores.subscribers)
        ports = SyncPorts(
            subscribers=self.stores.subscribers,
            likes=self.stores.likes,
            x=retrying,
            budget=budget,
            clock=self.clock,
            account_x=self._account_x(retrying),
        )
        for key, receives, max_posts in batch:
            policy = replace(
                self.policy,
                lock_for=timedelta(seconds=seconds_left() + 30),
                retry_in=timedelta(seconds=redelivery_delay(receives)),
                max_posts=max_posts,
            )
            try:
                outcome = sync_subscriber(key, ports=ports, policy=policy, seconds_left=seconds_left)
            except Exception:
                self.result.outcomes["failed (back to the queue)"] += 1
                if receives >= MAX_RECEIVES:
                    self.queue.dead.append(key)
                else:
                    self.result.redelivered += 1
                    later = self.clock.now() + timedelta(seconds=redelivery_delay(receives))
                    self.queue.put(key, later, receives, max_posts)
                continue
            self._count(key, outcome)

    def _sleep(self, seconds: float) -> None:
        # RetryingX's backoff passes on the simulated clock: no real sleep, and the month's time moves on.
        self.slept += seconds
        self.clock.advance(seconds)

    def _account_x(self, retrying: RetryingX) -> Any:
        def x_for(sub: Subscriber, *, refused: bool = False) -> XApi:
            uid = sub.x_user_id or ""
            if refused and not self.sim.oauth2.granted(uid):
                raise ReconnectNeeded("X refused the refresh token: invalid_grant")
            client = self.clients.get(uid)
            if client is None:
                account = self.by_key[uid]
                client = in_process(XClient.for_user_token(account.token, BASE_URL), self.transport)
                self.clients[uid] = client
            return retrying.with_client(client)

        return x_for

    def _count(self, key: str, outcome: SyncOutcome) -> None:
        account = self.by_key[key]
        self.result.outcomes[outcome.status.value] += 1
        self.result.new_likes[account.cls.name] += outcome.new_likes
        if outcome.status is SubscriberStatus.USAGE_CAPPED:
            if "budget" in outcome.detail:
                self.result.budget_refusals += 1
            else:
                self.result.x_cap_refusals += 1

    # --- results ----------------------------------------------------------------------------------------

    def _collect(self) -> None:  # noqa: PLR0912 - one pass over every figure the report shows
        r = self.result
        billed = self.sim.billing.billed_by_user()  # each billed read, by the account whose token asked
        for a in self.accounts:
            c = a.cls.name
            r.posts[c] += int(billed.get(a.user_id, {}).get("posts", 0))
            r.users[c] += int(billed.get(a.user_id, {}).get("users", 0))
            r.naive_posts[c] += self.naive.by_user[a.user_id]
        snapshot = self.sim.billing.snapshot()
        app = snapshot["apps"].get(self.sim.credentials.app_id, {})
        r.sim_posts_billed = int(app.get("posts_read_total", 0))
        r.sim_cost = float(app.get("cost_usd_total", 0.0))
        r.refusals = Counter(self.sim.billing.refusals())
        r.messages = self.queue.sent
        r.dead = len(self.queue.dead)
        r.retries_slept = self.slept
        subs = self.stores.subscribers
        for a in self.accounts:
            sub = subs.get_subscriber(a.user_id)
            if sub is not None and sub.parked:
                r.parked += 1
            if a.username == r.revoked and sub is not None:
                r.revoked_status = sub.status.value
        # The delay from a like to its storage, from the store's first_seen_at.
        first_seen: dict[str, datetime] = {}
        likes = self.stores.likes
        for a in self.accounts:
            if a.cls.likes_per_day > 0:
                if hasattr(likes, "first_seen"):
                    first_seen.update(likes.first_seen(a.user_id))
                else:
                    count = subs.get_subscriber(a.user_id).like_count
                    for slot in range(count):
                        like = likes.get_like(a.user_id, slot)
                        first_seen[like.post.id] = like.first_seen_at
        delays: dict[str, list[float]] = defaultdict(list)
        for post_id, (at, uid) in self.arrived.items():
            c = self.by_key[uid].cls.name
            if post_id in self.unliked:
                r.unliked += 1
                if post_id in first_seen:
                    r.unliked_after_storage += 1
                continue
            if post_id in first_seen:
                delays[c].append((first_seen[post_id] - at).total_seconds() / 60)
            else:
                r.waiting[c] += 1
        r.delays = dict(delays)
        state = self.stores.app_state
        for day in range(int(self.cfg.days + 0.999)):
            period = day_of(START + timedelta(days=day))
            r.usage_days[period] = state.usage(period).posts_read
        if isinstance(self.stores, MemoryStores):
            r.writes_by = {
                "subscribers and likes": self.stores.subscribers.writes,
                "app state (budget, windows, counters)": self.stores.app_state.writes,
            }
            r.writes = sum(r.writes_by.values())
            r.index_writes = self.stores.subscribers.index_writes
        r.snapshot = self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        """Every subscription's state and the counters, comparable between two stores."""
        out: dict[str, Any] = {}
        subs, likes = self.stores.subscribers, self.stores.likes
        for a in self.accounts:
            sub = subs.get_subscriber(a.user_id)
            out[a.username] = {
                "status": sub.status.value,
                "like_count": sub.like_count,
                "next_sync_at": sub.next_sync_at.isoformat() if sub.next_sync_at else None,
                "last_sync_at": sub.last_sync_at.isoformat() if sub.last_sync_at else None,
                "sync_count": sub.sync_count,
                "posts_read": sub.posts_read,
                "x_requests": sub.x_requests,
                "like_rate": sub.like_rate,
                "parked": sub.parked,
                "history_complete": sub.history_complete,
                "post_ids": [pid for _, pid in likes.all_post_ids(a.user_id)] if not self.cfg.seeded else None,
            }
        month = self.stores.app_state.usage(month_of(START))
        out["usage"] = dict(month.counters)
        out["billed_posts"] = (
            self.sim.billing.snapshot()["apps"].get(self.sim.credentials.app_id, {}).get("posts_read_total", 0)
        )
        out["at"] = self.clock.now().isoformat()
        return out


# --- reporting --------------------------------------------------------------------------------------------


def cost_table(r: Result) -> list[dict[str, Any]]:
    """Per class: accounts, new likes, billed reads, reads per new like, X cost per account (per 30 days)."""
    scale = 30.0 / r.config.days
    rows = []
    for cls in CLASSES:
        n = len(r.accounts.get(cls.name, []))
        if not n:
            continue
        posts, users, new = r.posts[cls.name], r.users[cls.name], r.new_likes[cls.name]
        cost = posts * PRICE_POST + users * PRICE_USER
        naive_cost = r.naive_posts[cls.name] * PRICE_POST
        delays = r.delays.get(cls.name, [])
        rows.append(
            {
                "class": cls.name,
                "accounts": n,
                "new_likes": new,
                "posts": posts,
                "users": users,
                "reads_per_like": (posts + users) / new if new else None,
                "posts_per_like": posts / new if new else None,
                "cost_per_account": cost / n * scale,
                "naive_per_account": naive_cost / n * scale,
                "p50": _percentile(delays, 0.5),
                "p95": _percentile(delays, 0.95),
                "waiting": r.waiting[cls.name],
            }
        )
    return rows


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _minutes(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value / 60:.1f} h" if value >= 120 else f"{value:.0f} min"


# Scale on paper (docs/architecture.md): what the measured month becomes at more accounts of the same mix.
SCALES = (1_000, 100_000, 1_000_000)
SYNC_SECONDS = 1.0  # a sync on AWS: a probe and a page from X (~0.3 s each) and a few writes; an assumption
LEASE_SECONDS = 0.01  # the fetcher's conditional UpdateItem per due subscriber, one after another
PARTITION_WRITES = 1000  # write units a second one DynamoDB partition takes (a GSI partition too)
WORKER_GB = 0.5  # template.yaml: MemorySize 512 (Globals), arm64
FETCHER_SECONDS = 1.0  # a fetcher run: a query, the leases, a few sends (more at scale: see the table)


def scale_rows(r: Result) -> list[str]:
    """The month's per-account figures at 1,000, 100,000 and 1,000,000 accounts of the same mix."""
    days, accounts = r.config.days, r.config.accounts
    syncs = sum(r.outcomes.values())
    x_cost = sum(r.posts.values()) * PRICE_POST + sum(r.users.values()) * PRICE_USER
    lines = [
        "| accounts | syncs a day | fetcher fan-out per run (queue depth at its start) | fetcher run | "
        "worker concurrency (1 s a sync) | DueIndex writes/s, average / a run's burst | X a month | AWS a month |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in SCALES:
        k = n / accounts
        per_day = syncs / days * k
        fan_out = per_day / (24 * 12)
        run_seconds = FETCHER_SECONDS + fan_out * LEASE_SECONDS
        concurrency = per_day / 86400 * SYNC_SECONDS
        index_avg = r.index_writes / days * k / 86400
        # A run's leases land within the run: each moves next_sync_at (two index writes).
        burst = index_avg + 2 * fan_out / run_seconds
        invocations = (r.worker_invocations * k + r.fetcher_runs) / days * 30
        lambda_cost = (
            invocations * costs.LAMBDA_REQUEST
            + (per_day * 30 * SYNC_SECONDS * WORKER_GB + r.fetcher_runs / days * 30 * run_seconds * 0.5)
            * costs.LAMBDA_GB_SECOND["arm64"]
        )
        ddb_cost = r.writes / days * 30 * k * costs.DDB_WRITE_UNIT
        sqs_cost = r.messages / days * 30 * k * costs.SQS_REQUEST * costs.SQS_REQUESTS_PER_MESSAGE
        lines.append(
            f"| {n:,} | {per_day:,.0f} | {fan_out:,.1f} | {run_seconds:,.1f} s | {max(1, math.ceil(concurrency)):,} "
            f"| {index_avg:,.2f} / {burst:,.0f} | ${x_cost / days * 30 * k:,.0f} "
            f"| ${lambda_cost + ddb_cost + sqs_cost:,.2f} |"
        )
    return lines


def report(r: Result) -> str:
    rows = cost_table(r)
    active_new = sum(row["new_likes"] for row in rows)
    active_reads = sum(row["posts"] + row["users"] for row in rows)
    active_posts = sum(row["posts"] for row in rows)
    total_naive = sum(r.naive_posts.values())
    lines = [
        f"{r.config.accounts:,} connected accounts, {r.config.days:g} simulated days, target_new "
        f"{r.config.target_new:g}, probe {'on' if r.config.probe else 'off'}, budgets daily "
        f"{r.config.budgets.daily:,} / monthly {r.config.budgets.monthly:,} posts; wall time "
        f"{r.wall_seconds:.0f} s.",
        "",
        "| class | accounts | new likes stored | posts billed | user reads billed | billed reads / new like "
        "| posts / new like | X cost / account / month | naive X cost / account / month | like→stored p50 | p95 "
        "| liked, not stored at the end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['class']} | {row['accounts']:,} | {row['new_likes']:,} | {row['posts']:,} | {row['users']:,} "
            f"| {_fmt(row['reads_per_like'])} | {_fmt(row['posts_per_like'])} | ${_fmt(row['cost_per_account'], 3)} "
            f"| ${_fmt(row['naive_per_account'], 2)} | {_minutes(row['p50'])} | {_minutes(row['p95'])} "
            f"| {row['waiting']:,} |"
        )
    all_delays = [d for ds in r.delays.values() for d in ds]
    total_posts = sum(r.posts.values())
    total_users = sum(r.users.values())
    lines += [
        f"| **all** | {r.config.accounts:,} | {active_new:,} | {total_posts:,} | {total_users:,} "
        f"| **{_fmt(active_reads / active_new if active_new else None)}** "
        f"| {_fmt(active_posts / active_new if active_new else None)} "
        f"| ${_fmt((total_posts * PRICE_POST + total_users * PRICE_USER) / max(1, r.config.accounts) * 30 / r.config.days, 3)} "  # noqa: E501
        f"| ${_fmt(total_naive * PRICE_POST / max(1, r.config.accounts) * 30 / r.config.days)} "
        f"| {_minutes(_percentile(all_delays, 0.5))} | {_minutes(_percentile(all_delays, 0.95))} "
        f"| {sum(r.waiting.values()):,} |",
        "",
        f"- 429s seen: rate limit {r.refusals.get('rate_limit', 0)}, usage cap {r.refusals.get('usage_cap', 0)} "
        f"(the cap's afternoon; goal 0 rate-limit 429s).",
        f"- Posts billed: {total_posts:,} summed over the accounts, {r.sim_posts_billed:,} in the app's total "
        f"(the simulator's Billing, ${r.sim_cost:,.2f}); the naive reader (newest 100 every hour, same once-a-day "
        "billing): "
        f"{total_naive:,} (${total_naive * PRICE_POST:,.2f}), "
        f"{total_naive / max(1, r.sim_posts_billed):,.0f} times as many.",
        f"- Lambda invocations: {r.fetcher_runs + r.worker_invocations:,} = {r.fetcher_runs:,} fetcher runs + "
        f"{r.worker_invocations:,} worker batches (batch size {WORKER_BATCH}, a batch per 5-minute tick, "
        f"{r.messages:,} messages; {r.redelivered} redelivered, {r.dead} to the DLQ).",
        f"- DynamoDB writes: {r.writes:,} write request units ("
        + ", ".join(f"{k} {v:,}" for k, v in r.writes_by.items())
        + f"); DueIndex writes {r.index_writes:,} (every profile change: its projection is ALL), "
        f"{r.index_writes / max(1, sum(r.outcomes.values())):.1f} a sync.",
        "- Sync outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r.outcomes.items())) + ".",
        f"- Own budget refusals: {r.budget_refusals}; X usage-cap refusals: {r.x_cap_refusals}; busiest day "
        f"{max(r.usage_days.values(), default=0):,} posts read (daily budget {r.config.budgets.daily:,}), month "
        f"{sum(r.usage_days.values()):,} (monthly budget {r.config.budgets.monthly:,}).",
        f"- Parked at the end (unviewed 30 days): {r.parked}; revoked account {r.revoked or '-'} ends "
        f"{r.revoked_status or '-'}; {r.unlikes} likes taken back, {r.unliked} of them the month's own "
        f"({r.unliked_after_storage} already stored, and kept: a sync never deletes); "
        f"retry waits on the simulated clock {r.retries_slept:.0f} s.",
    ]
    return "\n".join(lines)


def binding(r: Result) -> str:
    """What the template's budgets do to the same month: whether and when they bind, and what it costs."""
    days = sorted(r.usage_days.items())
    daily = r.config.budgets.daily
    capped_days = [day for day, read in days if daily and read >= daily - 5]
    total = sum(read for _, read in days)
    all_delays = [d for ds in r.delays.values() for d in ds]
    first = capped_days[0] if capped_days else "never"
    verdict = "binds" if r.budget_refusals else "does not bind"
    return (
        f"With the template's budgets (daily {daily:,}, monthly {r.config.budgets.monthly:,} posts) the same month "
        f"{verdict}: the daily budget is spent on {len(capped_days)} of {len(days)} days (first {first}), the month "
        f"reads {total:,} posts against its {r.config.budgets.monthly:,}; {r.budget_refusals:,} syncs are refused "
        f"by the budget, {sum(r.new_likes.values()):,} likes stored (and {sum(r.waiting.values()):,} liked but not "
        f"stored by the end), like to storage p50 {_minutes(_percentile(all_delays, 0.5))}, p95 "
        f"{_minutes(_percentile(all_delays, 0.95))}; {sum(r.posts.values()):,} posts billed."
    )


TARGETS = (1.0, 4.0, 6.0, 8.0, 14.0)

HOW = """How it runs (`python -m bench month`; for a quick look
`--accounts 100 --days 5 --cadence-accounts 0 --no-write`): one ManualClock for the simulator, the domain
and the schedule. Every 5 simulated minutes the real
`enqueue_due` (the fetcher), then the real `sync_subscriber` per message in batches of 5 (the worker's
BatchSize), each batch one invocation with its own `ReadBudget` and `RetryingX`, whose backoff advances the
simulated clock instead of sleeping. A failed message comes back after `redelivery_delay` (to the DLQ after
5 receives). The X client is the worker's (tweepy, `XClient.for_user_token`) with the simulator mounted
in-process (local/xsim/inprocess.py). Each account is connected with an access token that outlives the
month (the refresh path through the tokens table is not exercised); a revoked grant answers 401 and the
refresh is refused, as X does. The store is local/memstore.py; tests/integration/test_month_agrees.py runs two
simulated days of ten accounts over it and over the DynamoDB stores on moto (what `make dev` runs) and
checks every subscription, its post ids, the counters and X's bill agree every 3 simulated hours. Not
compared there: `make dev`'s processes, SQS and the HTTP gateway (the same domain calls, not the handlers).
Billed reads are X's: a post once per UTC day (the simulator's Billing, which attributes each billed read
to the account whose token asked), a user read ($0.010, the like_count probe) once per user per
UTC day. The naive reader is each account's newest 100 posts every hour, billed by a Billing of the
simulator's own. Delay is a like's time on X to its slot's first_seen_at."""


def cadence_rows(accounts: int, days: float, budgets: Budgets) -> list[str]:
    lines = [
        f"Cadence: the same month at {accounts} accounts (same class shares and events), by target_new (likes a "
        "sync should find) and the like_count probe:",
        "",
        "| target_new | probe | heavy $/acct/month | light $/acct/month | idle $/acct/month | billed reads / new like "
        "| heavy like→stored p50 / p95 | light p50 / p95 | wall |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target in TARGETS:
        for probe in (True, False):
            cfg = MonthConfig(accounts=accounts, days=days, target_new=target, probe=probe, budgets=budgets)
            r = Month(cfg).run()
            rows = {row["class"]: row for row in cost_table(r)}
            new = sum(row["new_likes"] for row in rows.values())
            reads = sum(row["posts"] + row["users"] for row in rows.values())
            h, li, i = rows.get("heavy", {}), rows.get("light", {}), rows.get("idle", {})
            lines.append(
                f"| {target:g} | {'on' if probe else 'off'} | ${_fmt(h.get('cost_per_account'), 3)} "
                f"| ${_fmt(li.get('cost_per_account'), 3)} | ${_fmt(i.get('cost_per_account'), 3)} "
                f"| {_fmt(reads / new if new else None)} "
                f"| {_minutes(h.get('p50', math.nan))} / {_minutes(h.get('p95', math.nan))} "
                f"| {_minutes(li.get('p50', math.nan))} / {_minutes(li.get('p95', math.nan))} "
                f"| {r.wall_seconds:.0f} s |"
            )
            print(lines[-1], flush=True)
    return lines


def rules_rows(accounts: int, days: float, budgets: Budgets) -> list[str]:
    """Each rule of the schedule switched off in turn, the same month otherwise: which ones pay for themselves."""
    base = MonthConfig(accounts=accounts, days=days, budgets=budgets)
    variants = [
        ("every rule (the default)", base),
        ("without the like_count probe", replace(base, probe=False)),
        ("without parking (unviewed accounts read on)", replace(base, park_after=timedelta(days=3650))),
        ("a fixed hourly cadence instead of one from activity", replace(base, fixed_interval=timedelta(hours=1))),
    ]
    lines = [
        f"Rules: the same month at {accounts} accounts with one rule of the schedule off at a time:",
        "",
        "| variant | X $/account/month | billed reads / new like | light like→stored p50 / p95 "
        "| syncs | Lambda invocations | DynamoDB writes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, cfg in variants:
        r = Month(cfg).run()
        rows = {row["class"]: row for row in cost_table(r)}
        new = sum(row["new_likes"] for row in rows.values())
        reads = sum(row["posts"] + row["users"] for row in rows.values())
        cost = sum(row["cost_per_account"] * row["accounts"] for row in rows.values()) / max(1, cfg.accounts)
        li = rows.get("light", {})
        lines.append(
            f"| {name} | ${cost:.3f} | {_fmt(reads / new if new else None)} "
            f"| {_minutes(li.get('p50', math.nan))} / {_minutes(li.get('p95', math.nan))} "
            f"| {sum(r.outcomes.values()):,} | {r.fetcher_runs + r.worker_invocations:,} | {r.writes:,} |"
        )
        print(lines[-1], flush=True)
    return lines


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench month", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--target-new", type=float, default=SchedulePolicy().target_new)
    parser.add_argument("--no-probe", action="store_true")
    # What 1,000 accounts need (the template's 2,000 / 40,000 bind: see `binding`); 0 = no budget of our own.
    parser.add_argument("--daily-budget", type=int, default=8000)
    parser.add_argument("--monthly-budget", type=int, default=200_000)
    parser.add_argument("--no-template-run", action="store_true", help="skip the run with the template's budgets")
    parser.add_argument("--cadence-accounts", type=int, default=200, help="0: no cadence table")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args(list(argv))
    # One line per sync is the worker's log, not the month's report.
    logging.getLogger().setLevel(logging.ERROR)
    budgets = Budgets(args.daily_budget, args.monthly_budget)
    cfg = MonthConfig(
        accounts=args.accounts,
        days=args.days,
        target_new=args.target_new,
        probe=not args.no_probe,
        budgets=budgets,
    )
    started = time.perf_counter()
    result = Month(cfg).run()
    body = report(result) + "\n\nScale on paper (docs/architecture.md), from this month's per-account figures:\n\n"
    body += "\n".join(scale_rows(result))
    print(body, flush=True)
    if not args.no_template_run:
        capped = Month(replace(cfg, budgets=TEMPLATE_BUDGETS)).run()
        body += "\n\n" + binding(capped)
        print(binding(capped), flush=True)
    if args.cadence_accounts:
        body += "\n\n" + "\n".join(cadence_rows(args.cadence_accounts, args.days, budgets))
        body += "\n\n" + "\n".join(rules_rows(args.cadence_accounts, args.days, budgets))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body += (
        f"\n\nThe whole command took {time.perf_counter() - started:.0f} s of wall time, {peak:.0f} MB at its peak.\n\n"
        + HOW
    )
    if not args.no_write:
        from bench.report import write_section  # noqa: PLC0415 - only when writing

        write_section("month", "The simulated month: 1,000 connected accounts (issue 12)", body)
    print(json.dumps({"wall_seconds": round(time.perf_counter() - started, 1)}))
