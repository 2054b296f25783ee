"""The shuffled deck: every deck is a permutation of the slots, and decks differ from each other."""

from __future__ import annotations

import pytest

from shared.deck import deck_slot


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 16, 17, 100, 257, 1000, 4099])
def test_each_deck_deals_every_slot_exactly_once(n: int) -> None:
    for deck in (0, 1, 8675309, 2**53 - 1):
        dealt = [deck_slot(deck, draw, n) for draw in range(n)]
        assert sorted(dealt) == list(range(n))


def test_draws_wrap_around_after_n() -> None:
    assert [deck_slot(7, d, 10) for d in range(10)] == [deck_slot(7, d, 10) for d in range(10, 20)]


def test_different_decks_shuffle_differently() -> None:
    orders = {tuple(deck_slot(deck, d, 50) for d in range(50)) for deck in range(20)}
    assert len(orders) == 20


def test_a_deck_is_not_the_identity() -> None:
    assert [deck_slot(1, d, 100) for d in range(100)] != list(range(100))


def test_an_empty_deck_is_refused_and_a_deck_of_one_deals_its_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        deck_slot(1, 0, 0)

    assert [deck_slot(1, draw, 1) for draw in range(3)] == [0, 0, 0]
