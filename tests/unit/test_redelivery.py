"""How long a failed fetch-queue message waits before SQS delivers it again: doubling, capped."""

from __future__ import annotations

from shared.sync_queue import MAX_REDELIVERY, redelivery_delay


def test_the_delay_doubles_with_each_receive_from_thirty_seconds() -> None:
    # ApproximateReceiveCount 1..5: the five deliveries before the DLQ takes the message (maxReceiveCount 5)
    assert [redelivery_delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_the_delay_is_capped_and_a_missing_count_counts_as_the_first() -> None:
    assert redelivery_delay(6) == redelivery_delay(60) == MAX_REDELIVERY == 900
    assert redelivery_delay(0) == 30
