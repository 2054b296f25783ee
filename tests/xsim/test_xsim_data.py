"""What the simulator says: the same bytes for the same seed, hostile content, only the fields asked for,
pagination to the depth cap, deleted posts in errors[], likes that arrive as time passes, and the like_count
that counts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from requests_oauthlib import OAuth1

from local.xsim import ManualClock, XSim, XSimConfig
from local.xsim.corpus import HTML_IMG_TEXT, JAVASCRIPT_URL, SCRIPT_TEXT
from shared.x_client import x_unescape

ALL_FIELDS = {
    "max_results": "100",
    "tweet.fields": "created_at,author_id,lang,entities,attachments,note_tweet",
    "expansions": "author_id,attachments.media_keys",
    "user.fields": "name,username,profile_image_url,verified",
    "media.fields": "type,url,preview_image_url,alt_text,width,height",
}


def get(sim: XSim, path: str, username: str = "demo", **params: str) -> requests.Response:
    creds = sim.oauth1_credentials(username)
    auth = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    return requests.get(sim.base_url + path, params=params, auth=auth, timeout=5)


def likes_path(sim: XSim, username: str = "demo") -> str:
    return f"/2/users/{sim.user_id(username)}/liked_tweets"


def walk(sim: XSim, username: str, **params: str) -> list[dict[str, Any]]:
    """Every page of `username`'s likes, following next_token."""
    pages = []
    token: str | None = None
    while True:
        extra = {"pagination_token": token} if token else {}
        body = get(sim, likes_path(sim, username), username, **params, **extra).json()
        pages.append(body)
        token = body["meta"].get("next_token")
        if not token:
            return pages


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    # Given two simulators with seed 42 and one with seed 7, all with the same media base URL and clock
    def answers(seed: int) -> list[bytes]:
        config = XSimConfig(seed=seed, media_base_url="http://media.test")
        with XSim(config, clock=ManualClock()) as sim:
            paths = [
                ("/2/users/me", {"user.fields": "created_at,description,public_metrics,profile_image_url"}),
                (likes_path(sim), ALL_FIELDS),
                ("/2/users/by/username/bigfan", {}),
            ]
            bodies = [get(sim, path, **params).content for path, params in paths]
            headers = get(sim, "/2/users/me").headers
            return [*bodies, headers["date"].encode(), headers["x-rate-limit-reset"].encode(), sim.archive("demo")]

    # When each answers the same requests
    first, second, other = answers(42), answers(42), answers(7)

    # Then the two seed-42 runs are byte-identical (bodies, Date and reset headers, archive) and seed 7 differs
    assert first == second
    assert first[1] != other[1]


def test_demos_likes_hold_the_posts_that_break_naive_renderers(xsim: XSim) -> None:
    # When demo's first page is read with every field the page renders
    body = get(xsim, likes_path(xsim), **ALL_FIELDS).json()
    posts = body["data"]
    texts = [p["text"] for p in posts]
    urls = [u for p in posts for u in p.get("entities", {}).get("urls", [])]
    media = body["includes"]["media"]

    # Then, escaped as X escapes &, < and >, the hostile texts are there exactly, and so are long-form,
    # media, emoji and right-to-left text
    assert "&lt;img src=x onerror=alert(1)&gt;" in texts
    texts = [x_unescape(t) for t in texts]
    assert HTML_IMG_TEXT in texts
    assert any(t == SCRIPT_TEXT and "<script>alert(1)</script>" in t for t in texts)
    assert any(u["expanded_url"] == JAVASCRIPT_URL for u in urls)
    long_form = [p for p in posts if "note_tweet" in p]
    assert long_form
    assert all(len(p["note_tweet"]["text"]) > 280 >= len(p["text"]) for p in long_form)
    assert {m["type"] for m in media} == {"photo", "video", "animated_gif"}
    assert any(m["type"] == "video" and m["preview_image_url"].endswith("_preview.svg") for m in media)
    assert any(m.get("alt_text") for m in media if m["type"] == "photo")
    assert any("🧑🏽\u200d💻" in t for t in texts)
    assert any(p.get("lang") == "ar" for p in posts)
    assert any(p.get("lang") == "he" for p in posts)
    # ... with url entities whose indices point at their t.co link in the text (code points, as X counts)
    for post in posts:
        for url in post.get("entities", {}).get("urls", []):
            assert post["text"][url["start"] : url["end"]] == url["url"]


def test_only_the_fields_asked_for_come_back(xsim: XSim) -> None:
    # When the first page is read with no fields, then with created_at only
    bare = get(xsim, likes_path(xsim), max_results="20").json()
    dated = get(xsim, likes_path(xsim), **{"max_results": "20", "tweet.fields": "created_at"}).json()

    # Then X's defaults only, then the defaults plus created_at; no includes without expansions
    assert {key for post in bare["data"] for key in post} == {"id", "text", "edit_history_tweet_ids"}
    assert {key for post in dated["data"] for key in post} == {"id", "text", "edit_history_tweet_ids", "created_at"}
    assert "includes" not in bare


def test_expanding_authors_and_media_includes_each_once(xsim: XSim) -> None:
    # When the first page is read with author and media expansions but no extra fields
    body = get(xsim, likes_path(xsim), max_results="100", expansions="author_id,attachments.media_keys").json()

    # Then the posts name their author and media, and includes holds each of them once, default fields only
    authors = {p["author_id"] for p in body["data"]}
    keys = {k for p in body["data"] for k in p.get("attachments", {}).get("media_keys", [])}
    assert [u["id"] for u in body["includes"]["users"]] == list(dict.fromkeys(p["author_id"] for p in body["data"]))
    assert {u["id"] for u in body["includes"]["users"]} == authors
    assert {m["media_key"] for m in body["includes"]["media"]} == keys
    assert all(set(u) == {"id", "name", "username"} for u in body["includes"]["users"])
    assert all(set(m) == {"media_key", "type"} for m in body["includes"]["media"])


def test_deleted_posts_are_reported_in_errors_of_a_200(xsim: XSim) -> None:
    # Given the two newest deleted posts among demo's likes
    deleted = [i for i in xsim.like_ids("demo")[:100] if xsim.app.world.posts[i].deleted]

    # When the first page is read
    body = get(xsim, likes_path(xsim), max_results="100").json()

    # Then those posts are missing from data and named in errors, as resource-not-found
    assert len(deleted) >= 2
    assert not {p["id"] for p in body["data"]} & set(deleted)
    assert [e["resource_id"] for e in body["errors"]] == deleted
    assert {e["type"] for e in body["errors"]} == {"https://api.twitter.com/2/problems/resource-not-found"}
    assert body["meta"]["result_count"] == len(body["data"]) == 100 - len(deleted)


def test_post_lookup_returns_found_posts_and_names_the_missing_ones(xsim: XSim) -> None:
    # Given a live post, a deleted one and an id that never existed
    ids = xsim.like_ids("demo")
    live = next(i for i in ids if not xsim.app.world.posts[i].deleted)
    gone = next(i for i in ids if xsim.app.world.posts[i].deleted)

    # When they are looked up together
    body = get(xsim, "/2/tweets", ids=f"{live},{gone},1").json()

    # Then data has the live one; errors name the other two
    assert [p["id"] for p in body["data"]] == [live]
    assert sorted(e["resource_id"] for e in body["errors"]) == sorted([gone, "1"])
    assert {e["parameter"] for e in body["errors"]} == {"ids"}


def test_paging_ends_at_the_depth_cap(xsim_factory: Callable[..., XSim]) -> None:
    # Given bigfan with 1,000 likes and a depth cap of 250
    sim = xsim_factory(depth_cap=250, bigfan_likes=1000)

    # When bigfan pages through their own likes
    pages = walk(sim, "bigfan")

    # Then pagination simply ends after the 250 newest likes: no next_token on the last page
    # (deleted posts count as places in the list; X names them in errors instead of data)
    seen = [p["id"] for page in pages for p in page.get("data", [])]
    seen += [e["resource_id"] for page in pages for e in page.get("errors", [])]
    assert len(pages) == 3
    assert len(seen) == 250
    assert set(seen) == set(sim.like_ids("bigfan")[:250])
    assert "next_token" not in pages[-1]["meta"]


def test_bigfan_has_more_likes_than_the_default_depth_cap(xsim: XSim) -> None:
    # When bigfan pages through everything the API gives
    pages = walk(xsim, "bigfan", max_results="100")

    # Then the walk stops at 3,200 although bigfan has more
    returned = sum(page["meta"]["result_count"] + len(page.get("errors", [])) for page in pages)
    assert len(xsim.like_ids("bigfan")) > 3200
    assert returned == 3200


def test_previous_token_leads_back_to_the_page_before(xsim: XSim) -> None:
    # Given the first two pages of demo's likes
    first = get(xsim, likes_path(xsim), max_results="10").json()
    second = get(xsim, likes_path(xsim), max_results="10", pagination_token=first["meta"]["next_token"]).json()

    # When the second page's previous_token is followed
    back = get(xsim, likes_path(xsim), max_results="10", pagination_token=second["meta"]["previous_token"]).json()

    # Then it is the first page again; the first page has no previous_token
    assert back["data"] == first["data"]
    assert "previous_token" not in first["meta"]


def test_new_likes_arrive_on_top_as_simulated_time_passes_without_disturbing_a_walk(xsim: XSim) -> None:
    # Given demo gaining a like every 30 simulated minutes, and a walk that has read its first page
    first = get(xsim, likes_path(xsim), max_results="100").json()
    count_before = len(xsim.like_ids("demo"))

    # When two hours pass and the walk goes on, and a new walk starts
    xsim.clock.advance(2 * 3600)
    second = get(xsim, likes_path(xsim), max_results="100", pagination_token=first["meta"]["next_token"]).json()
    fresh = get(xsim, likes_path(xsim), max_results="5").json()

    # Then four likes have arrived, newest first; the old walk continues where it was, without repeats
    new_ids = xsim.like_ids("demo")[:4]
    assert len(xsim.like_ids("demo")) == count_before + 4
    assert [p["id"] for p in fresh["data"]][:4] == new_ids
    assert not {p["id"] for p in first["data"]} & {p["id"] for p in second["data"]}
    assert not set(new_ids) & {p["id"] for p in second["data"]}


def test_public_metrics_like_count_is_the_accounts_likes_now_on_every_users_endpoint(xsim: XSim) -> None:
    # Given demo gaining a like every 30 simulated minutes
    fields = {"user.fields": "public_metrics"}
    paths = ["/2/users/me", f"/2/users/{xsim.user_id('demo')}", "/2/users/by/username/demo"]
    before = [get(xsim, path, **fields).json()["data"]["public_metrics"]["like_count"] for path in paths]
    count_before = len(xsim.like_ids("demo"))

    # When 90 minutes pass, and two likes are added over the management API
    xsim.clock.advance(90 * 60)
    requests.post(xsim.base_url + "/_sim/accounts/demo/likes", json={"count": 2}, timeout=5)
    after = [get(xsim, path, **fields).json()["data"]["public_metrics"]["like_count"] for path in paths]

    # Then every users endpoint counts demo's likes as they stand: three arrivals and two added later
    assert before == [count_before] * 3
    assert after == [count_before + 5] * 3
    assert after == [len(xsim.like_ids("demo"))] * 3


def test_public_metrics_come_only_when_asked_for(xsim: XSim) -> None:
    # When users/me is asked without user.fields, and with public_metrics
    plain = get(xsim, "/2/users/me").json()["data"]
    metrics = get(xsim, "/2/users/me", **{"user.fields": "public_metrics"}).json()["data"]["public_metrics"]

    # Then only the second carries them, with the counts X's spec requires beside like_count
    assert "public_metrics" not in plain
    assert set(metrics) == {"followers_count", "following_count", "tweet_count", "listed_count", "like_count"}
    assert all(isinstance(value, int) and value >= 0 for value in metrics.values())


def test_likes_added_through_the_management_api_come_first(xsim: XSim) -> None:
    # When three likes are added to demo over the management API
    added = requests.post(xsim.base_url + "/_sim/accounts/demo/likes", json={"count": 3}, timeout=5).json()

    # Then they are the newest three, newest first
    body = get(xsim, likes_path(xsim), max_results="5").json()
    assert [p["id"] for p in body["data"][:3]] == list(reversed(added["added"]))


def test_invalid_parameters_are_400_invalid_request_with_one_entry_each(xsim: XSim) -> None:
    # When liked_tweets gets a too-small page, a made-up field and an unknown parameter
    response = get(xsim, likes_path(xsim), max_results="4", **{"tweet.fields": "created_at,bogus", "colour": "red"})

    # Then one 400 names each problem, as X does
    body = response.json()
    assert response.status_code == 400
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    messages = [e["message"] for e in body["errors"]]
    assert "The query parameter [colour] is not one of" in messages[0]
    assert any("[bogus] is not one of" in m for m in messages)
    assert any(m == "The `max_results` query parameter value [4] is not between 5 and 100" for m in messages)
    assert get(xsim, likes_path(xsim), max_results="101").status_code == 400
    assert get(xsim, likes_path(xsim), max_results="5").status_code == 200
    assert get(xsim, likes_path(xsim), max_results="100").status_code == 200


def test_a_made_up_or_foreign_pagination_token_is_refused(xsim: XSim) -> None:
    # Given a real token from bigfan's walk
    token = get(xsim, likes_path(xsim, "bigfan"), "bigfan", max_results="5").json()["meta"]["next_token"]

    # When demo presents it, or a made-up one
    foreign = get(xsim, likes_path(xsim), max_results="5", pagination_token=token)
    made_up = get(xsim, likes_path(xsim), max_results="5", pagination_token="n1abcdefabcdef")

    # Then both are 400 invalid-request about pagination_token
    for response in (foreign, made_up):
        assert response.status_code == 400
        assert "pagination_token" in response.json()["errors"][0]["parameters"]


def test_an_account_without_likes_gets_an_empty_meta(xsim: XSim) -> None:
    # When quiet_mouse (who likes nothing) reads their likes
    body = get(xsim, likes_path(xsim, "quiet_mouse"), "quiet_mouse").json()

    # Then X's empty answer: no data, result_count 0
    assert body == {"meta": {"result_count": 0}}


def test_avatars_and_media_are_served_by_the_simulator_itself(xsim: XSim) -> None:
    # Given the URLs of the avatars and media on demo's first page
    body = get(xsim, likes_path(xsim), **ALL_FIELDS).json()
    urls = [u["profile_image_url"] for u in body["includes"]["users"]]
    urls += [m.get("url") or m["preview_image_url"] for m in body["includes"]["media"]]

    # When each is fetched
    answers = [requests.get(url, timeout=5) for url in urls]

    # Then every one is an SVG from the simulator's own origin, and the hostile name did not leak into any
    assert all(url.startswith(xsim.base_url + "/") for url in urls)
    assert all(a.status_code == 200 and a.headers["content-type"] == "image/svg+xml" for a in answers)
    assert all(a.content.startswith(b"<svg") and b"onerror" not in a.content for a in answers)


def test_media_urls_follow_a_configured_media_base_url(xsim_factory: Callable[..., XSim]) -> None:
    # Given a simulator told that its media live behind a proxy
    sim = xsim_factory(media_base_url="http://127.0.0.1:3000/x-media/")

    # When demo's first page is read with media and avatars
    body = get(sim, likes_path(sim), **ALL_FIELDS).json()

    # Then every image URL points there
    media_urls = [m.get("url") or m["preview_image_url"] for m in body["includes"]["media"]]
    avatar_urls = [u["profile_image_url"] for u in body["includes"]["users"]]
    assert all(u.startswith("http://127.0.0.1:3000/x-media/media/") for u in media_urls)
    assert all(u.startswith("http://127.0.0.1:3000/x-media/profile_images/") for u in avatar_urls)
