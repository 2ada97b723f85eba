"""A plan (the optimisation answer) -> files for other systems: GeoJSON, CSV run sheets, GPX.

- **GeoJSON**: the answer itself (RFC 7946 FeatureCollection with ``summary``,
  ``unassigned`` and the OpenStreetMap ``attribution``), for GIS tools.
- **CSV run sheets**: one CSV with a ``round`` column and one line per stop in driving
  order, round after round. One file rather than a zip of one file per round: a
  spreadsheet filters it by round in one click, a crew's sheet is printed from that
  filter, and systems that import run sheets take one file. Pass ``round`` to get
  one round's sheet alone.
- **GPX 1.1** (gpxpy) for in-cab devices: per round a track (``trk``) following the
  streets and a route (``rte``) of its stops in order, each named by the round and
  sequence, with the stop id, arrival and load in its description.

Distances in metres, times of day as ``"HH:MM"`` on the plan's day (and seconds since
midnight in the ``*_s`` columns), loads in kg and litres.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Literal

import gpxpy.gpx

from app.schemas import OSM_ATTRIBUTION, OptimisationResponse, RouteFeature, VisitFeature
from app.services.optimisation import seconds_to_clock
from solver.units import METRES_PER_KM

ExportFormat = Literal["geojson", "csv", "gpx"]

MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpx": "application/gpx+xml",
}
"""Content type of each export format."""

RUN_SHEET_COLUMNS = (
    "round", "sequence", "type", "stop_id", "arrival", "departure", "arrival_s", "departure_s",
    "load_kg", "load_l", "lon", "lat",
)
"""Columns of the CSV run sheet."""


class UnknownRoundError(ValueError):
    """A round was asked for that the plan does not have."""


def _rounds(plan: OptimisationResponse) -> Iterator[tuple[RouteFeature, list[VisitFeature]]]:
    """Each route with its visits in driving order."""
    routes = [f for f in plan.features if isinstance(f, RouteFeature)]
    visits = [f for f in plan.features if isinstance(f, VisitFeature)]
    for route in routes:
        vehicle_id = route.properties.vehicle_id
        stops = sorted((v for v in visits if v.properties.vehicle_id == vehicle_id),
                       key=lambda v: v.properties.sequence)
        yield route, stops


def stop_id(visit: VisitFeature) -> str:
    """The id a stop is known by: bin, disposal site, depot, or ``"break"``."""
    p = visit.properties
    return p.bin_id or p.site_id or p.depot_id or ("break" if p.type == "break" else p.type)


def to_geojson(plan: OptimisationResponse) -> str:
    """The plan as an RFC 7946 FeatureCollection (with ``summary``, ``unassigned``, ``attribution``)."""
    return json.dumps(plan.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def to_run_sheets(plan: OptimisationResponse, *, round_id: str | None = None) -> str:
    """CSV run sheets: one line per stop, rounds one after the other (only ``round_id`` if given)."""
    rounds = list(_rounds(plan))
    if round_id is not None:
        rounds = [(r, s) for r, s in rounds if r.properties.vehicle_id == round_id]
        if not rounds:
            raise UnknownRoundError(f"round {round_id!r} is not in the plan")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RUN_SHEET_COLUMNS)
    for route, stops in rounds:
        for visit in stops:
            p = visit.properties
            lon, lat = visit.geometry.coordinates
            writer.writerow([route.properties.vehicle_id, p.sequence, p.type, stop_id(visit), p.arrival,
                             seconds_to_clock(p.departure_s), round(p.arrival_s), round(p.departure_s),
                             round(p.load_kg, 3), round(p.load_l, 3), lon, lat])
    return out.getvalue()


def to_gpx(plan: OptimisationResponse) -> str:
    """GPX 1.1: per round a street-following track and a route of its numbered stops."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "wasteroute"
    gpx.description = f"Waste-collection rounds. {OSM_ATTRIBUTION}"
    for route, stops in _rounds(plan):
        props = route.properties
        summary = (f"{props.distance_m / METRES_PER_KM:.1f} km, {seconds_to_clock(props.duration_s)} h, "
                   f"{props.load_kg:.0f} kg, {props.n_bins} bins, {props.trips} trips")
        track = gpxpy.gpx.GPXTrack(name=props.vehicle_id, description=summary)
        segment = gpxpy.gpx.GPXTrackSegment(
            [gpxpy.gpx.GPXTrackPoint(latitude=lat, longitude=lon) for lon, lat in route.geometry.coordinates])
        track.segments.append(segment)
        gpx.tracks.append(track)
        rte = gpxpy.gpx.GPXRoute(name=props.vehicle_id, description=summary)
        for visit in stops:
            p = visit.properties
            lon, lat = visit.geometry.coordinates
            rte.points.append(gpxpy.gpx.GPXRoutePoint(
                latitude=lat, longitude=lon, name=f"{props.vehicle_id} #{p.sequence} {stop_id(visit)}",
                description=f"{p.type} {stop_id(visit)}, arrival {p.arrival}, load {p.load_kg:.0f} kg",
                symbol=p.type))
        gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")


def export(plan: OptimisationResponse, fmt: ExportFormat, *, round_id: str | None = None) -> str:
    """The plan as text in ``fmt``."""
    if fmt == "geojson":
        return to_geojson(plan)
    if fmt == "csv":
        return to_run_sheets(plan, round_id=round_id)
    return to_gpx(plan)


def file_name(fmt: ExportFormat, *, stem: str = "plan", round_id: str | None = None) -> str:
    """A download file name such as ``plan.geojson`` or ``plan-rcv-1.csv``."""
    suffix = f"-{round_id}" if round_id else ""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{stem}{suffix}")
    return f"{safe}.{fmt}"
