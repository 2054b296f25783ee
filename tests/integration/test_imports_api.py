"""The import routes (issue 11 §2) through the real api handler on moto: who may start and read an import, in the
contract's order; the presigned POST that really uploads the bundle to its key; one import at a time; an upload
that never came; the answers against the served OpenAPI document; the page's CSP allowing the upload."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from api.app import handler
from api.web import csp
from local.context import LocalLambdaContext
from local.provision import StackResources, client
from local.xsim import XSim
from shared.bundle import CONTENT_TYPE, MAX_UPLOAD_BYTES, UPLOAD_SECONDS, object_key, parse_object_key
from shared.models import ImportStatus
from shared.store.imports import UPLOAD_GRACE
from shared.store.items import IMPORT_PREFIX, ImportItem, Table, subscriber_pk
from shared.store.presign import S3Presigner, upload_origin
from tests.support.accounts import AWS, LOCAL, ApiClient, ApiResponse, signed_in
from tests.support.events import load_event

IMPORTS = "/api/subscriptions/demo/imports"


@pytest.fixture
def owner(stack: StackResources) -> ApiClient:
    return signed_in(handler, "demo")


@pytest.fixture
def other(stack: StackResources) -> ApiClient:
    return signed_in(handler, "bigfan")


def bundle_bytes() -> bytes:
    """A small bundle as shared/bundle.py says (the api never reads it; S3 only stores it)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        body = b'window.YTD.like.part0 = [{"like": {"tweetId": "1", "fullText": "hi"}}]'
        info = tarfile.TarInfo("like.js")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return raw.getvalue()


def upload(answer: ApiResponse, content: bytes) -> requests.Response:
    """What the page does with a 201: a multipart POST of the fields, then the file, to the url (loopback)."""
    post = answer.json()["upload"]
    return requests.post(
        post["url"], data=post["fields"], files={"file": ("bundle.tar.gz", content, CONTENT_TYPE)}, timeout=10
    )


def move(table: Table, key: str, import_id: str, **values: Any) -> None:
    """Change an import's item as the import function (or time) would."""
    item = table.imports.get(subscriber_pk(key), IMPORT_PREFIX + import_id)
    item.update(actions=[getattr(ImportItem, name).set(value) for name, value in values.items()])


# --- starting one ------------------------------------------------------------------------------------------


def test_the_owner_gets_a_presigned_post_that_uploads_the_bundle_to_its_own_key(
    owner: ApiClient, stack: StackResources, aws_endpoint: str, pipeline_x: XSim
) -> None:
    # When demo starts an import
    answer = owner.request("POST", IMPORTS, body={})

    # Then it waits for its upload, with a POST to the stack's bucket for exactly its key
    assert answer.status == 201, answer.body
    body = answer.json()
    key = pipeline_x.user_id("demo")
    assert parse_object_key(object_key(key, body["id"])) == (key, body["id"])
    assert body["status"] == "waiting_for_upload"
    assert body["origin"] == "owner"
    assert (body["likes_found"], body["likes_stored"], body["likes_processed"], body["error"]) == (0, 0, 0, None)
    assert body["upload"]["url"] == f"{aws_endpoint}/{stack.imports_bucket}"
    assert body["upload"]["fields"]["key"] == object_key(key, body["id"])
    assert body["upload"]["fields"]["Content-Type"] == CONTENT_TYPE
    assert body["upload"]["max_bytes"] == MAX_UPLOAD_BYTES
    created = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["upload_deadline"]) - created == timedelta(seconds=UPLOAD_SECONDS)
    assert answer.headers["location"] == f"{LOCAL.base}api/subscriptions/demo/imports/{body['id']}"

    # And the POST really uploads: the object lands at that key
    content = bundle_bytes()
    sent = upload(answer, content)
    assert sent.status_code in (200, 201, 204), sent.text
    s3 = client("s3", aws_endpoint)
    stored = s3.get_object(Bucket=stack.imports_bucket, Key=object_key(key, body["id"]))
    assert stored["Body"].read() == content


def test_the_policy_bounds_the_size_the_type_and_the_key(owner: ApiClient) -> None:
    # moto does not enforce a POST's conditions (AWS does): what they say is checked here, the size again by
    # the importer.
    before = datetime.now(UTC).replace(microsecond=0)  # the policy's expiration is to the second
    fields = owner.request("POST", IMPORTS).json()["upload"]["fields"]
    after = datetime.now(UTC)
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]

    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in conditions
    assert {"Content-Type": CONTENT_TYPE} in conditions
    assert {"key": fields["key"]} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    # it expires UPLOAD_SECONDS after it was signed, during the request
    assert before + timedelta(seconds=UPLOAD_SECONDS) <= expires <= after + timedelta(seconds=UPLOAD_SECONDS)


@pytest.mark.parametrize("body", [None, "", "{}", '{"ignored": true}'])
def test_the_body_may_be_left_out(owner: ApiClient, body: str | None) -> None:
    headers = {"content-type": "application/json"} if body else None
    assert owner.request("POST", IMPORTS, body=body, headers=headers).status == 201


@pytest.mark.parametrize("body", ["[]", "not json", '"x"'])
def test_a_body_that_is_not_a_json_object_is_400(owner: ApiClient, body: str) -> None:
    answer = owner.request("POST", IMPORTS, body=body, headers={"content-type": "application/json"})
    assert answer.status == 400


def test_the_writes_rules_in_their_order(owner: ApiClient, other: ApiClient) -> None:
    visitor = ApiClient(handler, LOCAL)
    nobody = "/api/subscriptions/nobody_at_all/imports"
    text = {"content-type": "text/plain"}
    evil = {"origin": "https://evil.example"}

    # cross-site first, whoever asks and whatever the name
    for answer in (
        visitor.request("POST", nobody, headers=evil),
        owner.request("POST", IMPORTS, headers={"sec-fetch-site": "cross-site"}),
        owner.request("POST", IMPORTS, body="{}", headers={**evil, **text}),
    ):
        assert (answer.status, answer.json()["error"]["code"]) == (403, "cross_site")
    # then a body that is not JSON, before the session is asked for
    for answer in (
        visitor.request("POST", nobody, body="{}", headers=text),
        owner.request("POST", IMPORTS, body="x", headers=text),
    ):
        assert (answer.status, answer.json()["error"]["code"]) == (415, "unsupported_media_type")
    # then the session, even for an unknown name
    for answer in (visitor.request("POST", nobody), visitor.request("POST", IMPORTS)):
        assert (answer.status, answer.json()["error"]["code"]) == (401, "not_signed_in")
    # then someone else's private subscription answers byte for byte as an unknown name
    unknown = other.request("POST", "/api/subscriptions/nobody_at_all/imports")
    private = other.request("POST", IMPORTS)
    assert unknown.status == 404
    assert (private.status, private.headers, private.body) == (
        404,
        unknown.headers,
        unknown.body.replace("nobody_at_all", "demo"),
    )
    assert private.json()["error"]["code"] == "not_subscribed"
    # then someone else's public one is forbidden
    owner.request("PATCH", "/api/subscriptions/demo", body={"visibility": "public"})
    forbidden = other.request("POST", IMPORTS)
    assert (forbidden.status, forbidden.json()["error"]["code"]) == (403, "forbidden")
    # and nothing of the refused ones started an import: the owner's first one starts
    assert owner.request("POST", IMPORTS).status == 201


def test_one_import_at_a_time(owner: ApiClient, table: Table, pipeline_x: XSim) -> None:
    first = owner.request("POST", IMPORTS).json()

    second = owner.request("POST", IMPORTS)

    assert second.status == 409
    error = second.json()["error"]
    assert error["code"] == "import_running"
    assert error["import"]["id"] == first["id"]
    assert error["import"]["status"] == "waiting_for_upload"
    assert "upload" not in second.json()  # no second POST signed for it
    # Once the first one ends, the next starts
    move(table, pipeline_x.user_id("demo"), first["id"], status=ImportStatus.DONE.value)
    assert owner.request("POST", IMPORTS).status == 201


def test_an_import_started_on_aws_posts_to_the_buckets_regional_host(stack: StackResources) -> None:
    # On AWS (no endpoint override) the POST goes to the bucket's regional virtual-hosted URL; the presign is
    # local (a signature), so it is checked here without a network.
    signed = S3Presigner("random-likes-imports-abc", "eu-west-1").presign("uploads/1/x.tar.gz", now=datetime.now(UTC))

    assert signed.url == "https://random-likes-imports-abc.s3.eu-west-1.amazonaws.com/"
    assert signed.fields["x-amz-credential"].split("/")[2:4] == ["eu-west-1", "s3"]


# --- reading one -------------------------------------------------------------------------------------------


def test_the_owner_follows_an_import_to_its_end(owner: ApiClient, table: Table, pipeline_x: XSim) -> None:
    started = owner.request("POST", IMPORTS).json()
    path = f"{IMPORTS}/{started['id']}"
    key = pipeline_x.user_id("demo")

    waiting = owner.get(path)
    assert waiting.status == 200
    assert {k: waiting.json()[k] for k in ("id", "status", "validated")} == {
        "id": started["id"],
        "status": "waiting_for_upload",
        "validated": False,
    }

    # While the import function writes (the item moved as it moves it)
    move(table, key, started["id"], status="importing", validated=True, likes_found=152_318, position=41_200)
    importing = owner.get(path).json()
    assert (importing["status"], importing["likes_processed"], importing["likes_found"]) == (
        "importing",
        41_200,
        152_318,
    )

    move(
        table,
        key,
        started["id"],
        status="done",
        position=152_318,
        likes_stored=150_000,
        likes_already_stored=2_318,
        updated_at=datetime.now(UTC),
    )
    done = owner.get(path).json()
    assert {k: done[k] for k in ("status", "likes_found", "likes_stored", "likes_already_stored", "error")} == {
        "status": "done",
        "likes_found": 152_318,
        "likes_stored": 150_000,
        "likes_already_stored": 2_318,
        "error": None,
    }


def test_a_failed_import_says_why(owner: ApiClient, table: Table, pipeline_x: XSim) -> None:
    started = owner.request("POST", IMPORTS).json()
    move(
        table,
        pipeline_x.user_id("demo"),
        started["id"],
        status="failed",
        error_code="wrong_account",
        error_message="This archive is another account's.",
    )
    answer = owner.get(f"{IMPORTS}/{started['id']}").json()
    assert answer["error"] == {"code": "wrong_account", "message": "This archive is another account's."}


def test_an_upload_that_never_came_fails_once_the_post_expired(
    owner: ApiClient, table: Table, pipeline_x: XSim
) -> None:
    started = owner.request("POST", IMPORTS).json()
    key = pipeline_x.user_id("demo")
    path = f"{IMPORTS}/{started['id']}"
    # Within the grace after the deadline it still waits (S3's event may be on its way)
    move(table, key, started["id"], upload_deadline=datetime.now(UTC) - UPLOAD_GRACE + timedelta(minutes=1))
    assert owner.get(path).json()["status"] == "waiting_for_upload"

    move(table, key, started["id"], upload_deadline=datetime.now(UTC) - UPLOAD_GRACE - timedelta(seconds=1))
    answer = owner.get(path).json()

    assert answer["status"] == "failed"
    assert answer["error"]["code"] == "upload_missing"
    assert table.imports.get(subscriber_pk(key), IMPORT_PREFIX + started["id"]).status == "failed"
    assert owner.request("POST", IMPORTS).status == 201  # and it no longer keeps a new one out


@pytest.mark.parametrize("import_id", ["A" * 16, "short", "not..an..id..at.all"])
def test_an_unknown_import_is_404_import_not_found(owner: ApiClient, import_id: str) -> None:
    answer = owner.get(f"{IMPORTS}/{import_id}")
    assert (answer.status, answer.json()["error"]["code"]) == (404, "import_not_found")


def test_only_the_owner_reads_an_import_anyone_else_gets_the_404_of_an_unknown_name(
    owner: ApiClient, other: ApiClient
) -> None:
    started = owner.request("POST", IMPORTS).json()
    path = f"{IMPORTS}/{started['id']}"
    unknown = other.get(f"/api/subscriptions/nobody_at_all/imports/{started['id']}")

    private = other.get(path)
    owner.request("PATCH", "/api/subscriptions/demo", body={"visibility": "public"})
    public = other.get(path)

    assert unknown.status == 404
    for answer in (private, public):
        assert (answer.status, answer.headers, answer.body) == (
            404,
            unknown.headers,
            unknown.body.replace("nobody_at_all", "demo"),
        )
    signed_out = ApiClient(handler, LOCAL).get(path)
    assert (signed_out.status, signed_out.json()["error"]["code"]) == (401, "not_signed_in")


# --- the document and the page -----------------------------------------------------------------------------


def test_every_answer_matches_the_served_openapi_document(
    owner: ApiClient, other: ApiClient, table: Table, pipeline_x: XSim
) -> None:
    spec = OpenAPI.from_dict(owner.get("/api/openapi.json").json())
    started = owner.request("POST", IMPORTS)
    running = owner.request("POST", IMPORTS)
    path = f"{IMPORTS}/{started.json()['id']}"
    move(table, pipeline_x.user_id("demo"), started.json()["id"], status="failed", error_code="x", error_message="y")
    calls = [
        ("post", IMPORTS, "", started),
        ("post", IMPORTS, "", running),
        ("post", IMPORTS, "", other.request("POST", IMPORTS)),
        ("post", IMPORTS, "", ApiClient(handler, LOCAL).request("POST", IMPORTS)),
        ("post", IMPORTS, "x", owner.request("POST", IMPORTS, body="x", headers={"content-type": "text/plain"})),
        ("get", path, "", owner.get(path)),
        ("get", path, "", other.get(path)),
        ("get", f"{IMPORTS}/{'B' * 16}", "", owner.get(f"{IMPORTS}/{'B' * 16}")),
    ]
    for method, route, body, answer in calls:
        spec.validate_response(
            MockRequest("https://example.com", method, route, data=body.encode()),
            MockResponse(answer.body.encode(), status_code=answer.status, content_type=answer.headers["content-type"]),
        )
    assert [c[3].status for c in calls] == [201, 409, 404, 401, 415, 200, 404, 404]


def test_the_pages_csp_allows_the_upload_origin_and_nothing_else(owner: ApiClient) -> None:
    url = owner.request("POST", IMPORTS).json()["upload"]["url"]
    parts = urlsplit(url)

    csp = owner.get("/").headers["content-security-policy"]

    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert connect == ["connect-src", "'self'", f"{parts.scheme}://{parts.netloc}"]
    assert "form-action 'self'" in csp


def test_on_aws_the_csp_names_the_buckets_regional_origin(stack: StackResources) -> None:
    origin = upload_origin("random-likes-imports-abc", "eu-west-1")

    assert origin == "https://random-likes-imports-abc.s3.eu-west-1.amazonaws.com"
    assert f"connect-src 'self' {origin};" in csp(origin)
    assert "connect-src 'self';" in csp(None)
    assert "connect-src 'self';" in csp("https://x.example; script-src *")  # never a policy of its own making


def test_the_aws_site_works_the_same(stack: StackResources) -> None:
    browser = ApiClient(handler, AWS)
    browser.connect("demo")
    answer = browser.request("POST", IMPORTS)
    assert answer.status == 201
    assert answer.headers["location"].startswith("https://localhost/prod/api/subscriptions/demo/imports/")


def test_the_sample_events_answer_as_the_contract_says(stack: StackResources) -> None:
    # Given demo signed in (the samples' site is API Gateway's: https, stage prod)
    session = ApiClient(handler, AWS).connect("demo")

    def invoke(name: str) -> tuple[int, dict[str, Any]]:
        event = load_event(name)
        event["cookies"] = [f"__Host-rl_session={session}"]
        answer = handler(event, LocalLambdaContext("random-likes-ApiFunction", 10))
        return answer["statusCode"], json.loads(answer["body"])

    started, body = invoke("api-start-import")
    again, running = invoke("api-start-import-no-body")
    unknown, missing = invoke("api-get-import")
    invalid, refused = invoke("api-get-import-invalid-id")

    assert (started, body["status"]) == (201, "waiting_for_upload")
    assert (again, running["error"]["import"]["id"]) == (409, body["id"])
    assert (unknown, missing["error"]["code"]) == (404, "import_not_found")
    assert (invalid, refused["error"]["code"]) == (404, "import_not_found")
