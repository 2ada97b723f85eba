"""A round review at district scale: street clusters, their patterns, the estimate of lorries, and
whole reviews on a hand-made street grid routed by the real pipeline."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.network import RoadNetwork, build_network
from solver.problem import Bin, Break, Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.week.calendar import Calendar, Frequency
from solver.week.district import (
    cluster_unit,
    lorries_needed,
    plan_district_review,
    route_on_file,
    route_on_network,
    stream_groups,
    street_clusters,
)
from solver.week.model import CurrentDay, WeekBin, WeekOptions, WeekProblem, week_units
from solver.week.search import construct
from solver.week.units import Pattern, Unit

CALENDAR = Calendar(days=("mon", "tue"), weeks=("A", "B"))
"""Slots 0 mon A, 1 tue A, 2 mon B, 3 tue B."""

LAT0, LON0 = 52.67, -0.72
M_PER_DEG_LAT = 111_250.0
M_PER_DEG_LON = 67_600.0


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point ``east_m``/``north_m`` metres from the grid's corner."""
    return LAT0 + north_m / M_PER_DEG_LAT, LON0 + east_m / M_PER_DEG_LON


def _lonlat(east_m: float, north_m: float) -> tuple[float, float]:
    lat, lon = _at(east_m, north_m)
    return lon, lat


@pytest.fixture
def grid_file(tmp_path: Path, tools: SimpleNamespace) -> Path:
    """Two parallel residential streets 400 m long, 200 m apart (south: y = 0, north: y = 200), joined
    at both ends."""
    nodes = {1: _at(0, 0), 2: _at(400, 0), 3: _at(0, 200), 4: _at(400, 200)}
    ways = [(10, [1, 2], {"highway": "residential"}), (11, [3, 4], {"highway": "residential"}),
            (12, [1, 3], {"highway": "residential"}), (13, [2, 4], {"highway": "residential"})]
    return tools.write_osm_xml(tmp_path / "grid.osm", nodes, ways)


@pytest.fixture
def grid(grid_file: Path) -> RoadNetwork:
    """The grid's network."""
    return build_network(grid_file, simplify=False)


def _week(*, current: str | None, day_change_cost: float, per_street: int = 6) -> WeekProblem:
    """``per_street`` properties along each long street (every 50 m, 5 m north of it), each with fortnightly
    refuse (20 kg) and, every second one, fortnightly recycling (10 kg); currently all on ``current``
    (week A) when given; a refuse and a recycling lorry (1,000 kg, 06:00-14:00) and a tip at the depot."""
    bins, week_bins = [], []
    for street, y in (("s", 0.0), ("n", 200.0)):
        for k in range(per_street):
            pid = f"{street}{k}"
            lon, lat = _lonlat(50.0 + 50.0 * k, y + 5.0)
            bins.append(Bin(id=f"{pid}-r", lon=lon, lat=lat, demand_kg=20.0, service_s=30.0, stream="refuse"))
            week_bins.append(WeekBin(id=f"{pid}-r", frequency=Frequency("fortnightly"), property=pid,
                                     current=None if current is None else CurrentDay(day=current, week="A")))
            if k % 2 == 0:
                bins.append(Bin(id=f"{pid}-c", lon=lon, lat=lat, demand_kg=10.0, service_s=30.0, stream="recycling"))
                week_bins.append(WeekBin(id=f"{pid}-c", frequency=Frequency("fortnightly"), property=pid))
    depot_lon, depot_lat = _lonlat(0.0, 100.0)
    problem = Problem(depots=(Depot("depot", depot_lon, depot_lat),),
                      vehicles=(Vehicle(id="ref-1", depot_id="depot", capacity_kg=1000.0, streams=("refuse",)),
                                Vehicle(id="rec-1", depot_id="depot", capacity_kg=1000.0, streams=("recycling",))),
                      bins=tuple(bins), disposal_sites=(DisposalSite("tip", depot_lon, depot_lat, unload_s=60.0),))
    return WeekProblem(calendar=CALENDAR, problem=problem, bins=tuple(week_bins),
                       options=WeekOptions(day_change_cost=day_change_cost))


def _unit(uid: str, patterns: list[tuple[str, dict[int, tuple[str, ...]]]], cost: float = 0.0) -> Unit:
    return Unit(id=uid, patterns=tuple(Pattern(visits=tuple(sorted(v.items())), change_cost=cost, label=label)
                                       for label, v in patterns), demand=1.0, location=uid)


def test_a_cluster_takes_the_days_and_weeks_every_member_can_take() -> None:
    """A refuse-only property (the same every week: fits either week) and a refuse-and-recycling one
    (weeks A and B differ) make a cluster of four patterns, mon/tue from A/B, the bins merged slot by
    slot and the members' day-change costs summed; a member allowed only Monday leaves two."""
    both = _unit("p1", [("mon from week A", {0: ("p1-r",), 2: ("p1-c",)}),
                        ("mon from week B", {0: ("p1-c",), 2: ("p1-r",)}),
                        ("tue from week A", {1: ("p1-r",), 3: ("p1-c",)}),
                        ("tue from week B", {1: ("p1-c",), 3: ("p1-r",)})], cost=2.0)
    weekly = _unit("p2", [("mon", {0: ("p2-r",), 2: ("p2-r",)}), ("tue", {1: ("p2-r",), 3: ("p2-r",)})], cost=1.0)
    unit, picks = cluster_unit("c", [both, weekly], CALENDAR)
    assert [p.label for p in unit.patterns] == ["mon from week A", "mon from week B", "tue from week A",
                                                "tue from week B"]
    assert dict(unit.patterns[1].visits) == {0: ("p1-c", "p2-r"), 2: ("p1-r", "p2-r")}
    assert [p.change_cost for p in unit.patterns] == [3.0, 3.0, 3.0, 3.0]
    assert picks == [[0, 0], [1, 0], [2, 1], [3, 1]]
    monday = _unit("p3", [("mon", {0: ("p3-r",), 2: ("p3-r",)})])
    unit, picks = cluster_unit("c", [both, monday], CALENDAR)
    assert [p.label for p in unit.patterns] == ["mon from week A", "mon from week B"]
    assert picks == [[0, 0], [1, 0]]


def test_streets_are_cut_by_current_day_and_size() -> None:
    """Units group by street and by the days that cost them nothing; a group longer than the cluster
    size is cut in order."""
    def on(uid: str, free: str) -> Unit:
        return Unit(id=uid, patterns=(Pattern(visits=((0, (uid,)),), change_cost=0.0 if free == "mon" else 5.0,
                                              label="mon"),
                                      Pattern(visits=((1, (uid,)),), change_cost=0.0 if free == "tue" else 5.0,
                                              label="tue")), demand=1.0, location=uid)
    units = [on("a", "mon"), on("b", "mon"), on("c", "tue"), on("d", "mon"), on("e", "mon")]
    clusters = street_clusters(units, ["x", "x", "x", "x", "y"], cluster_size=2)
    assert [[u.id for u in c] for c in clusters] == [["a", "b"], ["d"], ["c"], ["e"]]


def test_lorries_are_estimated_from_lifts_driving_and_tipping() -> None:
    """100 bins of 30 s and 12 s driving each (4,200 s) and one load (1,800 s drive + 600 s unload): 6,600 s
    against a 3,600 s shift less a 600 s break: 3 shifts, one more for slack; never more than the fleet."""
    lunch = Break(duration_s=600.0, window=(0, 86_400))
    vehicles = tuple(Vehicle(id=f"v{k}", depot_id="d", capacity_kg=5000.0, shift_start_s=0, shift_end_s=3600,
                             breaks=(lunch,)) for k in range(6))
    bins = tuple(Bin(id=f"b{k}", lon=0.0, lat=0.0, demand_kg=10.0, service_s=30.0) for k in range(100))
    problem = Problem(depots=(Depot("d", 0.0, 0.0),), vehicles=vehicles, bins=bins,
                      disposal_sites=(DisposalSite("t", 0.0, 0.0, unload_s=600.0),))
    ids = [b.id for b in bins]
    assert lorries_needed(problem, ids, [v.id for v in vehicles]) == 4
    assert lorries_needed(problem, ids, ["v0", "v1"]) == 2
    assert lorries_needed(problem, [], ["v0"]) == 0
    assert lorries_needed(problem, ids, ["v0", "v1"], capped=False) == 4


def test_streams_sharing_a_lorry_are_one_problem() -> None:
    """Refuse and recycling share the lorry "both"; garden has its own: two groups while "both" works, three
    when it does not (each stream then has lorries of its own)."""
    vehicles = (Vehicle(id="both", depot_id="d", capacity_kg=1.0, streams=("refuse", "recycling")),
                Vehicle(id="ref", depot_id="d", capacity_kg=1.0, streams=("refuse",)),
                Vehicle(id="gar", depot_id="d", capacity_kg=1.0, streams=("garden",)))
    problem = Problem(depots=(Depot("d", 0.0, 0.0),), vehicles=vehicles, bins=())
    streams = ["garden", "recycling", "refuse"]
    assert stream_groups(problem, streams, ["both", "ref", "gar"]) == [("garden",), ("recycling", "refuse")]
    assert stream_groups(problem, streams, ["ref", "gar"]) == [("garden",), ("recycling",), ("refuse",)]


def test_construction_loads_each_slot_with_the_bins_it_collects() -> None:
    """Two properties on one spot whose patterns share slots but not bins (heavy refuse one week, light
    recycling the other): weighed by the bins of each slot, the second goes to the other week, so each
    week carries one refuse bin; weighed by the unit's whole demand both patterns look alike."""
    def unit(uid: str) -> Unit:
        return Unit(id=uid, patterns=(Pattern(visits=((0, (f"{uid}-r",)), (1, (f"{uid}-c",))), label="A"),
                                      Pattern(visits=((0, (f"{uid}-c",)), (1, (f"{uid}-r",))), label="B")),
                    demand=60.0, location="x")
    units = [unit("p"), unit("q")]
    travel = np.array([[0.0, 1.0], [1.0, 0.0]])
    demand = {"p-r": 50.0, "p-c": 10.0, "q-r": 50.0, "q-c": 10.0}
    choice = construct(units, [0, 1], travel=travel, index={"x": 0}, depot_row=1, centre=(0.0, 0.0),
                       demand_of=demand)
    assert sorted(choice.values()) == [0, 1]


@pytest.mark.slow
def test_a_review_keeps_every_household_on_its_day_when_moving_costs_more(grid: RoadNetwork) -> None:
    """Everyone is collected on Monday of week A today and a move costs 1,000: nobody moves, every
    bin is collected on its fortnightly slot, each (day, stream) routed without a bin left out."""
    week = _week(current="mon", day_change_cost=1000.0)
    review = plan_district_review(week, grid, SolveOptions(seed=1), time_limit_s=6.0)
    assert review.day_changes == ()
    assert {b: s for b, s in review.assignments.items() if b.endswith("-r")} == {
        b.id: (0,) for b in week.problem.bins if b.id.endswith("-r")}
    assert all(s == (2,) for b, s in review.assignments.items() if b.endswith("-c"))
    assert {(d.slot, d.stream) for d in review.days} == {(0, "refuse"), (2, "recycling")}
    assert all(not d.rounds.evaluation.unassigned for d in review.days)
    served = {v.location_id for d in review.days for r in d.rounds.evaluation.routes for v in r.visits}
    assert {b.id for b in week.problem.bins} <= served


@pytest.mark.slow
def test_a_review_spreads_the_week_when_moves_are_free(grid: RoadNetwork, grid_file: Path) -> None:
    """With moves free, the two streets' refuse is split over the four slots (the load balanced), each
    street kept whole on one slot (its properties one cluster), through a pool of two lanes whose jobs load
    the network from its file; the day changes name the households moved off Monday A."""
    week = _week(current="mon", day_change_cost=0.0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        review = plan_district_review(week, grid, SolveOptions(seed=1), time_limit_s=8.0, executor=pool, workers=2,
                                      day_solver=partial(route_on_file, str(grid_file), None, simplify=False))
    refuse_slots = {b: s[0] for b, s in review.assignments.items() if b.endswith("-r")}
    south = {refuse_slots[f"s{k}-r"] for k in range(6)}
    north = {refuse_slots[f"n{k}-r"] for k in range(6)}
    assert len(south) == 1 and len(north) == 1 and south != north
    moved = {c.property for c in review.day_changes}
    assert moved == {f"{street}{k}" for street in "sn" for k in range(6)} - {
        p for p in (f"{street}{k}" for street in "sn" for k in range(6)) if refuse_slots[f"{p}-r"] == 0}
    assert all(not d.rounds.evaluation.unassigned for d in review.days)
    assert review.max_vehicles_per_day <= 2


@pytest.mark.slow
def test_a_lorry_of_two_streams_drives_one_round_a_day(grid: RoadNetwork) -> None:
    """One lorry carrying refuse and recycling: each slot is one problem of both streams (never two rounds of
    that lorry on one day), every bin served, and the progress heard from territories to the end, rising."""
    week = _week(current="mon", day_change_cost=0.0)
    problem = week.problem
    both = Vehicle(id="both", depot_id="depot", capacity_kg=1000.0, streams=("refuse", "recycling"))
    week = WeekProblem(calendar=CALENDAR, problem=Problem(depots=problem.depots, vehicles=(both,), bins=problem.bins,
                                                          disposal_sites=problem.disposal_sites),
                       bins=week.bins, options=week.options)
    heard: list[float] = []
    review = plan_district_review(week, grid, SolveOptions(seed=1), time_limit_s=6.0, progress=heard.append,
                                  day_solver=partial(route_on_network, grid))
    assert all(d.stream == "recycling+refuse" or "+" not in d.stream for d in review.days)
    assert len({d.slot for d in review.days}) == len(review.days)
    assert all(len(d.rounds.evaluation.routes) <= 1 for d in review.days)
    assert all(not d.rounds.evaluation.unassigned for d in review.days)
    assert heard and heard == sorted(heard) and 0.0 < heard[-1] <= 1.0


def test_construction_keeps_a_slot_without_a_tip_within_its_fleets_capacity(grid: RoadNetwork) -> None:
    """No tip, one 100 kg refuse lorry, twelve 20 kg refuse bins (240 kg) all today on Monday A and a move
    costing 1: no slot is given more than the lorry carries, so households move off Monday A (clusters of two
    properties, 40 kg, so that a street can be shared out)."""
    week = _week(current="mon", day_change_cost=1.0)
    problem = week.problem
    lorry = Vehicle(id="ref-1", depot_id="depot", capacity_kg=100.0, streams=("refuse", "recycling"))
    refuse = tuple(b for b in problem.bins if b.stream == "refuse")
    week = WeekProblem(calendar=CALENDAR, problem=Problem(depots=problem.depots, vehicles=(lorry,), bins=refuse),
                       bins=tuple(b for b in week.bins if b.id.endswith("-r")), options=week.options)
    review = plan_district_review(week, grid, SolveOptions(seed=1), time_limit_s=4.0, cluster_size=2)
    load: dict[int, float] = {}
    for slots in review.assignments.values():
        for slot in slots:
            load[slot] = load.get(slot, 0.0) + 20.0
    assert max(load.values()) <= 100.0 and review.day_changes


def test_units_of_the_hand_made_week() -> None:
    """The hand-made week's properties are units with four patterns (two days, two starting weeks)."""
    units, unplaceable = week_units(_week(current="mon", day_change_cost=1.0))
    assert not unplaceable
    assert len(units) == 12 and all(len(u.patterns) == 4 for u in units)
