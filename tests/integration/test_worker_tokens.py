"""Connected accounts in the worker: each is read with its own OAuth 2.0 token, refreshed once (under a lock)
when it is about to expire, stored before it is used, and revoked at X when its owner disconnects.

Real parts throughout: tokens from the simulator's authorization code flow (tests/support/oauth.py), the
stack's tokens table and KMS key in moto (which checks the encryption context), the X client over loopback.
Tests that move time run the sync with the simulator's manual clock; the others go through the handler.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from local.context import LocalLambdaContext
from local.provision import REGION, StackResources
from local.xsim import XSim
from shared.account_tokens import AccountTokens, ReconnectNeeded, TokensBusy, TokensUnreadable
from shared.budget import ReadBudget
from shared.errors import XGrantInvalid
from shared.models import LikesPage, Subscriber, SubscriberStatus, SyncOutcome, XUser
from shared.store import Stores
from shared.store.tokens import TokenStore, bind_tokens
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from shared.tokens import KmsTokenCipher, TokenSet
from shared.x_api import XApi
from shared.x_client import XClient
from tests.support.cold_start import cold_start
from tests.support.events import sqs_event
from tests.support.fake_x import ManualClock, make_post
from tests.support.oauth import connect, connected_subscription, oauth2_for, token_env, token_store
from tests.support.recording_endpoint import Recorded, RecordingEndpoint
from tests.support.stored import store_likes
from worker.app import handler

OAUTH2_CLIENT_PARAMETER = "/random-likes/test/x-oauth2-client"
TWO_HOURS = 2 * 3600


class Crash(BaseException):
    """A worker that dies: no except clause sees it."""


class NoOperatorX:
    """A connected account must never be read with the operator's credentials."""

    def user_by_username(self, username: str) -> XUser:
        raise AssertionError("the operator's X was asked about a connected account")

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        raise AssertionError("the operator's X was asked for a connected account's likes")


@pytest.fixture
def env(stack: StackResources, aws_endpoint: str, pipeline_x: XSim, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The worker's environment for connected accounts (tokens table, key, OAuth 2.0 client), started cold."""
    values = token_env(aws_endpoint, stack.stack_name, pipeline_x, OAUTH2_CLIENT_PARAMETER)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    cold_start()
    return values


@pytest.fixture
def tokens(env: dict[str, str], aws_endpoint: str) -> TokenStore:
    return token_store(aws_endpoint, env)


def is_refresh(request: Recorded) -> bool:
    return request.path == "/2/oauth2/token" and b"grant_type=refresh_token" in request.body


def refreshes(endpoint: RecordingEndpoint) -> int:
    return sum(1 for request in endpoint.requests if is_refresh(request))


def sync(
    store: Stores,
    sim: XSim,
    account: AccountTokens,
    key: str,
    *,
    after_token: Callable[[], None] = lambda: None,
) -> SyncOutcome:
    """One sync as the worker runs it, on the simulator's clock."""

    last: list[str] = []

    def account_x(sub: Subscriber, *, refused: bool = False) -> XApi:
        token = account.access_token(sub.x_user_id or "", refused=last[-1] if refused and last else None)
        last.append(token)
        after_token()
        return XClient.for_user_token(token, sim.base_url)

    ports = SyncPorts(
        subscribers=store.subscribers,
        likes=store.likes,
        x=NoOperatorX(),
        budget=ReadBudget(store.app_state, sim.clock, 0, accounts=store.subscribers),
        clock=sim.clock,
        account_x=account_x,
    )
    return sync_subscriber(key, ports=ports, policy=SyncPolicy(lock_for=timedelta(minutes=5)), seconds_left=lambda: 60)


@pytest.fixture
def token_endpoint(xsim: XSim) -> Iterator[RecordingEndpoint]:
    """X's token endpoint (the simulator's), seen through a recorder: every refresh that reaches X is counted."""
    with RecordingEndpoint(upstream=xsim.base_url) as endpoint:
        yield endpoint


def stored_connection(tokens: TokenStore, sim: XSim, now: datetime) -> tuple[str, TokenSet]:
    """demo connected through the simulator's consent form, its tokens stored as the api stores them."""
    x_user_id, connected = connect(sim, "demo", now=now)
    tokens.put(x_user_id, connected, now)
    return x_user_id, connected


def accounts_for(
    tokens: TokenStore, sim: XSim, endpoint: RecordingEndpoint, sleep: Callable[[float], None] = time.sleep
) -> AccountTokens:
    return AccountTokens(tokens, oauth=lambda: oauth2_for(sim, endpoint.url), clock=sim.clock, sleep=sleep)


def invoke(*bodies: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = handler(
        sqs_event(*(json.dumps(body) for body in bodies)), LocalLambdaContext("random-likes-WorkerFunction", 120)
    )
    return result


# --- refresh --------------------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_before_use(
    store: Stores, tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint, username: str
) -> None:
    # Given demo connected, and two hours later (its access token has expired at X)
    x_user_id, connected = stored_connection(tokens, xsim, xsim.clock.now())
    connected_subscription(store, username, x_user_id, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)

    # When the account is synced
    outcome = sync(store, xsim, accounts_for(tokens, xsim, token_endpoint), username)

    # Then one refresh came first, and every like was read with the new token
    assert outcome.status is SubscriberStatus.READY
    assert outcome.new_likes > 300  # demo's likes, less the deleted posts X leaves out
    assert refreshes(token_endpoint) == 1
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.access_token != connected.access_token
    assert stored.tokens.refresh_token not in (None, connected.refresh_token)
    assert stored.tokens.expires_at == xsim.clock.now() + timedelta(hours=2)
    assert stored.lock_until is None
    # ... and the refresh token it replaced is spent at X
    with pytest.raises(XGrantInvalid):
        oauth2_for(xsim).refresh(connected.refresh_token or "", xsim.clock.now())


def test_a_fresh_access_token_is_used_as_it_is(
    store: Stores, tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint, username: str
) -> None:
    # Given demo connected an hour and 50 minutes ago (more than 5 minutes left)
    x_user_id, _ = stored_connection(tokens, xsim, xsim.clock.now())
    connected_subscription(store, username, x_user_id, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS - 600)

    # When the account is synced
    outcome = sync(store, xsim, accounts_for(tokens, xsim, token_endpoint), username)

    # Then X's token endpoint was not asked
    assert outcome.status is SubscriberStatus.READY
    assert refreshes(token_endpoint) == 0


def test_the_new_refresh_token_is_stored_before_the_new_access_token_is_used(
    store: Stores, tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint, username: str
) -> None:
    # Given demo's access token expired
    x_user_id, connected = stored_connection(tokens, xsim, xsim.clock.now())
    connected_subscription(store, username, x_user_id, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)

    # When a worker dies right after the refresh, before it reads any like
    def die() -> None:
        raise Crash

    with pytest.raises(Crash):
        sync(store, xsim, accounts_for(tokens, xsim, token_endpoint), username, after_token=die)

    # Then the rotated tokens are stored (and the lock released): the old refresh token is gone for good ...
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.refresh_token != connected.refresh_token
    assert stored.lock_until is None
    assert refreshes(token_endpoint) == 1
    # ... and the stored one works: two more hours on, the next sync refreshes with it and reads everything
    xsim.clock.advance(TWO_HOURS)
    outcome = sync(store, xsim, accounts_for(tokens, xsim, token_endpoint), username)
    assert outcome.status is SubscriberStatus.READY
    assert outcome.new_likes > 300
    assert refreshes(token_endpoint) == 2


def test_two_workers_spend_one_refresh_token_once(
    tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint
) -> None:
    # Given demo's access token expired, and X's token endpoint holding the first refresh it gets
    x_user_id, _ = stored_connection(tokens, xsim, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)
    token_endpoint.hold(is_refresh)
    waited = threading.Event()

    def wait_for_the_other(seconds: float) -> None:
        # The second worker found the lock taken: now let the first one's refresh through.
        waited.set()
        token_endpoint.release()
        time.sleep(0.02)

    results: dict[str, tuple[str, int] | BaseException] = {}

    def worker(name: str, account: AccountTokens) -> None:
        try:
            token = account.access_token(x_user_id)
            page = XClient.for_user_token(token, xsim.base_url).liked_posts(
                x_user_id, max_results=5, pagination_token=None
            )
            results[name] = (token, len(page.posts))
        except BaseException as exc:  # the thread's outcome, asserted below
            results[name] = exc

    first = threading.Thread(target=worker, args=("first", accounts_for(tokens, xsim, token_endpoint)))
    second = threading.Thread(
        target=worker, args=("second", accounts_for(tokens, xsim, token_endpoint, sleep=wait_for_the_other))
    )

    # When one worker is at X's token endpoint (holding the lock) and a second one needs the token too
    first.start()
    assert token_endpoint.held.wait(10)
    second.start()
    first.join(20)
    second.join(20)

    # Then X saw exactly one refresh, the second worker waited for it, and both read the likes with its token
    assert refreshes(token_endpoint) == 1
    assert waited.is_set()
    assert results["first"] == results["second"]
    assert isinstance(results["first"], tuple)
    assert results["first"][1] == 5
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.access_token == results["first"][0]


class ReconnectedDuringRefresh(TokenStore):
    """The real store, with the owner connecting again (the api's put) while a worker is at X's token endpoint."""

    def __init__(self, store: TokenStore, sim: XSim) -> None:
        super().__init__(store._items, store._cipher)
        self.sim = sim
        self.reconnected: TokenSet | None = None

    def store_rotated(self, x_user_id: str, tokens: TokenSet, *, generation: str, owner: str, now: datetime) -> bool:
        if self.reconnected is None:
            _, self.reconnected = connect(self.sim, "demo", now=self.sim.clock.now())
            self.put(x_user_id, self.reconnected, now)
        return super().store_rotated(x_user_id, tokens, generation=generation, owner=owner, now=now)


def test_a_reconnect_during_a_refresh_wins(tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint) -> None:
    # Given demo's access token expired, and demo connecting again while a worker refreshes the old one
    x_user_id, _ = stored_connection(tokens, xsim, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)
    racing = ReconnectedDuringRefresh(tokens, xsim)

    # When the worker wants an access token
    token = AccountTokens(racing, oauth=lambda: oauth2_for(xsim, token_endpoint.url), clock=xsim.clock).access_token(
        x_user_id
    )

    # Then the new connection's tokens are the ones used and kept; the refreshed ones were not stored over them
    assert racing.reconnected is not None
    assert token == racing.reconnected.access_token
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.refresh_token == racing.reconnected.refresh_token
    assert refreshes(token_endpoint) == 1


class DisconnectedDuringRefresh(TokenStore):
    """The real store, with the owner disconnecting (the purge deleting the tokens) during a refresh."""

    def __init__(self, store: TokenStore) -> None:
        super().__init__(store._items, store._cipher)

    def store_rotated(self, x_user_id: str, tokens: TokenSet, *, generation: str, owner: str, now: datetime) -> bool:
        self.delete(x_user_id)
        return super().store_rotated(x_user_id, tokens, generation=generation, owner=owner, now=now)


def test_a_disconnect_during_a_refresh_leaves_no_live_token(
    tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint
) -> None:
    # Given demo's access token expired, and demo disconnecting while a worker refreshes it
    x_user_id, connected = stored_connection(tokens, xsim, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)
    racing = DisconnectedDuringRefresh(tokens)

    # When the worker wants an access token
    with pytest.raises(ReconnectNeeded):
        AccountTokens(racing, oauth=lambda: oauth2_for(xsim, token_endpoint.url), clock=xsim.clock).access_token(
            x_user_id
        )

    # Then the tokens X gave in that refresh were revoked at once, and nothing was stored again
    revoked = [r.body for r in token_endpoint.requests if r.path == "/2/oauth2/revoke"]
    assert [b"token_type_hint=refresh_token" in body for body in revoked] == [True, False]
    new_refresh_token = parse_qs(revoked[0].decode())["token"][0]
    assert new_refresh_token != connected.refresh_token
    with pytest.raises(XGrantInvalid):
        oauth2_for(xsim).refresh(new_refresh_token, xsim.clock.now())
    assert tokens.get(x_user_id) is None


def test_a_lock_held_too_long_is_waited_for_boundedly_then_runs_out(
    tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint
) -> None:
    # Given demo's access token expired, and another worker that took the token lock and died
    x_user_id, connected = stored_connection(tokens, xsim, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)
    assert tokens.lock(x_user_id, "a-worker-that-died", xsim.clock.now(), timedelta(seconds=30)) is not None
    waits: list[float] = []
    account = accounts_for(tokens, xsim, token_endpoint, sleep=waits.append)

    # When a worker wants the token while the lock holds
    with pytest.raises(TokensBusy):
        account.access_token(x_user_id)

    # Then it waited about as long as a lock lives, never called X, and gave up (SQS retries the message)
    assert 30 <= sum(waits) <= 32
    assert refreshes(token_endpoint) == 0
    # ... and once the dead worker's lock has run out, the next attempt refreshes
    xsim.clock.advance(31)
    assert account.access_token(x_user_id) != connected.access_token
    assert refreshes(token_endpoint) == 1


def test_a_worker_whose_lock_ran_out_at_a_slow_x_does_not_declare_the_grant_dead(
    tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint
) -> None:
    # Given demo's access token expired, and a first worker's refresh held at X past its 30-second lock
    x_user_id, _ = stored_connection(tokens, xsim, xsim.clock.now())
    xsim.clock.advance(TWO_HOURS)
    token_endpoint.hold(is_refresh)
    results: dict[str, str | BaseException] = {}

    def slow_worker() -> None:
        try:
            results["slow"] = accounts_for(tokens, xsim, token_endpoint).access_token(x_user_id)
        except BaseException as exc:  # the thread's outcome, asserted below
            results["slow"] = exc

    slow = threading.Thread(target=slow_worker)
    slow.start()
    assert token_endpoint.held.wait(10)
    xsim.clock.advance(31)

    # When a second worker takes the lapsed lock and refreshes first, and then X answers the slow one
    second = accounts_for(tokens, xsim, token_endpoint).access_token(x_user_id)
    token_endpoint.release()
    slow.join(20)

    # Then X refused the slow worker's spent token, and it took the second worker's tokens, not reconnect_needed
    assert refreshes(token_endpoint) == 2
    assert results["slow"] == second
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.access_token == second


# --- reconnect_needed -----------------------------------------------------------------------------------


def test_invalid_grant_is_reconnect_needed_with_no_retry(
    store: Stores, tokens: TokenStore, pipeline_x: XSim, username: str
) -> None:
    # Given a connected account whose token has expired and whose refresh token X no longer accepts
    now = datetime.now(UTC)
    x_user_id, connected = connect(pipeline_x, "demo", now=now)
    oauth2_for(pipeline_x).refresh(connected.refresh_token or "", now)  # spent elsewhere
    tokens.put(x_user_id, replace(connected, expires_at=now - timedelta(minutes=1)), now)
    connected_subscription(store, username, x_user_id, now)

    # When the worker syncs it
    result = invoke({"username": username})

    # Then the message succeeds (no retry, nothing for the DLQ) and the owner is asked to reconnect
    assert result == {"batchItemFailures": []}
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.status is SubscriberStatus.RECONNECT_NEEDED
    assert sub.last_error is not None
    assert "connect again" in sub.last_error
    assert "invalid_request" in sub.last_error
    assert connected.refresh_token not in sub.last_error
    assert sub.retry_at is None
    assert sub.next_sync_at is not None
    assert sub.next_sync_at > now + timedelta(days=7)
    # ... and its tokens stay where the owner's reconnect will replace them
    assert tokens.get(x_user_id) is not None


class OtherAccountsContext:
    """Encrypts under another account's id: the ciphertext of one account copied onto another's item."""

    def __init__(self, cipher: KmsTokenCipher) -> None:
        self._cipher = cipher

    def encrypt(self, x_user_id: str, plaintext: bytes) -> bytes:
        return self._cipher.encrypt("someone-else", plaintext)

    def decrypt(self, x_user_id: str, ciphertext: bytes) -> bytes:
        return self._cipher.decrypt(x_user_id, ciphertext)


def test_tokens_under_another_accounts_encryption_context_are_reconnect_needed(
    store: Stores,
    tokens: TokenStore,
    env: dict[str, str],
    aws_endpoint: str,
    pipeline_x: XSim,
    username: str,
) -> None:
    # Given demo's item holds tokens encrypted under another account's id
    now = datetime.now(UTC)
    x_user_id, connected = connect(pipeline_x, "demo", now=now)
    cipher = OtherAccountsContext(KmsTokenCipher(env["TOKENS_KEY_ID"], REGION, aws_endpoint))
    TokenStore(bind_tokens(env["TOKENS_TABLE_NAME"], REGION, aws_endpoint), cipher).put(x_user_id, connected, now)
    connected_subscription(store, username, x_user_id, now)

    # When the worker syncs the account
    result = invoke({"username": username})

    # Then KMS refused the context, and that is the owner's to fix, once, not a crash loop
    with pytest.raises(TokensUnreadable):
        tokens.get(x_user_id)
    assert result == {"batchItemFailures": []}
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.status is SubscriberStatus.RECONNECT_NEEDED
    assert sub.last_error is not None
    assert "cannot be read" in sub.last_error


def test_an_access_token_revoked_at_x_is_reconnect_needed(
    store: Stores, tokens: TokenStore, pipeline_x: XSim, username: str
) -> None:
    # Given a fresh access token whose grant the owner revoked at X (both tokens are dead)
    now = datetime.now(UTC)
    x_user_id, connected = stored_connection(tokens, pipeline_x, now)
    connected_subscription(store, username, x_user_id, now)
    oauth2_for(pipeline_x).revoke(connected.access_token, "access_token")
    oauth2_for(pipeline_x).revoke(connected.refresh_token or "", "refresh_token")

    # When the worker syncs the account (X answers liked_tweets with 401, then refuses the refresh)
    result = invoke({"username": username})

    # Then it is reconnect_needed, not forbidden (that one is for the operator's credentials)
    assert result == {"batchItemFailures": []}
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.status is SubscriberStatus.RECONNECT_NEEDED
    assert sub.last_error is not None
    assert "refused to refresh" in sub.last_error


def test_a_token_x_refuses_before_it_expires_by_our_clock_is_refreshed_once_and_the_sync_goes_on(
    store: Stores, tokens: TokenStore, xsim: XSim, token_endpoint: RecordingEndpoint, username: str
) -> None:
    # Given demo connected, and X's clock two hours ahead of ours: by our clock the token is fresh, X says 401
    ours = xsim.clock.now()
    x_user_id, connected = stored_connection(tokens, xsim, ours)
    connected_subscription(store, username, x_user_id, ours)
    xsim.clock.advance(TWO_HOURS)
    account = AccountTokens(tokens, oauth=lambda: oauth2_for(xsim, token_endpoint.url), clock=ManualClock(current=ours))

    # When the account is synced
    outcome = sync(store, xsim, account, username)

    # Then X's refusal cost one refresh, not the connection: every like was read with the new token
    assert outcome.status is SubscriberStatus.READY
    assert outcome.new_likes > 300
    assert refreshes(token_endpoint) == 1
    stored = tokens.get(x_user_id)
    assert stored is not None
    assert stored.tokens.access_token != connected.access_token


def test_a_connected_account_syncs_through_the_handler(
    store: Stores, tokens: TokenStore, pipeline_x: XSim, username: str
) -> None:
    # Given a connected account with a fresh token
    now = datetime.now(UTC)
    x_user_id, _ = stored_connection(tokens, pipeline_x, now)
    connected_subscription(store, username, x_user_id, now)

    # When the worker syncs it
    result = invoke({"username": username})

    # Then its own likes are stored
    assert result == {"batchItemFailures": []}
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.status is SubscriberStatus.READY
    assert sub.like_count > 250


# --- disconnect -----------------------------------------------------------------------------------------


def test_a_purge_revokes_the_tokens_at_x_then_deletes_them_and_the_likes(
    store: Stores, tokens: TokenStore, pipeline_x: XSim, username: str
) -> None:
    # Given a connected account with likes stored, whose owner has disconnected
    now = datetime.now(UTC)
    x_user_id, connected = stored_connection(tokens, pipeline_x, now)
    connected_subscription(store, username, x_user_id, now)
    store_likes(store, username, [make_post(n) for n in range(30)])
    store.subscribers.mark_deleting(username)

    # When the worker handles the purge
    result = invoke({"username": username, "action": "purge"})

    # Then X no longer accepts either token, and nothing of the account is left here
    assert result == {"batchItemFailures": []}
    oauth = oauth2_for(pipeline_x)
    with pytest.raises(XGrantInvalid):
        oauth.refresh(connected.refresh_token or "", now)
    with pytest.raises(XGrantInvalid):
        oauth.me(connected.access_token)
    assert tokens.get(x_user_id) is None
    assert store.subscribers.get_subscriber(username, consistent=True) is None
    assert store.likes.all_post_ids(username) == []


def test_a_revoke_that_fails_does_not_keep_the_tokens(
    store: Stores,
    tokens: TokenStore,
    pipeline_x: XSim,
    username: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a connected account whose owner disconnected, and X's token endpoint refusing every request
    now = datetime.now(UTC)
    x_user_id, connected = stored_connection(tokens, pipeline_x, now)
    connected_subscription(store, username, x_user_id, now)
    store_likes(store, username, [make_post(n) for n in range(3)])
    store.subscribers.mark_deleting(username)
    with RecordingEndpoint() as refusing_x:
        monkeypatch.setenv("X_API_BASE_URL", refusing_x.url)
        cold_start()

        # When the worker handles the purge (its domain log lines seen as records, extra fields and all)
        domain_log = logging.getLogger("shared.account_tokens")
        domain_log.addHandler(caplog.handler)
        try:
            result = invoke({"username": username, "action": "purge"})
        finally:
            domain_log.removeHandler(caplog.handler)

    # Then both revokes were tried, the failure is logged without a token, and the data is gone anyway
    assert result == {"batchItemFailures": []}
    assert [r.path for r in refusing_x.requests] == ["/2/oauth2/revoke", "/2/oauth2/revoke"]
    logged = json.dumps([record.__dict__ for record in caplog.records], default=str)
    assert "could not revoke a token at X" in logged
    assert connected.access_token not in logged
    assert (connected.refresh_token or "-") not in logged
    assert tokens.get(x_user_id) is None
    assert store.subscribers.get_subscriber(username, consistent=True) is None


# --- secrets --------------------------------------------------------------------------------------------


@pytest.fixture
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[logging.LogRecord]]]:
    """Every record the worker's loggers emit in the test (Powertools' loggers do not propagate to pytest's)."""
    names = ["worker", "tweepy", "urllib3", "botocore", "pynamodb"] + [
        name for name in logging.root.manager.loggerDict if name.startswith("shared")
    ]
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    yield lambda: caplog.records
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def test_no_token_or_secret_reaches_a_log_line_or_metric(
    store: Stores,
    tokens: TokenStore,
    pipeline_x: XSim,
    username: str,
    every_log_record: Callable[[], list[logging.LogRecord]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a connected account whose access token is about to expire
    now = datetime.now(UTC)
    x_user_id, connected = connect(pipeline_x, "demo", now=now)
    tokens.put(x_user_id, replace(connected, expires_at=now + timedelta(minutes=1)), now)
    connected_subscription(store, username, x_user_id, now)

    # When the worker syncs it (refreshing the token), and then purges it on disconnect
    synced = invoke({"username": username})
    refreshed = tokens.get(x_user_id)
    store.subscribers.mark_deleting(username)
    purged = invoke({"username": username, "action": "purge"})

    # Then it all happened, and no token nor the client secret is in any log record or metric
    assert synced == purged == {"batchItemFailures": []}
    assert refreshed is not None
    assert refreshed.tokens.access_token != connected.access_token
    assert tokens.get(x_user_id) is None
    emitted = json.dumps([r.__dict__ for r in every_log_record()], default=str) + capsys.readouterr().out
    assert "access token refreshed" in emitted
    secrets = {
        "access token": connected.access_token,
        "refresh token": connected.refresh_token,
        "new access token": refreshed.tokens.access_token,
        "new refresh token": refreshed.tokens.refresh_token,
        "client secret": pipeline_x.oauth2_client.client_secret,
    }
    assert [name for name, secret in secrets.items() if secret and secret in emitted] == []
