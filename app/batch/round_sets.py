"""Putting a plan into a round set from the command line, so the nightly batch knows it.

``wasteroute round-set ROUND_SET PLAN.json [--tenant NAME] [--approve-by NAME]`` stores a plan
under a round-set key of the tenant (``default`` unless ``--tenant`` names another):

- a body with ``routes`` (an evaluation body: today's rounds, made by a person) is
  evaluated and stored as a ``manual`` plan;
- a body without ``routes`` (an optimisation body) is optimised and stored as an
  ``optimised`` plan.

``--approve-by NAME`` approves it in that person's name at once (the usual first step:
today's approved rounds become the baseline the batch warm-starts from and keeps
stable). The plan's problem (depots, vehicles, sites, bins, options) becomes the round
set's latest inputs (see :mod:`app.batch.nightly`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.core.json_types import JSONObject
from app.schemas import EvaluationRequest, OptimisationRequest
from app.services import evaluation as evaluation_service
from app.services import optimisation as optimisation_service
from app.services import plans
from app.services.plans import problem_body
from app.store import repository
from app.store.engine import Store

if TYPE_CHECKING:
    from solver.network import RoadNetwork


@dataclass(frozen=True)
class StoredRoundSetPlan:
    """What was stored: the plan's id, version, source and status."""

    plan_id: str
    version: int
    source: str
    status: str


def store_round_set_plan(store: Store, settings: Settings, network: RoadNetwork, *, tenant: str, round_set: str,
                         body: object, approve_by: str | None = None,
                         actor: str = "cli") -> StoredRoundSetPlan:
    """Evaluate (with ``routes``) or optimise (without) ``body`` and store it as a version of ``round_set``.

    Raises pydantic's ``ValidationError`` or :class:`~solver.problem.ProblemError` for a
    malformed body (nothing is stored then).
    """
    if isinstance(body, Mapping) and "routes" in body:
        evaluation = EvaluationRequest.model_validate(body)
        problem, options, routes = evaluation_service.prepare(evaluation, settings=settings)
        answer = evaluation_service.evaluate(problem, routes, options, network, snap_limit_m=settings.snap_limit_m)
        inputs, source = problem_body(evaluation), "manual"
        parameters: JSONObject = {"routes": [route.model_dump() for route in evaluation.routes]}
    else:
        request = OptimisationRequest.model_validate(body)
        with store.transaction() as session:
            territories = plans.territories_of(session, tenant, request)
        problem, options = optimisation_service.prepare(request, settings=settings, territories=territories)
        answer = optimisation_service.solve(problem, options, network, snap_limit_m=settings.snap_limit_m)
        inputs, source = request.model_dump(mode="json", by_alias=True, exclude_unset=True), "optimised"
        parameters = {"time_limit_s": options.time_limit_s, "seed": options.seed, "engine": options.engine,
                      "objective": options.objective, "balance": options.balance,
                      "balance_tolerance": options.balance_tolerance, "compact": options.compact,
                      "fix_directions": options.fix_directions,
                      "territories": [[b, v] for b, v in options.territories]}
    result = json.loads(optimisation_service.dump_response(answer))
    with store.transaction() as session:
        record = repository.save_problem(session, tenant, inputs)
        plan = repository.create_plan(session, tenant, problem=record, result=result, source=source,
                                      parameters=parameters, engine=options.engine if source == "optimised" else None,
                                      seed=options.seed if source == "optimised" else None, round_set=round_set,
                                      created_by=actor)
        if approve_by:
            repository.approve_plan(session, tenant, plan.id, by=approve_by)
        return StoredRoundSetPlan(plan_id=plan.id, version=plan.version, source=source, status=plan.status)
