"""The layers hold: the domain imports neither the pynamodb store nor the tweepy client, and the operator CLI
loads no Lambda runtime (Powertools, tweepy, X-Ray). Each import runs in a fresh interpreter, so what another
test imported cannot hide a leak."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

DOMAIN = [
    "shared.sync",
    "shared.budget",
    "shared.enqueue",
    "shared.subscriptions",
    "shared.imports",
    "shared.pick",
    "shared.purge",
    "shared.x_retry",
    "shared.redact",
]
ADAPTERS = {"pynamodb", "tweepy", "requests", "botocore", "boto3", "aws_lambda_powertools"}
LAMBDA_RUNTIME = {"aws_lambda_powertools", "tweepy", "aws_xray_sdk", "worker", "api", "fetcher"}


def loaded_top_level(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_depends_on_ports_not_on_adapters(module: str) -> None:
    assert loaded_top_level(module) & ADAPTERS == set()


def test_the_operator_cli_loads_no_lambda_runtime() -> None:
    # ops.commands imports every command's module (dlq peek parses messages with the queue's own contract).
    assert loaded_top_level("ops.commands") & LAMBDA_RUNTIME == set()


def test_the_check_itself_sees_an_adapter_when_one_is_imported() -> None:
    # Guards the helper: a module known to import pynamodb must show it, or the tests above prove nothing.
    assert "pynamodb" in loaded_top_level("shared.store")
