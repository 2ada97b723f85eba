"""The translator between the evaluation schemas and the solver's types.

An evaluation body is an optimisation body plus ``routes`` (a plan made by a person,
for example today's rounds). Request -> :class:`solver.problem.Problem`,
:class:`solver.problem.SolveOptions` (for the objective's move terms) and
:class:`solver.solution.RoutePlan` per route; the pipeline's
:func:`solver.pipeline.evaluate_plan` scores the plan with the one evaluator, and the
answer has the shape of an optimisation (:func:`app.services.optimisation.to_response`),
with each route's violations and their count in the summary.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.schemas import EvaluationRequest, OptimisationResponse
from app.services.optimisation import road_defaults, to_problem, to_response, to_solve_options
from solver import pipeline
from solver.problem import BREAK_STOP, Problem, SolveOptions
from solver.solution import RoutePlan

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)


def to_routes(request: EvaluationRequest) -> tuple[RoutePlan, ...]:
    """The plan's routes, in the order given (stops as given: bin ids, site ids, ``"break"``).

    A plan that names no break on any route records none (today's rounds as an in-cab
    system exports them): the evaluator then takes each vehicle's breaks where they fit
    rather than reporting every round's break missing. A plan that names a break anywhere
    is scored as given."""
    records_breaks = any(stop == BREAK_STOP for r in request.routes for stop in r.stops)
    return tuple(RoutePlan(vehicle_id=r.vehicle_id, stops=tuple(r.stops), breaks_where_they_fit=not records_breaks)
                 for r in request.routes)


def prepare(request: EvaluationRequest, *, settings: Settings) -> tuple[Problem, SolveOptions, tuple[RoutePlan, ...]]:
    """Problem, options and routes for ``request``.

    Nothing is solved, so ``options.time_limit_s`` is not held to the service's maximum.
    """
    problem = to_problem(request)
    options = to_solve_options(request.options, default_time_limit_s=settings.default_time_limit_s,
                               max_time_limit_s=math.inf, **road_defaults(settings))
    return problem, options, to_routes(request)


def evaluate(problem: Problem, routes: Sequence[RoutePlan], options: SolveOptions, network: RoadNetwork, *,
             snap_limit_m: float) -> OptimisationResponse:
    """Score ``routes`` on ``network`` and translate the result. Blocking: call it off the event loop."""
    started = time.perf_counter()
    planned = pipeline.evaluate_plan(problem, network, routes, snap_limit_m=snap_limit_m, options=options)
    response = to_response(problem, planned, started=started)
    logger.info("evaluated a plan of %d routes over %d bins in %.2f s: %d served, %d unassigned, %d violations",
                len(routes), len(problem.bins), time.perf_counter() - started, response.summary.bins_served,
                response.summary.bins_unassigned, response.summary.violations)
    return response


def evaluate_request(request: EvaluationRequest, network: RoadNetwork, *, settings: Settings) -> OptimisationResponse:
    """Request in, response out, blocking: what the command line runs."""
    problem, options, routes = prepare(request, settings=settings)
    return evaluate(problem, routes, options, network, snap_limit_m=settings.snap_limit_m)
