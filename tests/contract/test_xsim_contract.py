"""Every kind of answer the simulator gives on X's endpoints validates against X's OpenAPI spec: successes,
partial-error 200s, 400/401/403 problems, both kinds of 429, and injected 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1
from x_spec_check import XSpec

from local.xsim import XSim, render

PROBLEMS = "https://api.twitter.com/2/problems/"
ALL_TWEET = "attachments,author_id,conversation_id,created_at,display_text_range,edit_controls,entities,lang,note_tweet,possibly_sensitive,public_metrics,reply_settings"  # noqa: E501
ALL_USER = (
    "created_at,description,entities,location,profile_image_url,protected,public_metrics,url,verified,verified_type"
)
ALL_MEDIA = "alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,width"
EVERYTHING = {
    "tweet.fields": ALL_TWEET,
    "expansions": "author_id,attachments.media_keys",
    "user.fields": ALL_USER,
    "media.fields": ALL_MEDIA,
}


class Client:
    """Requests to one simulator as one of its accounts (OAuth 1.0a), or with a bearer token, or as no one."""

    def __init__(self, sim: XSim) -> None:
        self.sim = sim

    def get(
        self, path: str, username: str | None = "demo", bearer: str | None = None, **params: str
    ) -> requests.Response:
        kwargs: dict[str, Any] = {"params": params}
        if bearer:
            kwargs["headers"] = {"authorization": f"Bearer {bearer}"}
        elif username:
            c = self.sim.oauth1_credentials(username)
            kwargs["auth"] = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        return requests.get(self.sim.base_url + path, timeout=5, **kwargs)

    def likes(self, username: str = "demo", **params: str) -> requests.Response:
        return self.get(f"/2/users/{self.sim.user_id(username)}/liked_tweets", username, **params)

    def walk(self, username: str, **params: str) -> list[requests.Response]:
        pages = [self.likes(username, **params)]
        while token := pages[-1].json()["meta"].get("next_token"):
            pages.append(self.likes(username, pagination_token=token, **params))
        return pages


Scenario = Callable[[Callable[..., XSim]], list[requests.Response]]


def one(config: dict[str, Any], call: Callable[[Client], requests.Response]) -> Scenario:
    return lambda factory: [call(Client(factory(**config)))]


def rate_limited(factory: Callable[..., XSim]) -> list[requests.Response]:
    client = Client(factory(rate_limit=1, app_rate_limit=1))
    return [client.likes(max_results="5"), client.likes(max_results="5")]


def usage_capped(factory: Callable[..., XSim]) -> list[requests.Response]:
    client = Client(factory(usage_cap=5))
    return [client.likes(max_results="10"), client.likes(max_results="5")]


def oauth2_user(factory: Callable[..., XSim]) -> list[requests.Response]:
    sim = factory()
    token = sim.oauth2_login("demo").access_token
    client = Client(sim)
    return [
        client.get("/2/users/me", bearer=token),
        client.get(f"/2/users/{sim.user_id('demo')}/liked_tweets", bearer=token, **EVERYTHING),
    ]


def like_count_probe(factory: Callable[..., XSim]) -> list[requests.Response]:
    """The sync's probe as a connected account makes it (OAuth 2.0 user token), and by id, as likes arrive."""
    sim = factory()
    token = sim.oauth2_login("demo").access_token
    client = Client(sim)
    first = client.get("/2/users/me", bearer=token, **{"user.fields": "public_metrics"})
    sim.clock.advance(3600)
    return [first, client.get(f"/2/users/{sim.user_id('demo')}", **{"user.fields": "public_metrics"})]


def app_only(factory: Callable[..., XSim]) -> list[requests.Response]:
    sim = factory()
    client, bearer = Client(sim), sim.app_bearer_token
    return [
        client.get("/2/users/by/username/demo", bearer=bearer),
        client.get("/2/users/me", bearer=bearer),
        client.get(f"/2/users/{sim.user_id('demo')}/liked_tweets", bearer=bearer),
    ]


def faulted(status: int) -> Scenario:
    def run(factory: Callable[..., XSim]) -> list[requests.Response]:
        sim = factory()
        sim.faults.set(burst=1, burst_status=status)
        return [Client(sim).likes()]

    return run


def deleted_by_id(client: Client) -> requests.Response:
    ids = client.sim.like_ids("demo")
    gone = [i for i in ids if client.sim.app.world.posts[i].deleted][:2]
    return client.get("/2/tweets", ids=",".join([ids[0], *gone, "1"]), **EVERYTHING)


def all_missing(client: Client) -> requests.Response:
    gone = next(i for i in client.sim.like_ids("demo") if client.sim.app.world.posts[i].deleted)
    return client.get("/2/tweets", ids=f"{gone},1")


# name -> (the statuses expected, in order; the scenario)
SCENARIOS: dict[str, tuple[list[int], Scenario]] = {
    "users_me": ([200], one({}, lambda c: c.get("/2/users/me"))),
    "users_me_all_fields": ([200], one({}, lambda c: c.get("/2/users/me", **{"user.fields": ALL_USER}))),
    "users_me_no_auth": ([401], one({}, lambda c: c.get("/2/users/me", username=None))),
    "users_me_like_count_probe": ([200, 200], like_count_probe),
    "user_by_username": (
        [200],
        one({}, lambda c: c.get("/2/users/by/username/xss_tester", **{"user.fields": ALL_USER})),
    ),
    "user_by_username_unknown": ([200], one({}, lambda c: c.get("/2/users/by/username/nobody_here"))),
    "user_by_username_invalid": ([400], one({}, lambda c: c.get("/2/users/by/username/not-valid!"))),
    "user_by_id": ([200], one({}, lambda c: c.get(f"/2/users/{c.sim.user_id('bigfan')}"))),
    "user_by_id_unknown": ([200], one({}, lambda c: c.get("/2/users/12345"))),
    "user_by_id_invalid": ([400], one({}, lambda c: c.get("/2/users/abc"))),
    "user_bad_expansion": ([400], one({}, lambda c: c.get("/2/users/me", expansions="author_id"))),
    "liked_everything_every_page_demo": (
        [200] * 4,
        lambda f: Client(f()).walk("demo", max_results="100", **EVERYTHING),
    ),
    "liked_default_fields": ([200], one({}, lambda c: c.likes())),
    "liked_to_the_depth_cap": (
        [200] * 3,
        lambda f: Client(f(depth_cap=250, bigfan_likes=600)).walk("bigfan", max_results="100"),
    ),
    "liked_empty": ([200], one({}, lambda c: c.likes("quiet_mouse"))),
    "liked_max_results_low": ([400], one({}, lambda c: c.likes(max_results="4"))),
    "liked_max_results_high": ([400], one({}, lambda c: c.likes(max_results="101"))),
    "liked_max_results_not_a_number": ([400], one({}, lambda c: c.likes(max_results="ten"))),
    "liked_bad_token": ([400], one({}, lambda c: c.likes(pagination_token="nope"))),
    "liked_unknown_param_and_field": ([400], one({}, lambda c: c.likes(colour="red", **{"tweet.fields": "x"}))),
    "liked_other_user": ([403], one({}, lambda c: c.get(f"/2/users/{c.sim.user_id('bigfan')}/liked_tweets"))),
    "liked_bad_signature": ([401], one({}, lambda c: c.get("/2/users/me", username=None, bearer="xsim-made-up"))),
    "liked_rate_limited": ([200, 429], rate_limited),
    "liked_usage_capped": ([200, 429], usage_capped),
    "oauth2_user_token": ([200, 200], oauth2_user),
    "app_only": ([200, 403, 403], app_only),
    "tweets_by_id_partial": ([200], one({}, deleted_by_id)),
    "tweets_by_id_all_missing": ([200], one({}, all_missing)),
    "tweets_no_ids": ([400], one({}, lambda c: c.get("/2/tweets"))),
    "tweets_too_many_ids": ([400], one({}, lambda c: c.get("/2/tweets", ids=",".join(["1"] * 101)))),
    "tweets_bad_id": ([400], one({}, lambda c: c.get("/2/tweets", ids="12,abc"))),
    "server_error_503": ([503], faulted(503)),
    "server_error_500": ([500], faulted(500)),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_answer_matches_xs_spec(name: str, x_spec: XSpec, xsim_factory: Callable[..., XSim]) -> None:
    # Given a scenario's requests to a fresh simulator
    expected, scenario = SCENARIOS[name]

    # When they are made
    responses = scenario(xsim_factory)

    # Then each has the expected status and validates against X's spec for its operation
    assert [r.status_code for r in responses] == expected
    assert [x_spec.response_violations(response) for response in responses] == [[] for _ in responses]


def test_both_kinds_of_429_are_told_apart_by_their_problem_type(xsim_factory: Callable[..., XSim]) -> None:
    # When one simulator is rate-limited and another usage-capped
    limited = rate_limited(xsim_factory)[-1].json()
    capped = usage_capped(xsim_factory)[-1].json()

    # Then the problem types say which is which
    assert (limited["type"], limited["title"]) == (PROBLEMS + "rate-limit-exceeded", "Too Many Requests")
    assert capped["type"] == PROBLEMS + "usage-capped"


# --- the check itself ---------------------------------------------------------------------------------


def valid_page(xsim: XSim) -> tuple[str, dict[str, Any]]:
    client = Client(xsim)
    path = f"/2/users/{xsim.user_id('demo')}/liked_tweets"
    return path, client.get(path, **EVERYTHING).json()


def violations(
    x_spec: XSpec, path: str, body: dict[str, Any], status: int = 200, content_type: str = "application/json"
) -> list[str]:
    return x_spec.violations(
        method="GET",
        path=path,
        query=[],
        status=status,
        headers={"content-type": content_type},
        body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        ("empty data", r"^/data: \[\] "),
        ("entity without start", r"^/data/\d+/entities/urls/0: 'start' "),
        ("avatar url not a uri", r"^/includes/users/0/profile_image_url: 'not a uri' "),
        ("created_at not a date-time", r"^/data/0/created_at: 'yesterday' "),
        ("media without type", r"^/includes/media/0: 'type' "),
        ("photo alt_text not a string", r"^/alt_text: 42 "),  # checked against the Photo subtype alone
    ],
)
def test_the_check_rejects_a_page_x_would_never_send_and_names_the_break(
    breakage: str, named: str, x_spec: XSpec, xsim: XSim
) -> None:
    # Given a valid first page of demo's likes, broken in one way
    path, body = valid_page(xsim)
    assert violations(x_spec, path, body) == []  # the unbroken page passes
    post_with_link = next(p for p in body["data"] if "entities" in p)
    photo = next(m for m in body["includes"]["media"] if m["type"] == "photo")
    if breakage == "empty data":
        body["data"] = []
    elif breakage == "entity without start":
        del post_with_link["entities"]["urls"][0]["start"]
    elif breakage == "avatar url not a uri":
        body["includes"]["users"][0]["profile_image_url"] = "not a uri"
    elif breakage == "created_at not a date-time":
        body["data"][0]["created_at"] = "yesterday"
    elif breakage == "media without type":
        del body["includes"]["media"][0]["type"]
    else:
        photo["alt_text"] = 42

    # When it is checked
    found = violations(x_spec, path, body)

    # Then the check fails, at the place that was broken
    assert [v for v in found if re.search(named, v)], found


def test_the_check_holds_problems_to_their_documented_subtype(x_spec: XSpec, xsim: XSim) -> None:
    # Given the simulator's 403 for another user's likes
    path = f"/2/users/{xsim.user_id('bigfan')}/liked_tweets"
    problem = Client(xsim).get(path).json()
    assert violations(x_spec, path, problem, 403, "application/problem+json") == []

    # When it lacks a field its subtype requires, or comes as plain JSON (which the spec maps to Error)
    without_resource = {k: v for k, v in problem.items() if k != "resource_id"}
    missing = violations(x_spec, path, without_resource, 403, "application/problem+json")
    as_plain_json = violations(x_spec, path, problem, 403, "application/json")

    # Then both are rejected, each for what it lacks
    assert missing == ["/: 'resource_id' is a required property"]
    assert as_plain_json == ["/: 'code' is a required property", "/: 'message' is a required property"]


def test_the_check_holds_public_metrics_to_the_spec(x_spec: XSpec, xsim: XSim) -> None:
    # Given the simulator's answer to the like_count probe, which passes
    body = Client(xsim).get("/2/users/me", **{"user.fields": "public_metrics"}).json()
    assert violations(x_spec, "/2/users/me", body) == []

    # When its like_count is not a number, or a count the spec requires is missing
    wrong_type = json.loads(json.dumps(body))
    wrong_type["data"]["public_metrics"]["like_count"] = "317"
    missing = json.loads(json.dumps(body))
    del missing["data"]["public_metrics"]["tweet_count"]

    # Then each is rejected where it breaks
    assert [v for v in violations(x_spec, "/2/users/me", wrong_type) if v.startswith("/data/public_metrics/like_count")]
    assert [v for v in violations(x_spec, "/2/users/me", missing) if "'tweet_count'" in v]


def test_the_simulators_field_names_are_the_specs(x_spec: XSpec) -> None:
    # The simulator validates field names with its own copies of X's lists: they must be the spec's.
    assert x_spec.enum("TweetFieldsParameter") == render.TWEET_FIELDS
    assert x_spec.enum("TweetExpansionsParameter") == render.TWEET_EXPANSIONS
    assert x_spec.enum("UserFieldsParameter") == render.USER_FIELDS
    assert x_spec.enum("UserExpansionsParameter") == render.USER_EXPANSIONS
    assert x_spec.enum("MediaFieldsParameter") == render.MEDIA_FIELDS
    assert x_spec.enum("PollFieldsParameter") == render.POLL_FIELDS
    assert x_spec.enum("PlaceFieldsParameter") == render.PLACE_FIELDS
