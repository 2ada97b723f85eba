"""Tests of solver.directed_search: the local search that chooses each stop's direction inside every move.

The fixture is a hand-made grid of two-way residential streets (two long streets east-west joined by
four cross streets, blocks of about 330 m by 220 m, on the equator: 0.001 degree ~ 111 m). Its
corners are no junctions, so the simplified graph has four junctions and six stretches of street:
the west loop (South Street, West Lane, North Street west of Second Lane), the east loop, and the
four between. A lorry may not turn round in a street, so a stop is driven past one way or the other,
and which way decides how far round the block the lorry goes next. Each bin stands alone on its
stretch, so that it is a stop of its own (:func:`~solver.aggregate.aggregate_bins`).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from solver.aggregate import GroupLimits, aggregate_bins
from solver.decompose import Part, subproblem
from solver.directed_search import DirectedSearch, directed_search
from solver.evaluate import evaluate_route
from solver.matrix import FleetMatrices, TravelMatrices, build_legs
from solver.network import RoadNetwork, build_network
from solver.orientation import choose_rows, orient_route
from solver.pipeline.large import _search_across_parts, driven_ways, stop_directions, stop_matrices
from solver.pipeline.stages import _snap, approach
from solver.problem import Bin, Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.snapping import snap_points
from solver.solution import Plan, RoutePlan, Unassigned
from tests.conftest import write_osm_xml

#: lat, lon: two streets east-west (lat 0 and 0.002), joined at lon 9.000, 9.003, 9.006, 9.009
NODES = {1: (0.0, 9.0), 2: (0.0, 9.003), 3: (0.0, 9.006), 4: (0.0, 9.009),
         5: (0.002, 9.0), 6: (0.002, 9.003), 7: (0.002, 9.006), 8: (0.002, 9.009)}
WAYS = [
    (101, [1, 2, 3, 4], {"highway": "residential", "name": "South Street"}),
    (102, [5, 6, 7, 8], {"highway": "residential", "name": "North Street"}),
    (103, [1, 5], {"highway": "residential", "name": "West Lane"}),
    (104, [2, 6], {"highway": "residential", "name": "Second Lane"}),
    (105, [3, 7], {"highway": "residential", "name": "Third Lane"}),
    (106, [4, 8], {"highway": "residential", "name": "East Lane"}),
]
DEPOT = (9.0, 0.001)  # lon, lat: on West Lane
#: one bin on each stretch of street (lon, lat): s1 on the west loop, s3 on the east loop
SPOTS = {"s1": (9.0015, 0.00003), "s2": (9.0045, 0.00003), "s3": (9.0075, 0.00003),
         "n2": (9.0045, 0.00197), "c2": (9.00303, 0.001), "c3": (9.00603, 0.001)}


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    """The grid of two-way streets, simplified as the service loads it."""
    path = tmp_path_factory.mktemp("grid") / "grid.osm"
    return build_network(write_osm_xml(path, NODES, WAYS), simplify=True)


def _stops(network: RoadNetwork, names: list[str], vehicles: tuple[Vehicle, ...]) -> tuple[Problem, FleetMatrices]:
    """The stop problem of bins at ``names`` and its matrices with both directions of each stop."""
    bins = tuple(Bin(name, *SPOTS[name], demand_kg=100.0, service_s=20.0) for name in names)
    problem = Problem(depots=(Depot("depot", *DEPOT),), vehicles=vehicles, bins=bins)
    snapped = _snap(problem, network, 200.0)
    aggregation = aggregate_bins(problem, network, snapped, limits=GroupLimits())
    stops = aggregation.problem
    assert len(stops.bins) == len(names)
    return stops, stop_matrices(problem, network, snapped, aggregation, stops, SolveOptions(fix_directions=True))


def _drive_s(stops: Problem, matrices: FleetMatrices, vehicle: Vehicle, order: tuple[str, ...]) -> float:
    """Seconds of driving ``order`` with each stop's direction the best for that order (choose_rows)."""
    full = matrices.directed[matrices.vehicle_profile[vehicle.id]].duration_s
    depot = stops.location_index(vehicle.depot_id)
    options = [[depot], *([*matrices.direction_rows.get(stops.location_index(s), (stops.location_index(s),))]
                          for s in order), [depot]]
    rows = choose_rows(full, options)
    return float(sum(full[a, b] for a, b in itertools.pairwise(rows)))


def _duration_s(stops: Problem, matrices: FleetMatrices, plan: Plan) -> float:
    """Evaluated seconds of ``plan`` with each stop driven the way its route's order chooses."""
    fixed = driven_ways(stops, matrices, stop_directions(stops, matrices, plan))
    total = 0.0
    for route in plan.routes:
        ev = evaluate_route(stops, fixed, stops.vehicle(route.vehicle_id), route.stops)
        assert not ev.violations
        total += ev.duration_s
    return total


def test_the_search_finds_the_best_order_with_a_stop_driven_the_other_way(grid: RoadNetwork) -> None:
    """From a zig-zag order of five stops, the search reaches the quickest order and directions over
    every order (brute force), which is quicker than any order with every stop driven its bins' way;
    with a limit on a route's stops below its five, the plan is left as it is."""
    names = ["s1", "s2", "s3", "n2", "c3"]
    vehicle = Vehicle("v", "depot", 5000.0)
    stops, matrices = _stops(grid, names, (vehicle,))
    free = min(_drive_s(stops, matrices, vehicle, order) for order in itertools.permutations(names))
    listed = driven_ways(stops, matrices, set()).profiles[matrices.vehicle_profile["v"]].duration_s
    as_listed = min(sum(listed[a, b] for a, b in itertools.pairwise(
        [0, *(stops.location_index(s) for s in order), 0])) for order in itertools.permutations(names))
    assert free < as_listed - 1.0  # the case: the best plan drives some stop against its bins' order
    start = Plan(routes=(RoutePlan("v", ("n2", "s1", "c3", "s3", "s2")),))
    out = directed_search(stops, matrices, start, SolveOptions(fix_directions=True), time_limit_s=10.0)
    assert _drive_s(stops, matrices, vehicle, out.routes[0].stops) == pytest.approx(free)
    assert stop_directions(stops, matrices, out)
    assert _duration_s(stops, matrices, out) < _duration_s(stops, matrices, start)
    # a route longer than the labels may hold is left as it is
    assert directed_search(stops, matrices, start, SolveOptions(fix_directions=True), time_limit_s=10.0,
                           max_route_stops=4) == start


def test_the_labels_cost_what_orient_route_finds_for_a_fixed_order(grid: RoadNetwork) -> None:
    """For a fixed order of bins, the drive the search's labels price equals the drive of the directions
    :func:`~solver.orientation.orient_route` chooses on the same turn-aware legs."""
    points = np.array([DEPOT, *(SPOTS[n] for n in ("s1", "n2", "c2", "s3", "c3", "s2"))])
    legs = build_legs(grid, snap_points(grid, points), backend="scipy")
    n = len(points)
    # a row per point and direction (slot): rows k and n + k; the depot leaves either way
    times = np.full((2 * n, 2 * n), np.inf)
    for a, b in itertools.product(range(n), repeat=2):
        t, _, _ = legs.candidates(np.array([a]), np.array([b]))
        pair = t[0].reshape(2, 2)
        for s, u in itertools.product(range(2), repeat=2):
            times[s * n + a, u * n + b] = pair[s, u] if a != b else 0.0
    times[0, :] = np.minimum(times[0, :], times[n, :])
    times[:, 0] = np.minimum(times[:, 0], times[:, n])
    bins = tuple(Bin(f"b{k}", *points[k], demand_kg=1.0) for k in range(1, n))
    problem = Problem(depots=(Depot("depot", *DEPOT),), vehicles=(Vehicle("v", "depot", 100.0),), bins=bins)
    matrices = FleetMatrices(profiles={"all": TravelMatrices(duration_s=times[:n, :n], distance_m=times[:n, :n])},
                             vehicle_profile={"v": "all"},
                             directed={"all": TravelMatrices(duration_s=times, distance_m=times)},
                             direction_rows={k: (k, n + k) for k in range(1, n)})
    order = [0, 3, 1, 5, 2, 6, 4, 0]
    plan = Plan(routes=(RoutePlan("v", tuple(f"b{k}" for k in order[1:-1])),))
    search = DirectedSearch(problem, matrices, plan, SolveOptions(fix_directions=True))
    chosen = orient_route(legs, order, np.arange(n) > 0)
    slots = np.full(n, -1)
    for row, slot in chosen.items():
        slots[row] = slot
    fixed = legs.with_slots(slots)
    t, _, _, _ = fixed.choose(np.array(order[:-1]), np.array(order[1:]))
    assert search.routes[0].cost == pytest.approx(float(t.sum()))
    # the rows the evaluator is given drive what the labels price, as choose_rows would choose them
    rows = search._rows("all", search.routes[0].seq)
    picked = choose_rows(times, [[0], *([k, n + k] for k in order[1:-1]), [0]])
    assert sum(times[a, b] for a, b in itertools.pairwise(rows)) == pytest.approx(float(t.sum()))
    assert sum(times[a, b] for a, b in itertools.pairwise(picked)) == pytest.approx(float(t.sum()))


def test_a_move_that_would_overload_or_overrun_is_refused(grid: RoadNetwork) -> None:
    """Handing the second lorry's one stop to the first would save a whole round, but the first is full
    (or its shift ends a second before the quickest round of all five stops could): the search keeps
    both rounds; with room enough, it makes the move."""
    names = ["s1", "s2", "s3", "n2", "c2"]
    start = Plan(routes=(RoutePlan("a", ("s1", "s2", "s3", "n2")), RoutePlan("b", ("c2",))))
    options = SolveOptions(fix_directions=True)
    roomy = (Vehicle("a", "depot", 5000.0), Vehicle("b", "depot", 5000.0))
    stops, matrices = _stops(grid, names, roomy)
    out = directed_search(stops, matrices, start, options, time_limit_s=10.0)
    assert [r.vehicle_id for r in out.routes] == ["a"] and set(out.routes[0].stops) == set(names)
    one_round = min(_drive_s(stops, matrices, roomy[0], order) for order in itertools.permutations(names))
    one_round += sum(b.service_s for b in stops.bins)
    short = roomy[0].shift_start_s + int(one_round) - 1
    assert _duration_s(stops, matrices, Plan(routes=start.routes[:1])) < short - roomy[0].shift_start_s
    for vehicles in ((Vehicle("a", "depot", 400.0), Vehicle("b", "depot", 400.0)),
                     (Vehicle("a", "depot", 5000.0, shift_end_s=short), Vehicle("b", "depot", 5000.0))):
        stops, matrices = _stops(grid, names, vehicles)
        out = directed_search(stops, matrices, start, options, time_limit_s=10.0)
        assert {r.vehicle_id: set(r.stops) for r in out.routes}["b"] == {"c2"}
        _duration_s(stops, matrices, out)  # no violation


def test_an_unassigned_stop_is_served_once_the_search_frees_the_time(grid: RoadNetwork) -> None:
    """A zig-zag round fills the shift and leaves a stop out; driven in a good order and directions it
    has time for that stop too, and the search serves it."""
    names = ["s1", "s2", "s3", "n2", "c3"]
    zigzag = ("n2", "s1", "s3", "s2")
    roomy = Vehicle("v", "depot", 5000.0)
    stops, matrices = _stops(grid, names, (roomy,))
    slow = evaluate_route(stops, driven_ways(stops, matrices, stop_directions(
        stops, matrices, Plan(routes=(RoutePlan("v", zigzag),)))), roomy, zigzag).duration_s
    best = min(_drive_s(stops, matrices, roomy, order) for order in itertools.permutations(names))
    service = sum(b.service_s for b in stops.bins)
    assert best + service < slow  # the case: a good round with the fifth stop is shorter than the zig-zag
    tight = Vehicle("v", "depot", 5000.0, shift_end_s=roomy.shift_start_s + int(slow) + 1)
    stops, matrices = _stops(grid, names, (tight,))
    start = Plan(routes=(RoutePlan("v", zigzag),), unassigned=(Unassigned("c3", "shift_too_short", "no time"),))
    search = DirectedSearch(stops, matrices, start, SolveOptions(fix_directions=True))
    search._insert_unassigned(deadline=float("inf"))
    assert search.unassigned  # no room in the zig-zag round
    out = search.run(time_limit_s=10.0)
    assert not out.unassigned and set(out.routes[0].stops) == set(names)
    _duration_s(stops, matrices, out)  # no violation


def test_a_stop_one_part_leaves_out_is_served_by_another_parts_round(grid: RoadNetwork) -> None:
    """Street by street in two parts: the south part's lorry has no time left for its third stop, the
    north part's has; searched as one, the stop is served once, on the matrices of all the stops."""
    roomy = Vehicle("a", "depot", 5000.0)
    bins = tuple(Bin(name, *SPOTS[name], demand_kg=100.0, service_s=20.0) for name in SPOTS)
    problem = Problem(depots=(Depot("depot", *DEPOT),), vehicles=(roomy, Vehicle("b", "depot", 5000.0)), bins=bins)
    options = SolveOptions(fix_directions=True)
    snapped = _snap(problem, grid, 200.0)
    side = approach(problem, grid, snapped, options.busy_highways, options.drives_on)
    aggregation = aggregate_bins(problem, grid, snapped, limits=GroupLimits(), approach=side)
    stops = aggregation.problem
    south = Part(("s1", "s2", "s3"), ("a",))
    sub = subproblem(stops, south)
    two = Plan(routes=(RoutePlan("a", ("s1", "s2")),))
    full_s = evaluate_route(sub, driven_ways(sub, m := stop_matrices(problem, grid, snapped, aggregation, sub, options,
                                                                      side), stop_directions(sub, m, two)),
                            roomy, ("s1", "s2")).duration_s
    tight = Vehicle("a", "depot", 5000.0, shift_end_s=roomy.shift_start_s + int(full_s) + 1)
    problem = replace(problem, vehicles=(tight, problem.vehicles[1]))
    aggregation = aggregate_bins(problem, grid, snapped, limits=GroupLimits(), approach=side)
    stops = aggregation.problem
    parts = [south, Part(("n2", "c2", "c3"), ("b",))]
    jobs = [(subproblem(stops, p), stop_matrices(problem, grid, snapped, aggregation, subproblem(stops, p), options,
                                                 side), options) for p in parts]
    plans = [Plan(routes=(RoutePlan("a", ("s1", "s2")),), unassigned=(Unassigned("s3", "shift_too_short", "full"),)),
             Plan(routes=(RoutePlan("b", ("n2", "c2", "c3")),))]
    assert DirectedSearch(jobs[0][0], jobs[0][1], plans[0], options).run(5.0).unassigned  # no room in its own part
    jobs, plans = _search_across_parts(problem, grid, snapped, aggregation, parts, jobs, plans, side, 2.0)
    assert len(jobs) == len(plans) == 1
    served = [s for r in plans[0].routes for s in r.stops]
    assert sorted(served) == sorted(SPOTS) and not plans[0].unassigned
    sub, matrices, _ = jobs[0]
    _duration_s(sub, matrices, plans[0])  # evaluated on the matrices of all the stops: no violation


def test_an_unassigned_stop_goes_in_by_moving_another_to_a_round_with_room(grid: RoadNetwork) -> None:
    """Neither round has room for the east stop (s3, 250 s to collect) as it stands, but the first can
    take it if its west stop (s1, 400 s) moves to the second, which has room for exactly that: the
    search makes both moves at once, where inserting alone finds nothing."""
    service = {"s3": 250.0, "s1": 400.0}
    bins = tuple(Bin(n, *SPOTS[n], demand_kg=100.0, service_s=service.get(n, 20.0)) for n in SPOTS)
    roomy = (Vehicle("a", "depot", 5000.0), Vehicle("b", "depot", 5000.0))
    problem = Problem(depots=(Depot("depot", *DEPOT),), vehicles=roomy, bins=bins)
    options = SolveOptions(fix_directions=True)
    snapped = _snap(problem, grid, 200.0)

    def matrices_of(problem: Problem) -> tuple[Problem, FleetMatrices]:
        aggregation = aggregate_bins(problem, grid, snapped, limits=GroupLimits())
        return aggregation.problem, stop_matrices(problem, grid, snapped, aggregation, aggregation.problem, options)

    stops, matrices = matrices_of(problem)
    first = _duration_s(stops, matrices, Plan(routes=(RoutePlan("a", ("s2", "s1", "n2")),)))
    second = min(_duration_s(stops, matrices, Plan(routes=(RoutePlan("b", order),)))
                 for order in (("s1", "c2"), ("c2", "s1")))
    tight = (Vehicle("a", "depot", 5000.0, shift_end_s=roomy[0].shift_start_s + int(first) + 1),
             Vehicle("b", "depot", 5000.0, shift_end_s=roomy[1].shift_start_s + int(second) + 1))
    stops, matrices = matrices_of(replace(problem, vehicles=tight))
    start = Plan(routes=(RoutePlan("a", ("s2", "s1", "n2")), RoutePlan("b", ("c2",))),
                 unassigned=(Unassigned("s3", "shift_too_short", "no time"),))
    alone = DirectedSearch(stops, matrices, start, options)
    for k, route in enumerate(alone.routes):  # no room for s3 anywhere as the rounds stand
        grown = [*route.stops, "s3"]
        for at in range(len(grown)):
            order = (*grown[:at], "s3", *grown[at:-1])
            ev = alone._evaluate(route.vehicle, np.array([0, *(stops.location_index(s) for s in order), 0]))
            assert ev.violations, (k, order)
    search = DirectedSearch(stops, matrices, start, options)
    search.serve_unassigned(deadline=float("inf"))
    assert not search.unassigned
    out = search.plan()
    assert {r.vehicle_id: set(r.stops) for r in out.routes} == {"a": {"s2", "s3", "n2"}, "b": {"s1", "c2"}}
    _duration_s(stops, matrices, out)  # no violation


def test_an_unassigned_stop_goes_in_with_a_visit_to_the_tip_when_the_load_is_full(grid: RoadNetwork) -> None:
    """A lorry of 200 kg collects two 100 kg stops and tips: a third fits in no load as it stands, but
    it does with a second visit to the tip next to it, and the search adds both."""
    bins = tuple(Bin(n, *SPOTS[n], demand_kg=100.0, service_s=20.0) for n in ("s1", "s2", "s3"))
    tip = DisposalSite("tip", 9.0, 0.0015, unload_s=300.0)  # on West Lane, near the depot
    problem = Problem(depots=(Depot("depot", *DEPOT),), vehicles=(Vehicle("v", "depot", 200.0),), bins=bins,
                      disposal_sites=(tip,))
    options = SolveOptions(fix_directions=True)
    snapped = _snap(problem, grid, 200.0)
    aggregation = aggregate_bins(problem, grid, snapped, limits=GroupLimits())
    stops = aggregation.problem
    matrices = stop_matrices(problem, grid, snapped, aggregation, stops, options)
    start = Plan(routes=(RoutePlan("v", ("s1", "s2", "tip")),), unassigned=(Unassigned("s3", "capacity", "full"),))
    search = DirectedSearch(stops, matrices, start, options)
    for at in range(4):  # no room for s3 in the round as it stands
        order = (*("s1", "s2", "tip")[:at], "s3", *("s1", "s2", "tip")[at:])
        ev = search._evaluate(search.routes[0].vehicle, np.array([0, *(stops.location_index(s) for s in order), 0]))
        assert ev.violations, order
    search.serve_unassigned(deadline=float("inf"))
    assert not search.unassigned
    route = search.plan().routes[0]
    assert set(route.stops) == {"s1", "s2", "s3", "tip"} and route.stops.count("tip") == 2
    _duration_s(stops, matrices, search.plan())  # no violation: no overload, tipped before the depot


def test_a_round_that_breaks_a_rule_as_driven_is_cut_back_and_its_stops_served_elsewhere(grid: RoadNetwork) -> None:
    """An engine's round of five stops overruns the first lorry's shift once each stop is driven one way
    (its shift holds two stops): the search takes stops off its end rather than leave it faulted, and the
    idle second lorry serves them; every stop is served and no round breaks a rule."""
    names = ["s1", "s2", "s3", "n2", "c2"]
    roomy = Vehicle("a", "depot", 5000.0)
    stops, matrices = _stops(grid, names, (roomy, Vehicle("b", "depot", 5000.0)))
    two = _duration_s(stops, matrices, Plan(routes=(RoutePlan("a", ("s1", "s2")),)))
    short = Vehicle("a", "depot", 5000.0, shift_end_s=roomy.shift_start_s + int(two) + 1)
    stops, matrices = _stops(grid, names, (short, Vehicle("b", "depot", 5000.0)))
    start = Plan(routes=(RoutePlan("a", ("s1", "s2", "s3", "n2", "c2")),))
    search = DirectedSearch(stops, matrices, start, SolveOptions(fix_directions=True))
    assert not search.routes[0].frozen and len(search.routes[0].seq) < 7 and search.unassigned  # cut back
    out = search.run(time_limit_s=10.0)
    assert not out.unassigned and sorted(s for r in out.routes for s in r.stops) == sorted(names)
    _duration_s(stops, matrices, out)  # no violation
