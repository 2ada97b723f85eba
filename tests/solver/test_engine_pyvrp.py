"""Real PyVRP solves on small synthetic matrices, checked by the evaluator.

Bins lie on a grid (200 m apart, straight-line distances at 10 m/s) around one depot;
disposal sites sit off the grid. Searches stop after an iteration cap (with a time
limit as a backstop), so they are quick and repeatable. Every plan is scored by
:func:`solver.evaluate.evaluate`, which must find no violation. One more case runs
through the pipeline on Monaco's real streets, and one gives the same data to both
engines.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytest
import pyvrp

from solver.engines import OrToolsEngine, PyVrpEngine, required_features
from solver.engines.pyvrp import model as pyvrp_model
from solver.engines.pyvrp import solve as pyvrp_solve
from solver.evaluate import evaluate
from solver.matrix import FleetMatrices, TravelMatrices
from solver.network import RoadNetwork
from solver.pipeline import optimise
from solver.problem import (
    Bin,
    Break,
    Depot,
    DisposalSite,
    InitialRoute,
    Objective,
    Problem,
    ProblemError,
    SolveOptions,
    Vehicle,
)
from solver.solution import Evaluation, Plan, RouteEvaluation
from solver.synthetic import kerbside_bins

HOUR = 3600
SHIFT_START_S = 6 * HOUR
SPEED_M_PER_S = 10.0
SPACING_M = 200.0
ITERATIONS = 300


def _vehicle(vehicle_id: str, capacity_kg: float = 1000.0, **changes: object) -> Vehicle:
    fields: dict[str, object] = {"shift_start_s": SHIFT_START_S, "shift_end_s": SHIFT_START_S + 8 * HOUR}
    fields.update(changes)
    return Vehicle(vehicle_id, "D", capacity_kg, **fields)  # type: ignore[arg-type]


def _case(side: int, vehicles: Sequence[Vehicle], *, sites: Sequence[tuple[DisposalSite, tuple[float, float]]] = (),
          bin_fields: Callable[[int], Mapping[str, object]] = lambda i: {},
          demand_kg: float = 50.0) -> tuple[Problem, FleetMatrices]:
    """A ``side`` x ``side`` grid: the depot D at the centre, bins on the other points, and
    disposal sites at the given (x, y) metres; every vehicle drives by the same matrices."""
    points = [(x * SPACING_M, y * SPACING_M) for x in range(side) for y in range(side)]
    centre = points.pop(len(points) // 2)
    xy = np.array([centre, *(at for _, at in sites), *points])
    bins = tuple(Bin(f"b{i:02d}", -0.7 + 0.001 * i, 52.6, **({"demand_kg": demand_kg} | dict(bin_fields(i))))  # type: ignore[arg-type]
                 for i in range(len(points)))
    problem = Problem((Depot("D", -0.7, 52.6),), tuple(vehicles), bins,
                      disposal_sites=tuple(site for site, _ in sites))
    return problem, _fleet(problem, xy)


def _fleet(problem: Problem, xy: np.ndarray) -> FleetMatrices:
    """Straight-line matrices between the points ``xy`` (metres), the same for every vehicle."""
    distance = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    travel = TravelMatrices(duration_s=distance / SPEED_M_PER_S, distance_m=distance)
    return FleetMatrices.uniform(travel, [v.id for v in problem.vehicles])


def _solve(problem: Problem, matrices: FleetMatrices, *, seed: int = 0, objective: Objective = "duration",
           iterations: int = ITERATIONS, bin_ids: Sequence[str] | None = None,
           initial_routes: tuple[InitialRoute, ...] = ()) -> Plan:
    ids = [b.id for b in problem.bins] if bin_ids is None else list(bin_ids)
    options = SolveOptions(time_limit_s=20.0, seed=seed, engine="pyvrp", objective=objective,
                           initial_routes=initial_routes)
    return PyVrpEngine(max_iterations=iterations).solve(problem, matrices, bin_ids=ids, options=options)


def _clean(problem: Problem, matrices: FleetMatrices, plan: Plan) -> Evaluation:
    """The plan's evaluation, after checking it has no violation."""
    evaluation = evaluate(problem, matrices, plan)
    found = [(r.vehicle_id, v.type, v.stop, v.detail) for r in evaluation.routes for v in r.violations]
    assert found == []
    return evaluation


def _route(evaluation: Evaluation, vehicle_id: str) -> RouteEvaluation:
    return next(r for r in evaluation.routes if r.vehicle_id == vehicle_id)


TIP_FAR_WEST = (DisposalSite("tip", -0.8, 52.6, unload_s=600.0), (-1500.0, 400.0))


# --- the capacitated VRP ----------------------------------------------------------------------


def test_every_bin_is_routed_exactly_once() -> None:
    """24 bins, three 500 kg lorries for 1,200 kg: each bin on exactly one route, none left out."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 500.0) for i in range(3)])
    plan = _solve(problem, matrices)
    assert plan.unassigned == ()
    assert Counter(s for r in plan.routes for s in r.stops) == Counter(b.id for b in problem.bins)


def test_capacity_is_respected() -> None:
    """20 bins of 100 kg, 500 kg lorries: no route above 500 kg, so at least four are used."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 500.0) for i in range(6)], demand_kg=100.0)
    plan = _solve(problem, matrices, bin_ids=[b.id for b in problem.bins][:20])
    evaluation = _clean(problem, matrices, plan)
    assert evaluation.summary.bins_served == 20
    assert all(r.load_kg <= 500.0 for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 4


def test_shift_is_respected() -> None:
    """Five minutes per bin in one-hour shifts: the 24 bins need three or more vehicles, none late back."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", shift_end_s=SHIFT_START_S + HOUR) for i in range(4)],
                              bin_fields=lambda i: {"service_s": 300.0})
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    assert evaluation.summary.bins_served == 24
    assert all(r.duration_s <= HOUR for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 3


def test_a_bin_heavier_than_every_vehicle_is_unassigned_for_capacity() -> None:
    """The screen rules out a 2 t bin for 1 t lorries with the checked reason ``capacity``."""
    problem, matrices = _case(3, [_vehicle("v1")], bin_fields=lambda i: {"demand_kg": 2000.0} if i == 0 else {})
    plan = _solve(problem, matrices)
    assert [(u.bin_id, u.reason) for u in plan.unassigned] == [("b00", "capacity")]
    assert _clean(problem, matrices, plan).summary.bins_served == 7


def test_required_bins_that_cannot_all_fit_drop_out_without_violations() -> None:
    """One 500 kg lorry and ten 100 kg bins, no tip: the plan serves five and leaves five out
    with ``no_feasible_insertion``, rather than an overloaded route."""
    problem, matrices = _case(5, [_vehicle("v1", 500.0)], demand_kg=100.0)
    plan = _solve(problem, matrices, bin_ids=[b.id for b in problem.bins][:10])
    evaluation = _clean(problem, matrices, plan)
    assert evaluation.summary.bins_served == 5
    assert [u.reason for u in plan.unassigned] == ["no_feasible_insertion"] * 5


def test_the_last_resort_repair_leaves_bins_out_until_a_route_is_feasible() -> None:
    """When even the relaxed search ends infeasible, a route is cut down greedily: ten 100 kg bins
    on one 500 kg lorry, two of them due by 06:05, become a feasible route of five bins."""
    def fields(i: int) -> dict[str, object]:
        return {"time_windows": ((SHIFT_START_S, SHIFT_START_S + 300),)} if i >= 8 else {}

    problem, matrices = _case(5, [_vehicle("v1", 500.0)], demand_kg=100.0, bin_fields=fields)
    model = pyvrp_model._Builder(problem, matrices, problem.bins[:10], SolveOptions()).build()
    everything = pyvrp.Route(model.data, list(range(10)), 0)
    assert not everything.is_feasible()
    repaired = pyvrp_solve._repaired(model.data, everything)
    assert repaired is not None and repaired.is_feasible()
    assert repaired.num_clients() == 5


def test_the_same_seed_gives_the_same_plan() -> None:
    """Two runs with seed 7 and the same iteration cap return identical plans."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 300.0) for i in range(5)])
    assert _solve(problem, matrices, seed=7) == _solve(problem, matrices, seed=7)


def test_volume_capacity_is_respected() -> None:
    """240 l bins in 1,200 l bodies: the litres, not the kg, bind; no route above 1,200 l."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 5000.0, capacity_l=1200.0) for i in range(6)],
                              bin_fields=lambda i: {"volume_l": 240.0})
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    assert evaluation.summary.bins_served == 24
    assert all(r.load_l <= 1200.0 for r in evaluation.routes)
    assert evaluation.summary.vehicles_used >= 5


# --- disposal trips -----------------------------------------------------------------------------


def test_a_vehicle_tips_whenever_full_and_before_returning() -> None:
    """One 300 kg lorry, 24 bins of 50 kg: at least four tips, never more than 300 kg between
    two tips, the last stop a tip, and every tip's unload time counted."""
    problem, matrices = _case(5, [_vehicle("v1", 300.0)], sites=[TIP_FAR_WEST])
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    route = _route(evaluation, "v1")
    assert route.n_bins == 24
    assert route.trips >= math.ceil(24 * 50 / 300)
    assert max(v.load_kg for v in route.visits) <= 300.0
    assert route.visits[-2].type == "disposal"
    assert all(v.departure_s - v.start_s == 600.0 for v in route.visits if v.type == "disposal")


def test_unloads_start_within_the_sites_opening_hours() -> None:
    """A tip open 06:00-06:50 and one open 09:00-18:00, a 300 kg lorry and 24 bins of 50 kg:
    the early tip takes the first loads, the late one the rest (the lorry waits for it to open),
    and no unload starts outside its site's hours."""
    early = DisposalSite("early", -0.8, 52.6, unload_s=600.0, opening=(6 * HOUR, 6 * HOUR + 3000))
    late = DisposalSite("late", -0.6, 52.6, unload_s=600.0, opening=(9 * HOUR, 18 * HOUR))
    problem, matrices = _case(5, [_vehicle("v1", 300.0)], sites=[(early, (-600.0, 400.0)), (late, (1400.0, 400.0))])
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    route = _route(evaluation, "v1")
    assert route.n_bins == 24
    tips = [v for v in route.visits if v.type == "disposal"]
    assert {v.location_id for v in tips} == {"early", "late"}
    for visit in tips:
        opens, closes = problem.site(visit.location_id).opening
        assert opens <= visit.start_s <= closes


def test_the_last_tip_starts_before_its_site_closes() -> None:
    """The only tip closes at 06:40 and the lorry must tip before returning: it collects only
    what it can tip by then (2-minute bins, 24 of them would take 48 minutes) and leaves the rest."""
    site = DisposalSite("tip", -0.8, 52.6, unload_s=600.0, opening=(0, 6 * HOUR + 2400))
    problem, matrices = _case(5, [_vehicle("v1", 2000.0)], sites=[(site, (-600.0, 400.0))],
                              bin_fields=lambda i: {"service_s": 120.0})
    plan = _solve(problem, matrices)
    route = _route(_clean(problem, matrices, plan), "v1")
    assert route.visits[-2].type == "disposal"
    assert route.visits[-2].start_s <= 6 * HOUR + 2400
    assert 5 <= route.n_bins < 24
    assert len(plan.unassigned) == 24 - route.n_bins


def test_the_nearer_of_two_sites_takes_the_last_load() -> None:
    """With a tip far west and one next to the depot, the final tip is the near one."""
    near = (DisposalSite("near", -0.7, 52.6, unload_s=600.0), (0.0, 0.0))
    problem, matrices = _case(5, [_vehicle("v1", 2000.0)], sites=[TIP_FAR_WEST, near])
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    assert plan.routes[0].stops[-1] == "near"


def test_a_vehicle_free_to_return_loaded_does_not_tip_needlessly() -> None:
    """Without ``tip_before_return`` and with room for every bin, the far tip is never visited."""
    problem, matrices = _case(5, [_vehicle("v1", 2000.0, tip_before_return=False)], sites=[TIP_FAR_WEST])
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    assert _route(evaluation, "v1").trips == 0


def test_vehicles_tip_only_where_their_stream_is_accepted() -> None:
    """A recycling lorry and a refuse lorry, a recycling-only and a refuse-only site: each
    lorry collects only its stream and tips only at its own site."""
    recycling_site = (DisposalSite("mrf", -0.8, 52.6, streams=("recycling",)), (-1500.0, 0.0))
    refuse_site = (DisposalSite("landfill", -0.6, 52.6, streams=("refuse",)), (2300.0, 0.0))
    problem, matrices = _case(5, [_vehicle("rec", 400.0, streams=("recycling",)),
                                  _vehicle("ref", 400.0, streams=("refuse",))],
                              sites=[recycling_site, refuse_site],
                              bin_fields=lambda i: {"stream": "recycling" if i % 2 else "refuse"})
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    assert evaluation.summary.bins_served == 24
    for route, site in (("rec", "mrf"), ("ref", "landfill")):
        tips = {v.location_id for v in _route(evaluation, route).visits if v.type == "disposal"}
        assert tips == {site}


# --- time windows -------------------------------------------------------------------------------


def test_collections_start_within_their_windows() -> None:
    """Every third bin may be collected only 08:00-08:30 or only 07:00-07:20: each starts in its window."""
    def window(i: int) -> dict[str, object]:
        if i % 3:
            return {}
        return {"time_windows": ((8 * HOUR, 8 * HOUR + 1800),) if i % 2 else ((7 * HOUR, 7 * HOUR + 1200),)}

    problem, matrices = _case(5, [_vehicle(f"v{i}") for i in range(2)], bin_fields=window)
    evaluation = _clean(problem, matrices, _solve(problem, matrices))
    assert evaluation.summary.bins_served == 24
    for route in evaluation.routes:
        for visit in route.visits:
            if visit.type == "bin" and problem.bin(visit.location_id).time_windows:
                (opens, closes), = problem.bin(visit.location_id).time_windows
                assert opens <= visit.start_s <= closes


def test_a_bin_with_two_windows_is_collected_in_one_of_them() -> None:
    """Six 5-minute bins each open 06:00-06:05 or 09:00-09:30, one lorry: the first window takes
    at most two, so both windows are used and every collection starts inside one."""
    windows = ((SHIFT_START_S, SHIFT_START_S + 300), (9 * HOUR, 9 * HOUR + 1800))
    problem, matrices = _case(3, [_vehicle("v1")], bin_fields=lambda i: {"time_windows": windows, "service_s": 300.0})
    plan = _solve(problem, matrices, bin_ids=[b.id for b in problem.bins][:6])
    evaluation = _clean(problem, matrices, plan)
    starts = [v.start_s for v in _route(evaluation, "v1").visits if v.type == "bin"]
    assert len(starts) == 6
    used = {k for s in starts for k, (opens, closes) in enumerate(windows) if opens <= s <= closes}
    assert used == {0, 1}
    assert all(any(opens <= s <= closes for opens, closes in windows) for s in starts)


# --- compatibility and access -------------------------------------------------------------------


def test_pinned_bins_ride_on_their_vehicle() -> None:
    """Five bins pinned to v2 are all on v2's route."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 400.0) for i in range(1, 5)],
                              bin_fields=lambda i: {"vehicle_id": "v2"} if i < 5 else {})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    route = next(r for r in plan.routes if r.vehicle_id == "v2")
    assert {f"b{i:02d}" for i in range(5)} <= set(route.stops)


def test_bins_go_only_on_vehicles_that_carry_their_stream() -> None:
    """Recycling bins on the recycling lorry, refuse bins on the refuse lorry, none mixed up."""
    problem, matrices = _case(5, [_vehicle("rec", streams=("recycling",)), _vehicle("ref", streams=("refuse",))],
                              bin_fields=lambda i: {"stream": "recycling" if i % 3 == 0 else "refuse"})
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    for route in plan.routes:
        carried = problem.vehicle(route.vehicle_id).streams
        assert all(problem.bin(s).stream in carried for s in route.stops)


def test_each_vehicle_drives_by_its_own_matrices() -> None:
    """The lorry's matrices have no path to two bins (a weight-restricted street): the van
    takes them, and a bin limited to 2.2 m wide goes on the 2.0 m van too."""
    problem, _ = _case(5, [_vehicle("lorry", 2000.0, width_m=2.55, gross_weight_kg=26_000.0),
                           _vehicle("van", 600.0, width_m=2.0, gross_weight_kg=3_500.0)],
                       bin_fields=lambda i: {"max_vehicle_width_m": 2.2} if i == 7 else {})
    points = [(x * SPACING_M, y * SPACING_M) for x in range(5) for y in range(5)]
    centre = points.pop(len(points) // 2)
    xy = np.array([centre, *points])
    distance = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    open_to_all = TravelMatrices(duration_s=distance / SPEED_M_PER_S, distance_m=distance)
    closed = distance.copy()
    for blocked in (problem.location_index("b03"), problem.location_index("b11")):
        closed[blocked, :] = np.inf
        closed[:, blocked] = np.inf
        closed[blocked, blocked] = 0.0
    lorry_only = TravelMatrices(duration_s=closed / SPEED_M_PER_S, distance_m=closed)
    matrices = FleetMatrices(profiles={"hgv": lorry_only, "van": open_to_all},
                             vehicle_profile={"lorry": "hgv", "van": "van"})
    plan = _solve(problem, matrices)
    evaluation = _clean(problem, matrices, plan)
    assert evaluation.summary.bins_served == 24
    van = next(r for r in plan.routes if r.vehicle_id == "van")
    assert {"b03", "b11", "b07"} <= set(van.stops)


# --- objectives, optional bins, warm starts -----------------------------------------------------


def _two_way_case() -> tuple[Problem, FleetMatrices]:
    """Depot and bins A, B: A then B is short but slow (3 km, 900 s), B then A long but fast (6 km, 300 s)."""
    problem = Problem((Depot("D", -0.7, 52.6),), (_vehicle("v1"),),
                      (Bin("A", -0.71, 52.6, demand_kg=10.0), Bin("B", -0.72, 52.6, demand_kg=10.0)))
    distance = np.array([[0, 1000, 2000], [2000, 0, 1000], [1000, 2000, 0]], dtype=float)
    duration = np.array([[0, 300, 100], [100, 0, 300], [300, 100, 0]], dtype=float)
    return problem, FleetMatrices.uniform(TravelMatrices(duration_s=duration, distance_m=distance), ["v1"])


@pytest.mark.parametrize(("objective", "order"), [("duration", ("B", "A")), ("distance", ("A", "B"))])
def test_the_objective_decides_between_time_and_distance(objective: Objective, order: tuple[str, ...]) -> None:
    """Minimising duration takes the fast way round, minimising distance the short one."""
    problem, matrices = _two_way_case()
    plan = _solve(problem, matrices, objective=objective)
    assert plan.routes[0].stops == order


def test_the_cost_objective_weighs_kilometres_against_hours() -> None:
    """At 10 per km and nothing per hour, the money objective takes the short way round."""
    problem, matrices = _two_way_case()
    pricey_km = Problem(problem.depots, (_vehicle("v1", cost_per_km=10.0, cost_per_hour=0.0),), problem.bins)
    assert _solve(pricey_km, matrices, objective="cost").routes[0].stops == ("A", "B")


def test_a_fixed_cost_keeps_vehicles_in_the_depot() -> None:
    """Under the cost objective, a fixed cost of 1,000 per vehicle makes one lorry do the work
    that two would share without it."""
    lorries = [_vehicle(f"v{i}", 5000.0, fixed_cost=1000.0) for i in range(2)]
    problem, matrices = _case(5, lorries)
    evaluation = _clean(problem, matrices, _solve(problem, matrices, objective="cost"))
    assert evaluation.summary.vehicles_used == 1


def test_optional_bins_are_served_only_when_worth_their_penalty() -> None:
    """Two optional bins: the one whose penalty (0.01, about a second of a 30-an-hour crew) is below
    any detour is left out, the one worth 1,000 is served."""
    problem, matrices = _case(3, [_vehicle("v1")], bin_fields=lambda i: {
        0: {"required": False, "penalty": 0.01}, 1: {"required": False, "penalty": 1000.0}}.get(i, {}))
    plan = _solve(problem, matrices)
    _clean(problem, matrices, plan)
    served = {s for r in plan.routes for s in r.stops}
    assert "b01" in served and "b00" not in served
    assert [u.bin_id for u in plan.unassigned] == ["b00"]


def test_a_warm_start_is_kept_when_no_search_improves_it() -> None:
    """From an earlier plan, with its tips, breaks and an unknown stop to ignore, one iteration
    returns a plan at least as short as the earlier one."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 300.0) for i in range(5)], sites=[TIP_FAR_WEST])
    earlier = _solve(problem, matrices, iterations=500)
    before = _clean(problem, matrices, earlier).summary.duration_s
    initial = tuple(InitialRoute(r.vehicle_id, ("break", *r.stops, "nowhere")) for r in earlier.routes)
    again = _solve(problem, matrices, iterations=1, initial_routes=initial)
    assert _clean(problem, matrices, again).summary.duration_s <= before + 1e-6


def test_a_warm_start_keeps_rounds_on_their_vehicles() -> None:
    """Alike lorries are interchangeable to PyVRP, but a round of the earlier plan comes back on
    the lorry that drove it, even when the earlier plan gave the rounds to other lorries."""
    problem, matrices = _case(5, [_vehicle(f"v{i}", 300.0) for i in range(5)])
    earlier = _solve(problem, matrices, iterations=500)
    ids = [r.vehicle_id for r in earlier.routes]
    moved = tuple(InitialRoute(ids[(k + 1) % len(ids)], r.stops) for k, r in enumerate(earlier.routes))
    again = _solve(problem, matrices, iterations=1, initial_routes=moved)
    before = {r.vehicle_id: set(r.stops) for r in moved}
    for route in again.routes:
        assert len(before.get(route.vehicle_id, set()) & set(route.stops)) * 2 > len(route.stops)


def test_a_request_with_breaks_is_refused() -> None:
    """PyVRP cannot place breaks: solving a shift with a break raises a ProblemError on options.engine."""
    problem, matrices = _case(3, [_vehicle("v1", breaks=(Break(1800.0, (11 * HOUR, 13 * HOUR)),))])
    with pytest.raises(ProblemError) as caught:
        _solve(problem, matrices)
    assert caught.value.field == "options.engine"
    assert "breaks" in str(caught.value)


# --- both engines on the same data --------------------------------------------------------------


def test_both_engines_plan_the_same_request_without_violations() -> None:
    """Tips, windows, volumes and two streams: OR-Tools and PyVRP read the same problem and
    matrices, and the evaluator finds no violation in either plan, every bin served."""
    sites = [(DisposalSite("mrf", -0.8, 52.6, streams=("recycling",)), (-1500.0, 0.0)),
             (DisposalSite("landfill", -0.6, 52.6, unload_s=600.0, opening=(6 * HOUR, 18 * HOUR)), (2300.0, 0.0))]

    def bin_fields(i: int) -> dict[str, object]:
        fields: dict[str, object] = {"stream": "recycling" if i % 2 else "refuse", "volume_l": 240.0}
        if i % 5 == 0:
            fields["time_windows"] = ((8 * HOUR, 10 * HOUR),)
        return fields

    vehicles = [_vehicle("rec", 300.0, capacity_l=1500.0, streams=("recycling",)),
                _vehicle("ref", 300.0, capacity_l=1500.0, streams=("refuse",)),
                _vehicle("both", 300.0, capacity_l=1500.0, streams=("refuse", "recycling"))]
    problem, matrices = _case(5, vehicles, sites=sites, bin_fields=bin_fields)
    options = SolveOptions(time_limit_s=20.0, seed=1)
    needed = required_features(problem, options, matrices=matrices)
    assert needed == {"disposal_sites", "time_windows", "multi_capacity", "streams"}
    ids = [b.id for b in problem.bins]
    for engine in (PyVrpEngine(max_iterations=ITERATIONS), OrToolsEngine(solution_limit=300)):
        assert needed <= engine.features
        plan = engine.solve(problem, matrices, bin_ids=ids, options=options)
        evaluation = _clean(problem, matrices, plan)
        assert evaluation.summary.bins_served == 24, engine.name
        assert evaluation.summary.trips >= 3, engine.name


def test_rounds_on_monaco_streets_end_at_the_tip(monaco: RoadNetwork) -> None:
    """Through the pipeline on Monaco's streets (snapping, each vehicle's own matrices, the
    evaluator): 60 kerbside bins, a tip and two 400 kg lorries, one of them a 26 t lorry with
    its own access profile. PyVRP serves every bin with no violation, each round ending at the tip."""
    bins = kerbside_bins(monaco, 60, seed=3)
    (spot,) = kerbside_bins(monaco, 1, seed=99, prefix="t")
    problem = Problem(depots=(Depot("depot", 7.4149, 43.7302),),
                      vehicles=(Vehicle("rcv-1", "depot", 400.0, gross_weight_kg=26_000.0, width_m=2.55),
                                Vehicle("rcv-2", "depot", 400.0)),
                      bins=tuple(bins), disposal_sites=(DisposalSite("tip", spot.lon, spot.lat, unload_s=600.0),))
    rounds = optimise(problem, monaco, SolveOptions(time_limit_s=2.0, engine="pyvrp"))
    summary = rounds.evaluation.summary
    assert summary.violations == 0
    assert summary.bins_served == 60
    assert summary.trips >= math.ceil(sum(b.demand_kg for b in bins) / 400.0)
    assert all(r.visits[-2].type == "disposal" for r in rounds.evaluation.routes)
