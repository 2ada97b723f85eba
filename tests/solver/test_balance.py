"""Balance of a plan's rounds on hand-worked cases: equal rounds, one twice the other, none."""

from __future__ import annotations

import pytest

from solver.balance import plan_balance
from solver.solution import RouteEvaluation


def _round(vehicle_id: str, duration_s: float, load_kg: float) -> RouteEvaluation:
    return RouteEvaluation(vehicle_id=vehicle_id, visits=(), distance_m=0.0, duration_s=duration_s,
                           load_kg=load_kg, n_bins=0, trips=0, cost=0.0, load_l=0.0, lifts=0)


def test_equal_rounds_have_no_spread() -> None:
    """Three rounds of 7 h and 5 t each: spreads 0, min = max = mean."""
    balance = plan_balance([_round(f"v{i}", 25_200.0, 5_000.0) for i in range(3)])
    assert balance.rounds == 3
    assert balance.duration_spread == 0.0 and balance.load_spread == 0.0
    assert balance.duration_min_s == balance.duration_max_s == balance.duration_mean_s == 25_200.0
    assert balance.load_min_kg == balance.load_max_kg == balance.load_mean_kg == 5_000.0


def test_one_round_twice_the_other() -> None:
    """Rounds of 1 h and 2 h: mean 1.5 h, spread 2 / 1.5 - 1 = 1/3; loads 1 t and 4 t: mean 2.5 t,
    spread 4 / 2.5 - 1 = 0.6."""
    balance = plan_balance([_round("a", 3_600.0, 1_000.0), _round("b", 7_200.0, 4_000.0)])
    assert balance.duration_min_s == 3_600.0 and balance.duration_max_s == 7_200.0
    assert balance.duration_mean_s == 5_400.0
    assert balance.duration_spread == pytest.approx(1 / 3)
    assert balance.load_mean_kg == 2_500.0
    assert balance.load_spread == pytest.approx(0.6)


def test_no_rounds_and_no_load_give_zeros() -> None:
    """No round: every figure 0; rounds that collect nothing: load spread 0, not a division by 0."""
    empty = plan_balance([])
    assert empty.rounds == 0 and empty.duration_spread == 0.0 and empty.load_mean_kg == 0.0
    tipping_only = plan_balance([_round("a", 600.0, 0.0), _round("b", 1_200.0, 0.0)])
    assert tipping_only.load_spread == 0.0
    assert tipping_only.duration_spread == pytest.approx(1 / 3)
