"""The stages every plan goes through: the problem placed on the network (snapped points,
legs, each vehicle's matrices), one part solved (screen, engine, faulted routes cut back,
dropped bins re-inserted or explained), and routes drawn on the streets, each stage timed.

Access: every vehicle drives by the matrices of its size (its
:class:`~solver.network.AccessProfile`), and its route is drawn on the same streets.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
from shapely.geometry import LineString

from solver.balance import PlanBalance, plan_balance
from solver.compactness import PlanCompactness, plan_compactness
from solver.engines import choose_engine
from solver.evaluate import evaluate_route
from solver.feasibility import explain_dropped, screen_bins
from solver.geometry import Pieces, pieces_line, route_pieces
from solver.manoeuvres import Manoeuvres, plan_manoeuvres
from solver.matrix import (
    LORRY_TURNS,
    FleetMatrices,
    Legs,
    TravelMatrices,
    fleet_matrices,
)
from solver.nearside import EITHER, approach_slots, busy_edges, point_sides
from solver.network import AccessProfile, RoadNetwork, TurnPolicy
from solver.orientation import oriented
from solver.problem import DEFAULT_BUSY_HIGHWAYS, Bin, Depot, DisposalSite, Problem, ProblemError, SolveOptions
from solver.progress import ProgressReporter
from solver.snapping import OFF_NETWORK, OK, SnappedPoints, component_of, snap_points
from solver.solution import Evaluation, Plan, Relaxation, RouteEvaluation, RoutePlan, Unassigned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRounds:
    """The result of :func:`~solver.pipeline.optimise` or :func:`~solver.pipeline.evaluate_plan`.

    ``evaluation`` holds every figure; ``route_lines`` maps vehicle id to its
    street-following LineString (lon/lat); ``stop_points`` maps location id (depot,
    disposal site or bin) to the ``(lon, lat)`` point on the street where the vehicle
    stops (absent for off-network points; a break happens at the previous stop's
    point); ``timings_s`` maps stage name to seconds spent; ``sizes`` holds, for a
    large problem (:func:`~solver.pipeline.optimise_large`), the ``stops`` it was solved as and the
    ``parts`` it was cut into. ``balance`` and ``compactness`` measure the rounds' shape
    (:mod:`solver.balance`, :mod:`solver.compactness`); ``None`` only where a caller built
    the result without measuring. ``manoeuvres`` maps vehicle id to the U-turns, reversing
    manoeuvres and banned turns of its drawn route (:mod:`solver.manoeuvres`).
    the result without measuring. ``relaxed``: for a solve asked to keep the rounds
    balanced or compact, what it could not keep (:attr:`~solver.solution.Plan.relaxed`);
    ``None`` when no shape was asked for (and for a person's plan).
    """

    evaluation: Evaluation
    route_lines: dict[str, LineString]
    stop_points: dict[str, tuple[float, float]]
    timings_s: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    balance: PlanBalance | None = None
    compactness: PlanCompactness | None = None
    manoeuvres: dict[str, Manoeuvres] = field(default_factory=dict)
    relaxed: tuple[Relaxation, ...] | None = None

    @property
    def plan_manoeuvres(self) -> Manoeuvres:
        """The manoeuvres of every drawn route, summed."""
        return sum(self.manoeuvres.values(), Manoeuvres())


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


def approach(problem: Problem, network: RoadNetwork, snapped: SnappedPoints,
             busy_highways: Sequence[str] | None, drives_on: str) -> np.ndarray:
    """Per location, the direction it must be collected in (:func:`solver.nearside.approach_slots`:
    ``-1`` either, ``0`` along its snapped edge, ``1`` along the twin): bins on a busy road from the
    nearside only; depots and disposal sites either way."""
    busy = busy_edges(network, DEFAULT_BUSY_HIGHWAYS if busy_highways is None else busy_highways)
    slots = approach_slots(network, snapped, point_sides(network, _lonlat(problem), snapped), busy, drives_on)
    slots[:problem.bin_offset()] = EITHER
    return slots


def _cut_by_turns(problem: Problem, legs: dict[str, Legs], listed: set[str]) -> list[Unassigned]:
    """Bins on the network that the turn rules cut off for every vehicle: only a U-turn where a lorry
    may not turn back, or a banned turn, leads there (or back)."""
    offset = problem.bin_offset()
    cut = np.logical_and.reduce([leg.cut_by_turns[offset:] if leg.cut_by_turns is not None
                                 else np.zeros(len(problem.bins), dtype=bool) for leg in legs.values()])
    return [Unassigned(b.id, "unreachable", "only a turn a lorry may not make reaches its street or leads "
                       "back (a U-turn away from a dead end or turning place, or a banned turn); "
                       "options.allow_u_turns lets a lorry turn back anywhere")
            for j, b in enumerate(problem.bins) if cut[j] and b.id not in listed]


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
            stopwatch: _Stopwatch | None = None, turns: TurnPolicy | None = LORRY_TURNS,
            busy_highways: Sequence[str] | None = None) -> PreparedProblem:
    """Snap every location and compute each vehicle's matrices, obeying the turn rules of
    ``turns`` (default: a UK lorry's; ``None``: free turns, see :func:`~solver.matrix.build_legs`)
    and collecting bins on ``busy_highways`` (default :data:`~solver.problem.DEFAULT_BUSY_HIGHWAYS`)
    from the nearside only (:func:`approach`).

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
        side = approach(problem, network, snapped, busy_highways, turns.drives_on if turns else "left")
        matrices, legs = fleet_matrices(network, snapped, problem.vehicles, anchors=depots, turns=turns,
                                        approach=side)
    _check_access(problem, matrices, legs)
    unplaceable += _cut_by_turns(problem, legs, {u.bin_id for u in unplaceable})
    return PreparedProblem(problem=problem, network=network, snapped=snapped, legs=legs,
                           matrices=matrices, unplaceable=tuple(unplaceable))


def route_rows(route: RouteEvaluation) -> list[int]:
    """The matrix rows of an evaluated route in driving order, breaks left out (a break happens
    where the vehicle is)."""
    return [v.location_index for v in route.visits if v.type != "break"]


def orient(prepared: PreparedProblem, evaluation: Evaluation) -> PreparedProblem:
    """``prepared`` with the direction each evaluated route drives past its bins fixed
    (:mod:`solver.orientation`): legs and matrices per access profile, so that the evaluator
    times, and :func:`draw` draws, drives that arrive at and leave each bin the same way."""
    problem = prepared.problem
    fixable = np.zeros(prepared.snapped.edge.shape[0], dtype=bool)
    fixable[problem.bin_offset():] = True
    by_profile: dict[str, list[list[int]]] = {key: [] for key in prepared.legs}
    for route in evaluation.routes:
        by_profile[prepared.matrices.vehicle_profile[route.vehicle_id]].append(route_rows(route))
    legs: dict[str, Legs] = {}
    profiles: dict[str, TravelMatrices] = {}
    for key, routes in by_profile.items():
        if routes:
            legs[key], profiles[key] = oriented(prepared.legs[key], routes, fixable)
        else:
            legs[key], profiles[key] = prepared.legs[key], prepared.matrices.profiles[key]
    matrices = FleetMatrices(profiles=profiles, vehicle_profile=prepared.matrices.vehicle_profile)
    return replace(prepared, legs=legs, matrices=matrices)


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
    rows = route_rows(route)
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


@dataclass(frozen=True)
class Drawn:
    """A plan on the streets: each route's LineString (lon/lat) and manoeuvres (counted on the
    drawn pieces, :mod:`solver.manoeuvres`), and each location's stop point (lon/lat)."""

    lines: dict[str, LineString]
    manoeuvres: dict[str, Manoeuvres]
    stops: dict[str, tuple[float, float]]


def drive_manoeuvres(legs: Legs, sequence: Sequence[int], n_sites: int) -> tuple[Pieces, Manoeuvres]:
    """The pieces of street a route drives through the matrix rows ``sequence`` (in driving order)
    and its manoeuvres (:mod:`solver.manoeuvres`), counted between the depots and disposal sites it
    calls at (rows below ``n_sites``): a lorry turns round in a site's yard, so leaving a tip the way
    it came is no manoeuvre on the street (the legs leave a site's direction free, as they do not a
    bin's once directions are fixed), and a banned turn cannot span a visit it left the road for."""
    cuts = [k for k in range(1, len(sequence) - 1) if sequence[k] < n_sites]
    bounds = [0, *cuts, len(sequence) - 1]
    runs = route_pieces(legs, {str(k): sequence[a:b + 1] for k, (a, b) in enumerate(itertools.pairwise(bounds))})
    pieces = [piece for run in runs.values() for piece in run]
    return pieces, plan_manoeuvres(legs.network, runs.values())


def draw(prepared: PreparedProblem, evaluation: Evaluation) -> Drawn:
    """Route LineStrings (each on its vehicle's streets), their manoeuvres and stop points (lon/lat)
    for an evaluated plan."""
    by_profile: dict[str, dict[str, list[int]]] = {}
    for route in evaluation.routes:
        key = prepared.matrices.vehicle_profile[route.vehicle_id]
        by_profile.setdefault(key, {})[route.vehicle_id] = _drawn_sequence(route, prepared.legs[key])
    lines: dict[str, LineString] = {}
    manoeuvres: dict[str, Manoeuvres] = {}
    n_sites = prepared.problem.bin_offset()
    for key, sequences in by_profile.items():
        for vehicle_id, sequence in sequences.items():
            pieces, counted = drive_manoeuvres(prepared.legs[key], sequence, n_sites)
            line = pieces_line(prepared.network, pieces)
            if line is not None:
                lines[vehicle_id] = line
                manoeuvres[vehicle_id] = counted
    ids = prepared.problem.location_ids()
    ok = prepared.snapped.ok
    stops = {ids[i]: (float(prepared.snapped.lonlat[i, 0]), float(prepared.snapped.lonlat[i, 1]))
             for i in range(len(ids)) if ok[i]}
    return Drawn(lines=lines, manoeuvres=manoeuvres, stops=stops)


def measure_shape(problem: Problem, network: RoadNetwork, snapped: SnappedPoints,
                  evaluation: Evaluation) -> tuple[PlanBalance, PlanCompactness]:
    """How balanced and how compact the evaluated rounds are: the step right after the
    evaluator on every path, so every plan reports the same figures."""
    return plan_balance(evaluation.routes), plan_compactness(problem, network, snapped, evaluation)


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
    relaxed = plan.relaxed
    plan, taken = strip_violations(problem, matrices, plan)
    dropped = [u.bin_id for u in plan.unassigned] + taken
    plan = explain_dropped(problem, matrices, plan, dropped, options=options)
    return Plan(routes=plan.routes, unassigned=(*ruled_out, *plan.unassigned), relaxed=relaxed)
