"""A plan as a file to download: GeoJSON, CSV run sheets, GPX or the in-cab CSV (see
:mod:`app.services.exports`).

- ``POST /api/v1/exports/{format}`` exports the plan posted (an optimisation or evaluation answer);
  its stops are named by the streets they stop on;
- ``GET /api/v1/plans/{id}/export?format=...`` exports a stored plan, its bins' addresses and
  streets from the problem stored with it where given.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import store
from app.api.deps import NetworkRegistryDep, StoreDep
from app.api.principal import VIEWER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import MessageErrorResponse, OptimisationResponse, ValidationErrorResponse
from app.services import audit_trail
from app.services import exports as service
from app.services.addresses import problem_bins
from app.services.plans import plan_response

router = APIRouter(tags=["exports"])

FILE_ANSWER: dict[str, object] = {"content": {t: {} for t in service.MEDIA_TYPES.values()},
                               "description": "The file, as an attachment (named after the plan)."}
"""OpenAPI description of a successful export."""

RoundQuery = Annotated[str | None, Query(alias="round",
                                         description="CSV and in-cab CSV only: the one round (vehicle id) wanted.")]


async def export_response(plan: OptimisationResponse, fmt: service.ExportFormat, registry: NetworkRegistryDep, *,
                          stem: str = "plan", round_id: str | None = None,
                          problem: JSONObject | None = None) -> Response:
    """The plan as a download in ``fmt`` (404 for a round the plan does not have), its stops named
    from the network and the bins of ``problem`` (the body stored with the plan)."""
    one_round = fmt in ("csv", "incab")
    try:
        if fmt in service.NAMED_FORMATS:
            network = registry.get()
            names = await anyio.to_thread.run_sync(
                lambda: service.stop_names(plan, network, problem_bins(problem)))
        else:
            names = service.NO_NAMES
        text = service.export(plan, fmt, round_id=round_id if one_round else None, names=names)
    except service.UnknownRoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    name = service.file_name(fmt, stem=stem, round_id=round_id if one_round else None)
    return Response(content=text, media_type=service.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post(
    "/exports/{fmt}",
    summary="Export a plan as GeoJSON, CSV run sheets, GPX or in-cab CSV",
    responses={
        200: FILE_ANSWER,
        404: {"model": MessageErrorResponse, "description": "CSV: the round asked for is not in the plan."},
        422: {"model": ValidationErrorResponse, "description": "Not an optimisation answer, or an unknown format."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(VIEWER),
)
async def create_export(fmt: service.ExportFormat, plan: OptimisationResponse, registry: NetworkRegistryDep,
                        db: StoreDep, tenant: TenantDep, round_id: RoundQuery = None) -> Response:
    """The plan posted (an optimisation or evaluation answer) as ``geojson`` (the
    FeatureCollection), ``csv`` (run sheets: one line per stop with a ``round`` column, its
    street and each bin's volume; ``?round=ID`` for one round), ``gpx`` (per round a street
    track and a route of its stops, named by street, with planned times) or ``incab`` (one line
    per bin: round, sequence, UPRN, address, street, stream, bin size)."""
    answer = await export_response(plan, fmt, registry, round_id=round_id)
    await audit_trail.record(db, tenant, f"export.{fmt}", "plan", audit_trail.POSTED, {"round": round_id})
    return answer


@router.get(
    "/plans/{plan_id}/export",
    summary="Export a stored plan as GeoJSON, CSV run sheets, GPX or in-cab CSV",
    responses={
        200: FILE_ANSWER,
        404: {"model": MessageErrorResponse, "description": "No plan of this id, or (CSV) no such round in it."},
        422: {"model": ValidationErrorResponse, "description": "An unknown format."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
    **needs(VIEWER),
)
async def export_plan(plan_id: str, db: StoreDep, tenant: TenantDep, registry: NetworkRegistryDep,
                      fmt: Annotated[service.ExportFormat, Query(alias="format")] = "geojson",
                      round_id: RoundQuery = None) -> Response:
    """The stored plan ``plan_id`` as ``geojson``, ``csv`` (``?round=ID`` for one round), ``gpx`` or
    ``incab``, its bins' addresses and streets taken from the problem stored with it."""
    def read(session: Session) -> tuple[OptimisationResponse, JSONObject | None] | None:
        record = store.get_plan(session, tenant, plan_id)
        if record is None:
            return None
        problem = store.get_problem(session, tenant, record.problem_id) if record.problem_id else None
        return plan_response(record), (dict(problem.body) if problem is not None else None)

    found = await db.run(read)
    if found is None:
        raise HTTPException(status_code=404, detail=f"plan {plan_id!r} not found")
    plan, problem = found
    answer = await export_response(plan, fmt, registry, stem=f"plan-{plan_id}", round_id=round_id, problem=problem)
    await audit_trail.record(db, tenant, f"export.{fmt}", "plan", plan_id, {"round": round_id})
    return answer
