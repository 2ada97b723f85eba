"""Inserting a bin into a route: every position checked at once, with a tip added where that
makes it fit; the cheapest feasible candidates, for the evaluator to confirm."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.feasibility.bins import has_load, must_tip
from solver.feasibility.windows import _Windows
from solver.matrix import TravelMatrices
from solver.problem import Bin, DisposalSite, Problem, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import RouteEvaluation, Visit
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


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
