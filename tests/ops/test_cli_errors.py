"""What the operator sees when the CLI cannot do its job: one line, a hint, an exit code — never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from local.provision import client
from ops.cli import main
from tests.support.recording_endpoint import RecordingEndpoint

COMMAND = str(Path(sys.executable).parent / "random-likes")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], check=False, env=env, capture_output=True, text=True, timeout=60)


def bare_env(**extra: str) -> dict[str, str]:
    """A shell without any AWS configuration (and no instance metadata to fall back on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


def test_an_unknown_stack_is_named_with_a_hint(
    ops_endpoint: str, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--endpoint-url", ops_endpoint, "--stack-name", "no-such-stack", "status"])
    err = capsys.readouterr().err

    assert code == 3
    assert err.splitlines()[0] == f"random-likes: no stack named 'no-such-stack' at {ops_endpoint}"
    assert "hint:" in err
    assert "Traceback" not in err


def test_errors_are_json_too_for_scripts(ops_endpoint: str, aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--endpoint-url", ops_endpoint, "--stack-name", "no-such-stack", "--json", "dlq", "peek"])

    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 3
    assert error["code"] == "stack_not_found"
    assert error["message"] == f"no stack named 'no-such-stack' at {ops_endpoint}"


def test_a_stack_that_is_not_random_likes_is_refused(
    ops_endpoint: str, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given some other stack (named for this run alone), with a queue but none of ours
    name = f"someone-else-{uuid.uuid4().hex[:8]}"
    template = {"Resources": {"Other": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}}}
    client("cloudformation", ops_endpoint).create_stack(StackName=name, TemplateBody=json.dumps(template))

    code = main(["--endpoint-url", ops_endpoint, "--stack-name", name, "status"])

    assert code == 3
    assert "has no LikesTable, FetchQueue, FetchDeadLetterQueue" in capsys.readouterr().err


def test_an_endpoint_nobody_listens_on_is_unreachable(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a loopback port that was just free (nothing listens there now)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    code = main(["--endpoint-url", f"http://127.0.0.1:{port}", "status"])
    err = capsys.readouterr().err

    assert code == 5
    assert err.startswith(f"random-likes: cannot reach http://127.0.0.1:{port}")
    assert "is `make dev` running?" in err
    assert "Traceback" not in err


def test_no_credentials_is_said_before_any_request_is_made() -> None:
    # Given a shell with no AWS credentials, whose AWS endpoint (AWS_ENDPOINT_URL, which botocore reads for
    # every service) is a loopback endpoint that records every request it gets
    with RecordingEndpoint() as aws:
        # When the operator asks for the status; and, to show the endpoint hears the CLI, asks again with keys
        done = run("--region", "eu-west-1", "status", env=bare_env(AWS_ENDPOINT_URL=aws.url))
        requests_without_keys = list(aws.requests)
        keys = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"}
        keyed = run("--region", "eu-west-1", "status", env=bare_env(AWS_ENDPOINT_URL=aws.url, **keys))

    # Then it says there are no credentials, with a hint, having sent nothing; with keys, it does send
    assert done.returncode == 4
    assert done.stderr.startswith("random-likes: no AWS credentials found")
    assert "--endpoint-url" in done.stderr  # the hint names the local way too
    assert "Traceback" not in done.stderr
    assert requests_without_keys == []
    assert [r.body.split(b"&")[0] for r in aws.requests] == [b"Action=DescribeStackResources"]
    assert "AWS refused DescribeStackResources" in keyed.stderr


def test_an_unknown_profile_and_a_missing_region_are_access_errors() -> None:
    profile = run("--profile", "nope", "status", env=bare_env())
    region = run("status", env=bare_env(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"))

    assert (profile.returncode, region.returncode) == (4, 4)
    assert "The config profile (nope) could not be found" in profile.stderr
    assert region.stderr.startswith("random-likes: no AWS region configured")


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "exit codes: 0 ok" in out
    assert "130 interrupted" in out
