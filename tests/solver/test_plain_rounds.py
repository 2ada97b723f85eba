"""Tests of solver.plain_rounds: the plain nearest-bin baseline serves each bin once,
never overfills a vehicle, goes to the nearest bin first, and leaves out what does not fit."""

from __future__ import annotations

from solver.network import RoadNetwork
from solver.pipeline import evaluate_plan
from solver.plain_rounds import nearest_bin_rounds
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.synthetic import kerbside_bins

DEPOT = Depot(id="depot", lon=7.4149, lat=43.7302)


def _problem(bins: list[Bin], capacities: list[float], *, capacity_l: float | None = None) -> Problem:
    """One depot, vehicles ``v1..`` with ``capacities`` (kg), the given bins."""
    vehicles = [Vehicle(id=f"v{k + 1}", depot_id="depot", capacity_kg=c, capacity_l=capacity_l)
                for k, c in enumerate(capacities)]
    return Problem(depots=(DEPOT,), vehicles=tuple(vehicles), bins=tuple(bins))


def test_every_bin_is_on_exactly_one_route_when_the_fleet_has_room() -> None:
    """With room for all, each bin appears once across the routes."""
    bins = [Bin(id=f"b{k}", lon=7.41 + 0.001 * k, lat=43.73, demand_kg=10) for k in range(12)]
    routes = nearest_bin_rounds(_problem(bins, [50, 50, 50]))
    stops = [s for r in routes for s in r.stops]
    assert sorted(stops) == sorted(b.id for b in bins)


def test_no_route_carries_more_than_its_vehicle_takes() -> None:
    """Each route's kg stays within its vehicle's capacity; so do litres when limited."""
    bins = [Bin(id=f"b{k}", lon=7.41 + 0.0005 * k, lat=43.73, demand_kg=7 + k % 5, volume_l=100)
            for k in range(30)]
    problem = _problem(bins, [40, 40, 40, 40, 40, 40], capacity_l=450)
    weight = {b.id: b for b in bins}
    for route in nearest_bin_rounds(problem):
        assert sum(weight[s].demand_kg for s in route.stops) <= 40
        assert sum(weight[s].volume_l for s in route.stops) <= 450


def test_the_first_stop_is_the_bin_nearest_the_depot_and_the_next_the_nearest_to_it() -> None:
    """Bins on a line east of the depot, listed out of order, are visited west to east."""
    bins = [Bin(id=name, lon=DEPOT.lon + dx, lat=DEPOT.lat, demand_kg=1)
            for name, dx in (("far", 0.003), ("near", 0.001), ("middle", 0.002))]
    [route] = nearest_bin_rounds(_problem(bins, [100]))
    assert route.stops == ("near", "middle", "far")


def test_bins_beyond_the_fleet_are_left_off_every_route() -> None:
    """When the fleet is full, the remaining bins are on no route and no vehicle is overfilled."""
    bins = [Bin(id=f"b{k}", lon=7.41 + 0.001 * k, lat=43.73, demand_kg=10) for k in range(10)]
    routes = nearest_bin_rounds(_problem(bins, [30, 20]))
    assert [len(r.stops) for r in routes] == [3, 2]


def test_the_baseline_evaluates_on_a_real_network_with_every_bin_served(monaco: RoadNetwork) -> None:
    """On Monaco with kerbside bins, the plain plan is a plan the evaluator scores: every bin
    served, none reported not in the plan."""
    bins = kerbside_bins(monaco, 60, seed=3)
    problem = _problem(bins, [600, 600])
    planned = evaluate_plan(problem, monaco, nearest_bin_rounds(problem))
    assert planned.evaluation.summary.bins_served == 60
    assert planned.evaluation.unassigned == ()
