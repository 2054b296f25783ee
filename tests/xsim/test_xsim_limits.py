"""X's limits as the simulator applies them: windows per endpoint, per user token (user context) and per app
(app-only, or every request when an app-wide cap is switched on); the usage cap; billing once per post and
once per user per UTC day, by the user whose request billed it; the 429s counted by kind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import tweepy
from requests_oauthlib import OAuth1

from local.xsim import XSim
from shared.errors import XUsageCapped
from shared.x_client import XClient, XCredentials

PROBLEMS = "https://api.twitter.com/2/problems/"


def get(sim: XSim, path: str, username: str = "demo", **params: str) -> requests.Response:
    creds = sim.oauth1_credentials(username)
    auth = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    return requests.get(sim.base_url + path, params=params, auth=auth, timeout=5)


def test_each_endpoint_has_its_own_window(xsim_factory: Callable[..., XSim]) -> None:
    # Given a limit of 2 per window
    sim = xsim_factory(rate_limit=2, app_rate_limit=2)
    likes = f"/2/users/{sim.user_id('demo')}/liked_tweets"

    # When liked_tweets is called three times, then users/me once
    statuses = [get(sim, likes, max_results="5").status_code for _ in range(3)]
    profile = get(sim, "/2/users/me")

    # Then the third like page is refused, and users/me is counted separately
    assert statuses == [200, 200, 429]
    assert profile.status_code == 200
    assert profile.headers["x-rate-limit-remaining"] == "1"


def test_user_context_requests_do_not_count_against_the_per_app_window(xsim_factory: Callable[..., XSim]) -> None:
    # Given a generous per-user limit but 3 requests per window for the app (X's default: app-only calls)
    sim = xsim_factory(rate_limit=75, app_rate_limit=3)

    # When demo makes two requests and bigfan two more, each with their own user token
    answers = [get(sim, "/2/users/me", user) for user in ("demo", "demo", "bigfan", "bigfan")]

    # Then every one goes through, each user counting down their own window
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["74", "73", "74", "73"]


def test_app_only_requests_share_the_per_app_window(xsim_factory: Callable[..., XSim]) -> None:
    # Given 3 requests per window for the app
    sim = xsim_factory(rate_limit=75, app_rate_limit=3)
    bearer = {"authorization": f"Bearer {sim.app_bearer_token}"}

    # When the app looks a user up four times with its app-only bearer token
    answers = [requests.get(sim.base_url + "/2/users/by/username/demo", headers=bearer, timeout=5) for _ in range(4)]

    # Then the fourth is refused by the app's window
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["x-rate-limit-limit"] == "3"


def test_an_app_wide_window_for_users_is_a_setting(xsim_factory: Callable[..., XSim]) -> None:
    # Given a generous per-user limit but 3 requests per window for the whole app, counted for users too
    sim = xsim_factory(rate_limit=75, app_rate_limit=3, app_window_for_users=True)

    # When demo makes two requests and bigfan two more
    answers = [get(sim, "/2/users/me", user) for user in ("demo", "demo", "bigfan", "bigfan")]

    # Then the app's fourth request is refused, whoever makes it
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["type"] == PROBLEMS + "rate-limit-exceeded"
    assert answers[-1].headers["x-rate-limit-limit"] == "3"


def test_the_per_user_window_does_not_stop_other_users(xsim_factory: Callable[..., XSim]) -> None:
    # Given 2 requests per user per window and plenty for the app
    sim = xsim_factory(rate_limit=2, app_rate_limit=75)

    # When demo uses up its window
    demo = [get(sim, "/2/users/me", "demo").status_code for _ in range(3)]
    bigfan = get(sim, "/2/users/me", "bigfan")

    # Then bigfan still gets through
    assert demo == [200, 200, 429]
    assert bigfan.status_code == 200


def test_a_refused_request_does_not_count_and_the_window_reopens_at_reset(xsim_factory: Callable[..., XSim]) -> None:
    # Given a used-up window of 2
    sim = xsim_factory(rate_limit=2, app_rate_limit=2, window_seconds=60)
    opened = int(sim.clock.time())
    for _ in range(2):
        get(sim, "/2/users/me")

    # When more requests come in before and at the reset
    sim.clock.advance(59)
    refused = get(sim, "/2/users/me")
    sim.clock.advance(1)
    reopened = get(sim, "/2/users/me")

    # Then the early one is refused with the old reset; at the reset a new window opens
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-reset"] == str(opened + 60)
    assert reopened.status_code == 200
    assert reopened.headers["x-rate-limit-remaining"] == "1"
    assert reopened.headers["x-rate-limit-reset"] == str(opened + 120)


def test_the_usage_cap_answers_429_usage_capped(
    xsim_factory: Callable[..., XSim], tweepy_oauth1: Callable[..., tweepy.Client]
) -> None:
    # Given a cap of 10 post reads a day
    sim = xsim_factory(usage_cap=10)
    client = tweepy_oauth1(sim, "demo")
    user_id = sim.user_id("demo")

    # When a page of 20 is read (over the cap), then another page is asked for
    first = client.get_liked_tweets(user_id, user_auth=True, max_results=20)
    with pytest.raises(tweepy.TooManyRequests) as raised:
        client.get_liked_tweets(user_id, user_auth=True, max_results=5)

    # Then the first goes through (the cap is checked before a read), the next is usage-capped, not rate-limited
    assert len(first.data) >= 10
    body = raised.value.response.json()
    assert body["type"] == PROBLEMS + "usage-capped"
    assert body["period"] == "Daily"
    assert raised.value.response.headers["x-rate-limit-remaining"] == "73"
    # ... and user lookups, which read no posts, still work
    assert client.get_me(user_auth=True).data.username == "demo"


def test_the_pipelines_client_sees_usage_capped_not_a_rate_limit(xsim_factory: Callable[..., XSim]) -> None:
    # Given the cap already reached
    sim = xsim_factory(usage_cap=0)
    client = XClient(XCredentials(**sim.oauth1_credentials("demo").as_dict()), sim.base_url)

    # When the pipeline's X client asks for a page
    with pytest.raises(XUsageCapped) as capped:
        client.liked_posts(sim.user_id("demo"), max_results=5, pagination_token=None)

    # Then it is the usage cap, which names no time to try again (a rate limit would)
    assert capped.value.reset_at is None


def test_the_daily_cap_lifts_the_next_utc_day(xsim_factory: Callable[..., XSim]) -> None:
    # Given a cap of 5, reached today
    sim = xsim_factory(usage_cap=5)
    likes = f"/2/users/{sim.user_id('demo')}/liked_tweets"
    get(sim, likes, max_results="10")
    assert get(sim, likes, max_results="5").status_code == 429

    # When the clock passes UTC midnight
    sim.clock.advance(24 * 3600)

    # Then reads are allowed again
    assert get(sim, likes, max_results="5").status_code == 200


def test_a_post_is_billed_once_per_utc_day_per_app(xsim_factory: Callable[..., XSim]) -> None:
    # Given no new likes arriving, and the first page of demo's likes read twice today, and some by id
    xsim = xsim_factory(like_every_minutes={})
    likes = f"/2/users/{xsim.user_id('demo')}/liked_tweets"
    page = get(xsim, likes, max_results="10").json()
    get(xsim, likes, max_results="10")
    ids = ",".join(t["id"] for t in page["data"][:3])
    get(xsim, "/2/tweets", ids=ids)

    # When the same page is read again tomorrow
    xsim.clock.advance(24 * 3600)
    get(xsim, likes, max_results="10")

    # Then each day bills each returned post once (deleted posts are not returned, so not billed)
    billing = xsim.billing()
    app = billing["apps"][xsim.app.credentials.app_id]
    counts = {day: d["posts_read"] for day, d in app["days"].items()}
    assert counts == {"2026-01-15": len(page["data"]), "2026-01-16": len(page["data"])}
    assert app["requests"]["GET /2/users/:id/liked_tweets"] == 3
    assert app["requests"]["GET /2/tweets"] == 1


def test_reads_of_the_app_owners_own_likes_are_billed_apart(xsim: XSim) -> None:
    # Given demo owns the app; bigfan is another user of it
    get(xsim, f"/2/users/{xsim.user_id('demo')}/liked_tweets", "demo", max_results="5")
    get(xsim, f"/2/users/{xsim.user_id('bigfan')}/liked_tweets", "bigfan", max_results="5")

    # When the billing counters are read over the management API
    billing = requests.get(xsim.base_url + "/_sim/billing", timeout=5).json()

    # Then owned reads are counted (and priced) apart: 5 x $0.001 for demo, 5 x $0.005 for bigfan
    day = billing["apps"][xsim.app.credentials.app_id]["days"]["2026-01-15"]
    assert day["posts_read"] == day["owned_posts_read"] + 5
    assert day["cost_usd"] == pytest.approx(day["owned_posts_read"] * 0.001 + 5 * 0.005)


def test_the_usage_cap_does_not_hide_a_bad_request_or_a_refusal(xsim_factory: Callable[..., XSim]) -> None:
    # Given the cap already reached
    sim = xsim_factory(usage_cap=0)

    # When demo sends a bad page size, and asks for bigfan's likes
    bad = get(sim, f"/2/users/{sim.user_id('demo')}/liked_tweets", max_results="1")
    other = get(sim, f"/2/users/{sim.user_id('bigfan')}/liked_tweets")

    # Then those answers are what they would be without the cap: only reads are capped
    assert bad.status_code == 400
    assert other.status_code == 403


def test_a_user_read_is_billed_once_per_user_per_utc_day_at_its_own_price(xsim_factory: Callable[..., XSim]) -> None:
    # Given no likes arriving; demo reads itself twice, itself by id, bigfan by name, and a name nobody has
    sim = xsim_factory(like_every_minutes={})
    get(sim, "/2/users/me", **{"user.fields": "public_metrics"})
    get(sim, "/2/users/me")
    get(sim, f"/2/users/{sim.user_id('demo')}")
    get(sim, "/2/users/by/username/bigfan")
    get(sim, "/2/users/by/username/nobody_here")
    # ... and bigfan reads itself, already read today by demo's request
    get(sim, "/2/users/me", "bigfan")

    # When demo reads itself again the next UTC day
    sim.clock.advance(24 * 3600)
    get(sim, "/2/users/me")

    # Then each day bills each user returned once, at $0.010, in the day's cost beside its posts (none here)
    app = sim.billing()["apps"][sim.app.credentials.app_id]
    days = {
        day: (d["users_read"], d["users_cost_usd"], d["cost_usd"], d["posts_read"]) for day, d in app["days"].items()
    }
    assert days == {"2026-01-15": (2, 0.02, 0.02, 0), "2026-01-16": (1, 0.01, 0.01, 0)}
    assert app["users_read_total"] == 3
    assert app["cost_usd_total"] == pytest.approx(0.03)


def test_user_reads_are_priced_by_config_and_summed_with_post_reads(xsim_factory: Callable[..., XSim]) -> None:
    # Given a user read priced at $0.02, and bigfan (not the app's owner) reading itself and 5 of its likes
    sim = xsim_factory(like_every_minutes={}, price_per_user=0.02)
    get(sim, "/2/users/me", "bigfan")
    get(sim, f"/2/users/{sim.user_id('bigfan')}/liked_tweets", "bigfan", max_results="5")

    # When the day's bill is read
    day = sim.billing()["apps"][sim.app.credentials.app_id]["days"]["2026-01-15"]

    # Then the user costs its price, the posts theirs, and the day's cost is both
    assert (day["users_read"], day["users_cost_usd"]) == (1, pytest.approx(0.02))
    assert (day["posts_read"], day["posts_cost_usd"]) == (5, pytest.approx(0.025))
    assert day["cost_usd"] == pytest.approx(0.045)


def test_billed_reads_are_attributed_to_the_user_whose_request_billed_them(xsim_factory: Callable[..., XSim]) -> None:
    # Given demo reading a page of 5 of its likes and itself, and bigfan reading 5 of its own likes
    sim = xsim_factory(like_every_minutes={})
    page = get(sim, f"/2/users/{sim.user_id('demo')}/liked_tweets", max_results="5").json()
    get(sim, "/2/users/me")
    own = get(sim, f"/2/users/{sim.user_id('bigfan')}/liked_tweets", "bigfan", max_results="5").json()

    # When bigfan then reads demo's 5 posts by id and demo as a user (both billed today already),
    # and the app-only token reads bigfan as a user
    get(sim, "/2/tweets", "bigfan", ids=",".join(p["id"] for p in page["data"]))
    get(sim, "/2/users/by/username/demo", "bigfan")
    bearer = {"authorization": f"Bearer {sim.app_bearer_token}"}
    requests.get(sim.base_url + "/2/users/by/username/bigfan", headers=bearer, timeout=5)

    # Then each billed read counts once, for the requester that billed it first (deleted posts are not returned)
    demo, bigfan = sim.user_id("demo"), sim.user_id("bigfan")
    expected = {
        demo: {"posts": len(page["data"]), "users": 1},
        bigfan: {"posts": len(own["data"]), "users": 0},
        "app-only": {"posts": 0, "users": 1},
    }
    assert len(page["data"]) >= 4
    assert len(own["data"]) >= 4
    assert sim.app.billing.billed_by_user() == expected
    # ... and the management API shows the same
    assert requests.get(sim.base_url + "/_sim/billing", timeout=5).json()["billed_by_user"] == expected


def test_429s_are_counted_by_kind(xsim_factory: Callable[..., XSim]) -> None:
    # Given 2 requests per window and a cap of 5 post reads a day
    sim = xsim_factory(rate_limit=2, usage_cap=5)
    likes = f"/2/users/{sim.user_id('demo')}/liked_tweets"

    # When demo reads 10 posts (the cap is passed), asks again (capped), then again (the window is full)
    statuses = [get(sim, likes, max_results="10").status_code for _ in range(3)]

    # Then one 429 of each kind is counted
    assert statuses == [200, 429, 429]
    assert sim.app.billing.refusals() == {"rate_limit": 1, "usage_cap": 1}
    assert sim.billing()["refusals"] == {"rate_limit": 1, "usage_cap": 1}
