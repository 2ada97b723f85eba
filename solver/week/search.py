"""The week's search: give every unit (a property, or a benchmark customer) one visiting pattern,
route each day with the daily engine, then move units between days while the week improves.

The method (docs/architecture.md, "The week"): assign first, route second, improve by moves
between days, as the periodic routing literature with intermediate facilities does it
(Angelelli & Speranza 2002; Hemmelmayr, Doerner, Hartl & Rath 2013):

1. **construction** (:func:`construct`): units taken in sweep order (angle around the depot, so
   neighbours are placed one after another and days grow as compact patches), each given the
   pattern whose days are nearest to the units already there, least over the day's fair share of
   the load, and cheapest in day changes;
2. **routing**: each day by :class:`~solver.week.day.DayRouter` (the daily engine, the one evaluator);
3. **improvement** (:func:`improve`): every other pattern of every unit is priced by the travel it
   saves on the days it leaves and costs on the days it joins (cheapest insertion into the day's
   routes, on the matrix) plus its day-change cost; the most promising are tried for real (only the
   days touched are routed again, warm-started from their routes) and kept when the week's
   objective falls. Then the remaining time searches each day once more.

The week's objective (:meth:`WeekPlan.objective`), in order: bins unserved, then (when
``vehicles_first``) the vehicles of the busiest day, then the routes' cost plus the day-change costs.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.solution import Plan, RoutePlan
from solver.week.calendar import Slot
from solver.week.day import DayRouter, DayRoutes
from solver.week.moves import DayStops, MoveSearch
from solver.week.units import Pattern, Unit

POLISH_SLACK = 0.03
"""A week whose moved routes cost at most this share more than the best is searched again by the engine."""

TRAVEL_SLACK = 0.01
"""The moves between days go on from a week at most this share dearer than the best (record-to-record travel)."""

ProgressCallback = Callable[[str, float], None]
"""Called with a stage name and the share of the time limit spent (0..1)."""


@dataclass
class WeekPlan:
    """A week: the pattern chosen for each unit (index into its ``patterns``) and each slot's routes."""

    choice: dict[str, int]
    days: dict[Slot, DayRoutes]
    change_cost: float
    vehicles_first: bool = True
    moves_tried: int = 0
    moves_kept: int = 0
    starts: int = 0

    @property
    def route_cost(self) -> float:
        """The routes' cost over every day (the router's measure)."""
        return sum(d.cost for d in self.days.values())

    @property
    def max_vehicles(self) -> int:
        """Vehicles used on the busiest day."""
        return max((d.vehicles for d in self.days.values()), default=0)

    @property
    def unserved(self) -> int:
        """Bin collections left out or on a route that breaks a rule, over every day."""
        return sum(d.unserved for d in self.days.values())

    @property
    def vehicles_per_day(self) -> dict[Slot, int]:
        """Vehicles used on each slot."""
        return {s: self.days[s].vehicles for s in sorted(self.days)}

    def objective(self) -> tuple[float, ...]:
        """Unserved bins, then the busiest day's vehicles (when ``vehicles_first``), then cost + day changes."""
        total = self.route_cost + self.change_cost
        return (self.unserved, self.max_vehicles, total) if self.vehicles_first else (self.unserved, total)


def slot_bins(units: Sequence[Unit], choice: Mapping[str, int], slots: Iterable[Slot]) -> dict[Slot, set[str]]:
    """The bins collected on each slot under ``choice``."""
    bins: dict[Slot, set[str]] = {s: set() for s in slots}
    for unit in units:
        for slot, ids in unit.patterns[choice[unit.id]].visits:
            bins.setdefault(slot, set()).update(ids)
    return bins


def _sweep_order(units: Sequence[Unit], centre: tuple[float, float], turn: float = 0.0) -> list[Unit]:
    """Units with a choice by angle around ``centre`` (lon, lat) from ``turn`` radians, the most
    constrained first in a tie."""
    def angle(u: Unit) -> float:
        return (math.atan2(u.lat - centre[1], u.lon - centre[0]) - turn) % (2 * math.pi)
    return sorted((u for u in units if len(u.patterns) > 1), key=lambda u: (angle(u), len(u.patterns), u.id))


def construct(units: Sequence[Unit], slots: Sequence[Slot], *, travel: np.ndarray, index: Mapping[str, int],
              depot_row: int, centre: tuple[float, float], capacity: Mapping[Slot, float] | None = None,
              fixed: Mapping[str, int] | None = None, turn: float = 0.0, balance: float = 1.0,
              shares: Mapping[Slot, float] | None = None, demand_of: Mapping[str, float] | None = None
              ) -> dict[str, int]:
    """The first pattern of each unit (see the module docstring, step 1).

    ``travel`` is the cost matrix (rows and columns by ``index[bin id]``, the depot's ``depot_row``);
    ``capacity`` the load each slot's fleet can carry in a day (a slot over it is penalised steeply);
    ``fixed`` units' patterns that must not change (say, kept on their current days); ``turn`` (radians)
    where the sweep starts and ``balance`` how much the load over a day's fair share weighs (1: one mean
    unit's load over costs a median drive), varied between the starts of :func:`plan_week`; ``shares``
    weigh each slot's fair share of the load (default equal: a day of two lorries takes twice the share
    of a day of one); ``demand_of`` (kg by bin id) loads each slot with the bins the pattern collects
    on it (default: the unit's ``demand`` on each of its slots, which cannot tell apart patterns on the
    same slots that collect different bins on each, as alternate-weekly refuse and recycling do).
    """
    choice: dict[str, int] = {u.id: 0 for u in units if len(u.patterns) == 1}
    choice.update(fixed or {})
    load = {s: 0.0 for s in slots}
    members: dict[Slot, list[int]] = {s: [] for s in slots}

    def loads(pattern: Pattern, unit: Unit) -> list[tuple[Slot, float]]:
        if demand_of is None:
            return [(slot, unit.demand) for slot in pattern.slots]
        return [(slot, sum(demand_of[b] for b in ids)) for slot, ids in pattern.visits]

    def place(unit: Unit, k: int) -> None:
        choice[unit.id] = k
        for slot, kg in loads(unit.patterns[k], unit):
            load[slot] = load.get(slot, 0.0) + kg
            members.setdefault(slot, []).append(index[unit.location])

    for unit in units:
        if unit.id in choice:
            place(unit, choice[unit.id])
    total = sum(kg for u in units for _, kg in loads(u.patterns[0], u))
    weights = {s: (shares or {}).get(s, 1.0) for s in slots}
    fair = {s: total * weights[s] / (sum(weights.values()) or 1.0) for s in slots}
    demands = [kg for u in units for _, kg in loads(u.patterns[0], u) if kg > 0]
    spread = float(np.median(travel[np.isfinite(travel) & (travel > 0)])) if travel.size > 1 else 1.0
    # a load one mean unit over the fair share costs as much as a median drive: balance and closeness
    # weigh the same at that point, and the steep term keeps a slot within its fleet's capacity
    per_load = balance * spread / (sum(demands) / len(demands)) if demands else 0.0
    for unit in _sweep_order([u for u in units if u.id not in choice], centre, turn):
        here = index[unit.location]
        best: tuple[float, int] | None = None
        for k, pattern in enumerate(unit.patterns):
            score = pattern.change_cost
            for slot, kg in loads(pattern, unit):
                near = members.get(slot, [])
                # a slot with no unit near yet starts a patch from the depot: an empty day must not
                # attract every unit, or the days interleave instead of growing as patches
                rows = np.asarray(near) if near else np.asarray([depot_row])
                score += float(np.min((travel[here, rows] + travel[rows, here]) / 2.0))
                after = load.get(slot, 0.0) + kg
                score += per_load * max(0.0, after - fair.get(slot, 0.0))
                if capacity is not None and after > capacity.get(slot, math.inf):
                    score += 1000.0 * spread
            if best is None or score < best[0]:
                best = (score, k)
        assert best is not None
        place(unit, best[1])
    return choice


def route_days(units: Sequence[Unit], choice: Mapping[str, int], slots: Sequence[Slot], router: DayRouter, *,
               time_limit_s: float, warm: Mapping[Slot, DayRoutes] | None = None,
               only: Iterable[Slot] | None = None) -> dict[Slot, DayRoutes]:
    """Route the slots (``only`` those, when given) under ``choice``, each with ``time_limit_s``,
    warm-started from ``warm``'s routes of the same slot."""
    bins = slot_bins(units, choice, slots)
    todo = list(slots if only is None else only)
    return {s: router.route(s, bins[s], time_limit_s=time_limit_s, warm=(warm or {}).get(s)) for s in todo}


def _day_stops(plan: WeekPlan, router: DayRouter) -> dict[Slot, DayStops]:
    """Each day's routes as editable stop lists, with the vehicles of the day that have none."""
    days = {}
    for slot, day in plan.days.items():
        routes = {r.vehicle_id: list(r.stops) for r in day.plan.routes if r.stops}
        free = [v for v in router.vehicles_on.get(slot, ()) if v not in routes]
        days[slot] = DayStops(routes=routes, free=free)
    return days


def _kick(search: MoveSearch, choosers: Sequence[Unit], choice: dict[str, int], rng: random.Random,
          near: Mapping[str, Sequence[Unit]], *, size: int, attempts: int = 20) -> list[Unit]:
    """Perturb the week by ``size`` changes the evaluator accepts, whatever they cost: a unit and a
    neighbour on other days swap days (loads stay as they were, so this fits full days), else a unit
    moves to another pattern; returns the units moved (at most ``attempts`` tries)."""
    made = 0
    moved: list[Unit] = []
    for _ in range(attempts):
        if made >= size:
            break
        unit = rng.choice(list(choosers))
        mine = unit.patterns[choice[unit.id]]
        others = [o for o in near.get(unit.id, ()) if o.patterns[choice[o.id]].slots != mine.slots]
        if others:
            other = rng.choice(others)
            theirs = other.patterns[choice[other.id]]
            to_theirs = next((k for k, p in enumerate(unit.patterns) if p.slots == theirs.slots), None)
            to_mine = next((k for k, p in enumerate(other.patterns) if p.slots == mine.slots), None)
            if to_theirs is not None and to_mine is not None and search.try_pair(
                    (unit, mine, unit.patterns[to_theirs]), (other, theirs, other.patterns[to_mine]),
                    budget=math.inf) is not None:
                choice[unit.id], choice[other.id] = to_theirs, to_mine
                made += 1
                moved += [unit, other]
                continue
        k = rng.choice([k for k in range(len(unit.patterns)) if k != choice[unit.id]])
        if search.try_move(unit, mine, unit.patterns[k], budget=math.inf) is not None:
            choice[unit.id] = k
            made += 1
            moved.append(unit)
    return moved


def improve(plan: WeekPlan, units: Sequence[Unit], slots: Sequence[Slot], router: DayRouter, *, deadline: float,
            travel: np.ndarray, move_time_s: float, seed: int = 0,
            progress: Callable[[], None] | None = None) -> WeekPlan:
    """Moves between days until ``deadline`` (``time.perf_counter()``), as an iterated local search:
    each round moves units between days on the routes (:class:`~solver.week.moves.MoveSearch`, from
    the second round after a kick of a few random units to random patterns), has the engine search
    the days it changed again (warm-started, ``move_time_s`` each) and keeps the week when its
    objective falls below the best; the next round starts from the last week kept or from one
    within ``TRAVEL_SLACK`` of the best (record-to-record travel, so that the search can cross
    a ridge), and from the best again when it drifts. Returns the best week found."""
    rng = random.Random(seed)
    choosers = [u for u in units if len(u.patterns) > 1]
    best = plan
    current = plan
    rounds = 0
    near = MoveSearch(router.problem, router.matrices, travel, {}).neighbours(choosers, 10) if choosers else {}
    while time.perf_counter() < deadline and choosers:
        search = MoveSearch(router.problem, router.matrices, travel, _day_stops(current, router),
                            max_routes=best.max_vehicles if best.vehicles_first else None, tips_on=router.sites_on)
        choice = dict(current.choice)
        around: Sequence[Unit] = units
        if rounds:
            kicked = _kick(search, choosers, choice, rng, near, size=rng.randint(1, 3))
            # after a kick only the kicked units and their neighbours are moved again: the rest of the
            # week is at its local best already, and a whole pass would cost a second a round
            around = list({u.id: u for k in kicked for u in (k, *near.get(k.id, ()))}.values())
        search.descend(around, choice, deadline=deadline, seed=seed + rounds)
        rounds += 1
        if not search.changed:
            if rounds > 1 and rounds > 4 * len(choosers):
                break
            continue
        bins = slot_bins(units, choice, slots)
        change = sum(u.patterns[choice[u.id]].change_cost for u in units)
        days = dict(current.days)
        for slot in sorted(search.changed):
            stops = search.days[slot]
            days[slot] = router.adopt(slot, bins[slot], Plan(routes=tuple(RoutePlan(v, tuple(r))
                                                                          for v, r in stops.routes.items())))
        trial = WeekPlan(choice=choice, days=days, change_cost=change, vehicles_first=best.vehicles_first,
                         moves_tried=best.moves_tried + 1, moves_kept=best.moves_kept)
        # the moved routes are real but not yet searched by the engine: only a week already better, or
        # within POLISH_SLACK of the best, is worth the engine's time on the days it changed
        promising = trial.objective()[:-1] <= best.objective()[:-1] and \
            trial.objective()[-1] <= best.objective()[-1] * (1.0 + POLISH_SLACK)
        if promising:
            for slot in sorted(search.changed):
                left = deadline - time.perf_counter()
                if left > 0.05:
                    days[slot] = router.route(slot, bins[slot], time_limit_s=min(move_time_s, left), warm=days[slot],
                                              again=True)
            trial = WeekPlan(choice=choice, days=days, change_cost=change, vehicles_first=best.vehicles_first,
                             moves_tried=best.moves_tried + 1, moves_kept=best.moves_kept)
        if progress is not None:
            progress()
        if trial.objective() < best.objective():
            trial.moves_kept += 1
            best = current = trial
        else:
            best.moves_tried += 1
            near_best = trial.objective()[:-1] == best.objective()[:-1] and \
                trial.objective()[-1] <= best.objective()[-1] * (1.0 + TRAVEL_SLACK)
            current = trial if promising and near_best else best
    return best


def intensify(plan: WeekPlan, router: DayRouter, *, deadline: float, day_time_s: float) -> WeekPlan:
    """Search each day once more, warm-started, in turn while time remains (a day's routes change only
    when the search finds better ones)."""
    order = sorted(plan.days, key=lambda s: -plan.days[s].cost)
    for slot in order:
        left = deadline - time.perf_counter()
        if left <= 0.05:
            break
        day = plan.days[slot]
        again = router.route(slot, day.bin_ids, time_limit_s=min(day_time_s, left), warm=day, again=True)
        if (again.unserved, again.cost) < (day.unserved, day.cost):
            plan.days[slot] = again
    return plan


def fleet_shapes(slots: Sequence[Slot], fleet: int) -> list[dict[Slot, int]]:
    """The vehicles a day the starts try: every day 1, 2, ... ``fleet``, then alternate days of ``j``
    and ``k`` vehicles (``j < k``, both ways round), since two-visit patterns pair alternate days."""
    shapes = [dict.fromkeys(slots, k) for k in range(1, fleet + 1)]
    for j in range(1, fleet + 1):
        for k in range(j + 1, fleet + 1):
            shapes.append({s: j if i % 2 == 0 else k for i, s in enumerate(slots)})
            shapes.append({s: k if i % 2 == 0 else j for i, s in enumerate(slots)})
    return shapes


def _start(units: Sequence[Unit], slots: Sequence[Slot], router: DayRouter, choice: dict[str, int], *,
           travel: np.ndarray, day_time_s: float, deadline: float, descend_s: float, vehicles_first: bool,
           seed: int, whole: DayRouter | None = None) -> WeekPlan:
    """A week from a constructed ``choice``: each day routed, the bins the engine left out put back
    (:meth:`~solver.week.moves.MoveSearch.repair`), moves between days when ``descend_s`` > 0 (until
    ``deadline``, or at least ``descend_s`` seconds), the days changed routed again; a day still short of vehicles is
    routed by ``whole`` (the whole fleet) when given."""
    days = route_days(units, choice, slots, router, time_limit_s=day_time_s)
    plan = WeekPlan(choice=choice, days=days, change_cost=sum(u.patterns[choice[u.id]].change_cost for u in units),
                    vehicles_first=vehicles_first)
    search = MoveSearch(router.problem, router.matrices, travel, _day_stops(plan, router),
                        max_routes=router.fleet, tips_on=router.sites_on)
    choice = dict(choice)
    missing = {s: {u.bin_id for u in d.plan.unassigned} for s, d in days.items()}
    if any(missing.values()):
        search.repair(units, choice, missing, deadline=deadline)
    if descend_s > 0:
        search.descend(units, choice, deadline=max(deadline, time.perf_counter() + descend_s), seed=seed)
    bins = slot_bins(units, choice, slots)
    days = dict(plan.days)
    for slot in sorted(search.changed):
        moved = router.adopt(slot, bins[slot], Plan(routes=tuple(RoutePlan(v, tuple(r))
                                                                 for v, r in search.days[slot].routes.items())))
        days[slot] = router.route(slot, bins[slot], time_limit_s=day_time_s, warm=moved, again=True)
    for slot, day in list(days.items()):
        if day.unserved and whole is not None:
            # the few vehicles this start tried cannot serve the day: the whole fleet works it, so
            # that a week may mix days of one round with days of two
            days[slot] = whole.route(slot, bins[slot], time_limit_s=day_time_s, warm=day, again=True)
    trial = WeekPlan(choice=choice, days=days, change_cost=sum(u.patterns[choice[u.id]].change_cost for u in units),
                     vehicles_first=vehicles_first)
    return trial if trial.objective() < plan.objective() else plan


def plan_week(units: Sequence[Unit], slots: Sequence[Slot], router: DayRouter, *, time_limit_s: float,
              travel: np.ndarray, depot_row: int, centre: tuple[float, float],
              capacity: Mapping[Slot, float] | None = None, fixed: Mapping[str, int] | None = None,
              vehicles_first: bool = True, seed: int = 0, progress: ProgressCallback | None = None) -> WeekPlan:
    """Plan the week within ``time_limit_s`` (wall seconds, the whole search).

    Starts (the first third of the time): constructions (:func:`construct`, the sweep turned and the
    balance weighed differently each time) routed with at most 1, 2, ... vehicles a day, or alternate
    days of fewer and more (:func:`fleet_shapes`), in turn, so that weeks on fewer vehicles a day (one
    long round with several unloads is often cheaper than two) are met; each start repaired, a day
    still short of vehicles routed by the whole fleet, the best start kept (moves are left to the
    next step, so that every shape of fleet gets its start). Then moves between days (:func:`improve`), then each day
    searched again (:func:`intensify`) with the time left.

    ``travel`` is the cost matrix the moves are priced on and ``depot_row`` the depot's row in it;
    ``capacity``, ``fixed`` as for :func:`construct`.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    rng = random.Random(seed)
    index = {u.location: router.problem.location_index(u.location) for u in units}
    n_days = max(len(slots), 1)
    day_time = max(0.05, min(1.0, 0.01 * time_limit_s))
    starts_until = started + time_limit_s / 3.0
    best: WeekPlan | None = None
    fleet = max(router.fleet, 1)
    start = 0
    fleets = fleet_shapes(slots, fleet)
    while best is None or time.perf_counter() < starts_until:
        caps = fleets[start % len(fleets)]
        turn, balance = ((0.0, 1.0) if start < len(fleets)
                         else (rng.uniform(0.0, 2 * math.pi), rng.choice((0.25, 0.5, 1.0, 2.0, 4.0))))
        choice = construct(units, slots, travel=travel, index=index, depot_row=depot_row, centre=centre,
                           capacity=capacity, fixed=fixed, turn=turn, balance=balance,
                           shares={s: float(c) for s, c in caps.items()})
        capped = router.capped(caps)
        plan = _start(units, slots, capped, choice, travel=travel, day_time_s=day_time,
                      deadline=starts_until, descend_s=0.0, vehicles_first=vehicles_first,
                      seed=seed + start, whole=router)
        if best is None or plan.objective() < best.objective():
            best = plan
        start += 1
        if progress is not None:
            progress("starts", (time.perf_counter() - started) / time_limit_s)
    reserve = 0.2 * time_limit_s
    best = improve(best, units, slots, router, deadline=deadline - reserve, travel=travel,
                   move_time_s=day_time, seed=seed,
                   progress=None if progress is None else
                   (lambda: progress("improving", (time.perf_counter() - started) / time_limit_s)))
    left = deadline - time.perf_counter()
    best = intensify(best, router, deadline=deadline, day_time_s=max(left / n_days, 0.05))
    best.starts = start
    if progress is not None:
        progress("done", 1.0)
    return best
