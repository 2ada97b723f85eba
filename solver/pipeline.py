"""Problem in, evaluated and drawn plan out: snap, matrix, solve, evaluate, draw.

:func:`optimise` is the one path every caller (API, CLI, notebooks, batch) takes
from a :class:`~solver.problem.Problem` to rounds on real streets. Each stage is
timed and logged at INFO.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import LineString

from solver.engines import get_engine
from solver.evaluate import evaluate
from solver.feasibility import explain_dropped, screen_bins
from solver.geometry import route_lines
from solver.matrix import Legs, TravelMatrices, build_legs, travel_matrices
from solver.network import RoadNetwork
from solver.problem import Problem, ProblemError, SolveOptions
from solver.snapping import OFF_NETWORK, OK, SnappedPoints, component_of, snap_points
from solver.solution import Evaluation, Plan, Unassigned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRounds:
    """The result of :func:`optimise`.

    ``evaluation`` holds every figure; ``route_lines`` maps vehicle id to its
    street-following LineString (lon/lat); ``stop_points`` maps location id (depot or
    bin) to the ``(lon, lat)`` point on the street where the vehicle stops (absent for
    off-network points); ``timings_s`` maps stage name to seconds spent.
    """

    evaluation: Evaluation
    route_lines: dict[str, LineString]
    stop_points: dict[str, tuple[float, float]]
    timings_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedProblem:
    """A problem placed on the network: snapped points, legs and matrices (matrix order)."""

    problem: Problem
    network: RoadNetwork
    snapped: SnappedPoints
    legs: Legs
    matrices: TravelMatrices
    unplaceable: tuple[Unassigned, ...]


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
    return np.array([[d.lon, d.lat] for d in problem.depots] + [[b.lon, b.lat] for b in problem.bins],
                    dtype=float).reshape(-1, 2)


def prepare(problem: Problem, network: RoadNetwork, *, snap_limit_m: float = 200.0,
            stopwatch: _Stopwatch | None = None) -> PreparedProblem:
    """Snap every location and compute the matrices.

    Raises :class:`ProblemError` when a depot is off the network or on a street cut
    off from the rest; bins that cannot be placed are returned as ``unplaceable``.
    """
    watch = stopwatch or _Stopwatch()
    with watch.stage("snapping"):
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
    unplaceable = []
    for j, b in enumerate(problem.bins):
        i = n_depots + j
        if snapped.status[i] == OFF_NETWORK:
            unplaceable.append(Unassigned(b.id, "off_network",
                                          f"{snapped.distance_m[i]:.0f} m from the nearest street "
                                          f"(limit {snap_limit_m:.0f} m)"))
        elif snapped.status[i] != OK:
            unplaceable.append(Unassigned(b.id, "unreachable",
                                          "its street is cut off from the depots' part of the network "
                                          "(a vehicle could not get there and back)"))
    with watch.stage("matrix"):
        legs = build_legs(network, snapped)
        matrices = travel_matrices(legs)
    return PreparedProblem(problem=problem, network=network, snapped=snapped, legs=legs,
                           matrices=matrices, unplaceable=tuple(unplaceable))


def draw(prepared: PreparedProblem, evaluation: Evaluation) -> tuple[dict[str, LineString],
                                                                       dict[str, tuple[float, float]]]:
    """Route LineStrings and stop points (lon/lat) for an evaluated plan."""
    sequences = {r.vehicle_id: [v.location_index for v in r.visits] for r in evaluation.routes}
    lines = route_lines(prepared.legs, sequences)
    ids = prepared.problem.location_ids()
    ok = prepared.snapped.ok
    stops = {ids[i]: (float(prepared.snapped.lonlat[i, 0]), float(prepared.snapped.lonlat[i, 1]))
             for i in range(len(ids)) if ok[i]}
    return lines, stops


def optimise(problem: Problem, network: RoadNetwork, options: SolveOptions, *,
             snap_limit_m: float = 200.0) -> PlannedRounds:
    """Plan optimised rounds for ``problem`` on ``network``.

    Every bin ends up either on exactly one route or in ``unassigned`` with a
    checked reason. ``snap_limit_m`` is the farthest (metres) a point may be moved
    onto a street.
    """
    watch = _Stopwatch()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch)
    placed = {u.bin_id for u in prepared.unplaceable}
    candidates = [b.id for b in problem.bins if b.id not in placed]
    with watch.stage("solve"):
        servable, ruled_out = screen_bins(problem, prepared.matrices, candidates)
        engine = get_engine(options.engine)
        plan = engine.solve(problem, prepared.matrices, bin_ids=servable, options=options)
        dropped = [u.bin_id for u in plan.unassigned]
        plan = explain_dropped(problem, prepared.matrices, plan, dropped)
        plan = Plan(routes=plan.routes,
                    unassigned=(*prepared.unplaceable, *ruled_out, *plan.unassigned))
    with watch.stage("evaluate"):
        evaluation = evaluate(problem, prepared.matrices, plan)
    with watch.stage("geometry"):
        lines, stops = draw(prepared, evaluation)
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stops,
                         timings_s=dict(watch.timings))
