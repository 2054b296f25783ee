"""Fixtures for the operator CLI: moto's server, a fresh stack per test, the CLI, and the real pipeline.

Each test gets its own CloudFormation stack (its own table and queues, ~50 ms in moto), so a test can
count messages and likes without another test's leftovers. The pipeline fixture adds the simulated X API
and the real worker handler, configured as the deployed function would be (environment, SSM credentials).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from local.provision import LOCAL_CREDENTIALS, REGION, StackResources, client, provision, put_x_credentials
from local.xsim import XSim
from ops.cli import main
from shared.store import Stores
from tests.ops.lambda_poller import WorkerPoller
from tests.support.aws import moto_server
from tests.support.cold_start import cold_start

_stacks = itertools.count()


@pytest.fixture(scope="session")
def ops_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials and region an operator's shell (or a Lambda) has; moto takes any credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ops_stack(ops_endpoint: str, aws_env: None) -> StackResources:
    return provision(ops_endpoint, f"rl-ops-{next(_stacks)}")


@pytest.fixture
def store(ops_stack: StackResources, ops_endpoint: str) -> Stores:
    return Stores.open(ops_stack.table_name, REGION, ops_endpoint)


@pytest.fixture
def sqs(ops_endpoint: str) -> object:
    return client("sqs", ops_endpoint)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """`random-likes --endpoint-url <moto> --stack-name <this test's stack> ARGS`, in-process."""

    endpoint_url: str
    stack_name: str
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()  # start from a clean slate
        code = main(["--endpoint-url", self.endpoint_url, "--stack-name", self.stack_name, *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def cli(ops_endpoint: str, ops_stack: StackResources, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(ops_endpoint, ops_stack.stack_name, capsys)


@dataclass(frozen=True)
class Pipeline:
    stack: StackResources
    endpoint_url: str
    store: Stores
    sqs: object
    xsim: XSim
    worker: WorkerPoller
    queue_arn: str
    dlq_arn: str

    def subscribe(self, *usernames: str) -> None:
        """As the api does: a pending subscriber, and its first sync message in the fetch queue."""
        now = datetime.now(UTC)
        for name in usernames:
            self.store.subscribers.create_subscriber(name, name, now, now)
            self.sqs.send_message(  # type: ignore[attr-defined]
                QueueUrl=self.stack.queue_url,
                MessageBody=f'{{"username": "{name}", "reason": "subscribe", "action": "sync"}}',
            )


@pytest.fixture
def pipeline(
    ops_stack: StackResources,
    ops_endpoint: str,
    store: Stores,
    sqs: object,
    xsim: XSim,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Pipeline]:
    """The worker as deployed against this stack: its environment, X credentials in SSM, the simulator as X."""
    parameter = f"/random-likes/{ops_stack.stack_name}/x-credentials"
    put_x_credentials(ops_endpoint, parameter, xsim.oauth1_credentials("demo").as_dict())
    for name, value in {
        **ops_stack.function_env(),
        "AWS_ENDPOINT_URL": ops_endpoint,
        "X_API_BASE_URL": xsim.base_url,
        "X_CREDENTIALS_PARAMETER": parameter,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "RandomLikesTest",
    }.items():
        monkeypatch.setenv(name, value)
    # A cold start: the worker reads this test's environment on its first invocation, as a new Lambda
    # execution environment would (its settings are cached per process, like a warm container's).
    cold_start()

    def arn(url: str) -> str:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])  # type: ignore[attr-defined]
        return str(attributes["Attributes"]["QueueArn"])

    queue_arn = arn(ops_stack.queue_url)
    yield Pipeline(
        stack=ops_stack,
        endpoint_url=ops_endpoint,
        store=store,
        sqs=sqs,
        xsim=xsim,
        worker=WorkerPoller(sqs, ops_stack.queue_url, queue_arn),
        queue_arn=queue_arn,
        dlq_arn=arn(ops_stack.dlq_url),
    )
    cold_start()
