"""The import domain's pure parts: what an import-queue message asks for, what an archive like looks like as a post,
the walk's rule for archive likes, and that the domain depends on ports, not on adapters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.archive import ArchiveLike
from shared.archive_import import ImportPolicy, ImportRequest, StrayUpload, archive_post, read_message
from shared.bundle import MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES
from shared.errors import MalformedMessage
from shared.sync import classify_page
from tests.support.events import load_event
from tests.support.fake_x import make_post

BUCKET = "random-likes-imports-4f1c2a7e9b3d"


def body(name: str) -> str:
    return str(load_event(name)["Records"][0]["body"])


def test_s3s_notification_names_its_import_and_its_key_is_url_decoded() -> None:
    assert read_message(body("importer-upload"), bucket=BUCKET) == [ImportRequest("1001", "xsimImportId0002")]
    moto_style = body("importer-upload").replace("uploads/1001/", "uploads%2F1001%2F")
    assert read_message(moto_style, bucket=BUCKET) == [ImportRequest("1001", "xsimImportId0002")]


def test_s3s_test_event_asks_for_nothing() -> None:
    assert read_message(body("importer-test-event"), bucket=BUCKET) == []


def test_a_continuation_names_its_import_and_round_trips() -> None:
    request = ImportRequest("1001", "xsimImportId0002")
    assert read_message(body("importer-continue"), bucket=BUCKET) == [request]
    assert read_message(request.continuation_body(), bucket=BUCKET) == [request]


def test_a_key_that_names_no_import_is_a_stray_and_another_buckets_is_ignored() -> None:
    notification = json.loads(body("importer-upload"))
    notification["Records"][0]["s3"]["object"]["key"] = "uploads/1001/My+Archive.zip"
    assert read_message(json.dumps(notification), bucket=BUCKET) == [StrayUpload("uploads/1001/My Archive.zip")]
    assert read_message(json.dumps(notification), bucket="someone-elses-bucket") == []


@pytest.mark.parametrize(
    "poison",
    ["not json", "[]", '{"hello": 1}', '{"import": {"subscriber": "../x", "id": "y"}}', '{"Records": [{"s3": {}}]}'],
)
def test_anything_else_is_poison(poison: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        read_message(poison, bucket=BUCKET)
    assert str(caught.value)


def test_an_archive_like_is_a_post_with_its_text_its_links_and_its_date_but_no_author() -> None:
    like = ArchiveLike(
        "like.js", 1, "266031293945503744", "Four &gt; three &amp; more https://t.co/Ab1", "https://x.com/i/web/1"
    )
    post = archive_post(like)
    assert (post.id, post.author, post.media) == ("266031293945503744", None, ())
    assert post.text == "Four > three & more https://t.co/Ab1"
    assert (post.created_at or "").startswith("2012-11-07T04:16:")
    assert [(x.url, x.expanded_url, x.display_url, post.text[x.start : x.end]) for x in post.links] == [
        ("https://t.co/Ab1", "https://x.com/i/web/1", "x.com/i/web/1", "https://t.co/Ab1")
    ]
    assert post.url == "https://x.com/i/status/266031293945503744"


def test_several_tco_links_each_link_to_itself_and_an_unsafe_expanded_url_is_not_used() -> None:
    two = archive_post(ArchiveLike("like.js", 1, "5", "a https://t.co/A b https://t.co/B", "https://e.com"))
    assert [link.expanded_url for link in two.links] == ["https://t.co/A", "https://t.co/B"]
    unsafe = archive_post(ArchiveLike("like.js", 1, "5", "see https://t.co/A", "javascript:alert(1)"))
    assert [link.expanded_url for link in unsafe.links] == ["https://t.co/A"]
    deleted = archive_post(ArchiveLike("like.js", 1, "5", None, None))
    assert (deleted.text, deleted.links, deleted.created_at) == ("", (), None)


def test_the_policys_limits_are_the_bundles_and_a_batch_fits_one_transaction() -> None:
    policy = ImportPolicy()
    assert (policy.max_upload, policy.max_unpacked) == (MAX_UPLOAD_BYTES, MAX_UNPACKED_BYTES)
    assert 2 * policy.batch + 2 <= 100  # slot + marker per like, the profile and the checkpoint


def test_a_walk_meeting_an_archive_like_past_its_base_has_reached_older_likes() -> None:
    posts = [make_post(n) for n in range(4)]
    known = {posts[2].id: 12}  # slot 12 >= base 10, yet stored by an import, not by this walk
    assert classify_page(posts, known, base=10, archived={posts[2].id}) == (posts[:2], True)
    assert classify_page(posts, known, base=10) == ([posts[0], posts[1], posts[3]], False)


@pytest.mark.parametrize("module", ["shared.archive", "shared.archive_import", "shared.snowflake"])
def test_the_import_domain_loads_no_adapter(module: str) -> None:
    code = f"import json, sys; import {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )
    assert loaded & {"pynamodb", "botocore", "boto3", "tweepy", "requests", "aws_lambda_powertools"} == set()
