"""Integration fixtures: one moto server per session, the template's resources in it, the stores on top."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from local.provision import LOCAL_CREDENTIALS, REGION, StackResources, client, put_x_credentials
from local.xsim import ScaledClock, XSim, XSimConfig
from shared.store import Stores
from shared.store.items import Table, bind
from tests.support.aws import moto_server, provision_stack
from tests.support.fake_x import ManualClock

_names = itertools.count()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


X_CREDENTIALS_PARAMETER = "/random-likes/test/x-credentials"


@pytest.fixture(scope="session")
def pipeline_x() -> Iterator[XSim]:
    """The X the handlers talk to: the simulator on real time, with limits high enough for a whole session
    (rate limits and usage caps are tested on simulators of their own)."""
    config = XSimConfig(rate_limit=1_000_000, app_rate_limit=1_000_000, like_every_minutes={})
    sim = XSim(config, clock=ScaledClock(1.0)).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def stack(aws_endpoint: str, pipeline_x: XSim) -> Iterator[StackResources]:
    """The template's table and queues, and the environment a deployed function would see.

    Handlers read their settings from the environment once per cold start, as on Lambda: this sets it
    once for the session (one stack for all tests; each test uses its own usernames). The worker reads
    the X credentials (the simulator's demo account) from SSM, as deployed.
    """
    resources = provision_stack(aws_endpoint, "random-likes-test")
    put_x_credentials(aws_endpoint, X_CREDENTIALS_PARAMETER, pipeline_x.oauth1_credentials("demo").as_dict())
    env = {
        "X_API_BASE_URL": pipeline_x.base_url,
        "X_CREDENTIALS_PARAMETER": X_CREDENTIALS_PARAMETER,
        **resources.function_env(),
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "RandomLikesTest",
        "PICK_COUNT_CACHE_SECONDS": "0",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield resources
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def store(stack: StackResources, aws_endpoint: str) -> Stores:
    return Stores.open(stack.table_name, REGION, aws_endpoint)


@pytest.fixture
def table(stack: StackResources, aws_endpoint: str) -> Table:
    """The table's item types, for a test that wraps one store (to crash it at a chosen moment)."""
    return bind(stack.table_name, REGION, aws_endpoint)


@pytest.fixture
def clock() -> ManualClock:
    """The sync's clock, at 2026-11-28T12:00Z until a test moves it."""
    return ManualClock()


@pytest.fixture
def open_rate_window(store: Stores) -> None:
    """X's rate-limit window is app-wide state: a test of the sync starts with it open."""
    store.app_state.save_rate_window("liked_tweets", None, None)


@pytest.fixture
def username() -> str:
    """A username no other test uses, so tests share the stack without sharing state."""
    return f"user{next(_names)}"


@pytest.fixture
def sqs(aws_endpoint: str) -> object:
    return client("sqs", aws_endpoint)


@pytest.fixture
def drain(sqs: object, stack: StackResources) -> Iterator[None]:
    """Start and end a test with an empty fetch queue (the queue is shared by the session)."""

    def purge() -> None:
        # PurgeQueue is allowed once a minute per queue (moto enforces it too): receive and delete instead.
        for url in (stack.queue_url, stack.dlq_url):
            while messages := sqs.receive_message(  # type: ignore[attr-defined]
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
            ).get("Messages"):
                for message in messages:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # type: ignore[attr-defined]

    purge()
    yield
    purge()
