"""Who may see and change a subscription (issue 10 §4), in the order the api checks: cross-site, JSON, session,
unknown-or-private (indistinguishable), someone else's public one, the owner. Two real accounts connected through
the simulator's consent form, each in its own browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.endpoint
import pytest

from api.app import handler
from local.provision import StackResources
from local.xsim import XSim
from shared.models import PageRecord, SubscriberStatus, SyncEnd, Walk
from shared.store import Stores
from tests.support.accounts import LOCAL, ApiClient, signed_in
from tests.support.fake_x import make_post

SUB = "/api/subscriptions/demo"


@pytest.fixture
def owner(stack: StackResources) -> ApiClient:
    return signed_in(handler, "demo")


@pytest.fixture
def other(stack: StackResources) -> ApiClient:
    return signed_in(handler, "bigfan")


def store_posts(store: Stores, key: str, count: int) -> None:
    sub = store.subscribers.get_subscriber(key, consistent=True)
    assert sub is not None
    record = PageRecord(Walk(0, None, 100), None, True, count, 1, SubscriberStatus.READY)
    store.likes.append_likes(sub, [make_post(n) for n in range(count)], record, now=datetime.now(UTC))


def answers(browser: ApiClient) -> dict[str, Any]:
    """Every route on demo's subscription, as `browser` gets them: (status, headers, body) each."""
    calls = {
        "get": browser.get(SUB),
        "pick": browser.get(SUB + "/likes/random"),
        "patch": browser.request("PATCH", SUB, body={"visibility": "public"}),
        "delete": browser.request("DELETE", SUB),
    }
    return {name: (r.status, r.headers, r.body) for name, r in calls.items()}


def test_someone_elses_private_subscription_answers_byte_for_byte_as_an_unknown_name(
    stack: StackResources, other: ApiClient
) -> None:
    # Given what bigfan gets for demo before demo ever connected
    unknown = answers(other)

    # When demo connects (a private subscription) and bigfan asks again
    ApiClient(handler, LOCAL).connect("demo")
    private = answers(other)

    # Then every route answers exactly as before: 404 not_subscribed, the same body and the same headers
    assert private == unknown
    assert {status for status, _, _ in private.values()} == {404}
    assert json.loads(private["get"][2])["error"]["code"] == "not_subscribed"


def test_a_private_subscription_is_invisible_signed_out_too(owner: ApiClient) -> None:
    visitor = ApiClient(handler, LOCAL)
    assert visitor.get(SUB).status == 404
    assert visitor.get(SUB + "/likes/random").status == 404


def test_a_public_subscription_is_read_by_anyone_and_changed_by_its_owner_only(
    owner: ApiClient, other: ApiClient, store: Stores, pipeline_x: XSim
) -> None:
    store_posts(store, pipeline_x.user_id("demo"), 3)

    shared = owner.request("PATCH", SUB, body={"visibility": "public"})

    assert shared.status == 200
    assert shared.json()["visibility"] == "public"
    assert shared.json()["owner"] is True
    seen = other.get(SUB)
    assert seen.status == 200
    assert seen.json()["owner"] is False
    assert other.get(SUB + "/likes/random").status == 200
    assert ApiClient(handler, LOCAL).get(SUB + "/likes/random").status == 200  # signed out, by its link
    for refused in (
        other.request("PATCH", SUB, body={"visibility": "private"}),
        other.request("DELETE", SUB),
    ):
        assert refused.status == 403
        assert refused.json()["error"]["code"] == "forbidden"
    assert owner.get(SUB).json()["visibility"] == "public"


def test_the_owner_makes_it_private_again_and_others_get_404(owner: ApiClient, other: ApiClient) -> None:
    owner.request("PATCH", SUB, body={"visibility": "public"})
    assert other.get(SUB).status == 200

    hidden = owner.request("PATCH", SUB, body={"visibility": "private"})

    assert hidden.json()["visibility"] == "private"
    assert other.get(SUB).status == 404
    assert other.get(SUB + "/likes/random").status == 404


def test_the_owner_sees_its_own_private_subscription_and_picks(
    owner: ApiClient, store: Stores, pipeline_x: XSim
) -> None:
    store_posts(store, pipeline_x.user_id("demo"), 2)
    assert owner.get(SUB).json()["owner"] is True
    assert owner.get(SUB + "/likes/random").status == 200


@pytest.mark.parametrize("visibility", ["public", "private"])
def test_a_bad_visibility_is_400(owner: ApiClient, visibility: str) -> None:
    assert owner.request("PATCH", SUB, body={"visibility": visibility.upper()}).status == 400


def test_a_cross_site_write_is_refused_before_anything_else(owner: ApiClient) -> None:
    evil = owner.request("PATCH", SUB, body={"visibility": "public"}, headers={"origin": "https://evil.example"})
    fetched = owner.request("POST", "/api/subscriptions", body={}, headers={"sec-fetch-site": "cross-site"})
    form = owner.request(
        "POST",
        "/api/subscriptions",
        body="username=demo",
        headers={"origin": "http://evil.example", "content-type": "application/x-www-form-urlencoded"},
    )
    logout = owner.request("POST", "/auth/logout", headers={"origin": "https://evil.example"})

    for refused in (evil, fetched, form, logout):
        assert refused.status == 403
        assert refused.json()["error"]["code"] == "cross_site"
    assert owner.get(SUB).json()["visibility"] == "private"
    assert owner.get("/api/me").status == 200  # still signed in


def test_a_same_site_write_passes(owner: ApiClient) -> None:
    same = owner.request(
        "PATCH",
        SUB,
        body={"visibility": "public"},
        headers={"origin": "http://127.0.0.1:3000", "sec-fetch-site": "same-origin"},
    )
    assert same.status == 200


def test_a_write_that_is_not_json_is_415_before_the_session_is_asked_for(owner: ApiClient) -> None:
    text = {"content-type": "text/plain"}
    signed_in = owner.request("PATCH", SUB, body='{"visibility": "public"}', headers=text)
    signed_out = ApiClient(handler, LOCAL).request("PATCH", SUB, body='{"visibility": "public"}', headers=text)

    assert (signed_in.status, signed_out.status) == (415, 415)
    assert signed_in.json()["error"]["code"] == "unsupported_media_type"


def test_a_write_without_a_session_is_401_even_for_an_unknown_name(stack: StackResources) -> None:
    visitor = ApiClient(handler, LOCAL)

    for answer in (
        visitor.request("PATCH", "/api/subscriptions/nobody_at_all", body={"visibility": "public"}),
        visitor.request("DELETE", SUB),
        visitor.request("POST", "/api/subscriptions", body={"username": "demo"}),
    ):
        assert answer.status == 401
        assert answer.json()["error"]["code"] == "not_signed_in"
        assert "Connect with X" in answer.json()["error"]["message"]


def test_disconnecting_ends_every_session_of_the_owner_and_no_one_elses(
    owner: ApiClient, other: ApiClient, stack: StackResources
) -> None:
    second_device = signed_in(handler, "demo")

    gone = owner.request("DELETE", SUB)

    assert gone.status == 204
    assert owner.get("/api/me").status == 401
    assert second_device.get("/api/me").status == 401
    assert other.get("/api/me").status == 200
    assert other.get(SUB).status == 404


def test_reconnecting_keeps_the_visibility_and_rearms_a_refused_subscription(
    owner: ApiClient, store: Stores, pipeline_x: XSim
) -> None:
    key = pipeline_x.user_id("demo")
    owner.request("PATCH", SUB, body={"visibility": "public"})
    now = datetime.now(UTC)
    end = SyncEnd(SubscriberStatus.RECONNECT_NEEDED, now, now + timedelta(days=1), "X refused the token")
    assert store.subscribers.finish_sync(key, end) is not None

    ApiClient(handler, LOCAL).connect("demo")

    sub = store.subscribers.get_subscriber(key, consistent=True)
    assert sub is not None
    assert (sub.status, sub.visibility.value, sub.last_error) == (SubscriberStatus.PENDING, "public", None)
    assert owner.get("/api/me").status == 200  # an older session of the same owner stays valid


def test_a_rename_on_x_moves_the_name_and_keeps_the_likes(
    stack: StackResources, store: Stores, pipeline_x: XSim
) -> None:
    browser = signed_in(handler, "quiet_mouse")
    key = pipeline_x.user_id("quiet_mouse")
    store_posts(store, key, 4)
    try:
        # When the account renames itself on X, and connects again
        pipeline_x.app.world.rename("quiet_mouse", "Loud_Mouse")
        browser.connect("Loud_Mouse")

        # Then the new name answers with the same likes, and the old one is unknown
        renamed = browser.get("/api/subscriptions/loud_mouse")
        assert renamed.status == 200
        assert (renamed.json()["username"], renamed.json()["like_count"]) == ("Loud_Mouse", 4)
        assert browser.get("/api/subscriptions/quiet_mouse").status == 404
        assert browser.get("/api/me").json()["username"] == "Loud_Mouse"
        assert store.subscribers.key_for_name("quiet_mouse") is None
    finally:
        pipeline_x.app.world.rename("Loud_Mouse", "quiet_mouse")


def test_posting_a_subscription_names_only_the_own_account(owner: ApiClient) -> None:
    mine = owner.request("POST", "/api/subscriptions", body={"username": "@Demo"})
    theirs = owner.request("POST", "/api/subscriptions", body={"username": "bigfan"})

    assert mine.status == 202
    assert (theirs.status, theirs.json()["error"]["code"]) == (403, "forbidden")


def test_an_owners_pick_reads_the_session_the_profile_and_the_slot_once_each(
    stack: StackResources, store: Stores, owner: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given demo's own likes, and every DynamoDB call counted from here on
    key = owner.get("/api/me").json()["x_user_id"]
    store_posts(store, key, 3)
    owner.get(SUB + "/likes/random")  # warm: the name's key is known to this container
    calls: list[tuple[str, str]] = []
    original = botocore.endpoint.Endpoint.make_request

    def counted(endpoint: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.service_model.service_name == "dynamodb":
            body = json.loads(request_dict["body"] or b"{}")
            calls.append((operation_model.name, body.get("Key", {}).get("pk", {}).get("S", "")))
        return original(endpoint, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", counted)

    # When the owner asks for one of their likes
    pick = owner.get(SUB + "/likes/random")

    # Then the session, the owner's profile (read once, for the session and the privacy check) and one slot
    assert pick.status == 200
    assert [name for name, _ in calls] == ["GetItem", "GetItem", "GetItem"]
    assert [pk.split("#")[0] for _, pk in calls] == ["SESSION", "SUB", "SUB"]
