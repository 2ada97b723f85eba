"""Tests of solver.traces.order: the share of a round's bins collected in the planned order."""

from __future__ import annotations

import pytest

from solver.traces.order import in_planned_order, order_followed


def test_the_plan_followed_is_all_in_order() -> None:
    """Bins collected exactly as planned: every one in order."""
    plan = [f"b{k}" for k in range(10)]
    assert in_planned_order(plan, plan) == 10
    assert order_followed(plan, plan) == 1.0


def test_a_stretch_driven_in_reverse() -> None:
    """Four bins of ten collected in reverse order: at most one of them stays in order with the rest,
    so 7 of 10 are in the planned order."""
    plan = [f"b{k}" for k in range(10)]
    driven = [*plan[:3], *plan[3:7][::-1], *plan[7:]]
    assert in_planned_order(plan, driven) == 7
    assert order_followed(plan, driven) == pytest.approx(0.7)


def test_missed_and_extra_bins_are_left_out() -> None:
    """A bin planned but missed, and a bin of another round collected, count on neither side: the
    share is over the bins both hold; a bin collected twice counts once."""
    plan = ["a", "b", "c", "d"]
    driven = ["a", "x", "c", "b", "b", "d"]  # b missed in its place, x not planned, c before b
    assert in_planned_order(plan, driven) == 3  # a, c, d (or a, b, d)
    assert order_followed(plan, driven) == pytest.approx(3 / 4)


def test_nothing_in_common_has_no_share() -> None:
    """No bin both planned and collected: no share to give (None), not 0 or 1."""
    assert order_followed(["a", "b"], ["x"]) is None
    assert order_followed([], []) is None


def test_the_whole_round_reversed() -> None:
    """A round collected back to front keeps one bin in order with itself."""
    plan = [f"b{k}" for k in range(50)]
    assert order_followed(plan, plan[::-1]) == pytest.approx(1 / 50)
