"""How the CLI reaches AWS: the stack name, profile, region and endpoint it was given, made into clients.

Two kinds of caller share these clients: boto3 (CloudFormation, SQS, CloudWatch) and the project's Store,
whose pynamodb connection reads the default botocore configuration. So `--profile`, and the placeholder
credentials that moto needs, are put in the process environment for the length of one command (and taken
out again), and both see the same identity.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

# moto accepts any credentials; these only keep botocore from looking further for real ones.
ENDPOINT_PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ENDPOINT_DEFAULT_REGION = "us-east-1"  # what make dev's stack uses when nothing else is configured

# Fail fast on a stopped `make dev` or a wrong endpoint; standard mode retries throttling and 5xx a little.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})


@dataclass(frozen=True)
class Target:
    """Where the operator pointed the CLI."""

    stack_name: str = "random-likes"
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


class Aws:
    """The clients one command uses, all from one session, each made on first use (a client costs ~0.1 s)."""

    def __init__(self, session: Any, region: str, endpoint_url: str | None) -> None:
        self._session = session
        self.region = region
        self.endpoint_url = endpoint_url

    @cached_property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def cloudwatch(self) -> Any:
        return self._client("cloudwatch")

    @cached_property
    def ssm(self) -> Any:
        return self._client("ssm")

    @cached_property
    def lambda_(self) -> Any:
        return self._client("lambda")

    def _client(self, service: str) -> Any:
        factory: Any = self._session.client  # boto3-stubs types one overload per service; picked at run time
        return factory(service, region_name=self.region, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)


@contextmanager
def aws_environment(target: Target) -> Iterator[None]:
    """The environment botocore (and so pynamodb) reads, set for this command and restored after it."""
    changes: dict[str, str] = {}
    if target.profile:
        changes["AWS_PROFILE"] = target.profile
    if target.endpoint_url and not target.profile and "AWS_ACCESS_KEY_ID" not in os.environ:
        # A local endpoint needs no real identity: never look one up (nor wait for instance metadata).
        changes.update(ENDPOINT_PLACEHOLDER_CREDENTIALS)
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def connect(target: Target) -> Aws:
    """Clients for the target; call inside `aws_environment(target)`."""
    session = boto3.Session(profile_name=target.profile)
    region = target.region or session.region_name
    if region is None and target.endpoint_url:
        region = ENDPOINT_DEFAULT_REGION
    if region is None:
        from botocore.exceptions import NoRegionError  # noqa: PLC0415 - only on this path

        raise NoRegionError
    if session.get_credentials() is None:
        from botocore.exceptions import NoCredentialsError  # noqa: PLC0415 - only on this path

        raise NoCredentialsError
    return Aws(session, region, target.endpoint_url)
