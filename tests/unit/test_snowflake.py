"""A post's date from its id: X ids are snowflakes (ms since 2010-11-04T01:42:54.657Z, above 22 bits)."""

from __future__ import annotations

import pytest

from shared.snowflake import TWEPOCH_MS, created_at


def snowflake_at(ms_since_unix_epoch: int, low_bits: int = 0) -> str:
    return str(((ms_since_unix_epoch - TWEPOCH_MS) << 22) | low_bits)


def test_the_timestamp_bits_give_the_date_to_the_millisecond_whatever_the_low_bits() -> None:
    assert created_at(snowflake_at(1577836800000)) == "2020-01-01T00:00:00.000Z"
    assert created_at(snowflake_at(1700000000123, low_bits=(1 << 22) - 1)) == "2023-11-14T22:13:20.123Z"


def test_a_real_id_decodes_to_its_known_date() -> None:
    # x.com/BarackObama/status/266031293945503744 ("Four more years."), posted 2012-11-07 at 04:16 UTC
    assert (created_at("266031293945503744") or "").startswith("2012-11-07T04:16:")


@pytest.mark.parametrize("post_id", ["20", "29700859247", "200000000000", "", "12a", "-5", "١٢٣", str(1 << 63)])
def test_ids_before_snowflakes_and_non_ids_have_no_date(post_id: str) -> None:
    assert created_at(post_id) is None
