"""The management API (loopback only), the archive export, and running the simulator as its own process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from local.xsim import XSim
from local.xsim.exchange import Request

ROOT = Path(__file__).resolve().parents[2]


def sim_api(sim: XSim, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, sim.base_url + "/_sim" + path, timeout=5, **kwargs)


def test_the_clock_moves_by_advance_and_set(xsim: XSim) -> None:
    # When the clock is advanced by 15 minutes, then set to a date
    advanced = sim_api(xsim, "POST", "/clock/advance", json={"seconds": 900}).json()
    moved = sim_api(xsim, "POST", "/clock/set", json={"now": "2026-02-01T00:00:00Z"}).json()
    backwards = sim_api(xsim, "POST", "/clock/advance", json={"seconds": -1})

    # Then the simulator's time follows; going back by advance is refused
    assert advanced["now"] == "2026-01-15T12:15:00+00:00"
    assert moved["now"] == "2026-02-01T00:00:00+00:00"
    assert backwards.status_code == 400


def test_credentials_for_a_demo_account_work_against_the_api(xsim: XSim) -> None:
    # When bigfan's credentials are fetched from the management API
    creds = sim_api(xsim, "GET", "/credentials/bigfan").json()
    oauth1 = creds["oauth1"]

    # Then they are fake (xsim-prefixed, nothing like an AWS key) and they work as bigfan
    auth = OAuth1(
        oauth1["consumer_key"], oauth1["consumer_secret"], oauth1["access_token"], oauth1["access_token_secret"]
    )
    me = requests.get(xsim.base_url + "/2/users/me", auth=auth, timeout=5).json()
    assert me["data"]["username"] == "bigfan"
    assert creds["user_id"] == me["data"]["id"]
    values = [*oauth1.values(), creds["bearer_token"], *creds["oauth2"].values()]
    assert all("xsim" in value for value in values)
    assert not any(value.startswith("AKIA") for value in values)
    assert sim_api(xsim, "GET", "/credentials/nobody").status_code == 404


def test_the_management_api_refuses_callers_off_loopback(xsim: XSim) -> None:
    # Given a request from another machine (the server would see its address)
    request = Request("GET", "/_sim/credentials/demo", [], {"host": "sim:8787"}, client_ip="10.1.2.3")

    # When the app handles it
    response = xsim.app.handle(request)

    # Then it is refused, with no credentials in the answer
    assert response.status == 403
    assert b"xsim" not in response.body


def test_state_and_reset(xsim: XSim) -> None:
    # Given a like added and a fault switched on
    sim_api(xsim, "POST", "/accounts/demo/likes", json={"count": 2})
    xsim.faults.set(latency_ms=5)
    before = sim_api(xsim, "GET", "/state").json()

    # When the simulator is reset
    after = sim_api(xsim, "POST", "/reset").json()

    # Then the added likes and the fault are gone
    def demo_likes(state: dict[str, Any]) -> int:
        return next(a["like_count"] for a in state["accounts"] if a["username"] == "demo")

    assert demo_likes(before) == demo_likes(after) + 2
    assert after["faults"]["active"] is False
    assert after["seed"] == 42


def test_a_deleted_post_disappears_into_errors(xsim: XSim) -> None:
    # Given demo's newest live like
    newest = next(i for i in xsim.like_ids("demo") if not xsim.app.world.posts[i].deleted)

    # When its author deletes it
    assert sim_api(xsim, "POST", f"/posts/{newest}/delete").status_code == 200

    # Then a lookup names it in errors
    creds = xsim.oauth1_credentials("demo")
    auth = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    body = requests.get(xsim.base_url + "/2/tweets", params={"ids": newest}, auth=auth, timeout=5).json()
    assert "data" not in body
    assert body["errors"][0]["resource_id"] == newest


def test_unknown_management_routes_are_404_with_the_error_shape(xsim: XSim) -> None:
    response = sim_api(xsim, "GET", "/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- the archive ---------------------------------------------------------------------------------------


def read_archive(data: bytes) -> dict[str, str]:
    """The archive's text files (its data/*.js), by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".js")}


def parse_part(text: str, part: int) -> list[dict[str, Any]]:
    prefix = f"window.YTD.like.part{part} = "
    assert text.startswith(prefix)
    return list(json.loads(text[len(prefix) :]))


def test_the_archive_holds_every_like_as_x_writes_it(xsim: XSim) -> None:
    # When demo's archive is downloaded
    response = sim_api(xsim, "GET", "/archive/demo.zip")
    files = read_archive(response.content)
    likes = parse_part(files["data/like.js"], 0)

    # Then data/like.js has every like, newest first, in X's shape; deleted posts keep only id and link
    assert response.headers["content-type"] == "application/zip"
    assert [entry["like"]["tweetId"] for entry in likes] == xsim.like_ids("demo")
    first = likes[0]["like"]
    assert set(first) == {"tweetId", "fullText", "expandedUrl"}
    assert first["expandedUrl"] == f"https://twitter.com/i/web/status/{first['tweetId']}"
    deleted = [e["like"] for e in likes if xsim.app.world.posts[e["like"]["tweetId"]].deleted]
    assert deleted
    assert all("fullText" not in like for like in deleted)
    assert any(len(e["like"].get("fullText", "")) > 280 for e in likes)  # long-form posts in full
    assert '"tweetId" : ' in files["data/like.js"]  # X's own spacing


def test_a_large_archive_is_split_into_like_part_files_beyond_the_depth_cap(xsim_factory: Callable[..., XSim]) -> None:
    # Given bigfan with 1,000 likes, a depth cap of 100 and 400 likes per archive file
    sim = xsim_factory(bigfan_likes=1000, depth_cap=100, archive_part_size=400)

    # When bigfan's archive is exported
    files = read_archive(sim.archive("bigfan"))

    # Then the likes are in like.js, like-part1.js and like-part2.js: all 1,000, not just the API's 100
    assert {"data/like.js", "data/like-part1.js", "data/like-part2.js"} <= set(files)
    parts = [parse_part(files["data/like.js"], 0)] + [parse_part(files[f"data/like-part{n}.js"], n) for n in (1, 2)]
    assert [len(p) for p in parts] == [400, 400, 200]
    assert [e["like"]["tweetId"] for part in parts for e in part] == sim.like_ids("bigfan")
    assert "YTD.like.part2" in files["data/manifest.js"]


# --- standalone ----------------------------------------------------------------------------------------


@pytest.fixture
def standalone() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m local.xsim` on a free port, with its ready line read."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.xsim", "--port", "0", "--clock", "manual", "--seed", "7", "--rate-limit", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        yield process, line
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_cli_prints_its_url_and_serves_with_its_flags(standalone: tuple[subprocess.Popen[str], str]) -> None:
    # Given the simulator started as its own process with --port 0, seed 7 and a limit of 3
    _, line = standalone

    # When a client reads the URL from the ready line, fetches demo's credentials and calls the API
    assert line.startswith("xsim ready on http://127.0.0.1:")
    base_url = line.split()[3]
    oauth1 = requests.get(base_url + "/_sim/credentials/demo", timeout=5).json()["oauth1"]
    auth = OAuth1(
        oauth1["consumer_key"], oauth1["consumer_secret"], oauth1["access_token"], oauth1["access_token_secret"]
    )
    me = requests.get(base_url + "/2/users/me", auth=auth, timeout=5)
    state = requests.get(base_url + "/_sim/state", timeout=5).json()

    # Then it serves demo with the limit and seed it was given, on the manual clock
    assert me.json()["data"]["username"] == "demo"
    assert me.headers["x-rate-limit-limit"] == "3"
    assert state["seed"] == 7
    assert state["now"] == "2026-01-15T12:00:00+00:00"


def test_an_account_renames_itself_and_keeps_its_id_and_likes(xsim: XSim) -> None:
    # Given demo's id and likes
    user_id, likes = xsim.user_id("demo"), xsim.like_ids("demo")

    # When demo takes a new name, and someone tries to take a name in use
    renamed = sim_api(xsim, "POST", "/accounts/demo/rename", json={"username": "Demo_Renamed"})
    taken = sim_api(xsim, "POST", "/accounts/Demo_Renamed/rename", json={"username": "bigfan"})
    bad = sim_api(xsim, "POST", "/accounts/Demo_Renamed/rename", json={"username": "not valid!"})

    # Then the new name is the same account, the old one is unknown, and the refusals say why
    assert renamed.json() == {"id": user_id, "username": "Demo_Renamed"}
    assert xsim.user_id("demo_renamed") == user_id
    assert xsim.like_ids("Demo_Renamed") == likes
    assert xsim.app.world.account_by_username("demo") is None
    assert (taken.status_code, bad.status_code) == (409, 400)
