"""A round review: a council's week (:class:`~solver.week.model.WeekProblem`) planned, each property
on its collection day(s), each day's rounds built by the daily engine, the households whose day
changes listed for the letters.

The search is :func:`solver.week.search.plan_week` with the contract's order of objectives:
every bin served, then the fewest vehicles on the busiest day, then the routes' cost (the figure
``options.objective`` names) plus ``day_change_cost`` for each property moved off its current day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from solver.matrix import FleetMatrices
from solver.problem import SolveOptions
from solver.solution import Evaluation
from solver.week.calendar import Calendar, Slot
from solver.week.day import DayRouter, restrict
from solver.week.fleet_need import vehicles_needed
from solver.week.model import Unplaceable, WeekProblem, week_units
from solver.week.search import ProgressCallback, WeekPlan, plan_week
from solver.week.units import Unit


@dataclass(frozen=True)
class DayChange:
    """A household whose collection day changes: its ``property``, ``bin_ids``, and the day and week
    before (``from_week`` ``None`` when the bin is collected that weekday every week) and after."""

    property: str
    bin_ids: tuple[str, ...]
    from_day: str
    from_week: str | None
    to_day: str
    to_week: str | None


@dataclass(frozen=True)
class WeekReview:
    """The week planned: each slot's routes (``plan.days``), the slots of each bin (``assignments``),
    the households moved (``day_changes``), the properties no day can serve (``unplaceable``) and the
    vehicles each routed slot would need to serve all its bins (``vehicles_needed``,
    :func:`solver.week.fleet_need.vehicles_needed`: the vehicles used when everything fits)."""

    calendar: Calendar
    plan: WeekPlan
    assignments: dict[str, tuple[Slot, ...]]
    day_changes: tuple[DayChange, ...]
    unplaceable: tuple[Unplaceable, ...]
    vehicles_needed: dict[Slot, int] = field(default_factory=dict)

    @property
    def max_vehicles_per_day(self) -> int:
        """Vehicles on the busiest day."""
        return self.plan.max_vehicles

    def vehicles_per_day(self) -> dict[str, int]:
        """Vehicles used on each day, by its label (``"tue A"``)."""
        return {self.calendar.label(s): d.vehicles for s, d in sorted(self.plan.days.items())}


def _changes(week: WeekProblem, units: list[Unit], plan: WeekPlan) -> list[DayChange]:
    """The households whose first bin with a current day is collected on another day (or week) now."""
    calendar = week.calendar
    changes = []
    for unit in units:
        pattern = unit.patterns[plan.choice[unit.id]]
        bins = tuple(b for _, ids in pattern.visits for b in ids)
        members = list(dict.fromkeys(bins))
        known = [week.week_bin(b) for b in members if week.week_bin(b).current is not None]
        if not known:
            continue
        first = known[0]
        assert first.current is not None
        slots = sorted(s for s, ids in pattern.visits if first.id in ids)
        to_day = calendar.day_of(slots[0])
        if first.current.week is None:
            if to_day != first.current.day:
                changes.append(DayChange(unit.id, tuple(members), first.current.day, None, to_day, None))
            continue
        if calendar.slot(first.current.day, first.current.week) not in slots:
            changes.append(DayChange(unit.id, tuple(members), first.current.day, first.current.week, to_day,
                                     calendar.week_of(slots[0])))
    return changes


def _money(evaluation: Evaluation) -> float:
    """A day's money cost (the evaluator's ``cost``: vehicles' fixed costs, km and hours)."""
    return evaluation.summary.cost


def plan_review(week: WeekProblem, matrices: FleetMatrices, *, options: SolveOptions, time_limit_s: float,
                seed: int = 0, progress: ProgressCallback | None = None) -> WeekReview:
    """Plan the week within ``time_limit_s`` wall seconds; ``matrices`` are the daily problem's and
    ``options`` name the daily engine and objective (their own time limit is not used)."""
    units, unplaceable = week_units(week)
    problem = week.problem
    slots = list(range(week.calendar.horizon))
    # a day is priced in money (the evaluator's cost), whatever the engine's objective, because the
    # day-change cost it is weighed against is money
    router = DayRouter(problem, matrices, options, vehicles_on={s: week.vehicles_on(s) for s in slots},
                       sites_on={s: week.tips_on(s) for s in slots}, measure=_money)
    profile = next(iter(matrices.profiles.values()))
    travel = profile.distance_m if options.objective == "distance" else profile.duration_s
    depot = problem.depots[0]
    # without a tip open, a day's fleet carries its capacity once: the construction keeps within it
    capacity = {s: sum(problem.vehicle(v).capacity_kg for v in week.vehicles_on(s)) if not week.tips_on(s)
                else math.inf for s in slots}
    plan = plan_week(units, slots, router, time_limit_s=time_limit_s, travel=travel,
                     depot_row=problem.location_index(depot.id), centre=(depot.lon, depot.lat), capacity=capacity,
                     vehicles_first=True, seed=seed, progress=progress)
    assignments: dict[str, list[Slot]] = {}
    for unit in units:
        for slot, ids in unit.patterns[plan.choice[unit.id]].visits:
            for b in ids:
                assignments.setdefault(b, []).append(slot)
    return WeekReview(calendar=week.calendar, plan=plan,
                      assignments={b: tuple(sorted(s)) for b, s in assignments.items()},
                      day_changes=tuple(_changes(week, units, plan)), unplaceable=tuple(unplaceable),
                      vehicles_needed=_needed(week, matrices, plan))


def _needed(week: WeekProblem, matrices: FleetMatrices, plan: WeekPlan) -> dict[Slot, int]:
    """The vehicles each routed slot would need (:func:`~solver.week.fleet_need.vehicles_needed`)."""
    needed = {}
    for slot, day in sorted(plan.days.items()):
        vehicles, sites = week.vehicles_on(slot), week.tips_on(slot)
        if not day.bin_ids:
            needed[slot] = 0
            continue
        cut, cut_matrices = restrict(week.problem, matrices, bin_ids=day.bin_ids, vehicle_ids=vehicles,
                                     site_ids=sites)
        needed[slot] = vehicles_needed(cut, cut_matrices, day.plan, tips_open=bool(sites))
    return needed
