"""Fixtures every test folder may use, one section per collaborator. Keep each section small and say why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.xsim import ManualClock, XSim, XSimConfig

# Helpers that assert on a test's behalf: rewritten like test modules, so their asserts explain themselves
# and count for tests/support/must_assert.py. (This conftest is imported before any of them.)
pytest.register_assert_rewrite(
    "tests.support", "tests.e2e.browser.stack", "tests.ops.lambda_poller", "x_spec_check", "tweepy_to_xsim"
)

# A test that passes without running an assert fails (tests/support/must_assert.py); pytester runs pytest on
# small test files, to show that the suite's own checks can fail.
pytest_plugins = ["tests.support.must_assert", "pytester"]

# --- the simulated X API ------------------------------------------------------------------------------
# A fresh simulator per test (a millisecond: the demo world is generated once per seed and copied),
# on 127.0.0.1 with an OS-chosen port and a manual clock, so nothing waits for a rate-limit window.


@pytest.fixture
def xsim() -> Iterator[XSim]:
    """A started simulator with the default config (seed 42) and a manual clock at 2026-01-15T12:00Z."""
    sim = XSim(XSimConfig(), clock=ManualClock()).start()
    yield sim
    sim.stop()


@pytest.fixture
def xsim_factory() -> Iterator[Callable[..., XSim]]:
    """Start simulators with other settings: `xsim_factory(usage_cap=10, depth_cap=50)` (XSimConfig fields)."""
    started: list[XSim] = []

    def start(**config: Any) -> XSim:
        sim = XSim(XSimConfig(**config), clock=ManualClock()).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
