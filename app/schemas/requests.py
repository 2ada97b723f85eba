"""Request models of the HTTP API (pydantic v2), and the checks between their fields.

What comes in is never what goes out: ``*In`` models describe what planners send
and are strict (unknown fields, non-finite numbers and out-of-range values are
refused), the response models (:mod:`app.schemas.responses`) describe what the service
answers. Neither is a solver type; :mod:`app.services.optimisation` translates between them.

Global rules, stated once (see ``API.md``): coordinates are ``lon``/``lat`` in
WGS84 degrees and GeoJSON positions are ``[lon, lat]``; distances are in metres,
durations in seconds, weights in kg; clock times are ``"HH:MM"`` strings on the
plan's day and ``*_s`` times of day are seconds since that day's midnight; ids are
strings.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.core.json_types import Fault
from app.schemas.fields import (
    MAX_LIFTS,
    Clock,
    HighwayValue,
    Id,
    Lat,
    Lon,
    Money,
    NonNegative,
    Stream,
)
from solver.problem import BREAK_STOP, DEFAULT_BUSY_HIGHWAYS


class InputModel(BaseModel):
    """Base of every request model: unknown fields and NaN/infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class DepotIn(InputModel):
    """Where vehicles start and end their shift."""

    id: Id
    lon: Lon
    lat: Lat


def _check_window_order(window: tuple[str, str]) -> tuple[str, str]:
    """A window ends no earlier than it starts (on the same day)."""
    start, end = window
    if end < start:  # "HH:MM" strings of equal length order like the times they name
        raise PydanticCustomError(
            "window_order", "the window must not end before it starts, got {start} to {end}",
            {"start": start, "end": end},
        )
    return window


Window = Annotated[
    tuple[Clock, Clock],
    AfterValidator(_check_window_order),
    Field(examples=[["07:00", "10:00"]]),
]
"""A time window ``["HH:MM", "HH:MM"]`` on the plan's day, ending no earlier than it starts."""

DEFAULT_STREAM = "refuse"

MAX_ATTRIBUTES = 100
"""Most attributes a bin carries."""

AttributeName = Annotated[str, Field(min_length=1, max_length=100)]
AttributeValue = Annotated[str, Field(max_length=2000)] | int | float | bool
"""A bin's attribute: text (at most 2,000 characters), a number or yes/no."""


class DisposalSiteIn(InputModel):
    """A tip (landfill, transfer station, recycling facility) where vehicles unload."""

    id: Id
    lon: Lon
    lat: Lat
    unload_s: NonNegative = Field(default=900.0, description="Seconds an unload takes.")
    opening: Window | None = Field(
        default=None, description='When an unload may start, ["HH:MM", "HH:MM"]; absent: always open.')
    streams: list[Stream] | None = Field(
        default=None, min_length=1, description="Streams it accepts; absent: every stream.")
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES,
        description="What the council's file says of the tip beyond what the plan reads (operator, permit, "
                    "any other column), kept with it and shown; the engines never read it.")


class BreakIn(InputModel):
    """The crew's break: ``duration_s`` seconds, starting within ``window``."""

    duration_s: NonNegative = Field(description="Length of the break, seconds.")
    window: Window = Field(description='When the break may start, ["HH:MM", "HH:MM"].')


class VehicleIn(InputModel):
    """A refuse collection vehicle, the depot it works from, its crew's shift, capacity, costs and size."""

    id: Id
    depot: Id = Field(description="Id of the depot the vehicle starts from and returns to.")
    capacity_kg: NonNegative = Field(description="Payload in kg.")
    capacity_l: NonNegative | None = Field(default=None, description="Body volume in litres; absent: not limiting.")
    shift: tuple[Clock, Clock] = Field(
        default=("06:00", "14:00"), description='Start and end of the shift, ["HH:MM", "HH:MM"].'
    )
    streams: list[Stream] = Field(default_factory=lambda: [DEFAULT_STREAM], min_length=1,
                                  description="Waste streams it collects.")
    break_: BreakIn | None = Field(default=None, alias="break", description="The crew's break, if any.")
    fixed_cost: Money = Field(default=0.0, description="Cost of using the vehicle at all.")
    cost_per_km: Money = Field(default=1.0, description="Cost per kilometre driven.")
    cost_per_hour: Money = Field(default=30.0, description="Cost per hour of route duration.")
    max_lifts: int | None = Field(default=None, ge=0, le=MAX_LIFTS,
                                  description="Bins it may lift in a shift; absent: no limit.")
    max_collected_kg: NonNegative | None = Field(
        default=None, description="Kg it may collect in a shift over all its loads; absent: no limit.")
    tip_before_return: bool = Field(
        default=True, description="With disposal sites in the problem, tip before returning to the depot.")
    gross_weight_kg: NonNegative | None = Field(default=None, description="Laden weight, kg, for access rules.")
    width_m: NonNegative | None = Field(default=None, description="Width, metres, for access rules.")
    height_m: NonNegative | None = Field(default=None, description="Height, metres, for access rules.")
    length_m: NonNegative | None = Field(default=None, description="Length, metres, for access rules.")
    hgv: bool = Field(default=True, description="A heavy goods vehicle (kept off hgv=no streets).")
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES,
        description="What the council's fleet list says of the vehicle beyond what the plan reads "
                    "(registration, make, crew, any other column), kept with it and shown; the engines "
                    "never read it.")

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
    volume_l: NonNegative = Field(default=0.0, description="Volume to collect, litres.")
    service_s: NonNegative = Field(default=30.0, description="Seconds spent lifting the bin.")
    stream: Stream = Field(default=DEFAULT_STREAM, description="Its waste stream.")
    time_windows: list[Window] = Field(
        default_factory=list, description='When collection may start, [["HH:MM", "HH:MM"], ...]; none: any time.')
    required: bool = Field(default=True, description="A required bin is left out only if no plan can serve it.")
    penalty: Money | None = Field(
        default=None, description="Cost of leaving an optional bin out (required for optional bins).")
    vehicle: Id | None = Field(default=None, description="Id of the only vehicle that may collect it.")
    max_vehicle_weight_kg: NonNegative | None = Field(
        default=None, description="Only a vehicle no heavier (gross, kg) may collect it.")
    max_vehicle_width_m: NonNegative | None = Field(
        default=None, description="Only a vehicle no wider (metres) may collect it.")
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES,
        description="What the council's file says of the bin beyond what the plan reads (address, street, "
                    "uprn, bin_size, assisted, notes, and any other column), kept with the bin and shown; "
                    "the engines never read it.")


class InitialRouteIn(InputModel):
    """A vehicle's stops in an earlier plan, to start from; its first ``locked`` stops stay first."""

    vehicle_id: Id
    stops: list[Id] = Field(description='Bin ids, disposal-site ids and "break", in driving order.')
    locked: int = Field(default=0, ge=0, description="How many of the first stops must stay first, in order.")


class OptionsIn(InputModel):
    """How long and how to search."""

    time_limit_s: float | None = Field(
        default=None, gt=0.0,
        description="Wall-clock seconds for the search; the service's default when absent, "
                    "capped by its configured maximum.",
    )
    seed: int = Field(default=0, ge=0, description="Seed that makes runs repeatable.")
    engine: Literal["ortools", "pyvrp", "auto"] = Field(
        default="ortools", description="Routing engine; auto picks one that supports the request's features.")
    objective: Literal["duration", "distance", "cost"] = Field(
        default="duration",
        description="What the search minimises: total route seconds, metres, or money (fixed, per km, per hour).",
    )
    initial_routes: list[InitialRouteIn] = Field(
        default_factory=list, description="An earlier plan to warm-start from (and lock stops of).")
    move_penalty: Money = Field(
        default=0.0, description="Cost per bin the new plan moves off the vehicle that had it in initial_routes.")
    drives_on: Literal["left", "right"] = Field(
        default="left", description="The side of the road traffic keeps to (left in the UK): a bin on a busy road "
                                    "is collected with the lorry's kerb side, that side, towards it, and a turn across "
                                    "the oncoming traffic costs more.")
    busy_highways: list[HighwayValue] | None = Field(
        default=None, max_length=50,
        description="OpenStreetMap highway values of busy roads, where a bin is collected from the nearside only; "
                    f"default {', '.join(DEFAULT_BUSY_HIGHWAYS)}.")
    allow_u_turns: bool = Field(
        default=False, description="Let a lorry turn back anywhere (at a cost); by default only at dead ends "
                                   "and turning places.")
    turn_in_side_ways: bool = Field(
        default=True, description="Let a lorry turn round by reversing into a side way (a driveway, yard or "
                                  "farm track joining the road, from the OpenStreetMap file), counted as "
                                  "reversing; false allows it only at dead ends and turning places.")
    fix_directions: bool = Field(
        default=True, description="Fix the direction each round drives past each bin, so that a lorry never "
                                  "turns back at a stop (street by street, each stop's direction is chosen "
                                  "inside every move of a local search after the engine's; the plan may be "
                                  "longer); false lets a round turn back at a stop, as the engines' free "
                                  "model does.")
    balance: bool = Field(
        default=True,
        description="Keep the rounds of a plan of several rounds within balance_tolerance of each other in "
                    "duration and load; false turns it off.")
    balance_tolerance: float = Field(
        default=0.10, ge=0.0, le=10.0,
        description="How far (a share: 0.10 is 10 %) the longest round's duration, and load, may lie above the "
                    "mean of the plan's rounds.")
    compact: bool = Field(
        default=True,
        description="Keep each round to its own territory along the streets (few streets shared between rounds); "
                    "false turns it off.")
    territories_plan_id: Id | None = Field(
        default=None,
        description="An approved stored plan whose rounds fix the territories: each bin it served stays with "
                    "that vehicle, new bins join the nearest territory.")


class OptimisationRequest(InputModel):
    """A problem to optimise: depots, disposal sites, vehicles, bins and search options.

    Besides the per-field checks, ids must be unique across depots, disposal sites and
    bins (and not ``"break"``), vehicle ids unique among vehicles, every vehicle's
    ``depot`` must name a depot, a bin's ``vehicle`` a vehicle, an optional bin needs a
    ``penalty``, and ``options.initial_routes`` must name known vehicles and stops.
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
    disposal_sites: list[DisposalSiteIn] = Field(default_factory=list)
    vehicles: list[VehicleIn] = Field(min_length=1)
    bins: list[BinIn]
    options: OptionsIn = Field(default_factory=OptionsIn)

    def faults(self) -> list[Fault]:
        """Every fault between fields of this request (see :func:`reference_faults`)."""
        return reference_faults(self)

    @model_validator(mode="after")
    def _references_hold(self) -> Self:
        """Report every fault between fields at once."""
        raise_faults(self.faults())
        return self


class RouteIn(InputModel):
    """One vehicle's round as driven (or planned by a person): stops in driving order."""

    vehicle_id: Id
    stops: list[Id] = Field(description='Bin ids, disposal-site ids and "break"; depot start and end are implied.')


class EvaluationRequest(OptimisationRequest):
    """A problem plus a plan made by a person (``routes``), to be scored by the evaluator.

    Besides the checks of :class:`OptimisationRequest`: each route names a known vehicle,
    at most one route per vehicle, and every stop is a bin, a disposal site, or
    ``"break"`` on a vehicle that has a break (at most once).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{
                "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
                "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 10000}],
                "bins": [{"id": "b00001", "lon": 7.4174, "lat": 43.7361, "demand_kg": 16},
                         {"id": "b00002", "lon": 7.4166, "lat": 43.7336, "demand_kg": 24}],
                "routes": [{"vehicle_id": "rcv-1", "stops": ["b00002", "b00001"]}],
            }]
        }
    )

    routes: list[RouteIn]

    def faults(self) -> list[Fault]:
        """The faults of the problem, then those of the routes (see :func:`route_faults`)."""
        return reference_faults(self) + route_faults(self)


def raise_faults(faults: list[Fault]) -> None:
    """Raise every fault between fields of a body at once, as one ``invalid_references`` error whose
    context carries them (the 422 answer lists each with its field and id); nothing when none."""
    if faults:
        raise PydanticCustomError(
            "invalid_references", "{summary}",
            {"summary": "; ".join(f"{_path(f['loc'])}: {f['msg']}" for f in faults), "faults": tuple(faults)},
        )


def _path(loc: tuple[str | int, ...]) -> str:
    """Write a location relative to the body as a path, ``bins[3].id``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _known(ids: list[str], limit: int = 5) -> str:
    """A short list of known ids for a message."""
    return ", ".join(repr(i) for i in ids[:limit]) + (", ..." if len(ids) > limit else "")


def reference_faults(request: OptimisationRequest) -> list[Fault]:
    """Faults between fields of a request, each ``{"type", "loc", "msg", "id"}``.

    ``loc`` is relative to the request body. Catches ids repeated across depots,
    disposal sites and bins or equal to ``"break"``, vehicle ids repeated among vehicles,
    vehicles naming an unknown depot, bins pinned to an unknown vehicle, optional bins
    without a penalty, and initial routes naming an unknown or repeated vehicle, an
    unknown stop, a bin already in another initial route, or more locked stops than
    they have.
    """
    faults: list[Fault] = []
    seen: dict[str, str] = {}
    located = [("depots", i, d.id) for i, d in enumerate(request.depots)]
    located += [("disposal_sites", i, s.id) for i, s in enumerate(request.disposal_sites)]
    located += [("bins", i, b.id) for i, b in enumerate(request.bins)]
    for group, index, item_id in located:
        where = f"{group}[{index}].id"
        if item_id == BREAK_STOP:
            faults.append({"type": "reserved_id", "loc": (group, index, "id"), "id": item_id,
                           "msg": f"id {item_id!r} is reserved: it names the crew's break in stop lists"})
        elif item_id in seen:
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
            faults.append({"type": "unknown_depot", "loc": ("vehicles", index, "depot"), "id": vehicle.id,
                           "msg": f"unknown depot {vehicle.depot!r} (depots: {_known(depot_ids)})"})
    vehicle_ids = list(vehicle_seen)
    for index, b in enumerate(request.bins):
        if b.vehicle is not None and b.vehicle not in vehicle_seen:
            faults.append({"type": "unknown_vehicle", "loc": ("bins", index, "vehicle"), "id": b.id,
                           "msg": f"bin {b.id!r} is pinned to unknown vehicle {b.vehicle!r} "
                                  f"(vehicles: {_known(vehicle_ids)})"})
        if not b.required and b.penalty is None:
            faults.append({"type": "missing_penalty", "loc": ("bins", index, "penalty"), "id": b.id,
                           "msg": f"optional bin {b.id!r} needs a penalty: the cost of leaving it out"})
    faults += _initial_route_faults(request, vehicle_seen)
    return faults


def _initial_route_faults(request: OptimisationRequest, vehicle_seen: dict[str, int]) -> list[Fault]:
    """Faults of ``options.initial_routes``."""
    faults: list[Fault] = []
    stop_ids = {s.id for s in request.disposal_sites} | {b.id for b in request.bins} | {BREAK_STOP}
    bin_ids = {b.id for b in request.bins}
    routed: dict[str, str] = {}
    vehicles: set[str] = set()
    for i, route in enumerate(request.options.initial_routes):
        base: tuple[str | int, ...] = ("options", "initial_routes", i)
        if route.vehicle_id not in vehicle_seen:
            faults.append({"type": "unknown_vehicle", "loc": (*base, "vehicle_id"), "id": route.vehicle_id,
                           "msg": f"unknown vehicle {route.vehicle_id!r} (vehicles: {_known(list(vehicle_seen))})"})
        elif route.vehicle_id in vehicles:
            faults.append({"type": "duplicate_route", "loc": (*base, "vehicle_id"), "id": route.vehicle_id,
                           "msg": f"vehicle {route.vehicle_id!r} has more than one initial route"})
        vehicles.add(route.vehicle_id)
        for j, stop in enumerate(route.stops):
            if stop not in stop_ids:
                faults.append({"type": "unknown_stop", "loc": (*base, "stops", j), "id": stop,
                               "msg": f"unknown stop {stop!r}: not a bin, a disposal site or \"break\""})
            elif stop in bin_ids:
                if stop in routed:
                    faults.append({"type": "duplicate_stop", "loc": (*base, "stops", j), "id": stop,
                                   "msg": f"bin {stop!r} is already in the initial route of {routed[stop]!r}"})
                routed.setdefault(stop, route.vehicle_id)
        if route.locked > len(route.stops):
            faults.append({"type": "locked_too_long", "loc": (*base, "locked"), "id": route.vehicle_id,
                           "msg": f"locks {route.locked} stops of {route.vehicle_id!r}, which has "
                                  f"{len(route.stops)}"})
    return faults


def route_faults(request: EvaluationRequest) -> list[Fault]:
    """Faults of an evaluation's ``routes``, each ``{"type", "loc", "msg", "id"}``.

    A route naming an unknown vehicle or a vehicle that already has a route; a stop that
    is no bin or disposal site (a depot included: depot start and end are implied) or
    ``"break"`` on a vehicle without a break or a second time. The ``id`` of a stop
    fault is the stop id.
    """
    faults: list[Fault] = []
    vehicles = {v.id: v for v in request.vehicles}
    depot_ids = {d.id for d in request.depots}
    stop_ids = {s.id for s in request.disposal_sites} | {b.id for b in request.bins}
    routed: set[str] = set()
    for i, route in enumerate(request.routes):
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            faults.append({"type": "unknown_vehicle", "loc": ("routes", i, "vehicle_id"), "id": route.vehicle_id,
                           "msg": f"unknown vehicle {route.vehicle_id!r} (vehicles: {_known(list(vehicles))})"})
        elif route.vehicle_id in routed:
            faults.append({"type": "duplicate_route", "loc": ("routes", i, "vehicle_id"), "id": route.vehicle_id,
                           "msg": f"vehicle {route.vehicle_id!r} has more than one route"})
        routed.add(route.vehicle_id)
        breaks = 0
        for j, stop in enumerate(route.stops):
            loc = ("routes", i, "stops", j)
            where = f"routes[{i}].stops[{j}]"
            if stop == BREAK_STOP:
                breaks += 1
                if vehicle is not None and vehicle.break_ is None:
                    faults.append({"type": "no_break", "loc": loc, "id": stop,
                                   "msg": f"{where} is {stop!r}, but vehicle {route.vehicle_id!r} has no break"})
                elif breaks > 1:
                    faults.append({"type": "extra_break", "loc": loc, "id": stop,
                                   "msg": f"{where} is a second {stop!r}: vehicle {route.vehicle_id!r} has one "
                                          "break, taken earlier in this route"})
            elif stop in depot_ids:
                faults.append({"type": "depot_stop", "loc": loc, "id": stop,
                               "msg": f"{where} names depot {stop!r}: a route's depot start and end are implied"})
            elif stop not in stop_ids:
                faults.append({"type": "unknown_stop", "loc": loc, "id": stop,
                               "msg": f"{where} names unknown stop {stop!r}: not a bin, a disposal site "
                                      "or \"break\""})
    return faults
