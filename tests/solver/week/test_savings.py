"""The week's savings on hand-made days whose figures are worked out by hand (the real evaluator)."""

from __future__ import annotations

import pytest

from solver.evaluate import evaluate
from solver.savings import Factors
from solver.solution import Plan, RoutePlan
from solver.week.savings import WeekDayInput, week_savings
from tests.solver.week.conftest import line_problem

FACTORS = Factors(fuel_l_per_km=1.0, co2e_kg_per_l=2.0, cost_fixed_per_vehicle=100.0, cost_per_km=1.0,
                  cost_per_hour=0.0)


def _days() -> list[WeekDayInput]:
    """Two days, bins 1 km out. Today: Monday two lorries drive 2 km each (a and b apart), Tuesday nothing.
    Proposed: Monday one lorry takes a and b (2 km), Tuesday one lorry takes c (2 km)."""
    problem, matrices = line_problem([("a", 1000.0, 10.0), ("b", 1000.0, 10.0), ("c", 1000.0, 10.0)],
                                     [("v1", 100.0), ("v2", 100.0)])
    today_mon = evaluate(problem, matrices, Plan(routes=(RoutePlan("v1", ("a",)), RoutePlan("v2", ("b", "c")))))
    proposed_mon = evaluate(problem, matrices, Plan(routes=(RoutePlan("v1", ("a", "b")),)))
    proposed_tue = evaluate(problem, matrices, Plan(routes=(RoutePlan("v1", ("c",)),)))
    return [WeekDayInput("mon", "A", today=today_mon, proposed=proposed_mon,
                         today_shape={"duration_spread": 0.0}, proposed_shape={"duration_spread": 0.0}),
            WeekDayInput("tue", "A", today=None, proposed=proposed_tue, proposed_shape={"duration_spread": 0.0})]


def test_the_week_adds_its_days_and_counts_the_busiest_day() -> None:
    """Today 4 km and 2 lorries on Monday; proposed 2 km + 2 km and 1 lorry a day: the same 4 km a week,
    busiest day 2 -> 1, vehicle-days 2 -> 2, cost 2 x 100 + 4 both ways; the bins served alike."""
    days = _days()
    days[0] = WeekDayInput("mon", "A", today=days[0].today, proposed=days[0].proposed)
    week = week_savings(days, FACTORS, households_moved=1, n_weeks=1)
    assert week.today.distance_m == pytest.approx(4000.0) and week.proposed.distance_m == pytest.approx(4000.0)
    assert week.busiest_day_vehicles == (2, 1)
    assert week.today.vehicles_used == week.proposed.vehicles_used == 2
    assert week.today.cost_gbp == pytest.approx(204.0) and week.proposed.cost_gbp == pytest.approx(204.0)
    assert week.today.bins_served == week.proposed.bins_served == 3
    assert week.per_year["proposed"]["fuel_l"] == pytest.approx(52 * 4.0)
    assert week.better() == ["vehicles on the busiest day: 1 against 2 today"]


def test_what_got_worse_names_the_day_and_the_households() -> None:
    """Tuesday, empty today, drives 2 km proposed: named worse with its day; one household moved is named."""
    week = week_savings(_days(), FACTORS, households_moved=1, n_weeks=1)
    worse = week.worse()
    assert "households moved: 1 must be told their collection day changes" in worse
    assert any(line.startswith("tue A: Distance +2,000 m") for line in worse)
    assert not any(line.startswith("week: Distance") for line in worse)


def test_a_fortnight_is_26_cycles_a_year() -> None:
    """Two weeks to a cycle: a year is 26 of them."""
    week = week_savings(_days(), FACTORS, households_moved=0, n_weeks=2)
    assert week.cycles_per_year == 26
    assert week.per_year["today"]["distance_m"] == pytest.approx(26 * 4000.0)


def test_bins_collected_unequally_are_flagged() -> None:
    """A bin twice today and once proposed, and one absent from today's week: both named in the notes."""
    week = week_savings(_days(), FACTORS, households_moved=0, n_weeks=1, visits_today={"a": 2},
                        visits_proposed={"a": 1, "z": 1})
    assert any("a (2 today, 1 proposed)" in n for n in week.notes)
    assert any("no current day" in n and "z" in n for n in week.notes)


def test_the_week_s_balance_is_its_worst_day_and_a_worse_one_is_named() -> None:
    """Today Monday's longest round is 10 % over the mean; proposed, Monday 30 % and Tuesday 0 %: the week's
    worst day goes from 0.1 (mon A) to 0.3 (mon A), named worse, as is Monday itself."""
    days = _days()
    days[0] = WeekDayInput("mon", "A", today=days[0].today, proposed=days[0].proposed,
                           today_shape={"duration_spread": 0.1}, proposed_shape={"duration_spread": 0.3})
    week = week_savings(days, FACTORS, households_moved=0, n_weeks=1)
    (spread,) = week.shape()
    assert (spread.today, spread.proposed, spread.day, spread.verdict) == (0.1, 0.3, "mon A / mon A", "worse")
    assert "week: Balance: longest round over the mean (worst day) 0.1 -> 0.3" in week.worse()
    assert "mon A: Balance: longest round over the mean 0.1 -> 0.3" in week.worse()


def test_bins_moving_between_days_are_no_day_note_but_broken_rules_are() -> None:
    """c leaves Monday for Tuesday: the one-day note "does not serve" is what a review does and is left out
    of the week's notes; nothing else is noted for these rounds."""
    week = week_savings(_days(), FACTORS, households_moved=0, n_weeks=1)
    assert not any("does not serve" in n or "serves" in n for n in week.notes), week.notes


def test_a_today_s_week_far_longer_than_the_proposed_one_is_questioned() -> None:
    """Today drives 4 km, proposed 2 km for the same bins served: a ratio of 2 over the 1.5 that marks a
    straw man, so a warning; the other way round (proposed longer), none."""
    problem, matrices = line_problem([("a", 1000.0, 10.0), ("b", 1000.0, 10.0)], [("v1", 100.0), ("v2", 100.0)])
    apart = evaluate(problem, matrices, Plan(routes=(RoutePlan("v1", ("a",)), RoutePlan("v2", ("b",)))))
    together = evaluate(problem, matrices, Plan(routes=(RoutePlan("v1", ("a", "b")),)))
    week = week_savings([WeekDayInput("mon", "A", today=apart, proposed=together)], FACTORS, households_moved=0,
                        n_weeks=1)
    assert any(n.startswith("warning: today's week's distance (4.0 km) is 2.0 times") for n in week.notes)
    week = week_savings([WeekDayInput("mon", "A", today=together, proposed=apart)], FACTORS, households_moved=0,
                        n_weeks=1)
    assert not any(n.startswith("warning") for n in week.notes)
