"""A client that gives up before a slow answer: the simulator drops the answer quietly.

Its traceback used to go to stderr from the server's thread, after the test that caused it had ended, and
so into the captured output of whichever test ran next (an operator CLI test that reads stderr failed).
"""

from __future__ import annotations

import time

import pytest
import requests

from local.xsim import XSim

LATENCY = 0.3


def test_an_answer_to_a_client_that_timed_out_leaves_nothing_on_stderr(
    xsim: XSim, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given X answering slowly, and a client that waits less than that
    xsim.faults.set(latency_ms=int(LATENCY * 1000))
    with pytest.raises(requests.Timeout):
        requests.get(xsim.base_url + "/2/users/me", timeout=LATENCY / 6)

    # When the server gets round to answering (not a measurement: time for its thread to write, then end)
    time.sleep(LATENCY * 2)

    # Then it wrote nothing to stderr, and it still answers the next client
    assert capsys.readouterr().err == ""
    assert requests.get(xsim.base_url + "/2/users/me", timeout=5).status_code == 401
