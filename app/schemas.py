"""Request and response models of the HTTP API (pydantic v2).

What comes in is never what goes out: ``*In`` models describe what planners send
and are strict (unknown fields, non-finite numbers and out-of-range values are
refused), the response models describe what the service answers. Neither is a
solver type; :mod:`app.services.optimisation` translates between them.

Global rules, stated once (see ``API.md``): coordinates are ``lon``/``lat`` in
WGS84 degrees and GeoJSON positions are ``[lon, lat]``; distances are in metres,
durations in seconds, weights in kg; clock times are ``"HH:MM"`` strings on the
plan's day and ``*_s`` times of day are seconds since that day's midnight; ids are
strings.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
"""``"HH:MM"``, 00:00 to 23:59."""

_CLOCK_RE = re.compile(CLOCK_PATTERN)

OSM_ATTRIBUTION = "Road data © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"


def _check_clock(value: str) -> str:
    """Refuse anything but "HH:MM" from 00:00 to 23:59."""
    if not _CLOCK_RE.fullmatch(value):
        raise PydanticCustomError(
            "clock_format", 'expected a clock time "HH:MM" between 00:00 and 23:59, got {value!r}',
            {"value": value},
        )
    return value


def _check_not_blank(value: str) -> str:
    """Refuse ids made of whitespace only."""
    if not value.strip():
        raise PydanticCustomError("blank_id", "an id must not be blank")
    return value


Clock = Annotated[
    str,
    AfterValidator(_check_clock),
    Field(json_schema_extra={"pattern": CLOCK_PATTERN}, examples=["06:00"]),
]
"""A time of day as ``"HH:MM"``."""

Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_check_not_blank)]
"""A non-blank identifier."""

Lon = Annotated[float, Field(ge=-180.0, le=180.0, description="Longitude, WGS84 degrees.")]
Lat = Annotated[float, Field(ge=-90.0, le=90.0, description="Latitude, WGS84 degrees.")]
NonNegative = Annotated[float, Field(ge=0.0)]


class InputModel(BaseModel):
    """Base of every request model: unknown fields and NaN/infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class DepotIn(InputModel):
    """Where vehicles start and end their shift."""

    id: Id
    lon: Lon
    lat: Lat


class VehicleIn(InputModel):
    """A refuse collection vehicle, the depot it works from and its crew's shift."""

    id: Id
    depot: Id = Field(description="Id of the depot the vehicle starts from and returns to.")
    capacity_kg: NonNegative = Field(description="Payload in kg.")
    shift: tuple[Clock, Clock] = Field(
        default=("06:00", "14:00"), description='Start and end of the shift, ["HH:MM", "HH:MM"].'
    )
    fixed_cost: NonNegative = Field(default=0.0, description="Cost of using the vehicle at all.")
    cost_per_km: NonNegative = Field(default=1.0, description="Cost per kilometre driven.")
    cost_per_hour: NonNegative = Field(default=30.0, description="Cost per hour of route duration.")

    @field_validator("shift")
    @classmethod
    def _shift_ends_after_start(cls, shift: tuple[str, str]) -> tuple[str, str]:
        """A shift ends after it starts (on the same day)."""
        start, end = shift
        if end <= start:  # "HH:MM" strings of equal length order like the times they name
            raise PydanticCustomError(
                "shift_order", "the shift must end after it starts, got {start} to {end}",
                {"start": start, "end": end},
            )
        return shift


class BinIn(InputModel):
    """A bin (or the bins at one address) to be lifted."""

    id: Id
    lon: Lon
    lat: Lat
    demand_kg: NonNegative = Field(description="Expected weight to collect, kg.")
    service_s: NonNegative = Field(default=30.0, description="Seconds spent lifting the bin.")


class OptionsIn(InputModel):
    """How long and how to search."""

    time_limit_s: float | None = Field(
        default=None, gt=0.0,
        description="Wall-clock seconds for the search; the service's default when absent, "
                    "capped by its configured maximum.",
    )
    seed: int = Field(default=0, ge=0, description="Seed that makes runs repeatable.")
    engine: Literal["ortools"] = Field(default="ortools", description="Routing engine.")
    objective: Literal["duration", "distance"] = Field(
        default="duration", description="What the search minimises: total route seconds or metres.",
    )


class OptimisationRequest(InputModel):
    """A problem to optimise: depots, vehicles, bins and search options.

    Besides the per-field checks, ids must be unique across depots and bins, vehicle
    ids unique among vehicles, and every vehicle's ``depot`` must name a depot.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{
                "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
                "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 10000,
                              "shift": ["06:00", "14:00"]}],
                "bins": [{"id": "b00001", "lon": 7.4174, "lat": 43.7361, "demand_kg": 16},
                         {"id": "b00002", "lon": 7.4166, "lat": 43.7336, "demand_kg": 24,
                          "service_s": 45}],
                "options": {"time_limit_s": 2, "seed": 0},
            }]
        }
    )

    depots: list[DepotIn] = Field(min_length=1)
    vehicles: list[VehicleIn] = Field(min_length=1)
    bins: list[BinIn]
    options: OptionsIn = Field(default_factory=OptionsIn)

    @model_validator(mode="after")
    def _references_hold(self) -> Self:
        """Report every fault between fields at once (see :func:`reference_faults`)."""
        faults = reference_faults(self)
        if faults:
            raise PydanticCustomError(
                "invalid_references", "{summary}",
                {"summary": "; ".join(f"{_path(f['loc'])}: {f['msg']}" for f in faults),
                 "faults": tuple(faults)},
            )
        return self


def _path(loc: tuple[str | int, ...]) -> str:
    """Write a location relative to the body as a path, ``bins[3].id``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def reference_faults(request: OptimisationRequest) -> list[dict[str, Any]]:
    """Faults between fields of a request, each ``{"type", "loc", "msg", "id"}``.

    ``loc`` is relative to the request body. Catches ids repeated across depots and
    bins, vehicle ids repeated among vehicles, and vehicles naming an unknown depot.
    """
    faults: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    located = [("depots", i, d.id) for i, d in enumerate(request.depots)]
    located += [("bins", i, b.id) for i, b in enumerate(request.bins)]
    for group, index, item_id in located:
        where = f"{group}[{index}].id"
        if item_id in seen:
            faults.append({"type": "duplicate_id", "loc": (group, index, "id"), "id": item_id,
                           "msg": f"duplicate id {item_id!r}: {seen[item_id]} has it already"})
        else:
            seen[item_id] = where
    depot_ids = [d.id for d in request.depots]
    vehicle_seen: dict[str, int] = {}
    for index, vehicle in enumerate(request.vehicles):
        if vehicle.id in vehicle_seen:
            faults.append({"type": "duplicate_id", "loc": ("vehicles", index, "id"), "id": vehicle.id,
                           "msg": f"duplicate vehicle id {vehicle.id!r}: "
                                  f"vehicles[{vehicle_seen[vehicle.id]}].id has it already"})
        else:
            vehicle_seen[vehicle.id] = index
        if vehicle.depot not in depot_ids:
            known = ", ".join(repr(d) for d in depot_ids[:5]) + (", ..." if len(depot_ids) > 5 else "")
            faults.append({"type": "unknown_depot", "loc": ("vehicles", index, "depot"), "id": vehicle.id,
                           "msg": f"unknown depot {vehicle.depot!r} (depots: {known})"})
    return faults


# --------------------------------------------------------------------------- responses


class OutputModel(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(frozen=True)


class PointGeometry(OutputModel):
    """A GeoJSON Point, ``[lon, lat]``."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class LineStringGeometry(OutputModel):
    """A GeoJSON LineString of ``[lon, lat]`` positions."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]] = Field(min_length=2)


class RouteProperties(OutputModel):
    """Figures of one vehicle's round, all from the evaluator."""

    kind: Literal["route"] = "route"
    vehicle_id: str
    distance_m: float = Field(description="Metres driven, depot to depot.")
    duration_s: float = Field(description="Seconds from leaving the depot to coming back.")
    load_kg: float = Field(description="Kg collected.")
    n_bins: int = Field(description="Bins lifted.")
    trips: int = Field(description="Loads tipped (0 without disposal sites).")
    cost: float = Field(description="Fixed cost plus distance and time costs of the round.")


class VisitProperties(OutputModel):
    """One stop of a round.

    ``arrival_s`` is seconds since midnight and ``arrival`` the same as ``"HH:MM"``
    (hours past 23 mean the next day); ``load_kg`` is the load on board after the stop.
    A bin visit carries ``bin_id``, a depot visit ``depot_id``, a disposal visit
    ``site_id``; absent ids are left out of the JSON.
    """

    kind: Literal["visit"] = "visit"
    vehicle_id: str
    sequence: int = Field(description="0 at the route's first stop, in driving order.")
    type: Literal["depot", "bin", "disposal", "break"]
    arrival_s: float
    arrival: str = Field(description='Arrival as "HH:MM".')
    departure_s: float
    load_kg: float
    bin_id: str | None = None
    depot_id: str | None = None
    site_id: str | None = None


class RouteFeature(OutputModel):
    """A round as a street-following LineString."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: LineStringGeometry
    properties: RouteProperties


class VisitFeature(OutputModel):
    """A stop as the point on the street where the vehicle stops."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: VisitProperties


class SummaryOut(OutputModel):
    """Totals over all rounds."""

    distance_m: float
    duration_s: float
    vehicles_used: int
    bins_served: int
    bins_unassigned: int
    cost: float


class UnassignedOut(OutputModel):
    """A bin the plan does not serve and why (``reason`` is one of API.md's names)."""

    bin_id: str
    reason: str
    detail: str


class OptimisationResponse(OutputModel):
    """The optimised plan: an RFC 7946 FeatureCollection with ``summary`` and ``unassigned``.

    Features come route by route: the route's LineString, then its visits in order.
    ``attribution`` credits the road data (OpenStreetMap, ODbL), as its licence asks.
    """

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[RouteFeature | VisitFeature]
    summary: SummaryOut
    unassigned: list[UnassignedOut]
    attribution: str = Field(default=OSM_ATTRIBUTION, description="Credit for the road data.")


class NetworkOut(OutputModel):
    """The road network the service plans on."""

    source: str = Field(description="File name the network was loaded from.")
    name: str = Field(description="The network's own name.")
    nodes: int = Field(description="Nodes of the street graph.")
    edges: int = Field(description="Directed edges of the street graph.")
    load_s: float = Field(description="Seconds it took to load at startup.")


class SolvesOut(OutputModel):
    """Solves running now, waiting for a worker, and how many may run at once."""

    running: int
    queued: int
    limit: int


class HealthResponse(OutputModel):
    """The service is up; what it plans on and how busy it is."""

    status: Literal["ok"] = "ok"
    version: str
    network: NetworkOut | None = Field(description="Null until the network has been loaded.")
    solves: SolvesOut


class ErrorItem(OutputModel):
    """One fault in a request: where (``loc``/``field``), whose (``id``) and what (``msg``)."""

    loc: list[str | int] = Field(description='Path to the field, e.g. ["body", "bins", 3, "demand_kg"].')
    field: str = Field(description='The same path written out, e.g. "bins[3].demand_kg".')
    id: str | None = Field(description="Id of the depot, vehicle or bin at fault, if any.")
    msg: str = Field(description="What is wrong; names the field and the id.")
    type: str = Field(description="Machine-readable kind of fault.")


class ValidationErrorResponse(OutputModel):
    """Body of a 422 answer."""

    detail: list[ErrorItem]


class MessageErrorResponse(OutputModel):
    """Body of a 500 or 503 answer."""

    detail: str
