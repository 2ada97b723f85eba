"""How many vehicles a day would need, on hand-made days whose answer is worked out by hand."""

from __future__ import annotations

import dataclasses

from solver.problem import SolveOptions
from solver.solution import Plan, RoutePlan, Unassigned
from solver.week.calendar import Calendar
from solver.week.fleet_need import vehicles_needed
from solver.week.model import WeekProblem
from solver.week.review import plan_review
from tests.solver.week.conftest import line_problem

MONDAY = Calendar(days=("mon",), weeks=("A",))


def test_a_day_over_its_lorry_s_capacity_needs_a_lorry_per_load() -> None:
    """Five bins of 50 kg, one 100 kg lorry, no tip: the lorry carries two, the 150 kg left out take
    ceil(150 / 100) = 2 more lorries: 3 in all (= ceil(250 / 100))."""
    problem, matrices = line_problem([(f"b{i}", 100.0 * i, 50.0) for i in range(1, 6)], [("v1", 100.0)])
    plan = Plan(routes=(RoutePlan("v1", ("b1", "b2")),),
                unassigned=tuple(Unassigned(b, "capacity", "full") for b in ("b3", "b4", "b5")))
    assert vehicles_needed(problem, matrices, plan, tips_open=False) == 3


def test_with_a_tip_open_only_time_counts() -> None:
    """The same day with a tip open: the lorry could unload, so the 150 kg left out are an hour's work
    at most and one more lorry's shift holds it: 2."""
    problem, matrices = line_problem([(f"b{i}", 100.0 * i, 50.0) for i in range(1, 6)], [("v1", 100.0)],
                                     tips=[("tip", 50.0)])
    plan = Plan(routes=(RoutePlan("v1", ("b1", "b2")),),
                unassigned=tuple(Unassigned(b, "capacity", "full") for b in ("b3", "b4", "b5")))
    assert vehicles_needed(problem, matrices, plan, tips_open=True) == 2


def test_work_longer_than_a_shift_needs_a_shift_per_eight_hours() -> None:
    """Ten bins of an hour's service each, 100 m apart (10 s), one lorry on an 8 h shift: it serves seven;
    the three left out are 3 h 0 min 30 s of work, which one more shift of 8 h less the drive out and back
    holds: 2 lorries. With twenty left out (20 h of work) three more shifts are needed: 4."""
    base, matrices = line_problem([(f"b{i}", 100.0 * i, 1.0) for i in range(1, 31)], [("v1", 1000.0)])
    problem = dataclasses.replace(base, bins=tuple(dataclasses.replace(b, service_s=3600.0) for b in base.bins))
    served = tuple(f"b{i}" for i in range(1, 8))
    three = Plan(routes=(RoutePlan("v1", served),),
                 unassigned=tuple(Unassigned(f"b{i}", "shift_too_short", "late") for i in range(8, 11)))
    assert vehicles_needed(problem, matrices, three, tips_open=True) == 2
    twenty = Plan(routes=(RoutePlan("v1", served),),
                  unassigned=tuple(Unassigned(f"b{i}", "shift_too_short", "late") for i in range(8, 28)))
    assert vehicles_needed(problem, matrices, twenty, tips_open=True) == 1 + 3


def test_bins_more_vehicles_cannot_serve_do_not_count() -> None:
    """A bin off the network or of a stream no vehicle carries needs no more of the same vehicles."""
    problem, matrices = line_problem([("b1", 100.0, 10.0), ("b2", 200.0, 10.0)], [("v1", 100.0)])
    plan = Plan(routes=(RoutePlan("v1", ("b1",)),), unassigned=(Unassigned("b2", "off_network", "sea"),))
    assert vehicles_needed(problem, matrices, plan, tips_open=False) == 1


def test_a_review_that_cannot_fit_the_fleet_says_how_many_vehicles_the_day_needs() -> None:
    """A one-day week of five 50 kg bins and one 100 kg lorry, no tip: the review serves what fits,
    leaves the rest out with the engine's reason, and says the day needs 3 lorries."""
    problem, matrices = line_problem([(f"b{i}", 100.0 * i, 50.0) for i in range(1, 6)], [("v1", 100.0)])
    week = WeekProblem(calendar=MONDAY, problem=problem)
    review = plan_review(week, matrices, options=SolveOptions(engine="ortools", objective="cost"), time_limit_s=1.0)
    day = review.plan.days[0]
    assert day.vehicles == 1 and len(day.plan.unassigned) == 3
    assert {u.reason for u in day.plan.unassigned} <= {"capacity", "no_feasible_insertion"}
    assert review.vehicles_needed == {0: 3}
