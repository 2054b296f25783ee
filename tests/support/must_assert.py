"""A pytest plugin: a test that passes without running a single `assert` fails.

A test that checks nothing passes whatever the code does. pytest calls `pytest_assertion_pass` for every
assert that passes in a rewritten module (test files, conftest files and the helpers registered in
tests/conftest.py), when `enable_assertion_pass_hook = true` is set in [tool.pytest.ini_options]. This plugin
counts those calls while the test function runs (its call phase: an assert in a fixture checks the fixture,
not the behaviour the test is named for) and fails a test whose count is zero.

The rule is the simplest honest one: at least one plain `assert` must run. `pytest.raises` and Playwright's
`expect(...)` do not count on their own; a test that relies on them also asserts what it caught or saw.
"""

from __future__ import annotations

from collections.abc import Generator
from types import CodeType

import pytest

ASSERTS = pytest.StashKey[int]()
IN_CALL = pytest.StashKey[bool]()
MESSAGE = "passed without running a single assert: a test must check something that fails when the behaviour breaks"


def pytest_configure(config: pytest.Config) -> None:
    if not config.getini("enable_assertion_pass_hook"):
        raise pytest.UsageError(
            "tests/support/must_assert.py needs enable_assertion_pass_hook = true in [tool.pytest.ini_options]"
        )


def pytest_assertion_pass(item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
    if item.stash.get(IN_CALL, False):
        item.stash[ASSERTS] = item.stash.get(ASSERTS, 0) + 1


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    item.stash[ASSERTS] = 0
    item.stash[IN_CALL] = True
    try:
        yield  # an exception (a failure, a skip) goes up as it is: only a pass is checked
    finally:
        item.stash[IN_CALL] = False
    if item.stash[ASSERTS] == 0 and not _expected_to_fail(item):
        pytest.fail(f"{item.nodeid} {MESSAGE}{_stale_hint(item)}", pytrace=False)


def _expected_to_fail(item: pytest.Item) -> bool:
    # An xfail test that passes is reported by pytest itself (XPASS, or a failure with strict=True).
    return item.get_closest_marker("xfail") is not None


def _stale_hint(item: pytest.Item) -> str:
    """Say so when the test's own asserts were rewritten (and cached) before the hook was switched on."""
    code = getattr(getattr(item, "function", None), "__code__", None)
    if isinstance(code, CodeType) and _has_rewritten_assert(code) and not _reports_passes(code):
        return (
            " (its module was rewritten before enable_assertion_pass_hook was on: delete the stale caches,"
            " `find tests -name '*-pytest-*.pyc' -delete`, and run again)"
        )
    return ""


def _has_rewritten_assert(code: CodeType) -> bool:
    return "_format_explanation" in code.co_names


def _reports_passes(code: CodeType) -> bool:
    return "_call_assertion_pass" in code.co_names
