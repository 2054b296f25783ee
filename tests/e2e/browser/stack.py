"""The offline stack as the page sees it: its URL, and the API by paths relative to the page.

The process itself is `tests.support.dev_stack` (make dev on free ports, a fresh data directory, SIGINT
to stop); this adds what page tests and the page benchmark ask of it. Likes are private to their owner, so a
test that needs demo's likes connects demo over HTTP (`connect`) and either signs a browser context in with
that session (`sign_in`) or makes demo's likes public (`share`), as a person can.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local.provision import client
from shared.deck import deck_slot
from tests.support.dev_stack import DevStack
from tests.support.dev_stack import running_stack as running_dev_stack

START_TIMEOUT = 90.0


@dataclass
class RunningStack:
    dev: DevStack

    @property
    def url(self) -> str:
        """The page, ending in "/" (locally the $default stage: no prefix)."""
        return self.dev.url.rstrip("/") + "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def x_url(self) -> str:
        return self.dev.x_url

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, session: requests.Session | None = None
    ) -> tuple[int, Any]:
        """Call the API by a path relative to the page, as the page does ("api/subscriptions/demo"); `session`:
        as the person who connected (a visitor without)."""
        return self.dev.request(method, urlsplit(self.url + path).path + _query(path), body, session=session)

    def connect(self, username: str = "demo") -> requests.Session:
        """`username` connected with X over HTTP (the simulator's consent page): their session."""
        return self.dev.connect(username)

    def share(self, username: str = "demo", timeout: float = 90.0) -> dict[str, Any]:
        """`username` connected, synced and made public, as its owner would: its subscription."""
        person = self.connect(username)
        subscription = self.wait_for_status(username, {"ready"}, timeout=timeout, session=person)
        status, body = self.api("PATCH", f"api/subscriptions/{username}", {"visibility": "public"}, session=person)
        assert status == 200, body
        assert body["visibility"] == "public"
        return subscription

    def sign_in(self, context: Any, person: requests.Session) -> None:
        """Give a browser context the session of `person` (its cookies), as if it had connected itself."""
        context.add_cookies([{"name": c.name, "value": c.value or "", "url": self.url} for c in person.cookies])

    def session_of(self, context: Any) -> requests.Session:
        """The session a browser context holds (its cookies for the app), to call the API as that person."""
        person = requests.Session()
        for cookie in context.cookies(self.url):
            person.cookies.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
        return person

    def wait_for_status(
        self, username: str, statuses: set[str], timeout: float = 90.0, *, session: requests.Session | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            code, last = self.api("GET", f"api/subscriptions/{username}", session=session)
            if code == 200 and last["status"] in statuses:
                subscription: dict[str, Any] = last
                return subscription
            time.sleep(0.2)
        raise AssertionError(f"@{username} never reached {statuses}; last answer {last}\n{self.dev.output()[-3000:]}")

    def stored_posts(self, username: str) -> list[dict[str, Any]]:
        """The subscriber's posts by slot, read straight from the table in the stack's moto (no API throttle)."""
        dynamodb = client("dynamodb", self.dev.aws_endpoint)
        posts: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("query").paginate(
            TableName=self.dev.resources()["LikesTable"],
            KeyConditionExpression="pk = :pk AND begins_with(sk, :slot)",
            ExpressionAttributeValues={
                ":pk": {"S": f"SUB#{self.dev.subscription_key(username)}"},
                ":slot": {"S": "SLOT#"},
            },
        ):
            posts.extend(json.loads(item["post"]["S"]) for item in page["Items"])
        return posts

    def find_draw(
        self, username: str, deck: int, matches: Callable[[dict[str, Any]], bool]
    ) -> tuple[int, int, dict[str, Any]]:
        """(draw, like_count, post): the draw of `deck` that deals the first stored post that `matches`."""
        posts = self.stored_posts(username)
        slot = next((n for n, post in enumerate(posts) if matches(post)), None)
        assert slot is not None, f"@{username} has no such post stored: has the simulator's corpus changed?"
        draw = next(d for d in range(len(posts)) if deck_slot(deck, d, len(posts)) == slot)
        return draw, len(posts), posts[slot]


def _query(path: str) -> str:
    query = urlsplit(path).query
    return f"?{query}" if query else ""


@contextmanager
def running_stack(data_dir: Path, *args: str) -> Iterator[RunningStack]:
    with running_dev_stack(data_dir, "--clean", *args, timeout=START_TIMEOUT) as dev:
        yield RunningStack(dev)
