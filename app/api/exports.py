"""A plan as a file to download: GeoJSON, CSV run sheets or GPX (see :mod:`app.services.exports`).

- ``POST /api/v1/exports/{format}`` exports the plan posted (an optimisation or evaluation answer);
- ``GET /api/v1/plans/{id}/export?format=...`` exports a stored plan.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from app import store
from app.api.deps import StoreDep
from app.api.tenancy import TenantDep
from app.schemas import MessageErrorResponse, OptimisationResponse, ValidationErrorResponse
from app.services import exports as service
from app.services.plans import plan_response

router = APIRouter(tags=["exports"])

FILE_ANSWER: dict[str, object] = {"content": {t: {} for t in service.MEDIA_TYPES.values()},
                               "description": "The file, as an attachment (named after the plan)."}
"""OpenAPI description of a successful export."""

RoundQuery = Annotated[str | None, Query(alias="round", description="CSV only: the one round (vehicle id) wanted.")]


def export_response(plan: OptimisationResponse, fmt: service.ExportFormat, *, stem: str = "plan",
                    round_id: str | None = None) -> Response:
    """The plan as a download in ``fmt`` (404 for a round the plan does not have)."""
    try:
        text = service.export(plan, fmt, round_id=round_id)
    except service.UnknownRoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    name = service.file_name(fmt, stem=stem, round_id=round_id if fmt == "csv" else None)
    return Response(content=text, media_type=service.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post(
    "/exports/{fmt}",
    summary="Export a plan as GeoJSON, CSV run sheets or GPX",
    responses={
        200: FILE_ANSWER,
        404: {"model": MessageErrorResponse, "description": "CSV: the round asked for is not in the plan."},
        422: {"model": ValidationErrorResponse, "description": "Not an optimisation answer, or an unknown format."},
    },
)
async def create_export(fmt: service.ExportFormat, plan: OptimisationResponse,
                        round_id: RoundQuery = None) -> Response:
    """The plan posted (an optimisation or evaluation answer) as ``geojson`` (the
    FeatureCollection), ``csv`` (run sheets: one line per stop with a ``round`` column;
    ``?round=ID`` for one round) or ``gpx`` (per round a street track and a route of its stops)."""
    return export_response(plan, fmt, round_id=round_id)


@router.get(
    "/plans/{plan_id}/export",
    summary="Export a stored plan as GeoJSON, CSV run sheets or GPX",
    responses={
        200: FILE_ANSWER,
        404: {"model": MessageErrorResponse, "description": "No plan of this id, or (CSV) no such round in it."},
        422: {"model": ValidationErrorResponse, "description": "An unknown format."},
    },
)
async def export_plan(plan_id: str, db: StoreDep, tenant: TenantDep,
                      fmt: Annotated[service.ExportFormat, Query(alias="format")] = "geojson",
                      round_id: RoundQuery = None) -> Response:
    """The stored plan ``plan_id`` as ``geojson``, ``csv`` (``?round=ID`` for one round) or ``gpx``."""
    record = await db.run(lambda session: store.get_plan(session, tenant, plan_id))
    if record is None:
        raise HTTPException(status_code=404, detail=f"plan {plan_id!r} not found")
    return export_response(plan_response(record), fmt, stem=f"plan-{plan_id}", round_id=round_id)
