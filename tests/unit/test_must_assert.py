"""The suite's own rule, shown to fail: a test that passes without running an assert is a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.must_assert import MESSAGE

ROOT = Path(__file__).resolve().parents[2]

SAMPLES = """
import pytest


@pytest.fixture
def checked():
    assert 1 + 1 == 2  # an assert in a fixture checks the fixture, not the test
    return 2


def test_that_checks_nothing():
    pass


def test_that_only_expects_an_exception():
    with pytest.raises(ZeroDivisionError):
        1 / 0


def test_whose_only_assert_is_in_its_fixture(checked):
    print(checked)


def test_that_asserts():
    with pytest.raises(ZeroDivisionError) as caught:
        1 / 0
    assert "division" in str(caught.value)


def test_that_asserts_in_a_helper():
    from helper import check
    check(3)


def test_that_is_skipped():
    pytest.skip("not here")


def test_that_fails():
    assert 1 == 2
"""


def test_a_passing_test_that_ran_no_assert_fails_with_the_rule_named(pytester: pytest.Pytester) -> None:
    # Given the plugin, the ini option it needs, a registered helper module, and tests of every kind
    pytester.makeini(f"[pytest]\nenable_assertion_pass_hook = true\npythonpath = {ROOT} .\n")
    pytester.makeconftest(
        'import pytest\npytest.register_assert_rewrite("helper")\npytest_plugins = ["tests.support.must_assert"]\n'
    )
    pytester.makepyfile(helper="def check(n):\n    assert n == 3\n", test_samples=SAMPLES)

    # When pytest runs them
    result = pytester.runpytest_subprocess("-rA")

    # Then the three that checked nothing fail with the rule, and the others keep their own outcome
    result.assert_outcomes(passed=2, failed=4, skipped=1)
    failed = {line.split("::")[1].split(" ")[0] for line in result.outlines if line.startswith("FAILED")}
    assert failed == {
        "test_that_checks_nothing",
        "test_that_only_expects_an_exception",
        "test_whose_only_assert_is_in_its_fixture",
        "test_that_fails",
    }
    assert sum(MESSAGE in line for line in result.outlines) >= 3
    assert "assert 1 == 2" in result.stdout.str()


def test_without_the_ini_option_the_plugin_refuses_to_run(pytester: pytest.Pytester) -> None:
    # Given the plugin, but assertion-pass reporting left off (so it could count nothing)
    pytester.makeini(f"[pytest]\npythonpath = {ROOT}\n")
    pytester.makeconftest('pytest_plugins = ["tests.support.must_assert"]\n')
    pytester.makepyfile(test_sample="def test_it():\n    assert True\n")

    # When pytest starts
    result = pytester.runpytest_subprocess()

    # Then it stops with a usage error that says what is missing
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "enable_assertion_pass_hook = true" in result.stderr.str()
