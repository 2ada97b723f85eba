"""``GET /api/v1/plans/{id}/report?baseline={other_id}``: the savings report of a stored plan.

Both plans are scored again by the one evaluator from their stored inputs and routes
(never copied from the stored answers), then compared (:mod:`solver.savings`) at the
configured factors (``WASTEROUTE_SAVINGS_*``). HTML by default (printable, charts and
map inline), ``format=json`` (``{"plan", "baseline", "delta", "rounds", "factors", ...}``)
or ``format=csv``. When either plan has more bins than ``WASTEROUTE_MAX_SYNC_BINS`` the
report is made by a ``report`` job instead: 202 with the job to poll, and the report in
each format at ``GET /api/v1/jobs/{id}/report?format=`` once it has succeeded.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.deps import JobRunnerDep, NetworkRegistryDep, SettingsDep, StoreDep
from app.api.job_door import ACCEPTED_RESPONSES, accept_as_job, is_over_sync_limit
from app.api.principal import VIEWER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.config import Settings
from app.core.faults import validation_error_items
from app.reports import render, stored
from app.reports.report_job import report_request
from app.schemas import MessageErrorResponse, ValidationErrorResponse
from app.services import audit_trail

router = APIRouter(prefix="/plans", tags=["plans"])

ReportFormat = Literal["html", "json", "csv"]


def _build(plan: stored.StoredPlan, baseline: stored.StoredPlan, registry: NetworkRegistryDep,
           settings: Settings, collections_per_year: float | None) -> render.Report:
    """Score both stored plans on the service's network and build the report. Blocking."""
    return stored.build_report(plan, baseline, registry.get(), settings=settings,
                               collections_per_year=collections_per_year)


def render_as(format: ReportFormat, report: dict[str, object], *, filename: str) -> Response:
    """A report's rendering (``report``: ``{"json", "html", "csv"}``) as the answer ``format`` asks for."""
    if format == "json":
        return JSONResponse(report["json"])
    if format == "csv":
        return Response(str(report["csv"]), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return HTMLResponse(str(report["html"]))


REPORT_ANSWER: dict[str, object] = {
    "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}},
    "description": "The report: printable HTML (default), JSON (format=json) or CSV (format=csv)."}
"""The 200 answer of a route that gives a report, for its ``responses``."""


@router.get(
    "/{plan_id}/report",
    summary="Savings report of a plan against a baseline",
    responses={
        200: REPORT_ANSWER,
        **ACCEPTED_RESPONSES,
        404: {"model": MessageErrorResponse, "description": "No plan of this id, or no baseline of that id."},
        422: {"model": ValidationErrorResponse, "description": "A stored plan that can no longer be scored."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(VIEWER),
)
async def plan_report(
    plan_id: str, settings: SettingsDep, registry: NetworkRegistryDep, db: StoreDep, tenant: TenantDep,
    runner: JobRunnerDep,
    baseline: Annotated[str, Query(description="Id of the baseline plan (for example today's rounds, stored "
                                               "with POST /api/v1/plans).")],
    format: Annotated[ReportFormat, Query(description="html, json or csv.")] = "html",
    collections_per_year: Annotated[float | None, Query(
        gt=0, le=366, description="How often the rounds run a year (52 weekly, 26 fortnightly); by default "
                                  "what the plans' round set names say (weekly, fortnightly), else the "
                                  "service's setting, flagged as an assumption.")] = None,
) -> Response:
    """Distance, drive time, working hours, vehicles, tip trips, fuel, CO2e and cost of the plan
    against the baseline, per round and in total, per collection and per year; what got worse
    beside what got better; the factors and their sources; who approved the plan. Plans of more
    bins than ``WASTEROUTE_MAX_SYNC_BINS`` answer 202 with a ``report`` job to poll instead."""
    def read(session: Session) -> tuple[stored.StoredPlan, stored.StoredPlan]:
        return (stored.load_plan(session, tenant, plan_id, field="plan_id"),
                stored.load_plan(session, tenant, baseline, field="baseline"))

    try:
        plan, base = await db.run(read)
    except stored.PlanNotFoundError as exc:
        raise HTTPException(status_code=404, detail=f"{exc.field}: plan {exc.plan_id!r} not found") from exc
    if is_over_sync_limit(max(plan.n_bins, base.n_bins), settings.max_sync_bins):
        asked = report_request(plan_id, baseline, collections_per_year)
        return await accept_as_job(runner, tenant, {}, kind="report", request=asked, problem_id=plan.problem_id)
    try:
        report = await anyio.to_thread.run_sync(_build, plan, base, registry, settings, collections_per_year)
    except ValidationError as exc:  # a stored body today's schema refuses: name the fields, never a 500
        return JSONResponse(status_code=422, content={"detail": validation_error_items(exc.errors(), None)})
    rendered: dict[str, object] = {"json": render.to_json(report) if format == "json" else None,
                                   "html": render.to_html(report) if format == "html" else None,
                                   "csv": render.to_csv(report) if format == "csv" else None}
    await audit_trail.record(db, tenant, "export.report", "plan", plan_id, {"format": format, "baseline": baseline})
    return render_as(format, rendered, filename=f"report-{plan_id}-vs-{baseline}.csv")
