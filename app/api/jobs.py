"""``/api/v1/jobs``: work that runs in the background (anything bigger than a few seconds).

``POST`` answers 202 at once with an optimisation job's id; the search runs in a solver
worker process; ``GET`` shows its status, progress (share of the time budget, best cost
so far) and, once succeeded, the answer with the id of the plan stored from it;
``DELETE`` cancels it. A full queue answers 429 with ``Retry-After``. Jobs live in the
store, so they survive a restart of the service.

Evaluations, stored plans and reports over the synchronous limit come here too
(:mod:`app.api.job_door`): their job's ``result`` is the answer the synchronous call
gives, and a report job's HTML and CSV are at ``GET /api/v1/jobs/{id}/report``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app import store
from app.api.deps import JobRunnerDep, SettingsDep, StoreDep
from app.api.paths import API_V1
from app.api.principal import PLANNER, VIEWER, PrincipalDep
from app.api.reports import REPORT_ANSWER, ReportFormat, render_as
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.jobs.runner import QueueFullError
from app.schemas import (
    JobAcceptedResponse,
    JobListResponse,
    JobResponse,
    JobSummary,
    MessageErrorResponse,
    OptimisationRequest,
    ValidationErrorResponse,
)
from app.services import audit_trail
from app.services import optimisation as optimisation_service
from app.services import plans as plan_service
from app.services.plans import job_result
from app.store import JobRecord, PlanRecord

router = APIRouter(prefix="/jobs", tags=["jobs"])

NOT_FOUND = {"model": MessageErrorResponse, "description": "No job of this id (for this tenant)."}


def _not_found(job_id: str) -> HTTPException:
    """404 naming the job id."""
    return HTTPException(status_code=404, detail=f"job {job_id!r} not found")


def _result(job: JobRecord, plan: PlanRecord | None) -> object:
    """A job's answer as its synchronous endpoint gives it: the stored plan's answer with ``plan_id``,
    an evaluation's answer, or a report's JSON; ``None`` until it has succeeded."""
    if plan is not None:
        return job_result(plan).model_dump(mode="json", exclude_none=True)
    if job.result is None or job.status != "succeeded":
        return None
    return job.result.get("json") if job.kind == "report" else job.result


def _job_response(job: JobRecord, plan: PlanRecord | None) -> JSONResponse:
    """The job as the API shows it (every field present), with its answer once succeeded
    (absent ids left out, as in an optimisation answer)."""
    shown = JobResponse.model_validate({
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress, "best_cost": job.best_cost,
        "result": None, "error": job.error, "plan_id": job.plan_id,
        "attempts": job.attempts, "cancel_requested": job.cancel_requested, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
    })
    content = shown.model_dump(mode="json", exclude={"result"})
    content["result"] = _result(job, plan)
    return JSONResponse(content=content)


@router.post(
    "",
    status_code=202,
    response_model=JobAcceptedResponse,
    summary="Start an optimisation in the background",
    responses={
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input: each fault names its field and the id at fault."},
        429: {"model": MessageErrorResponse,
              "description": "The job queue is full; try again after Retry-After seconds."},
    },
    **needs(PLANNER),
)
async def create_job(body: OptimisationRequest, settings: SettingsDep, tenant: TenantDep, runner: JobRunnerDep,
                     db: StoreDep, response: Response, principal: PrincipalDep,
                     round_set: Annotated[str | None, Query(
                         min_length=1, max_length=200,
                         description="Store the plan as the next version of this round set (for example "
                                     "`oakham/refuse/tuesday/weekly`), as `POST /api/v1/plans` does; the "
                                     "savings report reads how often the rounds run from its name.")] = None,
                     name: Annotated[str | None, Query(
                         min_length=1, max_length=200,
                         description="A name people know the plan by; absent: the round set, how and when "
                                     "it was made.")] = None) -> JobAcceptedResponse:
    """Queue an optimisation of the body (the same body as ``POST /api/v1/optimisations``).

    Answers 202 with ``{"id", "status": "queued"}`` at once and a ``Location`` header to
    poll. The body is validated first (422 as for a synchronous optimisation). The plan is
    stored as a draft, in ``round_set`` and called ``name`` when given.
    """
    if body.options.territories_plan_id is not None:  # a bad plan id is a 422 now, not a failed job later
        await db.run(lambda s: plan_service.territories_of(s, tenant, body))
    optimisation_service.prepare(body, settings=settings)
    try:
        job = await runner.submit(tenant, body.model_dump(mode="json", by_alias=True, exclude_unset=True),
                                  request={"round_set": round_set, "name": name},
                                  created_by_user_id=principal.user_id)
    except QueueFullError as exc:
        raise HTTPException(status_code=429, detail=str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from exc
    response.headers["Location"] = f"{API_V1}{router.prefix}/{job.id}"
    return JobAcceptedResponse(id=job.id, status="queued")


@router.get("", response_model=JobListResponse, summary="List jobs", **needs(VIEWER))
async def list_jobs(db: StoreDep, tenant: TenantDep, limit: int = 100) -> JobListResponse:
    """The tenant's jobs, newest first (at most ``limit``), without their results."""
    jobs = await db.run(lambda s: store.list_jobs(s, tenant, limit=max(1, min(limit, 1000))))
    return JobListResponse(jobs=[JobSummary.model_validate(job, from_attributes=True) for job in jobs])


@router.get("/{job_id}", response_model=JobResponse, summary="Status, progress and result of a job",
            responses={404: NOT_FOUND}, **needs(VIEWER))
async def read_job(job_id: str, db: StoreDep, tenant: TenantDep) -> JSONResponse:
    """``{"id", "status", "progress", "best_cost", "result", "error", "plan_id", ...}``.

    ``progress`` is the share (0..1) of the time budget used; ``result`` is the
    optimisation answer plus ``plan_id`` once ``succeeded``.
    """
    def read(session: Session) -> tuple[JobRecord, PlanRecord | None] | None:
        job = store.get_job(session, tenant, job_id)
        if job is None:
            return None
        plan = None if job.plan_id is None else store.get_plan(session, tenant, job.plan_id)
        return job, plan

    found = await db.run(read)
    if found is None:
        raise _not_found(job_id)
    return _job_response(*found)


@router.delete("/{job_id}", response_model=JobResponse, summary="Cancel a job",
               responses={404: NOT_FOUND, 409: {"model": MessageErrorResponse,
                                                "description": "The job has succeeded or failed already."}},
                                                **needs(PLANNER))
async def cancel_job(job_id: str, db: StoreDep, tenant: TenantDep) -> JSONResponse:
    """Cancel a queued job at once, or a running one: its search stops at its next progress report
    (within about a second) and no plan is stored; ``status`` turns ``cancelled`` then."""
    job = await db.run(lambda s: store.request_cancel(s, tenant, job_id))
    if job is None:
        raise _not_found(job_id)
    if job.status in ("succeeded", "failed"):
        raise HTTPException(status_code=409, detail=f"job {job_id!r} has {job.status} already: nothing to cancel")
    return _job_response(job, None)


@router.get(
    "/{job_id}/report",
    summary="The report a report job made, in any format",
    responses={
        200: REPORT_ANSWER,
        404: NOT_FOUND,
        409: {"model": MessageErrorResponse,
              "description": "The job is not a report job, or has not succeeded (yet)."},
    },
    **needs(VIEWER),
)
async def read_job_report(job_id: str, db: StoreDep, tenant: TenantDep,
                          format: Annotated[ReportFormat, Query(description="html, json or csv.")] = "html"
                          ) -> Response:
    """The savings report of a succeeded ``report`` job (``GET /api/v1/plans/{id}/report`` of plans over
    the synchronous limit), as that endpoint would have answered it."""
    job = await db.run(lambda s: store.get_job(s, tenant, job_id))
    if job is None:
        raise _not_found(job_id)
    if job.kind != "report":
        raise HTTPException(status_code=409, detail=f"job {job_id!r} is a job of kind {job.kind!r}, not a report job")
    if job.status != "succeeded" or job.result is None:
        raise HTTPException(status_code=409, detail=f"job {job_id!r} is {job.status}: its report is not made yet"
                            if job.status in ("queued", "running") else f"job {job_id!r} {job.status}: no report")
    request = job.request or {}
    filename = (f"week-report-{request['review_id']}.csv" if request.get("review_id") else
                f"report-{request.get('plan_id')}-vs-{request.get('baseline')}.csv")
    await audit_trail.record(db, tenant, "export.report", "job", job_id, {"format": format})
    return render_as(format, dict(job.result), filename=filename)
