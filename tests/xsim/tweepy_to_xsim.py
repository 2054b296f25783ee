"""Unmodified tweepy pointed at the simulator, through a small transport adapter of the tests' own (not the
pipeline's), so these tests show the simulator works for any tweepy user, not just for our X client."""

from __future__ import annotations

from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from local.xsim import XSim

TWEEPY_HOST = "https://api.twitter.com"
# What the pipeline asks for (shared.x_client): every field the page renders.
LIKE_PARAMS: dict[str, Any] = {
    "tweet_fields": ["created_at", "author_id", "lang", "entities", "attachments", "note_tweet"],
    "expansions": ["author_id", "attachments.media_keys"],
    "user_fields": ["name", "username", "profile_image_url", "verified"],
    "media_fields": ["type", "url", "preview_image_url", "alt_text", "width", "height"],
}


class ToSimulator(HTTPAdapter):
    """Sends tweepy's api.twitter.com requests to `base_url`; re-signs OAuth 1.0a for the URL actually used."""

    def __init__(self, base_url: str, oauth1: OAuth1 | None = None) -> None:
        super().__init__(max_retries=0)
        self._base_url = base_url
        self._oauth1 = oauth1

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url
        request.url = self._base_url + request.url.removeprefix(TWEEPY_HOST)
        if self._oauth1 is not None:
            request = self._oauth1(request)
        kwargs["timeout"] = kwargs.get("timeout") or 5
        return super().send(request, **kwargs)


def oauth1_client(sim: XSim, username: str = "demo", **client_args: Any) -> tweepy.Client:
    creds = sim.oauth1_credentials(username)
    client = tweepy.Client(**creds.as_dict(), **client_args)
    signer = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    client.session.mount(TWEEPY_HOST, ToSimulator(sim.base_url, signer))
    return client


def bearer_client(sim: XSim, token: str, **client_args: Any) -> tweepy.Client:
    client = tweepy.Client(bearer_token=token, **client_args)
    client.session.mount(TWEEPY_HOST, ToSimulator(sim.base_url))
    return client
