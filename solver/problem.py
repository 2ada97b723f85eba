"""Solver-neutral description of a waste-collection routing problem: depots, disposal
sites (tips), vehicles with their breaks, bins, and the options of a solve.

Everything here is plain data, validated when it is constructed. Units are in the
field names: ``demand_kg`` in kilograms, ``volume_l`` in litres, ``service_s`` and
``unload_s`` in seconds, ``*_s`` clock times in seconds since midnight of the plan's
day, coordinates ``lon``/``lat`` in WGS84 degrees.

Ids share one namespace across depots, disposal sites and bins (a planner's stop list
names any of them by id), so an id may appear only once in a problem.

Matrix order: every travel matrix of a problem has one row and column per
location, depots first, then disposal sites, then bins (each in the order given);
see :meth:`Problem.location_ids`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

from solver.network.turn_graph import TurnPolicy
from solver.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

DEFAULT_SHIFT_START_S = 6 * SECONDS_PER_HOUR
DEFAULT_SHIFT_END_S = 14 * SECONDS_PER_HOUR
DEFAULT_SERVICE_S = 30.0

Objective = Literal["duration", "distance", "cost"]
#: the side of the road traffic keeps to.
DrivesOn = Literal["left", "right"]
#: OSM ``highway`` values of busy roads by default: there bins are collected from the nearside
#: only (:mod:`solver.nearside`); ``secondary`` roads are not busy.
DEFAULT_BUSY_HIGHWAYS = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link")


class ProblemError(ValueError):
    """A problem that cannot be planned as given.

    ``field`` is the path of the offending field (for example ``bins[3].demand_kg``)
    and ``item_id`` the id of the object it belongs to, when it has one.
    """

    def __init__(self, message: str, *, field: str, item_id: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.item_id = item_id


def _check_finite(value: float, *, field: str, item_id: str | None) -> None:
    if not math.isfinite(value):
        raise ProblemError(f"{field} of {item_id!r} must be a finite number, got {value!r}",
                           field=field, item_id=item_id)


def _check_lon_lat(lon: float, lat: float, *, prefix: str, item_id: str) -> None:
    _check_finite(lon, field=f"{prefix}.lon", item_id=item_id)
    _check_finite(lat, field=f"{prefix}.lat", item_id=item_id)
    if not -180.0 <= lon <= 180.0:
        raise ProblemError(f"{prefix}.lon of {item_id!r} must lie in [-180, 180], got {lon}",
                           field=f"{prefix}.lon", item_id=item_id)
    if not -90.0 <= lat <= 90.0:
        raise ProblemError(f"{prefix}.lat of {item_id!r} must lie in [-90, 90], got {lat}",
                           field=f"{prefix}.lat", item_id=item_id)


#: a time window: (start, end) in seconds since midnight of the plan's day, end >= start.
TimeWindow = tuple[int, int]

DEFAULT_STREAM = "refuse"
DEFAULT_UNLOAD_S = 900.0
ALWAYS_OPEN: TimeWindow = (0, 2 * SECONDS_PER_DAY)


@dataclass(frozen=True, slots=True)
class Depot:
    """Where vehicles start and end their shift (WGS84 degrees)."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class DisposalSite:
    """A tip: landfill, transfer station or recycling facility, where a vehicle unloads.

    ``unload_s`` seconds per visit; ``opening`` the hours it takes loads (an unload
    must *start* within them); ``streams`` the waste streams it accepts (``None``:
    every stream).
    """

    id: str
    lon: float
    lat: float
    unload_s: float = DEFAULT_UNLOAD_S
    opening: TimeWindow = ALWAYS_OPEN
    streams: tuple[str, ...] | None = None

    def accepts(self, stream: str) -> bool:
        """Whether this site takes loads of ``stream``."""
        return self.streams is None or stream in self.streams


@dataclass(frozen=True, slots=True)
class Break:
    """A crew break of ``duration_s`` seconds that must *start* within ``window``.

    It is due on a route that is still out when the window opens (returns to the
    depot after ``window[0]``), and is taken where the vehicle is.
    """

    duration_s: float
    window: TimeWindow


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A refuse collection vehicle and its crew's shift.

    Capacity: ``capacity_kg`` payload in kg, ``capacity_l`` body volume in litres
    (``None``: not limiting), ``max_lifts`` bins per shift (``None``: no limit),
    ``max_collected_kg`` kg collected per shift across all its loads (a daily limit).
    ``shift_start_s``/``shift_end_s`` are seconds since midnight. ``streams`` are the
    waste streams it carries (one load never mixes streams it does not carry).
    ``breaks`` are the crew's breaks. ``tip_before_return``: with disposal sites in
    the problem, the vehicle returns to the depot empty.
    Costs: ``fixed_cost`` per vehicle used, ``cost_per_km`` per kilometre driven and
    ``cost_per_hour`` per hour of route duration.
    Size, for access rules (``None``: unknown, no restriction applies):
    ``gross_weight_kg`` (laden), ``width_m``, ``height_m``, ``length_m``; ``hgv``
    whether it is a heavy goods vehicle (over 3.5 t) for ``hgv=no`` streets.
    """

    id: str
    depot_id: str
    capacity_kg: float
    shift_start_s: int = DEFAULT_SHIFT_START_S
    shift_end_s: int = DEFAULT_SHIFT_END_S
    fixed_cost: float = 0.0
    cost_per_km: float = 1.0
    cost_per_hour: float = 30.0
    capacity_l: float | None = None
    max_lifts: int | None = None
    max_collected_kg: float | None = None
    streams: tuple[str, ...] = (DEFAULT_STREAM,)
    breaks: tuple[Break, ...] = ()
    tip_before_return: bool = True
    gross_weight_kg: float | None = None
    width_m: float | None = None
    height_m: float | None = None
    length_m: float | None = None
    hgv: bool = True

    def carries(self, stream: str) -> bool:
        """Whether this vehicle collects ``stream``."""
        return stream in self.streams


@dataclass(frozen=True, slots=True)
class Bin:
    """A bin (or a group of bins at one address) to be lifted.

    ``demand_kg`` is the expected weight in kg and ``volume_l`` its volume in litres,
    ``service_s`` the seconds spent lifting it. ``stream`` is its waste stream.
    ``time_windows``: when its collection may *start* (none: any time in the shift).
    ``required``: a required bin is dropped only if no plan can serve it; an optional
    one is served only when that costs less than ``penalty`` (money). ``vehicle_id``
    pins it to one vehicle. ``max_vehicle_weight_kg`` / ``max_vehicle_width_m``: only a
    vehicle no heavier / no wider may collect it (a narrow lane needing a small vehicle).
    """

    id: str
    lon: float
    lat: float
    demand_kg: float
    service_s: float = DEFAULT_SERVICE_S
    volume_l: float = 0.0
    stream: str = DEFAULT_STREAM
    time_windows: tuple[TimeWindow, ...] = ()
    required: bool = True
    penalty: float | None = None
    vehicle_id: str | None = None
    max_vehicle_weight_kg: float | None = None
    max_vehicle_width_m: float | None = None


@dataclass(frozen=True, slots=True)
class InitialRoute:
    """A vehicle's stops in an earlier plan (bin ids and site ids, ``"break"``), for warm
    starts; its first ``locked`` stops must stay first, in that order."""

    vehicle_id: str
    stops: tuple[str, ...]
    locked: int = 0


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """How hard and how to search.

    ``time_limit_s`` is wall-clock seconds for the engine, ``seed`` makes runs
    repeatable, ``engine`` names it (``ortools``, ``pyvrp``, ``auto``), ``objective``
    is what the engine minimises: total route ``duration`` (seconds), ``distance``
    (metres) or ``cost`` (money: fixed, per km, per hour). ``initial_routes`` warm-start
    the search (and lock stops); ``move_penalty`` (money) is charged for each bin an
    initial route had that the new plan puts on another vehicle. ``search_processes``
    searches run at once, one process (core) each, and the best plan is kept
    (:mod:`solver.engines.race`; not for requests with a warm start). Road rules:
    ``drives_on`` (``left`` or ``right``) is the side of the road traffic keeps to, and
    ``busy_highways`` the OSM ``highway`` values of busy roads, where a bin is collected
    from the nearside only (:mod:`solver.nearside`).
    Turns (:mod:`solver.network.turn_graph`): ``allow_u_turns`` lets a lorry turn back anywhere (at
    a cost) instead of only at dead ends, turning places and, with ``turn_in_side_ways`` (on), where
    a driveway, yard or farm track joins the road (reversing into it); ``fix_directions`` fixes, after the
    search, the direction each route drives past each bin so that a lorry never turns back at a
    stop (:mod:`solver.orientation`; street by street, chosen inside every move of
    :mod:`solver.directed_search` after the engine's search; on by default, so every optimised plan is
    one a crew can drive; the published benchmarks, scored on their own matrices, switch it off:
    docs/crew_rounds.md for what it costs on the Oakham case).

    The rounds' shape, enforced by re-solving with the engine's own constraints
    (:mod:`solver.engines.shaped`; off by default here, so a library call or a benchmark
    solves the plain problem; the API turns both on): ``balance`` keeps the longest
    round's duration, and load, at most ``balance_tolerance`` (a share: 0.10 is 10 %) above
    the mean of the plan's rounds (only plans of several rounds); ``compact`` cuts the bins
    into one territory per round along the streets and keeps each round to its own;
    ``territories`` (bin id, vehicle id) pairs fix territories, say an approved plan's
    rounds, so later days keep each crew on its own patch (bins it does not name join
    the territory of the nearest bin it does). ``streets`` (bin id, street) pairs, filled in by
    :func:`solver.pipeline.optimise` from where the bins are snapped, let territories take whole
    streets (:mod:`solver.compactness`'s streets: a stretch between two junctions, both ways).
    """

    time_limit_s: float = 5.0
    seed: int = 0
    engine: str = "ortools"
    objective: Objective = "duration"
    initial_routes: tuple[InitialRoute, ...] = ()
    move_penalty: float = 0.0
    search_processes: int = 1
    drives_on: DrivesOn = "left"
    busy_highways: tuple[str, ...] = DEFAULT_BUSY_HIGHWAYS
    allow_u_turns: bool = False
    turn_in_side_ways: bool = True
    fix_directions: bool = True
    balance: bool = False
    balance_tolerance: float = 0.10
    compact: bool = False
    territories: tuple[tuple[str, str], ...] = ()
    streets: tuple[tuple[str, int], ...] = ()

    @property
    def shaped(self) -> bool:
        """Whether any of ``balance``, ``compact`` or ``territories`` asks for the rounds' shape."""
        return self.balance or self.compact or bool(self.territories)

    def __post_init__(self) -> None:
        _check_finite(self.time_limit_s, field="options.time_limit_s", item_id=None)
        if self.time_limit_s <= 0:
            raise ProblemError("options.time_limit_s must be positive",
                               field="options.time_limit_s")
        if self.objective not in ("duration", "distance", "cost"):
            raise ProblemError(f"options.objective must be 'duration', 'distance' or 'cost', "
                               f"got {self.objective!r}", field="options.objective")
        _check_finite(self.move_penalty, field="options.move_penalty", item_id=None)
        if self.move_penalty < 0:
            raise ProblemError("options.move_penalty must not be negative", field="options.move_penalty")
        if not isinstance(self.search_processes, int) or self.search_processes < 1:
            raise ProblemError(f"options.search_processes must be a whole number of at least 1, got "
                               f"{self.search_processes!r}", field="options.search_processes")
        if self.drives_on not in get_args(DrivesOn):
            raise ProblemError(f"options.drives_on must be 'left' or 'right', got {self.drives_on!r}",
                               field="options.drives_on")
        if isinstance(self.busy_highways, str) or not all(
                isinstance(h, str) and h.strip() for h in self.busy_highways):
            raise ProblemError(f"options.busy_highways must be a list of OSM highway values, got "
                               f"{self.busy_highways!r}", field="options.busy_highways")

        _check_finite(self.balance_tolerance, field="options.balance_tolerance", item_id=None)
        if self.balance_tolerance < 0:
            raise ProblemError(f"options.balance_tolerance must not be negative, got {self.balance_tolerance}",
                               field="options.balance_tolerance")

    def turn_policy(self) -> TurnPolicy:
        """The turn rules these options ask for."""
        return TurnPolicy(drives_on=self.drives_on, allow_u_turns=self.allow_u_turns,
                          turn_in_side_ways=self.turn_in_side_ways)


def _check_window(window: TimeWindow, *, field: str, item_id: str) -> None:
    start, end = window
    if not 0 <= start <= end <= 2 * SECONDS_PER_DAY:
        raise ProblemError(f"{field} of {item_id!r} must start before it ends, within two days "
                           f"(got {start}..{end} s)", field=field, item_id=item_id)


def _check_amounts(obj: object, names: tuple[str, ...], *, where: str, item_id: str) -> None:
    """Each named attribute, when set, is a finite number >= 0."""
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        _check_finite(value, field=f"{where}.{name}", item_id=item_id)
        if value < 0:
            raise ProblemError(f"{where}.{name} of {item_id!r} must not be negative, got {value}",
                               field=f"{where}.{name}", item_id=item_id)


#: stop id that stands for a crew break in a planner's stop list.
BREAK_STOP = "break"


@dataclass(frozen=True)
class Problem:
    """Depots, disposal sites, vehicles and bins of one plan, validated on construction.

    Raises :class:`ProblemError` (a ``ValueError``) naming the field and id of the
    first fault found: duplicate ids, an unknown depot or pinned vehicle, a negative
    amount, coordinates out of range or not finite, an empty fleet, a shift or
    window that ends before it starts.

    Matrix order: depots, then disposal sites, then bins (see :meth:`location_ids`).
    """

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    bins: tuple[Bin, ...]
    disposal_sites: tuple[DisposalSite, ...] = ()
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("depots", "vehicles", "bins", "disposal_sites"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.depots:
            raise ProblemError("depots must not be empty", field="depots")
        if not self.vehicles:
            raise ProblemError("vehicles must not be empty: the fleet has no vehicle",
                               field="vehicles")
        seen: dict[str, str] = {}

        def claim(item_id: str, where: str) -> None:
            if not isinstance(item_id, str) or not item_id:
                raise ProblemError(f"{where}.id must be a non-empty string", field=f"{where}.id",
                                   item_id=str(item_id))
            if item_id == BREAK_STOP:
                raise ProblemError(f"{where}.id must not be {BREAK_STOP!r}: it names a crew break in stop lists",
                                   field=f"{where}.id", item_id=item_id)
            if item_id in seen:
                raise ProblemError(f"duplicate id {item_id!r}: {where}.id repeats {seen[item_id]}.id",
                                   field=f"{where}.id", item_id=item_id)
            seen[item_id] = where

        for i, depot in enumerate(self.depots):
            claim(depot.id, f"depots[{i}]")
            _check_lon_lat(depot.lon, depot.lat, prefix=f"depots[{i}]", item_id=depot.id)
        for i, site in enumerate(self.disposal_sites):
            where = f"disposal_sites[{i}]"
            claim(site.id, where)
            _check_lon_lat(site.lon, site.lat, prefix=where, item_id=site.id)
            _check_amounts(site, ("unload_s",), where=where, item_id=site.id)
            _check_window(site.opening, field=f"{where}.opening", item_id=site.id)
        depot_ids = {d.id for d in self.depots}
        vehicle_ids: set[str] = set()
        for i, v in enumerate(self.vehicles):
            where = f"vehicles[{i}]"
            if v.id in vehicle_ids:
                raise ProblemError(f"duplicate vehicle id {v.id!r}", field=f"{where}.id", item_id=v.id)
            vehicle_ids.add(v.id)
            if v.depot_id not in depot_ids:
                raise ProblemError(f"{where}.depot of {v.id!r} names unknown depot {v.depot_id!r}",
                                   field=f"{where}.depot", item_id=v.id)
            _check_amounts(v, ("capacity_kg", "fixed_cost", "cost_per_km", "cost_per_hour", "capacity_l",
                               "max_lifts", "max_collected_kg", "gross_weight_kg", "width_m", "height_m", "length_m"),
                           where=where, item_id=v.id)
            _check_window((v.shift_start_s, v.shift_end_s), field=f"{where}.shift", item_id=v.id)
            if v.shift_start_s == v.shift_end_s:
                raise ProblemError(f"{where}.shift of {v.id!r} has no length", field=f"{where}.shift",
                                   item_id=v.id)
            if not v.streams:
                raise ProblemError(f"{where}.streams of {v.id!r} must name at least one stream",
                                   field=f"{where}.streams", item_id=v.id)
            for k, brk in enumerate(v.breaks):
                _check_amounts(brk, ("duration_s",), where=f"{where}.break", item_id=v.id)
                _check_window(brk.window, field=f"{where}.break.window" if k == 0 else f"{where}.breaks[{k}].window",
                              item_id=v.id)
        for i, b in enumerate(self.bins):
            where = f"bins[{i}]"
            claim(b.id, where)
            _check_lon_lat(b.lon, b.lat, prefix=where, item_id=b.id)
            _check_amounts(b, ("demand_kg", "service_s", "volume_l", "penalty", "max_vehicle_weight_kg",
                               "max_vehicle_width_m"), where=where, item_id=b.id)
            for k, window in enumerate(b.time_windows):
                _check_window(window, field=f"{where}.time_windows[{k}]", item_id=b.id)
            if b.vehicle_id is not None and b.vehicle_id not in vehicle_ids:
                raise ProblemError(f"{where}.vehicle of {b.id!r} pins it to unknown vehicle {b.vehicle_id!r}",
                                   field=f"{where}.vehicle", item_id=b.id)
            if not b.required and b.penalty is None:
                raise ProblemError(f"{where}.penalty of optional bin {b.id!r} must be given",
                                   field=f"{where}.penalty", item_id=b.id)
        index = {loc: i for i, loc in enumerate(self.location_ids())}
        object.__setattr__(self, "_index", index)

    def location_ids(self) -> tuple[str, ...]:
        """Ids in matrix order: depots, then disposal sites, then bins."""
        return (tuple(d.id for d in self.depots) + tuple(s.id for s in self.disposal_sites)
                + tuple(b.id for b in self.bins))

    def location_index(self, location_id: str) -> int:
        """Row of ``location_id`` in every matrix of this problem (KeyError if unknown)."""
        return self._index[location_id]

    @property
    def n_locations(self) -> int:
        """Number of matrix rows: depots, disposal sites and bins."""
        return len(self.depots) + len(self.disposal_sites) + len(self.bins)

    def depot(self, depot_id: str) -> Depot:
        """The depot with id ``depot_id``."""
        return self.depots[self._index[depot_id]]

    def site_offset(self) -> int:
        """Matrix row of the first disposal site."""
        return len(self.depots)

    def bin_offset(self) -> int:
        """Matrix row of the first bin."""
        return len(self.depots) + len(self.disposal_sites)

    def site(self, site_id: str) -> DisposalSite:
        """The disposal site with id ``site_id``."""
        return self.disposal_sites[self._index[site_id] - self.site_offset()]

    def bin(self, bin_id: str) -> Bin:
        """The bin with id ``bin_id``."""
        return self.bins[self._index[bin_id] - self.bin_offset()]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """The vehicle with id ``vehicle_id`` (KeyError if unknown)."""
        for v in self.vehicles:
            if v.id == vehicle_id:
                return v
        raise KeyError(vehicle_id)

    def streams(self) -> frozenset[str]:
        """Every waste stream of the problem's bins."""
        return frozenset(b.stream for b in self.bins)
