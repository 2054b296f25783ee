"""A random pick is uniform over the stored slots: a seeded chi-square test whose power is stated, and checked.

The picker is the api's (`Picker(store, ...)`, as src/api/app.py builds it) with a seeded generator in place of
`secrets.randbelow`, over an in-memory store of SLOTS likes: what is random in a pick is which slot it reads,
and that does not depend on the store. (tests/integration/test_pipeline.py shows, through the real table, that
every stored post is reachable by its slot, once.)

With PICKS = 2,000 picks over SLOTS = 20 slots (100 expected in each) and ALPHA = 0.001, the test rejects
- a picker that never picks one slot (as `randbelow(count - 1)` would) with power 0.99999 (noncentrality 105);
- one that picks half the slots 1.5 times as often as the others with power 0.9997 (noncentrality 80).
It is blind to small biases: half the slots at 1.2 times is caught with power 0.20 only.
A fair picker fails it for one seed in 1,000 (ALPHA); the seed makes each run's outcome the same.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.stats import chi2, chisquare, ncx2

from shared.models import StoredLike, Subscriber, SubscriberStatus
from shared.pick import Picker
from tests.support.fake_x import make_post

SLOTS = 20
PICKS = 2_000
ALPHA = 0.001
SEED = 20261128


class SlotsInMemory:
    """The PickStore port over SLOTS stored likes of one subscriber."""

    def __init__(self, count: int) -> None:
        when = datetime(2026, 1, 1, tzinfo=UTC)
        self.likes = [StoredLike(slot, make_post(slot), "api", when) for slot in range(count)]

    def get_like(self, key: str, slot: int) -> StoredLike | None:
        return self.likes[slot] if 0 <= slot < len(self.likes) else None


def picks_per_slot(randbelow: Callable[[int], int]) -> list[int]:
    """PICKS picks through a Picker with this randbelow: how often each slot came up."""
    picker = Picker(SlotsInMemory(SLOTS), randbelow=randbelow)
    sub = Subscriber(
        key="1",
        username="demo",
        display_username="demo",
        status=SubscriberStatus.READY,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        like_count=SLOTS,
    )
    counts = Counter(picker.pick(sub).like.slot for _ in range(PICKS))
    return [counts[slot] for slot in range(SLOTS)]


def uniformity_p_value(counts: list[int]) -> float:
    """Pearson's chi-square against equal counts in every slot (SLOTS - 1 degrees of freedom)."""
    return float(chisquare(counts).pvalue)


def power(weights: list[float]) -> float:
    """The chance that the test rejects a picker that picks slot i with probability weights[i] / sum."""
    expected = np.full(SLOTS, 1 / SLOTS)
    actual = np.asarray(weights) / sum(weights)
    noncentrality = PICKS * float(np.sum((actual - expected) ** 2 / expected))
    return float(ncx2.sf(chi2.isf(ALPHA, SLOTS - 1), SLOTS - 1, noncentrality))


ONE_SLOT_NEVER = [0.0] + [1.0] * (SLOTS - 1)
HALF_AT = {bias: [bias] * (SLOTS // 2) + [1.0] * (SLOTS - SLOTS // 2) for bias in (1.2, 1.5)}


def test_the_power_is_what_the_docstring_says() -> None:
    assert power(ONE_SLOT_NEVER) >= 0.999_99
    assert power(HALF_AT[1.5]) >= 0.9997
    assert power(HALF_AT[1.2]) == pytest.approx(0.20, abs=0.01)
    assert PICKS / SLOTS >= 20  # enough expected picks per slot for the chi-square approximation


def test_picks_are_uniform_over_the_stored_slots() -> None:
    # Given the api's picker with a seeded generator
    rng = random.Random(SEED)

    # When it picks PICKS times
    counts = picks_per_slot(rng.randrange)

    # Then every slot came up, and the counts are what a uniform pick gives
    assert min(counts) > 0
    assert uniformity_p_value(counts) >= ALPHA, counts


@pytest.mark.parametrize("seed", range(SEED, SEED + 3))
def test_the_same_test_rejects_a_picker_that_never_picks_the_last_slot(seed: int) -> None:
    # Given a picker with an off-by-one: it draws from one slot fewer than there are
    rng = random.Random(seed)

    # When it picks PICKS times
    counts = picks_per_slot(lambda count: rng.randrange(count - 1))

    # Then the test rejects it
    assert counts[-1] == 0
    assert uniformity_p_value(counts) < ALPHA, counts


@pytest.mark.parametrize("seed", range(SEED, SEED + 3))
def test_the_same_test_rejects_a_picker_that_favours_half_the_slots(seed: int) -> None:
    # Given a picker that picks the lower half of the slots 1.5 times as often as the upper half
    rng = random.Random(seed)

    def biased(count: int) -> int:
        return rng.choices(range(count), weights=[1.5] * (count // 2) + [1.0] * (count - count // 2))[0]

    # When it picks PICKS times
    counts = picks_per_slot(biased)

    # Then the test rejects it, though every slot came up
    assert min(counts) > 0
    assert uniformity_p_value(counts) < ALPHA, counts
