"""Large problems: aggregate, decompose, solve the parts, expand.

Bins sharing a street become stops (:mod:`solver.aggregate`), the stops are cut into parts
(:mod:`solver.decompose`) solved apart, and the plan of stops is expanded back into bins,
each route evaluated and drawn on matrices of its own bins.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import LineString

from solver.aggregate import Aggregation, aggregate_bins
from solver.decompose import Part, ScaleOptions, n_parts_for, run_all, subproblem, sweep_parts
from solver.directed_search import directed_search
from solver.evaluate import count_moves, evaluate_route, summarise
from solver.geometry import pieces_line
from solver.manoeuvres import Manoeuvres
from solver.matrix import FleetMatrices, TravelMatrices, fleet_matrices, travel_matrices
from solver.network import AccessProfile, RoadNetwork
from solver.orientation import choose_rows, oriented
from solver.pipeline.stages import (
    PlannedRounds,
    _drawn_sequence,
    _snap,
    _Stopwatch,
    _unplaceable,
    approach,
    drive_manoeuvres,
    measure_shape,
    route_rows,
    solve_part,
    strip_violations,
)
from solver.problem import BREAK_STOP, InitialRoute, Problem, SolveOptions
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
                  stops: Problem, options: SolveOptions | None = None, side: np.ndarray | None = None
                  ) -> FleetMatrices:
    """Matrices of ``stops`` (a part of ``aggregation.problem``) for its vehicles: a row is
    where the vehicle leaves a location (a stop's last bin), a column where it arrives
    (a stop's first bin); ``snapped`` holds ``problem``'s (the original's) locations. The turn rules
    are ``options``'; ``side`` (aligned with ``problem``'s locations) the direction each must be
    collected in (:func:`~solver.pipeline.stages.approach`).

    With ``options.fix_directions`` a stop is driven past in one direction, never turned round in:
    the matrices' stop rows drive it in its bins' order, and a stop on a two-way street whose
    direction no rule fixes (and without time windows) may also be driven the other way, its bins
    in reverse order: :attr:`~solver.matrix.FleetMatrices.directed` holds that direction's rows
    too. The engine searches on the quicker way between each two stops, and
    :func:`stop_directions` then chooses each stop's one way per route."""
    options = options or SolveOptions()
    fixed = list(range(problem.bin_offset()))
    entries = [problem.location_index(aggregation.entry_bin(b.id)) for b in stops.bins]
    exits = [problem.location_index(aggregation.exit_bin(b.id)) for b in stops.bins]
    points = list(dict.fromkeys(fixed + entries + exits))
    position = {row: k for k, row in enumerate(points)}
    given = None if side is None else np.asarray(side)[points]
    fleet, legs = fleet_matrices(network, _subset(snapped, points), stops.vehicles,
                                 anchors=range(len(problem.depots)), turns=options.turn_policy(), approach=given)
    n_fixed = len(fixed)
    if options.fix_directions:
        # a stop's bins lie in driving order along its slot (the snapped edge unless the nearside rule
        # says its twin)
        listed = [0 if given is None else max(int(given[position[e]]), 0) for e in entries]
        first = next(iter(legs.values()))
        reversible = [k for k, (e, b) in enumerate(zip(entries, stops.bins, strict=True))
                      if (given is None or given[position[e]] < 0) and not b.time_windows
                      and first.slot_edge[position[e], 0] != first.slot_edge[position[e], 1]]
    else:
        listed, reversible = [-1] * len(entries), []
    # the engine searches on the stops driven either way (the quicker way between each two), and
    # stop_directions then picks, per route, the one way each stop is driven
    leave = ([(position[f], -1) for f in fixed] + [(position[x], s) for x, s in zip(exits, listed, strict=True)]
             + [(position[entries[k]], 1 - listed[k]) for k in reversible])
    arrive = ([(position[f], -1) for f in fixed] + [(position[e], s) for e, s in zip(entries, listed, strict=True)]
              + [(position[exits[k]], 1 - listed[k]) for k in reversible])
    picks = list(dict.fromkeys(leave + arrive))
    index = {p: k for k, p in enumerate(picks)}
    rows = [index[p] for p in leave]
    cols = [index[p] for p in arrive]
    n_stops = n_fixed + len(entries)
    profiles, directed = {}, {}
    for key, leg in legs.items():
        m = travel_matrices(leg.select(np.array([p for p, _ in picks]), np.array([s for _, s in picks])))
        duration = m.duration_s[np.ix_(rows, cols)]
        distance = m.distance_m[np.ix_(rows, cols)]
        np.fill_diagonal(duration, 0.0)
        np.fill_diagonal(distance, 0.0)
        profiles[key] = _either_way(duration, distance, n_stops, reversible, n_fixed)
        if reversible:
            directed[key] = TravelMatrices(duration_s=duration, distance_m=distance)
    direction_rows: dict[int, tuple[int, ...]] = {n_fixed + k: (n_fixed + k, n_stops + j)
                                                  for j, k in enumerate(reversible)}
    return FleetMatrices(profiles=profiles, vehicle_profile=fleet.vehicle_profile, directed=directed,
                         direction_rows=direction_rows)


def _either_way(duration: np.ndarray, distance: np.ndarray, n_stops: int, reversible: list[int], n_fixed: int
                ) -> TravelMatrices:
    """The first ``n_stops`` rows and columns of a directed stop matrix, each reversible stop's row and
    column the quicker of its two directions (pairwise: the engine's optimistic view)."""
    t = duration[:n_stops, :n_stops].copy()
    d = distance[:n_stops, :n_stops].copy()
    if reversible:
        rows = np.arange(n_stops)
        alt = rows.copy()
        alt[[n_fixed + k for k in reversible]] = n_stops + np.arange(len(reversible))
        for a_rows, b_cols in ((rows, alt), (alt, rows), (alt, alt)):
            tt = duration[np.ix_(a_rows, b_cols)]
            better = tt < t
            t = np.where(better, tt, t)
            d = np.where(better, distance[np.ix_(a_rows, b_cols)], d)
        np.fill_diagonal(t, 0.0)
        np.fill_diagonal(d, 0.0)
    return TravelMatrices(duration_s=t, distance_m=d)


def stop_directions(stops: Problem, matrices: FleetMatrices, plan: Plan) -> set[str]:
    """The stops ``plan`` drives the other way (its bins in reverse order): for each route, the quickest
    choice over the directions ``matrices`` offer (:func:`~solver.orientation.choose_rows`)."""
    if not matrices.direction_rows:
        return set()
    reversed_stops: set[str] = set()
    for route in plan.routes:
        vehicle = stops.vehicle(route.vehicle_id)
        key = matrices.vehicle_profile[vehicle.id]
        m = matrices.directed.get(key, matrices.profiles[key])
        depot = stops.location_index(vehicle.depot_id)
        visited = [s for s in route.stops if s != BREAK_STOP]
        options = [[depot]] + [list(matrices.direction_rows.get(stops.location_index(s),
                                                                 (stops.location_index(s),))) for s in visited]
        chosen = choose_rows(m.duration_s, [*options, [depot]])
        reversed_stops.update(s for s, row, opts in zip(visited, chosen[1:-1], options[1:], strict=True)
                              if row != opts[0])
    return reversed_stops


@dataclass(frozen=True)
class _RouteResult:
    evaluation: RouteEvaluation
    line: LineString | None
    manoeuvres: Manoeuvres | None
    taken: tuple[str, ...]


def _expanded_route(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, route: RoutePlan,
                    seen: dict[str, str], bin_ids: frozenset[str], options: SolveOptions,
                    side: np.ndarray) -> _RouteResult:
    """One expanded route evaluated on matrices of its own bins (visits indexed in ``problem``'s
    matrix order), with ``options.fix_directions`` the direction it drives past each bin fixed
    (:mod:`solver.orientation`), and drawn; bins taken off if it shows a violation (a safety net)."""
    vehicle = problem.vehicle(route.vehicle_id)
    visited = list(dict.fromkeys(s for s in route.stops if s in bin_ids))
    own = Problem(depots=problem.depots, vehicles=(vehicle,), bins=tuple(problem.bin(b) for b in visited),
                  disposal_sites=problem.disposal_sites)
    rows = list(range(problem.bin_offset())) + [problem.location_index(b) for b in visited]
    fleet, legs = fleet_matrices(network, _subset(snapped, rows), [vehicle], anchors=range(len(problem.depots)),
                                 turns=options.turn_policy(), approach=side[rows])
    key = fleet.vehicle_profile[vehicle.id]
    leg = legs[key]
    if options.fix_directions:
        fixable = np.arange(len(rows)) >= own.bin_offset()
        leg, matrices = oriented(leg, [route_rows(evaluate_route(own, fleet, vehicle, route.stops))], fixable)
        fleet = FleetMatrices(profiles={key: matrices}, vehicle_profile=fleet.vehicle_profile)
    stops: tuple[str, ...] = route.stops
    taken: tuple[str, ...] = ()
    if evaluate_route(own, fleet, vehicle, stops).violations:
        cut, removed = strip_violations(own, fleet, Plan(routes=(route,)))
        stops = cut.routes[0].stops if cut.routes else ()
        taken = tuple(removed)
    evaluation = evaluate_route(own, fleet, vehicle, stops, seen=seen)
    pieces, counted = drive_manoeuvres(leg, _drawn_sequence(evaluation, leg), own.bin_offset()) if stops else ([], None)
    line = pieces_line(network, pieces)
    manoeuvres = counted if line is not None else None
    visits = tuple(replace(v, location_index=rows[v.location_index]) for v in evaluation.visits)
    return _RouteResult(replace(evaluation, visits=visits), line, manoeuvres, taken)


#: seconds of evaluating and drawing the expanded rounds after the search, per bin and per edge of the
#: road network (each round's legs and drawn paths are searched on the network from its bins):
#: measured on the Oakham case, 6.0 s for 2,603 bins on Rutland's 9,082 edges (load average about 4;
#: docs/performance.md, "Time limits")
AFTER_SEARCH_S_PER_BIN_EDGE = 2.5e-7

#: the least share of the time limit the search keeps, however long evaluating looks
MIN_SEARCH_SHARE = 0.5


def after_search_s(n_bins: int, n_edges: int) -> float:
    """Expected seconds of evaluating and drawing ``n_bins`` bins' rounds on a network of ``n_edges`` edges."""
    return AFTER_SEARCH_S_PER_BIN_EDGE * n_bins * n_edges


def search_share(after_s: float, time_limit_s: float) -> float:
    """The share of ``time_limit_s`` (s) the search gets so that the ``after_s`` seconds of evaluating and
    drawing the rounds after it also fit in the limit (the limit is what the planner waits for, the
    stop matrices aside): at least :data:`MIN_SEARCH_SHARE`, 1 when no limit is given."""
    if time_limit_s <= 0:
        return 1.0
    return max(MIN_SEARCH_SHARE, min(1.0, 1.0 - after_s / time_limit_s))


#: the least search (s) the second round gets, when the parts took the whole search time: enough for a
#: first solution of the few stops left out, so that they are tried rather than left unassigned unasked
MIN_SECOND_ROUND_S = 1.0


def second_round_s(n_stops: int, time_limit_s: float, left_s: float) -> float:
    """Seconds of search for the second round of ``n_stops`` stops left out of their parts: 5 s plus
    0.2 s a stop, but no more than the ``left_s`` seconds left of the search's ``time_limit_s`` (so that
    the plan still comes within the planner's limit), and at least :data:`MIN_SECOND_ROUND_S`."""
    wanted = min(time_limit_s, 5.0 + 0.2 * n_stops) if time_limit_s > 0 else 5.0 + 0.2 * n_stops
    return max(MIN_SECOND_ROUND_S, min(wanted, left_s)) if time_limit_s > 0 else wanted


def _solve_stops(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, aggregation: Aggregation,
                 parts: list[Part], options: SolveOptions, executor: Executor | None,
                 watch: _Stopwatch, side: np.ndarray, *, time_limit_s: float) -> tuple[Plan, set[str]]:
    """Plan of stops: every part solved (through ``executor``), then every stop left out tried
    again on the vehicles no part used (the reserved ones among them, see :func:`reserved_vehicles`),
    searching 5 s plus 0.2 s a stop within what is left of the search's time (:func:`second_round_s`).
    Each part searches its share of the request's ``time_limit_s`` less what evaluating the rounds
    afterwards is expected to take (:func:`search_share`). Also returns the stops the plan drives the
    other way (:func:`stop_directions`)."""
    stops = aggregation.problem
    with watch.stage("matrix"):
        jobs = []
        for part in parts:
            sub = subproblem(stops, part)
            jobs.append((sub, stop_matrices(problem, network, snapped, aggregation, sub, options, side), options))
    share = search_share(after_search_s(len(problem.bins), network.n_edges), time_limit_s)
    if share < 1.0:
        log.info("the search gets %.0f %% of the time limit: the rest is kept for evaluating and drawing the "
                 "rounds after it", 100 * share)
        options = replace(options, time_limit_s=options.time_limit_s * share)
        jobs = [(sub, matrices, options) for sub, matrices, _ in jobs]
    with watch.stage("solve"):
        searched_from = time.perf_counter()
        reserved_s = 0.0
        if options.fix_directions:
            carried = carried_share(stops, parts)
            parts_s = options.time_limit_s * carried
            joint_s = parts_s * JOINT_SHARE if len(jobs) > 1 else 0.0
            if joint_s * len(jobs) < MIN_JOINT_S_PER_STOP * sum(len(p.bin_ids) for p in parts):
                # too short to do more than build the joint matrices: the parts keep the time
                joint_s = 0.0
            part_options = replace(options, time_limit_s=parts_s - joint_s)
            plans = _directed_search([(sub, matrices, part_options) for sub, matrices, _ in jobs], part_options,
                                     executor)
            jobs, plans = _search_across_parts(problem, network, snapped, aggregation, parts, jobs, plans, side,
                                               joint_s * len(jobs))
            # the stops no vehicle of their part carries wait for the second round: it gets the time the
            # parts were not given, in proportion to what the parts took (with or without an executor)
            reserved_s = (time.perf_counter() - searched_from) * (1.0 - carried) / carried
        else:
            plans = list(run_all(solve_part, jobs, executor))
        reversed_stops = {s for (sub, matrices, _), p in zip(jobs, plans, strict=True)
                          for s in stop_directions(sub, matrices, p)}
        del jobs
        routes = [r for p in plans for r in p.routes if r.stops]
        left = [u for p in plans for u in p.unassigned]
        used = {r.vehicle_id for r in routes}
        spare = tuple(v.id for v in stops.vehicles if v.id not in used)
        retry = tuple(u.bin_id for u in left)
        if retry and spare:
            log.info("second round: %d stop(s) left out of their parts on %d spare vehicle(s)", len(retry), len(spare))
            sub = subproblem(stops, Part(retry, spare))
            left_s = max(options.time_limit_s - (time.perf_counter() - searched_from), reserved_s)
            quick = replace(options, time_limit_s=second_round_s(len(retry), options.time_limit_s, left_s))
            matrices = stop_matrices(problem, network, snapped, aggregation, sub, options, side)
            if options.fix_directions:
                # the engine plans on the quicker way between two stops: its rounds, each stop then driven
                # one way, may break a rule, and only the orientation-aware search cuts them back and finds
                # their stops another place (without it, a second round's faulted rounds lost their bins)
                extra, = _directed_search([(sub, matrices, quick)], quick, None,
                                          local_share=SECOND_ROUND_LOCAL_SHARE)
            else:
                extra = solve_part(sub, matrices, quick)
            reversed_stops |= stop_directions(sub, matrices, extra)
            routes += [r for r in extra.routes if r.stops]
            left = [u for u in left if u.bin_id not in set(retry)] + list(extra.unassigned)
    relaxed = [name for name in RELAXATION_ORDER if any(name in (p.relaxed or ()) for p in plans)]
    shape = tuple(relaxed) if options.shaped else None
    return Plan(routes=tuple(routes), unassigned=tuple(left), relaxed=shape), reversed_stops


#: the least share of the search :func:`carried_share` leaves the parts
MIN_CARRIED_SHARE = 0.25


def carried_share(stops: Problem, parts: Sequence[Part]) -> float:
    """The share of ``stops`` (an aggregated problem) that some vehicle of their part carries the stream of,
    at least :data:`MIN_CARRIED_SHARE`: the rest are left out of every part and wait for the second round
    (on the vehicles kept out of the parts, :func:`reserved_vehicles`, say a recycling fleet apart from the
    refuse lorries). A stop of a stream no vehicle at all carries counts for neither: no round serves it."""
    total = carried = 0
    for part in parts:
        vehicles = [stops.vehicle(v) for v in part.vehicle_ids]
        for stop_id in part.bin_ids:
            stream = stops.bin(stop_id).stream
            if any(v.carries(stream) for v in vehicles):
                carried += 1
            elif not any(v.carries(stream) for v in stops.vehicles):
                continue
            total += 1
    return max(MIN_CARRIED_SHARE, carried / total) if total else 1.0


#: with ``fix_directions``, the share of a part's search spent again once its stops' directions are
#: chosen, on the matrix of the stops driven those ways (from the first plan).
DIRECTED_SHARE = 0.5

#: with ``fix_directions``, the share of a part's search given to the orientation-aware local search
#: (:mod:`solver.directed_search`) after the engine's two halves, which share the rest: on the Oakham
#: case its descent converges in 10-20 s per part of about 500 stops (load average 6), and the time
#: left goes to its kicks; at 30 s it serves the stops the engine's short halves leave (Oakham at 30 s:
#: 2,596-2,603 bins served with 0.6, 2,513-2,596 with 0.4, 2,544-2,551 with 0.25; docs/crew_rounds.md)
DIRECTED_LOCAL_SHARE = 0.6


#: with ``fix_directions``, the local search's share of the second round's search: less than the parts'
#: (:data:`DIRECTED_LOCAL_SHARE`), since its rounds start from nothing and the engine's second half, on the
#: stops driven the ways chosen, is what makes them fit (the 1,000-bin Rutland case at 3 s: 926 and 977
#: bins served with 0.6, 977 in every run with 0.4)
SECOND_ROUND_LOCAL_SHARE = 0.4


def _directed_search(jobs: list[tuple[Problem, FleetMatrices, SolveOptions]], options: SolveOptions,
                     executor: Executor | None, *, local_share: float = DIRECTED_LOCAL_SHARE) -> list[Plan]:
    """Solve the parts twice: first on the quicker way between each two stops, then, with each stop's
    direction chosen for the first plan's order (:func:`stop_directions`), again from that plan on the
    matrix of the stops driven those ways, so that the search sees what the directions cost and can
    reorder the stops to suit them; then the orientation-aware local search
    (:func:`~solver.directed_search.directed_search`) from that plan, each move priced with every stop's
    direction chosen exactly, for ``local_share`` of the time. (Measured on the Oakham case,
    docs/crew_rounds.md.)"""
    local_s = options.time_limit_s * local_share
    options = replace(options, time_limit_s=options.time_limit_s - local_s)
    first = replace(options, time_limit_s=options.time_limit_s * (1.0 - DIRECTED_SHARE))
    plans = list(run_all(solve_part, [(sub, matrices, first) for sub, matrices, _ in jobs], executor))
    again = []
    for (sub, matrices, _), plan in zip(jobs, plans, strict=True):
        warm = tuple(InitialRoute(r.vehicle_id, r.stops) for r in plan.routes if r.stops)
        again.append((sub, driven_ways(sub, matrices, stop_directions(sub, matrices, plan)),
                      replace(options, time_limit_s=options.time_limit_s * DIRECTED_SHARE, initial_routes=warm,
                              search_processes=1)))
    searched = list(run_all(solve_part, again, executor))
    # through the executor as the engine's parts are, so the parts' local searches run side by side and
    # the plan still comes within the time limit
    return list(run_all(directed_search, [(sub, matrices, plan, options, local_s)
                                          for (sub, matrices, _), plan in zip(jobs, searched, strict=True)],
                        executor))


#: with ``fix_directions`` and several parts, the share of each part's time kept for the local search
#: over all the parts' rounds together once they are solved (:func:`_search_across_parts`)
JOINT_SHARE = 0.15


#: the least seconds per stop of the parts for which the joint search runs (:func:`_search_across_parts`):
#: below it, building the matrices of all the stops takes most of its time (the 1,000-bin Rutland case at
#: 15 s gives it about 1 ms a stop; the Oakham case at 120 s, 17 ms, where its descent converges)
MIN_JOINT_S_PER_STOP = 0.005


def _search_across_parts(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, aggregation: Aggregation,
                         parts: list[Part], jobs: list[tuple[Problem, FleetMatrices, SolveOptions]],
                         plans: list[Plan], side: np.ndarray, time_limit_s: float
                         ) -> tuple[list[tuple[Problem, FleetMatrices, SolveOptions]], list[Plan]]:
    """The parts' plans searched again as one (:func:`~solver.directed_search.directed_search` for
    ``time_limit_s`` seconds, on the matrices of all their stops): a part's rounds full to the shift
    leave stops that another part's rounds, with time to spare, can take once stops near the border
    move across. Returns the one job (problem, matrices, options) and plan that replace the parts'."""
    if len(plans) < 2 or time_limit_s <= 0:
        return jobs, plans
    stops = tuple(dict.fromkeys(s for part in parts for s in part.bin_ids))
    vehicles = tuple(dict.fromkeys(v for part in parts for v in part.vehicle_ids))
    sub = subproblem(aggregation.problem, Part(stops, vehicles))
    options = jobs[0][2]
    matrices = stop_matrices(problem, network, snapped, aggregation, sub, options, side)
    given = [p.relaxed for p in plans if p.relaxed is not None]
    relaxed = tuple(dict.fromkeys(name for names in given for name in names)) if given else None
    joint = Plan(routes=tuple(r for p in plans for r in p.routes if r.stops),
                 unassigned=tuple(u for p in plans for u in p.unassigned), relaxed=relaxed)
    before = len(joint.unassigned)
    plan = directed_search(sub, matrices, joint, options, time_limit_s)
    log.info("the parts searched as one: %d stop(s) unassigned, %d before", len(plan.unassigned), before)
    return [(sub, matrices, options)], [plan]


def driven_ways(stops: Problem, matrices: FleetMatrices, reversed_stops: set[str]) -> FleetMatrices:
    """``matrices`` with every stop that can be driven either way fixed to one: the other way for
    ``reversed_stops``, its bins' order for the rest (no direction left to choose)."""
    if not matrices.direction_rows:
        return matrices
    n = next(iter(matrices.profiles.values())).size
    index = np.arange(n)
    for row, ways in matrices.direction_rows.items():
        index[row] = ways[1] if stops.bins[row - stops.bin_offset()].id in reversed_stops else ways[0]
    profiles = {}
    for key, m in matrices.profiles.items():
        full = matrices.directed.get(key, m)
        profiles[key] = TravelMatrices(duration_s=full.duration_s[np.ix_(index, index)],
                                       distance_m=full.distance_m[np.ix_(index, index)])
    return FleetMatrices(profiles=profiles, vehicle_profile=matrices.vehicle_profile)


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
        side = approach(problem, network, snapped, options.busy_highways, options.drives_on)
        aggregation = aggregate_bins(problem, network, snapped, limits=scale.group, approach=side,
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
    stop_plan, reversed_stops = _solve_stops(problem, network, snapped, aggregation, parts, part_options,
                                             executor, watch, side,
                                             # a part time set in scale is kept as given
                                             time_limit_s=0.0 if scale.part_time_limit_s is not None
                                             else options.time_limit_s)
    plan = aggregation.expand_plan(stop_plan, reversed_stops)
    with watch.stage("evaluate"):
        seen: dict[str, str] = {}
        bin_ids = frozenset(b.id for b in problem.bins)
        results = [_expanded_route(problem, network, snapped, r, seen, bin_ids, options, side) for r in plan.routes
                   if r.stops]
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
    manoeuvres = {r.evaluation.vehicle_id: r.manoeuvres for r in results if r.manoeuvres is not None}
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stop_points,
                         timings_s=dict(watch.timings), sizes={"stops": len(stops.bins), "parts": len(parts)},
                         balance=balance, compactness=compactness, manoeuvres=manoeuvres, relaxed=plan.relaxed)
