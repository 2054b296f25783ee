"""Record real answers of the simulated X API into tests/fixtures/x/*.json, for tests that parse X's responses.

Each file holds one exchange: {"request": {"method", "path", "query", "auth"}, "response": {"status",
"headers" (content-type and x-rate-limit-*), "body"}}. No credentials are recorded. The simulator runs with
seed 42, a manual clock and media URLs under http://127.0.0.1:8787 (its CLI default), so recording again
changes nothing unless the simulator's answers changed (a test checks that the files are current).

    python scripts/record_x_fixtures.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: `local` is importable from the repo root

from local.xsim import ManualClock, XSim, XSimConfig  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "x"
MEDIA_BASE = "http://127.0.0.1:8787"
KEPT_HEADERS = ("content-type", "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
# What the pipeline's X client asks liked_tweets for (shared.x_client).
LIKES = {
    "tweet.fields": "created_at,author_id,lang,entities,attachments,note_tweet",
    "expansions": "author_id,attachments.media_keys",
    "user.fields": "name,username,profile_image_url,verified",
    "media.fields": "type,url,preview_image_url,alt_text,width,height",
}


class Recorder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: dict[str, Path] = {}

    def sim(self, **config: Any) -> XSim:
        return XSim(XSimConfig(media_base_url=MEDIA_BASE, like_every_minutes={}, **config), clock=ManualClock())

    def call(
        self, name: str, sim: XSim, path: str, auth: str = "oauth1", username: str = "demo", **params: str
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if auth == "oauth1":
            c = sim.oauth1_credentials(username)
            kwargs["auth"] = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        elif auth == "app_only":
            kwargs["headers"] = {"authorization": f"Bearer {sim.app_bearer_token}"}
        response = requests.get(sim.base_url + path, params=params, timeout=10, **kwargs)
        body = response.json()
        self._write(name, path, params, auth, response, body)
        return dict(body)

    def _write(
        self, name: str, path: str, params: dict[str, str], auth: str, response: requests.Response, body: Any
    ) -> None:
        record = {
            "request": {"method": "GET", "path": path, "query": params, "auth": auth},
            "response": {
                "status": response.status_code,
                "headers": {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
                "body": body,
            },
        }
        path_out = self.out / f"{name}.json"
        path_out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.written[name] = path_out


def record(out: Path = FIXTURES) -> list[Path]:
    """Write every fixture into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    r = Recorder(out)
    scenes: list[Callable[[Recorder], None]] = [_users, _likes, _refusals, _limits, _lookups]
    for scene in scenes:
        scene(r)
    return sorted(r.written.values())


def _users(r: Recorder) -> None:
    with r.sim() as sim:
        r.call("users_me", sim, "/2/users/me")
        # The like_count probe (shared/sync.py): the caller's public_metrics.
        r.call("users_me_public_metrics", sim, "/2/users/me", **{"user.fields": "public_metrics"})
        r.call("users_by_username", sim, "/2/users/by/username/demo")
        r.call("users_by_username_not_found", sim, "/2/users/by/username/nobody_here")


def _likes(r: Recorder) -> None:
    with r.sim() as sim:
        path = f"/2/users/{sim.user_id('demo')}/liked_tweets"
        page = r.call("liked_tweets_page1", sim, path, max_results="100", **LIKES)
        token = page["meta"]["next_token"]
        page = r.call("liked_tweets_page2", sim, path, max_results="100", pagination_token=token, **LIKES)
        while token := page["meta"].get("next_token"):  # the file keeps the last page: no next_token
            page = r.call("liked_tweets_last_page", sim, path, max_results="100", pagination_token=token, **LIKES)
        r.call("liked_tweets_small_first_page", sim, path, max_results="5", **LIKES)
        quiet = f"/2/users/{sim.user_id('quiet_mouse')}/liked_tweets"
        r.call("liked_tweets_empty", sim, quiet, username="quiet_mouse")


def _refusals(r: Recorder) -> None:
    with r.sim() as sim:
        demo = f"/2/users/{sim.user_id('demo')}/liked_tweets"
        r.call("liked_tweets_other_user_403", sim, f"/2/users/{sim.user_id('bigfan')}/liked_tweets", **LIKES)
        r.call("liked_tweets_app_only_403", sim, demo, "app_only")
        r.call("liked_tweets_max_results_400", sim, demo, max_results="1")
        r.call("liked_tweets_bad_token_400", sim, demo, max_results="5", pagination_token="not-a-real-token")  # noqa: S106 - not a secret
        r.call("unauthorized_401", sim, "/2/users/me", "none")
        sim.faults.set(burst=1)
        r.call("server_error_503", sim, demo)


def _limits(r: Recorder) -> None:
    with r.sim(rate_limit=1, app_rate_limit=1) as sim:
        demo = f"/2/users/{sim.user_id('demo')}/liked_tweets"
        r.call("liked_tweets_before_rate_limit", sim, demo, max_results="5")
        r.call("liked_tweets_rate_limited_429", sim, demo, max_results="5")
    with r.sim(usage_cap=0) as sim:
        r.call("liked_tweets_usage_capped_429", sim, f"/2/users/{sim.user_id('demo')}/liked_tweets", max_results="5")


def _lookups(r: Recorder) -> None:
    with r.sim() as sim:
        ids = sim.like_ids("demo")
        deleted = next(i for i in ids if sim.app.world.posts[i].deleted)
        r.call("tweets_partial_errors", sim, "/2/tweets", ids=f"{ids[0]},{deleted},1", **LIKES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=FIXTURES, help="where to write the fixtures")
    args = parser.parse_args(argv)
    written = record(args.out)
    print(f"wrote {len(written)} fixtures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
