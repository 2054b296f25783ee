"""Integration fixtures: one moto server per session, each test's own stack of the template's resources in it,
the stores on top, and the simulated X the handlers talk to."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest

from local.provision import LOCAL_CREDENTIALS, REGION, StackResources, client, put_x_credentials, stack_refs
from local.xsim import ScaledClock, XSim, XSimConfig
from shared.store import Stores
from shared.store.items import Table, bind
from tests.support.aws import moto_server, provision_stack
from tests.support.cold_start import cold_start
from tests.support.fake_x import ManualClock

_names = itertools.count()
_stacks = itertools.count()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


X_CREDENTIALS_PARAMETER = "/random-likes/test/x-credentials"
X_OAUTH2_CLIENT_PARAMETER = "/random-likes/test/x-oauth2-client"


@pytest.fixture(scope="session")
def pipeline_x() -> Iterator[XSim]:
    """The X the handlers talk to: the simulator on real time, with limits high enough for a whole session
    (rate limits and usage caps are tested on simulators of their own)."""
    config = XSimConfig(rate_limit=1_000_000, app_rate_limit=1_000_000, like_every_minutes={})
    sim = XSim(config, clock=ScaledClock(1.0)).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def x_credentials_parameter(aws_endpoint: str, pipeline_x: XSim) -> str:
    """The worker reads the X credentials (the simulator's demo account) from SSM, as deployed."""
    put_x_credentials(aws_endpoint, X_CREDENTIALS_PARAMETER, pipeline_x.oauth1_credentials("demo").as_dict())
    return X_CREDENTIALS_PARAMETER


@pytest.fixture(scope="session")
def x_oauth2_client_parameter(aws_endpoint: str, pipeline_x: XSim) -> str:
    """The app's OAuth 2.0 client (the simulator's), a SecureString of JSON as deployed."""
    oauth2 = pipeline_x.oauth2_client
    value = json.dumps({"client_id": oauth2.client_id, "client_secret": oauth2.client_secret})
    client("ssm", aws_endpoint).put_parameter(
        Name=X_OAUTH2_CLIENT_PARAMETER, Value=value, Type="SecureString", Overwrite=True
    )
    return X_OAUTH2_CLIENT_PARAMETER


@pytest.fixture
def stack(
    aws_endpoint: str,
    pipeline_x: XSim,
    x_credentials_parameter: str,
    x_oauth2_client_parameter: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StackResources]:
    """This test's own table and queues (the template's, as a CloudFormation stack in the session's moto,
    ~50 ms), and the environment a deployed function would see.

    Nothing a test writes or enqueues reaches another test, whatever the order or how often it runs. The
    handlers read their settings from the environment once per cold start, as on Lambda: each test starts
    them cold on its own stack.
    """
    resources = provision_stack(aws_endpoint, f"rl-test-{next(_stacks)}")
    refs = stack_refs(aws_endpoint, resources.stack_name)
    env = {
        "X_API_BASE_URL": pipeline_x.base_url,
        "X_AUTHORIZE_URL": pipeline_x.base_url + "/i/oauth2/authorize",
        "X_CREDENTIALS_PARAMETER": x_credentials_parameter,
        "X_OAUTH2_CLIENT_PARAMETER": x_oauth2_client_parameter,
        "TOKENS_TABLE_NAME": refs["TokensTable"][1],
        "TOKENS_KEY_ID": refs["TokensKey"][1],
        "IMPORTS_BUCKET": resources.imports_bucket,
        "IMPORT_QUEUE_URL": resources.import_queue_url,
        **resources.function_env(),
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "RandomLikesTest",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cold_start()
    yield resources
    cold_start()


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
def username() -> str:
    """A username no other test in the session uses: what a test finds under it, the test put there."""
    return f"user{next(_names)}"


@pytest.fixture
def sqs(aws_endpoint: str) -> object:
    return client("sqs", aws_endpoint)
