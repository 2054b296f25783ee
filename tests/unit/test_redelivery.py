"""How long a failed fetch-queue message waits before SQS delivers it again: doubling, capped."""

from __future__ import annotations

from local.stack.accelerate import Acceleration
from shared.settings import Settings
from shared.sync_queue import MAX_REDELIVERY, redelivery_delay


def test_the_delay_doubles_with_each_receive_from_thirty_seconds() -> None:
    # ApproximateReceiveCount 1..5: the five deliveries before the DLQ takes the message (maxReceiveCount 5)
    assert [redelivery_delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_the_delay_is_capped_and_a_missing_count_counts_as_the_first() -> None:
    assert redelivery_delay(6) == redelivery_delay(60) == MAX_REDELIVERY == 900
    assert redelivery_delay(0) == 30


def test_the_offline_stack_shortens_the_delays_as_it_shortens_the_queues_timeout() -> None:
    # Given make dev --accelerate 300 (the fetch queue's 720 s become 3 s)
    env, notes = Acceleration(300).function_environment()
    settings = Settings.from_env({"TABLE_NAME": "t", **env})

    # Then the worker's delays are shortened alike: 30 s -> 1 s, the 900 s cap -> 3 s, and the log says so
    delays = [
        redelivery_delay(n, first=settings.redelivery_first_seconds, longest=settings.redelivery_max_seconds)
        for n in range(1, 5)
    ]
    assert delays == [1, 2, 3, 3]
    assert notes == ["worker redelivery 30-900 -> 1-3 s"]
    # ... and without acceleration, nothing is added: the functions see the template's environment only
    assert Acceleration(1).function_environment() == ({}, [])
    assert Settings.from_env({"TABLE_NAME": "t"}).redelivery_first_seconds == 30


def test_an_accelerated_queue_keeps_a_visibility_timeout_no_shorter_than_its_functions_timeout() -> None:
    # Lambda refuses a mapping whose queue would show a message again while an invocation still runs
    assert Acceleration(300).visibility_timeout(720, function_timeout=120) == 120
    assert Acceleration(2).visibility_timeout(720, function_timeout=120) == 360
    assert Acceleration(1).visibility_timeout(720, function_timeout=120) == 720
