"""A problem's bins, fleet and sites as :class:`pyvrp.ProblemData` (see :mod:`solver.engines.pyvrp`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType
from pyvrp.constants import MAX_VALUE

from solver.engines.pyvrp.objective import BoolArray, IntArray, _clock, _Objective, _ticks_up
from solver.evaluate import vehicle_too_big
from solver.matrix import FleetMatrices
from solver.problem import Bin, Problem, SolveOptions, TimeWindow, Vehicle
from solver.scaling import INT64_SAFE_MAX, OBJECTIVE_UNITS_PER_METRE, grams_down, grams_up, objective_units

_NO_LIMIT = int(np.iinfo(np.int64).max)
"""PyVRP's "no time limit" (its default latest time)."""

_METRES_PER_DEGREE_LAT = 110_574.0
_METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


def compatible(vehicle: Vehicle, b: Bin) -> bool:
    """Whether ``vehicle`` may collect ``b`` as the evaluator sees it: it carries the bin's stream,
    the bin is not pinned to another vehicle, and the vehicle is not too big for it."""
    if b.vehicle_id is not None and b.vehicle_id != vehicle.id:
        return False
    return vehicle.carries(b.stream) and vehicle_too_big(vehicle, b) is None


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
