"""Balance of a plan's rounds on hand-worked cases: equal rounds, one twice the other, none; by the
streams the lorries carry."""

from __future__ import annotations

import pytest

from solver.balance import balance_by_fleet, plan_balance
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


def test_balance_by_fleet_keeps_the_tolerance_to_rounds_of_the_same_streams() -> None:
    """Two refuse rounds of 7 h and 7.7 h (spread 0.7 / 7.35 = 0.048) and one garden round of 3 h: the day's
    spread over all three would be 0.31, but each group is measured apart, so at a 10 % tolerance both are
    within it; the refuse group at 7 h and 9 h (spread 0.125) is outside it; with no tolerance, not judged."""
    streams = {"r1": ("refuse",), "r2": ("refuse",), "g1": ("garden",)}
    rounds = [_round("r1", 25_200.0, 5_000.0), _round("r2", 27_720.0, 5_000.0), _round("g1", 10_800.0, 2_000.0)]
    groups = balance_by_fleet(rounds, streams, 0.10)
    assert [(g.streams, g.balance.rounds, g.within_tolerance) for g in groups] == [
        (("garden",), 1, True), (("refuse",), 2, True)]
    assert groups[1].balance.duration_spread == pytest.approx(27_720.0 / 26_460.0 - 1)
    long_day = [_round("r1", 25_200.0, 5_000.0), _round("r2", 32_400.0, 5_000.0)]
    assert [g.within_tolerance for g in balance_by_fleet(long_day, streams, 0.10)] == [False]
    assert [g.within_tolerance for g in balance_by_fleet(long_day, streams, None)] == [None]
