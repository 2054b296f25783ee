"""A fault every Nth request, Retry-After on injected 5xx, and the nonce of a faulted request: spent.

X may fail a request after its front door has seen it, so a client cannot know whether the nonce of a failed
OAuth 1.0a request was used. The simulator assumes it was: a transport-level replay of the same signed request
is refused, and only a retry that signs the request afresh (what the pipeline's client does) goes through.
"""

from __future__ import annotations

import pytest
import requests
from requests_oauthlib import OAuth1

from local.xsim import XSim
from shared.errors import XTransient
from shared.x_client import XClient, XCredentials
from shared.x_retry import RetryingX, RetryPolicy


def signed_get(sim: XSim, path: str = "/2/users/me") -> requests.PreparedRequest:
    """One GET as demo, signed once: its nonce and signature are fixed from here on."""
    creds = sim.oauth1_credentials("demo")
    signer = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret)
    return requests.Request("GET", sim.base_url + path, auth=signer).prepare()


def send(prepared: requests.PreparedRequest) -> int:
    """The status X answers, or 0 when the connection closed without one."""
    with requests.Session() as session:
        try:
            return session.send(prepared, timeout=5).status_code
        except requests.ConnectionError:
            return 0


def test_error_every_fails_exactly_every_nth_request_from_when_it_is_set(xsim: XSim) -> None:
    # Given two requests before the fault is set, then every third request failing
    before = [requests.get(xsim.base_url + "/2/users/me", timeout=5).status_code for _ in range(2)]
    xsim.faults.set(error_every=3)

    # When nine more requests are made
    after = [requests.get(xsim.base_url + "/2/users/me", timeout=5).status_code for _ in range(9)]

    # Then the count starts at the setting: the 3rd, 6th and 9th fail, the rest reach auth (401: unsigned)
    assert before == [401, 401]
    assert after == [401, 401, 503] * 3
    assert xsim.faults.injected == 3


def test_injected_5xx_carry_retry_after_when_asked_to(xsim: XSim) -> None:
    xsim.faults.set(burst=1, burst_status=503, retry_after=7)

    response = requests.get(xsim.base_url + "/2/users/me", timeout=5)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


@pytest.mark.parametrize("fault", [{"burst": 1, "burst_status": 503}, {"drop_next": 1}], ids=["503", "drop"])
def test_a_replay_of_a_request_that_met_a_fault_is_refused_for_its_spent_nonce(
    xsim: XSim, fault: dict[str, int]
) -> None:
    # Given a signed request that met a fault (a 503, or a connection closed without an answer)
    xsim.faults.set(**fault)
    prepared = signed_get(xsim)
    assert send(prepared) in (503, 0)

    # When the very same signed request is sent again, as a transport-level retry would
    replay = send(prepared)

    # Then X refuses it (the nonce was seen); the same request signed afresh is answered
    assert replay == 401
    assert send(signed_get(xsim)) == 200


@pytest.mark.parametrize("fault", [{"burst": 1, "burst_status": 503}, {"drop_next": 1}], ids=["503", "drop"])
def test_the_pipelines_retry_signs_each_attempt_afresh_and_gets_through(xsim: XSim, fault: dict[str, int]) -> None:
    # Given the pipeline's X client behind its retry, and a fault coming
    waits: list[float] = []
    client = XClient(XCredentials(**xsim.oauth1_credentials("demo").as_dict()), xsim.base_url)
    x = RetryingX(client, RetryPolicy(), seconds_left=lambda: 100.0, sleep=waits.append, jitter=lambda: 0.0)
    xsim.faults.set(**fault)

    # When it asks for demo's likes
    page = x.liked_posts(xsim.user_id("demo"), max_results=5, pagination_token=None)

    # Then the fault was met, waited out once, and the retry answered
    assert xsim.faults.injected == 1
    assert len(waits) == 1
    newest = [i for i in xsim.like_ids("demo")[:5] if not xsim.app.world.posts[i].deleted]
    assert [post.id for post in page.posts] == newest


def test_the_client_reads_retry_after_from_a_503(xsim: XSim) -> None:
    client = XClient(XCredentials(**xsim.oauth1_credentials("demo").as_dict()), xsim.base_url)
    xsim.faults.set(burst=1, burst_status=503, retry_after=4)

    with pytest.raises(XTransient) as caught:
        client.user_by_username("demo")

    assert caught.value.retry_after == 4.0
