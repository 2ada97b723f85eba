"""Tests of solver.aggregate on real networks: bins sharing a street become stops that keep
every bin once and every kilogram, stops stay within their caps, windows shift so the last
lift still starts in time, optional bins stay alone, and a plan of stops expands into bins;
the large-problem path of solver.pipeline: 2,000 Rutland bins aggregated, decomposed
and fully served with no violation by the evaluator on the full matrices; and, on the streets
fixture, bins on opposite sides of a busy road kept in separate stops (solver.nearside)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.aggregate import Aggregation, GroupLimits, aggregate_bins
from solver.decompose import ScaleOptions
from solver.evaluate import evaluate
from solver.nearside import ALONG_EDGE, ALONG_TWIN, EITHER, approach_slots, busy_edges, point_sides
from solver.network import RoadNetwork, build_network
from solver.pipeline import PlannedRounds, optimise, prepare
from solver.problem import Bin, Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.snapping import snap_points
from solver.solution import Plan, RoutePlan, Unassigned
from solver.synthetic import kerbside_bins


def kerbside_problem(network: RoadNetwork, n_bins: int, n_vehicles: int, *, seed: int = 0) -> Problem:
    """``n_bins`` kerbside bins, a depot with a tip beside it at the bin nearest their middle,
    and ``n_vehicles`` 10 t vehicles of no given size (every street open), 06:00-16:00."""
    bins = kerbside_bins(network, n_bins, seed=seed)
    lon, lat = float(np.median([b.lon for b in bins])), float(np.median([b.lat for b in bins]))
    centre = min(bins, key=lambda b: (b.lon - lon) ** 2 + (b.lat - lat) ** 2)
    vehicles = tuple(Vehicle(id=f"v{k}", depot_id="depot", capacity_kg=10_000.0, shift_start_s=6 * 3600,
                             shift_end_s=16 * 3600, hgv=False) for k in range(n_vehicles))
    return Problem(depots=(Depot("depot", centre.lon, centre.lat),), vehicles=vehicles, bins=tuple(bins),
                   disposal_sites=(DisposalSite("tip", centre.lon, centre.lat),))


def aggregated(problem: Problem, network: RoadNetwork, limits: GroupLimits | None = None) -> SimpleNamespace:
    """``problem`` snapped and aggregated."""
    places: list[Depot | DisposalSite | Bin] = [*problem.depots, *problem.disposal_sites, *problem.bins]
    lonlat = np.array([[p.lon, p.lat] for p in places])
    snapped = snap_points(network, lonlat)
    return SimpleNamespace(snapped=snapped, aggregation=aggregate_bins(problem, network, snapped, limits=limits))


@pytest.fixture(scope="module")
def rutland_2000(rutland: RoadNetwork) -> SimpleNamespace:
    """2,000 kerbside bins in Rutland with six vehicles, and their aggregation."""
    problem = kerbside_problem(rutland, 2000, 6)
    return SimpleNamespace(problem=problem, **vars(aggregated(problem, rutland)))


def test_every_bin_is_in_exactly_one_stop(rutland_2000: SimpleNamespace) -> None:
    """The stops' members list each of the 2,000 bins once, and there are far fewer stops than bins."""
    agg: Aggregation = rutland_2000.aggregation
    members = [b for group in agg.members.values() for b in group]
    assert Counter(members) == Counter(b.id for b in rutland_2000.problem.bins)
    assert set(agg.members) == {b.id for b in agg.problem.bins}
    assert len(agg.problem.bins) < 0.8 * len(rutland_2000.problem.bins)


def test_aggregation_preserves_demand_volume_and_service(rutland_2000: SimpleNamespace) -> None:
    """Each stop carries exactly its bins' summed kg and litres, and at least their service seconds;
    so do the totals."""
    problem, agg = rutland_2000.problem, rutland_2000.aggregation
    for stop in agg.problem.bins:
        bins = [problem.bin(b) for b in agg.members[stop.id]]
        assert stop.demand_kg == pytest.approx(sum(b.demand_kg for b in bins), abs=1e-9)
        assert stop.volume_l == pytest.approx(sum(b.volume_l for b in bins), abs=1e-9)
        assert stop.service_s >= sum(b.service_s for b in bins) - 1e-9
    assert sum(s.demand_kg for s in agg.problem.bins) == pytest.approx(sum(b.demand_kg for b in problem.bins))


def test_stop_members_share_street_and_order(rutland_2000: SimpleNamespace) -> None:
    """A stop's bins lie on one snapped edge, in driving order along it, within the caps."""
    problem, agg, snapped = rutland_2000.problem, rutland_2000.aggregation, rutland_2000.snapped
    limits = GroupLimits()
    for group in agg.members.values():
        rows = [problem.location_index(b) for b in group]
        assert len(set(snapped.edge[rows].tolist())) == 1
        assert np.all(np.diff(snapped.fraction[rows]) >= 0)
        assert len(group) <= limits.max_bins
        assert sum(problem.bin(b).demand_kg for b in group) <= limits.max_share * 10_000.0


def test_expanded_plan_lists_each_bin_once(rutland_2000: SimpleNamespace) -> None:
    """A plan of all stops (split over two routes, one stop left out) expands into every bin once:
    on the routes in stop order, and the left-out stop's bins unassigned with its reason."""
    agg: Aggregation = rutland_2000.aggregation
    stops = [b.id for b in agg.problem.bins]
    plan = Plan(routes=(RoutePlan("v0", tuple(stops[:10])), RoutePlan("v1", ("tip", *stops[10:-1], "tip"))),
                unassigned=(Unassigned(stops[-1], "capacity", "too heavy"),))
    expanded = agg.expand_plan(plan)
    on_routes = [s for r in expanded.routes for s in r.stops if s != "tip"]
    left = [u.bin_id for u in expanded.unassigned]
    assert Counter(on_routes + left) == Counter(b.id for b in rutland_2000.problem.bins)
    assert left == list(agg.members[stops[-1]]) and {u.reason for u in expanded.unassigned} == {"capacity"}
    assert expanded.routes[1].stops[0] == "tip" and expanded.routes[1].stops[-1] == "tip"


def _bins_along(network: RoadNetwork, tools: SimpleNamespace, n: int, **fields: object) -> list[Bin]:
    """``n`` bins spread along the longest edge of the network's largest part."""
    big = network.largest_component()
    inside = np.flatnonzero((network.node_component[network.edge_u] == big)
                            & (network.node_component[network.edge_v] == big))
    edge = int(inside[np.argmax(network.edge_length_m[inside])])
    lonlat = tools.lonlat_on_edges(network, [edge] * n, np.linspace(0.1, 0.9, n))
    return [Bin(id=f"s{k}", lon=float(lon), lat=float(lat), demand_kg=10.0, service_s=20.0, **fields)  # type: ignore[arg-type]
            for k, (lon, lat) in enumerate(lonlat)]


def test_windows_end_earlier_by_the_last_lift(monaco: RoadNetwork, tools: SimpleNamespace) -> None:
    """Five bins with one window on one street make one stop whose window ends earlier by the time
    from its start to its last lift (four lifts and the drive), so the last lift still starts in time."""
    bins = _bins_along(monaco, tools, 5, time_windows=((8 * 3600, 9 * 3600),))
    depot = bins[0]
    problem = Problem(depots=(Depot("d", depot.lon, depot.lat),), bins=tuple(bins),
                      vehicles=(Vehicle(id="v", depot_id="d", capacity_kg=1000.0),))
    agg = aggregated(problem, monaco).aggregation
    assert len(agg.problem.bins) == 1
    stop = agg.problem.bins[0]
    last_start = stop.service_s - bins[-1].service_s
    assert last_start > 4 * 20.0
    assert stop.time_windows == ((8 * 3600, 9 * 3600 - math.ceil(last_start)),)


def test_optional_bins_and_caps_keep_stops_apart(monaco: RoadNetwork, tools: SimpleNamespace) -> None:
    """Optional bins stay stops of their own, and a two-bin cap splits six required bins into three stops."""
    required = _bins_along(monaco, tools, 6)
    optional = [replace(b, id=f"o{k}", required=False, penalty=5.0) for k, b in enumerate(required[:2])]
    depot = required[0]
    problem = Problem(depots=(Depot("d", depot.lon, depot.lat),), bins=(*required, *optional),
                      vehicles=(Vehicle(id="v", depot_id="d", capacity_kg=1000.0),))
    agg = aggregated(problem, monaco, GroupLimits(max_bins=2)).aggregation
    assert agg.members["o0"] == ("o0",) and agg.members["o1"] == ("o1",)
    assert sorted(len(m) for k, m in agg.members.items() if k.startswith("s")) == [2, 2, 2]


@pytest.fixture(scope="module")
def large_rounds(rutland: RoadNetwork, rutland_2000: SimpleNamespace) -> PlannedRounds:
    """The 2,000 bins planned by the large-problem path: aggregated, cut into parts of at most
    250 stops, 1 s of search a part, with directions free (``fix_directions`` off) so that the evaluator
    on the full matrices, which take the quicker way between two bins, scores the same drives."""
    scale = ScaleOptions(aggregate_from_bins=1, max_part_stops=250, part_time_limit_s=1.0)
    return optimise(rutland_2000.problem, rutland, SolveOptions(time_limit_s=1.0, fix_directions=False), scale=scale)


@pytest.mark.slow
def test_large_path_serves_every_bin_once(rutland_2000: SimpleNamespace, large_rounds: PlannedRounds) -> None:
    """Every one of the 2,000 bins is visited exactly once, none left out, after decomposing into parts."""
    visits = Counter(v.location_id for r in large_rounds.evaluation.routes for v in r.visits if v.type == "bin")
    assert visits == Counter(b.id for b in rutland_2000.problem.bins)
    assert large_rounds.evaluation.unassigned == ()
    assert large_rounds.sizes["parts"] >= 2


def test_evaluator_on_full_matrices_finds_no_violation(rutland: RoadNetwork, rutland_2000: SimpleNamespace,
                                                       large_rounds: PlannedRounds) -> None:
    """The evaluator, on the matrices of all 2,000 bins, scores the expanded plan with no violation,
    and its figures match the answer's (evaluated route by route on each route's own matrices)."""
    problem = rutland_2000.problem
    prepared = prepare(problem, rutland)
    routes = tuple(RoutePlan(r.vehicle_id, tuple(v.location_id for v in r.visits[1:-1]))
                   for r in large_rounds.evaluation.routes)
    full = evaluate(problem, prepared.matrices, Plan(routes=routes))
    assert full.summary.violations == 0 and full.summary.bins_served == len(problem.bins)
    assert full.summary.duration_s == pytest.approx(large_rounds.evaluation.summary.duration_s, abs=1.0)
    assert full.summary.distance_m == pytest.approx(large_rounds.evaluation.summary.distance_m, rel=0.01)


@pytest.mark.slow
def test_large_path_draws_every_route(large_rounds: PlannedRounds) -> None:
    """Each route of the answer has a street line, and every bin a stop point."""
    assert set(large_rounds.route_lines) == {r.vehicle_id for r in large_rounds.evaluation.routes}
    assert len(large_rounds.stop_points) >= 2000


def streets_problem(lonlat: list[tuple[float, float]]) -> Problem:
    """A depot at node 2 and one 10 t vehicle; a 10 kg bin at each of ``lonlat``, ids b0, b1, ..."""
    bins = tuple(Bin(id=f"b{k}", lon=lon, lat=lat, demand_kg=10.0, service_s=20.0)
                 for k, (lon, lat) in enumerate(lonlat))
    return Problem(depots=(Depot("depot", 9.001, 0.0),), bins=bins,
                   vehicles=(Vehicle(id="v", depot_id="depot", capacity_kg=10_000.0),))


def test_aggregation_keeps_the_sides_of_a_busy_road_apart(streets_osm: Path) -> None:
    """Four bins along High Road, two on each side, make one stop without approach slots and two
    with them; the south stop lists its bins westbound (the higher fraction first). Two bins on
    either side of the residential 2-31 stay one stop (the streets fixture, unsimplified)."""
    streets = build_network(streets_osm, simplify=False)
    problem = streets_problem([(9.0002, 0.0001), (9.0002, -0.0001), (9.0008, 0.0001), (9.0008, -0.0001),
                               (9.001 + 0.0001, 0.0003), (9.001 - 0.0001, 0.0006)])
    lonlat = np.array([[p.lon, p.lat] for p in (*problem.depots, *problem.bins)])
    snapped = snap_points(streets, lonlat)
    approach = approach_slots(streets, snapped, point_sides(streets, lonlat, snapped), busy_edges(streets))
    assert approach.tolist() == [EITHER, ALONG_EDGE, ALONG_TWIN, ALONG_EDGE, ALONG_TWIN, EITHER, EITHER]
    assert sorted(aggregate_bins(problem, streets, snapped).members.values()) == \
        [("b0", "b1", "b2", "b3"), ("b4", "b5")]
    apart = aggregate_bins(problem, streets, snapped, approach=approach)
    assert sorted(apart.members.values()) == [("b0", "b2"), ("b3", "b1"), ("b4", "b5")]
    south = apart.problem.bin("b3")
    assert south.service_s == pytest.approx(40.0 + 0.6 * streets.edge_time_s[streets.edge_twin[snapped.edge[2]]])
    with pytest.raises(ValueError, match="bin 'b0': approach slot 2"):
        aggregate_bins(problem, streets, snapped, approach=np.array([-1, 2, 0, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="approach has shape"):
        aggregate_bins(problem, streets, snapped, approach=approach[:3])
