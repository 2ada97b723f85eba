"""``POST /api/v1/optimisations``: optimise rounds synchronously (problems that solve in seconds)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import SettingsDep, SolverPoolDep, StoreDep
from app.api.limits import LIMIT_RESPONSES, check_sync_bins
from app.api.principal import PLANNER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.schemas import (
    MessageErrorResponse,
    OptimisationRequest,
    OptimisationResponse,
    ValidationErrorResponse,
)
from app.services import optimisation as service
from app.services import plans as plan_service

router = APIRouter(prefix="/optimisations", tags=["optimisations"])


@router.post(
    "",
    response_model=OptimisationResponse,
    response_model_exclude_none=True,
    summary="Optimise collection rounds",
    responses={
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input: each fault names its field and the id at fault."},
        **LIMIT_RESPONSES,
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready to solve yet."},
    },
    **needs(PLANNER),
)
async def create_optimisation(body: OptimisationRequest, settings: SettingsDep, pool: SolverPoolDep,
                              db: StoreDep, tenant: TenantDep) -> OptimisationResponse:
    """Plan optimised rounds for the bins, vehicles and depots given.

    Answers an RFC 7946 FeatureCollection: per used vehicle a street-following route
    LineString, per stop a Point with arrival time and load, plus ``summary`` and the
    ``unassigned`` bins with reasons. The search runs in a worker process (at most
    ``WASTEROUTE_MAX_CONCURRENT_SOLVES`` at once, further requests wait their turn),
    so the service keeps answering meanwhile. ``options.territories_plan_id`` names one of the
    tenant's approved plans whose rounds fix the territories (422 naming the id otherwise).
    """
    check_sync_bins(len(body.bins), settings.max_sync_bins, endpoint="optimisation")
    territories = (await db.run(lambda s: plan_service.territories_of(s, tenant, body))
                   if body.options.territories_plan_id is not None else ())
    problem, options = service.prepare(body, settings=settings, territories=territories)
    return await pool.solve(problem, options, snap_limit_m=settings.snap_limit_m)
