"""Faults on demand, and off again: 5xx bursts and rates, latency, dropped connections, the storm preset."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
import requests
import tweepy

from local.xsim import ManualClock, XSim, XSimConfig
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


def simulator(sleep: Callable[[float], object]) -> XSim:
    """A simulator whose server waits out latency with `sleep`, so a test sees each wait instead of timing it."""
    return XSim(XSimConfig(), clock=ManualClock(), sleep=sleep)


def test_latency_makes_the_server_wait_before_every_answer_until_cleared() -> None:
    # Given 150 ms of latency, and a server whose waits are recorded (and not slept)
    waits: list[float] = []
    with simulator(waits.append) as sim:
        sim.faults.set(latency_ms=150)
        url = sim.base_url + "/2/users/me"

        # When two requests are made, faults are cleared, and one more is made
        during = [requests.get(url, timeout=5).status_code for _ in range(2)]
        waited_during = list(waits)
        sim.faults.clear()
        after = requests.get(url, timeout=5).status_code

    # Then the server waited 150 ms before each answer while latency was on, and not after; the answers
    # themselves are unchanged (401: no credentials)
    assert waited_during == [0.15, 0.15]
    assert waits == waited_during
    assert during == [401, 401]
    assert after == 401


def test_a_client_gives_up_on_an_answer_held_back_and_gets_the_next_one() -> None:
    # Given latency, and a server that holds every delayed answer until the test lets it go
    released = threading.Event()
    with simulator(lambda _: released.wait(30)) as sim:
        sim.faults.set(latency_ms=150)
        url = sim.base_url + "/2/users/me"

        # When a client with a timeout asks
        with pytest.raises(requests.Timeout) as gave_up:
            requests.get(url, timeout=0.5)
        released.set()
        sim.faults.clear()
        answered = requests.get(url, timeout=5)

    # Then it timed out reading the answer (it had connected), and without latency the answer comes
    assert isinstance(gave_up.value, requests.ReadTimeout)
    assert answered.status_code == 401


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
    with pytest.raises(XUnavailable) as unavailable:
        client.liked_posts(xsim.user_id("demo"), max_results=5, pagination_token=None)

    # Then X "did not answer": transient, as a 5xx is
    assert "did not answer" in str(unavailable.value)


def outcome(url: str) -> int | str:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.ConnectionError:
        return "dropped"


def test_the_storm_preset_fails_drops_and_delays_requests_and_clear_ends_it() -> None:
    # Given a simulator whose waits are recorded, and the storm switched on over the management API
    waits: list[float] = []
    with simulator(waits.append) as sim:
        faults(sim, preset="storm")
        url = sim.base_url + "/2/users/me"

        # When 40 requests are made in the storm, then faults are cleared and 10 more are made
        during = Counter(outcome(url) for _ in range(40))
        waited_during = list(waits)
        faults(sim, "DELETE")
        after = Counter(outcome(url) for _ in range(10))

    # Then the storm answered some with 503, dropped some, let the rest reach auth (401), and delayed every
    # one of them; once cleared, every request reaches auth at once
    storm = XSimConfig()
    assert set(during) == {503, "dropped", 401}
    assert during[503] + during["dropped"] < during[401]  # ~30 % errors and ~10 % drops (seeded: same each run)
    assert waited_during == [storm.storm_latency_ms / 1000] * 40
    assert after == Counter({401: 10})
    assert waits == waited_during


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
