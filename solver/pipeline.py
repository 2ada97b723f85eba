"""Problem in, evaluated and drawn plan out: snap, matrix, solve, evaluate, draw.

:func:`optimise` is the one path every caller (API, CLI, notebooks, batch) takes
from a :class:`~solver.problem.Problem` to rounds on real streets;
:func:`evaluate_plan` takes a plan made by a person (today's rounds) the same way,
without solving. Each stage is timed and logged at INFO.

Access: every vehicle drives by the matrices of its size (its
:class:`~solver.network.AccessProfile`), and its route is drawn on the same streets.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
from shapely.geometry import LineString

from solver.aggregate import Aggregation, aggregate_bins
from solver.decompose import Part, ScaleOptions, n_parts_for, run_all, subproblem, sweep_parts
from solver.engines import choose_engine
from solver.evaluate import count_moves, evaluate, evaluate_route, summarise
from solver.feasibility import explain_dropped, screen_bins
from solver.geometry import route_lines
from solver.matrix import FleetMatrices, Legs, TravelMatrices, fleet_matrices
from solver.network import AccessProfile, RoadNetwork
from solver.problem import Bin, Depot, DisposalSite, Problem, ProblemError, SolveOptions
from solver.progress import ProgressCallback, ProgressReporter
from solver.snapping import OFF_NETWORK, OK, SnappedPoints, component_of, snap_points
from solver.solution import Evaluation, Plan, RouteEvaluation, RoutePlan, Unassigned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRounds:
    """The result of :func:`optimise` or :func:`evaluate_plan`.

    ``evaluation`` holds every figure; ``route_lines`` maps vehicle id to its
    street-following LineString (lon/lat); ``stop_points`` maps location id (depot,
    disposal site or bin) to the ``(lon, lat)`` point on the street where the vehicle
    stops (absent for off-network points; a break happens at the previous stop's
    point); ``timings_s`` maps stage name to seconds spent; ``sizes`` holds, for a
    large problem (:func:`optimise_large`), the ``stops`` it was solved as and the
    ``parts`` it was cut into.
    """

    evaluation: Evaluation
    route_lines: dict[str, LineString]
    stop_points: dict[str, tuple[float, float]]
    timings_s: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedProblem:
    """A problem placed on the network: snapped points (matrix order), the legs of each
    access profile (keyed like ``matrices.profiles``), the fleet's matrices, and the
    bins that cannot be placed at all (off the network or cut off from the depots)."""

    problem: Problem
    network: RoadNetwork
    snapped: SnappedPoints
    legs: dict[str, Legs]
    matrices: FleetMatrices
    unplaceable: tuple[Unassigned, ...]

    def legs_for(self, vehicle_id: str) -> Legs:
        """The legs vehicle ``vehicle_id`` drives by."""
        return self.legs[self.matrices.vehicle_profile[vehicle_id]]


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - started
        log.info("stage %s took %.3f s", name, self.timings[name])


def _lonlat(problem: Problem) -> np.ndarray:
    """Every location's lon/lat in matrix order: depots, disposal sites, bins."""
    places: list[Depot | DisposalSite | Bin] = [*problem.depots, *problem.disposal_sites, *problem.bins]
    return np.array([[p.lon, p.lat] for p in places], dtype=float).reshape(-1, 2)


def _snap(problem: Problem, network: RoadNetwork, snap_limit_m: float) -> SnappedPoints:
    """Snap every location; ``ProblemError`` for a depot or disposal site that cannot be placed."""
    n_depots = len(problem.depots)
    points = _lonlat(problem)
    # depots prefer the main part of the network, else the street nearest to them
    depot_snap = snap_points(network, points[:n_depots], limit_m=snap_limit_m)
    components = set()
    for i, depot in enumerate(problem.depots):
        if depot_snap.status[i] == OFF_NETWORK:
            raise ProblemError(
                f"depot {depot.id!r} is {depot_snap.distance_m[i]:.0f} m from the nearest street "
                f"of the network (limit {snap_limit_m:.0f} m)", field=f"depots[{i}]", item_id=depot.id)
        comp = component_of(network, depot_snap, i)
        if comp is None:
            raise ProblemError(f"depot {depot.id!r} lies on a one-way street out of a cut-off "
                               "part of the network", field=f"depots[{i}]", item_id=depot.id)
        components.add(comp)
    snapped = snap_points(network, points, limit_m=snap_limit_m, reachable_components=components)
    offset = problem.site_offset()
    for i, site in enumerate(problem.disposal_sites):
        status = snapped.status[offset + i]
        if status == OFF_NETWORK:
            raise ProblemError(
                f"disposal site {site.id!r} is {snapped.distance_m[offset + i]:.0f} m from the nearest street "
                f"of the network (limit {snap_limit_m:.0f} m)", field=f"disposal_sites[{i}]", item_id=site.id)
        if status != OK:
            raise ProblemError(f"disposal site {site.id!r} lies on a street cut off from the depots' part of "
                               "the network (a vehicle could not get there and back)",
                               field=f"disposal_sites[{i}]", item_id=site.id)
    return snapped


def _unplaceable(problem: Problem, snapped: SnappedPoints, snap_limit_m: float) -> list[Unassigned]:
    """Bins off the network or cut off from the depots, with their reasons."""
    unplaceable = []
    offset = problem.bin_offset()
    for j, b in enumerate(problem.bins):
        i = offset + j
        if snapped.status[i] == OFF_NETWORK:
            unplaceable.append(Unassigned(b.id, "off_network",
                                          f"{snapped.distance_m[i]:.0f} m from the nearest street "
                                          f"(limit {snap_limit_m:.0f} m)"))
        elif snapped.status[i] != OK:
            unplaceable.append(Unassigned(b.id, "unreachable",
                                          "its street is cut off from the depots' part of the network "
                                          "(a vehicle could not get there and back)"))
    return unplaceable


def _check_access(problem: Problem, matrices: FleetMatrices, legs: dict[str, Legs]) -> None:
    """``ProblemError`` for a vehicle whose size closes its depot's street to it, or a
    disposal site no vehicle can drive to from its depot and back."""
    for i, vehicle in enumerate(problem.vehicles):
        if not legs[matrices.vehicle_profile[vehicle.id]].valid[problem.location_index(vehicle.depot_id)]:
            raise ProblemError(
                f"vehicle {vehicle.id!r} cannot leave its depot {vehicle.depot_id!r}: the depot's street is "
                f"closed to a vehicle of its size ({AccessProfile.of(vehicle).key})", field=f"vehicles[{i}].depot",
                item_id=vehicle.id)
    offset = problem.site_offset()
    for i, site in enumerate(problem.disposal_sites):
        row = offset + i
        if not any(math.isfinite(m.duration_s[depot, row]) and math.isfinite(m.duration_s[row, depot])
                   for m, depot in ((matrices.for_vehicle(v.id), problem.location_index(v.depot_id))
                                    for v in problem.vehicles)):
            raise ProblemError(f"disposal site {site.id!r} cannot be reached from any vehicle's depot and back "
                               "on the streets the vehicles' sizes allow", field=f"disposal_sites[{i}]",
                               item_id=site.id)


def prepare(problem: Problem, network: RoadNetwork, *, snap_limit_m: float = 200.0,
            stopwatch: _Stopwatch | None = None) -> PreparedProblem:
    """Snap every location and compute each vehicle's matrices.

    Raises :class:`ProblemError` when a depot or disposal site is off the network or
    on a street cut off from the rest (field ``depots[i]`` / ``disposal_sites[i]``),
    when a vehicle's size closes its depot's street to it (``vehicles[i].depot``), or
    when no vehicle can reach a disposal site and come back; bins that cannot be placed
    are returned as ``unplaceable``.
    """
    watch = stopwatch or _Stopwatch()
    with watch.stage("snapping"):
        snapped = _snap(problem, network, snap_limit_m)
    unplaceable = _unplaceable(problem, snapped, snap_limit_m)
    with watch.stage("matrix"):
        depots = [problem.location_index(d.id) for d in problem.depots]
        matrices, legs = fleet_matrices(network, snapped, problem.vehicles, anchors=depots)
    _check_access(problem, matrices, legs)
    return PreparedProblem(problem=problem, network=network, snapped=snapped, legs=legs,
                           matrices=matrices, unplaceable=tuple(unplaceable))


def _joined(legs: Legs, p: int, q: int) -> bool:
    """Whether the legs join point ``p`` to point ``q`` (both usable, a path between)."""
    if not (legs.valid[p] and legs.valid[q]):
        return False
    t, _, _, _ = legs.choose(np.array([p]), np.array([q]))
    return bool(np.isfinite(t[0]))


def _drawn_sequence(route: RouteEvaluation, legs: Legs) -> list[int]:
    """The matrix rows a route's line passes through, in driving order.

    A break happens where the vehicle is, so it adds no point. A stop the vehicle cannot
    use (off the network, or closed to its size: the evaluator reports ``no_path``) is
    left out, as is one it cannot reach from the previous drawn stop; the line then runs
    from the last stop it could reach to the next one. The depot ends are always kept.
    """
    rows = [v.location_index for v in route.visits if v.type != "break"]
    if len(rows) < 2:
        return rows
    p, q = np.array(rows[:-1]), np.array(rows[1:])
    if legs.valid[p].all() and legs.valid[q].all() and np.isfinite(legs.choose(p, q)[0]).all():
        return rows
    sequence = [rows[0]]
    for row in rows[1:-1]:
        if _joined(legs, sequence[-1], row):
            sequence.append(row)
    while len(sequence) > 1 and not _joined(legs, sequence[-1], rows[-1]):
        sequence.pop()
    sequence.append(rows[-1])
    return sequence


def draw(prepared: PreparedProblem, evaluation: Evaluation) -> tuple[dict[str, LineString],
                                                                       dict[str, tuple[float, float]]]:
    """Route LineStrings (each on its vehicle's streets) and stop points (lon/lat) for an
    evaluated plan."""
    by_profile: dict[str, dict[str, list[int]]] = {}
    for route in evaluation.routes:
        key = prepared.matrices.vehicle_profile[route.vehicle_id]
        by_profile.setdefault(key, {})[route.vehicle_id] = _drawn_sequence(route, prepared.legs[key])
    lines: dict[str, LineString] = {}
    for key, sequences in by_profile.items():
        lines.update(route_lines(prepared.legs[key], sequences))
    ids = prepared.problem.location_ids()
    ok = prepared.snapped.ok
    stops = {ids[i]: (float(prepared.snapped.lonlat[i, 0]), float(prepared.snapped.lonlat[i, 1]))
             for i in range(len(ids)) if ok[i]}
    return lines, stops


def strip_violations(problem: Problem, matrices: FleetMatrices, plan: Plan) -> tuple[Plan, list[str]]:
    """The plan with every route the evaluator faults cut back until it is clean.

    A safety net under every engine: an optimised plan must show no violation. From
    a faulted route, bins are taken off from the end of the route until it shows
    none (a route that stays faulted with no bin left is dropped). Returns the new
    plan and the ids of the bins taken off, in the order taken, for the caller to
    re-insert elsewhere or explain.
    """
    routes: list[RoutePlan] = []
    taken: list[str] = []
    bin_ids = {b.id for b in problem.bins}
    for route in plan.routes:
        vehicle = problem.vehicle(route.vehicle_id)
        stops = list(route.stops)
        while evaluate_route(problem, matrices, vehicle, stops).violations:
            last = max((k for k, stop in enumerate(stops) if stop in bin_ids), default=None)
            if last is None:
                stops = []
                break
            taken.append(stops.pop(last))
        if any(stop in bin_ids for stop in stops):
            routes.append(RoutePlan(route.vehicle_id, tuple(stops)))
        elif stops != list(route.stops):
            log.warning("dropped the faulted route of %s", route.vehicle_id)
    if taken:
        log.warning("took %d bin(s) off faulted routes: %s", len(taken), ", ".join(taken[:10]))
    return Plan(routes=tuple(routes), unassigned=plan.unassigned), taken


def solve_part(problem: Problem, matrices: FleetMatrices, options: SolveOptions,
               bin_ids: Sequence[str] | None = None, progress: ProgressReporter | None = None) -> Plan:
    """Solve ``problem`` (its ``bin_ids``, default all) on ready matrices: screen the bins,
    run the engine, cut back faulted routes and re-insert or explain every bin left out.

    The unassigned are the screened-out bins, then the engine's. A module-level function
    of plain data, so an executor can run it in another process.
    """
    candidates = [b.id for b in problem.bins] if bin_ids is None else list(bin_ids)
    servable, ruled_out = screen_bins(problem, matrices, candidates)
    engine = choose_engine(problem, options, matrices=matrices)
    plan = engine.solve(problem, matrices, bin_ids=servable, options=options, progress=progress)
    plan, taken = strip_violations(problem, matrices, plan)
    dropped = [u.bin_id for u in plan.unassigned] + taken
    plan = explain_dropped(problem, matrices, plan, dropped, options=options)
    return Plan(routes=plan.routes, unassigned=(*ruled_out, *plan.unassigned))


def optimise(problem: Problem, network: RoadNetwork, options: SolveOptions, *,
             snap_limit_m: float = 200.0, on_progress: ProgressCallback | None = None,
             scale: ScaleOptions | None = None, executor: Executor | None = None) -> PlannedRounds:
    """Plan optimised rounds for ``problem`` on ``network``.

    Every bin ends up either on exactly one route or in ``unassigned`` with a
    checked reason. ``snap_limit_m`` is the farthest (metres) a point may be moved
    onto a street. ``on_progress(elapsed_fraction, best_cost) -> go_on`` hears of the
    search's progress (see :mod:`solver.progress`); answering ``False`` stops the search,
    and the best plan found so far is returned. A problem with at least
    ``scale.aggregate_from_bins`` bins (default :class:`ScaleOptions`) is solved as a large
    one (:func:`optimise_large`, without progress reports), its parts through ``executor``
    when given.
    """
    scale = scale or ScaleOptions()
    if scale.aggregates(problem):
        return optimise_large(problem, network, options, snap_limit_m=snap_limit_m, scale=scale,
                              executor=executor)
    watch = _Stopwatch()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch)
    placed = {u.bin_id for u in prepared.unplaceable}
    candidates = [b.id for b in problem.bins if b.id not in placed]
    with watch.stage("solve"):
        progress = None if on_progress is None else ProgressReporter(options.time_limit_s, on_progress)
        plan = solve_part(problem, prepared.matrices, options, candidates, progress)
        plan = Plan(routes=plan.routes, unassigned=(*prepared.unplaceable, *plan.unassigned))
    with watch.stage("evaluate"):
        evaluation = evaluate(problem, prepared.matrices, plan, options=options)
    with watch.stage("geometry"):
        lines, stops = draw(prepared, evaluation)
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stops,
                         timings_s=dict(watch.timings))


def evaluate_plan(problem: Problem, network: RoadNetwork, plan_routes: Sequence[RoutePlan], *,
                  snap_limit_m: float = 200.0, options: SolveOptions | None = None) -> PlannedRounds:
    """Score a plan made by a person (for example today's rounds) on ``network``.

    ``plan_routes`` give each vehicle's stops in driving order (bin ids, disposal-site
    ids, ``"break"``; depot start and end implied). The evaluator names every
    violation, including stops a vehicle cannot drive to (``no_path``: off the network,
    or on a street closed to its size). Bins on no route are unassigned with reason
    ``not_in_plan``. Raises :class:`ProblemError` as :func:`prepare` does, and for a
    route naming an unknown vehicle.
    """
    watch = _Stopwatch()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch)
    planned = {stop for route in plan_routes for stop in route.stops}
    placement = {u.bin_id: u for u in prepared.unplaceable}
    unassigned = []
    for b in problem.bins:
        if b.id in planned:
            continue
        detail = "no route of the plan visits it"
        if b.id in placement:
            detail += f" (and it is {placement[b.id].reason}: {placement[b.id].detail})"
        unassigned.append(Unassigned(b.id, "not_in_plan", detail))
    plan = Plan(routes=tuple(plan_routes), unassigned=tuple(unassigned))
    with watch.stage("evaluate"):
        evaluation = evaluate(problem, prepared.matrices, plan, options=options)
    with watch.stage("geometry"):
        lines, stops = draw(prepared, evaluation)
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stops,
                         timings_s=dict(watch.timings))


# --- large problems: aggregate, decompose, solve the parts, expand ----------------------------

def reserved_vehicles(problem: Problem) -> tuple[str, ...]:
    """Vehicles kept out of the parts for the second round: those whose access profile is not the
    fleet's most common one (a van among lorries serves the streets lorries may not drive),
    unless a bin is pinned to them."""
    keys = {v.id: AccessProfile.of(v).key for v in problem.vehicles}
    common = max(set(keys.values()), key=list(keys.values()).count)
    pinned = {b.vehicle_id for b in problem.bins if b.vehicle_id is not None}
    return tuple(v for v, key in keys.items() if key != common and v not in pinned)


def _subset(snapped: SnappedPoints, rows: Sequence[int]) -> SnappedPoints:
    """The snapped points at ``rows``, in that order."""
    index = np.asarray(rows, dtype=np.int64)
    return SnappedPoints(edge=snapped.edge[index], fraction=snapped.fraction[index],
                         offset_m=snapped.offset_m[index], distance_m=snapped.distance_m[index],
                         lonlat=snapped.lonlat[index], status=snapped.status[index])


def stop_matrices(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, aggregation: Aggregation,
                  stops: Problem) -> FleetMatrices:
    """Matrices of ``stops`` (a part of ``aggregation.problem``) for its vehicles: a row is
    where the vehicle leaves a location (a stop's last bin), a column where it arrives
    (a stop's first bin); ``snapped`` holds ``problem``'s (the original's) locations."""
    fixed = list(range(problem.bin_offset()))
    entries = [problem.location_index(aggregation.entry_bin(b.id)) for b in stops.bins]
    exits = [problem.location_index(aggregation.exit_bin(b.id)) for b in stops.bins]
    points = list(dict.fromkeys(fixed + entries + exits))
    position = {row: k for k, row in enumerate(points)}
    rows = fixed + [position[r] for r in exits]
    cols = fixed + [position[r] for r in entries]
    fleet, _ = fleet_matrices(network, _subset(snapped, points), stops.vehicles, anchors=range(len(problem.depots)))
    profiles = {}
    for key, m in fleet.profiles.items():
        duration = m.duration_s[np.ix_(rows, cols)]
        distance = m.distance_m[np.ix_(rows, cols)]
        np.fill_diagonal(duration, 0.0)
        np.fill_diagonal(distance, 0.0)
        profiles[key] = TravelMatrices(duration_s=duration, distance_m=distance)
    return FleetMatrices(profiles=profiles, vehicle_profile=fleet.vehicle_profile)


@dataclass(frozen=True)
class _RouteResult:
    evaluation: RouteEvaluation
    line: LineString | None
    taken: tuple[str, ...]


def _expanded_route(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, route: RoutePlan,
                    seen: dict[str, str], bin_ids: frozenset[str]) -> _RouteResult:
    """One expanded route evaluated on matrices of its own bins (visits indexed in ``problem``'s
    matrix order) and drawn; bins taken off if it shows a violation (a safety net)."""
    vehicle = problem.vehicle(route.vehicle_id)
    visited = list(dict.fromkeys(s for s in route.stops if s in bin_ids))
    own = Problem(depots=problem.depots, vehicles=(vehicle,), bins=tuple(problem.bin(b) for b in visited),
                  disposal_sites=problem.disposal_sites)
    rows = list(range(problem.bin_offset())) + [problem.location_index(b) for b in visited]
    fleet, legs = fleet_matrices(network, _subset(snapped, rows), [vehicle], anchors=range(len(problem.depots)))
    stops: tuple[str, ...] = route.stops
    taken: tuple[str, ...] = ()
    if evaluate_route(own, fleet, vehicle, stops).violations:
        cut, removed = strip_violations(own, fleet, Plan(routes=(route,)))
        stops = cut.routes[0].stops if cut.routes else ()
        taken = tuple(removed)
    evaluation = evaluate_route(own, fleet, vehicle, stops, seen=seen)
    leg = legs[fleet.vehicle_profile[vehicle.id]]
    line = route_lines(leg, {vehicle.id: _drawn_sequence(evaluation, leg)}).get(vehicle.id) if stops else None
    visits = tuple(replace(v, location_index=rows[v.location_index]) for v in evaluation.visits)
    return _RouteResult(replace(evaluation, visits=visits), line, taken)


def _solve_stops(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, aggregation: Aggregation,
                 parts: list[Part], options: SolveOptions, executor: Executor | None,
                 watch: _Stopwatch) -> Plan:
    """Plan of stops: every part solved (through ``executor``), then every stop left out tried
    again on the vehicles no part used (the reserved ones among them, see :func:`reserved_vehicles`),
    searching 5 s plus 0.2 s a stop (at most the parts' time)."""
    stops = aggregation.problem
    with watch.stage("matrix"):
        jobs = []
        for part in parts:
            sub = subproblem(stops, part)
            jobs.append((sub, stop_matrices(problem, network, snapped, aggregation, sub), options))
    with watch.stage("solve"):
        plans = list(run_all(solve_part, jobs, executor))
        del jobs
        routes = [r for p in plans for r in p.routes if r.stops]
        left = [u for p in plans for u in p.unassigned]
        used = {r.vehicle_id for r in routes}
        spare = tuple(v.id for v in stops.vehicles if v.id not in used)
        retry = tuple(u.bin_id for u in left)
        if retry and spare:
            log.info("second round: %d stop(s) left out of their parts on %d spare vehicle(s)", len(retry), len(spare))
            sub = subproblem(stops, Part(retry, spare))
            quick = replace(options, time_limit_s=min(options.time_limit_s, 5.0 + 0.2 * len(retry)))
            extra = solve_part(sub, stop_matrices(problem, network, snapped, aggregation, sub), quick)
            routes += [r for r in extra.routes if r.stops]
            left = [u for u in left if u.bin_id not in set(retry)] + list(extra.unassigned)
    return Plan(routes=tuple(routes), unassigned=tuple(left))


def optimise_large(problem: Problem, network: RoadNetwork, options: SolveOptions, *,
                   snap_limit_m: float = 200.0, scale: ScaleOptions | None = None,
                   executor: Executor | None = None) -> PlannedRounds:
    """Plan a large problem: bins sharing a street become stops (:mod:`solver.aggregate`), the
    stops are cut into parts (:mod:`solver.decompose`) solved through ``executor`` (or here,
    one after the other), and the plan of stops is expanded back into bins.

    Never builds a matrix of all bins: each part's matrices cover its stops, and each
    expanded route is evaluated (and drawn) on matrices of its own bins, by the same
    evaluator; a route the evaluator faults is cut back (its bins reported
    ``no_feasible_insertion``), so the answer shows no violation. Each part searches for
    :meth:`ScaleOptions.part_time_s` seconds.
    """
    scale = scale or ScaleOptions()
    watch = _Stopwatch()
    with watch.stage("snapping"):
        snapped = _snap(problem, network, snap_limit_m)
    unplaceable = _unplaceable(problem, snapped, snap_limit_m)
    with watch.stage("aggregate"):
        aggregation = aggregate_bins(problem, network, snapped, limits=scale.group,
                                     exclude=frozenset(u.bin_id for u in unplaceable))
        stops = aggregation.problem
        if len(stops.bins) > scale.max_part_stops:
            reserved = set(reserved_vehicles(stops))
            sweep = replace(stops, vehicles=tuple(v for v in stops.vehicles if v.id not in reserved))
            parts = sweep_parts(sweep, n_parts_for(len(stops.bins), scale))
        else:
            parts = [Part(tuple(b.id for b in stops.bins), tuple(v.id for v in stops.vehicles))]
    log.info("large problem: %d bins as %d stops in %d part(s)", len(problem.bins), len(stops.bins), len(parts))
    part_options = replace(options, time_limit_s=scale.part_time_s(options.time_limit_s, len(parts)))
    plan = aggregation.expand_plan(_solve_stops(problem, network, snapped, aggregation, parts, part_options,
                                                executor, watch))
    with watch.stage("evaluate"):
        seen: dict[str, str] = {}
        bin_ids = frozenset(b.id for b in problem.bins)
        results = [_expanded_route(problem, network, snapped, r, seen, bin_ids) for r in plan.routes if r.stops]
        taken = [Unassigned(b, "no_feasible_insertion", "taken off its route after expanding stops into bins, "
                            "where the route broke a rule") for r in results for b in r.taken]
        routes = tuple(r.evaluation for r in results if r.evaluation.n_bins or r.evaluation.trips)
        listed = {u.bin_id for u in (*unplaceable, *plan.unassigned, *taken)}
        missing = tuple(Unassigned(b.id, "not_in_plan", "the plan puts this bin on no route")
                        for b in problem.bins if b.id not in seen and b.id not in listed)
        unassigned = (*unplaceable, *plan.unassigned, *taken, *missing)
        moved = count_moves(seen, options)
        summary = summarise(routes, bins_unassigned=len(unassigned), bins_moved=moved,
                            penalty_cost=sum((b.penalty or 0.0 for b in problem.bins
                                              if not b.required and b.id not in seen), 0.0),
                            move_cost=moved * options.move_penalty)
        evaluation = Evaluation(routes=routes, summary=summary, unassigned=unassigned)
    ids = problem.location_ids()
    ok = snapped.ok
    stop_points = {ids[i]: (float(snapped.lonlat[i, 0]), float(snapped.lonlat[i, 1]))
                   for i in range(len(ids)) if ok[i]}
    lines = {r.evaluation.vehicle_id: r.line for r in results if r.line is not None}
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stop_points,
                         timings_s=dict(watch.timings), sizes={"stops": len(stops.bins), "parts": len(parts)})
