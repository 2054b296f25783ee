"""The spec checker, loaded once: parsing X's spec subset takes a moment and it never changes in a run."""

from __future__ import annotations

import pytest
from x_spec_check import XSpec


@pytest.fixture(scope="session")
def x_spec() -> XSpec:
    return XSpec()
