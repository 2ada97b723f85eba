"""A new unit put on its cheapest pattern of days, on hand-made matrices (a depot and bins on a line)."""

from __future__ import annotations

from solver.matrix import FleetMatrices
from solver.problem import Problem
from solver.week.moves import DayStops
from solver.week.placement import place_unit
from solver.week.units import Pattern, Unit
from tests.solver.week.conftest import line_problem


def _week(capacity: float) -> tuple[Problem, FleetMatrices, dict[int, DayStops]]:
    """Day 0: v1 drives to a (100 m) and back; day 1: v1 drives to c (300 m) and back. New: n at 200 m."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("c", 300.0, 10.0), ("n", 200.0, 10.0)],
                                     [("v1", capacity)])
    return problem, matrices, {0: DayStops({"v1": ["a"]}, []), 1: DayStops({"v1": ["c"]}, [])}


def test_the_pattern_whose_insertion_adds_least_is_chosen() -> None:
    """n at 200 m: on day 0 the round goes out 200 m instead of 100 m (+200 m there and back), on day 1 it
    lies on the way to c (+0 m): day 1, round v1, 0 m added; day 0 priced at 200 m."""
    problem, matrices, days = _week(capacity=100.0)
    unit = Unit(id="n", patterns=(Pattern(((0, ("n",)),)), Pattern(((1, ("n",)),))), demand=10.0, location="n")
    placed = place_unit(problem, matrices, matrices.for_vehicle("v1").distance_m, days, unit)
    assert placed.chosen == unit.patterns[1]
    assert [p.added for p in placed.prices] == [200.0, 0.0]
    assert placed.rounds == {1: "v1"} and placed.added == {1: 0.0}
    assert placed.days[1].routes["v1"] == ["n", "c"] and placed.days[0].routes["v1"] == ["a"]
    assert days[1].routes["v1"] == ["c"], "the days given are left as they were"


def test_a_pattern_that_does_not_fit_is_priced_none_and_the_other_taken() -> None:
    """A 20 kg lorry is full with c (20 kg) on day 1: n goes on day 0 (+200 m), day 1 said not to fit."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("c", 300.0, 20.0), ("n", 200.0, 10.0)], [("v1", 20.0)])
    days = {0: DayStops({"v1": ["a"]}, []), 1: DayStops({"v1": ["c"]}, [])}
    unit = Unit(id="n", patterns=(Pattern(((0, ("n",)),)), Pattern(((1, ("n",)),))), demand=10.0, location="n")
    placed = place_unit(problem, matrices, matrices.for_vehicle("v1").distance_m, days, unit)
    assert placed.chosen == unit.patterns[0] and placed.added == {0: 200.0}
    assert placed.prices[1].added is None and "no round has room" in placed.prices[1].why


def test_a_unit_no_pattern_fits_is_not_placed() -> None:
    """A pattern on a day without rounds, or too heavy a unit: no choice, the days unchanged."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("n", 200.0, 500.0)], [("v1", 100.0)])
    days = {0: DayStops({"v1": ["a"]}, [])}
    unit = Unit(id="n", patterns=(Pattern(((0, ("n",)),)), Pattern(((1, ("n",)),))), demand=500.0, location="n")
    placed = place_unit(problem, matrices, matrices.for_vehicle("v1").distance_m, days, unit)
    assert placed.chosen is None and placed.rounds == {}
    assert [p.added for p in placed.prices] == [None, None]
    assert "without rounds" in placed.prices[1].why
    assert placed.days[0].routes == {"v1": ["a"]}
