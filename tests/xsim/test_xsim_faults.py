"""Faults on demand, and off again: 5xx bursts and rates, latency, dropped connections, the storm preset."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
import tweepy

from local.xsim import XSim
from shared.errors import XUnavailable
from shared.x_client import XClient, XCredentials


def faults(sim: XSim, method: str = "POST", **settings: object) -> dict[str, object]:
    response = requests.request(method, sim.base_url + "/_sim/faults", json=settings or None, timeout=5)
    assert response.status_code == 200
    return dict(response.json())


def test_a_burst_fails_the_next_n_requests_then_stops(xsim: XSim, tweepy_oauth1: Callable[..., tweepy.Client]) -> None:
    # Given a burst of two 503s switched on over the management API
    faults(xsim, burst=2, burst_status=503)
    client = tweepy_oauth1(xsim, "demo")

    # When three requests are made
    outcomes: list[object] = []
    for _ in range(3):
        try:
            client.get_me(user_auth=True)
            outcomes.append(200)
        except tweepy.TwitterServerError as exc:
            outcomes.append((exc.response.status_code, exc.response.json()["title"]))

    # Then the first two fail, the third works, and the burst is spent
    assert outcomes == [(503, "Service Unavailable"), (503, "Service Unavailable"), 200]
    assert faults(xsim, "GET")["burst"] == 0


def test_an_error_rate_fails_requests_until_faults_are_cleared(xsim: XSim) -> None:
    # Given every request failing
    faults(xsim, error_rate=1.0, error_status=500)
    url = xsim.base_url + "/2/users/me"

    # When a request is made, faults are cleared, and another is made
    during = requests.get(url, timeout=5)
    cleared = faults(xsim, "DELETE")
    after = requests.get(url, timeout=5)

    # Then the first is a 500, and after clearing the request reaches auth again (401: no credentials)
    assert during.status_code == 500
    assert cleared["active"] is False
    assert after.status_code == 401


def test_a_partial_error_rate_fails_some_requests_the_same_way_each_run(xsim_factory: Callable[..., XSim]) -> None:
    # Given two simulators with the same seed failing half their requests
    def run() -> list[int]:
        sim = xsim_factory()
        sim.faults.set(error_rate=0.5)
        return [requests.get(sim.base_url + "/2/users/me", timeout=5).status_code for _ in range(20)]

    # When each gets 20 requests
    first, second = run(), run()

    # Then some fail and some pass, identically in both runs
    assert first == second
    assert 503 in first
    assert 401 in first


def test_latency_delays_every_answer(xsim: XSim) -> None:
    # Given 150 ms of latency
    xsim.faults.set(latency_ms=150)

    # When a request is timed
    started = time.monotonic()
    requests.get(xsim.base_url + "/2/users/me", timeout=5)
    elapsed = time.monotonic() - started

    # Then it took at least that long; and a client with a shorter timeout gives up
    assert elapsed >= 0.15
    with pytest.raises(requests.Timeout):
        requests.get(xsim.base_url + "/2/users/me", timeout=0.05)


def test_a_dropped_connection_closes_without_an_answer(xsim: XSim) -> None:
    # Given the next connection dropped
    faults(xsim, drop_next=1)

    # When a request is made, then another
    with pytest.raises(requests.ConnectionError):
        requests.get(xsim.base_url + "/2/users/me", timeout=5)
    after = requests.get(xsim.base_url + "/2/users/me", timeout=5)

    # Then the first never got an answer, the second did
    assert after.status_code == 401


def test_the_pipelines_client_sees_a_dropped_connection_as_x_unavailable(xsim: XSim) -> None:
    # Given the pipeline's X client and a dropped connection coming
    client = XClient(XCredentials(**xsim.oauth1_credentials("demo").as_dict()), xsim.base_url)
    xsim.faults.set(drop_next=1)

    # When it asks for a page
    with pytest.raises(XUnavailable):
        client.liked_posts(xsim.user_id("demo"), max_results=5, pagination_token=None)


def test_the_storm_preset_switches_several_faults_on_and_clear_switches_them_off(xsim: XSim) -> None:
    # When the storm preset is set
    storm = faults(xsim, preset="storm")
    # ... and then cleared
    calm = faults(xsim, "DELETE")

    # Then errors, drops and latency were all on, and are all off again
    assert storm["error_rate"] > 0
    assert storm["drop_rate"] > 0
    assert storm["latency_ms"] > 0
    assert storm["active"] is True
    assert calm == {**calm, "error_rate": 0.0, "drop_rate": 0.0, "latency_ms": 0, "active": False}


def test_bad_fault_settings_are_refused(xsim: XSim) -> None:
    # When faults are set to impossible values
    rate = requests.post(xsim.base_url + "/_sim/faults", json={"error_rate": 2}, timeout=5)
    unknown = requests.post(xsim.base_url + "/_sim/faults", json={"gremlins": 1}, timeout=5)

    # Then 400 with the error shape, and nothing changed
    assert rate.status_code == unknown.status_code == 400
    assert rate.json()["error"]["code"] == "invalid_request"
    assert xsim.faults.settings.active is False


def test_faults_leave_the_management_api_alone(xsim: XSim) -> None:
    # Given every API request failing
    xsim.faults.set(error_rate=1.0)

    # When the management API is used
    state = requests.get(xsim.base_url + "/_sim/state", timeout=5)

    # Then it still answers, so a test can switch faults off
    assert state.status_code == 200
