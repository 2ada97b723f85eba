"""Solver-neutral description of a waste-collection routing problem.

Everything here is plain data, validated when it is constructed. Units are in the
field names: ``demand_kg`` in kilograms, ``service_s`` in seconds, ``*_s`` clock
times in seconds since midnight of the plan's day, coordinates ``lon``/``lat`` in
WGS84 degrees.

Ids share one namespace across depots and bins (a planner's stop list names any
of them by id), so an id may appear only once in a problem.

Matrix order: every travel matrix of a problem has one row and column per
location, depots first (in the order given), then bins (in the order given); see
:meth:`Problem.location_ids`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

SECONDS_PER_DAY = 86_400
DEFAULT_SHIFT_START_S = 6 * 3600
DEFAULT_SHIFT_END_S = 14 * 3600
DEFAULT_SERVICE_S = 30.0

Objective = Literal["duration", "distance"]


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


@dataclass(frozen=True, slots=True)
class Depot:
    """Where vehicles start and end their shift (WGS84 degrees)."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A refuse collection vehicle and its crew's shift.

    ``capacity_kg`` is the payload in kg; ``shift_start_s``/``shift_end_s`` are seconds
    since midnight. Costs: ``fixed_cost`` per vehicle used, ``cost_per_km`` per
    kilometre driven and ``cost_per_hour`` per hour of route duration.
    """

    id: str
    depot_id: str
    capacity_kg: float
    shift_start_s: int = DEFAULT_SHIFT_START_S
    shift_end_s: int = DEFAULT_SHIFT_END_S
    fixed_cost: float = 0.0
    cost_per_km: float = 1.0
    cost_per_hour: float = 30.0


@dataclass(frozen=True, slots=True)
class Bin:
    """A bin (or a group of bins at one address) to be lifted.

    ``demand_kg`` is the expected weight in kg, ``service_s`` the seconds spent
    lifting it.
    """

    id: str
    lon: float
    lat: float
    demand_kg: float
    service_s: float = DEFAULT_SERVICE_S


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """How hard and how to search.

    ``time_limit_s`` is wall-clock seconds for the engine, ``seed`` makes runs
    repeatable, ``objective`` is what the engine minimises: total route
    ``duration`` (seconds) or ``distance`` (metres).
    """

    time_limit_s: float = 5.0
    seed: int = 0
    engine: str = "ortools"
    objective: Objective = "duration"

    def __post_init__(self) -> None:
        _check_finite(self.time_limit_s, field="options.time_limit_s", item_id=None)
        if self.time_limit_s <= 0:
            raise ProblemError("options.time_limit_s must be positive",
                               field="options.time_limit_s")
        if self.objective not in ("duration", "distance"):
            raise ProblemError(f"options.objective must be 'duration' or 'distance', "
                               f"got {self.objective!r}", field="options.objective")


@dataclass(frozen=True)
class Problem:
    """Depots, vehicles and bins of one plan, validated on construction.

    Raises :class:`ProblemError` (a ``ValueError``) naming the field and id of the
    first fault found: duplicate ids, an unknown depot, a negative demand,
    coordinates out of range or not finite, an empty fleet, a shift that ends
    before it starts.
    """

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    bins: tuple[Bin, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depots", tuple(self.depots))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "bins", tuple(self.bins))
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
            if item_id in seen:
                raise ProblemError(f"duplicate id {item_id!r}: {where}.id repeats {seen[item_id]}.id",
                                   field=f"{where}.id", item_id=item_id)
            seen[item_id] = where

        for i, depot in enumerate(self.depots):
            claim(depot.id, f"depots[{i}]")
            _check_lon_lat(depot.lon, depot.lat, prefix=f"depots[{i}]", item_id=depot.id)
        for i, b in enumerate(self.bins):
            claim(b.id, f"bins[{i}]")
            _check_lon_lat(b.lon, b.lat, prefix=f"bins[{i}]", item_id=b.id)
            for name in ("demand_kg", "service_s"):
                value = getattr(b, name)
                _check_finite(value, field=f"bins[{i}].{name}", item_id=b.id)
                if value < 0:
                    raise ProblemError(f"bins[{i}].{name} of {b.id!r} must not be negative, got {value}",
                                       field=f"bins[{i}].{name}", item_id=b.id)
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
            for name in ("capacity_kg", "fixed_cost", "cost_per_km", "cost_per_hour"):
                value = getattr(v, name)
                _check_finite(value, field=f"{where}.{name}", item_id=v.id)
                if value < 0:
                    raise ProblemError(f"{where}.{name} of {v.id!r} must not be negative, got {value}",
                                       field=f"{where}.{name}", item_id=v.id)
            if not 0 <= v.shift_start_s < v.shift_end_s <= 2 * SECONDS_PER_DAY:
                raise ProblemError(
                    f"{where}.shift of {v.id!r} must start before it ends, within two days "
                    f"(got {v.shift_start_s}..{v.shift_end_s} s)", field=f"{where}.shift", item_id=v.id)
        index = {loc: i for i, loc in enumerate(self.location_ids())}
        object.__setattr__(self, "_index", index)

    def location_ids(self) -> tuple[str, ...]:
        """Ids in matrix order: depots, then bins."""
        return tuple(d.id for d in self.depots) + tuple(b.id for b in self.bins)

    def location_index(self, location_id: str) -> int:
        """Row of ``location_id`` in every matrix of this problem (KeyError if unknown)."""
        return self._index[location_id]

    @property
    def n_locations(self) -> int:
        """Number of matrix rows: depots plus bins."""
        return len(self.depots) + len(self.bins)

    def depot(self, depot_id: str) -> Depot:
        """The depot with id ``depot_id``."""
        return self.depots[self._index[depot_id]]

    def bin_offset(self) -> int:
        """Matrix row of the first bin."""
        return len(self.depots)
