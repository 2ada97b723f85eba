"""The week's objective and its construction, on hand-worked cases."""

from __future__ import annotations

import numpy as np

from solver.solution import Plan
from solver.week.day import DayRoutes
from solver.week.search import WeekPlan, construct, slot_bins
from solver.week.units import Pattern, Unit


def _day(slot: int, cost: float, vehicles: int, unserved: int = 0) -> DayRoutes:
    return DayRoutes(slot=slot, bin_ids=frozenset(), plan=Plan(routes=()), evaluation=None, cost=cost,
                     vehicles=vehicles, unserved=unserved)


def test_unserved_bins_then_the_busiest_day_then_cost() -> None:
    """Two lorries on the busiest day lose to one, however cheap; a bin left out loses to anything; without
    vehicles first, the cheaper week wins; day-change costs add to the routes' cost."""
    one_lorry = WeekPlan(choice={}, days={0: _day(0, 900.0, 1), 1: _day(1, 900.0, 1)}, change_cost=0.0)
    two_lorries = WeekPlan(choice={}, days={0: _day(0, 100.0, 2), 1: _day(1, 100.0, 1)}, change_cost=0.0)
    short = WeekPlan(choice={}, days={0: _day(0, 10.0, 1, unserved=1), 1: _day(1, 10.0, 1)}, change_cost=0.0)
    assert one_lorry.objective() < two_lorries.objective() < short.objective()
    two_lorries.vehicles_first = one_lorry.vehicles_first = False
    assert two_lorries.objective() < one_lorry.objective()
    moved = WeekPlan(choice={}, days={0: _day(0, 100.0, 1)}, change_cost=5.0)
    assert moved.objective() == (0, 1, 105.0)


def test_construction_keeps_neighbours_together_within_each_day_s_share() -> None:
    """Four units in two pairs far apart (0-1 m and 1000-1001 m from the depot), each to go on day 0 or
    day 1, a day holding two: each pair shares a day, the two pairs on different days."""
    xs = np.array([0.0, 1.0, 2.0, 1000.0, 1001.0])  # depot, then units u0..u3
    travel = np.abs(xs[:, None] - xs[None, :])
    units = [Unit(id=f"u{i}", patterns=(Pattern(((0, (f"u{i}",)),)), Pattern(((1, (f"u{i}",)),))), demand=1.0,
                  location=f"u{i}", lon=float(i), lat=0.0) for i in range(4)]
    choice = construct(units, [0, 1], travel=travel, index={f"u{i}": i + 1 for i in range(4)}, depot_row=0,
                       centre=(-1.0, 0.0), capacity={0: 2.0, 1: 2.0})
    days = slot_bins(units, choice, [0, 1])
    assert sorted(sorted(b) for b in days.values()) == [["u0", "u1"], ["u2", "u3"]]
