"""``POST /api/v1/uploads/{bins,sites,vehicles,rounds}``: planners' CSV or GeoJSON files -> API bodies.

Each answers the parts of an optimisation body read from the file (``bins``; ``disposal_sites``;
``vehicles`` and the ``depots`` they declare; today's ``routes``), ready to be put in
an optimisation or evaluation body. A wrong file answers 422 with one item per wrong
cell, each naming its ``row`` and ``column`` (see :mod:`app.services.uploads`).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.deps import StoreDep
from app.api.principal import PLANNER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import BinIn, DepotIn, DisposalSiteIn, RouteIn, VehicleIn
from app.schemas.responses import ErrorItem, OutputModel
from app.services import audit_trail
from app.services import uploads as service

router = APIRouter(prefix="/uploads", tags=["uploads"])

UNPROCESSABLE = 422
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest file accepted, bytes."""

FileDep = Annotated[UploadFile, File(description="A CSV file (header row first), a GeoJSON FeatureCollection, "
                                                 "a GeoPackage (.gpkg) or a zipped Shapefile (.zip).")]
CrsDep = Annotated[str | None, Form(description="The CRS of the file's positions (EPSG:27700, 27700, a WKT or PROJ "
                                                "string); absent: the column names, the file's own CRS and the "
                                                "values tell (lon/lat degrees or British National Grid).")]
StreamsDep = Annotated[str | None, Form(description="A council's own stream names beyond the known ones, "
                                                    "joined by commas.")]


class UploadErrorItem(ErrorItem):
    """A wrong cell, row, column or file: where it is (row, column as the file writes it) and how often."""

    # Optional because a request without its file (FastAPI's own 422) has none of them.
    row: int | None = Field(default=None, description="CSV line (header = 1) or feature number (from 1); null: a "
                                                      "whole column or the file.")
    column: str | None = Field(default=None, description="The column as the file writes it; null: the whole row "
                                                         "or file.")
    count: int = Field(default=1, description="Rows with this fault: 1 for a row's item, more for a column's "
                                              "summary.")


class UploadErrorResponse(OutputModel):
    """Body of an upload's 422: whole-file faults, one summary per column and kind, then rows (capped)."""

    detail: list[UploadErrorItem]
    fault_count: int | None = Field(default=None, description="Every fault found in the file, including rows not "
                                                              "listed (absent when the request had no file).")
    truncated: bool = Field(default=False, description=f"More than {service.MAX_ROW_ITEMS} rows were wrong: the "
                                                       "rest are counted in the summaries, not listed.")


RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"model": UploadErrorResponse,
          "description": "Wrong cells: each item names its row (CSV line, header = 1; other formats: the feature "
                         "from 1), its column and the id of the row; a fault on many rows is summarised once per "
                         "column with its count; nothing of a wrong file is read."},
}


class BinsUpload(BaseModel):
    """Bins read from a file, and how their positions were read."""

    bins: list[BinIn]
    crs: str = Field(description="The CRS the positions were read in (EPSG:4326 lon/lat, EPSG:27700 British "
                                 "National Grid, or the one named); the bins' lon/lat are WGS84.")
    coordinate_columns: list[str] = Field(description="The two columns positions were read from, as the file "
                                                      "writes them; empty: the file's point geometries.")


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
    ignored_columns: list[str] = Field(
        default_factory=list, description="Columns of the file not read (an in-cab export's addresses, "
                                          "registrations...): today's rounds are the round, sequence and stop.")


async def _read(file: UploadFile) -> bytes:
    """The uploaded bytes (at most :data:`MAX_UPLOAD_BYTES`)."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise service.UploadError([service.UploadFault(None, None, None,
                                                       f"the file is larger than {MAX_UPLOAD_BYTES} bytes",
                                                       "too_large")], fmt="csv")
    return content


async def _audited(db: StoreDep, tenant: str, kind: str, content: bytes, details: JSONObject) -> None:
    """One ``upload.<kind>`` line: the file's SHA-256 and what was read from it (counts, never rows or a
    file name, which may name people)."""
    await audit_trail.record(db, tenant, f"upload.{kind}", "upload", hashlib.sha256(content).hexdigest(),
                             {"bytes": len(content), **details})


def _refused(exc: service.UploadError) -> JSONResponse:
    """422 listing the faults: whole-file ones, a summary per column, then rows (capped), with the count."""
    return JSONResponse(status_code=UNPROCESSABLE, content=exc.body())


@router.post("/bins", response_model=BinsUpload, response_model_exclude_none=True, responses=RESPONSES,
             summary="Read bins from a council's file (CSV, GeoJSON, GeoPackage, zipped Shapefile)",
             **needs(PLANNER))
async def upload_bins(
    file: FileDep, crs: CrsDep = None, streams: StreamsDep = None,
    bin_sizes: Annotated[str | None, Form(description='The bin size table laid over the defaults, JSON: '
                                                      '{"240": {"volume_l": 240, "demand_kg": 20, '
                                                      '"service_s": 30}}.')] = None,
    *, db: StoreDep, tenant: TenantDep,
) -> BinsUpload | JSONResponse:
    """Columns (any case, with the aliases of docs/council_data.md): ``id`` or ``UPRN``; a position
    (``lon``/``lat``, ``easting``/``northing``, ``x_coordinate``/``y_coordinate``, ``x``/``y``, or the
    point geometry); ``demand_kg`` or ``bin_size`` (140/180/240/360/660/1100 L from the size table);
    optionally ``volume_l``, ``service_s``, ``stream``, ``time_windows`` (``07:00-10:00|13:00-15:00``),
    ``required``, ``penalty``, ``vehicle``, ``max_vehicle_weight_kg``, ``max_vehicle_width_m``.
    ``address``, ``street``, ``uprn``, ``postcode``, ``frequency``, ``day``, ``week``, ``round``,
    ``assisted``, ``notes``, ``bin_size`` and every other column are kept in the bin's ``attributes``."""
    try:
        content = await _read(file)
        read = service.read_bins_file(content, filename=file.filename, crs=crs, bin_sizes=bin_sizes,
                                      streams=streams)
    except service.UploadError as exc:
        return _refused(exc)
    await _audited(db, tenant, "bins", content, {"bins": len(read.bins)})
    return BinsUpload(bins=read.bins, crs=read.crs, coordinate_columns=read.coordinate_columns)


@router.post("/sites", response_model=SitesUpload, response_model_exclude_none=True, responses=RESPONSES,
             summary="Read disposal sites (tips) from a file", **needs(PLANNER))
async def upload_sites(file: FileDep, db: StoreDep, tenant: TenantDep, crs: CrsDep = None,
                       streams: StreamsDep = None) -> SitesUpload | JSONResponse:
    """Columns: ``id``, a position (as for bins), and optionally ``unload_s``, ``opening``
    (``06:00-18:00``) and ``streams`` (``refuse|recycling``)."""
    try:
        content = await _read(file)
        read = service.read_sites_file(content, filename=file.filename, crs=crs, streams=streams)
    except service.UploadError as exc:
        return _refused(exc)
    await _audited(db, tenant, "sites", content, {"disposal_sites": len(read.sites)})
    return SitesUpload(disposal_sites=read.sites)


@router.post("/vehicles", response_model=VehiclesUpload, response_model_exclude_none=True,
             response_model_by_alias=True, responses=RESPONSES, summary="Read vehicles from a file",
             **needs(PLANNER))
async def upload_vehicles(file: FileDep, db: StoreDep, tenant: TenantDep, crs: CrsDep = None,
                          streams: StreamsDep = None) -> VehiclesUpload | JSONResponse:
    """Columns: ``id``, ``depot``, ``capacity_kg`` (required), and optionally ``capacity_l``,
    ``shift_start``, ``shift_end``, ``streams`` (``refuse|recycling``), ``break_duration_s``,
    ``break_start``, ``break_end``, costs, limits and sizes as in the API, and
    ``depot_lon``/``depot_lat`` or ``depot_easting``/``depot_northing`` to declare the depot (in other
    formats: the Point)."""
    try:
        content = await _read(file)
        vehicles, depots = service.read_vehicles(content, filename=file.filename, crs=crs, streams=streams)
    except service.UploadError as exc:
        return _refused(exc)
    await _audited(db, tenant, "vehicles", content, {"vehicles": len(vehicles), "depots": len(depots)})
    return VehiclesUpload(vehicles=vehicles, depots=depots)


@router.post("/rounds", response_model=RoundsUpload, responses=RESPONSES,
             summary="Read today's rounds from an in-cab system's CSV export", **needs(PLANNER))
async def upload_rounds(
    file: FileDep,
    day: Annotated[str | None, Form(description="Today's collection day (Monday, MON...), when the file "
                                                "holds several.")] = None,
    week: Annotated[str | None, Form(description="Today's collection week (1, Week 2, A...), when the file "
                                                 "holds several.")] = None,
    bin_ids: Annotated[str | None, Form(description="The ids of the bins uploaded (JSON list): every stop must "
                                                    "be one of them, a site_ids tip or break.")] = None,
    site_ids: Annotated[str | None, Form(description="The ids of the tips (JSON list).")] = None,
    *, db: StoreDep, tenant: TenantDep,
) -> RoundsUpload | JSONResponse:
    """Columns ``round`` (the vehicle id), ``sequence`` (driving order) and the stop (``bin_id``,
    ``uprn`` or ``stop``: a bin, a disposal site or ``break``), optionally ``day`` and ``week``:
    the ``routes`` of an evaluation body."""
    try:
        content = await _read(file)
        read = service.read_rounds_file(content, filename=file.filename, day=day, week=week,
                                        bin_ids=bin_ids, site_ids=site_ids)
    except service.UploadError as exc:
        return _refused(exc)
    await _audited(db, tenant, "rounds", content, {"routes": len(read.routes)})
    return RoundsUpload(routes=read.routes, ignored_columns=read.ignored_columns)
