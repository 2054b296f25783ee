"""How the X client tells X's failures apart, over real HTTP: passing ones (worth asking again within the
invocation), lasting ones (SQS retries the message) and 400s (the request is wrong: no retry helps)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.xsim import XSim
from shared.errors import XInvalidCursor, XRejected, XTransient, XUnavailable
from shared.x_client import XClient, XCredentials

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
USER_ID = "288061445489330665"  # demo's id in the recorded fixtures


def client_for(base_url: str, sim: XSim) -> XClient:
    return XClient(XCredentials(**sim.oauth1_credentials("demo").as_dict()), base_url)


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server answering every request with one recorded X response (tests/fixtures/x/<param>.json)."""
    recorded: dict[str, Any] = json.loads((FIXTURES / f"{request.param}.json").read_text(encoding="utf-8"))
    response = recorded["response"]

    class Recorded(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(response["body"]).encode()
            self.send_response(response["status"])
            for name, value in response["headers"].items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_transient(xsim: XSim, status: int) -> None:
    xsim.faults.set(burst=1, burst_status=status)
    with pytest.raises(XTransient, match=str(status)) as caught:
        client_for(xsim.base_url, xsim).user_by_username("demo")
    assert caught.value.retry_after is None  # the simulator sent no Retry-After


def test_a_500_is_a_failure_but_not_one_to_ask_again_at_once(xsim: XSim) -> None:
    xsim.faults.set(burst=1, burst_status=500)
    with pytest.raises(XUnavailable, match="500") as caught:
        client_for(xsim.base_url, xsim).user_by_username("demo")
    assert not isinstance(caught.value, XTransient)


@pytest.mark.parametrize(("fault", "timeout"), [({"drop_next": 1}, 10.0), ({"latency_ms": 1500}, 0.3)])
def test_no_answer_at_all_is_transient(xsim: XSim, fault: dict[str, int], timeout: float) -> None:
    # A connection closed without an answer, or an answer slower than the client waits for
    xsim.faults.set(**fault)
    client = XClient(XCredentials(**xsim.oauth1_credentials("demo").as_dict()), xsim.base_url, timeout=timeout)
    with pytest.raises(XTransient) as caught:
        client.user_by_username("demo")
    assert str(caught.value) in ("X did not answer: ConnectionError", "X did not answer: ReadTimeout")


@pytest.mark.parametrize("replay", ["liked_tweets_max_results_400"], indirect=True)
def test_a_400_is_rejected_with_xs_detail_and_the_message_naming_the_parameter(replay: str, xsim: XSim) -> None:
    # Given X answering 400 invalid-request (recorded: max_results out of range)
    with pytest.raises(XRejected) as caught:
        client_for(replay, xsim).liked_posts(USER_ID, max_results=5, pagination_token=None)

    # Then the error keeps X's generic detail and, above all, the part that names the parameter
    assert str(caught.value) == (
        "X answered 400: One or more parameters to your request was invalid: "
        "The `max_results` query parameter value [1] is not between 5 and 100"
    )


@pytest.mark.parametrize("replay", ["liked_tweets_bad_token_400"], indirect=True)
def test_a_400_on_the_pagination_token_stays_a_refused_cursor(replay: str, xsim: XSim) -> None:
    # The walk restarts from the top on it (tests/integration/test_sync.py): it is not a rejection
    with pytest.raises(XInvalidCursor) as caught:
        client_for(replay, xsim).liked_posts(USER_ID, max_results=5, pagination_token="not-a-real-token")
    assert str(caught.value) == "One or more parameters to your request was invalid."


@pytest.mark.parametrize("replay", ["liked_tweets_bad_token_400"], indirect=True)
def test_a_400_on_the_pagination_token_of_a_walk_from_the_top_is_a_rejection(replay: str, xsim: XSim) -> None:
    # No token was sent, so restarting from the top cannot help: X objects to something else
    with pytest.raises(XRejected) as caught:
        client_for(replay, xsim).liked_posts(USER_ID, max_results=5, pagination_token=None)
    assert "The `pagination_token` query parameter value [not-a-real-token] is not valid" in str(caught.value)


@pytest.mark.parametrize("replay", ["users_me_public_metrics"], indirect=True)
def test_the_recorded_like_count_probe_is_read_as_xs_like_count(replay: str, xsim: XSim) -> None:
    # Given X answering users/me with the recorded public_metrics (validated against X's spec)
    recorded = json.loads((FIXTURES / "users_me_public_metrics.json").read_text(encoding="utf-8"))

    # When the client asks for its like_count, Then it is the recorded one
    expected = recorded["response"]["body"]["data"]["public_metrics"]["like_count"]
    assert client_for(replay, xsim).own_like_count() == expected


@pytest.mark.parametrize("replay", ["users_me"], indirect=True)
def test_a_users_me_without_a_like_count_is_no_answer(replay: str, xsim: XSim) -> None:
    # Given X answering users/me without public_metrics (the spec does not require like_count)
    # When the client asks for its like_count, Then it says X could not tell (the sync then reads likes)
    with pytest.raises(XUnavailable) as unanswered:
        client_for(replay, xsim).own_like_count()
    assert "without a like_count" in str(unanswered.value)
    assert not isinstance(unanswered.value, XTransient)  # asking again would get the same answer
