"""``POST /api/v1/uploads/{bins,sites,vehicles,rounds}``: planners' CSV or GeoJSON files -> API bodies.

Each answers the parts of an optimisation body read from the file (``bins``; ``disposal_sites``;
``vehicles`` and the ``depots`` they declare; today's ``routes``), ready to be put in
an optimisation or evaluation body. A wrong file answers 422 with one item per wrong
cell, each naming its ``row`` and ``column`` (see :mod:`app.services.uploads`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.schemas import BinIn, DepotIn, DisposalSiteIn, RouteIn, ValidationErrorResponse, VehicleIn
from app.services import uploads as service

router = APIRouter(prefix="/uploads", tags=["uploads"])

UNPROCESSABLE = 422
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest file accepted, bytes."""

FileDep = Annotated[UploadFile, File(description="A CSV file (header row first) or a GeoJSON FeatureCollection.")]
RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"model": ValidationErrorResponse,
          "description": "Wrong cells: each item names its row (CSV line, header = 1; GeoJSON feature from 1), "
                         "its column and the id of the row."},
}


class BinsUpload(BaseModel):
    """Bins read from a file."""

    bins: list[BinIn]


class SitesUpload(BaseModel):
    """Disposal sites (tips) read from a file."""

    disposal_sites: list[DisposalSiteIn]


class VehiclesUpload(BaseModel):
    """Vehicles read from a file, and the depots declared by ``depot_lon``/``depot_lat``."""

    vehicles: list[VehicleIn]
    depots: list[DepotIn]


class RoundsUpload(BaseModel):
    """Today's rounds read from a file, each in driving order."""

    routes: list[RouteIn]


async def _read(file: UploadFile) -> bytes:
    """The uploaded bytes (at most :data:`MAX_UPLOAD_BYTES`)."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise service.UploadError([service.UploadFault(None, None, None,
                                                       f"the file is larger than {MAX_UPLOAD_BYTES} bytes",
                                                       "too_large")], fmt="csv")
    return content


def _refused(exc: service.UploadError) -> JSONResponse:
    """422 listing every wrong cell."""
    return JSONResponse(status_code=UNPROCESSABLE, content={"detail": exc.items()})


@router.post("/bins", response_model=BinsUpload, response_model_exclude_none=True, responses=RESPONSES,
             summary="Read bins from a CSV or GeoJSON file")
async def upload_bins(file: FileDep) -> BinsUpload | JSONResponse:
    """Columns: ``id``, ``lon``, ``lat``, ``demand_kg`` (required), and optionally ``volume_l``,
    ``service_s``, ``stream``, ``time_windows`` (``07:00-10:00|13:00-15:00``), ``required``,
    ``penalty``, ``vehicle``, ``max_vehicle_weight_kg``, ``max_vehicle_width_m``. In GeoJSON,
    Point features with these properties (``lon``/``lat`` from the Point)."""
    try:
        return BinsUpload(bins=service.read_bins(await _read(file), filename=file.filename))
    except service.UploadError as exc:
        return _refused(exc)


@router.post("/sites", response_model=SitesUpload, response_model_exclude_none=True, responses=RESPONSES,
             summary="Read disposal sites (tips) from a CSV or GeoJSON file")
async def upload_sites(file: FileDep) -> SitesUpload | JSONResponse:
    """Columns: ``id``, ``lon``, ``lat`` (required), and optionally ``unload_s``, ``opening``
    (``06:00-18:00``) and ``streams`` (``refuse|recycling``). In GeoJSON, Point features."""
    try:
        return SitesUpload(disposal_sites=service.read_sites(await _read(file), filename=file.filename))
    except service.UploadError as exc:
        return _refused(exc)


@router.post("/vehicles", response_model=VehiclesUpload, response_model_exclude_none=True,
             response_model_by_alias=True, responses=RESPONSES, summary="Read vehicles from a CSV or GeoJSON file")
async def upload_vehicles(file: FileDep) -> VehiclesUpload | JSONResponse:
    """Columns: ``id``, ``depot``, ``capacity_kg`` (required), and optionally ``capacity_l``,
    ``shift_start``, ``shift_end``, ``streams`` (``refuse|recycling``), ``break_duration_s``,
    ``break_start``, ``break_end``, costs, limits and sizes as in the API, and
    ``depot_lon``/``depot_lat`` to declare the depot (in GeoJSON: the Point)."""
    try:
        vehicles, depots = service.read_vehicles(await _read(file), filename=file.filename)
    except service.UploadError as exc:
        return _refused(exc)
    return VehiclesUpload(vehicles=vehicles, depots=depots)


@router.post("/rounds", response_model=RoundsUpload, responses=RESPONSES,
             summary="Read today's rounds from a CSV file")
async def upload_rounds(file: FileDep) -> RoundsUpload | JSONResponse:
    """Columns ``round`` (the vehicle id), ``sequence`` (driving order) and ``bin_id`` (a bin,
    a disposal site or ``break``): the ``routes`` of an evaluation body."""
    try:
        return RoundsUpload(routes=service.read_rounds(await _read(file), filename=file.filename))
    except service.UploadError as exc:
        return _refused(exc)
