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
from solver.feasibility import explain_dropped
from solver.network import RoadNetwork
from solver.pipeline.large import optimise_large
from solver.pipeline.stages import (
    PlannedRounds,
    PreparedProblem,
    _Stopwatch,
    draw,
    measure_shape,
    orient,
    prepare,
    solve_part,
    strip_violations,
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

#: with ``fix_directions``, a problem of more bins than this is solved street by street (as stops,
#: :func:`optimise_large`), each stop driven one way along its street: choosing the direction per
#: stop after the search costs far less than per bin (measured on the Oakham case, docs/crew_rounds.md).
DIRECTED_BINS_ALONE = 500


def optimise(problem: Problem, network: RoadNetwork, options: SolveOptions, *,
             snap_limit_m: float = 200.0, on_progress: ProgressCallback | None = None,
             scale: ScaleOptions | None = None, executor: Executor | None = None) -> PlannedRounds:
    """Plan optimised rounds for ``problem`` on ``network``.

    Every bin ends up either on exactly one route or in ``unassigned`` with a
    checked reason. ``snap_limit_m`` is the farthest (metres) a point may be moved
    onto a street. ``on_progress(elapsed_fraction, best_cost) -> go_on`` hears of the
    search's progress (see :mod:`solver.progress`); answering ``False`` stops the search,
    and the best plan found so far is returned. A problem with at least
    ``scale.aggregate_from_bins`` bins (default :class:`ScaleOptions`), or with
    ``options.fix_directions`` more than :data:`DIRECTED_BINS_ALONE`, is solved as a large
    one (:func:`optimise_large`, without progress reports), its parts through ``executor``
    when given.
    """
    check_territories(problem, options.territories)
    scale = scale or ScaleOptions()
    if scale.aggregates(problem) or (options.fix_directions and len(problem.bins) > DIRECTED_BINS_ALONE):
        return optimise_large(problem, network, options, snap_limit_m=snap_limit_m, scale=scale,
                              executor=executor)
    watch = _Stopwatch()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch, turns=options.turn_policy(),
                       busy_highways=options.busy_highways)
    placed = {u.bin_id for u in prepared.unplaceable}
    candidates = [b.id for b in problem.bins if b.id not in placed]
    if options.shaped:
        options = replace(options, streets=bin_streets(problem, network, prepared.snapped))
    with watch.stage("solve"):
        progress = None if on_progress is None else ProgressReporter(options.time_limit_s, on_progress)
        plan = solve_part(problem, prepared.matrices, options, candidates, progress)
        plan = Plan(routes=plan.routes, unassigned=(*prepared.unplaceable, *plan.unassigned), relaxed=plan.relaxed)
    return _scored(problem, network, prepared, plan, options, watch, repair=True)


def evaluate_plan(problem: Problem, network: RoadNetwork, plan_routes: Sequence[RoutePlan], *,
                  snap_limit_m: float = 200.0, options: SolveOptions | None = None) -> PlannedRounds:
    """Score a plan made by a person (for example today's rounds) on ``network``.

    ``plan_routes`` give each vehicle's stops in driving order (bin ids, disposal-site
    ids, ``"break"``; depot start and end implied). The evaluator names every
    violation, including stops a vehicle cannot drive to (``no_path``: off the network,
    or on a street closed to its size). Bins on no route are unassigned with reason
    ``not_in_plan``. Raises :class:`~solver.problem.ProblemError` as :func:`prepare` does, and for a
    route naming an unknown vehicle. Without ``options``, :class:`SolveOptions`' defaults, as
    :func:`optimise` has them: each route drives past its bins one way (``fix_directions``), so
    a plan scored afresh is timed as it was when optimised.
    """
    watch = _Stopwatch()
    given = options or SolveOptions()
    prepared = prepare(problem, network, snap_limit_m=snap_limit_m, stopwatch=watch, turns=given.turn_policy(),
                       busy_highways=given.busy_highways)
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
    return _scored(problem, network, prepared, plan, given, watch)


def _scored(problem: Problem, network: RoadNetwork, prepared: PreparedProblem, plan: Plan, options: SolveOptions | None,
            watch: _Stopwatch, *, repair: bool = False) -> PlannedRounds:
    """The last stages of :func:`optimise` and :func:`evaluate_plan` alike: with ``options.fix_directions``
    the direction each route drives past its bins fixed (:func:`~solver.pipeline.stages.orient`), then
    ``plan`` evaluated (on the matrices so fixed), drawn and measured for balance and compactness, each
    stage timed on ``watch``.

    With ``repair`` (an optimised plan) a route that the fixed directions make break a rule is cut
    back and its bins re-inserted or explained, as after the engine, and the directions are fixed
    again for the plan so repaired; what still breaks a rule is cut back and reported.
    """
    if options is not None and options.fix_directions:
        with watch.stage("orient"):
            prepared = orient(prepared, evaluate(problem, prepared.matrices, plan, options=options))
            if repair:
                relaxed = plan.relaxed
                plan = _repaired(problem, prepared, plan, options)
                prepared = orient(prepared, evaluate(problem, prepared.matrices, plan, options=options))
                plan, taken = strip_violations(problem, prepared.matrices, plan)
                plan = Plan(routes=plan.routes, unassigned=(*plan.unassigned, *(
                    Unassigned(b, "no_feasible_insertion", "taken off its route when the direction of travel "
                               "past each bin was fixed, where the route broke a rule") for b in taken)),
                    relaxed=relaxed)
    with watch.stage("evaluate"):
        evaluation = evaluate(problem, prepared.matrices, plan, options=options)
    with watch.stage("geometry"):
        drawn = draw(prepared, evaluation)
    with watch.stage("compactness"):
        balance, compactness = measure_shape(problem, network, prepared.snapped, evaluation)
    return PlannedRounds(evaluation=evaluation, route_lines=drawn.lines, stop_points=drawn.stops,
                         timings_s=dict(watch.timings), balance=balance, compactness=compactness,
                         manoeuvres=drawn.manoeuvres, relaxed=plan.relaxed)


def _repaired(problem: Problem, prepared: PreparedProblem, plan: Plan, options: SolveOptions | None) -> Plan:
    """``plan`` with the routes its fixed directions fault cut back, their bins re-inserted or explained."""
    plan, taken = strip_violations(problem, prepared.matrices, plan)
    return explain_dropped(problem, prepared.matrices, plan, taken, options=options) if taken else plan
