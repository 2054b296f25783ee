"""The X v2 endpoints the simulator serves: the caller, users by name or id, liked posts, posts by id.

Each one validates its query as X does (unknown parameters, field names, ranges → 400 invalid-request with
one entry per problem), answers in X's JSON, and reports which posts and users it returned so they can be
billed (a users endpoint's user object is a billed user read; authors expanded into a page's includes are
not billed apart, the post read pays for them).
Authentication, rate limits and the usage cap are handled before these run (see app.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.xsim import problems
from local.xsim.auth import Principal
from local.xsim.data import Post, World
from local.xsim.paging import InvalidToken, Pager
from local.xsim.render import (
    MEDIA_FIELDS,
    PLACE_FIELDS,
    POLL_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_EXPANSIONS,
    USER_FIELDS,
    Renderer,
    Selection,
)

ID_RE = re.compile(r"[0-9]{1,19}")
USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
MIN_RESULTS, MAX_RESULTS, DEFAULT_RESULTS = 5, 100, 100
MAX_IDS = 100

USER_PARAMS = ("expansions", "tweet.fields", "user.fields")
TWEET_PARAMS = ("expansions", "media.fields", "place.fields", "poll.fields", "tweet.fields", "user.fields")
# The allowed values of each list parameter, per kind of endpoint (users expand differently from posts).
USER_LISTS = {"expansions": USER_EXPANSIONS, "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}
TWEET_LISTS = {
    "expansions": TWEET_EXPANSIONS,
    "media.fields": MEDIA_FIELDS,
    "place.fields": PLACE_FIELDS,
    "poll.fields": POLL_FIELDS,
    "tweet.fields": TWEET_FIELDS,
    "user.fields": USER_FIELDS,
}


@dataclass
class Answer:
    """An endpoint's answer before it goes on the wire, with the posts and users it returned (each billed)."""

    status: int
    body: dict[str, Any]
    posts_read: list[str] = field(default_factory=list)
    users_read: list[str] = field(default_factory=list)
    problem: bool = False  # an application/problem+json body


def invalid(errors: list[dict[str, Any]]) -> Answer:
    return Answer(400, problems.invalid_request(errors), problem=True)


class _Query:
    """A request's query parameters, checked against the ones an endpoint accepts; collects X's 400 entries."""

    def __init__(self, pairs: list[tuple[str, str]], accepted: tuple[str, ...], path_params: tuple[str, ...]) -> None:
        self.values = dict(pairs)
        self.errors: list[dict[str, Any]] = []
        allowed = sorted((*path_params, *accepted))
        for name, value in pairs:
            if name not in accepted:
                message = f"The query parameter [{name}] is not one of [{','.join(allowed)}]"
                self.errors.append(problems.parameter_error(name, value, message))

    def listed(self, name: str, allowed: frozenset[str]) -> frozenset[str]:
        raw = self.values.get(name)
        if raw is None:
            return frozenset()
        items = raw.split(",")
        bad = [item for item in items if item not in allowed]
        if bad:
            message = f"The `{name}` query parameter value [{bad[0]}] is not one of [{','.join(sorted(allowed))}]"
            self.errors.append(problems.parameter_error(name, raw, message))
        return frozenset(items) - frozenset(bad)

    def selection(self, lists: dict[str, frozenset[str]]) -> Selection:
        chosen = {name: self.listed(name, allowed) for name, allowed in lists.items()}
        return Selection(
            tweet_fields=chosen.get("tweet.fields", frozenset()),
            user_fields=chosen.get("user.fields", frozenset()),
            media_fields=chosen.get("media.fields", frozenset()),
            expansions=chosen.get("expansions", frozenset()),
        )


class Endpoints:
    def __init__(self, world: World, pager: Pager, *, depth_cap: int, renderer: Callable[[str], Renderer]) -> None:
        self._world = world
        self._pager = pager
        self._depth_cap = depth_cap
        self._renderer = renderer  # media base URL -> renderer; the base can depend on the request's host

    # --- users ----------------------------------------------------------------------------------------

    def users_me(self, principal: Principal, query: list[tuple[str, str]], media_base: str) -> Answer:
        q = _Query(query, USER_PARAMS, ())
        sel = q.selection(USER_LISTS)
        if q.errors:
            return invalid(q.errors)
        account = self._world.accounts[principal.user_id or ""]
        return _user_answer(self._renderer(media_base).user(account, sel))

    def user_by_username(self, username: str, query: list[tuple[str, str]], media_base: str) -> Answer:
        q = _Query(query, USER_PARAMS, ("username",))
        sel = q.selection(USER_LISTS)
        if not USERNAME_RE.fullmatch(username):
            message = f"The `username` query parameter value [{username}] does not match ^[A-Za-z0-9_]{{1,15}}$"
            q.errors.insert(0, problems.parameter_error("username", username, message))
        if q.errors:
            return invalid(q.errors)
        account = self._world.account_by_username(username)
        if account is None:
            return Answer(200, {"errors": [problems.not_found("user", "username", username)]})
        return _user_answer(self._renderer(media_base).user(account, sel))

    def user_by_id(self, user_id: str, query: list[tuple[str, str]], media_base: str) -> Answer:
        q = _Query(query, USER_PARAMS, ("id",))
        sel = q.selection(USER_LISTS)
        if not ID_RE.fullmatch(user_id):
            q.errors.insert(0, _bad_id("id", user_id))
        if q.errors:
            return invalid(q.errors)
        account = self._world.accounts.get(user_id)
        if account is None:
            return Answer(200, {"errors": [problems.not_found("user", "id", user_id)]})
        return _user_answer(self._renderer(media_base).user(account, sel))

    # --- posts ----------------------------------------------------------------------------------------

    def liked_tweets(self, principal: Principal, user_id: str, query: list[tuple[str, str]], media_base: str) -> Answer:
        q = _Query(query, ("max_results", "pagination_token", *TWEET_PARAMS), ("id",))
        sel = q.selection(TWEET_LISTS)
        if not ID_RE.fullmatch(user_id):
            q.errors.insert(0, _bad_id("id", user_id))
        size = self._max_results(q)
        token = q.values.get("pagination_token")
        if token == "":
            q.errors.append(
                problems.parameter_error(
                    "pagination_token", "", "The `pagination_token` query parameter can not be empty"
                )
            )
        if q.errors:
            return invalid(q.errors)
        # Likes are private since June 2024: only the caller's own.
        if user_id != principal.user_id:
            return Answer(403, problems.not_authorized_for_resource(user_id), problem=True)
        try:
            page = self._pager.page(
                user_id, self._world.likes_of(user_id), size=size, token=token, depth_cap=self._depth_cap
            )
        except InvalidToken:
            message = f"The `pagination_token` query parameter value [{token}] is not valid"
            return invalid([problems.parameter_error("pagination_token", token or "", message)])
        posts = [self._world.posts[like.post_id] for like in page.likes]
        body = self._posts_body(posts, sel, media_base, parameter="id")
        meta: dict[str, Any] = {"result_count": len(body.get("data", []))}
        if page.previous_token:
            meta["previous_token"] = page.previous_token
        if page.next_token:
            meta["next_token"] = page.next_token
        body["meta"] = meta
        return Answer(200, body, posts_read=[p["id"] for p in body.get("data", [])])

    def tweets(self, query: list[tuple[str, str]], media_base: str) -> Answer:
        q = _Query(query, ("ids", *TWEET_PARAMS), ())
        sel = q.selection(TWEET_LISTS)
        raw = q.values.get("ids")
        ids = raw.split(",") if raw else []
        if not ids:
            q.errors.insert(0, problems.parameter_error("ids", raw or "", "The `ids` query parameter can not be empty"))
        elif len(ids) > MAX_IDS:
            message = f"The `ids` query parameter value [{raw}] is not between 1 and {MAX_IDS} items"
            q.errors.insert(0, problems.parameter_error("ids", raw or "", message))
        else:
            q.errors[:0] = [_bad_id("ids", i) for i in ids if not ID_RE.fullmatch(i)]
        if q.errors:
            return invalid(q.errors)
        found: list[Post] = []
        missing: list[str] = []
        for post_id in dict.fromkeys(ids):
            post = self._world.posts.get(post_id)
            if post is None:
                missing.append(post_id)
            else:
                found.append(post)
        body = self._posts_body(found, sel, media_base, parameter="ids")
        if missing:
            body.setdefault("errors", []).extend(problems.not_found("tweet", "ids", i) for i in missing)
        return Answer(200, body, posts_read=[p["id"] for p in body.get("data", [])])

    # --- shared ---------------------------------------------------------------------------------------

    def _posts_body(self, posts: list[Post], sel: Selection, media_base: str, *, parameter: str) -> dict[str, Any]:
        """`data`, `includes` and `errors` for these posts; deleted ones only in `errors`, as X reports them."""
        renderer = self._renderer(media_base)
        live = [post for post in posts if not post.deleted]
        body: dict[str, Any] = {}
        if live:  # X's schema: data has at least one item, or is absent
            body["data"] = [renderer.tweet(post, sel) for post in live]
        includes = renderer.tweet_includes(live, sel)
        if includes:
            body["includes"] = includes
        gone = [problems.not_found("tweet", parameter, post.id) for post in posts if post.deleted]
        if gone:
            body["errors"] = gone
        return body

    @staticmethod
    def _max_results(q: _Query) -> int:
        raw = q.values.get("max_results")
        if raw is None:
            return DEFAULT_RESULTS
        try:
            value = int(raw)
        except ValueError:
            message = f"The `max_results` query parameter value [{raw}] is not a valid integer"
            q.errors.append(problems.parameter_error("max_results", raw, message))
            return DEFAULT_RESULTS
        if not MIN_RESULTS <= value <= MAX_RESULTS:
            message = f"The `max_results` query parameter value [{raw}] is not between {MIN_RESULTS} and {MAX_RESULTS}"
            q.errors.append(problems.parameter_error("max_results", raw, message))
        return value


def _user_answer(user: dict[str, Any]) -> Answer:
    """One user object from a users endpoint: billed as a user read."""
    return Answer(200, {"data": user}, users_read=[str(user["id"])])


def _bad_id(name: str, value: str) -> dict[str, Any]:
    return problems.parameter_error(
        name, value, f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"
    )
