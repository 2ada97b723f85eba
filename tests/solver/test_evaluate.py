"""The evaluator on small cases worked out by hand, one rule of ``docs/rules.md`` per test.

First case: one depot D and three bins A, B, C on a line 1 km apart; matrix rows/columns in
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

Waste cases (further down) sit on the same kind of straight road: positions in km
from the depot D (0 km): bins A 1, B 2, C 3, the tip T 5; travel at 10 m/s, so 1 km
takes 100 s; 30 s of service per bin, 600 s to unload; shifts start at 06:00
(21600 s).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from solver.evaluate import evaluate, plan_cost
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import (
    Bin,
    Break,
    Depot,
    DisposalSite,
    InitialRoute,
    Problem,
    ProblemError,
    SolveOptions,
    Vehicle,
)
from solver.solution import Plan, RouteEvaluation, RoutePlan, Unassigned

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


# --------------------------------------------------------------------------- waste cases on a line

PLACES_KM = {"D": 0.0, "T": 5.0, "A": 1.0, "B": 2.0, "C": 3.0, "R": 2.0}


def _vehicle(vehicle_id: str = "rcv-1", **changes: object) -> Vehicle:
    """A vehicle at D: 1000 kg, 06:00-14:00, costs 1 per km and 36 per hour, then ``changes``."""
    fields: dict[str, object] = {"capacity_kg": 1000.0, "shift_start_s": SHIFT_START_S, "shift_end_s": 14 * 3600,
                                 "cost_per_km": 1.0, "cost_per_hour": 36.0}
    fields.update(changes)
    return Vehicle(vehicle_id, "D", **fields)


def _bin(bin_id: str, demand_kg: float = 100.0, **changes: object) -> Bin:
    """A bin with 30 s of service."""
    return Bin(bin_id, -0.7, 52.6, demand_kg=demand_kg, service_s=30.0, **changes)


def _tip(**changes: object) -> DisposalSite:
    """The tip T: 600 s to unload, always open, every stream, then ``changes``."""
    return DisposalSite("T", -0.65, 52.6, unload_s=600.0, **changes)


def _line(problem: Problem, factor: float = 1.0) -> TravelMatrices:
    """Matrices of the problem's places on the line (``factor`` stretches every leg)."""
    x = np.array([PLACES_KM[i] for i in problem.location_ids()]) * 1000.0
    distance_m = np.abs(x[:, None] - x[None, :]) * factor
    return TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m)


def _waste(vehicles: tuple[Vehicle, ...] = (), bins: tuple[Bin, ...] = (), *,
           sites: tuple[DisposalSite, ...] = ()) -> Problem:
    """A problem with depot D, the given vehicles (default one), bins (default A 100, B 200, C 100 kg) and sites."""
    return Problem((Depot("D", -0.7, 52.6),), vehicles or (_vehicle(),),
                   bins or (_bin("A", 100.0), _bin("B", 200.0), _bin("C", 100.0)), sites)


def _route(problem: Problem, stops: tuple[str, ...], vehicle_id: str = "rcv-1") -> RouteEvaluation:
    """The evaluation of one route on the line."""
    return evaluate(problem, _line(problem), Plan(routes=(RoutePlan(vehicle_id, stops),))).routes[0]


def _kinds(route: RouteEvaluation) -> list[tuple[str, str]]:
    """(type, stop) of each violation of a route."""
    return [(v.type, v.stop) for v in route.violations]


def test_a_tip_empties_the_vehicle_so_loads_between_tips_are_checked_apart() -> None:
    """A 250 kg vehicle collects 400 kg in three loads: A, T, B, T, C, T is within capacity.

    D 21600; A arr 21700 dep 21730 (100 kg); T arr 22130 dep 22730 (0); B arr 23030 dep 23060 (200);
    T arr 23360 dep 23960 (0); C arr 24160 dep 24190 (100); T arr 24390 dep 24990 (0); D 25490.
    """
    problem = _waste((_vehicle(capacity_kg=250.0),), sites=(_tip(),))
    route = _route(problem, ("A", "T", "B", "T", "C", "T"))
    assert route.violations == ()
    assert [v.load_kg for v in route.visits] == [0.0, 100.0, 0.0, 200.0, 0.0, 100.0, 0.0, 0.0]
    assert [v.arrival_s for v in route.visits] == [21600.0, 21700.0, 22130.0, 23030.0, 23360.0, 24160.0,
                                                   24390.0, 25490.0]
    assert (route.trips, route.load_kg, route.lifts, route.distance_m) == (3, 400.0, 3, 20000.0)


def test_overload_between_two_tips_is_flagged_once_at_the_first_stop_over() -> None:
    """A, B before the first tip carry 300 kg on a 250 kg vehicle: one overload, at B."""
    problem = _waste((_vehicle(capacity_kg=250.0),), sites=(_tip(),))
    route = _route(problem, ("A", "B", "T", "C", "T"))
    assert _kinds(route) == [("overload", "B")]
    assert "300 kg" in route.violations[0].detail and "250 kg" in route.violations[0].detail


def test_overload_in_litres_is_flagged_when_kg_fit() -> None:
    """Three 240 l bins in a 500 l body overflow at C (720 l), though 300 kg fit in 1000 kg."""
    problem = _waste((_vehicle(capacity_l=500.0),), (_bin("A", volume_l=240.0), _bin("B", volume_l=240.0),
                                                      _bin("C", volume_l=240.0)), sites=(_tip(),))
    route = _route(problem, ("A", "B", "C", "T"))
    assert _kinds(route) == [("overload", "C")]
    assert "720 l" in route.violations[0].detail and "500 l" in route.violations[0].detail


def test_visits_and_route_carry_litres() -> None:
    """Litres on board after each stop, dropping to 0 at the tip; the route's total collected."""
    problem = _waste((_vehicle(),), (_bin("A", volume_l=240.0), _bin("B", volume_l=120.0), _bin("C")),
                     sites=(_tip(),))
    route = _route(problem, ("A", "T", "B", "T"))
    assert [v.load_l for v in route.visits] == [0.0, 240.0, 0.0, 120.0, 0.0, 0.0]
    assert route.load_l == 360.0


def test_crew_waits_for_a_window_to_open() -> None:
    """A opens at 07:00: arrival 21700, collection starts 25200, departs 25230, back at 25330."""
    problem = _waste(bins=(_bin("A", time_windows=((25200, 28800),)),))
    route = _route(problem, ("A",))
    a = route.visits[1]
    assert (a.arrival_s, a.start_s, a.departure_s) == (21700.0, 25200.0, 25230.0)
    assert route.duration_s == 3730.0
    assert route.violations == ()


def test_second_window_is_used_when_the_first_has_closed() -> None:
    """First window 06:00-06:01 closed at arrival (06:01:40): collection waits for 07:00, not late."""
    problem = _waste(bins=(_bin("A", time_windows=((21600, 21660), (25200, 28800))),))
    route = _route(problem, ("A",))
    assert route.visits[1].start_s == 25200.0
    assert route.violations == ()


def test_collection_after_every_window_closed_is_late() -> None:
    """Only window 06:00-06:01; arrival 06:01:40: collected on arrival and flagged late."""
    problem = _waste(bins=(_bin("A", time_windows=((21600, 21660),)),))
    route = _route(problem, ("A",))
    assert _kinds(route) == [("late", "A")]
    assert route.visits[1].start_s == 21700.0
    assert "06:00-06:01" in route.violations[0].detail


def test_arriving_as_a_window_closes_is_on_time() -> None:
    """Window closing at the arrival, 21700 s, is still open."""
    problem = _waste(bins=(_bin("A", time_windows=((21600, 21700),)),))
    assert _route(problem, ("A",)).violations == ()


def test_unloading_waits_for_the_site_to_open() -> None:
    """T opens at 07:00; arrival 22130: unloading starts 25200 and ends 25800."""
    problem = _waste(sites=(_tip(opening=(25200, 64800)),))
    t = _route(problem, ("A", "T")).visits[2]
    assert (t.arrival_s, t.start_s, t.departure_s) == (22130.0, 25200.0, 25800.0)


def test_unloading_after_the_site_closed_is_closed_site() -> None:
    """T closes at 06:05 (21900 s); the vehicle arrives 22130: closed_site at T."""
    problem = _waste(sites=(_tip(opening=(21600, 21900)),))
    route = _route(problem, ("A", "T"))
    assert _kinds(route) == [("closed_site", "T")]


def test_break_is_taken_where_the_vehicle_is_and_waits_for_its_window() -> None:
    """A break after A (window opens 06:05): at A's place, from 21900 to 23700; B reached at 23800."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21900, 25200)),)),))
    route = _route(problem, ("A", "break", "B"))
    brk = route.visits[2]
    assert (brk.type, brk.location_id, brk.location_index) == ("break", "break", problem.location_index("A"))
    assert (brk.arrival_s, brk.start_s, brk.departure_s, brk.leg_distance_m) == (21730.0, 21900.0, 23700.0, 0.0)
    assert route.visits[3].arrival_s == 23800.0
    assert route.violations == ()


def test_break_first_is_taken_at_the_depot() -> None:
    """A break before any stop happens at the depot's place."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21900, 25200)),)),))
    brk = _route(problem, ("break", "A")).visits[1]
    assert (brk.location_index, brk.start_s) == (problem.location_index("D"), 21900.0)


def test_break_starting_after_its_window_is_late_break() -> None:
    """Window 06:00-06:00:50 for a break after A (departure 21730): late_break."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21600, 21650)),)),))
    route = _route(problem, ("A", "break"))
    assert _kinds(route) == [("late_break", "break")]


def test_route_out_when_the_break_window_opens_without_a_break_is_missing_break() -> None:
    """Back at 22060 s, after the window opened at 21700 s, with no break: missing_break at the depot."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21700, 25200)),)),))
    route = _route(problem, ("A", "B"))
    assert _kinds(route) == [("missing_break", "D")]


def test_route_back_before_the_break_window_opens_needs_no_break() -> None:
    """Back at 22060 s, the window opening at 23000 s: no break is due."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (23000, 25200)),)),))
    assert _route(problem, ("A", "B")).violations == ()


def _fitted(problem: Problem, stops: tuple[str, ...]) -> RouteEvaluation:
    """The evaluation of one route whose plan records no breaks (today's rounds from an in-cab system)."""
    plan = Plan(routes=(RoutePlan("rcv-1", stops, breaks_where_they_fit=True),))
    return evaluate(problem, _line(problem), plan).routes[0]


def test_unrecorded_break_is_taken_after_the_first_stop_left_once_its_window_opened() -> None:
    """Window opening at 21700 s, A left at 21730 s: the break is taken at A's place from 21730 s, and
    the route breaks no rule (where ``missing_break`` would be reported for a plan that records breaks)."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21700, 25200)),)),))
    route = _fitted(problem, ("A", "B"))
    assert [v.type for v in route.visits] == ["depot", "bin", "break", "bin", "depot"]
    brk = route.visits[2]
    assert (brk.location_index, brk.start_s, brk.departure_s) == (problem.location_index("A"), 21730.0, 23530.0)
    assert route.violations == ()


def test_unrecorded_break_due_on_the_way_back_is_taken_at_the_last_stop() -> None:
    """Window opening at 21900 s, before the drive back ends (22060 s without a break): the break is taken
    at B's place, waiting for the window, before driving back; no rule broken."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (21900, 25200)),)),))
    route = _fitted(problem, ("A", "B"))
    assert [v.type for v in route.visits] == ["depot", "bin", "bin", "break", "depot"]
    b, brk = route.visits[2], route.visits[3]
    assert brk.location_index == problem.location_index("B") and brk.start_s == max(21900.0, b.departure_s)
    assert route.violations == ()


def test_unrecorded_break_not_due_before_the_round_ends_is_not_taken() -> None:
    """Window opening at 23000 s, back at 22060 s: no break is taken and none is missing."""
    problem = _waste((_vehicle(breaks=(Break(1800.0, (23000, 25200)),)),))
    route = _fitted(problem, ("A", "B"))
    assert [v.type for v in route.visits] == ["depot", "bin", "bin", "depot"] and route.violations == ()


def test_break_on_a_vehicle_without_one_is_an_unknown_stop() -> None:
    """``"break"`` for a vehicle that has no break is flagged and skipped."""
    route = _route(_waste(), ("A", "break"))
    assert _kinds(route) == [("unknown_stop", "break")]
    assert [v.type for v in route.visits] == ["depot", "bin", "depot"]


def test_returning_loaded_when_the_problem_has_sites_is_not_tipped() -> None:
    """With a tip in the problem, coming back with 300 kg on board is not_tipped."""
    route = _route(_waste(sites=(_tip(),)), ("A", "B"))
    assert _kinds(route) == [("not_tipped", "D")]


def test_returning_loaded_is_allowed_when_the_vehicle_need_not_tip() -> None:
    """``tip_before_return=False``: no violation for a loaded return."""
    problem = _waste((_vehicle(tip_before_return=False),), sites=(_tip(),))
    assert _route(problem, ("A", "B")).violations == ()


def test_returning_loaded_without_sites_in_the_problem_is_fine() -> None:
    """No disposal sites at all: nothing to tip at, no not_tipped."""
    assert _route(_waste(), ("A", "B")).violations == ()


def test_bin_of_a_stream_the_vehicle_does_not_carry_is_incompatible() -> None:
    """A recycling bin on a refuse-only vehicle: incompatible_stream at the bin."""
    problem = _waste(bins=(_bin("A"), _bin("R", stream="recycling")))
    route = _route(problem, ("A", "R"))
    assert _kinds(route) == [("incompatible_stream", "R")]
    assert "'recycling'" in route.violations[0].detail


def test_tip_refusing_a_stream_on_board_is_incompatible() -> None:
    """Recycling on board unloaded at a refuse-only tip: incompatible_stream at the tip."""
    problem = _waste((_vehicle(streams=("refuse", "recycling")),), (_bin("A"), _bin("R", stream="recycling")),
                     sites=(_tip(streams=("refuse",)),))
    route = _route(problem, ("A", "R", "T"))
    assert _kinds(route) == [("incompatible_stream", "T")]
    assert "'recycling'" in route.violations[0].detail


def test_vehicle_heavier_than_the_bin_allows_is_too_big() -> None:
    """A 26 t vehicle at a bin allowing 7.5 t: vehicle_too_big."""
    problem = _waste((_vehicle(gross_weight_kg=26000.0),), (_bin("A", max_vehicle_weight_kg=7500.0),))
    route = _route(problem, ("A",))
    assert _kinds(route) == [("vehicle_too_big", "A")]
    assert "26000 kg" in route.violations[0].detail


def test_vehicle_wider_than_the_bin_allows_is_too_big() -> None:
    """A 2.55 m wide vehicle at a bin allowing 2.3 m: vehicle_too_big."""
    problem = _waste((_vehicle(width_m=2.55),), (_bin("A", max_vehicle_width_m=2.3),))
    assert _kinds(_route(problem, ("A",))) == [("vehicle_too_big", "A")]


def test_vehicle_of_unknown_size_is_never_too_big() -> None:
    """No gross weight given: a weight limit cannot be broken."""
    problem = _waste((_vehicle(),), (_bin("A", max_vehicle_weight_kg=7500.0),))
    assert _route(problem, ("A",)).violations == ()


def test_bin_pinned_to_another_vehicle_is_wrong_vehicle() -> None:
    """A pinned to rcv-2 but collected by rcv-1: wrong_vehicle naming rcv-2."""
    problem = _waste((_vehicle("rcv-1"), _vehicle("rcv-2")), (_bin("A", vehicle_id="rcv-2"),))
    route = _route(problem, ("A",))
    assert _kinds(route) == [("wrong_vehicle", "A")]
    assert "'rcv-2'" in route.violations[0].detail


def test_more_bins_than_max_lifts_is_too_many_lifts() -> None:
    """Two lifts allowed, three bins: too_many_lifts once, at the third."""
    route = _route(_waste((_vehicle(max_lifts=2),)), ("A", "B", "C"))
    assert _kinds(route) == [("too_many_lifts", "C")]


def test_more_kg_in_a_day_than_allowed_is_daily_limit_even_with_tips() -> None:
    """250 kg per load fits A then B across a tip, but 300 kg in the day exceeds the 250 kg limit."""
    problem = _waste((_vehicle(capacity_kg=250.0, max_collected_kg=250.0),), sites=(_tip(),))
    route = _route(problem, ("A", "T", "B", "T"))
    assert _kinds(route) == [("daily_limit", "B")]


def test_each_vehicle_drives_by_its_own_matrices() -> None:
    """A heavy vehicle detours (every leg 1.5 times longer): its route to A is 3000 m, the small one's to B 4000 m."""
    problem = _waste((_vehicle("heavy"), _vehicle("small")))
    fleet = FleetMatrices(profiles={"hgv": _line(problem, 1.5), "small": _line(problem)},
                          vehicle_profile={"heavy": "hgv", "small": "small"})
    plan = Plan(routes=(RoutePlan("heavy", ("A",)), RoutePlan("small", ("B",))))
    heavy, small = evaluate(problem, fleet, plan).routes
    assert (heavy.distance_m, heavy.duration_s) == (3000.0, 330.0)
    assert (small.distance_m, small.duration_s) == (4000.0, 430.0)


def test_a_leg_missing_from_a_vehicles_own_matrices_is_no_path() -> None:
    """B cut off in the heavy vehicle's matrices only: no_path for it, none for the small one."""
    problem = _waste((_vehicle("heavy"), _vehicle("small")))
    heavy = _line(problem)
    b = problem.location_index("B")
    heavy.duration_s[:, b] = heavy.distance_m[:, b] = math.inf
    heavy.duration_s[b, b] = heavy.distance_m[b, b] = 0.0
    fleet = FleetMatrices(profiles={"hgv": heavy, "small": _line(problem)},
                          vehicle_profile={"heavy": "hgv", "small": "small"})
    on_heavy = evaluate(problem, fleet, Plan(routes=(RoutePlan("heavy", ("B",)),))).routes[0]
    on_small = evaluate(problem, fleet, Plan(routes=(RoutePlan("small", ("B",)),))).routes[0]
    assert _kinds(on_heavy) == [("no_path", "B")]
    assert on_small.violations == ()


def test_route_cost_is_fixed_plus_per_km_plus_per_hour() -> None:
    """D-A-B-C-T-D: 10 km; 1000 s driving + 90 s service + 600 s unloading = 1690 s;
    cost 10 + 1 per km x 10 km + 36 per hour x 1690 s / 3600 = 36.9."""
    problem = _waste((_vehicle(fixed_cost=10.0),), sites=(_tip(),))
    route = _route(problem, ("A", "B", "C", "T"))
    assert (route.distance_m, route.duration_s) == (10000.0, 1690.0)
    assert route.cost == pytest.approx(36.9)


def test_bins_on_no_route_and_not_listed_are_not_in_plan() -> None:
    """A plan that forgets C: C is unassigned with reason not_in_plan."""
    evaluation = evaluate(_waste(), _line(_waste()), Plan(routes=(RoutePlan("rcv-1", ("A", "B")),)))
    assert [(u.bin_id, u.reason) for u in evaluation.unassigned] == [("C", "not_in_plan")]
    assert evaluation.summary.bins_unassigned == 1


def test_objective_adds_the_penalty_of_optional_bins_left_out() -> None:
    """C optional (penalty 50) and B required, both left out: only C's 50 is added."""
    problem = _waste(bins=(_bin("A"), _bin("B"), _bin("C", required=False, penalty=50.0)))
    plan = Plan(routes=(RoutePlan("rcv-1", ("A",)),))
    summary = evaluate(problem, _line(problem), plan).summary
    assert summary.penalty_cost == 50.0
    assert plan_cost(problem, _line(problem), plan) == pytest.approx(summary.cost + 50.0)


def test_objective_adds_the_move_penalty_per_bin_moved_to_another_vehicle() -> None:
    """B was on rcv-1 and is now on rcv-2: one move, 7 added."""
    problem = _waste((_vehicle("rcv-1"), _vehicle("rcv-2")))
    options = SolveOptions(initial_routes=(InitialRoute("rcv-1", ("A", "B")), InitialRoute("rcv-2", ("C",))),
                           move_penalty=7.0)
    plan = Plan(routes=(RoutePlan("rcv-1", ("A",)), RoutePlan("rcv-2", ("B", "C"))))
    summary = evaluate(problem, _line(problem), plan, options=options).summary
    assert (summary.bins_moved, summary.move_cost) == (1, 7.0)
    assert plan_cost(problem, _line(problem), plan, options=options) == pytest.approx(summary.cost + 7.0)


def test_a_bin_left_out_is_not_a_move() -> None:
    """B was on rcv-1 and is on no route now: no move is counted."""
    problem = _waste((_vehicle("rcv-1"),))
    options = SolveOptions(initial_routes=(InitialRoute("rcv-1", ("A", "B")),), move_penalty=7.0)
    plan = Plan(routes=(RoutePlan("rcv-1", ("A", "C")),))
    assert evaluate(problem, _line(problem), plan, options=options).summary.bins_moved == 0


def test_summary_counts_tips_and_violations_of_every_route() -> None:
    """Two routes with one tip each; one of them overloaded: trips 2, violations 1."""
    problem = _waste((_vehicle("rcv-1", capacity_kg=250.0), _vehicle("rcv-2")), sites=(_tip(),))
    plan = Plan(routes=(RoutePlan("rcv-1", ("A", "B", "T")), RoutePlan("rcv-2", ("C", "T"))))
    summary = evaluate(problem, _line(problem), plan).summary
    assert (summary.trips, summary.violations) == (2, 1)
