"""One day cut from the week's daily problem and routed by the real daily engine."""

from __future__ import annotations

import numpy as np

from solver.problem import SolveOptions
from solver.solution import Plan, RoutePlan
from solver.week.day import DayRouter, restrict
from tests.solver.week.conftest import line_problem


def _router() -> DayRouter:
    problem, matrices = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0)],
                                     [("v1", 100.0), ("v2", 100.0)], tips=[("tip", 50.0)])
    return DayRouter(problem, matrices, SolveOptions(engine="ortools", objective="distance"),
                     vehicles_on={0: ["v1", "v2"], 1: ["v2"]}, sites_on={0: ["tip"], 1: ["tip"]})


def test_restrict_keeps_the_day_s_rows_in_the_problem_s_order() -> None:
    """Bins c and a (asked in that order) on vehicle v2: the day's problem lists a before c, and its matrix
    is the depot, the tip, a and c rows of the week's (distances 0, 50, 100, 300 m from the depot)."""
    router = _router()
    day, matrices = restrict(router.problem, router.matrices, bin_ids=["c", "a"], vehicle_ids=["v2"],
                             site_ids=["tip"])
    assert [b.id for b in day.bins] == ["a", "c"] and [v.id for v in day.vehicles] == ["v2"]
    assert np.array_equal(matrices.for_vehicle("v2").distance_m[0], [0.0, 50.0, 100.0, 300.0])


def test_a_day_is_routed_once_and_remembered() -> None:
    """Bins a, b, c on day 1 (only v2 works): out to 300 m, back by the tip at 50 m, 600 m in all; asking
    again for the same bins on that day, or on any day with the same vehicles and tips, solves nothing."""
    router = _router()
    day = router.route(1, {"a", "b", "c"}, time_limit_s=1.0)
    assert (day.unserved, day.vehicles, day.cost) == (0, 1, 600.0)
    again = router.route(1, ["c", "b", "a"], time_limit_s=1.0)
    assert router.solves == 1 and again.cost == 600.0


def test_a_day_without_a_vehicle_leaves_its_bins_out_with_a_reason() -> None:
    """Slot 2 has no vehicle: its bins are unserved with reason no_compatible_vehicle; an empty day costs 0."""
    router = _router()
    day = router.route(2, {"a"}, time_limit_s=1.0)
    assert day.unserved == 1 and [u.reason for u in day.plan.unassigned] == ["no_compatible_vehicle"]
    assert router.route(0, set(), time_limit_s=1.0).cost == 0.0


def test_adopted_routes_are_scored_by_the_evaluator_and_kept_when_better() -> None:
    """Routes made elsewhere for a and c on v2 (a, c, tip: 100 + 200 + 250 + 50 m) are scored 600 m; a
    worse routing of the same day later (c, tip, a, tip: 700 m) does not replace them."""
    router = _router()
    adopted = router.adopt(1, {"a", "c"}, Plan(routes=(RoutePlan("v2", ("a", "c", "tip")),)))
    assert (adopted.cost, adopted.unserved) == (600.0, 0)
    worse = router.adopt(1, {"a", "c"}, Plan(routes=(RoutePlan("v2", ("c", "tip", "a", "tip")),)))
    assert worse.cost == 700.0
    known = router.known(1, {"c", "a"})
    assert known is not None and known.cost == 600.0
