"""The evaluator on a small case worked out by hand.

One depot D and three bins A, B, C on a line 1 km apart; matrix rows/columns in
problem order D, A, B, C; 10 m/s everywhere. Driving D -> A -> B -> C -> D:

==========  ======  =======  =========  ===========  =======
stop        leg m   leg s    arrival s  departure s  load kg
==========  ======  =======  =========  ===========  =======
D           0       0        21600      21600        0
A (30 s)    1000    100      21700      21730        100
B (60 s)    1000    100      21830      21890        300
C (90 s)    1000    100      21990      22080        600
D           3000    300      22380      22380        600
==========  ======  =======  =========  ===========  =======

Distance 6000 m, duration 780 s; cost = 10 + 2 * 6 km + 36 * 780 / 3600 h = 29.8.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from solver.evaluate import evaluate
from solver.matrix import TravelMatrices
from solver.problem import Bin, Depot, Problem, ProblemError, Vehicle
from solver.solution import Plan, RoutePlan, Unassigned

SHIFT_START_S = 6 * 3600


def _matrices() -> TravelMatrices:
    distance_m = np.array([
        [0.0, 1000.0, 2000.0, 3000.0],
        [1000.0, 0.0, 1000.0, 2000.0],
        [2000.0, 1000.0, 0.0, 1000.0],
        [3000.0, 2000.0, 1000.0, 0.0],
    ])
    return TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m)


def _problem(*, capacity_kg: float = 1000.0, shift_end_s: int = 14 * 3600, n_vehicles: int = 1) -> Problem:
    vehicles = tuple(Vehicle(f"rcv-{i + 1}", "D", capacity_kg=capacity_kg, shift_start_s=SHIFT_START_S,
                             shift_end_s=shift_end_s, fixed_cost=10.0, cost_per_km=2.0, cost_per_hour=36.0)
                     for i in range(n_vehicles))
    bins = (Bin("A", -0.71, 52.6, demand_kg=100.0, service_s=30.0),
            Bin("B", -0.70, 52.6, demand_kg=200.0, service_s=60.0),
            Bin("C", -0.69, 52.6, demand_kg=300.0, service_s=90.0))
    return Problem((Depot("D", -0.72, 52.6),), vehicles, bins)


def _one_route(stops: tuple[str, ...]) -> Plan:
    return Plan(routes=(RoutePlan("rcv-1", stops),))


def test_route_distance_duration_and_cost_match_the_hand_computation() -> None:
    """Route totals: 6000 m, 780 s, 600 kg, 3 bins, no trips, cost 29.8."""
    route = evaluate(_problem(), _matrices(), _one_route(("A", "B", "C"))).routes[0]
    assert route.vehicle_id == "rcv-1"
    assert route.distance_m == 6000.0
    assert route.duration_s == 780.0
    assert route.load_kg == 600.0
    assert route.n_bins == 3
    assert route.trips == 0
    assert route.cost == pytest.approx(29.8, abs=1e-9)
    assert route.violations == ()


def test_visits_carry_arrivals_departures_loads_and_legs() -> None:
    """Each visit has the arrival, departure, load after the stop and leg of the hand table."""
    visits = evaluate(_problem(), _matrices(), _one_route(("A", "B", "C"))).routes[0].visits
    got = [(v.sequence, v.type, v.location_id, v.arrival_s, v.departure_s, v.load_kg,
            v.leg_distance_m, v.leg_duration_s) for v in visits]
    assert got == [
        (0, "depot", "D", 21600.0, 21600.0, 0.0, 0.0, 0.0),
        (1, "bin", "A", 21700.0, 21730.0, 100.0, 1000.0, 100.0),
        (2, "bin", "B", 21830.0, 21890.0, 300.0, 1000.0, 100.0),
        (3, "bin", "C", 21990.0, 22080.0, 600.0, 1000.0, 100.0),
        (4, "depot", "D", 22380.0, 22380.0, 600.0, 3000.0, 300.0),
    ]


def test_visits_record_matrix_rows() -> None:
    """``location_index`` of each visit is the problem's matrix row of that location."""
    visits = evaluate(_problem(), _matrices(), _one_route(("C", "A"))).routes[0].visits
    assert [v.location_index for v in visits] == [0, 3, 1, 0]


def test_overload_is_flagged_once_at_the_first_overloaded_stop() -> None:
    """With 250 kg of capacity the load first exceeds it at B (300 kg): one violation there."""
    route = evaluate(_problem(capacity_kg=250.0), _matrices(), _one_route(("A", "B", "C"))).routes[0]
    assert [(v.type, v.stop) for v in route.violations] == [("overload", "B")]
    assert "300 kg" in route.violations[0].detail and "250 kg" in route.violations[0].detail


def test_load_equal_to_capacity_is_not_an_overload() -> None:
    """A route collecting exactly its capacity (600 kg) is within capacity."""
    route = evaluate(_problem(capacity_kg=600.0), _matrices(), _one_route(("A", "B", "C"))).routes[0]
    assert route.violations == ()


def test_shift_overrun_is_flagged_at_the_depot() -> None:
    """Back at 22380 s with the shift ending at 22300 s: a shift_overrun of 80 s at the depot."""
    problem = _problem(shift_end_s=SHIFT_START_S + 700)
    route = evaluate(problem, _matrices(), _one_route(("A", "B", "C"))).routes[0]
    assert [(v.type, v.stop) for v in route.violations] == [("shift_overrun", "D")]
    assert "80 s" in route.violations[0].detail


def test_arriving_exactly_at_shift_end_is_not_an_overrun() -> None:
    """Back at 22380 s with the shift ending at 22380 s is on time."""
    problem = _problem(shift_end_s=SHIFT_START_S + 780)
    assert evaluate(problem, _matrices(), _one_route(("A", "B", "C"))).routes[0].violations == ()


def test_unknown_stop_is_flagged_and_skipped() -> None:
    """An id that is no bin is an unknown_stop; the route is figured as if it were absent."""
    with_unknown = evaluate(_problem(), _matrices(), _one_route(("A", "X", "B"))).routes[0]
    without = evaluate(_problem(), _matrices(), _one_route(("A", "B"))).routes[0]
    assert [(v.type, v.stop) for v in with_unknown.violations] == [("unknown_stop", "X")]
    assert with_unknown.distance_m == without.distance_m == 4000.0
    assert [v.location_id for v in with_unknown.visits] == ["D", "A", "B", "D"]


def test_depot_listed_as_a_stop_is_an_unknown_stop() -> None:
    """Depot start and end are implied: naming the depot among the stops is flagged."""
    route = evaluate(_problem(), _matrices(), _one_route(("A", "D"))).routes[0]
    assert [(v.type, v.stop) for v in route.violations] == [("unknown_stop", "D")]
    assert "depot" in route.violations[0].detail


def test_duplicate_stop_across_routes_is_flagged_and_counted_once() -> None:
    """B on two routes: flagged on the second; its kg and count go to the first route only."""
    plan = Plan(routes=(RoutePlan("rcv-1", ("A", "B")), RoutePlan("rcv-2", ("B", "C"))))
    evaluation = evaluate(_problem(n_vehicles=2), _matrices(), plan)
    first, second = evaluation.routes
    assert first.violations == ()
    assert [(v.type, v.stop) for v in second.violations] == [("duplicate_stop", "B")]
    assert (first.load_kg, first.n_bins) == (300.0, 2)
    assert (second.load_kg, second.n_bins) == (300.0, 1)
    assert evaluation.summary.bins_served == 3


def test_duplicate_stop_still_costs_the_drive_and_service() -> None:
    """Visiting A twice on one route drives there again and spends its 30 s again."""
    route = evaluate(_problem(), _matrices(), _one_route(("A", "B", "A"))).routes[0]
    assert [(v.type, v.stop) for v in route.violations] == [("duplicate_stop", "A")]
    # D-A 1000, A-B 1000, B-A 1000, A-D 1000 m; 400 s driving + 30 + 60 + 30 s service.
    assert route.distance_m == 4000.0
    assert route.duration_s == 520.0
    assert route.load_kg == 300.0


def test_leg_without_path_is_flagged_and_counts_zero() -> None:
    """An inf leg A -> B is a no_path violation at B; that leg adds 0 m and 0 s."""
    matrices = _matrices()
    matrices.distance_m[1, 2] = math.inf
    matrices.duration_s[1, 2] = math.inf
    route = evaluate(_problem(), matrices, _one_route(("A", "B", "C"))).routes[0]
    assert [(v.type, v.stop) for v in route.violations] == [("no_path", "B")]
    assert route.distance_m == 5000.0
    assert route.visits[2].leg_distance_m == 0.0
    assert math.isfinite(route.cost)


def test_empty_routes_are_not_reported() -> None:
    """A vehicle with no stops is not used: no route, not counted in vehicles_used."""
    plan = Plan(routes=(RoutePlan("rcv-1", ()), RoutePlan("rcv-2", ("A",))))
    evaluation = evaluate(_problem(n_vehicles=2), _matrices(), plan)
    assert [r.vehicle_id for r in evaluation.routes] == ["rcv-2"]
    assert evaluation.summary.vehicles_used == 1


def test_summary_is_the_sum_of_the_routes() -> None:
    """Summary distance, duration, cost, bins and violations add up the routes."""
    plan = Plan(routes=(RoutePlan("rcv-1", ("A",)), RoutePlan("rcv-2", ("C", "B"))),
                unassigned=(Unassigned("X", "capacity", "too heavy"),))
    evaluation = evaluate(_problem(capacity_kg=400.0, n_vehicles=2), _matrices(), plan)
    summary = evaluation.summary
    routes = evaluation.routes
    assert summary.distance_m == sum(r.distance_m for r in routes) == 2000.0 + 6000.0
    assert summary.duration_s == sum(r.duration_s for r in routes) == 230.0 + 750.0
    assert summary.cost == sum(r.cost for r in routes)
    assert summary.vehicles_used == 2
    assert summary.bins_served == 3
    assert summary.bins_unassigned == 1
    assert summary.violations == 1  # rcv-2 carries 500 kg > 400 kg
    assert evaluation.unassigned == plan.unassigned


def test_route_for_unknown_vehicle_is_an_error() -> None:
    """A plan naming a vehicle not in the fleet is malformed: ProblemError naming the field."""
    with pytest.raises(ProblemError) as caught:
        evaluate(_problem(), _matrices(), Plan(routes=(RoutePlan("ghost", ("A",)),)))
    assert caught.value.field == "routes[0].vehicle_id"
    assert caught.value.item_id == "ghost"


def test_vehicle_with_two_routes_is_an_error() -> None:
    """One vehicle, one route: a second route for it is a ProblemError."""
    plan = Plan(routes=(RoutePlan("rcv-1", ("A",)), RoutePlan("rcv-1", ("B",))))
    with pytest.raises(ProblemError, match="more than one route"):
        evaluate(_problem(), _matrices(), plan)


def test_matrices_of_the_wrong_shape_are_an_error() -> None:
    """Matrices must have one row per depot and bin."""
    small = TravelMatrices(duration_s=np.zeros((3, 3)), distance_m=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(4, 4\)"):
        evaluate(_problem(), small, _one_route(("A",)))
