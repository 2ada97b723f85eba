"""Why a bin is not served: checked facts, never guesses.

Two moments need a reason (``docs/rules.md``, *Reasons for an unserved bin*):

- before solving, :func:`screen_bins` rules out the bins that no vehicle could take
  even on a route of their own;
- after solving, :func:`explain_dropped` takes the bins an engine left out, tries
  to insert each one (cheapest feasible position in any route, with a tip added
  where that makes it fit, or a route of its own on an unused vehicle) and keeps it
  if it fits (an optional bin only when that costs less than its penalty), so that
  no servable bin is dropped silently; otherwise it gives the reason found by
  checking every position.

Feasibility here means what :func:`solver.evaluate.evaluate` accepts: a route is
feasible when the evaluator reports no violation on it, with the same tolerances,
and every route a repair keeps has been confirmed by the evaluator. Each vehicle is
checked on its own matrices (:class:`~solver.matrix.FleetMatrices`). Units: kg,
litres, seconds, metres; costs in money as in :func:`solver.evaluate.route_cost`.

**A bin alone** (the facts :func:`screen_bins` checks, per vehicle): it carries the
bin's stream; the bin is not pinned to another vehicle; the vehicle is not too big
for it; when the vehicle must tip before returning (disposal sites in the problem,
``tip_before_return``, a bin with a load), some site accepts the stream; there is a
path depot -> bin -> depot (through such a site when it must tip); the bin's kg and
litres fit the body, one lift and its kg fit the daily limits; with time windows,
the vehicle can reach it before some window closes and start it within its shift;
and one of the short routes ``[bin]``, ``[bin, site]`` (each site), with the
vehicle's breaks at every possible place (or not taken), is violation-free.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.evaluate import (
    METRES_PER_KM,
    SECONDS_PER_HOUR,
    AnyMatrices,
    as_fleet,
    check_matrices,
    clock,
    evaluate_route,
    find_bin,
    initial_vehicles,
    route_vehicles,
    vehicle_too_big,
)
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, Bin, DisposalSite, Problem, ProblemError, SolveOptions, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import Plan, RouteEvaluation, RoutePlan, Unassigned, Visit

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

BIN_TOKEN = "\x00bin"
"""Stands for the bin in the solo sequences of :func:`solo_sequences`."""

CONFIRMED_CANDIDATES = 5
"""Feasible insertions confirmed by the evaluator before the cheapest of them is kept."""


def resolve_bins(problem: Problem, bin_ids: Iterable[str], *, field: str = "bin_ids") -> list[Bin]:
    """The bins named by ``bin_ids``, in order; ``ProblemError`` for an unknown or repeated id."""
    resolved: list[Bin] = []
    seen: set[str] = set()
    for i, bin_id in enumerate(bin_ids):
        b = find_bin(problem, bin_id)
        if b is None:
            raise ProblemError(f"{field}[{i}] names unknown bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        if bin_id in seen:
            raise ProblemError(f"{field}[{i}] repeats bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        seen.add(bin_id)
        resolved.append(b)
    return resolved


def has_load(b: Bin) -> bool:
    """Whether collecting ``b`` puts anything on board (kg or litres)."""
    return b.demand_kg > LOAD_TOLERANCE_KG or b.volume_l > LOAD_TOLERANCE_KG


def must_tip(problem: Problem, vehicle: Vehicle) -> bool:
    """Whether ``vehicle`` must come back empty (disposal sites exist and it tips before returning)."""
    return bool(problem.disposal_sites) and vehicle.tip_before_return


def solo_sequences(problem: Problem, vehicle: Vehicle) -> tuple[tuple[str, ...], ...]:
    """The short routes a bin alone may take on ``vehicle``: ``[bin]`` and ``[bin, site]`` for each
    site, with the first ``t`` breaks (any ``t``) placed in every possible order-keeping way.
    The bin is :data:`BIN_TOKEN`."""
    physical: list[tuple[str, ...]] = [(BIN_TOKEN,)]
    physical += [(BIN_TOKEN, s.id) for s in problem.disposal_sites]
    sequences = []
    for stops in physical:
        gaps = len(stops) + 1
        for taken in range(len(vehicle.breaks) + 1):
            for placement in itertools.combinations_with_replacement(range(gaps), taken):
                seq: list[str] = []
                for gap in range(gaps):
                    seq.extend([BREAK_STOP] * placement.count(gap))
                    if gap < len(stops):
                        seq.append(stops[gap])
                sequences.append(tuple(seq))
    return tuple(sequences)


# --------------------------------------------------------------------------- windows, vectorised


@dataclass(frozen=True)
class _Windows:
    """Time windows of bins as padded arrays ``(n, k)``: a bin without windows has one that is
    always open, padding windows are never open."""

    opens: FloatArray
    closes: FloatArray
    has_windows: BoolArray

    @classmethod
    def of(cls, bins: Sequence[Bin]) -> _Windows:
        k = max([1, *(len(b.time_windows) for b in bins)])
        opens = np.full((len(bins), k), np.inf)
        closes = np.full((len(bins), k), -np.inf)
        for i, b in enumerate(bins):
            if not b.time_windows:
                opens[i, 0], closes[i, 0] = -np.inf, np.inf
            for j, (a, z) in enumerate(b.time_windows):
                opens[i, j], closes[i, j] = a, z
        return cls(opens=opens, closes=closes,
                   has_windows=np.array([bool(b.time_windows) for b in bins], dtype=np.bool_))

    def start(self, arrival: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Collection start for each arrival (rows broadcast against the windows) and lateness,
        as :func:`solver.evaluate.window_start`."""
        open_ = arrival[:, None] <= self.closes + TIME_TOLERANCE_S
        candidates = np.where(open_, np.maximum(arrival[:, None], self.opens), np.inf)
        late: BoolArray = np.asarray(~open_.any(axis=1), dtype=np.bool_)
        start: FloatArray = np.where(late, arrival, candidates.min(axis=1))
        return start, late


# --------------------------------------------------------------------------- a bin alone


@dataclass(frozen=True)
class SoloCheck:
    """Whether each vehicle (row) could serve each bin (column) on a route of its own, fact by fact.

    ``stream_ok``, ``pin_ok``, ``size_ok``, ``site_ok`` (some site accepts its stream when the
    vehicle must tip), ``path_ok`` (depot -> bin -> depot, through such a site when it must tip),
    ``capacity_ok`` (kg, litres, one lift, daily kg), ``window_ok`` (reachable before a window
    closes, starting within the shift), ``fits`` (some solo sequence is violation-free).
    ``arrival_s`` is the earliest arrival; ``round_trip_s`` the shortest solo sequence without
    any fault but an overrun, from shift start to the return (``inf`` if none).
    """

    stream_ok: BoolArray
    pin_ok: BoolArray
    size_ok: BoolArray
    site_ok: BoolArray
    path_ok: BoolArray
    capacity_ok: BoolArray
    window_ok: BoolArray
    fits: BoolArray
    arrival_s: FloatArray
    round_trip_s: FloatArray

    @property
    def compatible(self) -> BoolArray:
        """Vehicle-by-bin: stream, pin, size, site and path facts hold."""
        return self.stream_ok & self.pin_ok & self.size_ok & self.site_ok & self.path_ok

    @property
    def servable(self) -> BoolArray:
        """Vehicle-by-bin: every single-bin check passes."""
        return self.compatible & self.capacity_ok & self.window_ok & self.fits


def _solo_sequence_times(problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, seq: tuple[str, ...],
                         columns: IntArray, windows: _Windows, service: FloatArray) -> tuple[BoolArray, FloatArray]:
    """Drive ``seq`` for each bin column: (no fault but possibly an overrun, return time)."""
    duration = matrices.duration_s
    distance = matrices.distance_m
    depot = problem.location_index(vehicle.depot_id)
    t = np.full(len(columns), float(vehicle.shift_start_s))
    ok = np.ones(len(columns), dtype=np.bool_)
    at: int | IntArray = depot
    taken = 0
    with np.errstate(invalid="ignore"):
        for token in seq:
            if token == BREAK_STOP:
                brk = vehicle.breaks[taken]
                taken += 1
                start = np.maximum(t, brk.window[0])
                ok &= start <= brk.window[1] + TIME_TOLERANCE_S
                t = start + brk.duration_s
                continue
            index: int | IntArray = columns if token == BIN_TOKEN else problem.location_index(token)
            leg = duration[at, index] + 0.0 * distance[at, index]  # inf where either has no path
            arrival = t + leg
            if token == BIN_TOKEN:
                start, late = windows.start(arrival)
                ok &= ~late
                t = start + service
            else:
                site = problem.site(token)
                start = np.maximum(arrival, site.opening[0])
                ok &= start <= site.opening[1] + TIME_TOLERANCE_S
                t = start + site.unload_s
            at = index
        back = t + duration[at, depot] + 0.0 * distance[at, depot]
    for brk in vehicle.breaks[taken:]:
        ok &= back <= brk.window[0] + TIME_TOLERANCE_S
    return ok & np.isfinite(back), back


def solo_check(problem: Problem, matrices: AnyMatrices, bins: Sequence[Bin]) -> SoloCheck:
    """Check every vehicle against every bin of ``bins`` alone (vectorised per vehicle)."""
    fleet = as_fleet(problem, matrices)
    n_v, n_b = len(problem.vehicles), len(bins)
    columns = np.array([problem.location_index(b.id) for b in bins], dtype=np.intp)
    demand = np.array([b.demand_kg for b in bins], dtype=np.float64)
    volume = np.array([b.volume_l for b in bins], dtype=np.float64)
    service = np.array([b.service_s for b in bins], dtype=np.float64)
    loaded = np.array([has_load(b) for b in bins], dtype=np.bool_)
    windows = _Windows.of(bins)
    sites = problem.disposal_sites
    site_rows = np.array([problem.location_index(s.id) for s in sites], dtype=np.intp)
    accepts = np.array([[s.accepts(b.stream) for b in bins] for s in sites], dtype=np.bool_).reshape(len(sites), n_b)
    shape = (n_v, n_b)
    facts = {name: np.zeros(shape, dtype=np.bool_) for name in
             ("stream_ok", "pin_ok", "size_ok", "site_ok", "path_ok", "capacity_ok", "window_ok", "fits")}
    arrival_s = np.full(shape, np.inf)
    round_trip_s = np.full(shape, np.inf)
    sequences_of: dict[tuple[int, ...], tuple[tuple[str, ...], ...]] = {}
    for r, v in enumerate(problem.vehicles):
        m = fleet.for_vehicle(v.id)
        depot = problem.location_index(v.depot_id)
        facts["stream_ok"][r] = [v.carries(b.stream) for b in bins]
        facts["pin_ok"][r] = [b.vehicle_id is None or b.vehicle_id == v.id for b in bins]
        facts["size_ok"][r] = [vehicle_too_big(v, b) is None for b in bins]
        tips = loaded & must_tip(problem, v)
        facts["site_ok"][r] = ~tips | accepts.any(axis=0)
        with np.errstate(invalid="ignore"):
            out = np.isfinite(m.duration_s[depot, columns] + m.distance_m[depot, columns])
            back = np.isfinite(m.duration_s[columns, depot] + m.distance_m[columns, depot])
            if len(sites):
                via = (np.isfinite(m.duration_s[np.ix_(columns, site_rows)] + m.distance_m[np.ix_(columns, site_rows)])
                       & np.isfinite(m.duration_s[site_rows, depot] + m.distance_m[site_rows, depot])[None, :]
                       & accepts.T).any(axis=1)
            else:
                via = np.zeros(n_b, dtype=np.bool_)
        facts["path_ok"][r] = out & np.where(tips, via, back)
        capacity_ok = demand <= v.capacity_kg + LOAD_TOLERANCE_KG
        if v.capacity_l is not None:
            capacity_ok &= volume <= v.capacity_l + LOAD_TOLERANCE_KG
        if v.max_lifts is not None and v.max_lifts < 1:
            capacity_ok &= False
        if v.max_collected_kg is not None:
            capacity_ok &= demand <= v.max_collected_kg + LOAD_TOLERANCE_KG
        facts["capacity_ok"][r] = capacity_ok
        first = v.shift_start_s + m.duration_s[depot, columns]
        arrival_s[r] = first
        reachable = ((first[:, None] <= windows.closes + TIME_TOLERANCE_S)
                     & (np.maximum(first[:, None], windows.opens) <= v.shift_end_s + TIME_TOLERANCE_S)).any(axis=1)
        facts["window_ok"][r] = ~windows.has_windows | reachable
        key = (len(v.breaks),)
        sequences = sequences_of.setdefault(key, solo_sequences(problem, v))
        fits = np.zeros(n_b, dtype=np.bool_)
        best = np.full(n_b, np.inf)
        for seq in sequences:
            ok, back_s = _solo_sequence_times(problem, m, v, seq, columns, windows, service)
            site_ids = [t for t in seq if t not in (BIN_TOKEN, BREAK_STOP)]
            allowed = accepts[sites.index(problem.site(site_ids[0]))] if site_ids else ~tips
            ok &= allowed
            best = np.where(ok, np.minimum(best, back_s), best)
            fits |= ok & (back_s <= v.shift_end_s + TIME_TOLERANCE_S)
        facts["fits"][r] = fits
        round_trip_s[r] = best - v.shift_start_s
    return SoloCheck(arrival_s=arrival_s, round_trip_s=round_trip_s, **facts)


def _first_fault(problem: Problem, b: Bin, v: Vehicle, check: SoloCheck, r: int, c: int) -> str | None:
    """The first fact that fails for vehicle row ``r`` and bin column ``c``, in words (``None``: none)."""
    if not check.stream_ok[r, c]:
        return f"{v.id!r} does not carry {b.stream!r}"
    if not check.pin_ok[r, c]:
        return f"{v.id!r} is not {b.vehicle_id!r}, the vehicle the bin is pinned to"
    if not check.size_ok[r, c]:
        return str(vehicle_too_big(v, b))
    if not check.site_ok[r, c]:
        return f"{v.id!r} must tip before returning and no disposal site accepts {b.stream!r}"
    if not check.path_ok[r, c]:
        via = " through a disposal site" if has_load(b) and must_tip(problem, v) else ""
        return f"{v.id!r} has no path from depot {v.depot_id!r} to the bin and back{via}"
    if not check.capacity_ok[r, c]:
        return _capacity_fault(b, v)
    if not check.window_ok[r, c]:
        return (f"{v.id!r} arrives at {clock(check.arrival_s[r, c])} at the earliest, too late for the windows "
                f"{_windows_text(b)} within its shift (ends {clock(v.shift_end_s)})")
    if not check.fits[r, c]:
        return _shift_fault(v, check.round_trip_s[r, c])
    return None


def _capacity_fault(b: Bin, v: Vehicle) -> str:
    if b.demand_kg > v.capacity_kg + LOAD_TOLERANCE_KG:
        return f"{v.id!r} carries {v.capacity_kg:g} kg < {b.demand_kg:g} kg"
    if v.capacity_l is not None and b.volume_l > v.capacity_l + LOAD_TOLERANCE_KG:
        return f"{v.id!r} holds {v.capacity_l:g} l < {b.volume_l:g} l"
    if v.max_lifts is not None and v.max_lifts < 1:
        return f"{v.id!r} allows {v.max_lifts} lifts"
    return f"{v.id!r} may collect {v.max_collected_kg:g} kg a day < {b.demand_kg:g} kg"


def _shift_fault(v: Vehicle, round_trip_s: float) -> str:
    shift = v.shift_end_s - v.shift_start_s
    if math.isfinite(round_trip_s):
        return f"{v.id!r} needs {round_trip_s:g} s from the start of its shift, shift {shift} s"
    return (f"{v.id!r} cannot keep its tip within the site's opening hours and its break within its window "
            "on any round trip")


def _windows_text(b: Bin) -> str:
    return ", ".join(f"{clock(a)}-{clock(z)}" for a, z in b.time_windows)


def _solo_reason(problem: Problem, b: Bin, check: SoloCheck, c: int) -> Unassigned:
    """The checked reason why no vehicle can serve bin ``b`` (column ``c`` of ``check``) alone."""
    vehicles = problem.vehicles
    faults = [_first_fault(problem, b, v, check, r, c) for r, v in enumerate(vehicles)]
    compatible = [r for r in range(len(vehicles)) if check.compatible[r, c]]
    if compatible:
        cap = [r for r in compatible if not check.capacity_ok[r, c]]
        if len(cap) == len(compatible):
            return Unassigned(b.id, "capacity", f"demand {b.demand_kg:g} kg, {b.volume_l:g} l exceeds what every "
                              "compatible vehicle can take: " + "; ".join(_capacity_fault(b, vehicles[r]) for r in cap))
        if not any(check.window_ok[r, c] for r in compatible):
            earliest = min(compatible, key=lambda r: float(check.arrival_s[r, c]))
            return Unassigned(b.id, "time_window", f"no compatible vehicle can start it within its windows "
                              f"{_windows_text(b)} and its shift: earliest arrival "
                              f"{clock(check.arrival_s[earliest, c])} ({vehicles[earliest].id!r})")
        if not any(check.window_ok[r, c] and check.fits[r, c] for r in compatible):
            timed = [r for r in compatible if check.window_ok[r, c]]
            best = min(timed, key=lambda r: float(check.round_trip_s[r, c]))
            longest = max((vehicles[r] for r in compatible), key=lambda v: v.shift_end_s - v.shift_start_s)
            trip = float(check.round_trip_s[best, c])
            what = (f"the shortest round trip with service, tip and break takes {trip:g} s "
                    f"({vehicles[best].id!r})" if math.isfinite(trip) else
                    "no round trip keeps the tip within opening hours and the break within its window")
            return Unassigned(b.id, "shift_too_short", f"{what}, not within any compatible vehicle's shift "
                              f"(longest {longest.shift_end_s - longest.shift_start_s} s, {longest.id!r}); "
                              + "; ".join(str(faults[r]) for r in compatible))
    return Unassigned(b.id, "no_compatible_vehicle",
                      "no vehicle can serve it even alone: " + "; ".join(str(f) for f in faults))


def screen_bins(problem: Problem, matrices: AnyMatrices,
                bin_ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[Unassigned, ...]]:
    """Split ``bin_ids`` into bins some vehicle could serve alone and the rest, with reasons.

    Each bin is checked against each vehicle alone on that vehicle's own matrices (see the
    module docstring for the facts). The reason of a bin no vehicle can serve is the first
    that holds, in the order of ``docs/rules.md``: ``capacity`` when every compatible vehicle
    (carries its stream, not pinned elsewhere, small enough, a site for its stream, a path
    there and back) is too small for it; ``time_window`` when no compatible vehicle can reach
    it within a window during its shift; ``shift_too_short`` when every compatible vehicle
    fails on time (a window or the round trip with its tip and break); otherwise
    ``no_compatible_vehicle``, whose detail names each vehicle's first fault. Returns
    ``(servable_ids, unassigned)``, both in input order. ``ProblemError`` for an unknown or
    repeated id.
    """
    fleet = as_fleet(problem, matrices)
    check_matrices(problem, fleet)
    bins = resolve_bins(problem, bin_ids)
    if not bins:
        return (), ()
    check = solo_check(problem, fleet, bins)
    servable: BoolArray = np.asarray(check.servable.any(axis=0), dtype=np.bool_)
    kept = tuple(b.id for b, ok in zip(bins, servable, strict=True) if ok)
    ruled_out = tuple(_solo_reason(problem, b, check, c) for c, b in enumerate(bins) if not servable[c])
    return kept, ruled_out


# --------------------------------------------------------------------------- insertion into a route


@dataclass
class _Tally:
    """Why the plain insertions of a bin failed, counted over every position tried, with margins."""

    positions: int = 0
    locked: int = 0
    no_path: int = 0
    overload: int = 0
    most_spare: tuple[float, str] | None = None
    refused: int = 0
    untipped: int = 0
    late: int = 0
    late_later: int = 0
    least_late_s: tuple[float, str] | None = None
    limits: int = 0
    limit_detail: str = ""

    def spare(self, spare_kg: float, vehicle_id: str) -> None:
        if self.most_spare is None or spare_kg > self.most_spare[0]:
            self.most_spare = (spare_kg, vehicle_id)

    def lateness(self, excess_s: float, vehicle_id: str) -> None:
        if self.least_late_s is None or excess_s < self.least_late_s[0]:
            self.least_late_s = (excess_s, vehicle_id)

    @property
    def all_capacity(self) -> bool:
        """Every position tried failed for lack of room (kg, litres, lifts or daily kg)."""
        tried = self.positions - self.locked
        return tried > 0 and self.overload + self.limits == tried

    def text(self, b: Bin) -> str:
        parts = []
        if self.overload:
            spare = f" (at most {self.most_spare[0]:g} kg spare, {self.most_spare[1]!r})" if self.most_spare else ""
            parts.append(f"{self.overload} overload the vehicle{spare} for {b.demand_kg:g} kg")
        if self.limits:
            parts.append(f"{self.limits} exceed a daily limit ({self.limit_detail})")
        if self.late:
            parts.append(f"{self.late} reach the bin after its windows close")
        if self.late_later:
            least = (f" (the least by {self.least_late_s[0]:g} s, {self.least_late_s[1]!r})"
                     if self.least_late_s else "")
            parts.append(f"{self.late_later} make a later stop late or overrun the shift{least}")
        if self.refused:
            parts.append(f"{self.refused} end at a tip that refuses {b.stream!r}")
        if self.untipped:
            parts.append(f"{self.untipped} leave it on board with no tip before the depot")
        if self.no_path:
            parts.append(f"{self.no_path} need a leg with no path")
        if self.locked:
            parts.append(f"{self.locked} fall among locked stops")
        return f"none of {self.positions} insertions is feasible, with or without a tip: " + ", ".join(parts)


@dataclass(frozen=True)
class _Candidate:
    """A feasible-looking way to serve a bin: ``stops`` for ``vehicle``, ranked by ``approx_cost``
    (added money, ``move_cost`` included)."""

    approx_cost: float
    vehicle: Vehicle
    stops: tuple[str, ...]
    move_cost: float


class _RouteFacts:
    """What an insertion into one feasible route needs, computed once per route.

    Visit ``j`` (0: depot start, ``L + 1``: depot end) has location ``loc[j]``, departure
    ``dep[j]``, arrival ``arr[j]`` and load after it; ``latest[j]`` is the latest arrival at
    visit ``j`` that keeps it and every later visit violation-free (``-inf``: none), from a
    backward pass that is exact because every rule is monotone in time. Position ``p``
    (0..L) inserts between visits ``p`` and ``p + 1``.
    """

    def __init__(self, problem: Problem, matrices: TravelMatrices, vehicle: Vehicle,
                 stops: tuple[str, ...], evaluation: RouteEvaluation) -> None:
        self.problem = problem
        self.matrices = matrices
        self.vehicle = vehicle
        self.stops = stops
        self.evaluation = evaluation
        visits = evaluation.visits
        self.visits = visits
        n = len(visits)
        self.loc = np.array([v.location_index for v in visits], dtype=np.intp)
        self.dep = np.array([v.departure_s for v in visits])
        self.arr = np.array([v.arrival_s for v in visits])
        self.kg = np.array([v.load_kg for v in visits])
        self.litres = np.array([v.load_l for v in visits])
        self.break_of: dict[int, int] = {}
        for j, v in enumerate(visits):
            if v.type == "break":
                self.break_of[j] = len(self.break_of)
        self.latest = self._latest_arrivals(visits)
        # next physical visit after each position, next tip after each position, segment loads
        next_phys = np.empty(n, dtype=np.intp)
        next_tip = np.empty(n, dtype=np.intp)
        next_phys[n - 1], next_tip[n - 1] = n - 1, -1
        for j in range(n - 2, -1, -1):
            after = visits[j + 1]
            next_phys[j] = j + 1 if after.type != "break" else next_phys[j + 1]
            next_tip[j] = j + 1 if after.type == "disposal" else next_tip[j + 1]
        self.q = next_phys[:-1]
        self.tip_after = next_tip[:-1]
        end = np.where(self.tip_after >= 0, self.tip_after - 1, n - 1)
        self.segment_kg = self.kg[end]
        self.segment_l = self.litres[end]
        self.on_board: list[frozenset[str]] = []
        streams: set[str] = set()
        for v in visits[:-1]:
            if v.type == "disposal":
                streams = set()
            elif v.type == "bin":
                streams.add(problem.bin(v.location_id).stream)
            self.on_board.append(frozenset(streams))

    def _latest_arrivals(self, visits: tuple[Visit, ...]) -> FloatArray:
        vehicle, problem = self.vehicle, self.problem
        n = len(visits)
        latest = np.empty(n)
        untaken = vehicle.breaks[len(self.break_of):]
        latest[n - 1] = min([float(vehicle.shift_end_s), *(float(b.window[0]) for b in untaken)])
        duration = self.matrices.duration_s
        for j in range(n - 2, 0, -1):
            leave_by = latest[j + 1] - float(duration[self.loc[j], self.loc[j + 1]])
            v = visits[j]
            if v.type == "bin":
                b = problem.bin(v.location_id)
                start_by = leave_by - b.service_s
                if not b.time_windows:
                    latest[j] = start_by
                else:
                    usable = [min(float(z), start_by) for a, z in b.time_windows if a <= start_by]
                    latest[j] = max(usable) if usable else -math.inf
            else:
                if v.type == "disposal":
                    site = problem.site(v.location_id)
                    (opens, closes), busy = site.opening, site.unload_s
                else:
                    brk = vehicle.breaks[self.break_of[j]]
                    (opens, closes), busy = brk.window, brk.duration_s
                start_by = min(float(closes), leave_by - busy)
                latest[j] = start_by if opens <= start_by else -math.inf
        latest[0] = math.inf
        return latest


@dataclass(frozen=True)
class _Chain:
    """Timing of a sequence of stops inserted at every position: feasibility parts and costs."""

    no_path: BoolArray
    late: BoolArray
    late_later: BoolArray
    excess_s: FloatArray
    added_m: FloatArray
    delay_s: FloatArray


def _chain(facts: _RouteFacts, positions: IntArray, inserted: Sequence[Bin | DisposalSite],
           windows: _Windows | None) -> _Chain:
    """Insert ``inserted`` (a bin and maybe a site, in order) at each of ``positions``."""
    problem, vehicle = facts.problem, facts.vehicle
    duration, distance = facts.matrices.duration_s, facts.matrices.distance_m
    t = facts.dep[positions].copy()
    at: IntArray | int = facts.loc[positions]
    start_loc = facts.loc[positions]
    late = np.zeros(len(positions), dtype=np.bool_)
    added_m = np.zeros(len(positions))
    with np.errstate(invalid="ignore"):
        for stop in inserted:
            index = problem.location_index(stop.id)
            added_m = added_m + distance[at, index]
            arrival = t + duration[at, index]
            if isinstance(stop, Bin):
                assert windows is not None
                start, stop_late = windows.start(arrival)
                late |= stop_late
                t = start + stop.service_s
            else:
                start = np.maximum(arrival, stop.opening[0])
                late |= start > stop.opening[1] + TIME_TOLERANCE_S
                t = start + stop.unload_s
            at = index
        q = facts.q[positions]
        for k in np.flatnonzero(q > positions + 1):  # breaks between the insertion and the next place
            for j in range(int(positions[k]) + 1, int(q[k])):
                brk = vehicle.breaks[facts.break_of[j]]
                begin = max(float(t[k]), float(brk.window[0]))
                late[k] |= begin > brk.window[1] + TIME_TOLERANCE_S
                t[k] = begin + brk.duration_s
        arrival_q = t + duration[at, facts.loc[q]]
        added_m = added_m + distance[at, facts.loc[q]] - distance[start_loc, facts.loc[q]]
        no_path = ~np.isfinite(arrival_q) | ~np.isfinite(added_m)
        excess = arrival_q - facts.latest[q]
        late_later = ~no_path & ~late & (excess > TIME_TOLERANCE_S)
        delay = arrival_q - facts.arr[q]
    return _Chain(no_path=no_path, late=late & ~no_path, late_later=late_later, excess_s=excess,
                  added_m=added_m, delay_s=delay)


def _insertions(facts: _RouteFacts, b: Bin, windows: _Windows, *, locked: int, move_cost: float,
                tally: _Tally) -> list[_Candidate]:
    """Feasible insertions of ``b`` into a feasible route (plain, bin then tip, tip then bin)."""
    problem, vehicle = facts.problem, facts.vehicle
    evaluation = facts.evaluation
    n_positions = len(facts.stops) + 1
    tally.positions += n_positions
    positions = np.arange(n_positions, dtype=np.intp)
    free = positions >= locked
    tally.locked += int(np.count_nonzero(~free))
    positions = positions[free]
    if not len(positions):
        return []
    limits = []
    if vehicle.max_lifts is not None and evaluation.lifts + 1 > vehicle.max_lifts:
        limits.append(f"{vehicle.id!r} has {evaluation.lifts} of {vehicle.max_lifts} lifts")
    if (vehicle.max_collected_kg is not None
            and evaluation.load_kg + b.demand_kg > vehicle.max_collected_kg + LOAD_TOLERANCE_KG):
        limits.append(f"{vehicle.id!r} has {evaluation.load_kg:g} of {vehicle.max_collected_kg:g} kg")
    if limits:
        tally.limits += len(positions)
        tally.limit_detail = "; ".join(filter(None, [tally.limit_detail, *limits]))
        return []
    cap_l = math.inf if vehicle.capacity_l is None else vehicle.capacity_l
    cap_kg = vehicle.capacity_kg
    needs_tip = has_load(b) and must_tip(problem, vehicle)
    tip_after = facts.tip_after[positions]
    last_segment = tip_after < 0
    next_accepts = np.array([t < 0 or problem.site(facts.visits[t].location_id).accepts(b.stream)
                             for t in tip_after], dtype=np.bool_)
    prefix_kg, prefix_l = facts.kg[positions], facts.litres[positions]
    segment_kg, segment_l = facts.segment_kg[positions], facts.segment_l[positions]

    def fits(kg: FloatArray, litres: FloatArray) -> BoolArray:
        return (kg + b.demand_kg <= cap_kg + LOAD_TOLERANCE_KG) & (litres + b.volume_l <= cap_l + LOAD_TOLERANCE_KG)

    per_km = vehicle.cost_per_km / METRES_PER_KM
    per_s = vehicle.cost_per_hour / SECONDS_PER_HOUR
    candidates: list[_Candidate] = []

    def keep(ok: BoolArray, chain: _Chain, inserted: tuple[str, ...]) -> None:
        ok = ok & ~chain.no_path & ~chain.late & ~chain.late_later
        cost = per_km * chain.added_m + per_s * np.maximum(chain.delay_s, 0.0) + move_cost
        for k in np.flatnonzero(ok):
            p = int(positions[k])
            candidates.append(_Candidate(float(cost[k]), vehicle, (*facts.stops[:p], *inserted, *facts.stops[p:]),
                                         move_cost))

    plain = _chain(facts, positions, (b,), windows)
    room = fits(segment_kg, segment_l)
    untipped = last_segment & needs_tip
    keep(room & next_accepts & ~untipped, plain, (b.id,))
    # tally the plain insertions' first fault
    overload = ~plain.no_path & ~room
    refused = ~plain.no_path & room & ~next_accepts
    no_tip = ~plain.no_path & room & next_accepts & untipped
    timed = ~plain.no_path & room & next_accepts & ~untipped
    tally.no_path += int(np.count_nonzero(plain.no_path))
    tally.overload += int(np.count_nonzero(overload))
    if overload.any():
        tally.spare(float(cap_kg - np.max(segment_kg[overload])), vehicle.id)
    tally.refused += int(np.count_nonzero(refused))
    tally.untipped += int(np.count_nonzero(no_tip))
    tally.late += int(np.count_nonzero(timed & plain.late))
    later = timed & plain.late_later
    tally.late_later += int(np.count_nonzero(later))
    if later.any():
        tally.lateness(float(np.min(plain.excess_s[later])), vehicle.id)
    for site in problem.disposal_sites:
        prefix_ok = np.array([all(site.accepts(s) for s in facts.on_board[p]) for p in positions], dtype=np.bool_)
        if site.accepts(b.stream):
            after = _chain(facts, positions, (b, site), windows)
            keep(fits(prefix_kg, prefix_l) & prefix_ok, after, (b.id, site.id))
        before = _chain(facts, positions, (site, b), windows)
        keep(fits(segment_kg - prefix_kg, segment_l - prefix_l) & prefix_ok & next_accepts & ~untipped,
             before, (site.id, b.id))
    return candidates


# --------------------------------------------------------------------------- repairing a plan


class _Routes:
    """The routes being repaired, by vehicle id, with their evaluations and facts cached until changed."""

    def __init__(self, problem: Problem, fleet: FleetMatrices, plan: Plan, options: SolveOptions | None) -> None:
        self.problem = problem
        self.fleet = fleet
        self.stops = {r.vehicle_id: tuple(r.stops) for r in plan.routes}
        self.locked = {r.vehicle_id: r.locked for r in options.initial_routes} if options else {}
        self.before = initial_vehicles(options)
        self.move_penalty = options.move_penalty if options else 0.0
        self._evaluated: dict[str, RouteEvaluation] = {}
        self._facts: dict[str, _RouteFacts] = {}

    def evaluation(self, vehicle: Vehicle) -> RouteEvaluation | None:
        """The evaluation of ``vehicle``'s route, ``None`` if it has no stops."""
        stops = self.stops.get(vehicle.id, ())
        if not stops:
            return None
        if vehicle.id not in self._evaluated:
            self._evaluated[vehicle.id] = evaluate_route(self.problem, self.fleet, vehicle, stops)
        return self._evaluated[vehicle.id]

    def facts(self, vehicle: Vehicle, evaluation: RouteEvaluation) -> _RouteFacts:
        """The insertion facts of ``vehicle``'s feasible route."""
        if vehicle.id not in self._facts:
            self._facts[vehicle.id] = _RouteFacts(self.problem, self.fleet.for_vehicle(vehicle.id), vehicle,
                                                  self.stops[vehicle.id], evaluation)
        return self._facts[vehicle.id]

    def replace(self, vehicle_id: str, stops: tuple[str, ...]) -> None:
        """Give ``vehicle_id`` the route ``stops``."""
        self.stops[vehicle_id] = stops
        self._evaluated.pop(vehicle_id, None)
        self._facts.pop(vehicle_id, None)

    def move_cost(self, b: Bin, vehicle: Vehicle) -> float:
        """The move penalty of serving ``b`` on ``vehicle``."""
        had = self.before.get(b.id)
        return self.move_penalty if had is not None and had != vehicle.id else 0.0

    def plan_routes(self) -> tuple[RoutePlan, ...]:
        """Non-empty routes in fleet order."""
        return tuple(RoutePlan(v.id, self.stops[v.id]) for v in self.problem.vehicles if self.stops.get(v.id))


@dataclass(frozen=True)
class _Insertion:
    """The cheapest confirmed way to serve a bin: its vehicle, new stops and exact added cost."""

    vehicle_id: str
    stops: tuple[str, ...]
    added_cost: float


def _best_insertion(problem: Problem, routes: _Routes, candidates: list[_Candidate]) -> _Insertion | None:
    """The cheapest of the first :data:`CONFIRMED_CANDIDATES` candidates the evaluator confirms."""
    confirmed: list[_Insertion] = []
    for candidate in sorted(candidates, key=lambda c: c.approx_cost):
        vehicle = candidate.vehicle
        result = evaluate_route(problem, routes.fleet, vehicle, candidate.stops)
        if result.violations:
            continue
        old = routes.evaluation(vehicle)
        added = result.cost - (old.cost if old is not None else 0.0) + candidate.move_cost
        confirmed.append(_Insertion(vehicle.id, candidate.stops, added))
        if len(confirmed) >= CONFIRMED_CANDIDATES:
            break
    return min(confirmed, key=lambda c: c.added_cost) if confirmed else None


def _solo_candidates(problem: Problem, routes: _Routes, vehicle: Vehicle, b: Bin) -> list[_Candidate]:
    """Routes of its own for ``b`` on the unused ``vehicle``, priced exactly by the evaluator."""
    candidates = []
    for seq in solo_sequences(problem, vehicle):
        stops = tuple(b.id if s == BIN_TOKEN else s for s in seq)
        result = evaluate_route(problem, routes.fleet, vehicle, stops)
        if not result.violations:
            move_cost = routes.move_cost(b, vehicle)
            candidates.append(_Candidate(result.cost + move_cost, vehicle, stops, move_cost))
    return candidates


def _explain_one(problem: Problem, routes: _Routes, b: Bin) -> Unassigned | _Insertion:
    """Insert ``b`` where it fits most cheaply, or the checked reason why it cannot be served."""
    check = solo_check(problem, routes.fleet, [b])
    if not check.servable[:, 0].any():
        return _solo_reason(problem, b, check, 0)
    windows = _Windows.of([b])
    tally = _Tally()
    skipped: list[str] = []
    candidates: list[_Candidate] = []
    for r, vehicle in enumerate(problem.vehicles):
        if not check.servable[r, 0]:
            continue
        evaluation = routes.evaluation(vehicle)
        if evaluation is None:
            candidates += _solo_candidates(problem, routes, vehicle, b)
        elif evaluation.violations:
            skipped.append(vehicle.id)
        else:
            candidates += _insertions(routes.facts(vehicle, evaluation), b, windows,
                                      locked=routes.locked.get(vehicle.id, 0),
                                      move_cost=routes.move_cost(b, vehicle), tally=tally)
    best = _best_insertion(problem, routes, candidates)
    if best is not None:
        if not b.required and best.added_cost >= (b.penalty or 0.0):
            return Unassigned(b.id, "not_worth_serving", f"the cheapest feasible insertion adds "
                              f"{best.added_cost:.2f} ({best.vehicle_id!r}), not less than its penalty "
                              f"{b.penalty or 0.0:g}")
        return best
    left_alone = (f"; routes already breaking a constraint were left alone ({', '.join(map(repr, skipped))})"
                  if skipped else "")
    if tally.all_capacity and not skipped:
        spare = (f" (most spare {tally.most_spare[0]:g} kg, {tally.most_spare[1]!r})" if tally.most_spare else "")
        limits = f"; {tally.limit_detail}" if tally.limit_detail else ""
        return Unassigned(b.id, "capacity", f"every route it could join would overload with its "
                          f"{b.demand_kg:g} kg, {b.volume_l:g} l{spare}{limits}, and no tip fixes it")
    if tally.positions == 0:
        return Unassigned(b.id, "no_feasible_insertion", "it fits a vehicle alone, but no route of the plan "
                          "could take it" + left_alone)
    return Unassigned(b.id, "no_feasible_insertion", tally.text(b) + left_alone)


def explain_dropped(problem: Problem, matrices: AnyMatrices, plan: Plan, dropped_ids: Sequence[str], *,
                    options: SolveOptions | None = None) -> Plan:
    """Repair or explain the bins an engine dropped.

    Each bin of ``dropped_ids``, in order, is first checked alone (:func:`screen_bins`'
    facts and reasons). If some vehicle could serve it alone, it goes into the cheapest
    place (added money cost: per km and per hour, the fixed cost of an unused vehicle,
    ``options.move_penalty`` when the vehicle is not the one that had it in
    ``options.initial_routes``) among: every position of every violation-free route of a
    vehicle that could serve it alone, plain or with a tip at any site right after or
    right before it (positions among a route's locked first stops excluded), and the
    short routes of :func:`solo_sequences` on unused vehicles. Candidates are checked
    exactly (loads between tips, streams at tips, lifts and daily kg, and time by a
    backward pass of latest arrivals) and the cheapest of the first few is confirmed by
    the evaluator. A required bin that fits is inserted; an optional one only if the added
    cost is below its ``penalty``, else ``not_worth_serving``. A bin that fits nowhere gets
    ``capacity`` when every position overloads the vehicle (or breaks a daily limit) and
    no tip fixes it, else ``no_feasible_insertion`` with counts and margins. Later bins see
    the routes so extended. Routes that already break a constraint are left alone (and
    named in the detail).

    Returns a new plan: routes in fleet order, the entries of ``plan.unassigned`` for bins
    not in ``dropped_ids`` kept as they are, then one entry per dropped bin that is still
    not served. ``ProblemError`` if a dropped id is unknown, repeated or already on a route.
    """
    started = time.perf_counter()
    fleet = as_fleet(problem, matrices)
    check_matrices(problem, fleet)
    dropped = resolve_bins(problem, dropped_ids, field="dropped_ids")
    route_vehicles(problem, plan.routes)
    routes = _Routes(problem, fleet, plan, options)
    routed = {stop for stops in routes.stops.values() for stop in stops}
    for i, b in enumerate(dropped):
        if b.id in routed:
            raise ProblemError(f"dropped_ids[{i}]: bin {b.id!r} is already on a route",
                               field=f"dropped_ids[{i}]", item_id=b.id)
    explained: list[Unassigned] = []
    repaired = 0
    for b in dropped:
        outcome = _explain_one(problem, routes, b)
        if isinstance(outcome, Unassigned):
            explained.append(outcome)
        else:
            routes.replace(outcome.vehicle_id, outcome.stops)
            repaired += 1
    dropped_set = {b.id for b in dropped}
    kept = tuple(u for u in plan.unassigned if u.bin_id not in dropped_set)
    logger.info("explained %d dropped bins in %.3f s: %d inserted, %d unassigned", len(dropped),
                time.perf_counter() - started, repaired, len(explained))
    return Plan(routes=routes.plan_routes(), unassigned=kept + tuple(explained))
