"""The integer data of the OR-Tools routing model, built with numpy before any OR-Tools call.

Every float of the problem becomes an integer here, through :mod:`solver.scaling`:
times in whole seconds (durations rounded up, the latest start of a window rounded
down), loads in grams and millilitres (demands up, capacities down), objective terms
in objective units. So a plan that is feasible in these integers is feasible for
:func:`solver.evaluate.evaluate` in floats.

**Model nodes**, in this order:

- one node per depot some vehicle starts from (every vehicle starts there);
- *visit nodes*: one per bin to plan (in the order given, which the seed has
  shuffled), or, for a bin with several time windows, one per window (merged where
  they overlap), of which at most one is visited (a disjunction). A cumul domain with
  holes (``RemoveInterval``) would be the direct model, but with it OR-Tools'
  PATH_CHEAPEST_ARC finds no first solution once the last leg home is long (the
  detour through a tip): reproduced on a bare 100-node model, OR-Tools 9.15;
- *unload copies*: per vehicle and per disposal site it may use, ``k`` optional copies
  of the site, each allowed on that vehicle only; visiting one is a mid-route tip;
- one *end node* per vehicle that must come back empty (disposal sites in the problem
  and ``tip_before_return``). Arriving there from a bin means: drive to a disposal
  site, unload, drive home. The transit into it from a bin ``i`` is the service at
  ``i`` plus the quickest such detour over the vehicle's *final sites*; the site it
  chose for each ``i`` is put back in the stop list. From an unload copy it is the
  unload and the plain drive home (that tip was the last). The final sites are the
  usable sites open all through the shift (so no waiting or closing can bite), or, if
  none is, the single usable site open longest during it, whose opening hours then
  bound the end node's time exactly. A vehicle without a final tip ends at its depot
  node. A site is usable by a vehicle when it accepts every stream the vehicle may
  collect (see :func:`_carried_streams`).

Ending every such route through its end node makes "back empty" structural: a bound
on the load at the route's end instead left OR-Tools' sequential first-solution
heuristics unable to close any route (measured: no solution at 1,000 bins).

**Time** is in whole seconds since the *origin*, the earliest shift start of the
fleet: the time dimension's cumul at a node is when service starts there. Each vehicle
leaves its depot exactly at its shift start (its start cumul is fixed: the rules start
every route then, and a free start only widens the search); when every shift starts
together the origin makes every start cumul 0 and the dimension is declared with
``fix_start_cumul_to_zero``. The earlier engine measured a 25-fold slower first
solution with non-zero start cumuls at 2,000 bins; in this model, at 1,000 bins with
tips, the first solution came as fast with a midnight origin or staggered shift starts
(0.73-1.07 s) as with the zero origin, so the origin keeps the numbers small and the
common case on OR-Tools' zero-start path rather than buying measurable speed.

**Arcs** that no sensible or possible route drives get a transit beyond every
shift (:attr:`ModelData.horizon` + 1), so no route can take them: legs without a
path in the vehicle's profile, depot -> unload copy (tipping an empty body) and copy ->
copy (tipping twice in a row).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from solver.evaluate import vehicle_too_big
from solver.matrix import FleetMatrices
from solver.problem import Bin, DisposalSite, Problem, SolveOptions, TimeWindow, Vehicle
from solver.scaling import (
    DEFAULT_RATE_PER_HOUR,
    DEFAULT_RATE_PER_KM,
    INT64_SAFE_MAX,
    grams_down,
    grams_up,
    millilitres_down,
    millilitres_up,
    objective_units,
    objective_units_per_value,
    seconds_down,
    seconds_up,
)
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_COPIES_PER_SITE = 16
"""Most unload copies per vehicle and site (mid-route tips a vehicle may make at one site)."""

COPIES_BALANCE_FACTOR = 2.0
"""Copies per site: this many times the vehicle's share of the loads (rounded up), at least one,
at most what the vehicle could ever need."""


@dataclass(frozen=True)
class BreakSpec:
    """A crew break in model time: it may start in ``[start_min, start_max]``, lasts
    ``duration`` and is due when the route returns after ``due_after``."""

    start_min: int
    start_max: int
    duration: int
    due_after: int


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle in model terms.

    ``start_node``/``end_node`` are model nodes; ``start_t`` the model time it leaves
    its depot, ``end_t`` the latest and ``end_min_t`` the earliest it may be back
    (``end_min_t`` above ``start_t`` only with a single final site that opens late).
    ``sites`` are the disposal sites (problem order) it may tip at mid-route,
    ``final_sites`` those its end node tips at (empty: no final tip). ``streams`` are the
    streams it may collect. ``fault`` says why it can take no bin at all (``None``: it can).
    """

    vehicle: Vehicle
    profile: int
    start_node: int
    end_node: int
    start_t: int
    end_t: int
    end_min_t: int
    sites: tuple[int, ...]
    final_sites: tuple[int, ...]
    breaks: tuple[BreakSpec, ...]
    streams: frozenset[str]
    fault: str | None


@dataclass(frozen=True)
class Copy:
    """An unload copy: a mid-route tip of vehicle ``vehicle`` (fleet index) at site ``site``."""

    vehicle: int
    site: int


@dataclass(frozen=True)
class ModelData:
    """Everything the routing model needs, as integers (see the module docstring).

    Per node: ``locations`` (matrix row; an end node has its depot's), ``service``
    (seconds spent there before leaving), ``demand_g``/``volume_ml`` (an unload copy
    has ``-big``, reset by slack), ``collected_g`` (kg per visit for the daily limit,
    never reset). Per visit node (from :attr:`visit_offset`): ``visit_bin`` (index into
    ``bins``) and ``visit_window`` (model time, ``None``: any time). Per bin:
    ``bin_visits`` (its visit nodes), ``allowed`` (fleet indices), ``penalty``
    (objective units). Per profile: ``transit`` (service at ``i`` + travel ``i -> j``,
    seconds) and ``final_choice`` (for each end node column, the site its detour takes
    from each row, ``-1`` from an unload copy). Per cost class: ``arc_costs``; each
    vehicle's class in ``cost_class``. Per vehicle: ``fixed_cost`` and capacities.
    ``unit_per_money`` weighs money (penalties) in objective units; ``dropped`` gives, for
    each bin left out of the model, why.
    """

    problem: Problem
    origin_s: int
    horizon: int
    n_depots: int
    bins: tuple[Bin, ...]
    copies: tuple[Copy, ...]
    end_nodes: tuple[int, ...]
    vehicles: tuple[VehicleSpec, ...]
    profiles: tuple[str, ...]
    locations: IntArray
    service: IntArray
    transit: tuple[IntArray, ...]
    final_choice: tuple[dict[int, IntArray], ...]
    arc_costs: tuple[IntArray, ...]
    cost_class: tuple[int, ...]
    fixed_cost: tuple[int, ...]
    demand_g: IntArray
    capacity_g: tuple[int, ...]
    volume_ml: IntArray | None
    capacity_ml: tuple[int, ...] | None
    max_lifts: tuple[int, ...] | None
    collected_g: IntArray | None
    max_collected_g: tuple[int, ...] | None
    visit_bin: IntArray
    visit_window: tuple[tuple[int, int] | None, ...]
    bin_visits: tuple[tuple[int, ...], ...]
    copy_windows: tuple[tuple[int, int], ...]
    allowed: tuple[tuple[int, ...], ...]
    penalty: tuple[int, ...]
    unit_per_money: float
    dropped: Mapping[str, str]

    @property
    def n_nodes(self) -> int:
        """Number of model nodes."""
        return len(self.locations)

    @property
    def visit_offset(self) -> int:
        """Model node of the first visit node."""
        return self.n_depots

    @property
    def copy_offset(self) -> int:
        """Model node of the first unload copy."""
        return self.n_depots + len(self.visit_bin)

    def is_visit(self, node: int) -> bool:
        """Whether ``node`` is a visit node (a bin, in one of its windows)."""
        return self.visit_offset <= node < self.copy_offset

    def bin_at(self, node: int) -> Bin:
        """The bin of visit node ``node``."""
        return self.bins[int(self.visit_bin[node - self.visit_offset])]

    def is_copy(self, node: int) -> bool:
        """Whether ``node`` is an unload copy."""
        return self.copy_offset <= node < self.copy_offset + len(self.copies)

    def copies_of(self, vehicle: int, site: int) -> list[int]:
        """Model nodes of ``vehicle``'s unload copies at ``site``."""
        return [self.copy_offset + c for c, cp in enumerate(self.copies) if cp.vehicle == vehicle and cp.site == site]


# --------------------------------------------------------------------------- small helpers


def _merged(windows: Sequence[TimeWindow], origin_s: int, horizon: int) -> tuple[tuple[int, int], ...]:
    """Windows in model time (opening up, closing down), clipped to ``[0, horizon]``, sorted and
    merged where they overlap or touch; empty ones left out."""
    spans = []
    for opens, closes in windows:
        lo = max(0, int(seconds_up(opens - origin_s)))
        hi = min(horizon, int(seconds_down(closes - origin_s)))
        if lo <= hi:
            spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _bin_windows(b: Bin, origin_s: int, horizon: int) -> tuple[tuple[int, int], ...]:
    """A bin's windows in model time (see :func:`_merged`): none when it has none or one spanning
    the whole horizon; a single window after the horizon when every window lies outside it (so no
    vehicle can serve it)."""
    if not b.time_windows:
        return ()
    merged = _merged(b.time_windows, origin_s, horizon)
    if not merged:
        return ((horizon + 1, horizon + 1),)
    return () if merged == ((0, horizon),) else merged


def _rate(vehicle: Vehicle | None, fleet: Sequence[Vehicle], objective: str) -> float:
    """Money per second (``duration``) or per metre (``distance``) at ``vehicle``'s own rate, or
    the fleet's mean positive rate (``vehicle`` None or without a rate), or a default rate."""
    def own(v: Vehicle) -> float:
        return v.cost_per_hour / SECONDS_PER_HOUR if objective == "duration" else v.cost_per_km / METRES_PER_KM

    if vehicle is not None and own(vehicle) > 0:
        return own(vehicle)
    positive = [own(v) for v in fleet if own(v) > 0]
    if positive:
        return sum(positive) / len(positive)
    return DEFAULT_RATE_PER_HOUR / SECONDS_PER_HOUR if objective == "duration" else DEFAULT_RATE_PER_KM / METRES_PER_KM


def units_per_money(objective: str, vehicle: Vehicle | None, fleet: Sequence[Vehicle]) -> float:
    """Objective units per unit of money: exact under ``cost``; under ``duration`` and
    ``distance``, money is weighed at ``vehicle``'s rate (the fleet's for ``None``)."""
    per_value = objective_units_per_value(objective)
    if objective == "cost":
        return float(per_value)
    return per_value / _rate(vehicle, fleet, objective)


def _carried_streams(problem: Problem, vehicle: Vehicle, bins: Sequence[Bin]) -> frozenset[str]:
    """The streams the model lets ``vehicle`` collect: those it carries among ``bins``, or, when
    the problem has disposal sites and none accepts them all, the set some site accepts whole
    that holds the most kg of ``bins`` (a load must never hold a stream its tip refuses, and the
    model does not follow which streams are on board, so it keeps one such set per vehicle)."""
    streams = frozenset(b.stream for b in bins if vehicle.carries(b.stream))
    sites = problem.disposal_sites
    if not sites or any(all(s.accepts(t) for t in streams) for s in sites):
        return streams
    kg = {t: sum(b.demand_kg for b in bins if b.stream == t) for t in streams}
    choices = {frozenset(t for t in streams if s.accepts(t)) for s in sites}
    return max(sorted(choices, key=sorted), key=lambda c: (sum(kg[t] for t in c), len(c)))


def _usable_sites(problem: Problem, streams: frozenset[str]) -> tuple[int, ...]:
    """Sites that accept every stream the vehicle may have on board (so any load can go there)."""
    return tuple(k for k, s in enumerate(problem.disposal_sites) if all(s.accepts(t) for t in streams))


def _final_sites(sites: Sequence[DisposalSite], usable: Sequence[int], vehicle: Vehicle) -> tuple[int, ...]:
    """The sites a final tip chooses from: those open all through the shift, else the one open longest in it."""
    always = tuple(k for k in usable
                   if sites[k].opening[0] <= vehicle.shift_start_s and sites[k].opening[1] >= vehicle.shift_end_s)
    if always or not usable:
        return always

    def overlap(k: int) -> float:
        opens, closes = sites[k].opening
        return min(closes, vehicle.shift_end_s) - max(opens, vehicle.shift_start_s)

    best = max(usable, key=overlap)
    return (best,) if overlap(best) >= 0 else ()


# --------------------------------------------------------------------------- the builder


@dataclass
class _Travel:
    """One profile's legs between model nodes: whole seconds (``cap`` where no path), and the float
    seconds and metres the objective uses (``inf`` where no path)."""

    seconds: IntArray
    duration: FloatArray
    distance: FloatArray


def _profile_travel(fleet: FleetMatrices, key: str, locations: npt.NDArray[np.intp], cap: int) -> _Travel:
    m = fleet.profiles[key]
    duration = m.duration_s[np.ix_(locations, locations)]
    distance = m.distance_m[np.ix_(locations, locations)]
    no_path = ~(np.isfinite(duration) & np.isfinite(distance))
    duration = np.where(no_path, np.inf, duration)
    distance = np.where(no_path, np.inf, distance)
    return _Travel(seconds_up(duration, cap=cap), duration, distance)


class _Builder:
    """Builds :class:`ModelData` step by step (one instance per solve)."""

    def __init__(self, problem: Problem, fleet: FleetMatrices, bins: Sequence[Bin], options: SolveOptions) -> None:
        self.problem = problem
        self.fleet = fleet
        self.bins = tuple(bins)
        self.options = options
        self.objective = options.objective
        vehicles = problem.vehicles
        self.origin = min(v.shift_start_s for v in vehicles)
        self.horizon = max(v.shift_end_s for v in vehicles) - self.origin
        self.big = self.horizon + 1
        used = {v.depot_id for v in vehicles}
        self.depot_ids = tuple(d.id for d in problem.depots if d.id in used)
        self.profile_keys = tuple(dict.fromkeys(fleet.vehicle_profile[v.id] for v in vehicles))

    # ---- vehicles

    def _breaks(self, v: Vehicle) -> tuple[tuple[BreakSpec, ...], str | None]:
        specs = []
        for brk in v.breaks:
            opens = max(brk.window[0], v.shift_start_s)
            start_min = int(seconds_up(opens - self.origin))
            start_max = int(seconds_down(brk.window[1] - self.origin))
            if start_min > start_max:
                return (), (f"its break window {brk.window[0]}-{brk.window[1]} s closes before its shift "
                            f"starts at {v.shift_start_s} s")
            specs.append(BreakSpec(start_min, start_max, max(1, int(seconds_up(brk.duration_s))),
                                   int(seconds_down(opens - self.origin))))
        return tuple(specs), None

    def vehicles(self) -> list[VehicleSpec]:
        problem, sites = self.problem, self.problem.disposal_sites
        specs = []
        for v in problem.vehicles:
            streams = _carried_streams(problem, v, self.bins)
            usable = _usable_sites(problem, streams)
            must_tip = bool(sites) and v.tip_before_return
            final = _final_sites(sites, usable, v) if must_tip else ()
            breaks, fault = self._breaks(v)
            if must_tip and not final and fault is None:
                fault = (f"it must tip before returning but no disposal site accepts every stream it may carry "
                         f"({', '.join(sorted(streams))}) during its shift")
            start_t = v.shift_start_s - self.origin
            end_t = v.shift_end_s - self.origin
            end_min_t = start_t
            if len(final) == 1:
                # a single final site: its opening hours, shifted by the unload and the drive home, bound the return
                site = sites[final[0]]
                m = self.fleet.for_vehicle(v.id)
                home = int(seconds_up(m.duration_s[problem.location_index(site.id),
                                                   problem.location_index(v.depot_id)], cap=self.big))
                unload = int(seconds_up(site.unload_s))
                end_min_t = max(start_t, int(seconds_up(site.opening[0] - self.origin)) + unload + home)
                end_t = min(end_t, int(seconds_down(site.opening[1] - self.origin)) + unload + home)
                if end_min_t > end_t and fault is None:
                    fault = (f"its only disposal site {site.id!r} is not open long enough during its shift for "
                             "a tip and the drive home")
            start_node = self.depot_ids.index(v.depot_id)
            specs.append(VehicleSpec(vehicle=v, profile=self.profile_keys.index(self.fleet.vehicle_profile[v.id]),
                                     start_node=start_node, end_node=start_node, start_t=start_t, end_t=end_t,
                                     end_min_t=end_min_t, sites=usable, final_sites=final, breaks=breaks,
                                     streams=streams, fault=fault))
        return specs

    # ---- copies

    def copies(self, specs: Sequence[VehicleSpec], allowed: BoolArray) -> list[Copy]:
        """Unload copies per vehicle and usable site (see :data:`COPIES_BALANCE_FACTOR`).

        A vehicle's share of the loads counts each bin it may take as split evenly among the
        vehicles that may take it; it never gets more copies than it could ever need (all
        the bins it may take, within its daily limit), nor fewer than the site visits of its
        initial route.
        """
        demand = np.array([b.demand_kg for b in self.bins], dtype=np.float64)
        volume = np.array([b.volume_l for b in self.bins], dtype=np.float64)
        sharing = np.maximum(allowed.sum(axis=0), 1)
        initial = self._initial_site_visits()
        copies: list[Copy] = []
        for k, spec in enumerate(specs):
            if spec.fault is not None or not spec.sites:
                continue
            v = spec.vehicle
            mine = allowed[k]
            cap_kg = v.capacity_kg if v.capacity_kg > 0 else math.inf
            cap_l = v.capacity_l if v.capacity_l else math.inf
            loads = max(demand[mine].sum() / cap_kg, volume[mine].sum() / cap_l)
            if v.max_collected_kg is not None:
                loads = min(loads, v.max_collected_kg / cap_kg + 1.0)
            share = max((demand[mine] / sharing[mine]).sum() / cap_kg, (volume[mine] / sharing[mine]).sum() / cap_l)
            final = 1 if spec.final_sites else 0
            need = math.ceil(loads - 1e-9) - final
            balanced = max(1, math.ceil(COPIES_BALANCE_FACTOR * share))
            for site in spec.sites:
                count = max(min(need, balanced, MAX_COPIES_PER_SITE), initial.get((v.id, site), 0))
                copies.extend(Copy(k, site) for _ in range(max(count, 0)))
        return copies

    def _initial_site_visits(self) -> dict[tuple[str, int], int]:
        """Mid-route visits of each site per vehicle in ``options.initial_routes`` (so a warm start fits)."""
        counts: dict[tuple[str, int], int] = {}
        offset = self.problem.site_offset()
        n_sites = len(self.problem.disposal_sites)
        for route in self.options.initial_routes:
            for stop in route.stops:
                try:
                    row = self.problem.location_index(stop)
                except KeyError:
                    continue
                if offset <= row < offset + n_sites:
                    key = (route.vehicle_id, row - offset)
                    counts[key] = counts.get(key, 0) + 1
        return counts


def _window_start(windows: tuple[tuple[int, int], ...], arrival: IntArray) -> IntArray:
    """Start of service (model time) for each arrival at a bin with merged ``windows``; ``-1`` if every
    window has closed. No windows: the arrival."""
    if not windows:
        return arrival
    start = np.full(arrival.shape, -1, dtype=np.int64)
    for lo, hi in reversed(windows):
        fits = arrival <= hi
        start = np.where(fits, np.maximum(arrival, lo), start)
    return start


def build_data(problem: Problem, fleet: FleetMatrices, bins: Sequence[Bin], options: SolveOptions) -> ModelData:
    """The integer model for ``bins`` (in model order); bins no vehicle can serve alone in these
    integers are left out, with a detail, in :attr:`ModelData.dropped`."""
    b = _Builder(problem, fleet, bins, options)
    specs = b.vehicles()
    sites = problem.disposal_sites
    n_depots, n_bins = len(b.depot_ids), len(b.bins)
    # ---- per-bin integer data
    demand_g = grams_up([x.demand_kg for x in b.bins]) if n_bins else np.zeros(0, dtype=np.int64)
    volume_ml = millilitres_up([x.volume_l for x in b.bins]) if n_bins else np.zeros(0, dtype=np.int64)
    service_bins = seconds_up([x.service_s for x in b.bins]) if n_bins else np.zeros(0, dtype=np.int64)
    windows = tuple(_bin_windows(x, b.origin, b.horizon) for x in b.bins)
    # ---- per-vehicle capacities
    cap_g = [int(grams_down(s.vehicle.capacity_kg)) for s in specs]
    any_l = any(s.vehicle.capacity_l is not None for s in specs)
    big_ml = int(volume_ml.sum()) + 1
    cap_ml = [int(millilitres_down(s.vehicle.capacity_l)) if s.vehicle.capacity_l is not None else big_ml
              for s in specs]
    any_lifts = any(s.vehicle.max_lifts is not None for s in specs)
    lifts = [s.vehicle.max_lifts if s.vehicle.max_lifts is not None else n_bins + 1 for s in specs]
    any_daily = any(s.vehicle.max_collected_kg is not None for s in specs)
    big_g = int(demand_g.sum()) + 1
    daily = [int(grams_down(s.vehicle.max_collected_kg)) if s.vehicle.max_collected_kg is not None else big_g
             for s in specs]
    # ---- nodes before copies: depots then bins; site rows for the copies and final tips
    site_rows = np.array([problem.location_index(s.id) for s in sites], dtype=np.intp)
    base_locations = np.array([problem.location_index(d) for d in b.depot_ids]
                              + [problem.location_index(x.id) for x in b.bins], dtype=np.intp)
    # ---- allowed vehicles per bin, alone, in these integers; bins no vehicle can take leave the model
    allowed, unpinned, faults = _allowed(b, specs, base_locations, site_rows, demand_g, volume_ml, service_bins,
                                         windows, cap_g, cap_ml, daily, lifts)
    servable: BoolArray = np.asarray(allowed.any(axis=0), dtype=np.bool_)
    dropped = {x.id: faults[j] for j, x in enumerate(b.bins) if not servable[j]}
    if dropped:
        keep = np.flatnonzero(servable)
        b.bins = tuple(b.bins[j] for j in keep)
        demand_g, volume_ml, service_bins = demand_g[keep], volume_ml[keep], service_bins[keep]
        windows = tuple(windows[j] for j in keep)
        allowed, unpinned = allowed[:, keep], unpinned[:, keep]
        base_locations = np.concatenate([base_locations[:n_depots], base_locations[n_depots + keep]])
        n_bins = len(b.bins)
    # ---- visit nodes: one per bin, or one per window of a bin with several
    visit_bin = np.array([j for j, w in enumerate(windows) for _ in range(max(1, len(w)))], dtype=np.int64)
    visit_window = tuple(win for w in windows for win in (w if w else (None,)))
    bin_visits: list[list[int]] = [[] for _ in range(n_bins)]
    for k, j in enumerate(visit_bin):
        bin_visits[int(j)].append(n_depots + k)
    n_visits = len(visit_bin)
    base_locations = np.concatenate([base_locations[:n_depots], base_locations[n_depots:][visit_bin]])
    demand_v, volume_v, service_v = demand_g[visit_bin], volume_ml[visit_bin], service_bins[visit_bin]
    copies = b.copies(specs, allowed)
    n_copies = len(copies)
    ends = [k for k, s in enumerate(specs) if s.final_sites]
    end_node_of = {k: n_depots + n_visits + n_copies + i for i, k in enumerate(ends)}
    locations = np.concatenate([
        base_locations,
        np.array([site_rows[c.site] for c in copies], dtype=np.intp),
        np.array([problem.location_index(specs[k].vehicle.depot_id) for k in ends], dtype=np.intp),
    ]).astype(np.intp)
    n_nodes = len(locations)
    copy_nodes = np.arange(n_depots + n_visits, n_depots + n_visits + n_copies)
    end_nodes = np.array([end_node_of[k] for k in ends], dtype=np.intp)
    unload = [int(seconds_up(s.unload_s)) for s in sites]
    service = np.concatenate([np.zeros(n_depots, dtype=np.int64), service_v,
                              np.array([unload[c.site] for c in copies], dtype=np.int64),
                              np.zeros(len(ends), dtype=np.int64)])
    # ---- vehicles with their end nodes and end bounds
    final_specs = [replace(s, end_node=end_node_of.get(k, s.start_node)) for k, s in enumerate(specs)]
    # ---- per-profile transit matrices and the final-tip detours
    transits: list[IntArray] = []
    choices: list[dict[int, IntArray]] = []
    durations: list[FloatArray] = []
    distances: list[FloatArray] = []
    for key in b.profile_keys:
        travel = _profile_travel(b.fleet, key, locations, b.big)
        choice: dict[int, IntArray] = {}
        for k in ends:
            spec = final_specs[k]
            node = spec.end_node
            depot_row = problem.location_index(spec.vehicle.depot_id)
            secs, dur, dist, pick = _detour_home(b, key, locations, site_rows, spec.final_sites, unload, depot_row)
            travel.seconds[:, node] = secs
            travel.duration[:, node] = dur
            travel.distance[:, node] = dist
            choice[node] = pick
        for k in ends:  # a route ending with a mid-route tip drives home empty: no second tip
            node = final_specs[k].end_node
            depot_row = problem.location_index(final_specs[k].vehicle.depot_id)
            rows = locations[copy_nodes]
            travel.seconds[copy_nodes, node] = seconds_up(b.fleet.profiles[key].duration_s[rows, depot_row], cap=b.big)
            travel.duration[copy_nodes, node] = b.fleet.profiles[key].duration_s[rows, depot_row]
            travel.distance[copy_nodes, node] = b.fleet.profiles[key].distance_m[rows, depot_row]
            choice[node][copy_nodes] = -1
        transit = np.minimum(service[:, None] + travel.seconds, b.big)
        _forbid(transit, n_depots, copy_nodes, end_nodes, b.big)
        np.fill_diagonal(transit, 0)
        for k in ends:  # an empty route goes straight from the depot to the end node
            transit[final_specs[k].start_node, final_specs[k].end_node] = 0
        transits.append(transit.astype(np.int64))
        choices.append(choice)
        durations.append(travel.duration)
        distances.append(travel.distance)
    # ---- objective: arc costs per cost class, fixed and slack costs per vehicle, penalties
    # arcs into bins a vehicle may never take (pins aside: few, and per vehicle) cost what a drop does, so
    # that OR-Tools tries compatible bins first and keeps them as each other's neighbours
    barred = [frozenset() if spec.fault is not None
              else frozenset((n_depots + np.flatnonzero(~unpinned[k][visit_bin])).tolist())
              for k, spec in enumerate(final_specs)]
    arc_costs, cost_class, fixed = _objective(b, final_specs, service, transits, durations, distances, barred)
    max_arc = max((int(c[c < INT64_SAFE_MAX].max(initial=0)) for c in arc_costs), default=0)
    per_money = units_per_money(b.objective, None, problem.vehicles)
    optional_pen = [int(objective_units(x.penalty or 0.0, units_per_value=per_money, cap=INT64_SAFE_MAX // 8))
                    if not x.required else 0 for x in b.bins]
    move_units = int(objective_units(options.move_penalty, units_per_value=per_money, cap=INT64_SAFE_MAX // 8))
    plan_bound = (n_nodes + len(specs)) * max_arc + sum(fixed) + sum(optional_pen) + move_units * n_bins + 1
    required_pen = max(plan_bound, 1)
    if required_pen * max(n_bins, 1) > INT64_SAFE_MAX:
        required_pen = INT64_SAFE_MAX // max(n_bins, 1)
    penalty = tuple(optional_pen[i] if not x.required else required_pen for i, x in enumerate(b.bins))
    for c in arc_costs:  # forbidden arcs cost what a dropped bin does: never worth it
        c[c >= INT64_SAFE_MAX] = required_pen
    # ---- loads per node
    big_g_reset = max([*cap_g, 0]) + 1
    demand_nodes = np.concatenate([np.zeros(n_depots, dtype=np.int64), demand_v,
                                   np.full(n_copies, -big_g_reset, dtype=np.int64),
                                   np.zeros(len(ends), dtype=np.int64)])
    volume_nodes = None
    if any_l:
        big_ml_reset = max(cap_ml) + 1
        volume_nodes = np.concatenate([np.zeros(n_depots, dtype=np.int64), volume_v,
                                       np.full(n_copies, -big_ml_reset, dtype=np.int64),
                                       np.zeros(len(ends), dtype=np.int64)])
    collected = None
    if any_daily:
        collected = np.concatenate([np.zeros(n_depots, dtype=np.int64), demand_v,
                                    np.zeros(n_copies + len(ends), dtype=np.int64)])
    copy_windows = []
    for cp in copies:
        opens, closes = sites[cp.site].opening
        copy_windows.append((max(0, int(seconds_up(opens - b.origin))),
                             min(b.horizon, int(seconds_down(closes - b.origin)))))
    allowed_lists = tuple(tuple(int(k) for k in np.flatnonzero(allowed[:, j])) for j in range(n_bins))
    return ModelData(
        problem=problem, origin_s=b.origin, horizon=b.horizon, n_depots=n_depots, bins=b.bins,
        copies=tuple(copies), end_nodes=tuple(int(n) for n in end_nodes), vehicles=tuple(final_specs),
        profiles=b.profile_keys, locations=locations.astype(np.int64), service=service, transit=tuple(transits),
        final_choice=tuple(choices), arc_costs=tuple(arc_costs), cost_class=tuple(cost_class),
        fixed_cost=tuple(fixed), demand_g=demand_nodes, capacity_g=tuple(cap_g),
        volume_ml=volume_nodes, capacity_ml=tuple(cap_ml) if any_l else None,
        max_lifts=tuple(lifts) if any_lifts else None, collected_g=collected,
        max_collected_g=tuple(daily) if any_daily else None, visit_bin=visit_bin, visit_window=visit_window,
        bin_visits=tuple(tuple(v) for v in bin_visits), copy_windows=tuple(copy_windows),
        allowed=allowed_lists, penalty=penalty, unit_per_money=per_money, dropped=dropped)


def _detour_home(b: _Builder, key: str, locations: npt.NDArray[np.intp], site_rows: npt.NDArray[np.intp],
                 final_sites: Sequence[int], unload: Sequence[int], depot_row: int
                 ) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """From every node: the quickest drive to one of ``final_sites``, unload and drive home, as
    (whole seconds, float seconds, metres, chosen site); ``cap`` / ``inf`` where none has a path."""
    m = b.fleet.profiles[key]
    n = len(locations)
    best_s = np.full(n, b.big, dtype=np.int64)
    best_dur = np.full(n, np.inf)
    best_dist = np.full(n, np.inf)
    pick = np.full(n, -1, dtype=np.int64)
    for s_index in final_sites:
        row = site_rows[s_index]
        out_dur, out_dist = m.duration_s[locations, row], m.distance_m[locations, row]
        home_dur, home_dist = float(m.duration_s[row, depot_row]), float(m.distance_m[row, depot_row])
        ok = np.isfinite(out_dur) & np.isfinite(out_dist) & math.isfinite(home_dur) & math.isfinite(home_dist)
        secs = np.where(ok, seconds_up(out_dur, cap=b.big) + unload[s_index] + int(seconds_up(home_dur, cap=b.big)),
                        b.big)
        better = secs < best_s
        best_s = np.where(better, secs, best_s)
        best_dur = np.where(better, out_dur + unload[s_index] + home_dur, best_dur)
        best_dist = np.where(better, out_dist + home_dist, best_dist)
        pick = np.where(better, s_index, pick)
    return np.minimum(best_s, b.big), best_dur, best_dist, pick


def _forbid(transit: IntArray, n_depots: int, copy_nodes: IntArray, end_nodes: IntArray, big: int) -> None:
    """Arcs no sensible route drives: depot -> copy, copy -> copy, end node -> anything."""
    if len(copy_nodes):
        transit[:n_depots, copy_nodes[0]:copy_nodes[-1] + 1] = big
        transit[copy_nodes[0]:copy_nodes[-1] + 1, copy_nodes[0]:copy_nodes[-1] + 1] = big
    if len(end_nodes):
        transit[end_nodes, :] = big


def _objective(b: _Builder, specs: Sequence[VehicleSpec], service: IntArray, transits: Sequence[IntArray],
               durations: Sequence[FloatArray], distances: Sequence[FloatArray], barred: Sequence[frozenset[int]]
               ) -> tuple[list[IntArray], list[int], list[int]]:
    """Arc cost matrices (one per cost class: access profile, rates under ``cost``, and the set of
    nodes ``barred`` to the vehicle), each vehicle's class, and fixed costs.

    ``duration``: service + travel seconds of each arc; ``distance``: metres; ``cost``:
    per-km money on metres and per-hour money on service and travel. Waiting and breaks
    are not priced: a cost on the time dimension's slack or span makes OR-Tools check
    every move with a linear program once there are time windows (with breaks, a MIP),
    and in 40 s at 1,000 bins the search then ended with longer routes than without it
    (measured: 236,787 s against 234,188 s of total duration). Forbidden arcs are marked
    with :data:`INT64_SAFE_MAX` (the caller prices them).
    """
    objective = b.objective
    per_value = objective_units_per_value(objective)
    fleet = b.problem.vehicles
    service_f = service.astype(np.float64)
    classes: dict[tuple[int, float, float, frozenset[int]], int] = {}
    matrices: list[IntArray] = []
    cost_class: list[int] = []
    fixed: list[int] = []
    n_terms = len(service) + len(specs) + 2
    cap = INT64_SAFE_MAX // (8 * n_terms * n_terms)
    for spec in specs:
        v = spec.vehicle
        rates = (v.cost_per_km, v.cost_per_hour) if objective == "cost" else (0.0, 0.0)
        key = (spec.profile, *rates, barred[len(cost_class)])
        if key not in classes:
            p = spec.profile
            forbidden = transits[p] > b.horizon
            if objective == "duration":
                values = service_f[:, None] + durations[p]
            elif objective == "distance":
                values = distances[p].copy()
            else:
                values = (v.cost_per_km * distances[p] / METRES_PER_KM
                          + v.cost_per_hour * (service_f[:, None] + durations[p]) / SECONDS_PER_HOUR)
            values = np.where(forbidden | ~np.isfinite(values), 0.0, values)
            np.fill_diagonal(values, 0.0)
            units = objective_units(values, units_per_value=per_value, cap=cap)
            units[forbidden] = INT64_SAFE_MAX
            units[:, sorted(key[3])] = INT64_SAFE_MAX
            np.fill_diagonal(units, 0)
            classes[key] = len(matrices)
            matrices.append(units)
        cost_class.append(classes[key])
        fixed.append(int(objective_units(v.fixed_cost, units_per_value=units_per_money(objective, v, fleet),
                                         cap=cap)))
    return matrices, cost_class, fixed


def _allowed(b: _Builder, specs: Sequence[VehicleSpec], locations: npt.NDArray[np.intp],
             site_rows: npt.NDArray[np.intp], demand_g: IntArray, volume_ml: IntArray, service: IntArray,
             windows: Sequence[tuple[tuple[int, int], ...]], cap_g: Sequence[int], cap_ml: Sequence[int],
             daily_g: Sequence[int], lifts: Sequence[int]) -> tuple[BoolArray, BoolArray, list[str]]:
    """Vehicle-by-bin: whether the vehicle could serve the bin alone in the model's integers (stream,
    pin, size, capacity, daily limits, reaching a window, the tip and the breaks it needs, the return
    within its shift); the same but for pins; and for each bin the faults in words, for bins no
    vehicle can take."""
    problem, bins = b.problem, b.bins
    n_v, n_b = len(specs), len(bins)
    n_depots = len(b.depot_ids)
    ok = np.zeros((n_v, n_b), dtype=np.bool_)
    unpinned = np.zeros((n_v, n_b), dtype=np.bool_)
    notes: list[list[str]] = [[] for _ in range(n_b)]
    unload = [int(seconds_up(s.unload_s)) for s in problem.disposal_sites]
    bin_cols = np.arange(n_depots, n_depots + n_b)
    for k, spec in enumerate(specs):
        v = spec.vehicle
        if spec.fault is not None:
            for j in range(n_b):
                notes[j].append(f"{v.id!r}: {spec.fault}")
            continue
        key = b.fleet.vehicle_profile[v.id]
        m = b.fleet.profiles[key]
        depot_row = problem.location_index(v.depot_id)
        rows = locations[bin_cols]
        kind = np.array([x.stream in spec.streams and vehicle_too_big(v, x) is None for x in bins], dtype=np.bool_)
        pin = np.array([x.vehicle_id is None or x.vehicle_id == v.id for x in bins], dtype=np.bool_)
        fact = kind & pin
        fits = (demand_g <= cap_g[k]) & (volume_ml <= cap_ml[k]) & (demand_g <= daily_g[k]) & (lifts[k] >= 1)
        arrival = spec.start_t + seconds_up(m.duration_s[depot_row, rows], cap=b.big)
        start = np.full(n_b, -1, dtype=np.int64)
        for j in range(n_b):
            start[j] = _window_start(windows[j], arrival[j:j + 1])[0] if windows[j] else arrival[j]
        reach = (arrival <= b.horizon) & (start >= 0)
        leave = np.where(reach, start + service, b.big)
        if spec.final_sites:
            back = np.full(n_b, b.big, dtype=np.int64)
            for s_index in spec.final_sites:
                srow = site_rows[s_index]
                to_site = leave + seconds_up(m.duration_s[rows, srow], cap=b.big)
                opens, closes = problem.disposal_sites[s_index].opening
                begin = np.maximum(to_site, int(seconds_up(opens - b.origin)))
                home = begin + unload[s_index] + int(seconds_up(m.duration_s[srow, depot_row], cap=b.big))
                home = np.where(begin <= int(seconds_down(closes - b.origin)), home, b.big)
                back = np.minimum(back, home)
        else:
            back = leave + seconds_up(m.duration_s[rows, depot_row], cap=b.big)
        for brk in spec.breaks:
            back = np.where(back > brk.due_after, back + brk.duration, back)
        in_time = reach & (back <= spec.end_t)
        ok[k] = fact & fits & in_time
        unpinned[k] = kind & fits & in_time
        for col in np.flatnonzero(~ok[k]):
            why = ("stream, pin or size" if not fact[col] else "capacity or daily limit" if not fits[col]
                   else "no window reachable" if not reach[col] else "shift too short")
            notes[int(col)].append(f"{v.id!r}: {why}")
    faults = [("no vehicle can serve it alone once loads are rounded up to whole grams and times to whole "
               "seconds: " + "; ".join(n)) for n in notes]
    return ok, unpinned, faults


def reserve_breaks(data: ModelData) -> ModelData:
    """``data`` with room kept for every break instead of modelling it: each vehicle's return is
    earlier by the breaks that can fall due in its shift, and every window or opening that closes
    after a break window opens closes earlier by those breaks (a bin's by the most any vehicle
    takes, never before it opens), so that inserting the breaks afterwards, each right after the
    first stop that leaves once its window is open, delays nothing past a limit."""
    specs = [s for s in data.vehicles if s.breaks and s.fault is None]
    if not specs:
        return data

    def taken_before(spec: VehicleSpec, closes: int) -> int:
        return sum(b.duration for b in spec.breaks if b.start_min < closes)

    def squeezed(window: tuple[int, int], by: int) -> tuple[int, int]:
        return window[0], max(window[0], window[1] - by)

    vehicles = tuple(
        replace(s, end_t=max(s.start_t, s.end_t - taken_before(s, s.end_t))) if s in specs else s
        for s in data.vehicles)
    visit_window = tuple(None if w is None else squeezed(w, max(taken_before(s, w[1]) for s in specs))
                         for w in data.visit_window)
    copy_windows = tuple(squeezed(w, taken_before(data.vehicles[c.vehicle], w[1]))
                         if data.vehicles[c.vehicle].breaks else w
                         for w, c in zip(data.copy_windows, data.copies, strict=True))
    return replace(data, vehicles=vehicles, visit_window=visit_window, copy_windows=copy_windows)
