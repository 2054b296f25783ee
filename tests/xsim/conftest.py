"""Fixtures for the simulator's own tests: tweepy clients and plain HTTP, signed as demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import tweepy
from requests_oauthlib import OAuth1
from tweepy_to_xsim import bearer_client, oauth1_client

from local.xsim import XSim


@pytest.fixture
def tweepy_oauth1() -> Callable[..., tweepy.Client]:
    """`tweepy_oauth1(sim, "demo", return_type=requests.Response)`: tweepy with that account's OAuth 1.0a keys."""
    return oauth1_client


@pytest.fixture
def tweepy_bearer() -> Callable[..., tweepy.Client]:
    """`tweepy_bearer(sim, token)`: tweepy with a bearer token (an OAuth 2.0 user token, or the app's)."""
    return bearer_client


@pytest.fixture
def api(xsim: XSim) -> Callable[..., requests.Response]:
    """Plain HTTP to the simulator as `demo` (OAuth 1.0a): `api("GET", "/2/users/me", params=...)`."""
    creds = xsim.oauth1_credentials("demo")
    signer = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", signer)
        return requests.request(method, xsim.base_url + path, timeout=5, **kwargs)

    return call
