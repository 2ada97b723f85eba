"""``/api/v1/round-reviews``: a council's week reviewed (``../shared/API.md``, "round reviews").

``POST`` checks the week (422 naming the field and the id: the schema's faults, and those
:class:`solver.week.WeekProblem` finds, such as a frequency the calendar cannot hold or a day no tip
opens) and answers 202 with a job of kind ``review`` (poll ``GET /api/v1/jobs/{id}``: progress,
cancel, result). The review's id is its job's id. ``GET /api/v1/round-reviews/{id}`` answers the
review once done; ``GET .../day-changes?format=csv`` the households whose day changes, for the letters.
Each day's rounds are a stored plan (``GET /api/v1/plans/{plan_id}``). ``GET .../report`` answers the
week's savings report (:mod:`app.reports.week`): the proposed week against today's week, a job of kind
``report`` when the week has more bins than ``WASTEROUTE_MAX_SYNC_BINS``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app import store
from app.api.deps import JobRunnerDep, NetworkRegistryDep, SettingsDep, StoreDep
from app.api.job_door import ACCEPTED_RESPONSES, accept_as_job, is_over_sync_limit
from app.api.principal import PLANNER, VIEWER, PrincipalDep
from app.api.reports import REPORT_ANSWER, ReportFormat, render_as
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.faults import validation_error_items
from app.core.json_types import JSONObject
from app.reports import week
from app.reports.report_job import week_report_request
from app.reports.stored import PlanNotFoundError
from app.schemas import JobAcceptedResponse, MessageErrorResponse, ReviewRequest, ValidationErrorResponse
from app.services import audit_trail, round_review
from app.store import JobRecord

router = APIRouter(prefix="/round-reviews", tags=["round reviews"])

NOT_FOUND = {"model": MessageErrorResponse, "description": "No review of this id (for this tenant)."}
NOT_DONE = {"model": MessageErrorResponse,
            "description": "The review has not succeeded (yet): queued, running, failed or cancelled."}

DayChangesFormat = Literal["csv", "json"]


@router.post(
    "",
    status_code=202,
    response_model=JobAcceptedResponse,
    summary="Review a council's week of rounds (a job)",
    responses={
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input, or a week that cannot be planned as given: each fault names its "
                             "field and the id at fault."},
        429: {"model": MessageErrorResponse,
              "description": "The job queue is full; try again after Retry-After seconds."},
    },
    **needs(PLANNER),
)
async def create_review(body: ReviewRequest, settings: SettingsDep, tenant: TenantDep,
                        runner: JobRunnerDep, principal: PrincipalDep) -> JSONResponse:
    """Queue a review of the week: 202 with ``{"id", "status": "queued"}`` and a ``Location`` to poll
    (``GET /api/v1/jobs/{id}``); the job's ``result`` is the review."""
    await anyio.to_thread.run_sync(lambda: round_review.prepare(body, settings=settings))  # a bad week: 422 now
    return await accept_as_job(runner, tenant, body.model_dump(mode="json", by_alias=True, exclude_unset=True),
                               kind="review", created_by_user_id=principal.user_id)


async def _review(db: StoreDep, tenant: str, review_id: str) -> JSONObject:
    """The result of the tenant's succeeded review job; 404 for none of this id (or another kind), 409
    while it is not done."""
    job: JobRecord | None = await db.run(lambda s: store.get_job(s, tenant, review_id))
    if job is None or job.kind != "review":
        raise HTTPException(status_code=404, detail=f"round review {review_id!r} not found")
    if job.status != "succeeded" or job.result is None:
        reason = f": {job.error}" if job.error else ""
        raise HTTPException(status_code=409, detail=f"round review {review_id!r} is {job.status}{reason}; "
                                                    f"GET /api/v1/jobs/{review_id} shows its progress")
    return dict(job.result)


@router.get("/{review_id}", summary="A round review's answer", responses={404: NOT_FOUND, 409: NOT_DONE},
            **needs(VIEWER))
async def read_review(review_id: str, db: StoreDep, tenant: TenantDep) -> JSONResponse:
    """``{"review_id", "summary", "days", "assignments", "day_changes", "unassigned"}`` (the review job's
    ``result``), each day with the ``plan_id`` of its stored rounds."""
    return JSONResponse(content=await _review(db, tenant, review_id))


@router.get(
    "/{review_id}/day-changes",
    summary="The households whose collection day changes, for the letters",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                 "application/json": {"schema": {"type": "object"}}},
                     "description": "One line per household: property, address, bin_ids, old and new day and "
                                    "week (CSV, default), or the review's day_changes (json)."},
               404: NOT_FOUND, 409: NOT_DONE},
    **needs(VIEWER),
)
async def read_day_changes(review_id: str, db: StoreDep, tenant: TenantDep,
                           format: Annotated[DayChangesFormat, Query(description="csv (default) or json.")] = "csv"
                           ) -> Response:
    """One line per household whose day changes (``property, address, bin_ids, old_day, old_week, new_day,
    new_week``), ready for a letter merge."""
    changes = (await _review(db, tenant, review_id)).get("day_changes")
    listed = [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []
    await audit_trail.record(db, tenant, "export.day_changes", "review", review_id,
                             {"format": format, "households": len(listed)})
    if format == "json":
        return JSONResponse(content={"review_id": review_id, "day_changes": listed})
    return Response(content=round_review.day_changes_csv(listed), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="day-changes-{review_id}.csv"'})


@router.get(
    "/{review_id}/report",
    summary="The week's savings report: the proposed week against today's week",
    responses={
        200: REPORT_ANSWER,
        **ACCEPTED_RESPONSES,
        404: NOT_FOUND,
        409: {"model": MessageErrorResponse,
              "description": "The review has not succeeded (yet), or has no today's week to compare with (no bin "
                             "carries current)."},
        422: {"model": ValidationErrorResponse, "description": "A stored day that can no longer be scored."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(VIEWER),
)
async def read_week_report(review_id: str, db: StoreDep, tenant: TenantDep, settings: SettingsDep,
                           registry: NetworkRegistryDep, runner: JobRunnerDep,
                           format: Annotated[ReportFormat, Query(description="html, json or csv.")] = "html"
                           ) -> Response:
    """Vehicles on the busiest day, km, hours, fuel, CO2e and cost per week (one cycle of the calendar) and
    per year, households moved, balance and compactness, per day and in total, and what got worse: the
    review's proposed week against today's week, every day of both scored again by the one evaluator.
    A week of more bins than ``WASTEROUTE_MAX_SYNC_BINS`` answers 202 with a ``report`` job to poll
    (``GET /api/v1/jobs/{id}/report?format=``)."""
    try:
        stored_week = await db.run(lambda session: week.load_week(session, tenant, review_id))
    except week.WeekReportError as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.detail) from exc
    except PlanNotFoundError as exc:
        raise HTTPException(status_code=404, detail=f"round review {review_id!r}: {exc.field} plan "
                                                    f"{exc.plan_id!r} is gone from the store") from exc
    if is_over_sync_limit(stored_week.n_bins, settings.max_sync_bins):
        return await accept_as_job(runner, tenant, {}, kind="report", request=week_report_request(review_id),
                                   problem_id=stored_week.problem_id)
    try:
        report = await anyio.to_thread.run_sync(
            lambda: week.build(stored_week, registry.get(), settings=settings))
    except ValidationError as exc:  # a stored body today's schema refuses: name the fields, never a 500
        return JSONResponse(status_code=422, content={"detail": validation_error_items(exc.errors(), None)})
    rendered: dict[str, object] = {"json": week.to_json(report) if format == "json" else None,
                                   "html": week.to_html(report) if format == "html" else None,
                                   "csv": week.to_csv(report) if format == "csv" else None}
    await audit_trail.record(db, tenant, "export.report", "review", review_id, {"format": format})
    return render_as(format, rendered, filename=f"week-report-{review_id}.csv")
