"""What the local SQS event source mapping deletes after an invocation: exactly Lambda's rules for
ReportBatchItemFailures (an invalid answer, an error or a timeout fails the whole batch)."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack.functions import Invocation
from local.stack.poller import settle

IDS = ("m1", "m2", "m3")


def ok(result: Any) -> Invocation:
    return Invocation("req", True, result)


def deleted(invocation: Invocation, *, report: bool = True) -> tuple[str, ...]:
    return settle(IDS, invocation, report_batch_item_failures=report).delete


@pytest.mark.parametrize("result", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_or_null_answer_is_complete_success(result: Any) -> None:
    assert deleted(ok(result)) == IDS


def test_reported_failures_stay_and_the_rest_are_deleted() -> None:
    assert deleted(ok({"batchItemFailures": [{"itemIdentifier": "m2"}]})) == ("m1", "m3")
    assert deleted(ok({"batchItemFailures": [{"itemIdentifier": i} for i in IDS]})) == ()


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": "not-in-this-batch"}],
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemidentifier": "m1"}],  # a bad key name
        [{"itemIdentifier": "m1"}, {"itemIdentifier": "m9"}],  # one bad id spoils the valid one too
        ["m1"],
        "m1",
    ],
)
def test_an_invalid_item_identifier_fails_the_whole_batch(failures: Any) -> None:
    assert deleted(ok({"batchItemFailures": failures})) == ()


def test_an_answer_that_is_not_an_object_fails_the_whole_batch() -> None:
    assert deleted(ok(["m1"])) == ()


def test_a_function_error_or_timeout_fails_the_whole_batch() -> None:
    error = Invocation("req", False, error={"errorType": "ValueError", "errorMessage": "boom"})
    assert deleted(error) == ()
    assert deleted(Invocation("req", False, timed_out=True)) == ()
    assert "timed out" in settle(IDS, Invocation("req", False, timed_out=True), report_batch_item_failures=True).outcome


def test_without_report_batch_item_failures_any_success_deletes_everything() -> None:
    assert deleted(ok({"batchItemFailures": [{"itemIdentifier": "m1"}]}), report=False) == IDS
    assert deleted(Invocation("req", False, error={"errorType": "E", "errorMessage": ""}), report=False) == ()
