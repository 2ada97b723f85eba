"""Real OR-Tools solves on small synthetic matrices, every plan checked by the evaluator.

Most cases are bins on a grid (200 m apart, straight-line distances, 10 m/s) around
one depot, with disposal sites beside the grid when a case needs them. Searches stop
after a solution limit (with a time limit as a backstop) so they are quick and
repeatable.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from solver.engines import OrToolsEngine, engine_names, get_engine
from solver.engines.base import ALL_FEATURES, required_features
from solver.engines.ortools import place_breaks
from solver.evaluate import evaluate, plan_cost
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import (
    BREAK_STOP,
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
from solver.solution import Evaluation, Plan, RouteEvaluation, RoutePlan

SHIFT_START_S = 6 * 3600
SPEED_M_PER_S = 10.0
HOUR = 3600


def _vehicle(vehicle_id: str, capacity_kg: float = 1000.0, *, depot: str = "D", shift_s: int = 8 * HOUR,
             **changes: object) -> Vehicle:
    fields: dict[str, object] = {"shift_start_s": SHIFT_START_S, "shift_end_s": SHIFT_START_S + shift_s}
    fields.update(changes)
    return Vehicle(vehicle_id, depot, capacity_kg=capacity_kg, **fields)  # type: ignore[arg-type]


def _grid_case(side: int, vehicles: Sequence[Vehicle], *, demand_kg: float = 50.0, service_s: float = 30.0,
               spacing_m: float = 200.0, sites: Sequence[tuple[DisposalSite, tuple[float, float]]] = (),
               bin_fields: Mapping[int, Mapping[str, object]] | None = None) -> tuple[Problem, FleetMatrices]:
    """A ``side`` x ``side`` grid: the depot D is the centre point, bins the others (``b00``...).

    ``sites`` are placed at the given (x, y) metres; ``bin_fields`` override fields of bin ``i``.
    Every vehicle drives by the same straight-line matrices.
    """
    points = [(x * spacing_m, y * spacing_m) for x in range(side) for y in range(side)]
    centre = points.pop(len(points) // 2)
    overrides = bin_fields or {}
    bins = []
    for i in range(len(points)):
        fields: dict[str, object] = {"demand_kg": demand_kg, "service_s": service_s}
        fields.update(overrides.get(i, {}))
        bins.append(Bin(f"b{i:02d}", -0.7 + 0.001 * i, 52.6, **fields))  # type: ignore[arg-type]
    problem = Problem((Depot("D", -0.7, 52.6),), tuple(vehicles), tuple(bins), tuple(s for s, _ in sites))
    xy = np.array([centre, *(at for _, at in sites), *points])
    distance_m = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    matrices = TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)
    return problem, FleetMatrices.uniform(matrices, [v.id for v in vehicles])


def _solve(problem: Problem, matrices: FleetMatrices | TravelMatrices, *, bin_ids: Sequence[str] | None = None,
           solution_limit: int = 300, time_limit_s: float = 10.0, **options: object) -> Plan:
    engine = OrToolsEngine(solution_limit=solution_limit)
    ids = [b.id for b in problem.bins] if bin_ids is None else list(bin_ids)
    return engine.solve(problem, matrices, bin_ids=ids,
                        options=SolveOptions(time_limit_s=time_limit_s, **options))  # type: ignore[arg-type]


def _clean(problem: Problem, matrices: FleetMatrices | TravelMatrices, plan: Plan,
           options: SolveOptions | None = None) -> Evaluation:
    """The evaluation of ``plan``, asserted to show no violation."""
    evaluation = evaluate(problem, matrices, plan, options=options)
    found = [(r.vehicle_id, v.type, v.stop, v.detail) for r in evaluation.routes for v in r.violations]
    assert found == []
    return evaluation


def _route(evaluation: Evaluation, vehicle_id: str) -> RouteEvaluation:
    return next(r for r in evaluation.routes if r.vehicle_id == vehicle_id)


def _stops(plan: Plan, vehicle_id: str) -> tuple[str, ...]:
    return next((r.stops for r in plan.routes if r.vehicle_id == vehicle_id), ())


def _all_ids(problem: Problem) -> list[str]:
    return [b.id for b in problem.bins]


def _tip_sites(*ids: str, opening: tuple[int, int] | None = None, unload_s: float = 600.0,
               streams: tuple[str, ...] | None = None) -> list[tuple[DisposalSite, tuple[float, float]]]:
    """Disposal sites 1.5 km east, north, ... of the grid's corner."""
    spots = [(1500.0, 400.0), (400.0, 1500.0), (-700.0, 400.0)]
    sites = []
    for site_id, at in zip(ids, spots, strict=False):
        fields: dict[str, object] = {"unload_s": unload_s, "streams": streams}
        if opening is not None:
            fields["opening"] = opening
        sites.append((DisposalSite(site_id, 0.1, 52.6, **fields), at))  # type: ignore[arg-type]
    return sites


# --------------------------------------------------------------------------- the plain CVRP


def test_every_bin_is_routed_once_or_unassigned() -> None:
    """Routed and unassigned bins together are exactly the bins asked for, each once."""
    problem, matrices = _grid_case(5, [_vehicle("v1", 400), _vehicle("v2", 400)], demand_kg=60.0)
    plan = _solve(problem, matrices)
    seen = Counter([s for r in plan.routes for s in r.stops] + [u.bin_id for u in plan.unassigned])
    assert seen == Counter(_all_ids(problem))
    assert len(plan.unassigned) >= 24 - 2 * 6  # 400 kg carries 6 bins of 60 kg
    _clean(problem, matrices, plan)


def test_shift_is_respected() -> None:
    """Five minutes per bin in one-hour shifts: the 24 bins need several vehicles, none late back."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", shift_s=HOUR) for i in range(4)], service_s=300.0)
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert all(r.duration_s <= HOUR for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 3


def test_bin_heavier_than_every_truck_is_unassigned_for_capacity() -> None:
    """A 5000 kg bin with 1000 and 2000 kg trucks is unassigned with reason capacity."""
    problem, matrices = _grid_case(3, [_vehicle("v1", 1000), _vehicle("v2", 2000)],
                                   bin_fields={3: {"demand_kg": 5000.0}})
    plan = _solve(problem, matrices)
    assert [(u.bin_id, u.reason) for u in plan.unassigned] == [("b03", "capacity")]
    assert sum(len(r.stops) for r in plan.routes) == len(problem.bins) - 1


def test_arc_without_path_is_never_driven() -> None:
    """D-A-B-D would be 3 km against 15 km for D-B-A-D, but A -> B has no path: D-B-A-D it is."""
    distance_m = np.array([[0.0, 1000.0, 5000.0], [5000.0, 0.0, math.inf], [1000.0, 5000.0, 0.0]])
    matrices = TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)
    bins = (Bin("A", -0.70, 52.6, demand_kg=10.0), Bin("B", -0.69, 52.6, demand_kg=10.0))
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1"),), bins)
    plan = _solve(problem, matrices)
    assert [r.stops for r in plan.routes] == [("B", "A")]
    _clean(problem, matrices, plan)


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


def test_same_seed_gives_the_same_plan() -> None:
    """Two runs with the same seed and solution limit return identical plans."""
    problem, matrices = _grid_case(6, [_vehicle(f"v{i}", 500) for i in range(4)], demand_kg=60.0)
    for seed in (0, 3):
        first = _solve(problem, matrices, seed=seed, solution_limit=50)
        second = _solve(problem, matrices, seed=seed, solution_limit=50)
        assert first == second


def test_vehicles_start_and_end_at_their_own_depot() -> None:
    """A bin with paths only to and from depot E is served by the vehicle based at E."""
    positions_m = np.array([0.0, 5000.0, 1000.0, 4000.0])  # D, E, bins near D and near E
    distance_m = np.abs(positions_m[:, None] - positions_m[None, :])
    for i, j in ((0, 3), (3, 0), (2, 3), (3, 2)):
        distance_m[i, j] = math.inf
    matrices = TravelMatrices(duration_s=distance_m / SPEED_M_PER_S, distance_m=distance_m)
    depots = (Depot("D", -0.71, 52.6), Depot("E", -0.66, 52.6))
    bins = (Bin("nearD", -0.70, 52.6, demand_kg=10.0), Bin("nearE", -0.67, 52.6, demand_kg=10.0))
    problem = Problem(depots, (_vehicle("atD"), _vehicle("atE", depot="E")), bins)
    plan = _solve(problem, matrices)
    assert _stops(plan, "atE") == ("nearE",)
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


def test_fractional_demands_that_exactly_fill_a_truck_are_all_served() -> None:
    """Three 0.1 kg bins fill a 0.3 kg truck exactly (0.1 + 0.1 + 0.1 > 0.3 in floats): all served."""
    problem, matrices = _grid_case(3, [_vehicle("v1", 0.3)], demand_kg=0.1)
    plan = _solve(problem, matrices, bin_ids=["b00", "b01", "b02"])
    assert plan.unassigned == ()
    _clean(problem, matrices, plan)


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


# --------------------------------------------------------------------------- the engine's place


def test_registry_finds_ortools_and_names_the_option_for_unknown_engines() -> None:
    """``get_engine('ortools')`` is the OR-Tools engine; an unknown name names options.engine."""
    assert "ortools" in engine_names()
    assert get_engine("ortools").name == "ortools"
    with pytest.raises(ProblemError, match=r"options\.engine") as caught:
        get_engine("vroom")
    assert caught.value.field == "options.engine"


def test_every_feature_is_declared() -> None:
    """The engine declares every feature a request can need, so no request is refused for it."""
    assert OrToolsEngine.features == ALL_FEATURES
    problem, _ = _grid_case(3, [_vehicle("v1", capacity_l=500.0, max_lifts=5, max_collected_kg=900.0,
                                         breaks=(Break(600, (8 * HOUR, 9 * HOUR)),))],
                            sites=_tip_sites("tip"), bin_fields={0: {"required": False, "penalty": 5.0,
                                                                     "time_windows": ((0, 9 * HOUR),)}})
    options = SolveOptions(objective="cost", initial_routes=(InitialRoute("v1", ("b01",), locked=1),),
                           move_penalty=1.0)
    assert required_features(problem, options) <= OrToolsEngine.features


@pytest.mark.serial
def test_the_time_limit_covers_building_the_model() -> None:
    """Without a solution limit, 300 bins in a 2 s limit come back within the limit (and a little)."""
    problem, matrices = _grid_case(18, [_vehicle(f"v{i}", 2000) for i in range(6)], demand_kg=30.0,
                                   sites=_tip_sites("tip"))
    engine = OrToolsEngine()
    started = time.perf_counter()
    plan = engine.solve(problem, matrices, bin_ids=_all_ids(problem), options=SolveOptions(time_limit_s=2.0))
    assert time.perf_counter() - started < 2.0 + 1.0
    _clean(problem, matrices, plan)


# --------------------------------------------------------------------------- disposal trips


def _tipping_case(*, tip_before_return: bool = True, opening: tuple[int, int] | None = None
                  ) -> tuple[Problem, FleetMatrices]:
    """20 bins of 100 kg and one 500 kg truck: four loads, one site east of the grid."""
    vehicle = _vehicle("v1", 500.0, tip_before_return=tip_before_return)
    problem, matrices = _grid_case(5, [vehicle], demand_kg=100.0, sites=_tip_sites("tip", opening=opening))
    keep = [b.id for b in problem.bins][:20]
    return Problem(problem.depots, problem.vehicles, tuple(b for b in problem.bins if b.id in keep),
                   problem.disposal_sites), _drop_columns(problem, matrices, keep)


def _drop_columns(problem: Problem, matrices: FleetMatrices, keep: Sequence[str]) -> FleetMatrices:
    """``matrices`` restricted to the depots, the sites and the bins ``keep``."""
    rows = list(range(problem.bin_offset())) + [problem.location_index(b) for b in keep]
    cut = np.ix_(rows, rows)
    profiles = {k: TravelMatrices(duration_s=m.duration_s[cut], distance_m=m.distance_m[cut])
                for k, m in matrices.profiles.items()}
    return FleetMatrices(profiles=profiles, vehicle_profile=dict(matrices.vehicle_profile))


def test_loads_between_two_tips_never_exceed_capacity() -> None:
    """Walking the stops, the kg collected since the last tip never pass the truck's 500 kg."""
    problem, matrices = _tipping_case()
    plan = _solve(problem, matrices)
    assert plan.unassigned == ()
    load = 0.0
    for stop in plan.routes[0].stops:
        if stop == "tip":
            load = 0.0
        elif stop != BREAK_STOP:
            load += problem.bin(stop).demand_kg
            assert load <= 500.0
    _clean(problem, matrices, plan)


def test_tips_happen_and_trips_are_counted() -> None:
    """2000 kg in a 500 kg truck takes four loads: four tips in the stops, four trips evaluated."""
    problem, matrices = _tipping_case()
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.routes[0].stops.count("tip") == 4
    assert evaluation.routes[0].trips == 4


def test_a_vehicle_that_tips_before_returning_ends_empty() -> None:
    """With ``tip_before_return`` the last stop is the tip and the truck comes home empty."""
    problem, matrices = _tipping_case()
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.routes[0].stops[-1] == "tip"
    assert evaluation.routes[0].visits[-1].load_kg == 0.0


def test_a_vehicle_free_to_return_loaded_skips_the_last_tip() -> None:
    """Without ``tip_before_return`` the last load rides home: three tips for four loads."""
    problem, matrices = _tipping_case(tip_before_return=False)
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert plan.routes[0].stops.count("tip") == 3
    assert plan.routes[0].stops[-1] != "tip"


def test_unloads_start_within_the_sites_opening_hours() -> None:
    """A site open 07:00-12:00 only: every unload starts in those hours (waiting if early)."""
    problem, matrices = _tipping_case(opening=(7 * HOUR, 12 * HOUR))
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    unloads = [v.start_s for v in evaluation.routes[0].visits if v.type == "disposal"]
    assert len(unloads) == 4
    assert all(7 * HOUR <= t <= 12 * HOUR for t in unloads)


def test_volume_and_weight_limit_a_load_together() -> None:
    """Bins of 50 kg and 300 l in a 1000 kg / 900 l body: litres bind, at most three bins per load."""
    problem, matrices = _grid_case(3, [_vehicle("v1", 1000.0, capacity_l=900.0)], sites=_tip_sites("tip"),
                                   bin_fields={i: {"volume_l": 300.0} for i in range(8)})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    loads = [len(list(group)) for is_tip, group in itertools.groupby(plan.routes[0].stops, lambda s: s == "tip")
             if not is_tip]
    assert plan.unassigned == ()
    assert max(loads) <= 3 and sum(loads) == 8


# --------------------------------------------------------------------------- lifts and daily limits


def test_lifts_per_shift_are_limited() -> None:
    """``max_lifts=5``: 12 bins over three vehicles, none lifting more than five."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", max_lifts=5) for i in range(3)])
    plan = _solve(problem, matrices, bin_ids=_all_ids(problem)[:12])
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert all(r.lifts <= 5 for r in evaluation.routes)


def test_kg_collected_per_day_are_limited_across_loads() -> None:
    """200 kg bodies tip between loads, but ``max_collected_kg=300`` caps a day at three 100 kg bins."""
    problem, matrices = _grid_case(5, [_vehicle(f"v{i}", 200.0, max_collected_kg=300.0) for i in range(4)],
                                   demand_kg=100.0, sites=_tip_sites("tip"))
    plan = _solve(problem, matrices, bin_ids=_all_ids(problem)[:10])
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert all(r.load_kg <= 300.0 for r in evaluation.routes)
    assert any(r.trips >= 2 for r in evaluation.routes)


# --------------------------------------------------------------------------- time windows


def test_collections_start_inside_one_of_several_windows_after_waiting() -> None:
    """Bins open only 07:00-07:20 or 08:00-08:20: each starts inside a window, some after waiting."""
    windows = ((7 * HOUR, 7 * HOUR + 1200), (8 * HOUR, 8 * HOUR + 1200))
    fields = {i: {"time_windows": windows} for i in range(8)}
    problem, matrices = _grid_case(3, [_vehicle("v1")], bin_fields=fields)
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    visits = [v for v in evaluation.routes[0].visits if v.type == "bin"]
    assert all(any(a <= v.start_s <= z for a, z in windows) for v in visits)
    assert any(v.start_s > v.arrival_s for v in visits)


def test_windows_that_no_order_can_meet_leave_a_bin_out() -> None:
    """Two bins 1.4 km apart both open 07:00-07:01 with one truck: one of them is left out."""
    one_minute = ((7 * HOUR, 7 * HOUR + 60),)
    problem, matrices = _grid_case(3, [_vehicle("v1")], spacing_m=1000.0,
                                   bin_fields={0: {"time_windows": one_minute}, 8 - 1: {"time_windows": one_minute}})
    plan = _solve(problem, matrices, bin_ids=["b00", "b07"])
    _clean(problem, matrices, plan)
    assert len(plan.unassigned) == 1


# --------------------------------------------------------------------------- breaks


LUNCH = Break(1800, (11 * HOUR, 13 * HOUR))


def _busy_day(vehicles: Sequence[Vehicle], **kwargs: object) -> tuple[Problem, FleetMatrices]:
    """24 bins of 15 minutes each: six hours of work from 06:00."""
    return _grid_case(5, vehicles, service_s=900.0, demand_kg=10.0, **kwargs)  # type: ignore[arg-type]


def test_a_break_falls_due_and_is_taken_inside_its_window() -> None:
    """A route still out at 11:00 takes its 30-minute lunch, starting between 11:00 and 13:00."""
    problem, matrices = _busy_day([_vehicle("v1", shift_s=10 * HOUR, breaks=(LUNCH,))])
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert plan.routes[0].stops.count(BREAK_STOP) == 1
    taken = next(v for v in evaluation.routes[0].visits if v.type == "break")
    assert 11 * HOUR <= taken.start_s <= 13 * HOUR
    assert taken.departure_s - taken.start_s == 1800.0


def test_the_break_sits_after_the_stop_it_follows_in_time() -> None:
    """In the stop list the break comes right after the last stop that departs before it starts."""
    problem, matrices = _busy_day([_vehicle("v1", shift_s=10 * HOUR, breaks=(LUNCH,))])
    plan = _solve(problem, matrices)
    visits = _clean(problem, matrices, plan).routes[0].visits
    k = next(i for i, v in enumerate(visits) if v.type == "break")
    assert visits[k - 1].departure_s <= visits[k].start_s
    assert visits[k + 1].arrival_s >= visits[k].departure_s


def test_a_route_back_before_the_window_opens_takes_no_break() -> None:
    """Three bins done by 07:00: the lunch break is not due and not in the stop list."""
    problem, matrices = _grid_case(3, [_vehicle("v1", breaks=(LUNCH,))])
    plan = _solve(problem, matrices, bin_ids=["b00", "b01", "b02"])
    _clean(problem, matrices, plan)
    assert BREAK_STOP not in plan.routes[0].stops


def test_two_breaks_are_taken_in_order() -> None:
    """A tea break 09:00-09:30 and lunch 12:00-13:00: both taken, in the vehicle's order, each on time."""
    tea, lunch = Break(900, (9 * HOUR, 9 * HOUR + 1800)), Break(1800, (12 * HOUR, 13 * HOUR))
    problem, matrices = _busy_day([_vehicle("v1", shift_s=10 * HOUR, breaks=(tea, lunch))])
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    starts = [v.start_s for v in evaluation.routes[0].visits if v.type == "break"]
    assert len(starts) == 2
    assert 9 * HOUR <= starts[0] <= 9 * HOUR + 1800 and 12 * HOUR <= starts[1] <= 13 * HOUR


def test_breaks_fit_with_tips_windows_and_a_full_fleet() -> None:
    """Tips, windows and lunch together on three vehicles: every bin served, no violation."""
    fields = {i: {"time_windows": ((9 * HOUR, 11 * HOUR),)} for i in range(0, 24, 4)}
    vehicles = [_vehicle(f"v{i}", 80.0, shift_s=9 * HOUR, breaks=(LUNCH,)) for i in range(3)]
    problem, matrices = _busy_day(vehicles, sites=_tip_sites("tip"), bin_fields=fields)
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert evaluation.summary.trips >= 3


def test_placing_breaks_tries_other_places_when_the_first_is_late() -> None:
    """A break window 07:00-07:05 with 20-minute collections: after the first departure past 07:00 would
    start it late, so it goes where it starts on time."""
    problem, matrices = _grid_case(3, [_vehicle("v1", breaks=(Break(600, (7 * HOUR, 7 * HOUR + 300)),))],
                                   service_s=1200.0)
    vehicle = problem.vehicles[0]
    stops = [f"b0{i}" for i in range(8)]
    placed, ok = place_breaks(problem, matrices, vehicle, stops)
    walked = _clean(problem, matrices, Plan(routes=(RoutePlan("v1", placed),)))
    brk = next(v for v in walked.routes[0].visits if v.type == "break")
    assert ok
    assert 7 * HOUR <= brk.start_s <= 7 * HOUR + 300


def test_the_exact_break_model_takes_over_when_no_place_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the breaks of the first phase's routes find no place, the model with break intervals solves
    from those routes: every bin still served, each break on time."""
    import solver.engines.ortools.solve as engine_module

    def nowhere(problem: Problem, fleet: FleetMatrices, vehicle: Vehicle, stops: Sequence[str],
                hints: Sequence[int | None] | None = None) -> tuple[tuple[str, ...], bool]:
        placed, ok = place_breaks(problem, fleet, vehicle, stops, hints)
        return placed, ok and hints is not None

    monkeypatch.setattr(engine_module, "place_breaks", nowhere)
    problem, matrices = _busy_day([_vehicle(f"v{i}", shift_s=10 * HOUR, breaks=(LUNCH,)) for i in range(2)],
                                  sites=_tip_sites("tip"))
    plan = _solve(problem, matrices, solution_limit=100)
    evaluation = _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    starts = [v.start_s for r in evaluation.routes for v in r.visits if v.type == "break"]
    assert starts and all(11 * HOUR <= t <= 13 * HOUR for t in starts)


# --------------------------------------------------------------------------- streams and access


def test_no_recycling_bin_rides_on_a_refuse_only_vehicle() -> None:
    """Half the bins are recycling: they all ride on the recycling vehicle, each tipped where accepted."""
    fields = {i: {"stream": "recycling"} for i in range(0, 24, 2)}
    vehicles = [_vehicle("refuse", 300.0, streams=("refuse",)), _vehicle("recycling", 300.0, streams=("recycling",))]
    sites = [*_tip_sites("landfill", streams=("refuse",)),
             (DisposalSite("mrf", 0.2, 52.6, unload_s=600.0, streams=("recycling",)), (400.0, 1500.0))]
    problem, matrices = _grid_case(5, vehicles, sites=sites, bin_fields=fields)
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    refuse_stops = [s for s in _stops(plan, "refuse") if s.startswith("b")]
    assert refuse_stops and all(problem.bin(s).stream == "refuse" for s in refuse_stops)
    assert "mrf" not in _stops(plan, "refuse") and "landfill" not in _stops(plan, "recycling")


def test_a_two_stream_vehicle_never_tips_a_stream_its_site_refuses() -> None:
    """A lorry carrying refuse and recycling, with a landfill for refuse and a recycling site for
    recycling: it keeps to one stream (the heavier), so no tip refuses its load; the other stream
    goes on the recycling van."""
    fields = {i: {"stream": "recycling", "demand_kg": 20.0} for i in range(0, 24, 3)}
    vehicles = [_vehicle("lorry", 400.0, streams=("refuse", "recycling")),
                _vehicle("van", 400.0, streams=("recycling",))]
    sites = [*_tip_sites("landfill", streams=("refuse",)),
             (DisposalSite("mrf", 0.2, 52.6, unload_s=600.0, streams=("recycling",)), (400.0, 1500.0))]
    problem, matrices = _grid_case(5, vehicles, sites=sites, bin_fields=fields)
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    streams = {problem.bin(s).stream for s in _stops(plan, "lorry") if s.startswith("b")}
    assert streams == {"refuse"}


def test_a_bin_the_heavy_vehicle_cannot_reach_goes_to_the_small_one() -> None:
    """On the heavy lorry's streets bin b04 has no path; the small van's matrices reach it: the van takes it."""
    vehicles = [_vehicle("lorry", 5000.0, gross_weight_kg=26000.0), _vehicle("van", 200.0, gross_weight_kg=3500.0)]
    problem, uniform = _grid_case(3, vehicles)
    base = uniform.profiles["all"]
    heavy_d, heavy_t = base.distance_m.copy(), base.duration_s.copy()
    row = problem.location_index("b04")
    for m in (heavy_d, heavy_t):
        m[row, :] = math.inf
        m[:, row] = math.inf
        m[row, row] = 0.0
    matrices = FleetMatrices(profiles={"heavy": TravelMatrices(duration_s=heavy_t, distance_m=heavy_d), "small": base},
                             vehicle_profile={"lorry": "heavy", "van": "small"})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert "b04" in _stops(plan, "van")
    assert "b04" not in _stops(plan, "lorry")


def test_a_bin_needing_a_narrow_vehicle_goes_to_the_narrow_one() -> None:
    """b02 allows vehicles up to 2.2 m wide: only the 2.1 m van may take it."""
    vehicles = [_vehicle("wide", width_m=2.5), _vehicle("narrow", width_m=2.1)]
    problem, matrices = _grid_case(3, vehicles, bin_fields={2: {"max_vehicle_width_m": 2.2}})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert "b02" in _stops(plan, "narrow")


# --------------------------------------------------------------------------- costs and optional bins


def test_an_optional_bin_is_dropped_when_not_worth_its_penalty() -> None:
    """An optional bin 20 km out with a penalty of 1 is left out as not worth serving; one next door with
    a penalty of 1000 is served."""
    problem, matrices = _grid_case(3, [_vehicle("v1", shift_s=12 * HOUR)],
                                   bin_fields={0: {"required": False, "penalty": 1.0},
                                               1: {"required": False, "penalty": 1000.0}})
    far = problem.location_index("b00")
    for m in matrices.profiles.values():
        m.distance_m[far, :] += 20_000.0
        m.distance_m[:, far] += 20_000.0
        m.distance_m[far, far] = 0.0
        m.duration_s[far, :] += 2000.0
        m.duration_s[:, far] += 2000.0
        m.duration_s[far, far] = 0.0
    plan = _solve(problem, matrices, objective="cost")
    _clean(problem, matrices, plan)
    assert [(u.bin_id, u.reason) for u in plan.unassigned] == [("b00", "not_worth_serving")]
    assert "b01" in plan.routes[0].stops


def test_the_cost_objective_prefers_the_cheaper_vehicle() -> None:
    """Two identical trucks, one at 10 per km and 300 per hour, one at 1 and 30: under ``cost`` the cheap
    one does the round, and the plan's cost is its fixed + km + hours."""
    vehicles = [_vehicle("dear", cost_per_km=10.0, cost_per_hour=300.0),
                _vehicle("cheap", cost_per_km=1.0, cost_per_hour=30.0, fixed_cost=5.0)]
    problem, matrices = _grid_case(3, vehicles)
    plan = _solve(problem, matrices, objective="cost")
    evaluation = _clean(problem, matrices, plan)
    assert [r.vehicle_id for r in plan.routes] == ["cheap"]
    route = evaluation.routes[0]
    assert route.cost == pytest.approx(5.0 + route.distance_m / 1000.0 + 30.0 * route.duration_s / 3600.0)


def test_fixed_cost_steers_the_choice_of_vehicle() -> None:
    """Two identical trucks but the first costs 500 to send out: the free one does the round."""
    problem, matrices = _grid_case(3, [_vehicle("dear", fixed_cost=500.0), _vehicle("free")])
    plan = _solve(problem, matrices)
    assert [r.vehicle_id for r in plan.routes] == ["free"]


def test_objective_chooses_between_short_and_quick_tours() -> None:
    """D-A-B-D is 3 km but 1800 s, D-B-A-D is 6 km but 600 s: each objective picks its own."""
    distance_m = np.array([[0.0, 1000.0, 2000.0], [2000.0, 0.0, 1000.0], [1000.0, 2000.0, 0.0]])
    duration_s = np.array([[0.0, 600.0, 200.0], [200.0, 0.0, 600.0], [600.0, 200.0, 0.0]])
    matrices = TravelMatrices(duration_s=duration_s, distance_m=distance_m)
    bins = (Bin("A", -0.70, 52.6, demand_kg=10.0), Bin("B", -0.69, 52.6, demand_kg=10.0))
    problem = Problem((Depot("D", -0.71, 52.6),), (_vehicle("v1"),), bins)
    assert _solve(problem, matrices, objective="distance").routes[0].stops == ("A", "B")
    assert _solve(problem, matrices, objective="duration").routes[0].stops == ("B", "A")


# --------------------------------------------------------------------------- stability


def test_a_pinned_bin_stays_on_its_vehicle() -> None:
    """b00 is pinned to v2 although v1 serves the rest: it rides on v2."""
    problem, matrices = _grid_case(3, [_vehicle("v1"), _vehicle("v2")], bin_fields={0: {"vehicle_id": "v2"}})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert "b00" in _stops(plan, "v2")


def test_locked_stops_stay_first_in_their_order() -> None:
    """v1's first two initial stops, far corners, are locked: the new round still starts with them."""
    problem, matrices = _grid_case(5, [_vehicle("v1"), _vehicle("v2")])
    initial = (InitialRoute("v1", ("b23", "b00", "b05", "b06"), locked=2),)
    plan = _solve(problem, matrices, initial_routes=initial)
    _clean(problem, matrices, plan)
    assert _stops(plan, "v1")[:2] == ("b23", "b00")


def test_a_warm_start_is_reproduced_when_the_search_stops_at_once() -> None:
    """With a solution limit of one, the plan is the initial plan itself (its tips kept, the break placed)."""
    problem, matrices = _tipping_case()
    first = _solve(problem, matrices, solution_limit=50)
    initial = tuple(InitialRoute(r.vehicle_id, r.stops) for r in first.routes)
    again = _solve(problem, matrices, solution_limit=1, initial_routes=initial)
    assert again.routes == first.routes


def test_a_warm_start_never_gets_worse() -> None:
    """From a deliberately poor round (bins in id order), the plan costs no more than the start."""
    problem, matrices = _tipping_case()
    poor = ("b00", "b19", "b01", "b18", "b02", "tip", "b17", "b03", "b16", "b04", "b15", "tip",
            "b05", "b14", "b06", "b13", "b07", "tip", "b12", "b08", "b11", "b09", "b10", "tip")
    options = SolveOptions(time_limit_s=10.0, objective="cost", initial_routes=(InitialRoute("v1", poor),))
    start_cost = plan_cost(problem, matrices, Plan(routes=(RoutePlan("v1", poor),)), options=options)
    plan = OrToolsEngine(solution_limit=20).solve(problem, matrices, bin_ids=_all_ids(problem), options=options)
    _clean(problem, matrices, plan, options)
    assert plan_cost(problem, matrices, plan, options=options) <= start_cost + 1e-6


def test_a_warm_start_with_unknown_and_unservable_stops_still_starts() -> None:
    """Initial stops naming an unknown id, a bin not asked for, a stray break and a tip right after the
    depot are left out of the start; the plan serves every bin asked for."""
    problem, matrices = _tipping_case()
    stops = ("tip", "zz", "b00", BREAK_STOP, "b01", "b02", "b03", "b04", "tip", "b05")
    plan = _solve(problem, matrices, bin_ids=_all_ids(problem)[:10],
                  initial_routes=(InitialRoute("v1", stops, locked=3),))
    _clean(problem, matrices, plan)
    assert plan.unassigned == ()
    assert plan.routes[0].stops[0] == "b00"


def test_move_penalty_keeps_bins_on_their_round() -> None:
    """Two rounds that swapped some bins: free to move, the search moves some; at 1000 a bin, none."""
    problem, matrices = _grid_case(5, [_vehicle("west", 600.0), _vehicle("east", 600.0)], demand_kg=40.0)
    ids = _all_ids(problem)
    west, east = ids[:12], ids[12:]
    swapped = (InitialRoute("west", (*west[:9], *east[:3])), InitialRoute("east", (*east[3:], *west[9:])))
    free = SolveOptions(time_limit_s=10.0, initial_routes=swapped, objective="distance")
    costly = SolveOptions(time_limit_s=10.0, initial_routes=swapped, objective="distance", move_penalty=1000.0)
    engine = OrToolsEngine(solution_limit=200)
    moved_free = evaluate(problem, matrices, engine.solve(problem, matrices, bin_ids=ids, options=free),
                          options=free).summary.bins_moved
    kept = engine.solve(problem, matrices, bin_ids=ids, options=costly)
    assert moved_free > 0
    assert _clean(problem, matrices, kept, costly).summary.bins_moved == 0


# --------------------------------------------------------------------------- at scale


@pytest.mark.slow
def test_a_thousand_bins_with_tips_windows_streams_and_lunch_have_no_violation() -> None:
    """1,000 bins (two streams, a tenth with windows), two tips, eight vehicles with lunch: a 30 s solve
    serves every bin with no violation and stays within the limit."""
    rng = np.random.default_rng(7)
    n = 1000
    xy_bins = rng.uniform(0.0, 8000.0, size=(n, 2))
    xy = np.vstack([[[4000.0, 4000.0]], [[0.0, 0.0], [8000.0, 8000.0]], xy_bins])
    distance_m = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    matrices = TravelMatrices(duration_s=distance_m / 8.0, distance_m=distance_m)
    bins = []
    for i in range(n):
        opens = int(rng.integers(7, 11)) * HOUR
        windows: tuple[tuple[int, int], ...] = ((opens, opens + 2 * HOUR),) if i % 10 == 0 else ()
        bins.append(Bin(f"b{i:04d}", -0.7, 52.6, demand_kg=float(rng.uniform(5, 25)), volume_l=240.0,
                        stream="recycling" if i % 3 == 0 else "refuse", time_windows=windows))
    sites = (DisposalSite("landfill", -0.8, 52.5, unload_s=900.0, streams=("refuse",)),
             DisposalSite("mrf", -0.6, 52.7, unload_s=900.0, streams=("recycling",), opening=(7 * HOUR, 17 * HOUR)))
    vehicles = tuple(_vehicle(f"v{k}", 1500.0, shift_s=9 * HOUR, capacity_l=24000.0, breaks=(LUNCH,),
                              streams=("recycling",) if k < 3 else ("refuse",)) for k in range(8))
    problem = Problem((Depot("D", -0.7, 52.6),), vehicles, tuple(bins), sites)
    fleet = FleetMatrices.uniform(matrices, [v.id for v in vehicles])
    started = time.perf_counter()
    plan = OrToolsEngine().solve(problem, fleet, bin_ids=[b.id for b in bins], options=SolveOptions(time_limit_s=30.0))
    assert time.perf_counter() - started < 33.0
    evaluation = _clean(problem, fleet, plan)
    assert plan.unassigned == ()
    assert evaluation.summary.bins_served == n
