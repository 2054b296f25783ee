"""When an X post was created, read from its id: X ids are snowflakes, a millisecond timestamp in the high bits.

An archive like has no date of its own (like.js holds only id, text and expanded URL); its post's date is what
the card shows. Ids older than snowflakes (sequential, before 2010-11-04) carry no date: None.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Twitter's snowflake epoch: 2010-11-04T01:42:54.657Z, in milliseconds since the Unix epoch.
TWEPOCH_MS = 1288834974657
TIMESTAMP_SHIFT = 22  # 10 bits of worker id and 12 of sequence sit below the timestamp
# The last sequential ids were about 3e10, which decode to a few seconds after the snowflake epoch. Real
# snowflake ids started later than this, so anything that decodes to its first minute is a sequential id.
FIRST_SNOWFLAKE = 60_000 << TIMESTAMP_SHIFT


def created_at(post_id: str) -> str | None:
    """The post's creation time as X writes it (`2024-01-01T00:00:00.000Z`), or None for a pre-snowflake id."""
    if not post_id.isascii() or not post_id.isdigit():
        return None
    value = int(post_id)
    if value < FIRST_SNOWFLAKE or value >= 1 << 63:
        return None
    ms = (value >> TIMESTAMP_SHIFT) + TWEPOCH_MS
    when = datetime.fromtimestamp(ms // 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
