"""Who the simulator lets in, as X would: OAuth 1.0a signatures for the URL received, OAuth 2.0 with PKCE and
single-use refresh tokens, the app-only bearer token, and only one's own likes."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import tweepy
from oauthlib.oauth1 import Client as OAuth1Signer
from requests_oauthlib import OAuth1
from tweepy_to_xsim import TWEEPY_HOST, ToSimulator

from local.xsim import XSim

PROBLEMS = "https://api.twitter.com/2/problems/"


def signer(sim: XSim, username: str = "demo", **overrides: str) -> OAuth1:
    creds = {**sim.oauth1_credentials(username).as_dict(), **overrides}
    return OAuth1(creds["consumer_key"], creds["consumer_secret"], creds["access_token"], creds["access_token_secret"])


def consent(
    sim: XSim, *, verifier: str, username: str = "demo", scope: str = "tweet.read users.read like.read offline.access"
) -> str:
    """Approve on the consent page; returns the authorization code."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = requests.post(
        sim.base_url + "/i/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": sim.oauth2_client.client_id,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "scope": scope,
            "state": "s-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "username": username,
            "decision": "approve",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def token_call(sim: XSim, path: str, **form: str) -> requests.Response:
    client = sim.oauth2_client
    return requests.post(sim.base_url + path, data=form, auth=(client.client_id, client.client_secret), timeout=5)


VERIFIER = "v" * 43 + "-._~0123456789"


def exchange(sim: XSim, code: str, verifier: str = VERIFIER) -> requests.Response:
    return token_call(
        sim,
        "/2/oauth2/token",
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:9/cb",
        code_verifier=verifier,
    )


def me(sim: XSim, **kwargs: Any) -> requests.Response:
    return requests.get(sim.base_url + "/2/users/me", timeout=5, **kwargs)


# --- OAuth 1.0a ---------------------------------------------------------------------------------------


def test_a_signature_made_with_the_wrong_secret_gets_401(xsim: XSim) -> None:
    # Given demo's keys with a wrong consumer secret
    wrong = signer(xsim, consumer_secret="xsim-not-the-secret")

    # When it calls users/me
    response = me(xsim, auth=wrong)

    # Then X's 401, and no hint why
    assert response.status_code == 401
    assert response.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
    assert me(xsim, auth=signer(xsim)).status_code == 200


def test_a_request_signed_for_another_host_gets_401(xsim: XSim) -> None:
    # Given a request signed for api.x.com (what tweepy does before our adapter re-signs it) ...
    creds = xsim.oauth1_credentials("demo")
    oauth = OAuth1Signer(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    _, headers, _ = oauth.sign("https://api.x.com/2/users/me")

    # When it is sent to the simulator unchanged
    response = me(xsim, headers=headers)

    # Then the signature does not match the URL the server received
    assert response.status_code == 401


def test_a_stale_timestamp_and_a_replayed_nonce_get_401(xsim: XSim) -> None:
    # Given demo's keys
    creds = xsim.oauth1_credentials("demo")
    url = xsim.base_url + "/2/users/me"

    def signed(timestamp: str, nonce: str) -> dict[str, str]:
        oauth = OAuth1Signer(
            creds.consumer_key,
            creds.consumer_secret,
            creds.access_token,
            creds.access_token_secret,
            timestamp=timestamp,
            nonce=nonce,
        )
        return oauth.sign(url)[1]

    # When a request is stamped an hour ago
    stale = me(xsim, headers=signed(str(int(time.time()) - 3600), "nonce-stale"))
    # ... and a fresh one is sent twice
    fresh = signed(str(int(time.time())), "nonce-once")
    first, replay = me(xsim, headers=fresh), me(xsim, headers=fresh)

    # Then only the first fresh one is accepted
    assert stale.status_code == 401
    assert first.status_code == 200
    assert replay.status_code == 401


def test_signed_query_parameters_are_part_of_the_signature(xsim: XSim) -> None:
    # Given demo signing a request with query parameters, then the query being changed in transit
    creds = xsim.oauth1_credentials("demo")
    oauth = OAuth1Signer(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    url = f"{xsim.base_url}/2/users/by/username/demo?user.fields=created_at,description"
    _, headers, _ = oauth.sign(url)

    # When the signed request and a tampered one are sent
    honest = requests.get(url, headers=headers, timeout=5)
    tampered = requests.get(url.replace("description", "location"), headers=headers, timeout=5)

    # Then only the one whose query was signed passes
    assert honest.status_code == 200
    assert tampered.status_code == 401


# --- own likes only, app-only ----------------------------------------------------------------------------


def test_another_users_likes_are_refused_with_not_authorized_for_resource(
    xsim: XSim, tweepy_oauth1: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy as demo
    client = tweepy_oauth1(xsim, "demo")
    bigfan = xsim.user_id("bigfan")

    # When it asks for bigfan's likes
    with pytest.raises(tweepy.Forbidden) as raised:
        client.get_liked_tweets(bigfan, user_auth=True)

    # Then X's 403 names the problem and the user, and still counts against the window
    response = raised.value.response
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == PROBLEMS + "not-authorized-for-resource"
    assert (body["resource_type"], body["resource_id"], body["parameter"]) == ("user", bigfan, "id")
    assert response.headers["x-rate-limit-remaining"] == "74"


def test_the_app_only_bearer_token_may_look_users_up_but_not_read_likes(
    xsim: XSim, tweepy_bearer: Callable[..., tweepy.Client]
) -> None:
    # Given tweepy with the app's bearer token (no user)
    client = tweepy_bearer(xsim, xsim.app_bearer_token)

    # When it looks demo up, then asks for demo's likes
    user = client.get_user(username="demo").data
    with pytest.raises(tweepy.Forbidden) as raised:
        client.get_liked_tweets(user.id)

    # Then the lookup works, the likes are refused as X refuses app-only auth there
    assert str(user.id) == xsim.user_id("demo")
    assert raised.value.response.json()["type"] == PROBLEMS + "unsupported-authentication"


def test_no_credentials_or_unknown_bearer_get_401(xsim: XSim) -> None:
    # When users/me is called without credentials, and with a made-up bearer token
    nobody = me(xsim)
    made_up = me(xsim, headers={"authorization": "Bearer xsim-access-made-up"})

    # Then both are 401 problems, with no rate-limit headers (no window to charge)
    assert (nobody.status_code, made_up.status_code) == (401, 401)
    assert nobody.headers["content-type"] == "application/problem+json"
    assert "x-rate-limit-remaining" not in nobody.headers


# --- OAuth 2.0 -----------------------------------------------------------------------------------------


def test_the_code_exchange_checks_the_pkce_verifier_and_works_once(xsim: XSim) -> None:
    # Given two approved consents
    code_a = consent(xsim, verifier=VERIFIER)
    code_b = consent(xsim, verifier=VERIFIER)

    # When one code is exchanged with the wrong verifier, the other with the right one, twice
    wrong = exchange(xsim, code_a, verifier="w" * 43)
    right = exchange(xsim, code_b)
    again = exchange(xsim, code_b)

    # Then only the right verifier gets tokens, and only the first time
    assert wrong.status_code == 400
    assert right.status_code == 200
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"
    body = right.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert set(body["scope"].split()) == {"tweet.read", "users.read", "like.read", "offline.access"}


def test_a_refresh_token_works_once_and_the_new_one_takes_its_place(xsim: XSim) -> None:
    # Given tokens from a code exchange
    first = exchange(xsim, consent(xsim, verifier=VERIFIER)).json()

    # When the refresh token is used, then used again, then its successor is used
    rotated = token_call(xsim, "/2/oauth2/token", grant_type="refresh_token", refresh_token=first["refresh_token"])
    reused = token_call(xsim, "/2/oauth2/token", grant_type="refresh_token", refresh_token=first["refresh_token"])
    successor = token_call(
        xsim, "/2/oauth2/token", grant_type="refresh_token", refresh_token=rotated.json()["refresh_token"]
    )

    # Then the first use rotates it, reuse fails as X fails it, and the successor works
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert rotated.json()["access_token"] != first["access_token"]
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
    assert successor.status_code == 200
    assert me(xsim, headers={"authorization": "Bearer " + successor.json()["access_token"]}).status_code == 200


def test_refresh_with_requests_oauthlib_as_the_pipeline_would(xsim: XSim) -> None:
    # Given tokens from tweepy's PKCE handler's kind of session (requests-oauthlib)
    tokens = xsim.oauth2_login("demo")
    handler = tweepy.OAuth2UserHandler(
        client_id=xsim.oauth2_client.client_id,
        client_secret=xsim.oauth2_client.client_secret,
        redirect_uri="https://127.0.0.1/cb",
        scope=["tweet.read", "users.read", "like.read", "offline.access"],
    )

    handler.mount(TWEEPY_HOST, ToSimulator(xsim.base_url))

    # When requests-oauthlib refreshes at X's token URL (which the adapter sends to the simulator)
    refreshed = handler.refresh_token(
        TWEEPY_HOST + "/2/oauth2/token",
        refresh_token=tokens.refresh_token,
        auth=handler.auth,
    )

    # Then a new pair comes back and the old refresh token is spent
    assert refreshed["refresh_token"] != tokens.refresh_token
    spent = token_call(xsim, "/2/oauth2/token", grant_type="refresh_token", refresh_token=tokens.refresh_token or "")
    assert spent.status_code == 400


def test_an_access_token_expires_after_two_hours_of_simulated_time(xsim: XSim) -> None:
    # Given an access token issued now
    access = xsim.oauth2_login("demo").access_token
    bearer = {"authorization": f"Bearer {access}"}

    # When the clock moves to just before, then to two hours after issue
    xsim.clock.advance(7199)
    before = me(xsim, headers=bearer)
    xsim.clock.advance(1)
    after = me(xsim, headers=bearer)

    # Then it works until then, and is 401 from then on
    assert before.status_code == 200
    assert after.status_code == 401


def test_a_revoked_access_token_stops_working(xsim: XSim) -> None:
    # Given a working access token
    access = xsim.oauth2_login("demo").access_token
    bearer = {"authorization": f"Bearer {access}"}
    assert me(xsim, headers=bearer).status_code == 200

    # When the app revokes it
    revoked = token_call(xsim, "/2/oauth2/revoke", token=access)

    # Then X's answer, and 401 from then on
    assert revoked.json() == {"revoked": True}
    assert me(xsim, headers=bearer).status_code == 401


def test_the_token_endpoint_wants_the_client_secret(xsim: XSim) -> None:
    # Given an approved consent
    code = consent(xsim, verifier=VERIFIER)

    # When the code is exchanged with a wrong client secret
    response = requests.post(
        xsim.base_url + "/2/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/cb"},
        auth=(xsim.oauth2_client.client_id, "xsim-wrong"),
        timeout=5,
    )

    # Then 401 unauthorized_client
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"


def test_a_token_without_like_read_may_not_read_likes(xsim: XSim) -> None:
    # Given a user token granted tweet.read and users.read only
    code = consent(xsim, verifier=VERIFIER, scope="tweet.read users.read")
    tokens = exchange(xsim, code).json()
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}

    # When it reads users/me and demo's likes
    profile = me(xsim, headers=bearer)
    likes = requests.get(f"{xsim.base_url}/2/users/{xsim.user_id('demo')}/liked_tweets", headers=bearer, timeout=5)

    # Then the profile is fine, the likes are 403, and there is no refresh token without offline.access
    assert profile.status_code == 200
    assert likes.status_code == 403
    assert "like.read" in likes.json()["detail"]
    assert "refresh_token" not in tokens


def test_the_consent_page_escapes_hostile_names_and_deny_redirects_with_access_denied(xsim: XSim) -> None:
    # Given a consent request
    params = {
        "response_type": "code",
        "client_id": xsim.oauth2_client.client_id,
        "redirect_uri": "http://localhost:8000/cb",
        "scope": "tweet.read users.read",
        "state": '"><script>alert(1)</script>',
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
    }

    # When the page is shown, and the person cancels
    page = requests.get(xsim.base_url + "/i/oauth2/authorize", params=params, timeout=5)
    denied = requests.post(
        xsim.base_url + "/i/oauth2/authorize", data={**params, "decision": "deny"}, allow_redirects=False, timeout=5
    )

    # Then the page lists the accounts with every hostile string escaped, and cancel returns access_denied
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(&quot;name&quot;)&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "<script>alert(1)" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": [params["state"]]}


def test_the_consent_page_refuses_an_unregistered_redirect(xsim: XSim) -> None:
    # When an app asks to send the code to a non-loopback host
    page = requests.get(
        xsim.base_url + "/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": xsim.oauth2_client.client_id,
            "redirect_uri": "https://attacker.example/cb",
            "scope": "tweet.read",
            "state": "s",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        },
        timeout=5,
    )

    # Then there is no consent to give
    assert page.status_code == 400
    assert "redirect_uri" in page.text


@pytest.mark.parametrize("kind", ["bearer", "oauth1 signature", "garbage", "basic", "empty"])
def test_malformed_or_non_ascii_credentials_get_401_never_a_500(xsim: XSim, kind: str) -> None:
    # Given an Authorization header that is malformed, or right in every part but a non-ASCII signature
    creds = xsim.oauth1_credentials("demo")
    oauth = OAuth1Signer(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    signed = oauth.sign(xsim.base_url + "/2/users/me")[1]["Authorization"]
    header = {
        "bearer": "Bearer ünïcode",
        "oauth1 signature": re.sub(r'oauth_signature="[^"]*"', 'oauth_signature="s%C3%BC"', signed),
        "garbage": "OAuth garbage",
        "basic": "Basic %%%",
        "empty": "",
    }[kind]

    # When it is sent
    response = me(xsim, headers={"authorization": header.encode("utf-8")})

    # Then it is refused like any bad credential
    assert response.status_code == 401


def test_a_non_ascii_client_secret_at_the_token_endpoint_gets_401(xsim: XSim) -> None:
    # When the token endpoint gets a UTF-8 client secret that is not the app's
    response = requests.post(
        xsim.base_url + "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(xsim.oauth2_client.client_id.encode(), "sécret".encode()),
        timeout=5,
    )

    # Then the client is unauthorized (not a server error)
    assert response.status_code == 401
