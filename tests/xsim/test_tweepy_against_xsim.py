"""Unmodified tweepy against the simulator over loopback: both auth modes page through demo's likes, and the
76th request in a window raises TooManyRequests carrying the window's reset time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import tweepy
from tweepy_to_xsim import LIKE_PARAMS, TWEEPY_HOST, ToSimulator

from local.xsim import XSim
from shared.x_client import XClient, XCredentials


def visible_likes(sim: XSim, username: str) -> list[str]:
    """What X shows of an account's likes: newest first, without posts deleted since, up to the depth cap."""
    ids = sim.like_ids(username)[: sim.config.depth_cap]
    return [i for i in ids if not sim.app.world.posts[i].deleted]


def walk(client: tweepy.Client, user_id: str, *, user_auth: bool) -> tuple[list[str], int]:
    """Every liked post id, page by page, following meta.next_token; and how many pages it took."""
    ids: list[str] = []
    token = None
    pages = 0
    while True:
        response = client.get_liked_tweets(
            user_id, user_auth=user_auth, max_results=100, pagination_token=token, **LIKE_PARAMS
        )
        pages += 1
        ids.extend(tweet.id for tweet in response.data or [])
        token = response.meta.get("next_token")
        if not token:
            return [str(i) for i in ids], pages


def test_tweepy_with_oauth1_pages_through_all_of_demos_likes(
    xsim: XSim, tweepy_oauth1: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy with demo's OAuth 1.0a keys, pointed at the simulator
    client = tweepy_oauth1(xsim, "demo")
    me = client.get_me(user_auth=True).data

    # When it follows next_token to the end
    ids, pages = walk(client, str(me.id), user_auth=True)

    # Then it has every like X would show, newest first, once each
    assert me.username == "demo"
    assert ids == visible_likes(xsim, "demo")
    assert len(ids) > 300
    assert pages == -(-(len(xsim.like_ids("demo"))) // 100)


def test_tweepy_with_an_oauth2_user_token_from_pkce_pages_through_demos_likes(
    xsim: XSim, tweepy_bearer: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy's own OAuth2UserHandler (PKCE, S256) pointed at the simulator's authorize and token endpoints
    client_creds = xsim.oauth2_client
    handler = tweepy.OAuth2UserHandler(
        client_id=client_creds.client_id,
        client_secret=client_creds.client_secret,
        redirect_uri="https://127.0.0.1/callback",
        scope=["tweet.read", "users.read", "like.read", "offline.access"],
    )
    handler.mount(TWEEPY_HOST, ToSimulator(xsim.base_url))
    authorize_url = handler.get_authorization_url().replace("https://twitter.com", xsim.base_url)
    consent = requests.get(authorize_url, timeout=5)
    assert consent.status_code == 200
    assert "Authorize app" in consent.text
    # ... and demo approving on the consent page
    form = parse_qs(urlsplit(authorize_url).query)
    approved = requests.post(
        xsim.base_url + "/i/oauth2/authorize",
        data={**{k: v[0] for k, v in form.items()}, "username": "demo", "decision": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302

    # When the app exchanges the code (with its code_verifier) and uses the access token
    token = handler.fetch_token(approved.headers["location"])
    client = tweepy_bearer(xsim, token["access_token"])
    me = client.get_me(user_auth=False).data
    ids, _ = walk(client, str(me.id), user_auth=False)

    # Then the token is X's kind (2 hours, a refresh token) and it reaches all of demo's likes
    assert token["expires_in"] == 7200
    assert token["refresh_token"]
    assert me.username == "demo"
    assert ids == visible_likes(xsim, "demo")


def test_request_76_in_one_window_raises_too_many_requests_with_the_windows_reset(
    xsim: XSim, tweepy_oauth1: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy as demo, and a window that opens with the first request
    client = tweepy_oauth1(xsim, "demo")
    user_id = xsim.user_id("demo")
    window_reset = int(xsim.clock.time()) + 900

    # When it makes 75 requests to liked_tweets, then one more
    for _ in range(75):
        client.get_liked_tweets(user_id, user_auth=True, max_results=5)
    with pytest.raises(tweepy.TooManyRequests) as raised:
        client.get_liked_tweets(user_id, user_auth=True, max_results=5)

    # Then the 429 says when the window resets, and that nothing is left in it
    response = raised.value.response
    assert response.headers["x-rate-limit-reset"] == str(window_reset)
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert response.headers["x-rate-limit-limit"] == "75"
    assert response.json()["type"] == "https://api.twitter.com/2/problems/rate-limit-exceeded"
    assert response.json()["title"] == "Too Many Requests"

    # And once the clock reaches the reset, requests go through again
    xsim.clock.advance(900)
    assert client.get_liked_tweets(user_id, user_auth=True, max_results=5).data


def test_every_response_carries_the_rate_limit_headers_counting_down(
    xsim: XSim, tweepy_oauth1: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy returning raw responses
    client = tweepy_oauth1(xsim, "demo", return_type=requests.Response)
    user_id = xsim.user_id("demo")

    # When it makes three requests
    seen = [client.get_liked_tweets(user_id, user_auth=True, max_results=5).headers for _ in range(3)]

    # Then remaining counts down from 74, and the reset stays the window's
    assert [h["x-rate-limit-remaining"] for h in seen] == ["74", "73", "72"]
    assert len({h["x-rate-limit-reset"] for h in seen}) == 1


def test_the_pipelines_x_client_reads_demo_through_the_simulator(xsim: XSim) -> None:
    # Given the pipeline's own X client with demo's credentials and the simulator's base URL
    client = XClient(XCredentials(**xsim.oauth1_credentials("demo").as_dict()), xsim.base_url)

    # When it looks demo up and reads the first page of likes
    user = client.user_by_username("demo")
    page = client.liked_posts(user.id, max_results=100, pagination_token=None)

    # Then it gets domain objects: long-form text, media, links, authors, and X's rate-limit state
    assert user.id == xsim.user_id("demo")
    assert page.next_token
    assert page.skipped == 2  # the two posts deleted since they were liked
    long_form = [p for p in page.posts if len(p.text) > 280]
    assert long_form
    assert any(m.type == "video" and m.preview_image_url for p in page.posts for m in p.media)
    assert any(link.expanded_url == "javascript:alert(1)" for p in page.posts for link in p.links)
    assert all(p.author is not None for p in page.posts)
    assert page.rate.remaining == 74
    assert page.rate.reset_at == datetime.fromtimestamp(int(xsim.clock.time()) + 900, UTC)
