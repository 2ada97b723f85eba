"""``/api/v1/plans``: stored plans, versioned, approved by a named person, compared.

Every optimised plan (a succeeded job) is stored as a ``draft``; ``POST`` stores a plan
made by a person (an evaluation body), scored by the same evaluator. A plan is fetched
as the optimisation answer (GeoJSON) plus its id, status and approval; ``approve``
records who approved it and when, in the audit log with the figures of the time;
``compare`` lists the bins moved between rounds and the KPI deltas of two plans.
Another tenant's plan answers 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app import store
from app.api.deps import JobRunnerDep, SettingsDep, SolverPoolDep, StoreDep
from app.api.job_door import ACCEPTED_RESPONSES, accept_as_job, is_over_sync_limit
from app.api.limits import LIMIT_RESPONSES
from app.api.principal import APPROVER, PLANNER, VIEWER, PrincipalDep
from app.api.refusals import record_if_foreign
from app.api.roles import approving, needs
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import (
    ApprovalIn,
    EvaluationRequest,
    MessageErrorResponse,
    PlanComparisonResponse,
    PlanListResponse,
    PlanMeta,
    PlanResponse,
    ValidationErrorResponse,
)
from app.services import evaluation as evaluation_service
from app.services import personal_data
from app.services import plans as service
from app.store import PlanRecord

MAX_OFFSET = 2**31 - 1
"""Largest ``offset`` the plan list takes: past it the database's integer overflows (a 500)."""


router = APIRouter(prefix="/plans", tags=["plans"])

NOT_FOUND = {"model": MessageErrorResponse, "description": "No plan of this id (for this tenant)."}


def _answer(plan: PlanRecord, *, status_code: int = 200) -> JSONResponse:
    """The plan as JSON: the answer's absent ids left out (as in an optimisation answer), every
    field of the store shown, ``null`` included."""
    shown = service.plan_response(plan)
    content = shown.model_dump(mode="json", exclude_none=True)
    content.update(shown.model_dump(mode="json", include=set(PlanMeta.model_fields)))
    return JSONResponse(content=content, status_code=status_code)


def _not_found(plan_id: str) -> HTTPException:
    """404 naming the plan id."""
    return HTTPException(status_code=404, detail=f"plan {plan_id!r} not found")


@router.post(
    "",
    status_code=201,
    response_model=PlanResponse,
    summary="Store a plan made by a person",
    responses={
        **ACCEPTED_RESPONSES,
        **LIMIT_RESPONSES,
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input: each fault names its field and the id at fault."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(PLANNER),
)
async def create_plan(body: EvaluationRequest, settings: SettingsDep, pool: SolverPoolDep, db: StoreDep,
                      tenant: TenantDep, runner: JobRunnerDep, principal: PrincipalDep,
                      round_set: Annotated[str | None, Query(
                          min_length=1, max_length=200,
                          description="Store the plan as the next version of this round set (for example "
                                      "`depot/refuse/monday`), which the nightly batch re-optimises once a "
                                      "version of it is approved.")] = None,
                      name: Annotated[str | None, Query(
                          min_length=1, max_length=200,
                          description="A name people know the plan by (for example `Today's rounds, "
                                      "Tuesday week 1`), shown in lists and reports.")] = None) -> JSONResponse:
    """Score the ``routes`` (as ``POST /api/v1/evaluations`` does) and store them as a ``draft`` plan.

    Answers 201 with the plan: the evaluation's FeatureCollection (violations included)
    plus ``id``, ``name``, ``status``, ``version`` and provenance. A plan of more bins than
    ``WASTEROUTE_MAX_SYNC_BINS`` answers 202 with a ``plan`` job to poll: once it has
    succeeded, its ``plan_id`` is the stored plan and its ``result`` the plan's answer.
    """
    problem, options, routes = evaluation_service.prepare(body, settings=settings)
    if is_over_sync_limit(len(body.bins), settings.max_sync_bins):
        return await accept_as_job(runner, tenant, body.model_dump(mode="json", by_alias=True, exclude_unset=True),
                                   kind="plan", request={"round_set": round_set, "name": name},
                                   created_by_user_id=principal.user_id)
    answer = await pool.evaluate(problem, routes, options, snap_limit_m=settings.snap_limit_m)
    plan = await db.run(lambda s: service.store_manual_plan(s, tenant, body, answer, round_set=round_set,
                                                            name=name, created_by=principal.name,
                                                            created_by_user_id=principal.user_id))
    return _answer(plan, status_code=201)


@router.get("", response_model=PlanListResponse, summary="List stored plans", **needs(VIEWER))
async def list_plans(db: StoreDep, tenant: TenantDep,
                     status: Literal["draft", "approved"] | None = None,
                     round_set: str | None = None,
                     limit: int = Query(default=100, ge=1, le=1000),
                     offset: int = Query(default=0, ge=0, le=MAX_OFFSET)) -> PlanListResponse:
    """The tenant's plans, newest first, with their summary figures (optionally of one status or round set)."""
    plans = await db.run(lambda s: store.list_plans(s, tenant, status=status, round_set=round_set, limit=limit,
                                                    offset=offset))
    return PlanListResponse(plans=[service.plan_summary(p) for p in plans])


@router.get("/{plan_id}", response_model=PlanResponse,
            summary="A stored plan (GeoJSON)", responses={404: NOT_FOUND}, **needs(VIEWER))
async def read_plan(plan_id: str, request: Request, db: StoreDep, principal: PrincipalDep) -> JSONResponse:
    """The plan as the optimisation answer plus ``id``, ``status``, ``approved_by``, ``approved_at``, ..."""
    plan = await db.run(lambda s: store.get_plan(s, principal.tenant, plan_id))
    if plan is None:
        await record_if_foreign(db, principal, store.PlanRecord, plan_id, method=request.method,
                                path=request.url.path)
        raise _not_found(plan_id)
    return _answer(plan)


@router.get("/{plan_id}/problem", summary="The problem a stored plan answers",
            responses={200: {"description": "The problem as it was posted (an optimisation body: depots, "
                                            "disposal_sites, vehicles, bins with their attributes, options)."},
                       404: NOT_FOUND}, **needs(VIEWER))
async def read_plan_problem(plan_id: str, db: StoreDep, tenant: TenantDep, principal: PrincipalDep) -> JSONResponse:
    """The plan's own problem, as posted when it was made (without a person's ``routes``, which are in
    the plan's ``parameters``): the map reopens a plan on its own bins, depots, tips and vehicles, not
    on whatever problem is loaded. A reader without the planner, approver or admin role gets each bin's
    assisted flag without its details (:func:`app.services.personal_data.redact_for`)."""
    def read(session: Session) -> JSONObject | None:
        record = store.get_plan(session, tenant, plan_id)
        problem = store.get_problem(session, tenant, record.problem_id) if record is not None else None
        return None if problem is None else {k: v for k, v in dict(problem.body).items() if k != "routes"}

    body = await db.run(read)
    if body is None:
        raise _not_found(plan_id)
    return JSONResponse(content=personal_data.redact_for(principal, body))


@router.post("/{plan_id}/approve", response_model=PlanResponse,
             summary="Approve a plan",
             responses={404: NOT_FOUND, 409: {"model": MessageErrorResponse,
                                              "description": "The plan was approved already."}},
                                              **needs(APPROVER))
async def approve_plan(plan_id: str, request: Request, db: StoreDep, principal: PrincipalDep, settings: SettingsDep,
                       body: ApprovalIn | None = None) -> JSONResponse:
    """Approve the plan as the person signed in (an approver): ``approved_by`` is their name, and the audit log
    keeps who, when, the plan's figures and the hash of what was approved. With the four-eyes rule
    (``WASTEROUTE_FOUR_EYES``, on by default) the person who stored the plan gets 403; any ``by`` in the body
    is refused (422 naming it)."""
    plan = await approving(db, principal, request,
                           lambda s: store.approve_plan(s, principal.tenant, plan_id, by=principal.name,
                                                        by_user_id=principal.user_id, four_eyes=settings.four_eyes))
    if plan is None:
        await record_if_foreign(db, principal, store.PlanRecord, plan_id, method=request.method,
                                path=request.url.path)
        raise _not_found(plan_id)
    return _answer(plan)


@router.get("/{plan_id}/compare", response_model=PlanComparisonResponse, summary="Compare two plans",
            responses={404: NOT_FOUND}, **needs(VIEWER))
async def compare_plans(plan_id: str, db: StoreDep, tenant: TenantDep,
                        other: str = Query(description="Id of the plan to compare with (the baseline).")
                        ) -> PlanComparisonResponse:
    """Bins on another round in this plan than in ``other``, bins added and removed, and each
    summary figure of this plan minus the other's."""
    def read(session: Session) -> tuple[PlanRecord | None, PlanRecord | None]:
        return store.get_plan(session, tenant, plan_id), store.get_plan(session, tenant, other)

    plan, baseline = await db.run(read)
    if plan is None:
        raise _not_found(plan_id)
    if baseline is None:
        raise _not_found(other)
    return service.compare(plan, baseline)
