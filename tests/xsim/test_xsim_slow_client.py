"""A client that gives up before a slow answer: the simulator drops the answer quietly.

Its traceback used to go to stderr from the server's thread, after the test that caused it had ended, and
so into the captured output of whichever test ran next (an operator CLI test that reads stderr failed).
"""

from __future__ import annotations

import threading

import pytest
import requests

from local.xsim import ManualClock, XSim, XSimConfig
from tests.support.waiting import wait_until


def test_an_answer_to_a_client_that_timed_out_leaves_nothing_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    # Given X answering slowly: its latency is held until the test lets it go
    gave_up = threading.Event()

    def hold(_seconds: float) -> None:
        gave_up.wait(timeout=30)

    with XSim(XSimConfig(), clock=ManualClock(), sleep=hold) as sim:
        sim.faults.set(latency_ms=300)
        # When a client times out before the answer comes, and only then the server writes it
        others = set(_request_threads())  # servers of earlier tests may still hold idle connections
        with pytest.raises(requests.Timeout):
            requests.get(sim.base_url + "/2/users/me", timeout=0.05)
        ours = set(_request_threads()) - others
        assert ours, "the server serves the request on a thread of its own"
        gave_up.set()
        wait_until(lambda: not ours & set(_request_threads()), "the server's thread finished with the late answer")

        # Then it wrote nothing to stderr, and it still answers the next client (the latency, now let go)
        assert capsys.readouterr().err == ""
        assert requests.get(sim.base_url + "/2/users/me", timeout=5).status_code == 401


def _request_threads() -> list[threading.Thread]:
    # socketserver's ThreadingMixIn serves each connection on a thread running process_request_thread.
    return [t for t in threading.enumerate() if "process_request_thread" in t.name and t.is_alive()]
