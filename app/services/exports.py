"""A plan (the optimisation answer) -> files for other systems: GeoJSON, CSV run sheets, GPX.

- **GeoJSON**: the answer itself (RFC 7946 FeatureCollection with ``summary``,
  ``unassigned`` and the OpenStreetMap ``attribution``), for GIS tools.
- **CSV run sheets**: one CSV with a ``round`` column and one line per stop in driving
  order, round after round, each stop with its street and address (:mod:`app.services.addresses`)
  and, for a bin, its own volume (``volume_l``; ``load_l`` is the load on board after the stop,
  which grows along a round until it tips). One file rather than a zip of one file per round: a
  spreadsheet filters it by round in one click, a crew's sheet is printed from that
  filter, and systems that import run sheets take one file. Pass ``round`` to get
  one round's sheet alone.
- **GPX 1.1** (gpxpy) for in-cab devices: per round a track (``trk``) following the
  streets and a route (``rte``) of its stops in order, each named by the round, sequence
  and address (else street), with the stop id, street, address, planned arrival and
  departure and load in its description (the planned times also in its comment).
- **In-cab CSV** (``incab``): the generic file in-cab systems import, one line per bin in
  collection order: round, sequence (1, 2, ... per round), UPRN (else the bin id), address,
  street, stream, bin size in litres (empty when not given).

Distances in metres, times of day as ``"HH:MM"`` on the plan's day (and seconds since
midnight in the ``*_s`` columns), loads in kg and litres.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import gpxpy.gpx

from app.schemas import OSM_ATTRIBUTION, OptimisationResponse, RouteFeature, VisitFeature
from app.services.addresses import BinDetails, stop_lonlat, streets_at
from app.services.optimisation import seconds_to_clock
from solver.units import METRES_PER_KM

if TYPE_CHECKING:
    from solver.network import RoadNetwork

ExportFormat = Literal["geojson", "csv", "gpx", "incab"]

MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpx": "application/gpx+xml",
    "incab": "text/csv; charset=utf-8",
}
"""Content type of each export format."""

EXTENSIONS: dict[str, str] = {"geojson": "geojson", "csv": "csv", "gpx": "gpx", "incab": "csv"}
"""File name extension of each export format."""

NAMED_FORMATS = frozenset({"csv", "gpx", "incab"})
"""The formats that name each stop's street (and so need the road network)."""

RUN_SHEET_COLUMNS = (
    "round", "sequence", "type", "stop_id", "arrival", "departure", "arrival_s", "departure_s",
    "load_kg", "load_l", "lon", "lat", "street", "address", "volume_l",
)
"""Columns of the CSV run sheet."""

IN_CAB_COLUMNS = ("round", "sequence", "uprn", "address", "street", "stream", "bin_size_l")
"""Columns of the in-cab CSV."""


@dataclass(frozen=True, slots=True)
class StopNames:
    """What names a plan's stops: each stop's street, by ``(round, sequence)``, and the bins' details by id."""

    streets: Mapping[tuple[str, int], str | None]
    bins: Mapping[str, BinDetails]

    def street(self, visit: VisitFeature) -> str:
        """The stop's street: the bin's own when given, else the one it stops on ("" when unknown)."""
        p = visit.properties
        own = self.bins.get(p.bin_id or "")
        return (own.street if own and own.street else None) or self.streets.get((p.vehicle_id, p.sequence)) or ""

    def address(self, visit: VisitFeature) -> str:
        """The bin's address as given ("" for any other stop, or a bin without one)."""
        own = self.bins.get(visit.properties.bin_id or "")
        return own.address or "" if own else ""


NO_NAMES = StopNames(streets={}, bins={})
"""Stops named by nothing: streets and addresses left empty."""


def stop_names(plan: OptimisationResponse, network: RoadNetwork | None,
               bins: Mapping[str, BinDetails] | None = None) -> StopNames:
    """The streets of the plan's stops (the streets they stop on, from ``network``) and ``bins``' details."""
    visits = [f for f in plan.features if isinstance(f, VisitFeature)]
    streets = streets_at(network, [stop_lonlat(v) for v in visits]) if network is not None else []
    return StopNames(streets={(v.properties.vehicle_id, v.properties.sequence): s
                              for v, s in zip(visits, streets, strict=False)}, bins=dict(bins or {}))


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


def _chosen_rounds(plan: OptimisationResponse, round_id: str | None
                   ) -> list[tuple[RouteFeature, list[VisitFeature]]]:
    """The plan's rounds, or only ``round_id`` (raises :class:`UnknownRoundError` if absent)."""
    rounds = list(_rounds(plan))
    if round_id is not None:
        rounds = [(r, s) for r, s in rounds if r.properties.vehicle_id == round_id]
        if not rounds:
            raise UnknownRoundError(f"round {round_id!r} is not in the plan")
    return rounds


def bin_volumes_l(stops: list[VisitFeature]) -> list[float]:
    """Litres each stop of a round lifts (0 but at a bin): the rise of the load on board at the stop,
    the evaluator's own figure, so that a round's bins add up to what it tips."""
    volumes, before = [], 0.0
    for visit in stops:
        p = visit.properties
        volumes.append(max(p.load_l - before, 0.0) if p.type == "bin" else 0.0)
        before = p.load_l
    return volumes


def to_run_sheets(plan: OptimisationResponse, *, round_id: str | None = None, names: StopNames = NO_NAMES) -> str:
    """CSV run sheets: one line per stop, rounds one after the other (only ``round_id`` if given),
    streets and addresses from ``names``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RUN_SHEET_COLUMNS)
    for route, stops in _chosen_rounds(plan, round_id):
        for visit, volume in zip(stops, bin_volumes_l(stops), strict=True):
            p = visit.properties
            lon, lat = visit.geometry.coordinates
            writer.writerow([route.properties.vehicle_id, p.sequence, p.type, stop_id(visit), p.arrival,
                             seconds_to_clock(p.departure_s), round(p.arrival_s), round(p.departure_s),
                             round(p.load_kg, 3), round(p.load_l, 3), lon, lat, names.street(visit),
                             names.address(visit), round(volume, 3)])
    return out.getvalue()


def to_in_cab(plan: OptimisationResponse, *, round_id: str | None = None, names: StopNames = NO_NAMES) -> str:
    """The in-cab CSV: one line per bin in collection order, round after round (only ``round_id`` if given)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(IN_CAB_COLUMNS)
    for route, stops in _chosen_rounds(plan, round_id):
        bins = [v for v in stops if v.properties.type == "bin"]
        for n, visit in enumerate(bins, start=1):
            bin_id = visit.properties.bin_id or ""
            own = names.bins.get(bin_id, BinDetails())
            size = own.bin_size_l
            writer.writerow([route.properties.vehicle_id, n, own.uprn or bin_id, names.address(visit),
                             names.street(visit), own.stream or "",
                             "" if size is None else (int(size) if size.is_integer() else size)])
    return out.getvalue()


def to_gpx(plan: OptimisationResponse, *, names: StopNames = NO_NAMES) -> str:
    """GPX 1.1: per round a street-following track and a route of its numbered stops, named by
    address (else street) from ``names``, with planned times."""
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
            street, address = names.street(visit), names.address(visit)
            where = address or street
            times = f"arrival {p.arrival}, departure {seconds_to_clock(p.departure_s)}"
            place = "".join(f", {part}" for part in (street, address) if part)
            rte.points.append(gpxpy.gpx.GPXRoutePoint(
                latitude=lat, longitude=lon,
                name=f"{props.vehicle_id} #{p.sequence} {where or stop_id(visit)}",
                description=f"{p.type} {stop_id(visit)}{place}, {times}, load {p.load_kg:.0f} kg",
                comment=times, symbol=p.type))
        gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")


def export(plan: OptimisationResponse, fmt: ExportFormat, *, round_id: str | None = None,
           names: StopNames = NO_NAMES) -> str:
    """The plan as text in ``fmt`` (``round_id``: CSV and in-cab CSV only), stops named by ``names``."""
    if fmt == "geojson":
        return to_geojson(plan)
    if fmt == "csv":
        return to_run_sheets(plan, round_id=round_id, names=names)
    if fmt == "incab":
        return to_in_cab(plan, round_id=round_id, names=names)
    return to_gpx(plan, names=names)


def file_name(fmt: ExportFormat, *, stem: str = "plan", round_id: str | None = None) -> str:
    """A download file name such as ``plan.geojson``, ``plan-rcv-1.csv`` or ``plan-incab-rcv-1.csv``."""
    suffix = ("-incab" if fmt == "incab" else "") + (f"-{round_id}" if round_id else "")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{stem}{suffix}")
    return f"{safe}.{EXTENSIONS[fmt]}"
