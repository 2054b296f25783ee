"""`make dev`'s side of the archive import: the imports bucket moto created is the one both functions name, its
CORS lets the page's own origin (and only it) POST an upload, an upload reaches the import function through
the queue and the local event source mapping (the importer deletes one that names no import), and the bucket,
its CORS and its notification survive a restart (an upload still waiting does too:
tests/integration/test_local_imports.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from local.provision import client
from tests.support.dev_stack import DevStack, running_stack

pytestmark = pytest.mark.e2e

KEY = "uploads/1234567890/abcdefghijklmnop0123.tar.gz"


def bucket_of(stack: DevStack) -> str:
    return stack.resources()["ImportsBucket"]


def preflight(stack: DevStack, origin: str) -> requests.Response:
    return requests.options(
        f"{stack.aws_endpoint}/{bucket_of(stack)}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def upload(stack: DevStack, origin: str, body: bytes) -> requests.Response:
    """The page's upload: a presigned POST (as the API makes it) sent with the page's Origin."""
    post = client("s3", stack.aws_endpoint).generate_presigned_post(
        bucket_of(stack), KEY, Fields={"Content-Type": "application/gzip"}, ExpiresIn=900
    )
    return requests.post(
        post["url"],
        data=post["fields"],
        files={"file": ("bundle.tar.gz", body)},
        headers={"Origin": origin},
        timeout=10,
    )


def import_batches(stack: DevStack) -> list[str]:
    return [line for line in stack.output().splitlines() if "-> ImportFunction" in line]


def objects(stack: DevStack) -> list[str]:
    listed = client("s3", stack.aws_endpoint).list_objects_v2(Bucket=bucket_of(stack))
    return [o["Key"] for o in listed.get("Contents", [])]


def cors_and_notification(stack: DevStack) -> tuple[Any, Any]:
    s3 = client("s3", stack.aws_endpoint)
    cors = s3.get_bucket_cors(Bucket=bucket_of(stack))["CORSRules"]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket_of(stack))["QueueConfigurations"]
    for entry in notification:
        entry.pop("Id", None)
    return cors, notification


def test_an_upload_from_the_page_reaches_the_import_function_and_survives_a_restart(tmp_path: Path) -> None:
    # Given make dev
    with running_stack(tmp_path / "dev", "--accelerate", "60") as stack:
        bucket = bucket_of(stack)
        stack_id = client("cloudformation", stack.aws_endpoint).describe_stacks(StackName="random-likes")["Stacks"][0][
            "StackId"
        ]
        # Then the bucket is named from the stack's real id, and the api and the importer both name it
        assert bucket == f"random-likes-imports-{stack_id.split('/')[2]}"
        api_env = stack.output()
        assert f"ImportsBucket {bucket}: CORS for {stack.url}" in api_env

        # When the page's origin asks to POST, and another origin does
        allowed, refused = preflight(stack, stack.url), preflight(stack, "https://evil.example")
        # Then the page may, the other may not
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["Access-Control-Allow-Origin"] == stack.url
        assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
        # (a failed preflight is the refusal: the browser sends nothing; the policy, not CORS, is what guards a
        # form POST sent without one)
        assert refused.status_code == 403

        # When the page uploads a bundle with its presigned POST
        answer = upload(stack, stack.url, b"not yet a bundle")
        assert answer.status_code == 204, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == stack.url
        # Then S3's notification reaches the import function through the queue's event source mapping, and the
        # importer, finding no import of that name, deletes the upload: nothing of it lingers
        stack.wait_until(
            lambda: (
                "upload names no import; deleting it" in stack.output()
                or "no such import; deleting its upload" in stack.output()
            ),
            30,
            "the upload's message reached the import function",
        )
        assert import_batches(stack)
        stack.wait_until(lambda: not objects(stack), 10, "the stray upload was deleted")
        before = cors_and_notification(stack)
        assert before[1][0]["QueueArn"].endswith(":random-likes-import")
        assert before[1][0]["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]

    # When the stack restarts on the same data directory
    with running_stack(tmp_path / "dev", "--accelerate", "60") as again:
        # Then the same bucket is there, with the same notification, the same CORS rule for the page's origin
        # (its port is new here)
        assert bucket_of(again) == bucket
        cors, notification = cors_and_notification(again)
        assert notification == before[1]
        localhost = again.url.replace("127.0.0.1", "localhost")
        assert cors == [{**before[0][0], "AllowedOrigins": [again.url, localhost]}]
        assert preflight(again, again.url).status_code == 200
