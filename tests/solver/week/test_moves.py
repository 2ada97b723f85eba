"""Moves of units between days on the routes, priced on the matrix and checked by the evaluator."""

from __future__ import annotations

from solver.week.moves import DayStops, MoveSearch
from solver.week.units import Pattern, Unit
from tests.solver.week.conftest import line_problem


def _search(capacity: float) -> tuple[MoveSearch, list[Unit]]:
    """Day 0: v1 drives a (100 m), b (200 m); day 1: v1 drives c (300 m); no tips."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0)],
                                     [("v1", capacity)])
    days = {0: DayStops({"v1": ["a", "b"]}, []), 1: DayStops({"v1": ["c"]}, [])}
    search = MoveSearch(problem, matrices, matrices.for_vehicle("v1").distance_m, days)
    units = [Unit(id=b, patterns=(Pattern(((0, (b,)),)), Pattern(((1, (b,)),))), demand=10.0, location=b)
             for b in "abc"]
    return search, units


def test_a_move_is_priced_exactly_and_made_when_it_saves() -> None:
    """Moving b to day 1: day 0 drives 200 m instead of 400 m, day 1 600 m as before (b on the way to c):
    -200 m, made, and b is now on day 1's route."""
    search, units = _search(capacity=100.0)
    b = units[1]
    assert search.try_move(b, b.patterns[0], b.patterns[1], budget=0.0) == -200.0
    assert search.days[0].routes["v1"] == ["a"] and sorted(search.days[1].routes["v1"]) == ["b", "c"]
    assert search.changed == {0, 1}


def test_a_move_the_lorry_cannot_carry_is_not_made() -> None:
    """With a 10 kg lorry, b cannot join c on day 1: no move, nothing changed."""
    search, units = _search(capacity=10.0)
    b = units[1]
    assert search.try_move(b, b.patterns[0], b.patterns[1], budget=1e9) is None
    assert search.days[1].routes["v1"] == ["c"] and not search.changed


def test_descend_moves_units_until_none_saves() -> None:
    """From the start above, everything on one day (one trip of 600 m) is cheapest: descend gets there
    from 400 + 600 m, saving 400 m."""
    search, units = _search(capacity=100.0)
    choice = {"a": 0, "b": 0, "c": 1}
    saved = search.descend(units, choice, deadline=float("inf"))
    assert saved == -400.0
    assert len(set(choice.values())) == 1


def test_a_full_route_takes_a_bin_with_an_extra_unload_at_a_tip_open_that_day() -> None:
    """A 10 kg lorry already full with a (unloading at t2): b joins it only with one more unload, and on a
    day when only t2 opens that unload is at t2, though t1 (50 m out) would be nearer."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0)], [("v1", 10.0)],
                                     tips=[("t1", 50.0), ("t2", 1000.0)])
    days = {0: DayStops({"v1": ["a", "t2"]}, []), 1: DayStops({"v1": ["b", "t2"]}, [])}
    search = MoveSearch(problem, matrices, matrices.for_vehicle("v1").distance_m, days, tips_on={0: ["t2"], 1: ["t2"]})
    b = Unit(id="b", patterns=(Pattern(((1, ("b",)),)), Pattern(((0, ("b",)),))), demand=10.0, location="b")
    assert search.try_move(b, b.patterns[0], b.patterns[1], budget=1e9) is not None
    route = search.days[0].routes["v1"]
    assert sorted(route) == ["a", "b", "t2", "t2"] and "t1" not in route
