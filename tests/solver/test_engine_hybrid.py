"""The ``pyvrp+ortools`` engine: PyVRP on a relaxation, repaired, then OR-Tools from its rounds.

Real PyVRP and OR-Tools solves on a small grid (straight-line matrices, 10 m/s) with a
tip, a lunch break and a daily kg limit; every plan is checked by the evaluator.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.engines.hybrid import HybridEngine, _capped_fleet, relax_for_pyvrp, repair_route
from solver.evaluate import evaluate, evaluate_route
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, Bin, Break, Depot, DisposalSite, InitialRoute, Problem, SolveOptions, Vehicle
from solver.solution import Plan, RoutePlan, Unassigned

HOUR = 3600
LUNCH = Break(duration_s=HOUR, window=(11 * HOUR, 12 * HOUR))


def _case(*, n_bins: int = 24, daily_kg: float | None = 600.0, window: tuple[int, int] | None = None
          ) -> tuple[Problem, FleetMatrices]:
    """Bins on a 200 m grid east of depot D, a tip T beside it; vehicles work 08:00-15:00 with lunch,
    carry 300 kg a load and at most ``daily_kg`` a day; bins weigh 50 kg and take 20 minutes.
    ``window`` is given to the first bin."""
    vehicles = tuple(Vehicle(f"v{k}", "D", capacity_kg=300.0, shift_start_s=8 * HOUR, shift_end_s=15 * HOUR,
                             max_collected_kg=daily_kg, breaks=(LUNCH,), cost_per_hour=0.0, fixed_cost=100.0)
                     for k in range(1, 5))
    bins = tuple(Bin(f"b{i:02d}", -0.7, 52.6, demand_kg=50.0, service_s=1200.0,
                     time_windows=(window,) if window is not None and i == 0 else ())
                 for i in range(n_bins))
    problem = Problem((Depot("D", -0.7, 52.6),), vehicles, bins, (DisposalSite("T", -0.7, 52.6, unload_s=600.0),))
    xy = np.array([(0.0, 0.0), (0.0, 300.0), *((200.0 * (1 + i % 6), 200.0 * (i // 6)) for i in range(n_bins))])
    distance_m = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    matrices = TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m)
    return problem, FleetMatrices.uniform(matrices, [v.id for v in vehicles])


def test_the_relaxation_keeps_room_for_the_break_and_drops_the_daily_limits() -> None:
    """Shift and a window closing after 11:00 end an hour earlier; breaks and daily limits are gone."""
    problem, _ = _case(window=(9 * HOUR, 13 * HOUR))
    relaxed = relax_for_pyvrp(problem)
    vehicle = relaxed.vehicles[0]
    assert (vehicle.shift_end_s, vehicle.breaks, vehicle.max_collected_kg) == (14 * HOUR, (), None)
    assert relaxed.bins[0].time_windows == ((9 * HOUR, 12 * HOUR),)


def test_a_window_closing_before_the_break_is_not_squeezed() -> None:
    """A 08:00-10:00 window comes before any lunch, so the relaxation keeps it whole."""
    problem, _ = _case(window=(8 * HOUR, 10 * HOUR))
    assert relax_for_pyvrp(problem).bins[0].time_windows == ((8 * HOUR, 10 * HOUR),)


def test_repair_takes_out_bins_past_the_daily_limit_and_places_the_break() -> None:
    """A round of 16 bins (800 kg, tipping every 300 kg) on a 600 kg-a-day vehicle comes back
    violation-free, with its lunch, having lost bins for the daily limit."""
    problem, fleet = _case(daily_kg=600.0)
    ids = [b.id for b in problem.bins[:16]]
    stops = [*ids[:6], "T", *ids[6:12], "T", *ids[12:], "T"]
    vehicle = problem.vehicles[0]
    assert evaluate_route(problem, fleet, vehicle, stops).violations
    repaired, removed = repair_route(problem, fleet, vehicle, stops)
    assert not evaluate_route(problem, fleet, vehicle, repaired).violations
    assert BREAK_STOP in repaired and len(removed) >= 4
    assert set(removed) | {s for s in repaired if s in ids} == set(ids)


@pytest.mark.slow
def test_the_hybrid_serves_every_bin_without_a_violation() -> None:
    """Tips, lunch, a daily limit and a window: every bin served, the evaluator finds nothing wrong."""
    problem, fleet = _case(window=(9 * HOUR, 10 * HOUR))
    plan = HybridEngine().solve(problem, fleet, bin_ids=[b.id for b in problem.bins],
                                options=SolveOptions(time_limit_s=3.0, objective="distance"))
    evaluation = evaluate(problem, fleet, plan)
    assert evaluation.summary.violations == 0
    assert evaluation.summary.bins_served == len(problem.bins) and not evaluation.unassigned


def test_a_request_with_its_own_warm_start_goes_to_ortools_alone() -> None:
    """Initial routes (the planner's) are OR-Tools' to honour: the hybrid keeps the given round's bins."""
    problem, fleet = _case(n_bins=6)
    ids = tuple(b.id for b in problem.bins)
    options = SolveOptions(time_limit_s=2.0, objective="distance", initial_routes=(InitialRoute("v2", ids, locked=6),))
    plan = HybridEngine().solve(problem, fleet, bin_ids=list(ids), options=options)
    [route] = plan.routes
    assert route.vehicle_id == "v2" and [s for s in route.stops if s in ids][:6] == list(ids)


def test_pyvrp_gets_only_the_vehicles_ortools_needed() -> None:
    """OR-Tools' plan serving every bin on v1 and v3 leaves PyVRP those two vehicles (they cost money
    to use); a plan with a bin left out leaves the fleet whole."""
    problem, _ = _case(n_bins=2)
    relaxed = relax_for_pyvrp(problem)
    plan = Plan(routes=(RoutePlan("v1", ("b00", "T")), RoutePlan("v3", ("b01", "T"))))
    assert [v.id for v in _capped_fleet(relaxed, plan).vehicles] == ["v1", "v3"]
    short = Plan(routes=plan.routes[:1], unassigned=(Unassigned("b01", "no_feasible_insertion", "left out"),))
    assert len(_capped_fleet(relaxed, short).vehicles) == len(problem.vehicles)
