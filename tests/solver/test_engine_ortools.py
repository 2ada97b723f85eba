"""Real OR-Tools solves on small synthetic matrices, checked by the evaluator.

Most cases are bins on a grid (200 m apart, straight-line distances, 10 m/s) around
one depot. Searches stop after a solution limit (with a time limit as a backstop)
so they are quick and repeatable.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from solver.engines import OrToolsEngine, engine_names, get_engine
from solver.evaluate import evaluate
from solver.matrix import TravelMatrices
from solver.problem import Bin, Depot, Objective, Problem, ProblemError, SolveOptions, Vehicle
from solver.solution import Plan

SHIFT_START_S = 6 * 3600
SPEED_M_PER_S = 10.0


def _vehicle(vehicle_id: str, capacity_kg: float = 1000.0, *, depot: str = "D", shift_s: int = 8 * 3600,
             fixed_cost: float = 0.0) -> Vehicle:
    return Vehicle(vehicle_id, depot, capacity_kg=capacity_kg, shift_start_s=SHIFT_START_S,
                   shift_end_s=SHIFT_START_S + shift_s, fixed_cost=fixed_cost)


def _grid_case(side: int, vehicles: list[Vehicle], *, demand_kg: float = 50.0,
               service_s: float = 30.0, spacing_m: float = 200.0) -> tuple[Problem, TravelMatrices]:
    """A ``side`` x ``side`` grid of points; the depot D is the centre one, bins the others."""
    points = [(x * spacing_m, y * spacing_m) for x in range(side) for y in range(side)]
    centre = points.pop(len(points) // 2)
    xy = np.array([centre, *points])
    distance_m = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    bins = tuple(Bin(f"b{i:02d}", -0.7 + 0.001 * i, 52.6, demand_kg=demand_kg, service_s=service_s)
                 for i in range(len(points)))
    problem = Problem((Depot("D", -0.7, 52.6),), tuple(vehicles), bins)
    return problem, TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)


def _solve(problem: Problem, matrices: TravelMatrices, *, bin_ids: list[str] | None = None,
           seed: int = 0, objective: Objective = "duration", solution_limit: int = 300) -> Plan:
    engine = OrToolsEngine(solution_limit=solution_limit)
    ids = [b.id for b in problem.bins] if bin_ids is None else bin_ids
    return engine.solve(problem, matrices, bin_ids=ids,
                        options=SolveOptions(time_limit_s=5.0, seed=seed, objective=objective))


def _all_ids(problem: Problem) -> list[str]:
    return [b.id for b in problem.bins]


def test_every_bin_is_routed_once_or_unassigned() -> None:
    """Routed and unassigned bins together are exactly the bins asked for, each once."""
    problem, matrices = _grid_case(5, [_vehicle("v1", 400), _vehicle("v2", 400)], demand_kg=60.0)
    plan = _solve(problem, matrices)
    seen = Counter([s for r in plan.routes for s in r.stops] + [u.bin_id for u in plan.unassigned])
    assert seen == Counter(_all_ids(problem))
    assert len(plan.unassigned) >= 24 - 2 * 6  # 400 kg carries 6 bins of 60 kg


def test_capacity_is_respected() -> None:
    """20 bins of 100 kg, 500 kg trucks: every bin served, no route above 500 kg."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", 500) for i in range(6)], demand_kg=100.0)
    plan = _solve(problem, matrices, bin_ids=_all_ids(problem)[:20])
    evaluation = evaluate(problem, matrices, plan)
    assert plan.unassigned == ()
    assert evaluation.summary.violations == 0
    assert all(r.load_kg <= 500.0 for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 4


def test_shift_is_respected() -> None:
    """Five minutes per bin in one-hour shifts: the 24 bins need several vehicles, none late."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", shift_s=3600) for i in range(4)], service_s=300.0)
    plan = _solve(problem, matrices)
    evaluation = evaluate(problem, matrices, plan)
    assert plan.unassigned == ()
    assert evaluation.summary.violations == 0
    assert all(r.duration_s <= 3600.0 for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 3


def test_heterogeneous_capacities_are_used() -> None:
    """A 200 kg and a 1000 kg truck share 1200 kg of bins: both used, each within its capacity."""
    problem, matrices = _grid_case(5, [_vehicle("small", 200), _vehicle("big", 1000)], demand_kg=100.0)
    plan = _solve(problem, matrices, bin_ids=_all_ids(problem)[:12])
    evaluation = evaluate(problem, matrices, plan)
    loads = {r.vehicle_id: r.load_kg for r in evaluation.routes}
    assert plan.unassigned == ()
    assert evaluation.summary.violations == 0
    assert loads == {"small": 200.0, "big": 1000.0}


def test_bin_heavier_than_every_truck_is_unassigned_for_capacity() -> None:
    """A 5000 kg bin with 1000 and 2000 kg trucks is unassigned with reason capacity."""
    problem, matrices = _grid_case(3, [_vehicle("v1", 1000), _vehicle("v2", 2000)])
    heavy = problem.bins[3]
    bins = tuple(Bin(b.id, b.lon, b.lat, 5000.0, b.service_s) if b is heavy else b for b in problem.bins)
    problem = Problem(problem.depots, problem.vehicles, bins)
    plan = _solve(problem, matrices)
    assert [(u.bin_id, u.reason) for u in plan.unassigned] == [(heavy.id, "capacity")]
    assert sum(len(r.stops) for r in plan.routes) == len(bins) - 1


def test_arc_without_path_is_never_driven() -> None:
    """D-A-B-D would be 3 km against 15 km for D-B-A-D, but A -> B has no path: D-B-A-D it is."""
    distance_m = np.array([[0.0, 1000.0, 5000.0], [5000.0, 0.0, math.inf], [1000.0, 5000.0, 0.0]])
    matrices = TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)
    bins = (Bin("A", -0.70, 52.6, demand_kg=10.0), Bin("B", -0.69, 52.6, demand_kg=10.0))
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1"),), bins)
    plan = _solve(problem, matrices)
    assert [r.stops for r in plan.routes] == [("B", "A")]
    assert evaluate(problem, matrices, plan).summary.violations == 0


def test_randomly_cut_arcs_are_never_driven() -> None:
    """With 30% of arcs between bins cut at random, every leg driven has a path."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", 300) for i in range(8)], demand_kg=50.0)
    rng = np.random.default_rng(11)
    cut = rng.random(matrices.distance_m.shape) < 0.3
    cut[0, :] = cut[:, 0] = False
    np.fill_diagonal(cut, False)
    matrices.distance_m[cut] = math.inf
    matrices.duration_s[cut] = math.inf
    plan = _solve(problem, matrices)
    for route in plan.routes:
        path = ["D", *route.stops, "D"]
        rows = [problem.location_index(s) for s in path]
        assert all(math.isfinite(matrices.duration_s[i, j]) for i, j in itertools.pairwise(rows))
    evaluation = evaluate(problem, matrices, plan)
    assert evaluation.summary.violations == 0
    assert plan.unassigned == ()


def test_asymmetric_tour_is_optimal() -> None:
    """One vehicle, six bins, one-way costs: the engine's tour matches brute force."""
    rng = np.random.default_rng(4)
    duration_s = rng.uniform(60.0, 600.0, size=(7, 7))
    np.fill_diagonal(duration_s, 0.0)
    matrices = TravelMatrices(duration_s=duration_s, distance_m=duration_s * SPEED_M_PER_S)
    bins = tuple(Bin(f"b{k}", -0.7 + 0.01 * k, 52.6, demand_kg=10.0) for k in range(6))
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1"),), bins)

    def travel_s(order: tuple[int, ...]) -> float:
        rows = [0, *order, 0]
        return float(sum(duration_s[i, j] for i, j in itertools.pairwise(rows)))

    best = min(itertools.permutations(range(1, 7)), key=travel_s)
    plan = _solve(problem, matrices)
    found = tuple(problem.location_index(s) for s in plan.routes[0].stops)
    assert travel_s(found) == pytest.approx(travel_s(best), abs=1.0)
    assert travel_s(best) != travel_s(tuple(reversed(best)))


def test_same_seed_gives_the_same_plan() -> None:
    """Two runs with the same seed and solution limit return identical plans."""
    problem, matrices = _grid_case(6, [_vehicle(f"v{i}", 500) for i in range(4)], demand_kg=60.0)
    for seed in (0, 3):
        first = _solve(problem, matrices, seed=seed, solution_limit=50)
        second = _solve(problem, matrices, seed=seed, solution_limit=50)
        assert first == second


def test_objective_chooses_between_short_and_quick_tours() -> None:
    """D-A-B-D is 3 km but 1800 s, D-B-A-D is 6 km but 600 s: each objective picks its own."""
    distance_m = np.array([[0.0, 1000.0, 2000.0], [2000.0, 0.0, 1000.0], [1000.0, 2000.0, 0.0]])
    duration_s = np.array([[0.0, 600.0, 200.0], [200.0, 0.0, 600.0], [600.0, 200.0, 0.0]])
    matrices = TravelMatrices(duration_s=duration_s, distance_m=distance_m)
    bins = (Bin("A", -0.70, 52.6, demand_kg=10.0), Bin("B", -0.69, 52.6, demand_kg=10.0))
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1"),), bins)
    assert _solve(problem, matrices, objective="distance").routes[0].stops == ("A", "B")
    assert _solve(problem, matrices, objective="duration").routes[0].stops == ("B", "A")


def test_fixed_cost_steers_the_choice_of_vehicle() -> None:
    """Two identical trucks but the first costs 500 to send out: the free one does the round."""
    problem, matrices = _grid_case(3, [_vehicle("dear", fixed_cost=500.0), _vehicle("free")])
    plan = _solve(problem, matrices)
    assert [r.vehicle_id for r in plan.routes] == ["free"]


def test_vehicles_start_and_end_at_their_own_depot() -> None:
    """A bin with paths only to and from depot E is served by the vehicle based at E."""
    positions_m = np.array([0.0, 5000.0, 1000.0, 4000.0])  # D, E, bins near D and near E
    distance_m = np.abs(positions_m[:, None] - positions_m[None, :])
    for i, j in ((0, 3), (3, 0), (2, 3), (3, 2)):
        distance_m[i, j] = math.inf
    matrices = TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)
    depots = (Depot("D", -0.71, 52.6), Depot("E", -0.66, 52.6))
    bins = (Bin("nearD", -0.70, 52.6, demand_kg=10.0), Bin("nearE", -0.67, 52.6, demand_kg=10.0))
    vehicles = (_vehicle("atD"), _vehicle("atE", depot="E"))
    plan = _solve(Problem(depots, vehicles, bins), matrices)
    assert {r.vehicle_id: r.stops for r in plan.routes}["atE"] == ("nearE",)
    assert plan.unassigned == ()


def test_only_the_bins_asked_for_are_routed() -> None:
    """Bins outside ``bin_ids`` are neither routed nor reported unassigned."""
    problem, matrices = _grid_case(3, [_vehicle("v1")])
    plan = _solve(problem, matrices, bin_ids=["b01", "b05"])
    assert sorted(s for r in plan.routes for s in r.stops) == ["b01", "b05"]
    assert plan.unassigned == ()


def test_no_bins_gives_an_empty_plan() -> None:
    """With nothing to serve the plan has no routes and nothing unassigned."""
    problem, matrices = _grid_case(3, [_vehicle("v1")])
    assert _solve(problem, matrices, bin_ids=[]) == Plan(routes=(), unassigned=())


def test_unknown_bin_id_is_an_error() -> None:
    """Asking for a bin the problem does not have is a ProblemError naming it."""
    problem, matrices = _grid_case(3, [_vehicle("v1")])
    with pytest.raises(ProblemError) as caught:
        _solve(problem, matrices, bin_ids=["b01", "zz"])
    assert caught.value.item_id == "zz"


def test_registry_finds_ortools_and_names_the_option_for_unknown_engines() -> None:
    """``get_engine('ortools')`` is the OR-Tools engine; an unknown name names options.engine."""
    assert "ortools" in engine_names()
    assert get_engine("ortools").name == "ortools"
    with pytest.raises(ProblemError, match=r"options\.engine") as caught:
        get_engine("vroom")
    assert caught.value.field == "options.engine"


def test_fractional_demands_that_exactly_fill_a_truck_are_all_served() -> None:
    """Three 0.1 kg bins fill a 0.3 kg truck exactly (0.1 + 0.1 + 0.1 > 0.3 in floats): all served."""
    problem, matrices = _grid_case(3, [_vehicle("v1", 0.3)], demand_kg=0.1)
    plan = _solve(problem, matrices, bin_ids=["b00", "b01", "b02"])
    assert plan.unassigned == ()
    assert evaluate(problem, matrices, plan).summary.violations == 0


def test_bin_fitting_only_before_rounding_is_dropped_with_a_rounding_detail() -> None:
    """A 300.0 s round trip in a 300 s shift takes 301 whole seconds once rounded up: left out, said why."""
    duration_s = np.array([[0.0, 100.4], [100.4, 0.0]])
    matrices = TravelMatrices(duration_s=duration_s, distance_m=duration_s * SPEED_M_PER_S)
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1", shift_s=300),),
                      (Bin("A", -0.70, 52.6, demand_kg=10.0, service_s=99.2),))
    plan = _solve(problem, matrices)
    assert plan.routes == ()
    assert [(u.bin_id, u.reason) for u in plan.unassigned] == [("A", "no_feasible_insertion")]
    assert "rounded" in plan.unassigned[0].detail
