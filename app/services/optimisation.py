"""The only translator between the optimisation schemas and the solver's types.

Request -> :class:`solver.problem.Problem` + :class:`solver.problem.SolveOptions`;
:class:`solver.pipeline.PlannedRounds` -> :class:`app.schemas.OptimisationResponse`.
Every figure in the response comes from ``PlannedRounds.evaluation`` (the
evaluator's :class:`solver.solution.Evaluation`); the geometry comes from
``route_lines`` (street-following LineStrings) and ``stop_points`` (where the vehicle
stops on the street). Both the HTTP API and the command line go through here.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

from shapely.geometry import LineString

from app.core.config import Settings
from app.schemas import (
    BalanceOut,
    BinIn,
    DisposalSiteIn,
    LineStringGeometry,
    ManoeuvresOut,
    OptimisationRequest,
    OptimisationResponse,
    OptionsIn,
    PlanCompactnessOut,
    PointGeometry,
    RoundCompactnessOut,
    RouteFeature,
    RouteProperties,
    SummaryOut,
    TimingsOut,
    UnassignedOut,
    VehicleIn,
    ViolationOut,
    VisitFeature,
    VisitProperties,
)
from solver import pipeline
from solver.manoeuvres import Manoeuvres
from solver.pipeline import PlannedRounds
from solver.problem import (
    ALWAYS_OPEN,
    DEFAULT_BUSY_HIGHWAYS,
    Bin,
    Break,
    Depot,
    DisposalSite,
    DrivesOn,
    InitialRoute,
    Problem,
    ProblemError,
    SolveOptions,
    TimeWindow,
    Vehicle,
)
from solver.solution import RouteEvaluation, Visit
from solver.units import MINUTES_PER_HOUR, SECONDS_PER_HOUR, SECONDS_PER_MINUTE

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

Position = tuple[float, float]

COORDINATE_DECIMALS = 7
"""Decimals kept in GeoJSON positions: 1e-7 degree is about 1 cm."""


def clock_to_seconds(clock: str) -> int:
    """``"HH:MM"`` -> seconds since midnight (``"06:30"`` -> 23400)."""
    hours, minutes = clock.split(":")
    return int(hours) * SECONDS_PER_HOUR + int(minutes) * SECONDS_PER_MINUTE


def seconds_to_clock(seconds: float) -> str:
    """Seconds since midnight -> ``"HH:MM"``, to the nearest minute.

    Hours run on past 23 for times on the next day (``93600`` -> ``"26:00"``).
    """
    total_minutes = round(seconds / SECONDS_PER_MINUTE)
    hours, minutes = divmod(total_minutes, MINUTES_PER_HOUR)
    return f"{hours:02d}:{minutes:02d}"


# --------------------------------------------------------------------------- request -> solver


def _window(window: tuple[str, str]) -> TimeWindow:
    """``["HH:MM", "HH:MM"]`` -> seconds since midnight."""
    return (clock_to_seconds(window[0]), clock_to_seconds(window[1]))


def _vehicle(v: VehicleIn) -> Vehicle:
    """The solver's vehicle for a validated vehicle of a request."""
    breaks = () if v.break_ is None else (Break(duration_s=v.break_.duration_s, window=_window(v.break_.window)),)
    return Vehicle(
        id=v.id, depot_id=v.depot, capacity_kg=v.capacity_kg,
        shift_start_s=clock_to_seconds(v.shift[0]), shift_end_s=clock_to_seconds(v.shift[1]),
        fixed_cost=v.fixed_cost, cost_per_km=v.cost_per_km, cost_per_hour=v.cost_per_hour,
        capacity_l=v.capacity_l, max_lifts=v.max_lifts, max_collected_kg=v.max_collected_kg,
        streams=tuple(v.streams), breaks=breaks, tip_before_return=v.tip_before_return,
        gross_weight_kg=v.gross_weight_kg, width_m=v.width_m, height_m=v.height_m, length_m=v.length_m,
        hgv=v.hgv,
    )


def _bin(b: BinIn) -> Bin:
    """The solver's bin for a validated bin of a request."""
    return Bin(
        id=b.id, lon=b.lon, lat=b.lat, demand_kg=b.demand_kg, service_s=b.service_s, volume_l=b.volume_l,
        stream=b.stream, time_windows=tuple(_window(w) for w in b.time_windows), required=b.required,
        penalty=b.penalty, vehicle_id=b.vehicle, max_vehicle_weight_kg=b.max_vehicle_weight_kg,
        max_vehicle_width_m=b.max_vehicle_width_m,
    )


def _site(s: DisposalSiteIn) -> DisposalSite:
    """The solver's disposal site for a validated site of a request."""
    return DisposalSite(
        id=s.id, lon=s.lon, lat=s.lat, unload_s=s.unload_s,
        opening=ALWAYS_OPEN if s.opening is None else _window(s.opening),
        streams=None if s.streams is None else tuple(s.streams),
    )


def to_problem(request: OptimisationRequest) -> Problem:
    """The solver's :class:`Problem` for a validated request (every field of the body).

    Raises :class:`ProblemError` if the solver's own checks find a fault the schema let
    through.
    """
    return Problem(
        depots=tuple(Depot(id=d.id, lon=d.lon, lat=d.lat) for d in request.depots),
        vehicles=tuple(_vehicle(v) for v in request.vehicles),
        bins=tuple(_bin(b) for b in request.bins),
        disposal_sites=tuple(_site(s) for s in request.disposal_sites),
    )


def to_solve_options(options: OptionsIn, *, default_time_limit_s: float, max_time_limit_s: float,
                     default_drives_on: DrivesOn = "left",
                     default_busy_highways: Sequence[str] = DEFAULT_BUSY_HIGHWAYS,
                     territories: tuple[tuple[str, str], ...] = (), n_bins: int = 0,
                     time_per_bin_s: float = 0.0) -> SolveOptions:
    """The solver's :class:`SolveOptions`; the time limit defaults and is capped by the service,
    and the road rules (``drives_on``, ``busy_highways``) default to the service's.
    ``territories``: the (bin id, vehicle id) pairs ``options.territories_plan_id`` was resolved
    into (:func:`app.services.plans.territories_of`). Without ``options.time_limit_s`` the search
    gets the larger of ``default_time_limit_s`` and ``time_per_bin_s`` seconds for each of the
    request's ``n_bins``, up to ``max_time_limit_s``: rounds that drive past each bin one way need
    time in proportion to the bins (an Oakham-sized request of 2,603 bins left 895 unassigned at 5 s).

    Raises :class:`ProblemError` on ``options.time_limit_s`` above ``max_time_limit_s``.
    """
    time_limit_s = options.time_limit_s if options.time_limit_s is not None else \
        min(max(default_time_limit_s, time_per_bin_s * n_bins), max_time_limit_s)
    if time_limit_s > max_time_limit_s:
        raise ProblemError(
            f"options.time_limit_s must not exceed {max_time_limit_s:g} s on this service, got {time_limit_s:g}",
            field="options.time_limit_s",
        )
    initial = tuple(InitialRoute(vehicle_id=r.vehicle_id, stops=tuple(r.stops), locked=r.locked)
                    for r in options.initial_routes)
    busy = tuple(default_busy_highways if options.busy_highways is None else options.busy_highways)
    drives_on = options.drives_on if "drives_on" in options.model_fields_set else default_drives_on
    return SolveOptions(time_limit_s=time_limit_s, seed=options.seed, engine=options.engine,
                        objective=options.objective, initial_routes=initial, move_penalty=options.move_penalty,
                        drives_on=drives_on, busy_highways=busy,
                        allow_u_turns=options.allow_u_turns, turn_in_side_ways=options.turn_in_side_ways,
                        fix_directions=options.fix_directions,
                        balance=options.balance, balance_tolerance=options.balance_tolerance,
                        compact=options.compact, territories=territories)


class RoadDefaults(TypedDict):
    """The service's road rules, as :func:`to_solve_options` takes them."""

    default_drives_on: DrivesOn
    default_busy_highways: tuple[str, ...]


def road_defaults(settings: Settings) -> RoadDefaults:
    """The road rules of ``settings`` for requests that do not give their own."""
    return {"default_drives_on": settings.drives_on, "default_busy_highways": tuple(settings.busy_highways)}


def prepare(request: OptimisationRequest, *, settings: Settings,
            territories: tuple[tuple[str, str], ...] = ()) -> tuple[Problem, SolveOptions]:
    """Problem and options for ``request`` under the service's ``settings`` (which also set how many
    searches each solve races: :attr:`Settings.searches_per_solve`); ``territories`` resolved from
    ``options.territories_plan_id`` by the caller, who holds the store."""
    problem = to_problem(request)
    options = to_solve_options(request.options, default_time_limit_s=settings.default_time_limit_s,
                               max_time_limit_s=settings.max_time_limit_s, territories=territories,
                               n_bins=len(request.bins), time_per_bin_s=settings.default_time_per_bin_s,
                               **road_defaults(settings))
    return problem, dataclasses.replace(options, search_processes=settings.searches_per_solve)


# --------------------------------------------------------------------------- solver -> response


def _position(lon: float, lat: float) -> Position:
    """A GeoJSON position, rounded to :data:`COORDINATE_DECIMALS`."""
    return (round(float(lon), COORDINATE_DECIMALS), round(float(lat), COORDINATE_DECIMALS))


def _positions(line: LineString) -> list[Position]:
    """The positions of a LineString (lon/lat; any z dropped)."""
    return [_position(c[0], c[1]) for c in line.coords]


def _visit_properties(vehicle_id: str, visit: Visit) -> VisitProperties:
    """A visit's properties; the location's id goes under ``bin_id``, ``depot_id`` or ``site_id``."""
    location = visit.location_id
    return VisitProperties(
        vehicle_id=vehicle_id, sequence=visit.sequence, type=visit.type,
        arrival_s=visit.arrival_s, arrival=seconds_to_clock(visit.arrival_s), start_s=visit.start_s,
        departure_s=visit.departure_s, load_kg=visit.load_kg, load_l=visit.load_l,
        bin_id=location if visit.type == "bin" else None,
        depot_id=location if visit.type == "depot" else None,
        site_id=location if visit.type == "disposal" else None,
    )


def _visit_positions(problem: Problem, visits: Sequence[Visit], planned: PlannedRounds,
                     given: dict[str, Position]) -> list[Position]:
    """Where each visit happens: the snapped point of the place at its matrix row (for a break,
    where the vehicle is), else the given coordinates of that place."""
    ids = problem.location_ids()
    positions: list[Position] = []
    for visit in visits:
        place = ids[visit.location_index]
        point = planned.stop_points.get(place) or given[place]
        positions.append(_position(point[0], point[1]))
    return positions


def _route_line(route: RouteEvaluation, planned: PlannedRounds) -> list[Position]:
    """The route's street-following positions (the pipeline draws every route it evaluates)."""
    line = planned.route_lines.get(route.vehicle_id)
    if line is None or len(line.coords) < 2:
        raise RuntimeError(f"the pipeline drew no street geometry for vehicle {route.vehicle_id!r}")
    return _positions(line)


def _round_compactness(planned: PlannedRounds, vehicle_id: str) -> RoundCompactnessOut | None:
    """The round's compactness figures, if the pipeline measured them (read by field name)."""
    figures = planned.compactness.of(vehicle_id) if planned.compactness is not None else None
    return None if figures is None else RoundCompactnessOut.model_validate(figures, from_attributes=True)


def _balance(planned: PlannedRounds) -> BalanceOut | None:
    """The plan's balance figures, if the pipeline measured them (read by field name)."""
    b = planned.balance
    return None if b is None else BalanceOut.model_validate(b, from_attributes=True)


def _plan_compactness(planned: PlannedRounds) -> PlanCompactnessOut | None:
    """The plan's compactness figures, if the pipeline measured them (read by field name)."""
    c = planned.compactness
    return None if c is None else PlanCompactnessOut.model_validate(c, from_attributes=True)


def _manoeuvres(figures: Manoeuvres | None) -> ManoeuvresOut | None:
    """Manoeuvre counts for the answer (read by field name)."""
    return None if figures is None else ManoeuvresOut.model_validate(figures, from_attributes=True)


def to_response(problem: Problem, planned: PlannedRounds, *, started: float | None = None,
                time_limit_s: float | None = None) -> OptimisationResponse:
    """The API's FeatureCollection for a planned result: each route's LineString, then its
    visits; figures from the evaluation only. With ``started`` (a :func:`time.perf_counter`
    reading taken before the pipeline ran) the summary's ``timings`` give the wall clock up to
    the answer built, ``time_limit_s`` and the pipeline's stages."""
    evaluation = planned.evaluation
    given: dict[str, Position] = {d.id: (d.lon, d.lat) for d in problem.depots}
    given.update({s.id: (s.lon, s.lat) for s in problem.disposal_sites})
    given.update({b.id: (b.lon, b.lat) for b in problem.bins})
    features: list[RouteFeature | VisitFeature] = []
    for route in evaluation.routes:
        stops = _visit_positions(problem, route.visits, planned, given)
        features.append(RouteFeature(
            id=f"route:{route.vehicle_id}",
            geometry=LineStringGeometry(coordinates=_route_line(route, planned)),
            properties=RouteProperties(
                vehicle_id=route.vehicle_id, distance_m=route.distance_m, duration_s=route.duration_s,
                load_kg=route.load_kg, load_l=route.load_l, n_bins=route.n_bins, lifts=route.lifts,
                trips=route.trips, cost=route.cost,
                violations=[ViolationOut(type=v.type, stop=v.stop, detail=v.detail) for v in route.violations],
                compactness=_round_compactness(planned, route.vehicle_id),
                manoeuvres=_manoeuvres(planned.manoeuvres.get(route.vehicle_id)),
            ),
        ))
        for visit, position in zip(route.visits, stops, strict=True):
            features.append(VisitFeature(
                id=f"visit:{route.vehicle_id}:{visit.sequence}",
                geometry=PointGeometry(coordinates=position),
                properties=_visit_properties(route.vehicle_id, visit),
            ))
    summary = evaluation.summary
    response = OptimisationResponse(
        features=features,
        summary=SummaryOut(
            distance_m=summary.distance_m, duration_s=summary.duration_s,
            vehicles_used=summary.vehicles_used, bins_served=summary.bins_served,
            bins_unassigned=summary.bins_unassigned, cost=summary.cost, violations=summary.violations,
            balance=_balance(planned), compactness=_plan_compactness(planned),
            manoeuvres=_manoeuvres(planned.plan_manoeuvres),
            relaxed=None if planned.relaxed is None else list(planned.relaxed),
        ),
        unassigned=[UnassignedOut(bin_id=u.bin_id, reason=u.reason, detail=u.detail)
                    for u in evaluation.unassigned],
    )
    if started is None:
        return response
    timings = TimingsOut(wall_s=time.perf_counter() - started, time_limit_s=time_limit_s,
                         stages_s=dict(planned.timings_s))
    return response.model_copy(update={"summary": response.summary.model_copy(update={"timings": timings})})


def dump_response(response: OptimisationResponse, *, indent: int | None = None) -> str:
    """The response as JSON text, exactly as the API serialises it (absent ids left out)."""
    return response.model_dump_json(exclude_none=True, indent=indent)


# --------------------------------------------------------------------------- the whole way


def solve(problem: Problem, options: SolveOptions, network: RoadNetwork, *,
          snap_limit_m: float) -> OptimisationResponse:
    """Run the solver pipeline and translate its result. Blocking: call it off the event loop."""
    started = time.perf_counter()
    planned = pipeline.optimise(problem, network, options, snap_limit_m=snap_limit_m)
    response = to_response(problem, planned, started=started, time_limit_s=options.time_limit_s)
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in planned.timings_s.items())
    logger.info("optimised %d bins with %d vehicles in %.2f s (%s): %d served, %d unassigned",
                len(problem.bins), len(problem.vehicles), time.perf_counter() - started,
                stages or "no stage timings", response.summary.bins_served,
                response.summary.bins_unassigned)
    return response


def optimise_request(request: OptimisationRequest, network: RoadNetwork, *,
                     settings: Settings) -> OptimisationResponse:
    """Request in, response out, blocking: what the command line runs."""
    problem, options = prepare(request, settings=settings)
    return solve(problem, options, network, snap_limit_m=settings.snap_limit_m)
