"""Moves between days on the routes themselves: a unit leaves the days of its pattern for those of
another, its bins taken out of the routes of the days it leaves and put, at the cheapest place the
evaluator accepts, into the routes of the days it joins.

Each move is priced exactly on the travel matrix and checked by the one evaluator
(:func:`solver.evaluate.evaluate_route`: capacity, tips, shift, windows), so the week stays a real,
feasible plan after every move and no engine runs while moving: hundreds of moves a second
instead of one per engine solve. The daily engine then searches the days the moves touched again
(:mod:`solver.week.search`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.evaluate import evaluate_route
from solver.matrix import FleetMatrices
from solver.problem import ALWAYS_OPEN, BREAK_STOP, Problem
from solver.week.calendar import Slot
from solver.week.units import Pattern, Unit

MAX_POSITIONS = 12
"""Cheapest places tried per route for an inserted bin before giving up on that route."""

SWAP_NEIGHBOURS = 10
"""Nearest units a unit may swap its days with."""

MAX_TIPPED_POSITIONS = 4
"""Cheapest places tried per route for an inserted bin followed by an extra unload."""


@dataclass
class DayStops:
    """A day's routes as editable stop lists: vehicle id -> stops (bins, tips, breaks; depot implied)."""

    routes: dict[str, list[str]]
    free: list[str]
    """Vehicles that work the day and have no route yet."""


class MoveSearch:
    """First-improvement pattern moves over a week's routes (see the module docstring).

    ``travel`` is the matrix moves are priced on (rows by ``problem.location_index``);
    ``max_routes`` caps the routes of any day (the busiest day's vehicles, when the week puts
    fewer vehicles first), ``None`` for the fleet of the day; ``tips_on`` the tips open on each slot
    (an extra unload goes only to those; ``None``: every tip, every day).
    """

    def __init__(self, problem: Problem, matrices: FleetMatrices, travel: np.ndarray, days: Mapping[Slot, DayStops],
                 *, max_routes: int | None = None, tips_on: Mapping[Slot, Sequence[str]] | None = None) -> None:
        self.problem = problem
        self.matrices = matrices
        self.travel = travel
        self.days = {s: DayStops({v: list(r) for v, r in d.routes.items()}, list(d.free)) for s, d in days.items()}
        self.max_routes = max_routes
        self.row = {i: problem.location_index(i) for i in problem.location_ids()}
        self.bins = frozenset(b.id for b in problem.bins)
        self.tips = tuple(s.id for s in problem.disposal_sites)
        self.tips_on = tips_on
        # without windows, breaks or opening hours a route never waits, so its time only grows with a stop
        self.timeless = (not any(b.time_windows for b in problem.bins)
                         and not any(v.breaks for v in problem.vehicles)
                         and all(s.opening == ALWAYS_OPEN for s in problem.disposal_sites))
        self.changed: set[Slot] = set()

    def _path(self, vehicle_id: str, stops: Sequence[str]) -> list[int]:
        depot = self.row[self.problem.vehicle(vehicle_id).depot_id]
        return [depot, *(self.row[s] for s in stops if s != BREAK_STOP), depot]

    def travel_of(self, vehicle_id: str, stops: Sequence[str]) -> float:
        """Travel of one route along the matrix."""
        path = np.asarray(self._path(vehicle_id, stops))
        return float(self.travel[path[:-1], path[1:]].sum())

    def _feasible(self, vehicle_id: str, stops: Sequence[str]) -> bool:
        route = evaluate_route(self.problem, self.matrices, self.problem.vehicle(vehicle_id), stops)
        return not route.violations

    def _room(self, vehicle_id: str, stops: Sequence[str], bin_id: str, a: np.ndarray, c: np.ndarray) -> np.ndarray:
        """For each leg ``a[i] -> c[i]`` of the route, whether the bin could go there as far as the
        load of that leg's trip and (on a week without windows or breaks, where a stop never fills
        waiting time) the shift allow: a necessary condition, so the evaluator is asked only then."""
        vehicle = self.problem.vehicle(vehicle_id)
        demand = self.problem.bin(bin_id).demand_kg
        trips = [0.0]  # the load of each trip: the bins between two unloads
        trip_of_leg = []  # leg i leaves the i-th stop of the path (the depot first)
        for s in (s for s in stops if s != BREAK_STOP):
            trip_of_leg.append(len(trips) - 1)
            if s in self.bins:
                trips[-1] += self.problem.bin(s).demand_kg
            else:
                trips.append(0.0)
        trip_of_leg.append(len(trips) - 1)
        fits = np.array([trips[t] + demand <= vehicle.capacity_kg + 1e-9 for t in trip_of_leg])
        if not self.timeless:
            return fits
        duration = self.matrices.for_vehicle(vehicle_id).duration_s
        route = evaluate_route(self.problem, self.matrices, vehicle, stops)
        spare = (vehicle.shift_end_s - vehicle.shift_start_s) - route.duration_s
        extra = duration[a, self.row[bin_id]] + duration[self.row[bin_id], c] - duration[a, c]
        return fits & (extra + self.problem.bin(bin_id).service_s <= spare + 1e-9)

    def _insert(self, day: DayStops, bin_id: str, slot: Slot) -> tuple[float, str, list[str]] | None:
        """The cheapest feasible insertion of ``bin_id`` into the day (``slot``, whose open tips may be
        added): (added travel, vehicle, new stops)."""
        tips = self.tips_on.get(slot, self.tips) if self.tips_on is not None else self.tips
        best: tuple[float, str, list[str]] | None = None
        row = self.row[bin_id]
        for vehicle_id, stops in day.routes.items():
            path = np.asarray(self._path(vehicle_id, stops))
            a, c = path[:-1], path[1:]
            added = self.travel[a, row] + self.travel[row, c] - self.travel[a, c]
            order = sorted(range(len(added)), key=lambda i: added[i])[:MAX_POSITIONS]
            room = self._room(vehicle_id, stops, bin_id, a, c)
            for i in order:
                if best is not None and added[i] >= best[0]:
                    break
                if not room[i]:
                    continue
                at = _stop_position(stops, i)
                trial = [*stops[:at], bin_id, *stops[at:]]
                if self._feasible(vehicle_id, trial):
                    best = (float(added[i]), vehicle_id, trial)
                    break
            # a full route takes the bin with one more unload right after it
            for i in order[:MAX_TIPPED_POSITIONS]:
                at = _stop_position(stops, i)
                a_row, c_row = int(a[i]), int(c[i])
                for tip in tips:
                    t_row = self.row[tip]
                    cost = float(self.travel[a_row, row] + self.travel[row, t_row] + self.travel[t_row, c_row]
                                 - self.travel[a_row, c_row])
                    if best is not None and cost >= best[0]:
                        continue
                    trial = [*stops[:at], bin_id, tip, *stops[at:]]
                    if self._feasible(vehicle_id, trial):
                        best = (cost, vehicle_id, trial)
        open_routes = len(day.routes)
        if day.free and (self.max_routes is None or open_routes < self.max_routes):
            vehicle_id = day.free[0]
            for tail in ([], *([t] for t in tips)):
                trial = [bin_id, *tail]
                if self._feasible(vehicle_id, trial):
                    cost = self.travel_of(vehicle_id, trial)
                    if best is None or cost < best[0]:
                        best = (cost, vehicle_id, trial)
                    break
        return best

    def try_move(self, unit: Unit, old: Pattern, new: Pattern, *, budget: float) -> float | None:
        """Apply the move when it saves more than ``-budget`` (its change in cost, day changes included,
        below ``budget``); returns that change, or ``None`` when it is not made."""
        old_visits, new_visits = dict(old.visits), dict(new.visits)
        touched = [s for s in sorted(old.slots | new.slots) if old_visits.get(s) != new_visits.get(s)]
        delta = new.change_cost - old.change_cost
        edited: dict[Slot, DayStops] = {}
        for slot in touched:
            day = self.days[slot]
            work = DayStops({v: list(r) for v, r in day.routes.items()}, list(day.free))
            leaving = set(old_visits.get(slot, ())) - set(new_visits.get(slot, ()))
            joining = [b for b in new_visits.get(slot, ()) if b not in set(old_visits.get(slot, ()))]
            for vehicle_id, stops in list(work.routes.items()):
                if leaving & set(stops):
                    before = self.travel_of(vehicle_id, stops)
                    kept = _drop_bins(stops, leaving, self.problem)
                    if any(s in self.bins for s in kept):
                        delta += self.travel_of(vehicle_id, kept) - before
                        work.routes[vehicle_id] = kept
                    else:
                        delta -= before
                        del work.routes[vehicle_id]
                        work.free.insert(0, vehicle_id)
            for bin_id in joining:
                found = self._insert(work, bin_id, slot)
                if found is None:
                    return None
                added, vehicle_id, stops = found
                delta += added
                if vehicle_id in work.free:
                    work.free.remove(vehicle_id)
                work.routes[vehicle_id] = stops
                if delta >= budget:
                    return None
            edited[slot] = work
        if delta >= budget:
            return None
        self.days.update(edited)
        self.changed.update(edited)
        return delta

    def try_pair(self, first: tuple[Unit, Pattern, Pattern], second: tuple[Unit, Pattern, Pattern], *,
                 budget: float) -> float | None:
        """Two moves made together (a swap of days between two units), kept only when together they
        change the cost by less than ``budget``; returns that change or ``None`` (nothing changed)."""
        saved = self._snapshot()
        one = self.try_move(*first, budget=math.inf)
        if one is None:
            return None
        two = self.try_move(*second, budget=budget - one)
        if two is None:
            self.days, self.changed = saved
            return None
        return one + two

    def _snapshot(self) -> tuple[dict[Slot, DayStops], set[Slot]]:
        days = {s: DayStops({v: list(r) for v, r in d.routes.items()}, list(d.free)) for s, d in self.days.items()}
        return days, set(self.changed)

    def repair(self, units: Sequence[Unit], choice: dict[str, int], missing: Mapping[Slot, set[str]], *,
               deadline: float = math.inf) -> int:
        """Put back the bins ``missing`` from their days' routes (left out by the engine): into the day's
        routes where the evaluator accepts them, else by the cheapest move of their unit to another
        pattern that fits; returns how many bins stay out. From ``deadline`` (``time.perf_counter()``)
        on, the bins not yet put back stay out (the moves between days may place them later)."""
        left = 0
        for unit in units:
            out = {(s, b) for s, ids in unit.patterns[choice[unit.id]].visits for b in ids if b in missing.get(s, ())}
            if not out:
                continue
            if time.perf_counter() >= deadline:
                left += len(out)
                continue
            for slot, bin_id in sorted(out):
                found = self._insert(self.days[slot], bin_id, slot)
                if found is not None:
                    self._place(slot, found[1], found[2])
                    out.discard((slot, bin_id))
            if not out:
                continue
            options = []
            for k, pattern in enumerate(unit.patterns):
                if k == choice[unit.id]:
                    continue
                saved = self._snapshot()
                delta = self.try_move(unit, unit.patterns[choice[unit.id]], pattern, budget=math.inf)
                self.days, self.changed = saved
                if delta is not None:
                    options.append((delta, k))
            if options:
                delta, k = min(options)
                self.try_move(unit, unit.patterns[choice[unit.id]], unit.patterns[k], budget=math.inf)
                choice[unit.id] = k
                continue
            for slot, bin_id in sorted(out):
                if time.perf_counter() < deadline and self._eject_for(units, choice, slot, bin_id, deadline=deadline):
                    out.discard((slot, bin_id))
            left += len(out)
        return left

    def _eject_for(self, units: Sequence[Unit], choice: dict[str, int], slot: Slot, bin_id: str, *,
                   deadline: float = math.inf) -> bool:
        """Make room for ``bin_id`` on ``slot`` by moving another unit of that day to other days: the
        cheapest such pair of changes that the evaluator accepts (among those tried by ``deadline``) is
        made; whether one was found."""
        best: tuple[float, Unit, int] | None = None
        for other in units:
            if time.perf_counter() >= deadline:
                break
            current = other.patterns[choice[other.id]]
            if slot not in current.slots or bin_id in dict(current.visits)[slot]:
                continue
            for k, pattern in enumerate(other.patterns):
                if slot in pattern.slots:
                    continue
                saved = self._snapshot()
                delta = self.try_move(other, current, pattern, budget=math.inf)
                found = None if delta is None else self._insert(self.days[slot], bin_id, slot)
                self.days, self.changed = saved
                if delta is not None and found is not None and (best is None or delta + found[0] < best[0]):
                    best = (delta + found[0], other, k)
        if best is None:
            return False
        _, other, k = best
        self.try_move(other, other.patterns[choice[other.id]], other.patterns[k], budget=math.inf)
        choice[other.id] = k
        found = self._insert(self.days[slot], bin_id, slot)
        assert found is not None
        self._place(slot, found[1], found[2])
        return True

    def _place(self, slot: Slot, vehicle_id: str, stops: list[str]) -> None:
        """Make ``stops`` the route of ``vehicle_id`` on ``slot`` (taking the vehicle out of the free ones)."""
        day = self.days[slot]
        if vehicle_id in day.free:
            day.free.remove(vehicle_id)
        day.routes[vehicle_id] = stops
        self.changed.add(slot)

    def neighbours(self, units: Sequence[Unit], k: int) -> dict[str, list[Unit]]:
        """The ``k`` units nearest each unit (mean of the two ways on the travel matrix)."""
        rows = np.asarray([self.row[u.location] for u in units])
        near = (self.travel[np.ix_(rows, rows)] + self.travel[np.ix_(rows, rows)].T) / 2.0
        np.fill_diagonal(near, np.inf)
        order = np.argsort(near, axis=1)[:, :k]
        return {u.id: [units[j] for j in order[i]] for i, u in enumerate(units)}

    def descend(self, units: Sequence[Unit], choice: dict[str, int], *, deadline: float, seed: int = 0) -> float:
        """First-improvement moves over every unit until none saves or ``deadline``; updates ``choice`` in
        place and returns the total change in cost."""
        rng = random.Random(seed)
        order = [u for u in units if len(u.patterns) > 1]
        total = 0.0
        improved = True
        near = self.neighbours(order, SWAP_NEIGHBOURS) if order else {}
        while improved and time.perf_counter() < deadline:
            improved = False
            rng.shuffle(order)
            for unit in order:
                if time.perf_counter() >= deadline:
                    break
                current = choice[unit.id]
                for k in range(len(unit.patterns)):
                    if k == current:
                        continue
                    delta = self.try_move(unit, unit.patterns[current], unit.patterns[k], budget=-1e-9)
                    if delta is not None:
                        choice[unit.id] = k
                        total += delta
                        improved = True
                        break
            if improved:
                continue
            for unit in order:  # no single move saves: swap the days of two neighbours
                if time.perf_counter() >= deadline:
                    break
                mine = unit.patterns[choice[unit.id]]
                for other in near[unit.id]:
                    theirs = other.patterns[choice[other.id]]
                    if theirs.slots == mine.slots:
                        continue
                    to_theirs, to_mine = _with_slots(unit, theirs.slots), _with_slots(other, mine.slots)
                    if to_theirs is None or to_mine is None:
                        continue
                    delta = self.try_pair((unit, mine, unit.patterns[to_theirs]),
                                          (other, theirs, other.patterns[to_mine]), budget=-1e-9)
                    if delta is not None:
                        choice[unit.id], choice[other.id] = to_theirs, to_mine
                        total += delta
                        improved = True
                        break
        return total


def _with_slots(unit: Unit, slots: frozenset[Slot]) -> int | None:
    """The index of the unit's pattern on exactly these slots, if it has one."""
    return next((k for k, p in enumerate(unit.patterns) if p.slots == slots), None)


def _stop_position(stops: Sequence[str], leg: int) -> int:
    """The index in ``stops`` where a stop goes to sit on the ``leg``-th leg of the route's path
    (the path skips breaks; leg 0 leaves the depot)."""
    seen = 0
    for i, s in enumerate(stops):
        if s == BREAK_STOP:
            continue
        if seen == leg:
            return i
        seen += 1
    return len(stops)


def _drop_bins(stops: Sequence[str], leaving: set[str], problem: Problem) -> list[str]:
    """``stops`` without the bins in ``leaving``, and without a tip left straight after another tip
    or at the start of the route (it would unload nothing)."""
    sites = {s.id for s in problem.disposal_sites}
    kept: list[str] = []
    for s in stops:
        if s in leaving:
            continue
        if s in sites and (not kept or kept[-1] in sites):
            continue
        kept.append(s)
    return kept
