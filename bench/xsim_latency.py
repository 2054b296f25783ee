"""The simulator's latency fault, measured: what `latency_ms` adds to a request, end to end over loopback.

The test of the fault (tests/xsim/test_xsim_faults.py) checks that the server is asked to wait
`latency_ms` before every answer, and not once faults are cleared. This measures what a client sees:
requests to `/2/users/me` (a 401, the cheapest answer), alternating between no latency and each setting.
"""

from __future__ import annotations

import statistics
import time

import requests

from bench.report import write_section
from local.xsim import ManualClock, XSim, XSimConfig

SETTINGS_MS = (0, 50, 150, 300)
REQUESTS = 20


def main() -> None:
    timings: dict[int, list[float]] = {ms: [] for ms in SETTINGS_MS}
    with XSim(XSimConfig(), clock=ManualClock()) as sim, requests.Session() as session:
        url = sim.base_url + "/2/users/me"
        session.get(url, timeout=5)  # the connection, opened once
        for _ in range(REQUESTS):
            for ms in SETTINGS_MS:
                sim.faults.set(latency_ms=ms)
                started = time.perf_counter()
                session.get(url, timeout=5)
                timings[ms].append((time.perf_counter() - started) * 1000)
    base = statistics.median(timings[0])
    beyond = max(statistics.median(t) - base - ms for ms, t in timings.items())
    rows = "".join(
        f"| {ms} | {statistics.median(t):.1f} | {max(t):.1f} | {statistics.median(t) - base:.1f} |\n"
        for ms, t in timings.items()
    )
    body = f"""
`python -m bench xsim_latency`. {REQUESTS} requests per setting over one kept-alive connection, settings
interleaved; a simulator in this process with a manual clock.

| latency_ms | median ms | max ms | added (median - median at 0) |
|---|---|---|---|
{rows}
The added time is the setting plus at most {beyond:.1f} ms (medians): the fault waits before the answer is
written, nothing else. (Asserted in tests/xsim/test_xsim_faults.py as the wait the server is asked for, not timed.)
"""
    write_section("xsim_latency", "The simulator's latency fault (issue 9)", body)


if __name__ == "__main__":
    main()
