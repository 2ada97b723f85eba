"""Waste collection with PyVRP (0.14): iterated local search on an integer model.

The model, built straight into a :class:`pyvrp.ProblemData` (numpy matrices, no
per-edge Python objects):

- **time** runs in ticks of ``1 / TICKS_PER_SECOND`` s since midnight: travel and
  service times rounded *up* (:func:`solver.scaling.seconds_up` on tenths of a
  second), clock times exact. Every integer clock time is then no earlier than the
  true one, so an integer plan that is on time is on time for the evaluator, and a
  route's integer duration is its true duration to a tenth of a second per stop;
- **loads**: grams rounded up against capacities rounded down
  (:func:`solver.scaling.grams_up` / ``grams_down``), and when some vehicle has a
  volume limit a second dimension in millilitres, rounded the same way. Bins are
  pickups, so the load grows along a trip;
- **depots**: each vehicle starts at its depot when its shift starts (``tw_early ==
  start_late``), so durations and waiting are those the evaluator computes;
- **disposal sites** are PyVRP *reload depots* (multi-trip): a reload empties every
  load dimension, takes the site's ``unload_s`` (the depot's service duration) and
  must start within its opening hours (the depot's time window, waiting allowed).
  PyVRP ends a route at a depot, so a vehicle that must tip before it returns ends at
  a *virtual end*: a location whose incoming edge from a bin is the quickest drive to
  a site, the unload and the drive home. Those sites are the ones open all through
  the vehicle's shift (no waiting or closing can bite), or, if none is, the single
  site open longest during it, whose opening hours then become the virtual end's
  time window shifted by the unload and the drive home (exact: nothing happens
  between). The site chosen for each last bin is put back in the plan. This only
  narrows the choice of the final tip, so a plan is never wrong for it, at worst
  dearer; a vehicle with no site it may end at collects nothing;
- **time windows**: a bin with one window is a client with that window; a bin with
  several is a mutually exclusive client group of one copy per window (PyVRP's
  recipe), required when the bin is. The evaluator starts collection at the earliest
  window still open, never later than the copy PyVRP chose;
- **access**: each access profile of the fleet's matrices is a PyVRP routing
  profile; a leg with no path takes longer than any shift;
- **compatibility** (streams, pins, vehicles too heavy or wide for a bin): bins
  that only some vehicle types may collect form classes, one per set of allowed
  types, and each class is one more load dimension: its bins weigh 1 there, the
  allowed types carry as many as there are bins, the others none. (Forbidding edges
  in one routing profile per class is exact too, but each profile holds full
  matrices, and PyVRP's local search took a third more CPU time with five profiles
  than with two on 2,000 bins.) Vehicles
  differing only by id share one vehicle type. A site is a vehicle's reload depot
  only if it accepts every stream the vehicle may have on board;
- **objective**: ``duration`` is the route durations in ticks (waiting and service
  included, as the evaluator sums them); ``distance`` the metres in decimetres
  (:data:`solver.scaling.OBJECTIVE_UNITS_PER_METRE`); ``cost`` money in
  :data:`MONEY_UNITS` per unit: fixed cost, per-km cost on decimetres and per-hour
  cost on ticks of route duration. Fixed costs and optional bins' penalties (money)
  count in seconds or metres at the vehicle's own rate (the fleet's mean rate for a
  penalty) under the first two objectives;
- **optional bins** are optional clients whose prize is the penalty;
- **search**: PyVRP's ``solve`` with ``options.seed`` until ``options.time_limit_s``
  (less the time spent building), or ``max_iterations``; ``options.initial_routes``
  become the initial solution, and each round found goes back to the vehicle of
  its type whose initial round shares most bins with it. Required bins are required
  clients (PyVRP searches better so: 1.15% above the best known on X-n303-k21 after 8
  CPU-seconds, mean of three seeds, against 1.54% with every client optional); if
  the search finds no feasible plan by 70% of its time (or iterations), it goes on
  from its best attempt with every bin optional, a required one for a prize as large
  as serving it on a route of its own could cost, so that bins drop out only where
  they do not fit; a route still infeasible at the end loses bins greedily until it
  is feasible. The bins left out go unassigned, for
  :func:`solver.feasibility.explain_dropped` to insert or explain. PyVRP builds its
  first solution (a random one taken to a local optimum) before it first asks the
  stopping criterion: about 4.5 CPU-seconds on 2,000 bins with tips, so a time limit
  shorter than that is overrun.

Not modelled, so not declared in :attr:`PyVrpEngine.features`: crew breaks (PyVRP's
open edition has none), locked stops (no locking), the charge per moved bin (PyVRP
has no cost per client and vehicle; a routing profile per vehicle would express it at
the price of one full matrix per vehicle), a maximum of lifts or of kg per shift
(PyVRP resets every load dimension at a reload, so a per-shift count is not
expressible once vehicles tip).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp
from pyvrp import Activity, ActivityType, Client, ClientGroup, Depot, Location, ProblemData, VehicleType
from pyvrp.constants import MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning

from solver.engines.base import (
    ACCESS_PROFILES,
    DISPOSAL_SITES,
    MULTI_CAPACITY,
    OBJECTIVE_COST,
    OPTIONAL_BINS,
    PINNED_BINS,
    STREAMS,
    TIME_WINDOWS,
    WARM_START,
    required_features,
)
from solver.evaluate import check_matrices, vehicle_too_big
from solver.feasibility import resolve_bins, screen_bins
from solver.matrix import FleetMatrices
from solver.problem import BREAK_STOP, Bin, Problem, ProblemError, SolveOptions, TimeWindow, Vehicle
from solver.progress import ProgressReporter
from solver.scaling import (
    DEFAULT_RATE_PER_HOUR,
    DEFAULT_RATE_PER_KM,
    INT64_SAFE_MAX,
    OBJECTIVE_UNITS_PER_METRE,
    grams_down,
    grams_up,
    objective_units,
    seconds_up,
)
from solver.solution import Plan, RoutePlan, Unassigned

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TICKS_PER_SECOND = 10
"""Model time units per second (tenths of a second)."""

MONEY_UNITS = 1_000_000
"""Model units per unit of money under the ``cost`` objective."""

GIVE_UP_FRACTION = 0.7
"""Share of the search time (or iterations) after which a search with no feasible plan yet is rerun
with every bin optional. On 2,000 bins with tips, windows and two streams PyVRP took about 1,400
iterations to its first feasible plan, so giving up early costs good plans."""

MIN_SEARCH_FRACTION = 0.1
"""Share of ``time_limit_s`` a search keeps even when building the model used up the rest."""

_INFEASIBLE_COST = int(np.iinfo(np.int64).max)
"""What PyVRP's cost evaluator gives an infeasible solution."""

_NO_LIMIT = int(np.iinfo(np.int64).max)
"""PyVRP's "no time limit" (its default latest time)."""

_METRES_PER_DEGREE_LAT = 110_574.0
_METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


def _ticks_up(seconds: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Durations in seconds to whole ticks, rounded up (``inf`` and anything above ``cap``: ``cap``)."""
    return seconds_up(np.asarray(seconds, dtype=np.float64) * TICKS_PER_SECOND, cap=cap)


def _clock(seconds: int) -> int:
    """A clock time (whole seconds since midnight) in ticks."""
    return int(seconds) * TICKS_PER_SECOND


def compatible(vehicle: Vehicle, b: Bin) -> bool:
    """Whether ``vehicle`` may collect ``b`` as the evaluator sees it: it carries the bin's stream,
    the bin is not pinned to another vehicle, and the vehicle is not too big for it."""
    if b.vehicle_id is not None and b.vehicle_id != vehicle.id:
        return False
    return vehicle.carries(b.stream) and vehicle_too_big(vehicle, b) is None


# --- objective units ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Objective:
    """How money and route figures become integer objective terms."""

    kind: str
    fleet: tuple[Vehicle, ...]

    def _rate(self, vehicle: Vehicle | None) -> float:
        """Money per objective unit at ``vehicle``'s rate (``None``: the fleet's mean rate)."""
        if self.kind == "duration":
            def own(v: Vehicle) -> float:
                return v.cost_per_hour / 3600.0 / TICKS_PER_SECOND
            default = DEFAULT_RATE_PER_HOUR / 3600.0 / TICKS_PER_SECOND
        else:
            def own(v: Vehicle) -> float:
                return v.cost_per_km / 1000.0 / OBJECTIVE_UNITS_PER_METRE
            default = DEFAULT_RATE_PER_KM / 1000.0 / OBJECTIVE_UNITS_PER_METRE
        if vehicle is not None and own(vehicle) > 0:
            return own(vehicle)
        positive = [own(v) for v in self.fleet if own(v) > 0]
        return sum(positive) / len(positive) if positive else default

    def money(self, amount: float, vehicle: Vehicle | None = None, *, cap: int = INT64_SAFE_MAX) -> int:
        """``amount`` of money in objective units (at ``vehicle``'s rate for ``duration``/``distance``)."""
        if amount <= 0:
            return 0
        if self.kind == "cost":
            return int(objective_units(amount, units_per_value=MONEY_UNITS, cap=cap))
        return int(objective_units(amount / self._rate(vehicle), units_per_value=1, cap=cap))

    def unit_costs(self, vehicle: Vehicle) -> tuple[int, int]:
        """``(unit_distance_cost, unit_duration_cost)`` of ``vehicle``: per decimetre and per tick."""
        if self.kind == "duration":
            return 0, 1
        if self.kind == "distance":
            return 1, 0
        per_dm = vehicle.cost_per_km / 1000.0 / OBJECTIVE_UNITS_PER_METRE * MONEY_UNITS
        per_tick = vehicle.cost_per_hour / 3600.0 / TICKS_PER_SECOND * MONEY_UNITS
        return (max(round(per_dm), 1 if per_dm > 0 else 0),
                max(round(per_tick), 1 if per_tick > 0 else 0))


# --- the model ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Type:
    """What a PyVRP vehicle type stands for: interchangeable vehicles (alike but for the id)
    and the PyVRP depots where they may reload (tip)."""

    vehicles: tuple[Vehicle, ...]
    reload_depots: tuple[int, ...]


@dataclass(frozen=True)
class _End:
    """A virtual end: drive to one of ``sites`` (problem site positions), unload, drive home.
    ``shift`` (ticks) is set when the end carries the opening hours of its one site, for the
    vehicles of that shift."""

    home: int
    access: str
    sites: tuple[int, ...]
    shift: tuple[int, int] | None = None


@dataclass
class _Model:
    """The PyVRP data of a problem and what is needed to read its solutions back."""

    data: ProblemData
    bins: tuple[Bin, ...]
    client_bin: list[str]
    bin_clients: dict[str, list[int]]
    depot_site: dict[int, str]
    types: list[_Type]
    final_site: dict[int, dict[int, str]]
    client_location: list[int]
    relaxed_prize: int

    def relaxed(self) -> ProblemData:
        """The same data with every bin optional, the required ones for :attr:`relaxed_prize`."""
        groups = self.data.groups()
        clients = []
        for c in self.data.clients():
            required = c.required or (c.group is not None and groups[c.group].required)
            clients.append(Client(location=c.location, delivery=list(c.delivery), pickup=list(c.pickup),
                                  service_duration=c.service_duration, tw_early=c.tw_early, tw_late=c.tw_late,
                                  release_time=c.release_time,
                                  prize=self.relaxed_prize if required else c.prize,
                                  required=False, group=c.group, name=c.name))
        relaxed_groups = [ClientGroup(list(g.clients), required=False, name=g.name) for g in groups]
        return self.data.replace(clients=clients, groups=relaxed_groups)


class _Builder:
    """Builds a :class:`_Model` for the bins of one solve."""

    def __init__(self, problem: Problem, matrices: FleetMatrices, bins: Sequence[Bin], options: SolveOptions) -> None:
        self.problem = problem
        self.matrices = matrices
        self.bins = tuple(bins)
        self.options = options
        self.objective = _Objective(options.objective, problem.vehicles)
        used = {v.depot_id for v in problem.vehicles}
        self.homes = tuple(d.id for d in problem.depots if d.id in used)
        self.n_sites = len(problem.disposal_sites)
        self.first_bin = len(self.homes) + self.n_sites
        self.n_real = self.first_bin + len(self.bins)
        self.rows = np.array([problem.location_index(i) for i in
                              (*self.homes, *(s.id for s in problem.disposal_sites), *(b.id for b in self.bins))],
                             dtype=np.intp)
        self.horizon = max(_clock(v.shift_end_s - v.shift_start_s) for v in problem.vehicles)
        self.forbidden_ticks = self.horizon + 1
        self.unload = _ticks_up([s.unload_s for s in problem.disposal_sites], cap=self.forbidden_ticks)
        self.compat = np.array([[compatible(v, b) for b in self.bins] for v in problem.vehicles],
                               dtype=np.bool_).reshape(len(problem.vehicles), len(self.bins))
        self.travel: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
        for key in sorted({matrices.vehicle_profile[v.id] for v in problem.vehicles}):
            tm = matrices.profiles[key]
            ix = np.ix_(self.rows, self.rows)
            self.travel[key] = (tm.duration_s[ix], tm.distance_m[ix])
        longest = max((float(np.max(metres[np.isfinite(metres)], initial=0.0)) for _, metres in self.travel.values()),
                      default=0.0)
        self.max_distance_units = int(objective_units(longest, units_per_value=OBJECTIVE_UNITS_PER_METRE))
        self.forbidden_distance = int(min(MAX_VALUE, 4 * self.max_distance_units + 1))
        self.ends: dict[_End, int] = {}
        self.profile_keys: dict[str, int] = {}
        self.final_site: dict[int, dict[int, str]] = {}
        self.end_windows: dict[int, tuple[int, int] | None] = {}

    # -- sites and ends --

    def _on_board_streams(self, v_index: int) -> frozenset[str]:
        """Streams vehicle ``v_index`` may have on board in this solve."""
        return frozenset(b.stream for b, ok in zip(self.bins, self.compat[v_index], strict=True) if ok)

    def _reload_sites(self, v_index: int) -> tuple[int, ...]:
        """Positions of the sites that accept every stream the vehicle may carry."""
        streams = self._on_board_streams(v_index)
        return tuple(k for k, site in enumerate(self.problem.disposal_sites)
                     if all(site.accepts(s) for s in streams))

    def _end(self, v_index: int, access: str) -> _End | None:
        """The virtual end of a vehicle that tips before returning, ``None`` if it ends at its depot."""
        vehicle = self.problem.vehicles[v_index]
        if not (self.problem.disposal_sites and vehicle.tip_before_return):
            return None
        home = self.homes.index(vehicle.depot_id)
        sites = self._reload_sites(v_index)
        covering = tuple(k for k in sites if self.problem.disposal_sites[k].opening[0] <= vehicle.shift_start_s
                         and self.problem.disposal_sites[k].opening[1] >= vehicle.shift_end_s)
        if covering or not sites:
            return _End(home, access, covering)

        def open_during_shift(k: int) -> int:
            start, end = self.problem.disposal_sites[k].opening
            return min(end, vehicle.shift_end_s) - max(start, vehicle.shift_start_s)

        best = max(sites, key=open_during_shift)
        if open_during_shift(best) < 0:
            return _End(home, access, ())
        return _End(home, access, (best,), (_clock(vehicle.shift_start_s), _clock(vehicle.shift_end_s)))

    # -- matrices --

    def _base(self, access: str) -> tuple[IntArray, IntArray]:
        """Travel ticks and objective distance units between the real locations, for one access profile."""
        seconds, metres = self.travel[access]
        missing = ~(np.isfinite(seconds) & np.isfinite(metres))
        ticks = _ticks_up(np.where(missing, np.inf, seconds), cap=self.forbidden_ticks)
        if self.options.objective == "duration":
            units = np.zeros_like(ticks)
        else:
            units = objective_units(np.where(missing, np.inf, metres), units_per_value=OBJECTIVE_UNITS_PER_METRE,
                                    cap=self.forbidden_distance)
        ticks[missing] = self.forbidden_ticks
        units[missing] = self.forbidden_distance
        np.fill_diagonal(ticks, 0)
        np.fill_diagonal(units, 0)
        return ticks, units

    def _end_column(self, end: _End, ticks: IntArray, units: IntArray
                    ) -> tuple[IntArray, IntArray, dict[int, str], tuple[int, int] | None]:
        """Ticks and units from every real location to a virtual end, the site used from each
        location, and the end's time window (ticks) when it carries a site's opening hours."""
        column_t = np.full(self.n_real, self.forbidden_ticks, dtype=np.int64)
        column_u = np.full(self.n_real, self.forbidden_distance, dtype=np.int64)
        chosen: dict[int, str] = {}
        sites = self.problem.disposal_sites
        window = None
        if end.shift is not None:
            k = end.sites[0]
            offset = int(self.unload[k]) + int(ticks[len(self.homes) + k, end.home])
            start, close = sites[k].opening
            window = (_clock(start) + offset, _clock(close) + offset)
            if window[0] > end.shift[1] or window[1] < end.shift[0]:
                return column_t, column_u, chosen, None  # no tip there lets the vehicle home within its shift
        if not end.sites:
            return column_t, column_u, chosen, None
        site_rows = np.array([len(self.homes) + k for k in end.sites], dtype=np.intp)
        via = (ticks[:, site_rows] + self.unload[list(end.sites)][None, :]
               + ticks[site_rows, end.home][None, :])
        best = np.argmin(via, axis=1)
        rows = np.arange(self.n_real)
        total = via[rows, best]
        legs_ok = (ticks[rows, site_rows[best]] < self.forbidden_ticks) & (ticks[site_rows[best], end.home]
                                                                         < self.forbidden_ticks)
        ok = legs_ok & (total < self.forbidden_ticks)
        ok[len(self.homes):self.first_bin] = False  # a route never ends straight after a reload
        column_t[ok] = total[ok]
        column_u[ok] = np.minimum(units[rows, site_rows[best]] + units[site_rows[best], end.home],
                                  self.forbidden_distance)[ok]
        chosen = {int(r): sites[end.sites[int(best[r])]].id for r in np.flatnonzero(ok)}
        return column_t, column_u, chosen, window

    # -- assembly --

    def _type_keys(self) -> list[tuple[object, ...]]:
        pinned_to = {b.vehicle_id for b in self.problem.bins if b.vehicle_id is not None}
        keys: list[tuple[object, ...]] = []
        for v in self.problem.vehicles:
            alike = replace(v, id="") if v.id not in pinned_to else v
            keys.append((alike, self.matrices.vehicle_profile[v.id]))
        return keys

    def _drafts(self) -> list[tuple[list[int], str, _End | None, int]]:
        """Vehicle types as (member vehicle positions, access profile, virtual end, PyVRP profile),
        recording the virtual ends and the PyVRP profile of each access profile."""
        vehicles = self.problem.vehicles
        groups: dict[tuple[object, ...], list[int]] = {}
        for v_index, key in enumerate(self._type_keys()):
            groups.setdefault(key, []).append(v_index)
        drafts = []
        for members in groups.values():
            first = members[0]
            access = self.matrices.vehicle_profile[vehicles[first].id]
            end = self._end(first, access)
            if end is not None:
                self.ends.setdefault(end, len(self.ends))
            profile = self.profile_keys.setdefault(access, len(self.profile_keys))
            drafts.append((members, access, end, profile))
        return drafts

    def _classes(self, drafts: Sequence[tuple[list[int], str, _End | None, int]]) -> tuple[IntArray, BoolArray]:
        """Compatibility classes: for each bin its class (-1: every vehicle type may collect it),
        and for each class (row) the vehicle types (columns) allowed to collect its bins."""
        allowed = self.compat[[members[0] for members, *_ in drafts]].T  # bins x types
        keys: dict[bytes, int] = {}
        rows: list[BoolArray] = []
        bin_class = np.full(len(self.bins), -1, dtype=np.int64)
        for j, types in enumerate(allowed):
            if types.all():
                continue
            key = types.tobytes()
            if key not in keys:
                keys[key] = len(rows)
                rows.append(types)
            bin_class[j] = keys[key]
        return bin_class, np.array(rows, dtype=np.bool_).reshape(len(rows), len(drafts))

    def _access_matrices(self, access: str) -> tuple[IntArray, IntArray]:
        """Ticks and units between every PyVRP location for one access profile, the virtual ends of
        that profile included (recording the site each end uses from each location, and its window)."""
        n_total = self.n_real + len(self.ends)
        ticks, units = self._base(access)
        full_t = np.full((n_total, n_total), self.forbidden_ticks, dtype=np.int64)
        full_u = np.full((n_total, n_total), self.forbidden_distance, dtype=np.int64)
        full_t[:self.n_real, :self.n_real] = ticks
        full_u[:self.n_real, :self.n_real] = units
        for k, end in enumerate(self.ends):
            if end.access == access:
                column_t, column_u, self.final_site[k], self.end_windows[k] = self._end_column(end, ticks, units)
                full_t[:self.n_real, self.n_real + k] = column_t
                full_u[:self.n_real, self.n_real + k] = column_u
        np.fill_diagonal(full_t, 0)
        np.fill_diagonal(full_u, 0)
        if self.options.objective == "duration":
            full_u[:] = 0
        return full_t, full_u

    def _profiles(self) -> tuple[list[Any], list[Any]]:
        """Duration and distance matrices of every PyVRP profile (one per access profile)."""
        durations: list[Any] = []  # PyVRP's stubs type matrices loosely
        distances: list[Any] = []
        for access, _ in sorted(self.profile_keys.items(), key=lambda item: item[1]):
            full_t, full_u = self._access_matrices(access)
            durations.append(full_t)
            distances.append(full_u)
        return durations, distances

    def _depots(self) -> list[Depot]:
        """PyVRP depots: the vehicles' depots, the sites (opening hours, unload time), the virtual ends."""
        depots = [Depot(location=i, name=d) for i, d in enumerate(self.homes)]
        for k, site in enumerate(self.problem.disposal_sites):
            open_s, close_s = site.opening
            depots.append(Depot(location=len(self.homes) + k, tw_early=_clock(open_s), tw_late=_clock(close_s),
                                service_duration=int(self.unload[k]), name=site.id))
        for k, end in enumerate(self.ends):
            window = self.end_windows.get(k)
            name = f"end:{self.homes[end.home]}"
            if window is None:
                depots.append(Depot(location=self.n_real + k, name=name))
            else:
                depots.append(Depot(location=self.n_real + k, tw_early=window[0], tw_late=window[1], name=name))
        return depots

    def _vehicle_types(self, drafts: Sequence[tuple[list[int], str, _End | None, int]], class_types: BoolArray
                       ) -> tuple[list[VehicleType], list[_Type]]:
        """PyVRP vehicle types and what each stands for."""
        vehicles, objective = self.problem.vehicles, self.objective
        litres = any(v.capacity_l is not None for v in vehicles)
        no_volume_limit = int(grams_up([b.volume_l for b in self.bins]).sum()) + 1
        vehicle_types: list[VehicleType] = []
        types: list[_Type] = []
        for t, (members, _access, end, profile) in enumerate(drafts):
            v = vehicles[members[0]]
            capacity = [int(grams_down(v.capacity_kg))]
            if litres:
                capacity.append(int(grams_down(v.capacity_l)) if v.capacity_l is not None else no_volume_limit)
            capacity += [len(self.bins) if ok else 0 for ok in class_types[:, t]]
            start = self.homes.index(v.depot_id)
            end_depot = start if end is None else len(self.homes) + self.n_sites + self.ends[end]
            reloads = tuple(len(self.homes) + k for k in self._reload_sites(members[0]))
            unit_distance, unit_duration = objective.unit_costs(v)
            vehicle_types.append(VehicleType(
                num_available=len(members), capacity=capacity, start_depot=start, end_depot=end_depot,
                fixed_cost=objective.money(v.fixed_cost, v), tw_early=_clock(v.shift_start_s),
                tw_late=_clock(v.shift_end_s), start_late=_clock(v.shift_start_s),
                unit_distance_cost=unit_distance, unit_duration_cost=unit_duration, profile=profile,
                reload_depots=list(reloads), name=v.id))
            types.append(_Type(tuple(vehicles[i] for i in members), reloads))
        return vehicle_types, types

    def _clients(self, relaxed_prize: int, bin_class: IntArray, n_classes: int
                 ) -> tuple[list[Client], list[ClientGroup], list[str]]:
        """PyVRP clients (one per bin, or one per window in a group for a bin with several), their
        groups, and the bin id of each client."""
        litres = any(v.capacity_l is not None for v in self.problem.vehicles)
        grams = grams_up([b.demand_kg for b in self.bins])
        millilitres = grams_up([b.volume_l for b in self.bins])  # litres to millilitres: the same x1000 rule
        clients: list[Client] = []
        groups: list[ClientGroup] = []
        client_bin: list[str] = []
        for j, b in enumerate(self.bins):
            load = [int(grams[j]), int(millilitres[j])] if litres else [int(grams[j])]
            load += [int(bin_class[j] == c) for c in range(n_classes)]
            service = int(_ticks_up(b.service_s))
            prize = 0 if b.required else min(self.objective.money(b.penalty or 0.0), relaxed_prize)
            windows: list[TimeWindow | None] = [*sorted(b.time_windows)] or [None]
            group = None
            if len(windows) > 1:
                group = len(groups)
                groups.append(ClientGroup(required=b.required, name=b.id))
            for window in windows:
                early, late = (0, _NO_LIMIT) if window is None else (_clock(window[0]), _clock(window[1]))
                if group is not None:
                    groups[group].add_client(len(clients))
                clients.append(Client(location=self.first_bin + j, pickup=load, service_duration=service,
                                      tw_early=early, tw_late=late, prize=prize,
                                      required=b.required and group is None, group=group, name=b.id))
                client_bin.append(b.id)
        return clients, groups, client_bin

    def build(self) -> _Model:
        """The PyVRP data and the maps back to the problem's ids."""
        drafts = self._drafts()
        bin_class, class_types = self._classes(drafts)
        durations, distances = self._profiles()
        vehicle_types, types = self._vehicle_types(drafts, class_types)
        relaxed_prize = self._relaxed_prize(vehicle_types)
        clients, groups, client_bin = self._clients(relaxed_prize, bin_class, len(class_types))
        data = ProblemData(self._locations(list(self.ends)), clients, self._depots(), vehicle_types, distances,
                           durations, groups)
        bin_clients: dict[str, list[int]] = {}
        for c, bin_id in enumerate(client_bin):
            bin_clients.setdefault(bin_id, []).append(c)
        first_end = len(self.homes) + self.n_sites
        return _Model(data=data, bins=self.bins, client_bin=client_bin, bin_clients=bin_clients,
                      depot_site={len(self.homes) + k: s.id for k, s in enumerate(self.problem.disposal_sites)},
                      types=types, final_site={first_end + k: chosen for k, chosen in self.final_site.items()},
                      client_location=[c.location for c in clients], relaxed_prize=relaxed_prize)

    def _relaxed_prize(self, vehicle_types: Sequence[VehicleType]) -> int:
        """The prize of a required bin when bins are relaxed to optional: what serving a bin on a
        route of its own can cost at most (a vehicle's fixed cost, its whole shift, three legs at
        the dearest leg), so that serving it pays wherever it fits. Not so large that PyVRP's
        bounded penalties could never outweigh it (then its search would rather break a
        constraint than leave a bin out), and capped far from overflow."""
        bound = max(vt.fixed_cost + vt.unit_duration_cost * self.horizon
                    + vt.unit_distance_cost * 3 * self.max_distance_units for vt in vehicle_types)
        cap = INT64_SAFE_MAX // (8 * max(1, 2 * len(self.bins)))
        return int(min(bound + 1, cap))

    def _locations(self, ends: Sequence[_End]) -> list[Location]:
        """PyVRP locations in metres on a local plane (its search uses them for geometry only)."""
        problem = self.problem
        lonlat = ([(problem.depot(d).lon, problem.depot(d).lat) for d in self.homes]
                  + [(s.lon, s.lat) for s in problem.disposal_sites] + [(b.lon, b.lat) for b in self.bins])
        lonlat += [lonlat[end.home] for end in ends]
        lat0 = math.radians(sum(lat for _, lat in lonlat) / len(lonlat))
        return [Location(x=lon * _METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(lat0),
                         y=lat * _METRES_PER_DEGREE_LAT) for lon, lat in lonlat]


# --- solving --------------------------------------------------------------------------------------

class _Stop:
    """PyVRP stopping criterion: a deadline, an iteration cap, and giving up early on a search
    that has found no feasible plan by ``give_up`` of its time (or of its iterations, when
    capped, so that capped runs stay repeatable)."""

    def __init__(self, *, seconds: float, give_up: float | None, max_iterations: int | None,
                 progress: ProgressReporter | None = None) -> None:
        now = time.perf_counter()
        self.progress = progress
        self.deadline = now + seconds
        self.give_up_at = None if give_up is None else now + give_up * seconds
        self.give_up_iterations = None if give_up is None or max_iterations is None else give_up * max_iterations
        self.max_iterations = max_iterations
        self.iterations = 0

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            return True
        now = time.perf_counter()
        if now >= self.deadline:
            return True
        feasible = best_cost < _INFEASIBLE_COST
        if self.progress is not None and not self.progress.report(float(best_cost) if feasible else None):
            return True
        if feasible:
            return False
        if self.give_up_iterations is not None:
            return self.iterations >= self.give_up_iterations
        return self.give_up_at is not None and now >= self.give_up_at


def _warm_start(model: _Model, problem: Problem, options: SolveOptions) -> pyvrp.Solution | None:
    """``options.initial_routes`` as a PyVRP solution (bins and sites it cannot use left out)."""
    if not options.initial_routes:
        return None
    type_of = {v.id: t for t, vt in enumerate(model.types) for v in vt.vehicles}
    site_depot = {site: depot for depot, site in model.depot_site.items()}
    used: set[str] = set()
    routes = []
    seen_vehicles: set[str] = set()
    for route in options.initial_routes:
        t = type_of.get(route.vehicle_id)
        if t is None or route.vehicle_id in seen_vehicles:
            continue
        seen_vehicles.add(route.vehicle_id)
        reloads = set(model.types[t].reload_depots)
        activities: list[Activity] = []
        for stop in route.stops:
            if stop == BREAK_STOP:
                continue
            if stop in model.bin_clients and stop not in used:
                used.add(stop)
                activities.append(Activity(ActivityType.CLIENT, model.bin_clients[stop][0]))
            elif site_depot.get(stop) in reloads:
                activities.append(Activity(ActivityType.DEPOT, site_depot[stop]))
        while activities and activities[-1].is_depot():
            activities.pop()  # the final tip is implied by the route's end
        if any(a.is_client() for a in activities):
            routes.append(pyvrp.Route(model.data, activities, t))
    if not routes:
        return None
    try:
        return pyvrp.Solution(model.data, routes)
    except (ValueError, IndexError) as exc:
        logger.warning("pyvrp: initial routes ignored, PyVRP rejects them as a solution: %s", exc)
        return None


def _same_routes(data: ProblemData, solution: pyvrp.Solution) -> pyvrp.Solution:
    """``solution``'s routes on ``data`` (same clients and depots, other prizes or requirements)."""
    routes = [pyvrp.Route(data, [Activity(a.type, a.idx) for a in list(r.schedule())[1:-1]], r.vehicle_type())
              for r in solution.routes()]
    return pyvrp.Solution(data, routes)


def _search(data: ProblemData, stop: _Stop, seed: int, initial: pyvrp.Solution | None) -> pyvrp.Result:
    """PyVRP's search, quietly: a penalty at its bound only means no feasible plan is found yet,
    which the engine handles."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial)


class PyVrpEngine:
    """Waste collection routes by PyVRP's iterated local search (see the module docstring).

    ``max_iterations`` stops each search after that many iterations (besides
    ``options.time_limit_s``), which makes runs repeatable whatever the machine's speed.
    """

    name: str = "pyvrp"
    features: frozenset[str] = frozenset({
        DISPOSAL_SITES, TIME_WINDOWS, MULTI_CAPACITY, STREAMS, ACCESS_PROFILES, OPTIONAL_BINS, PINNED_BINS,
        WARM_START, OBJECTIVE_COST,
    })

    def __init__(self, *, max_iterations: int | None = None) -> None:
        if max_iterations is not None and max_iterations < 1:
            raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
        self.max_iterations = max_iterations

    def solve(self, problem: Problem, matrices: FleetMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`).

        Raises :class:`ProblemError` (field ``options.engine``) for a request needing a
        feature this engine does not model. Bins no vehicle could serve alone are
        unassigned with the reason :func:`solver.feasibility.screen_bins` found; those that
        fail only once rounded to the model's integers, and those the search leaves out,
        get ``no_feasible_insertion``. Unassigned bins follow ``bin_ids`` order; routes
        follow fleet order, empty ones omitted.
        """
        started = time.perf_counter()
        missing = required_features(problem, options, matrices=matrices) - self.features
        if missing:
            raise ProblemError(f"options.engine: engine {self.name!r} does not support "
                               f"{', '.join(sorted(missing))}, which this request needs", field="options.engine")
        check_matrices(problem, matrices)
        requested = [b.id for b in resolve_bins(problem, bin_ids)]
        servable_ids, ruled_out = screen_bins(problem, matrices, requested)
        reasons = {u.bin_id: u for u in ruled_out}
        servable = resolve_bins(problem, servable_ids)
        routes: tuple[RoutePlan, ...] = ()
        if servable:
            routes, dropped = self._solve_servable(problem, matrices, servable, options, started, progress)
            reasons.update(dropped)
        unassigned = tuple(reasons[b] for b in requested if b in reasons)
        logger.info("pyvrp: %d bins on %d routes, %d unassigned, in %.3f s",
                    len(requested) - len(unassigned), len(routes), len(unassigned),
                    time.perf_counter() - started)
        return Plan(routes=routes, unassigned=unassigned)

    def _solve_servable(self, problem: Problem, matrices: FleetMatrices, servable: Sequence[Bin],
                        options: SolveOptions, started: float, progress: ProgressReporter | None = None
                        ) -> tuple[tuple[RoutePlan, ...], dict[str, Unassigned]]:
        """Routes for bins that passed the screen, and the bins left out (by id)."""
        model = _Builder(problem, matrices, servable, options).build()
        alone = _servable_alone(model)
        detail = ("no vehicle can serve it alone once loads are rounded up to whole grams and times to tenths "
                  "of a second (with the tip it must end with)")
        dropped = {b.id: Unassigned(b.id, "no_feasible_insertion", detail)
                   for b, ok in zip(servable, alone, strict=True) if not ok}
        if dropped:
            kept = [b for b, ok in zip(servable, alone, strict=True) if ok]
            if not kept:
                return (), dropped
            model = _Builder(problem, matrices, kept, options).build()
        built = time.perf_counter()
        search_s = max(options.time_limit_s - (built - started), MIN_SEARCH_FRACTION * options.time_limit_s)
        logger.info("pyvrp: model with %d bins, %d clients, %d vehicle types, %d profiles built in %.3f s; "
                    "searching up to %.2f s", len(model.bins), model.data.num_clients, model.data.num_vehicle_types,
                    model.data.num_profiles, built - started, search_s)
        seed = options.seed % 2**32
        stop = _Stop(seconds=search_s, give_up=GIVE_UP_FRACTION, max_iterations=self.max_iterations,
                     progress=progress)
        result = _search(model.data, stop, seed, _warm_start(model, problem, options))
        best, data = result.best, model.data
        if not best.is_feasible() and (progress is None or not progress.stopped):
            remaining = max(search_s - (time.perf_counter() - built), MIN_SEARCH_FRACTION * search_s)
            logger.info("pyvrp: no feasible plan with every bin required after %d iterations; searching "
                        "%.2f s more with bins optional", result.num_iterations, remaining)
            data = relaxed = model.relaxed()
            left = None if self.max_iterations is None else max(1, self.max_iterations - result.num_iterations)
            stop = _Stop(seconds=remaining, give_up=None, max_iterations=left, progress=progress)
            result = _search(relaxed, stop, seed, _same_routes(relaxed, best))
            best = result.best
        logger.info("pyvrp: search finished after %d iterations in %.3f s, feasible: %s", result.num_iterations,
                    time.perf_counter() - built, best.is_feasible())
        routes = _routes_of(problem, model, data, best, options)
        served = {stop for route in routes for stop in route.stops}
        required = "the search found no route that could take it within the time limit"
        optional = ("the search left it out: no route took it for less than its penalty within the time "
                    "limit")
        dropped.update({b.id: Unassigned(b.id, "no_feasible_insertion", required if b.required else optional)
                        for b in model.bins if b.id not in served})
        return routes, dropped


def _servable_alone(model: _Model) -> BoolArray:
    """For each bin of ``model``, whether some vehicle type can serve it on a route of its own
    in the integer model (loads in grams, times in ticks, the closing tip included)."""
    data = model.data
    clients = data.clients()
    depots = data.depots()
    location = np.array([c.location for c in clients], dtype=np.intp)
    early = np.array([c.tw_early for c in clients], dtype=np.int64)
    late = np.array([c.tw_late for c in clients], dtype=np.int64)
    service = np.array([c.service_duration for c in clients], dtype=np.int64)
    load = np.array([c.pickup for c in clients], dtype=np.int64).reshape(len(clients), -1)
    ok = np.zeros(len(clients), dtype=np.bool_)
    matrices: dict[int, Any] = {}
    for vt in data.vehicle_types():
        if vt.profile not in matrices:
            matrices[vt.profile] = data.duration_matrix(vt.profile)
        ticks = matrices[vt.profile]
        start, end = depots[vt.start_depot], depots[vt.end_depot]
        begin = np.maximum(vt.tw_early + ticks[start.location, location], early)
        back = begin + service + ticks[location, end.location]
        ok |= ((load <= np.array(vt.capacity, dtype=np.int64)[None, :]).all(axis=1) & (begin <= late)
               & (back <= end.tw_late) & (np.maximum(back, end.tw_early) <= vt.tw_late))
    index = {b.id: j for j, b in enumerate(model.bins)}
    servable = np.zeros(len(model.bins), dtype=np.bool_)
    np.logical_or.at(servable, np.array([index[b] for b in model.client_bin], dtype=np.intp), ok)
    return servable


def _stops_of(model: _Model, route: pyvrp.Route) -> tuple[str, ...]:
    """A PyVRP route as bin ids and site ids in driving order, the final tip of a route that
    ends through a virtual end included."""
    stops: list[str] = []
    last_location = -1
    schedule = list(route.schedule())
    for activity in schedule[1:-1]:
        if activity.is_client():
            stops.append(model.client_bin[activity.idx])
            last_location = model.client_location[activity.idx]
        elif activity.is_depot():
            stops.append(model.depot_site[activity.idx])
            last_location = -1
    final = model.final_site.get(schedule[-1].idx, {}).get(last_location)
    if final is not None:
        stops.append(final)
    return tuple(stops)


def _assign(vehicles: Sequence[Vehicle], routes: Sequence[tuple[str, ...]], options: SolveOptions
            ) -> dict[str, tuple[str, ...]]:
    """Routes of one vehicle type to its (interchangeable) vehicles: each route to the vehicle whose
    initial route shares most bins with it, so that a warm start keeps rounds on their vehicles;
    the others in fleet order."""
    initial = {r.vehicle_id: set(r.stops) for r in options.initial_routes}
    pairs = sorted(((len(initial.get(v.id, set()) & set(stops)), -r, -k)
                    for r, stops in enumerate(routes) for k, v in enumerate(vehicles)), reverse=True)
    taken_routes: set[int] = set()
    taken_vehicles: set[int] = set()
    assigned: dict[str, tuple[str, ...]] = {}
    for shared, minus_r, minus_k in pairs:
        r, k = -minus_r, -minus_k
        if shared == 0 or r in taken_routes or k in taken_vehicles:
            continue
        taken_routes.add(r)
        taken_vehicles.add(k)
        assigned[vehicles[k].id] = routes[r]
    free = iter(k for k in range(len(vehicles)) if k not in taken_vehicles)
    for r, stops in enumerate(routes):
        if r not in taken_routes:
            assigned[vehicles[next(free)].id] = stops
    return assigned


def _violation(route: pyvrp.Route) -> int:
    """How much a PyVRP route breaks its constraints: excess load over all dimensions plus time warp."""
    return sum(route.excess_load()) + route.time_warp() + route.excess_distance()


def _repaired(data: ProblemData, route: pyvrp.Route) -> pyvrp.Route | None:
    """A feasible route from an infeasible one by leaving bins out, greedily: each time the bin
    whose removal cuts the violation most, among the bins late or on an overloaded trip (all of
    them when none is). ``None`` when nothing feasible is left."""
    activities = [Activity(a.type, a.idx) for a in list(route.schedule())[1:-1]]
    vehicle_type = route.vehicle_type()
    while any(a.is_client() for a in activities):
        schedule = list(route.schedule())[1:-1]
        overloaded = {a.trip for a in schedule if a.is_client()} if sum(route.excess_load()) else set()
        suspects = [k for k, a in enumerate(schedule) if a.is_client() and (a.time_warp > 0 or a.trip in overloaded)]
        suspects = suspects or [k for k, a in enumerate(activities) if a.is_client()]
        trials = [(k, pyvrp.Route(data, activities[:k] + activities[k + 1:], vehicle_type)) for k in suspects]
        k, route = min(trials, key=lambda trial: (_violation(trial[1]), trial[0]))
        del activities[k]
        if route.is_feasible():
            return route if any(a.is_client() for a in activities) else None
    return None


def _routes_of(problem: Problem, model: _Model, data: ProblemData, solution: pyvrp.Solution,
               options: SolveOptions) -> tuple[RoutePlan, ...]:
    """The routes of ``solution`` (on ``data``) in fleet order. A route that is still infeasible,
    possible only when the relaxed search found no feasible plan either, first loses bins
    (see :func:`_repaired`), which then go unassigned."""
    per_type: dict[int, list[tuple[str, ...]]] = {}
    for route in solution.routes():
        feasible = route if route.is_feasible() else _repaired(data, route)
        if feasible is not None:
            per_type.setdefault(feasible.vehicle_type(), []).append(_stops_of(model, feasible))
    by_vehicle: dict[str, tuple[str, ...]] = {}
    for t, routes in per_type.items():
        by_vehicle.update(_assign(model.types[t].vehicles, routes, options))
    return tuple(RoutePlan(v.id, by_vehicle[v.id]) for v in problem.vehicles if by_vehicle.get(v.id))
