"""``/api/v1/actuals``: what the lorries actually drove.

``POST /api/v1/actuals``: GPS traces (and in-cab lifts) of a day, read (:mod:`app.services.trace_files`),
then matched to the streets and read as rounds in a job of kind ``actual``
(:mod:`app.services.actuals`), which stores the day as driven as a plan of source ``actual``.

``GET /api/v1/actuals/report``: the realised savings of a round set, its actual days (stored
plans of source ``actual``, one a day as driven) in a period before a change against a period
after it, each day scored again by the one evaluator (:mod:`app.reports.realised_report`), beside
the saving an approved plan promised against its baseline when both are named. JSON, CSV or
printable HTML; what got worse first.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import store
from app.api.deps import JobRunnerDep, NetworkRegistryDep, SettingsDep, StoreDep
from app.api.job_door import ACCEPTED_RESPONSES, accept_as_job
from app.api.principal import PLANNER, VIEWER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.compute.network_registry import NetworkRegistry
from app.core.config import Settings
from app.core.faults import validation_error_items
from app.reports import case_study
from app.reports import realised_report as realised
from app.reports.stored import PlanNotFoundError, load_plan
from app.schemas import JobAcceptedResponse, MessageErrorResponse, OptimisationRequest, ValidationErrorResponse
from app.services import actuals as actual_service
from app.services import audit_trail, trace_files
from app.services.upload_faults import UploadError
from app.store import Store
from solver.realised import CONFIDENCE, RealisedFigure, RealisedReport

router = APIRouter(prefix="/actuals", tags=["actual rounds"])

Format = Literal["json", "csv", "html"]

CSV_COLUMNS = ("figure", "label", "unit", "before", "after", "delta", "pct", "verdict", "delta_low", "delta_high",
               "per_year", "per_year_low", "per_year_high", "per_tonne_before", "per_tonne_after",
               "per_household_before", "per_household_after", "modelled", "gap")
"""The columns of the CSV answer, one row a figure."""


def _unprocessable(field: str, msg: str) -> HTTPException:
    """A 422 naming the query field at fault."""
    return HTTPException(status_code=422, detail=[{"loc": ["query", field], "field": field, "id": None,
                                                   "msg": msg, "type": "value_error"}])


def _csv(report: RealisedReport) -> str:
    """One row a figure (:data:`CSV_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in report.figures:
        span = f.delta_interval
        yearly = f.per_year_interval
        writer.writerow([f.figure, f.label, f.unit, f.before, f.after, f.delta, f.pct, f.verdict,
                         span.low if span else "", span.high if span else "", f.per_year if f.per_year is not None
                         else "", yearly.low if yearly else "", yearly.high if yearly else "",
                         *("" if v is None else v for v in (f.per_tonne_before, f.per_tonne_after,
                                                            f.per_household_before, f.per_household_after,
                                                            f.modelled, f.gap))])
    return out.getvalue()


def _row(f: RealisedFigure) -> str:
    """A figure as a table row: before, after, change with its spread, a year, per tonne, modelled."""
    def num(value: float | None) -> str:
        return "" if value is None else f"{value:,.1f}"
    span = f"{num(f.delta_interval.low)} to {num(f.delta_interval.high)}" if f.delta_interval else "one day: none"
    return (f"<tr class='{f.verdict}'><td>{html.escape(f.label)} ({html.escape(f.unit)})</td><td>{num(f.before)}</td>"
            f"<td>{num(f.after)}</td><td>{num(f.delta)}</td><td>{span}</td><td>{num(f.per_year)}</td>"
            f"<td>{num(f.per_tonne_before)} / {num(f.per_tonne_after)}</td><td>{num(f.modelled)}</td>"
            f"<td>{html.escape(f.verdict)}</td></tr>")


def _html(report: RealisedReport, round_set: str | None) -> str:
    """A printable page: what got worse first, then the table, then the notes."""
    head = ("<tr><th>Figure</th><th>Before, a day</th><th>After, a day</th><th>Change</th>"
            f"<th>{round(100 * CONFIDENCE)} % interval</th><th>A year</th><th>Per tonne, before / after</th>"
            "<th>Modelled change</th><th>Verdict</th></tr>")
    worse = ", ".join(html.escape(f.label) for f in report.worse) or "nothing"
    rows = "".join(_row(f) for f in (*report.worse, *(f for f in report.figures if f.verdict != "worse")))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    title = f"Realised savings{': ' + html.escape(round_set) if round_set else ''}"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:.3em .6em;text-align:right}td:first-child{text-align:left}tr.worse{background:#fde2e2}"
            "tr.better{background:#e3f4e3}@media print{body{margin:0}}</style></head><body>"
            f"<h1>{title}</h1><p>Actual days as driven, each scored again by the one evaluator: "
            f"{report.before_days} day(s) from {report.before_period[0]} to {report.before_period[1]} before, "
            f"{report.after_days} from {report.after_period[0]} to {report.after_period[1]} after; "
            f"{report.collection_days_per_year:g} collection days a year.</p>"
            f"<p class='worse'><strong>What got worse:</strong> {worse}.</p>"
            f"<table>{head}{rows}</table>{_order_table(report)}"
            f"<h2>Notes</h2><ul>{notes or '<li>none</li>'}</ul></body></html>")


def _order_table(report: RealisedReport) -> str:
    """Each round's share of bins collected in the planned order, before and after (nothing when no day
    named its plan)."""
    if not report.order_followed:
        return ""

    def pct(share: float | None, days: int) -> str:
        return "no plan named" if share is None else f"{100 * share:.0f} % ({days} day{'s' if days != 1 else ''})"

    rows = "".join(f"<tr><td>{html.escape(r.vehicle_id)}</td><td>{pct(r.before, r.before_days)}</td>"
                   f"<td>{pct(r.after, r.after_days)}</td></tr>" for r in report.order_followed)
    return ("<h2>Order followed</h2><p>The share of each round's bins collected in the order its plan set, "
            "a mean over the days.</p><table><tr><th>Round</th><th>Before</th><th>After</th></tr>"
            f"{rows}</table>")


@dataclass(frozen=True)
class _Gathered:
    """A realised-savings report and what it was made from."""

    report: RealisedReport
    made_from: realised.ReportInputs


async def _gather(settings: Settings, registry: NetworkRegistry, db: Store, tenant: str, *, before: str, after: str,
                  round_set: str | None, plan: str | None, baseline: str | None,
                  collection_days_per_year: float) -> _Gathered | JSONResponse:
    """Find the actual days of both periods (and the plan and baseline), score them and compare them;
    a 422/404 (raised, or answered for a stored body that can no longer be scored) otherwise."""
    try:
        periods = (realised.Period.parse(before, field="before"), realised.Period.parse(after, field="after"))
    except ValueError as exc:
        raise _unprocessable(str(exc).split(":", 1)[0], str(exc)) from exc
    if (plan is None) != (baseline is None):
        raise _unprocessable("baseline" if plan else "plan",
                             "plan and baseline go together: the modelled saving is the plan against its baseline")

    def read(session: Session) -> realised.ReportInputs:
        return realised.read_inputs(session, tenant, round_set=round_set, before=periods[0], after=periods[1],
                                    plan=plan, baseline=baseline)

    try:
        made_from = await db.run(read)
    except realised.NoActualDaysError as exc:
        raise _unprocessable(exc.field, str(exc)) from exc
    except PlanNotFoundError as exc:
        raise HTTPException(status_code=404, detail=f"{exc.field}: plan {exc.plan_id!r} not found") from exc

    def build() -> RealisedReport:
        return realised.build_realised(made_from.before, made_from.after, registry.get(), settings=settings,
                                       collection_days_per_year=collection_days_per_year, promise=made_from.promise)

    try:
        report = await anyio.to_thread.run_sync(build)
    except ValidationError as exc:  # a stored body today's schema refuses: name the fields, never a 500
        return JSONResponse(status_code=422, content={"detail": validation_error_items(exc.errors(), None)})
    return _Gathered(report, made_from)


@router.get(
    "/report",
    summary="Realised savings: actual days before a change against after it",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}},
                          "text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
              "description": "The report: JSON (default), CSV (format=csv) or printable HTML (format=html)."},
        404: {"model": MessageErrorResponse, "description": "No plan of the id given as plan or baseline."},
        422: {"model": ValidationErrorResponse,
              "description": "A period that is no FIRST/LAST pair of dates, a period with no actual day, a plan "
                             "without its baseline, or a stored day that can no longer be scored."},
    },
    **needs(VIEWER),
)
async def realised_savings_report(
    settings: SettingsDep, registry: NetworkRegistryDep, db: StoreDep, tenant: TenantDep,
    before: Annotated[str, Query(description="The days before the change, FIRST/LAST (2026-10-05/2026-11-01).")],
    after: Annotated[str, Query(description="The days after the change, FIRST/LAST.")],
    round_set: Annotated[str | None, Query(min_length=1, max_length=200,
                                           description="The round set whose actual days are compared "
                                                       "(absent: every actual day of the tenant).")] = None,
    plan: Annotated[str | None, Query(description="The approved plan whose modelled saving is set beside.")] = None,
    baseline: Annotated[str | None, Query(description="The baseline the plan was compared with (with plan).")] = None,
    collection_days_per_year: Annotated[float, Query(
        gt=0, le=366, description="Days a year the compared rounds run: 52 for one weekly day's round set, "
                                  "260 for a Monday-to-Friday week.")] = 52.0,
    format: Annotated[Format, Query(description="json, csv or html.")] = "json",
) -> Response:
    """Each figure per collection day before and after, the change with its 95 % interval by
    bootstrap over the days, a year, per tonne and per household, the modelled change and the gap;
    what got worse named first (``solver/realised.py``, ``docs/savings.md``)."""
    gathered = await _gather(settings, registry, db, tenant, before=before, after=after, round_set=round_set,
                             plan=plan, baseline=baseline, collection_days_per_year=collection_days_per_year)
    if isinstance(gathered, JSONResponse):
        return gathered
    report = gathered.report
    await audit_trail.record(db, tenant, "export.realised_report", "round_set", round_set or "*",
                             {"format": format, "before": before, "after": after, "plan": plan})
    if format == "csv":
        return Response(_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="realised-savings.csv"'})
    if format == "html":
        return HTMLResponse(_html(report, round_set))
    return JSONResponse({"round_set": round_set, **report.as_dict()})


@router.get(
    "/case-study",
    summary="A publishable case study of the realised savings (no personal data)",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}},
                          "text/html": {"schema": {"type": "string"}}},
              "description": "The case study: JSON following docs/case_study.schema.json (default) or printable "
                             "HTML (format=html)."},
        404: {"model": MessageErrorResponse, "description": "No plan of the id given as plan or baseline."},
        422: {"model": ValidationErrorResponse, "description": "As for GET /api/v1/actuals/report."},
    },
    **needs(VIEWER),
)
async def export_case_study(
    settings: SettingsDep, registry: NetworkRegistryDep, db: StoreDep, tenant: TenantDep,
    before: Annotated[str, Query(description="The days before the change, FIRST/LAST (2026-10-05/2026-11-01).")],
    after: Annotated[str, Query(description="The days after the change, FIRST/LAST.")],
    council: Annotated[str, Query(min_length=1, max_length=300, description="Who publishes it.")],
    title: Annotated[str, Query(min_length=1, max_length=300, description="What changed.")] = "New rounds",
    round_set: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    plan: Annotated[str | None, Query(description="The approved plan whose modelled saving is set beside.")] = None,
    baseline: Annotated[str | None, Query(description="The baseline the plan was compared with (with plan).")] = None,
    collection_days_per_year: Annotated[float, Query(gt=0, le=366)] = 52.0,
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
) -> Response:
    """The realised-savings report as a case study others can check: method, versions, factors, the
    figures before and after (realised and modelled), what went wrong, the hash of every input;
    aggregated figures only (``docs/case_study.md``)."""
    gathered = await _gather(settings, registry, db, tenant, before=before, after=after, round_set=round_set,
                             plan=plan, baseline=baseline, collection_days_per_year=collection_days_per_year)
    if isinstance(gathered, JSONResponse):
        return gathered
    document = realised.case_study_of(gathered.report, gathered.made_from, settings=settings, title=title,
                                      council=council, round_set=round_set)
    await audit_trail.record(db, tenant, "export.case_study", "round_set", round_set or "*",
                             {"format": format, "before": before, "after": after, "plan": plan})
    if format == "html":
        return HTMLResponse(case_study.to_html([document]))
    return JSONResponse(document)


@router.post(
    "/case-studies/compare",
    summary="Case studies side by side (one's own and another council's)",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                     "description": "A printable page with the case studies side by side."},
               422: {"model": ValidationErrorResponse,
                     "description": "A document that is not a case study: each fault names the study and the path."}},
    **needs(PLANNER),
)
async def compare_case_studies(body: Annotated[dict[str, Any], Body(
        description='{"studies": [case study, ...]}: one to six documents of docs/case_study.schema.json, '
                    "one's own first.")]) -> HTMLResponse:
    """Check each document against the schema (a 422 naming the study and the path of each fault) and
    print them side by side."""
    studies = body.get("studies")
    if not isinstance(studies, list) or not 1 <= len(studies) <= MAX_COMPARED:
        raise _unprocessable("studies", f"studies: a list of 1 to {MAX_COMPARED} case study documents is needed")
    faults = [{"loc": ["body", "studies", k, *path.split(": ", 1)[0].split("/")], "field": f"studies[{k}]",
               "id": None, "msg": f"studies[{k}] {path}", "type": "case_study"}
              for k, doc in enumerate(studies) for path in case_study.check(doc)]
    if faults:
        raise HTTPException(status_code=422, detail=faults[:100])
    return HTMLResponse(case_study.to_html(studies))


MAX_COMPARED = 6
"""Most case studies one page sets side by side."""


def _vehicles_text() -> str:
    return "how a trace names its vehicle: its id, or an attribute such as the registration"


@router.post(
    "",
    status_code=202,
    response_model=JobAcceptedResponse,
    summary="A day as the lorries drove it, from their traces (a job)",
    responses={**ACCEPTED_RESPONSES,
               404: {"model": MessageErrorResponse, "description": "No plan of the id given as plan."},
               422: {"model": ValidationErrorResponse,
                     "description": "A file that cannot be read at all (named), a problem that is not one (fields "
                                    "named), no trace of a vehicle of the problem, an unknown time zone."}},
    **needs(PLANNER),
)
async def post_actuals(
    settings: SettingsDep, db: StoreDep, tenant: TenantDep, runner: JobRunnerDep,
    traces: Annotated[list[UploadFile], File(description="GPS traces: GPX, or CSV with vehicle, time, lon, lat "
                                                         "(docs/council_data.md, 'Traces and lifts').")],
    problem: Annotated[UploadFile | None, File(description="The bins, depots, tips and vehicles the traces are "
                                                           "matched against (an optimisation body, JSON); "
                                                           "absent: the problem of the plan named.")] = None,
    lifts: Annotated[UploadFile | None, File(description="In-cab lift records: CSV with time, bin_id or uprn, "
                                                         "vehicle.")] = None,
    day: Annotated[date | None, Form(description="The day the traces cover (absent: the date of the first "
                                                 "fix).")] = None,
    time_zone: Annotated[str | None, Form(description="The zone of times written without one (IANA, for example "
                                                      "Europe/London); absent: UTC.")] = None,
    round_set: Annotated[str | None, Form(min_length=1, max_length=200,
                                          description="The round set the day belongs to.")] = None,
    plan: Annotated[str | None, Form(description="The plan the crews were meant to follow (its streets are "
                                                 "compared with those driven).")] = None,
) -> JSONResponse:
    """Read the traces (and lifts), then match them to the streets and read each vehicle's round as
    driven in a job of kind ``actual``; once it has succeeded, its ``result`` is ``{"plan_id", "day",
    "rounds": [{"vehicle_id", "distance_m", "duration_s", "bins_collected", "streets_not_in_plan", ...}],
    "notes"}`` and the plan (source ``actual``) is the day as driven, scored by the evaluator."""
    try:
        zone = trace_files.time_zone(time_zone)
    except ValueError as exc:
        raise _unprocessable("time_zone", str(exc)) from exc
    body: dict[str, Any] | None = None
    if problem is not None:
        try:
            body = json.loads((await problem.read()).decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _unprocessable("problem", f"problem: not a JSON file ({exc})") from exc
    elif plan is not None:
        def stored(session: Session) -> dict[str, Any]:
            return dict(load_plan(session, tenant, plan, field="plan").problem_body)
        try:
            body = await db.run(stored)
        except PlanNotFoundError as exc:
            raise HTTPException(status_code=404, detail=f"plan: plan {plan!r} not found") from exc
    if body is None:
        raise _unprocessable("problem", "problem: give the problem (JSON) the traces are matched against, or a plan")
    try:
        request = OptimisationRequest.model_validate(body)
    except ValidationError as exc:
        return JSONResponse(status_code=422, content={"detail": validation_error_items(exc.errors(), body,
                                                                                      loc_prefix=("problem",))})
    files = [(t.filename or f"trace-{k + 1}", await t.read()) for k, t in enumerate(traces)]
    try:
        read = trace_files.read_traces(files, zone=time_zone)
        lifted = (trace_files.read_lifts(lifts.filename or "lifts.csv", await lifts.read(),
                                         bin_ids=[b.id for b in request.bins], uprns=_uprns(request), zone=time_zone)
                  if lifts is not None else None)
    except UploadError as exc:
        return JSONResponse(status_code=422, content=exc.body())
    when = day or actual_service.day_of(read.fixes, zone)
    hashes = dict(read.hashes)
    if lifted is not None:
        hashes[lifts.filename or "lifts.csv"] = lifted.hash  # type: ignore[union-attr]
    asked = actual_service.job_request(request, read.fixes, lifted.lifts if lifted else [], day=when, zone=zone,
                                       round_set=round_set, hashes=hashes,
                                       notes=[*read.notes, *(lifted.notes if lifted else [])])
    if not asked["fixes"]:
        raise _unprocessable("traces", f"traces: no trace names a vehicle of the problem ({_vehicles_text()}); "
                                       f"the traces name {', '.join(sorted(read.fixes)) or 'none'}")
    saved = await db.run(lambda session: store.save_problem(session, tenant, body).id)
    asked.update(problem_id=saved, plan_id=plan)
    return await accept_as_job(runner, tenant, {}, kind=actual_service.ACTUAL_KIND, request=asked, problem_id=saved)


def _uprns(request: OptimisationRequest) -> dict[str, str]:
    """UPRN -> bin id, from the bins' ``uprn`` attributes."""
    return {str(b.attributes["uprn"]): b.id for b in request.bins if b.attributes.get("uprn") not in (None, "")}
