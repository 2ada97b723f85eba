"""``POST /api/v1/evaluations``: score a plan made by a person (for example today's rounds)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import JobRunnerDep, SettingsDep, SolverPoolDep
from app.api.job_door import ACCEPTED_RESPONSES, accept_as_job, is_over_sync_limit
from app.api.limits import LIMIT_RESPONSES
from app.api.principal import PLANNER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.schemas import (
    EvaluationRequest,
    MessageErrorResponse,
    OptimisationResponse,
    ValidationErrorResponse,
)
from app.services import evaluation as service

router = APIRouter(prefix="/evaluations", tags=["evaluations"])


@router.post(
    "",
    response_model=OptimisationResponse,
    response_model_exclude_none=True,
    summary="Evaluate a plan made by a person",
    responses={
        **ACCEPTED_RESPONSES,
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input: each fault names its field and the id at fault "
                             "(an unknown stop is reported at routes[i].stops[j] with its id)."},
        **LIMIT_RESPONSES,
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(PLANNER),
)
async def create_evaluation(body: EvaluationRequest, settings: SettingsDep, pool: SolverPoolDep,
                            runner: JobRunnerDep, tenant: TenantDep) -> OptimisationResponse | JSONResponse:
    """Score the rounds given in ``routes`` with the same evaluator as every optimisation.

    The answer has the shape of an optimisation: per route a street-following
    LineString with its figures and ``violations`` (``overload``, ``late``,
    ``shift_overrun``, ``missing_break``, ``incompatible_stream``, ``closed_site``, ...;
    see ``docs/rules.md``), per stop a Point with arrival, load and type (breaks where
    the vehicle is), the ``summary`` with the count of violations, and every bin on no
    route in ``unassigned`` with reason ``not_in_plan``. The work runs in a worker
    process, like an optimisation. A plan of more bins than ``WASTEROUTE_MAX_SYNC_BINS``
    answers 202 with an ``evaluation`` job to poll, whose ``result`` is this answer.
    """
    problem, options, routes = service.prepare(body, settings=settings)  # a fault is a 422 now, not a failed job
    if is_over_sync_limit(len(body.bins), settings.max_sync_bins):
        return await accept_as_job(runner, tenant, body.model_dump(mode="json", by_alias=True, exclude_unset=True),
                                   kind="evaluation")
    return await pool.evaluate(problem, routes, options, snap_limit_m=settings.snap_limit_m)
