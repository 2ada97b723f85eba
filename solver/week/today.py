"""Today's week: the rounds crews drive now, read from each bin's ``current`` day, week and round,
so that a review's proposed week can be compared with it by the one evaluator.

- **Which bins, which day**: a slot holds the bins whose current day is its weekday and whose
  current week is its week; a bin with no current week is collected that weekday in every week of
  the calendar. Bins with no ``current`` are in no day of today's week (the report says so).
- **Which vehicle**: a round named like a vehicle working that day is that vehicle's; the other
  named rounds, by name, take the day's other vehicles in the problem's order. A day with more
  rounds than vehicles gives the extra rounds to the same vehicles again, in turn (a crew driving
  two of today's rounds in a day), since the week's vehicles are all the council has. Bins with no
  round are routed by the engine over the day's vehicles that drive no named round; when every
  vehicle drives one, each such bin joins the round of the bin nearest to it (by drive time).
- **Which order**: when every bin a vehicle drives that day has a ``current.sequence`` (as an
  in-cab export gives it), the vehicle drives its rounds in name order, each bin by its sequence,
  and goes to the nearest open tip that takes the next bin's stream before a bin its kg would
  overflow, and at the end when it must tip before returning (:func:`in_given_order`); what such
  a round breaks (a shift overrun, say) the evaluator names. Otherwise the visiting order is not
  known, and that vehicle's bins are ordered by the daily engine on those bins alone (that
  vehicle, the tips open that day), within ``round_time_s`` (more for a big round,
  :func:`round_seconds`, and again with more when the engine found no solution in time). This is a
  *generous* baseline: the
  engine's order is usually better than the order crews drive, so savings measured against it
  understate the real ones.

The engine's unassigned bins (a round that cannot be driven as given: over its capacity on a day no
tip opens, longer than the shift) are kept with the engine's reasons. Units: seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.matrix import FleetMatrices
from solver.problem import SolveOptions
from solver.solution import Plan, RoutePlan, Unassigned
from solver.week.calendar import Slot
from solver.week.day import restrict
from solver.week.fleet_need import vehicles_needed
from solver.week.model import WeekBin, WeekProblem


@dataclass(frozen=True)
class TodayDay:
    """One day of today's week: its ``slot``, the ``bin_ids`` collected, the routes in the engine's
    order with the bins they leave out (``plan``), today's round names each vehicle drives
    (``rounds``: vehicle id to names, ``""`` for bins with no round) and the vehicles the day would
    need to serve all its bins (``vehicles_needed``, :func:`solver.week.fleet_need.vehicles_needed`)."""

    slot: Slot
    bin_ids: frozenset[str]
    plan: Plan
    rounds: dict[str, tuple[str, ...]]
    vehicles_needed: int = 0


def has_today(week: WeekProblem) -> bool:
    """Whether any bin of the week says where it is collected today."""
    return any(b.current is not None for b in week.bins)


def today_bins(week: WeekProblem, slot: Slot) -> list[WeekBin]:
    """The bins of the week's problem collected on ``slot`` today (see the module docstring)."""
    calendar = week.calendar
    day, label = calendar.day_of(slot), calendar.week_of(slot)
    held = {b.id for b in week.problem.bins}
    return [b for b in week.bins if b.id in held and b.current is not None and b.current.day == day
            and b.current.week in (None, label)]


def visits_today(week: WeekProblem) -> dict[str, int]:
    """How many times each bin with a current day is collected over the calendar today."""
    visits: dict[str, int] = {}
    for slot in range(week.calendar.horizon):
        for b in today_bins(week, slot):
            visits[b.id] = visits.get(b.id, 0) + 1
    return visits


def _owners(rounds: Sequence[str], vehicles: Sequence[str]) -> dict[str, str]:
    """The vehicle driving each named round (see the module docstring)."""
    owner = {name: name for name in rounds if name in vehicles}
    free = [v for v in vehicles if v not in owner.values()] or list(vehicles)
    rest = [name for name in rounds if name not in owner]
    owner.update({name: free[i % len(free)] for i, name in enumerate(rest)})
    return owner


def today_day(week: WeekProblem, matrices: FleetMatrices, slot: Slot, *, options: SolveOptions,
              round_time_s: float) -> TodayDay | None:
    """Today's rounds of ``slot`` ordered by the engine (``None``: nothing collected that day today)."""
    bins = today_bins(week, slot)
    if not bins:
        return None
    vehicles = list(week.vehicles_on(slot))
    ids = frozenset(b.id for b in bins)
    if not vehicles:
        label = week.calendar.label(slot)
        nobody = tuple(Unassigned(b.id, "no_compatible_vehicle", f"no vehicle works {label}, its day today")
                       for b in bins)
        return TodayDay(slot=slot, bin_ids=ids, plan=Plan(routes=(), unassigned=nobody), rounds={})
    named: dict[str, list[str]] = {}
    loose: list[str] = []
    for b in bins:
        assert b.current is not None
        if b.current.round is None:
            loose.append(b.id)
        else:
            named.setdefault(b.current.round, []).append(b.id)
    owner = _owners(sorted(named), vehicles)
    groups: dict[tuple[str, ...], list[str]] = {}
    rounds: dict[str, list[str]] = {}
    for name, members in sorted(named.items()):
        groups.setdefault((owner[name],), []).extend(members)
        rounds.setdefault(owner[name], []).append(name)
    spare = tuple(v for v in vehicles if (v,) not in groups)
    if loose and spare:
        groups[spare] = loose
        for v in spare:
            rounds.setdefault(v, []).append("")
    elif loose:
        _join_nearest(week, matrices, loose, groups)
    sites = week.tips_on(slot)
    routes: list[RoutePlan] = []
    unassigned: list[Unassigned] = []
    sequence = {b.id: b.current.sequence for b in bins if b.current is not None and b.current.sequence is not None}
    for group, members in groups.items():
        if len(group) == 1 and all(b in sequence for b in members):
            routes.append(in_given_order(week, matrices, group[0], members, sequence, sites))
            continue
        plan = _order(week, matrices, members, group, sites, options=options, round_time_s=round_time_s)
        routes += [r for r in plan.routes if r.stops]
        unassigned += plan.unassigned
    plan = Plan(routes=tuple(routes), unassigned=tuple(unassigned))
    cut, cut_matrices = restrict(week.problem, matrices, bin_ids=ids, vehicle_ids=vehicles, site_ids=sites)
    return TodayDay(slot=slot, bin_ids=ids, plan=plan, rounds={v: tuple(names) for v, names in rounds.items()},
                    vehicles_needed=vehicles_needed(cut, cut_matrices, plan, tips_open=bool(sites)))


def in_given_order(week: WeekProblem, matrices: FleetMatrices, vehicle_id: str, bin_ids: Sequence[str],
                   sequence: Mapping[str, int], site_ids: Sequence[str]) -> RoutePlan:
    """``vehicle_id``'s route through ``bin_ids`` in today's order: by round name, then ``sequence``, with
    a tip (the nearest of ``site_ids`` open to the bin's stream, by drive time) before a bin whose kg would
    overflow the vehicle, and at the end when it must tip before returning; breaks where they fit."""
    problem = week.problem
    vehicle = problem.vehicle(vehicle_id)
    duration = next(iter(matrices.profiles.values())).duration_s
    index = problem.location_index
    rounds = {b.id: b.current.round or "" for b in week.bins if b.current is not None}
    ordered = sorted(bin_ids, key=lambda b: (rounds.get(b, ""), sequence[b], b))
    stops: list[str] = []
    load = 0.0
    here = index(problem.depots[0].id)

    def tip(stream: str) -> None:
        nonlocal load, here
        open_to = [s for s in site_ids if stream in (problem.site(s).streams or (stream,))]
        if not open_to:
            return
        nearest = min(open_to, key=lambda s: float(duration[here, index(s)]))
        stops.append(nearest)
        load, here = 0.0, index(nearest)

    last_stream = ""
    for b in ordered:
        demand = problem.bin(b).demand_kg
        if site_ids and stops and load + demand > vehicle.capacity_kg:
            tip(problem.bin(b).stream)
        stops.append(b)
        load += demand
        here = index(b)
        last_stream = problem.bin(b).stream
    if site_ids and load > 0 and vehicle.tip_before_return:
        tip(last_stream)
    return RoutePlan(vehicle_id, tuple(stops), breaks_where_they_fit=True)


def _join_nearest(week: WeekProblem, matrices: FleetMatrices, loose: Sequence[str],
                  groups: dict[tuple[str, ...], list[str]]) -> None:
    """Each bin of ``loose`` joins the group holding the bin nearest to it (by drive time, either way)."""
    duration = next(iter(matrices.profiles.values())).duration_s
    index = week.problem.location_index
    placed = [(key, b) for key, members in groups.items() for b in members]
    rows = np.array([index(b) for _, b in placed], dtype=np.intp)
    for b in loose:
        here = index(b)
        nearest = int(np.argmin(duration[here, rows] + duration[rows, here]))
        groups[placed[nearest][0]].append(b)


FIRST_SOLUTION_S = 1.5
"""Seconds the engine is given at least for a round of :data:`FIRST_SOLUTION_BINS` bins, growing with the
square of the bins: OR-Tools' first solution of one vehicle through 800 Monaco bins took 0.6-0.75 s on this
machine (none within 0.2 s), of 400 under 0.2 s."""

FIRST_SOLUTION_BINS = 800

RETRIES = 2
"""Times a round the engine found no solution for within its time is tried again, with four times the time."""


def round_seconds(n_bins: int, base_s: float) -> float:
    """The engine's seconds for a round of ``n_bins`` bins: ``base_s``, or more for a big round, so that the
    engine finds a first solution (:data:`FIRST_SOLUTION_S`)."""
    return max(base_s, FIRST_SOLUTION_S * (n_bins / FIRST_SOLUTION_BINS) ** 2)


def today_round_count(week: WeekProblem) -> int:
    """How many rounds (at most) today's week asks the engine to order: per slot, its named rounds, plus one
    for its bins with no round."""
    count = 0
    for slot in range(week.calendar.horizon):
        bins = today_bins(week, slot)
        names = {b.current.round for b in bins if b.current is not None}
        count += len(names - {None}) + (None in names)
    return count


def _order(week: WeekProblem, matrices: FleetMatrices, bin_ids: Sequence[str], vehicle_ids: Sequence[str],
           site_ids: Sequence[str], *, options: SolveOptions, round_time_s: float) -> Plan:
    """The engine's routes of these bins with these vehicles alone (the day's tips open), within
    :func:`round_seconds`; a round the engine found no solution for in time is tried again with more."""
    from solver.engines import choose_engine  # the engines load only when a day is routed

    day, day_matrices = restrict(week.problem, matrices, bin_ids=set(bin_ids), vehicle_ids=set(vehicle_ids),
                                 site_ids=set(site_ids))
    seconds = round_seconds(len(day.bins), round_time_s)
    for attempt in range(RETRIES + 1):
        asked = dataclasses.replace(options, time_limit_s=max(seconds, 0.05), initial_routes=(), search_processes=1)
        engine = choose_engine(day, asked, matrices=day_matrices)
        plan = engine.solve(day, day_matrices, bin_ids=[b.id for b in day.bins], options=asked)
        timed_out = not any(r.stops for r in plan.routes) and any(u.reason == "no_feasible_insertion"
                                                                  for u in plan.unassigned)
        if not timed_out or attempt == RETRIES:
            return plan
        seconds *= 4
    raise AssertionError("unreachable")


def today_week(week: WeekProblem, matrices: FleetMatrices, *, options: SolveOptions, round_time_s: float,
               after_day: Callable[[], None] | None = None) -> dict[Slot, TodayDay]:
    """Today's rounds of every slot with bins today (see the module docstring); ``matrices`` are the
    week's problem's; ``after_day`` is called after each slot (a caller stops the work by raising there)."""
    days = {}
    for slot in range(week.calendar.horizon):
        day = today_day(week, matrices, slot, options=options, round_time_s=round_time_s)
        if day is not None:
            days[slot] = day
        if after_day is not None:
            after_day()
    return days
