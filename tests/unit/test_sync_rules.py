"""The walk's pure rules: which posts of a page are new, when a walk has reached older likes, page growth."""

from __future__ import annotations

from shared.sync import classify_page, next_page_size
from tests.support.fake_x import make_post

P = [make_post(n) for n in range(6)]


def test_a_page_of_unknown_posts_is_all_new() -> None:
    new, reached = classify_page(P[:4], {}, base=10)
    assert new == P[:4]
    assert not reached


def test_the_walk_stops_at_the_first_post_stored_before_it_began() -> None:
    known = {P[2].id: 3}  # slot 3 < base 10: stored by an earlier sync
    new, reached = classify_page(P[:5], known, base=10)
    assert new == P[:2]
    assert reached


def test_posts_this_walk_stored_before_a_crash_are_skipped_not_a_stop() -> None:
    known = {P[0].id: 10, P[1].id: 11}  # slots >= base: stored by this walk, then it crashed
    new, reached = classify_page(P[:4], known, base=10)
    assert new == P[2:4]
    assert not reached


def test_a_post_twice_on_one_page_is_stored_once() -> None:
    new, _ = classify_page([P[0], P[1], P[0]], {}, base=0)
    assert new == [P[0], P[1]]


def test_pages_grow_only_while_everything_is_new_and_never_past_100() -> None:
    assert next_page_size(5, all_new=True) == 10
    assert next_page_size(80, all_new=True) == 100
    assert next_page_size(100, all_new=True) == 100
    assert next_page_size(20, all_new=False) == 20
