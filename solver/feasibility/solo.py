"""A bin alone: whether some vehicle could serve it on a route of its own, and if not, why
(see :mod:`solver.feasibility` for the facts checked)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.evaluate import AnyMatrices, as_fleet, check_matrices, clock, vehicle_too_big
from solver.feasibility.bins import BIN_TOKEN, has_load, must_tip, resolve_bins, solo_sequences
from solver.feasibility.windows import _Windows
from solver.matrix import TravelMatrices
from solver.problem import BREAK_STOP, Bin, Problem, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import Unassigned

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


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

    Each bin is checked against each vehicle alone on that vehicle's own matrices (see
    :mod:`solver.feasibility` for the facts). The reason of a bin no vehicle can serve is the first
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
