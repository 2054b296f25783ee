"""The X API as the domain needs it: who a username is, and one page of a user's likes.

tweepy makes the requests (user-context auth, its exceptions); an adapter on its session points it at the
base URL from settings (tweepy's host is fixed), re-signs OAuth 1.0a requests for that URL and bounds every
request with a timeout. Responses are read raw, so the x-rate-limit-* headers are ours too. Never
`wait_on_rate_limit`: sleeping until X's reset inside a Lambda bills the whole wait.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from shared.errors import (
    XError,
    XForbidden,
    XGrantInvalid,
    XInvalidCursor,
    XRateLimited,
    XRejected,
    XTransient,
    XUnavailable,
    XUsageCapped,
    XUserNotFound,
)
from shared.models import Author, LikesPage, Link, Media, Post, RateLimit, XUser
from shared.x_api import MAX_PAGE, MIN_PAGE

TWEEPY_HOST = "https://api.twitter.com"
USAGE_CAPPED = "https://api.twitter.com/2/problems/usage-capped"
INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
# The answers of a proxy or an overloaded X in front of a request that never ran: ask again (shared/x_retry.py).
# A 500 is X failing on this very request, and may fail the same way again: it goes back to SQS at once.
TRANSIENT_STATUSES = frozenset({502, 503, 504})
# No answer at all: the connection was refused, dropped, or timed out. A GET is safe to send again.
NO_ANSWER = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

TWEET_FIELDS = ["created_at", "author_id", "lang", "entities", "attachments", "note_tweet"]
EXPANSIONS = ["author_id", "attachments.media_keys"]
USER_FIELDS = ["name", "username", "profile_image_url", "verified"]
MEDIA_FIELDS = ["type", "url", "preview_image_url", "alt_text", "width", "height"]

# tweepy logs whole requests, Authorization header included, at DEBUG: keep it above that, always.
logging.getLogger("tweepy").setLevel(logging.WARNING)


@dataclass(frozen=True)
class XCredentials:
    """User-context credentials: OAuth 1.0a keys, or an OAuth 2.0 user access token as `bearer_token`."""

    consumer_key: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    access_token_secret: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)

    @property
    def oauth1(self) -> bool:
        return all((self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret))

    @classmethod
    def from_json(cls, raw: str) -> XCredentials:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("the X credentials parameter is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("the X credentials parameter must be a JSON object")
        creds = cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__ and v})
        if not creds.oauth1 and not creds.bearer_token:
            raise ValueError(
                "the X credentials parameter needs consumer_key, consumer_secret, access_token and "
                "access_token_secret (OAuth 1.0a), or bearer_token (an OAuth 2.0 user token)"
            )
        return creds


class _BaseUrlAdapter(HTTPAdapter):
    """Sends tweepy's api.twitter.com requests to the configured base URL, signed for that URL."""

    def __init__(self, base_url: str, oauth1: OAuth1 | None, timeout: float) -> None:
        # Never a transport-level retry: it would replay the same signed request, and an OAuth 1.0a nonce works
        # once. Retries go through the X port again (shared/x_retry.py), so each attempt is signed afresh.
        super().__init__(max_retries=0)
        self._base_url = base_url.rstrip("/")
        self._oauth1 = oauth1
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if url.startswith(TWEEPY_HOST):
            request.url = self._base_url + url[len(TWEEPY_HOST) :]
            if self._oauth1 is not None:
                request = self._oauth1(request)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class XClient:
    """tweepy pointed at `base_url`, answering in domain objects and domain errors.

    `account_token`: the credentials are a connected account's own OAuth 2.0 access token, so X refusing it
    (401) means the grant is dead (revoked at X): XGrantInvalid, which only the owner can fix by connecting
    again. With the operator's credentials the same 401 stays XForbidden.
    """

    def __init__(
        self, credentials: XCredentials, base_url: str, *, timeout: float = 10.0, account_token: bool = False
    ) -> None:
        # tweepy signs with OAuth 1.0a when user_auth=True; with False it sends `bearer_token` (a user token).
        self._user_auth = credentials.oauth1
        self._account_token = account_token and not credentials.oauth1
        self._client = tweepy.Client(
            bearer_token=credentials.bearer_token,
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        oauth1 = None
        if credentials.oauth1:
            oauth1 = OAuth1(
                credentials.consumer_key,
                credentials.consumer_secret,
                credentials.access_token,
                credentials.access_token_secret,
            )
        adapter = _BaseUrlAdapter(base_url, oauth1, timeout)
        self._client.session.mount(TWEEPY_HOST, adapter)

    @classmethod
    def for_user_token(cls, access_token: str, base_url: str, *, timeout: float = 10.0) -> XClient:
        """A client reading as a connected account, with its OAuth 2.0 user access token."""
        return cls(XCredentials(bearer_token=access_token), base_url, timeout=timeout, account_token=True)

    def user_by_username(self, username: str) -> XUser:
        response = self._call("user", lambda: self._client.get_user(username=username, user_auth=self._user_auth))
        body = _json(response)
        data = body.get("data")
        if not isinstance(data, dict):
            raise XUserNotFound(_problem_detail(body) or f"X knows no user @{username}")
        return XUser(id=str(data["id"]), username=str(data["username"]), name=str(data.get("name", "")))

    def me(self) -> XUser:
        """Whose credentials these are (`GET /2/users/me`): the one account whose likes they can read."""
        response = self._call("user", lambda: self._client.get_me(user_auth=self._user_auth))
        body = _json(response)
        data = body.get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise XUnavailable("X answered users/me without a user")
        return XUser(id=str(data["id"]), username=str(data["username"]), name=str(data.get("name", "")))

    def own_like_count(self) -> int:
        """The authenticated user's like_count (`GET /2/users/me?user.fields=public_metrics`)."""
        response = self._call(
            "user", lambda: self._client.get_me(user_auth=self._user_auth, user_fields=["public_metrics"])
        )
        data = _json(response).get("data")
        metrics = data.get("public_metrics") if isinstance(data, dict) else None
        count = metrics.get("like_count") if isinstance(metrics, dict) else None
        # X's spec lists like_count among public_metrics but does not require it: without it there is no probe.
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise XUnavailable("X answered users/me without a like_count")
        return count

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        size = max(MIN_PAGE, min(MAX_PAGE, max_results))
        params: dict[str, Any] = {
            "max_results": size,
            "tweet_fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user_fields": USER_FIELDS,
            "media_fields": MEDIA_FIELDS,
        }
        if pagination_token:
            params["pagination_token"] = pagination_token
        response = self._call(
            "likes",
            lambda: self._client.get_liked_tweets(user_id, user_auth=self._user_auth, **params),
            cursor=pagination_token,
        )
        return parse_likes_page(_json(response), rate_limit(response.headers))

    def _call(self, what: str, request: Any, cursor: str | None = None) -> requests.Response:
        try:
            response: requests.Response = request()
        except tweepy.TooManyRequests as exc:
            raise _too_many(exc) from None
        except tweepy.Unauthorized as exc:
            if self._account_token:
                raise XGrantInvalid("X refused the account's access token (HTTP 401): access was revoked") from None
            raise XForbidden(_problem_detail(_problem(exc)) or "X refused the request with these credentials") from None
        except tweepy.Forbidden as exc:
            raise XForbidden(_problem_detail(_problem(exc)) or "X refused the request with these credentials") from None
        except tweepy.NotFound as exc:
            if what == "user":
                raise XUserNotFound(_problem_detail(_problem(exc)) or "X knows no such user") from None
            raise XForbidden(_problem_detail(_problem(exc)) or "X has no likes for this user") from None
        except tweepy.BadRequest as exc:
            problem = _problem(exc)
            if cursor and "pagination_token" in _invalid_parameters(problem):
                raise XInvalidCursor(_problem_detail(problem) or "X refused the pagination token") from None
            raise XRejected(f"X answered 400: {_rejection(problem)}") from None
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            if status in TRANSIENT_STATUSES:
                raise XTransient(f"X answered {status}", retry_after=retry_after(exc.response.headers)) from None
            raise XUnavailable(f"X answered {status}") from None
        except NO_ANSWER as exc:
            raise XTransient(f"X did not answer: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise XUnavailable(f"X did not answer: {type(exc).__name__}") from None
        return response


def rate_limit(headers: Mapping[str, str]) -> RateLimit:
    def number(name: str) -> int | None:
        try:
            return int(headers[name])
        except (KeyError, ValueError):
            return None

    reset = number("x-rate-limit-reset")
    return RateLimit(
        limit=number("x-rate-limit-limit"),
        remaining=number("x-rate-limit-remaining"),
        reset_at=None if reset is None else datetime.fromtimestamp(reset, UTC),
    )


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """X's Retry-After in seconds from `now` (it may send seconds or an HTTP date); None if absent or unreadable."""
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_likes_page(body: Mapping[str, Any], rate: RateLimit) -> LikesPage:
    """One liked_tweets response (as X's OpenAPI spec shapes it) → domain posts, long-form text included."""
    includes = body.get("includes") or {}
    users = {str(u["id"]): u for u in includes.get("users") or [] if isinstance(u, dict) and "id" in u}
    media = {str(m["media_key"]): m for m in includes.get("media") or [] if isinstance(m, dict) and "media_key" in m}
    posts: list[Post] = []
    for tweet in body.get("data") or []:
        if isinstance(tweet, dict) and "id" in tweet:
            posts.append(_post(tweet, users, media))
    meta = body.get("meta") or {}
    return LikesPage(
        posts=tuple(posts),
        next_token=meta.get("next_token") or None,
        rate=rate,
        skipped=len(body.get("errors") or []),
        result_count=int(meta.get("result_count", len(posts))),
    )


def _post(tweet: Mapping[str, Any], users: Mapping[str, Any], media: Mapping[str, Any]) -> Post:
    note = tweet.get("note_tweet") or {}
    # A long-form post's full text is in note_tweet; `text` holds only its first 280 characters.
    text = x_unescape(note.get("text") or tweet.get("text") or "")
    entities = (note.get("entities") if note.get("text") else None) or tweet.get("entities") or {}
    author_data = users.get(str(tweet.get("author_id")))
    author = None
    if author_data:
        author = Author(
            id=str(author_data["id"]),
            username=str(author_data.get("username", "")),
            name=str(author_data.get("name") or author_data.get("username", "")),
            profile_image_url=author_data.get("profile_image_url"),
            verified=bool(author_data.get("verified", False)),
        )
    links = tuple(
        Link(
            url=str(u.get("url", "")),
            expanded_url=str(u.get("expanded_url") or u.get("url", "")),
            display_url=str(u.get("display_url") or u.get("expanded_url") or u.get("url", "")),
            start=int(u.get("start", 0)),
            end=int(u.get("end", 0)),
        )
        for u in entities.get("urls") or []
        if isinstance(u, dict)
    )
    attached = tuple(
        Media(
            media_key=key,
            type=str(m.get("type", "photo")),
            url=m.get("url"),
            preview_image_url=m.get("preview_image_url"),
            alt_text=m.get("alt_text"),
            width=m.get("width"),
            height=m.get("height"),
        )
        for key in (tweet.get("attachments") or {}).get("media_keys") or []
        if (m := media.get(str(key)))
    )
    return Post(
        id=str(tweet["id"]),
        text=str(text),
        author=author,
        created_at=tweet.get("created_at"),
        lang=tweet.get("lang"),
        links=links,
        media=attached,
    )


def x_unescape(text: str) -> str:
    """X sends post text with &, < and > as HTML entities: store what the author wrote (the page renders it
    as text, never as HTML, so nothing here is trusted)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise XUnavailable(f"X sent a body that is not JSON (HTTP {response.status_code})") from None
    if not isinstance(body, dict):
        raise XUnavailable("X sent a JSON body that is not an object")
    return body


def _problem(exc: tweepy.HTTPException) -> dict[str, Any]:
    """The problem body X sent with an error answer, read once ({} if it sent none, or no JSON object)."""
    try:
        body = exc.response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _too_many(exc: tweepy.TooManyRequests) -> XError:
    rate = rate_limit(exc.response.headers)
    body = _problem(exc)
    if body.get("type") == USAGE_CAPPED:
        # x-rate-limit-reset is the 15-minute window's, not the cap's: X does not say when the cap lifts, so
        # neither do we; the sync decides when to try again.
        return XUsageCapped(None, _problem_detail(body) or "X's usage cap is reached")
    return XRateLimited(rate.reset_at, "X's rate limit is reached")


def _invalid_parameters(body: Mapping[str, Any]) -> set[str]:
    """The query parameters an X 400 names in errors[].parameters."""
    names: set[str] = set()
    for error in body.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("parameters"), dict):
            names.update(error["parameters"])
    return names


def _rejection(body: Mapping[str, Any]) -> str:
    """What a 400 says: X's `detail` and every `errors[].message`, the part that names the rejected parameter."""
    messages: list[str] = []
    for error in body.get("errors") or []:
        text = str(error.get("message") or error.get("detail") or "") if isinstance(error, dict) else ""
        if text and text not in messages:
            messages.append(text)
    detail = str(body.get("detail") or body.get("title") or "X rejected the request").rstrip(".")
    return f"{detail}: {'; '.join(messages)}" if messages else detail


def _problem_detail(body: Mapping[str, Any]) -> str:
    if body.get("detail"):
        return str(body["detail"])
    for error in body.get("errors") or []:
        if isinstance(error, dict) and (error.get("detail") or error.get("message")):
            return str(error.get("detail") or error.get("message"))
    return str(body.get("title") or "")
