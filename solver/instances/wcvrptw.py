"""The waste-collection VRP with time windows of Kim, Kim & Sahoo (2006) as wasteroute problems.

File format (``<name>_stop.txt``, see ``../shared/benchmarks/README.md``): five header
lines whose first field is the vehicle capacity (cubic yards), the yardage a vehicle
may collect per day, the maximum regular stops per vehicle per day, the lunch
duration (s) and the speed (mph); a column header; then one line per stop:
``id x(ft) y(ft) early(HHMM) late(HHMM) service(s) load(yd3) type`` with type 0 the
depot, 1 a stop, 2 a disposal facility.

The mapping (the published rules, in wasteroute's model):

- **distance**: Manhattan distance between the feet coordinates. The matrix
  ``distance_m`` holds **feet**, the instance's own unit, everywhere; the only
  conversion to the miles the literature reports is :func:`miles` (5,280 ft a mile);
- **time**: travel at the header's speed (``feet / (mph * 5280 / 3600)`` seconds);
- **depot** (type 0): its Early/Late are the vehicles' shift (leave no earlier,
  back no later);
- **stops** (type 1) become bins: ``demand_kg`` holds the load in **cubic yards** (the
  model's weight dimension carries yards here), ``service_s`` the service seconds, and
  Early/Late the window in which service must *start*. A window that contains the
  whole shift constrains nothing and is left out;
- **disposal facilities** (type 2) become :class:`~solver.problem.DisposalSite`\\ s with
  ``unload_s`` their service time and ``opening`` their Early/Late;
- **vehicles**: ``capacity_kg`` the capacity (yards), ``max_collected_kg`` the daily
  yardage, ``max_lifts`` the maximum stops, a lunch :class:`~solver.problem.Break` of
  the header's duration starting between 11:00 and 12:00, and ``tip_before_return``
  (every route ends with a disposal trip);
- **fleet**: enough identical vehicles (:func:`default_fleet_size`), each with a fixed
  cost worth :data:`DEFAULT_VEHICLE_FIXED_MILES` miles of driving, so that for an
  engine minimising distance (``objective="distance"``) one vehicle fewer is worth more
  than the detours it costs.

Clock times ``HHMM`` may omit leading zeros (``400`` is 04:00); ``2400`` is midnight at
the end of the day.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from solver.instances.cvrplib import InstanceFormatError
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Break, Depot, DisposalSite, Problem, TimeWindow, Vehicle
from solver.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, SECONDS_PER_MINUTE

FEET_PER_MILE = 5280.0
"""Feet in a statute mile."""

LUNCH_WINDOW: TimeWindow = (11 * SECONDS_PER_HOUR, 12 * SECONDS_PER_HOUR)
"""The lunch break starts between 11:00 and 12:00 (seconds since midnight)."""

DEFAULT_VEHICLE_FIXED_MILES = 1000.0
"""Fixed cost of a vehicle used, in miles of driving: more than any route of these
instances drives in a day, so one vehicle fewer is worth more than the detours it costs."""

COST_PER_THOUSAND_FEET = 1.0
"""Vehicles' ``cost_per_km``: the matrix "metres" are feet, so this is money per 1,000 ft."""

TYPE_DEPOT, TYPE_STOP, TYPE_DISPOSAL = 0, 1, 2

FloatArray = npt.NDArray[np.float64]


def miles(distance_ft: float) -> float:
    """Miles of a matrix distance (feet): the one conversion from the model's unit to the reported one."""
    return distance_ft / FEET_PER_MILE


@dataclass(frozen=True)
class KnownResult:
    """Best known result of an instance: total miles, vehicles, and who found it."""

    miles: float
    vehicles: int
    source: str


KNOWN_RESULTS: dict[str, KnownResult] = {
    "102": KnownResult(174.5, 3, "Buhrkal, Larsen & Ropke 2012"),
    "277": KnownResult(447.6, 3, "Buhrkal, Larsen & Ropke 2012"),
    "444": KnownResult(78.3, 11, "Buhrkal, Larsen & Ropke 2012"),
    "804": KnownResult(586.2, 5, "Buhrkal, Larsen & Ropke 2012"),
    "1051": KnownResult(2250.5, 17, "Benjamin & Beasley 2010"),
    "1599": KnownResult(1170.2, 13, "Buhrkal, Larsen & Ropke 2012"),
    "1932": KnownResult(1128.7, 16, "Buhrkal, Larsen & Ropke 2012"),
}
"""Best known distance (miles) and vehicles per instance, from ``../shared/benchmarks/README.md``."""


@dataclass(frozen=True)
class WcvrptwHeader:
    """The five header values: capacity (yd3), daily yardage (yd3), max stops per day,
    lunch duration (s), speed (mph)."""

    capacity: float
    daily_capacity: float
    max_stops: int
    lunch_s: float
    speed_mph: float

    @property
    def feet_per_second(self) -> float:
        """Speed in feet per second."""
        return self.speed_mph * FEET_PER_MILE / SECONDS_PER_HOUR


@dataclass(frozen=True)
class WcvrptwStop:
    """One line of the stop table: id, feet coordinates, window (s since midnight),
    service (s), load (yd3) and type (0 depot, 1 stop, 2 disposal facility)."""

    id: str
    x_ft: float
    y_ft: float
    early_s: int
    late_s: int
    service_s: float
    load: float
    type: int


@dataclass(frozen=True)
class WcvrptwInstance:
    """A waste instance: its file contents, the problem and matrices, and the best known result."""

    name: str
    header: WcvrptwHeader
    stops: tuple[WcvrptwStop, ...]
    problem: Problem
    matrices: FleetMatrices
    known: KnownResult | None

    @property
    def n_stops(self) -> int:
        """Regular stops (bins)."""
        return sum(1 for s in self.stops if s.type == TYPE_STOP)

    @property
    def n_facilities(self) -> int:
        """Disposal facilities."""
        return sum(1 for s in self.stops if s.type == TYPE_DISPOSAL)


def hhmm_seconds(text: str) -> int:
    """Seconds since midnight of an ``HHMM`` clock time (``"0700"``, ``"400"``, ``"2400"``).

    Minutes of 60 or more carry into the hour: instance 1932 has one window opening
    at ``875`` (stop 1477), read as 8 h 75 min = 09:15, the later (stricter) of its
    two possible readings (09:15, or 8.75 h = 08:45), so a plan that keeps it keeps both.
    """
    value = int(float(text))
    hours, minutes = divmod(value, 100)
    seconds = hours * SECONDS_PER_HOUR + minutes * SECONDS_PER_MINUTE
    if value < 0 or seconds > SECONDS_PER_DAY:
        raise ValueError(f"{text!r} is not an HHMM clock time")
    return seconds


def instance_name(path: Path) -> str:
    """``"102"`` for ``102_stop.txt``."""
    return re.sub(r"_stop$", "", path.stem)


def parse_wcvrptw(path: str | Path) -> tuple[WcvrptwHeader, tuple[WcvrptwStop, ...]]:
    """The header values and the stop lines of a Kim et al. instance file."""
    path = Path(path)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < 7:
        raise InstanceFormatError(f"{path}: expected five header lines, a column header and stops")
    try:
        values = [float(line.split()[0]) for line in lines[:5]]
    except ValueError as exc:
        raise InstanceFormatError(f"{path}: the first five lines must each start with a number") from exc
    header = WcvrptwHeader(capacity=values[0], daily_capacity=values[1], max_stops=int(values[2]),
                           lunch_s=values[3], speed_mph=values[4])
    if header.speed_mph <= 0:
        raise InstanceFormatError(f"{path}: the speed must be positive, got {header.speed_mph}")
    stops = []
    for number, line in enumerate(lines[6:], start=7):
        fields = line.split()
        if len(fields) != 8:
            raise InstanceFormatError(f"{path}:{number}: expected 8 fields, got {len(fields)}")
        try:
            stop = WcvrptwStop(id=fields[0], x_ft=float(fields[1]), y_ft=float(fields[2]),
                               early_s=hhmm_seconds(fields[3]), late_s=hhmm_seconds(fields[4]),
                               service_s=float(fields[5]), load=float(fields[6]), type=int(fields[7]))
        except ValueError as exc:
            raise InstanceFormatError(f"{path}:{number}: {exc}") from exc
        if stop.type not in (TYPE_DEPOT, TYPE_STOP, TYPE_DISPOSAL):
            raise InstanceFormatError(f"{path}:{number}: stop type {stop.type} is not 0, 1 or 2")
        stops.append(stop)
    depots = [s for s in stops if s.type == TYPE_DEPOT]
    if len(depots) != 1:
        raise InstanceFormatError(f"{path}: expected exactly one depot (type 0), found {len(depots)}")
    return header, tuple(stops)


def manhattan_ft(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """Pairwise Manhattan distances (feet) between points with feet coordinates ``x``, ``y``."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    return np.abs(xs[:, None] - xs[None, :]) + np.abs(ys[:, None] - ys[None, :])


def default_fleet_size(header: WcvrptwHeader, stops: tuple[WcvrptwStop, ...], known: KnownResult | None) -> int:
    """Vehicles offered: the larger of the best known count and the daily-limit bound, plus a
    fifth (at least two) spare."""
    regular = [s for s in stops if s.type == TYPE_STOP]
    load = sum(s.load for s in regular)
    bound = max(1, math.ceil(load / header.daily_capacity) if header.daily_capacity > 0 else 1,
                math.ceil(len(regular) / header.max_stops) if header.max_stops > 0 else 1)
    base = max(bound, known.vehicles if known else 0)
    return base + max(2, math.ceil(base / 5))


def wcvrptw_problem(header: WcvrptwHeader, stops: tuple[WcvrptwStop, ...], *, n_vehicles: int,
                    vehicle_fixed_miles: float = DEFAULT_VEHICLE_FIXED_MILES) -> tuple[Problem, FleetMatrices]:
    """The wasteroute problem and matrices (feet, seconds) of an instance (see the module docstring)."""
    [depot_stop] = [s for s in stops if s.type == TYPE_DEPOT]
    shift = (depot_stop.early_s, depot_stop.late_s)
    sites = tuple(DisposalSite(id=s.id, lon=0.0, lat=0.0, unload_s=s.service_s, opening=(s.early_s, s.late_s))
                  for s in stops if s.type == TYPE_DISPOSAL)

    def windows(s: WcvrptwStop) -> tuple[TimeWindow, ...]:
        return () if s.early_s <= shift[0] and s.late_s >= shift[1] else ((s.early_s, s.late_s),)

    bins = tuple(Bin(id=s.id, lon=0.0, lat=0.0, demand_kg=s.load, service_s=s.service_s, time_windows=windows(s))
                 for s in stops if s.type == TYPE_STOP)
    fixed_cost = vehicle_fixed_miles * FEET_PER_MILE / 1000.0 * COST_PER_THOUSAND_FEET
    vehicles = tuple(
        Vehicle(id=f"v{k + 1}", depot_id=depot_stop.id, capacity_kg=header.capacity, shift_start_s=shift[0],
                shift_end_s=shift[1], fixed_cost=fixed_cost, cost_per_km=COST_PER_THOUSAND_FEET, cost_per_hour=0.0,
                max_lifts=header.max_stops, max_collected_kg=header.daily_capacity,
                breaks=(Break(duration_s=header.lunch_s, window=LUNCH_WINDOW),), tip_before_return=True)
        for k in range(n_vehicles))
    problem = Problem(depots=(Depot(depot_stop.id, 0.0, 0.0),), vehicles=vehicles, bins=bins,
                      disposal_sites=sites)
    by_id = {s.id: s for s in stops}
    located = [by_id[i] for i in problem.location_ids()]
    distance_ft = manhattan_ft([s.x_ft for s in located], [s.y_ft for s in located])
    matrices = TravelMatrices(duration_s=distance_ft / header.feet_per_second, distance_m=distance_ft)
    return problem, FleetMatrices.uniform(matrices, (v.id for v in vehicles))


def read_wcvrptw(path: str | Path, *, n_vehicles: int | None = None,
                 vehicle_fixed_miles: float = DEFAULT_VEHICLE_FIXED_MILES) -> WcvrptwInstance:
    """Read a Kim et al. instance file into a :class:`WcvrptwInstance`.

    ``n_vehicles`` overrides the fleet size (default :func:`default_fleet_size`);
    ``vehicle_fixed_miles`` the fixed cost of a vehicle in miles of driving. Raises
    :class:`~solver.instances.cvrplib.InstanceFormatError` for a malformed file.
    """
    path = Path(path)
    header, stops = parse_wcvrptw(path)
    repeated = [stop_id for stop_id, count in Counter(s.id for s in stops).items() if count > 1]
    if repeated:
        raise InstanceFormatError(f"{path}: stop id {repeated[0]!r} appears more than once")
    name = instance_name(path)
    known = KNOWN_RESULTS.get(name)
    fleet = n_vehicles if n_vehicles is not None else default_fleet_size(header, stops, known)
    problem, matrices = wcvrptw_problem(header, stops, n_vehicles=fleet, vehicle_fixed_miles=vehicle_fixed_miles)
    return WcvrptwInstance(name=name, header=header, stops=stops, problem=problem, matrices=matrices, known=known)
