"""Large problems: aggregate, decompose, solve the parts, expand.

Bins sharing a street become stops (:mod:`solver.aggregate`), the stops are cut into parts
(:mod:`solver.decompose`) solved apart, and the plan of stops is expanded back into bins,
each route evaluated and drawn on matrices of its own bins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import LineString

from solver.aggregate import Aggregation, aggregate_bins
from solver.decompose import Part, ScaleOptions, n_parts_for, run_all, subproblem, sweep_parts
from solver.evaluate import count_moves, evaluate_route, summarise
from solver.geometry import route_lines
from solver.matrix import FleetMatrices, TravelMatrices, fleet_matrices
from solver.network import AccessProfile, RoadNetwork
from solver.pipeline.stages import (
    PlannedRounds,
    _drawn_sequence,
    _snap,
    _Stopwatch,
    _unplaceable,
    measure_shape,
    solve_part,
    strip_violations,
)
from solver.problem import Problem, SolveOptions
from solver.snapping import SnappedPoints
from solver.solution import RELAXATION_ORDER, Evaluation, Plan, RouteEvaluation, RoutePlan, Unassigned

log = logging.getLogger(__name__)


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
    relaxed = [name for name in RELAXATION_ORDER if any(name in (p.relaxed or ()) for p in plans)]
    return Plan(routes=tuple(routes), unassigned=tuple(left), relaxed=tuple(relaxed) if options.shaped else None)


def stop_territories(aggregation: Aggregation, territories: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Fixed territories of bins as territories of the stops they were grouped into: a stop goes to
    the vehicle most of its named bins belong to (the first such vehicle on a tie)."""
    vehicle_of = dict(territories)
    out = []
    for stop, members in aggregation.members.items():
        named = [vehicle_of[b] for b in members if b in vehicle_of]
        if named:
            out.append((stop, max(dict.fromkeys(named), key=named.count)))
    return tuple(out)


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
    part_options = replace(options, time_limit_s=scale.part_time_s(options.time_limit_s, len(parts)),
                           territories=stop_territories(aggregation, options.territories))
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
    with watch.stage("compactness"):
        balance, compactness = measure_shape(problem, network, snapped, evaluation)
    ids = problem.location_ids()
    ok = snapped.ok
    stop_points = {ids[i]: (float(snapped.lonlat[i, 0]), float(snapped.lonlat[i, 1]))
                   for i in range(len(ids)) if ok[i]}
    lines = {r.evaluation.vehicle_id: r.line for r in results if r.line is not None}
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stop_points,
                         timings_s=dict(watch.timings), sizes={"stops": len(stops.bins), "parts": len(parts)},
                         balance=balance, compactness=compactness, relaxed=plan.relaxed)
