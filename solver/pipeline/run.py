"""The two ways in: :func:`optimise` (a problem solved into rounds, through the large-problem
path of :mod:`solver.pipeline.large` when it is large) and :func:`evaluate_plan` (a person's
plan scored the same way, without solving)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from solver.compactness import street_of
from solver.decompose import ScaleOptions
from solver.evaluate import evaluate
from solver.network import RoadNetwork
from solver.pipeline.large import optimise_large
from solver.pipeline.stages import (
    PlannedRounds,
    PreparedProblem,
    _Stopwatch,
    draw,
    measure_shape,
    prepare,
    solve_part,
)
from solver.problem import Problem, SolveOptions
from solver.progress import ProgressCallback, ProgressReporter
from solver.snapping import SnappedPoints
from solver.solution import Plan, RoutePlan, Unassigned
from solver.territories import check_territories


def bin_streets(problem: Problem, network: RoadNetwork, snapped: SnappedPoints) -> tuple[tuple[str, int], ...]:
    """Each bin on the network and the street it is snapped onto (:func:`solver.compactness.street_of`)."""
    rows = np.array([problem.location_index(b.id) for b in problem.bins], dtype=np.int64)
    edges = snapped.edge[rows]
    streets = street_of(network, np.where(edges >= 0, edges, 0))
    return tuple((b.id, int(street)) for b, edge, street in zip(problem.bins, edges, streets, strict=True)
                 if edge >= 0)


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
    check_territories(problem, options.territories)
    scale = scale or ScaleOptions()
    if scale.aggregates(problem):
        return optimise_large(problem, network, options, snap_limit_m=snap_limit_m, scale=scale,
                              executor=executor)
    watch = _Stopwatch()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch)
    placed = {u.bin_id for u in prepared.unplaceable}
    candidates = [b.id for b in problem.bins if b.id not in placed]
    if options.shaped:
        options = replace(options, streets=bin_streets(problem, network, prepared.snapped))
    with watch.stage("solve"):
        progress = None if on_progress is None else ProgressReporter(options.time_limit_s, on_progress)
        plan = solve_part(problem, prepared.matrices, options, candidates, progress)
        plan = Plan(routes=plan.routes, unassigned=(*prepared.unplaceable, *plan.unassigned), relaxed=plan.relaxed)
    return _scored(problem, network, prepared, plan, options, watch)


def evaluate_plan(problem: Problem, network: RoadNetwork, plan_routes: Sequence[RoutePlan], *,
                  snap_limit_m: float = 200.0, options: SolveOptions | None = None) -> PlannedRounds:
    """Score a plan made by a person (for example today's rounds) on ``network``.

    ``plan_routes`` give each vehicle's stops in driving order (bin ids, disposal-site
    ids, ``"break"``; depot start and end implied). The evaluator names every
    violation, including stops a vehicle cannot drive to (``no_path``: off the network,
    or on a street closed to its size). Bins on no route are unassigned with reason
    ``not_in_plan``. Raises :class:`~solver.problem.ProblemError` as :func:`prepare` does, and for a
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
    return _scored(problem, network, prepared, plan, options, watch)


def _scored(problem: Problem, network: RoadNetwork, prepared: PreparedProblem, plan: Plan, options: SolveOptions | None,
            watch: _Stopwatch) -> PlannedRounds:
    """The last stages of :func:`optimise` and :func:`evaluate_plan` alike: ``plan`` evaluated, drawn and
    measured for balance and compactness, each stage timed on ``watch``."""
    with watch.stage("evaluate"):
        evaluation = evaluate(problem, prepared.matrices, plan, options=options)
    with watch.stage("geometry"):
        lines, stops = draw(prepared, evaluation)
    with watch.stage("compactness"):
        balance, compactness = measure_shape(problem, network, prepared.snapped, evaluation)
    return PlannedRounds(evaluation=evaluation, route_lines=lines, stop_points=stops,
                         timings_s=dict(watch.timings), balance=balance, compactness=compactness,
                         relaxed=plan.relaxed)
