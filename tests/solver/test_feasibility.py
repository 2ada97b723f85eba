"""Screening bins before a solve, and repairing or explaining the bins an engine dropped.

Cases sit on a straight road: positions in km from the first depot, travel at
10 m/s (so 1 km takes 100 s), 30 s of service per bin.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from solver.evaluate import evaluate
from solver.feasibility import explain_dropped, screen_bins
from solver.matrix import TravelMatrices
from solver.problem import Bin, Depot, Problem, ProblemError, Vehicle
from solver.solution import Plan, RoutePlan, Unassigned

SHIFT_START_S = 6 * 3600


def _case(bins_km: dict[str, tuple[float, float]], vehicles: list[Vehicle],
          depots_km: dict[str, float] | None = None) -> tuple[Problem, TravelMatrices]:
    """A problem on a line: ``bins_km`` maps id to (position km, demand kg)."""
    depots_km = depots_km or {"D": 0.0}
    depots = tuple(Depot(i, -0.7 + 0.01 * x, 52.6) for i, x in depots_km.items())
    bins = tuple(Bin(i, -0.7 + 0.01 * x, 52.6, demand_kg=kg, service_s=30.0) for i, (x, kg) in bins_km.items())
    positions = np.array([*depots_km.values(), *(x for x, _ in bins_km.values())]) * 1000.0
    distance_m = np.abs(positions[:, None] - positions[None, :])
    problem = Problem(depots, tuple(vehicles), bins)
    return problem, TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m)


def _vehicle(vehicle_id: str, capacity_kg: float = 1000.0, *, depot: str = "D",
             shift_s: int = 8 * 3600) -> Vehicle:
    return Vehicle(vehicle_id, depot, capacity_kg=capacity_kg, shift_start_s=SHIFT_START_S,
                   shift_end_s=SHIFT_START_S + shift_s)


def _cut(matrices: TravelMatrices, i: int, j: int) -> None:
    """Remove the path from row ``i`` to column ``j``."""
    matrices.duration_s[i, j] = math.inf
    matrices.distance_m[i, j] = math.inf


def test_screen_keeps_servable_bins_in_input_order() -> None:
    """Bins some vehicle can serve alone pass the screen, in the order given."""
    problem, matrices = _case({"A": (1, 10), "B": (2, 10), "C": (3, 10)}, [_vehicle("v1")])
    kept, ruled_out = screen_bins(problem, matrices, ["C", "A", "B"])
    assert kept == ("C", "A", "B")
    assert ruled_out == ()


def test_screen_rules_out_a_bin_heavier_than_every_vehicle() -> None:
    """A 5000 kg bin against 1000 and 2000 kg vehicles: capacity, naming the numbers."""
    problem, matrices = _case({"A": (1, 10), "H": (2, 5000)}, [_vehicle("v1", 1000), _vehicle("v2", 2000)])
    kept, ruled_out = screen_bins(problem, matrices, ["A", "H"])
    assert kept == ("A",)
    assert [(u.bin_id, u.reason) for u in ruled_out] == [("H", "capacity")]
    assert "5000 kg" in ruled_out[0].detail and "2000 kg" in ruled_out[0].detail


def test_screen_rules_out_a_bin_with_no_way_back_to_any_depot() -> None:
    """A bin reachable from the depot but with no path back is unreachable."""
    problem, matrices = _case({"A": (1, 10), "U": (2, 10)}, [_vehicle("v1")])
    _cut(matrices, problem.location_index("U"), problem.location_index("D"))
    kept, ruled_out = screen_bins(problem, matrices, ["A", "U"])
    assert kept == ("A",)
    assert [(u.bin_id, u.reason) for u in ruled_out] == [("U", "unreachable")]


def test_screen_rules_out_a_bin_too_far_for_every_shift() -> None:
    """A bin 20 km out needs 2000 + 30 + 2000 s against 1 h shifts: shift_too_short."""
    problem, matrices = _case({"F": (20, 10)}, [_vehicle("v1", shift_s=3600), _vehicle("v2", shift_s=3000)])
    kept, ruled_out = screen_bins(problem, matrices, ["F"])
    assert kept == ()
    assert [(u.bin_id, u.reason) for u in ruled_out] == [("F", "shift_too_short")]
    assert "4030 s" in ruled_out[0].detail and "3600 s" in ruled_out[0].detail


def test_screen_explains_bins_each_vehicle_fails_for_its_own_reason() -> None:
    """Small truck can reach it but not carry it; big truck's depot has no path: per-vehicle detail."""
    problem, matrices = _case({"H": (2, 1500)}, [_vehicle("small", 1000), _vehicle("big", 2000, depot="E")],
                              depots_km={"D": 0.0, "E": 5.0})
    _cut(matrices, problem.location_index("E"), problem.location_index("H"))
    kept, ruled_out = screen_bins(problem, matrices, ["H"])
    assert kept == ()
    assert [(u.bin_id, u.reason) for u in ruled_out] == [("H", "no_compatible_vehicle")]
    assert "'small' carries 1000 kg" in ruled_out[0].detail
    assert "'big' has no path" in ruled_out[0].detail


def test_screen_rejects_unknown_bin_ids() -> None:
    """An id that is not a bin of the problem is a ProblemError naming its position."""
    problem, matrices = _case({"A": (1, 10)}, [_vehicle("v1")])
    with pytest.raises(ProblemError) as caught:
        screen_bins(problem, matrices, ["A", "nope"])
    assert caught.value.field == "bin_ids[1]"


def test_dropped_bin_that_fits_is_inserted_at_the_cheapest_position() -> None:
    """B lies between A and C: the repair puts it there and removes its unassigned entry."""
    problem, matrices = _case({"A": (1, 10), "B": (2, 10), "C": (3, 10)}, [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A", "C")),),
                unassigned=(Unassigned("B", "no_feasible_insertion", "dropped"),))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert repaired.routes == (RoutePlan("v1", ("A", "B", "C")),)
    assert repaired.unassigned == ()


def test_dropped_bin_can_open_an_unused_vehicle() -> None:
    """When the used vehicle is full, an unused one takes the bin on a route of its own."""
    problem, matrices = _case({"A": (1, 900), "B": (2, 200)}, [_vehicle("v1"), _vehicle("v2")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert repaired.routes == (RoutePlan("v1", ("A",)), RoutePlan("v2", ("B",)))
    assert evaluate(problem, matrices, repaired).summary.violations == 0


def test_dropped_bin_that_overloads_every_route_gets_reason_capacity() -> None:
    """900 kg on board of a 1000 kg truck, no other truck: a 200 kg bin is dropped for capacity."""
    problem, matrices = _case({"A": (1, 900), "B": (2, 200)}, [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.routes == plan.routes
    assert [(u.bin_id, u.reason) for u in explained.unassigned] == [("B", "capacity")]
    assert "200 kg" in explained.unassigned[0].detail and "100 kg" in explained.unassigned[0].detail


def test_dropped_bin_that_overruns_every_shift_gets_reason_shift_too_short() -> None:
    """A route using 430 s of a 450 s shift cannot take a 30 s detour: shift_too_short with the overrun."""
    # D -> A (2 km, 200 s) + 30 s + A -> D 200 s = 430 s; shift 450 s; B at 1 km adds 30 s service.
    problem, matrices = _case({"A": (2, 10), "B": (1, 10)}, [_vehicle("v1", shift_s=450)])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert [(u.bin_id, u.reason) for u in explained.unassigned] == [("B", "shift_too_short")]
    assert "least overrun 10 s" in explained.unassigned[0].detail


def test_dropped_bin_without_usable_legs_gets_reason_unreachable() -> None:
    """Every insertion of U into the only route needs a leg with no path: unreachable."""
    problem, matrices = _case({"A": (1, 10), "U": (2, 10)}, [_vehicle("v1")])
    a, u = problem.location_index("A"), problem.location_index("U")
    _cut(matrices, a, u)
    _cut(matrices, u, a)
    explained = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["U"])
    assert [(x.bin_id, x.reason) for x in explained.unassigned] == [("U", "unreachable")]


def test_dropped_bin_failing_for_mixed_reasons_gets_no_feasible_insertion() -> None:
    """One truck is full, the unused one's shift is too short: no_feasible_insertion with counts."""
    problem, matrices = _case({"A": (1, 950), "B": (3, 100)},
                              [_vehicle("v1"), _vehicle("v2", shift_s=300)])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert [(u.bin_id, u.reason) for u in explained.unassigned] == [("B", "no_feasible_insertion")]
    detail = explained.unassigned[0].detail
    assert "2 overload" in detail and "1 overrun" in detail


def test_dropped_bins_are_handled_in_order_against_the_repaired_routes() -> None:
    """Room for one 300 kg bin: the first dropped bin is inserted, the second is over capacity."""
    problem, matrices = _case({"A": (1, 600), "B": (2, 300), "C": (3, 300)}, [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["C", "B"])
    assert [(r.vehicle_id, sorted(r.stops)) for r in explained.routes] == [("v1", ["A", "C"])]
    assert [(u.bin_id, u.reason) for u in explained.unassigned] == [("B", "capacity")]


def test_unassigned_bins_not_dropped_are_kept_as_they_are() -> None:
    """Entries of bins outside ``dropped_ids`` (e.g. screened out) are kept unchanged, first."""
    problem, matrices = _case({"A": (1, 10), "B": (2, 10), "H": (3, 5000)}, [_vehicle("v1")])
    screened = Unassigned("H", "capacity", "heavier than every vehicle")
    plan = Plan(routes=(RoutePlan("v1", ("A",)),),
                unassigned=(screened, Unassigned("B", "no_feasible_insertion", "dropped")))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.unassigned == (screened,)
    assert [(r.vehicle_id, sorted(r.stops)) for r in explained.routes] == [("v1", ["A", "B"])]


def test_routes_that_already_break_a_constraint_are_left_alone() -> None:
    """An overloaded route receives no repair; with no other vehicle the bin is explained."""
    problem, matrices = _case({"A": (1, 1200), "B": (2, 10)}, [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.routes == plan.routes
    assert [(u.bin_id, u.reason) for u in explained.unassigned] == [("B", "no_feasible_insertion")]
    assert "'v1'" in explained.unassigned[0].detail


def test_dropped_bin_already_on_a_route_is_an_error() -> None:
    """A bin cannot be both routed and dropped: ProblemError naming it."""
    problem, matrices = _case({"A": (1, 10)}, [_vehicle("v1")])
    with pytest.raises(ProblemError) as caught:
        explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["A"])
    assert caught.value.item_id == "A"
