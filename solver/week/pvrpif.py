"""A PVRP-IF benchmark instance (:mod:`solver.instances.pvrpif`) planned as a week: each customer a
unit whose patterns are its visiting schemes, every vehicle working and every facility open on
every day, each day routed by the daily engine and the week searched by :func:`solver.week.search.plan_week`.

The instances are scored on travel alone, so the week's objective here is cost first
(``vehicles_first`` off: the fleet each day is the instance's ``numVehicles``, a hard limit the
daily engine keeps), the way :mod:`solver.bench` solves published instances as published.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from solver.instances.pvrpif import DayRoute, PvrpifInstance, pvrpif_problem, routes_of_days
from solver.problem import SolveOptions
from solver.week.day import DayRouter
from solver.week.search import ProgressCallback, WeekPlan, plan_week, route_days
from solver.week.units import Pattern, Unit


@dataclass(frozen=True)
class PvrpifSolution:
    """The week found: routes in the instance's numbering, the search's plan, wall seconds, engine solves."""

    routes: list[DayRoute]
    plan: WeekPlan
    seconds: float
    solves: int


def pvrpif_units(instance: PvrpifInstance) -> list[Unit]:
    """One unit per customer, one pattern per visiting scheme (days as slots, the customer's node id as its bin)."""
    units = []
    for customer in instance.customers:
        bin_id = str(customer.id)
        patterns = tuple(Pattern(visits=tuple((day, (bin_id,)) for day in sorted(scheme)),
                                 label="days " + ",".join(str(d) for d in sorted(scheme)))
                         for scheme in instance.schemes(customer))
        units.append(Unit(id=bin_id, patterns=patterns, demand=customer.demand, location=bin_id, lon=customer.lon,
                          lat=customer.lat))
    return units


def _router(instance: PvrpifInstance, *, engine: str, seed: int) -> DayRouter:
    """The day router of an instance: every vehicle works and every facility opens on every day."""
    problem, matrices = pvrpif_problem(instance)
    slots = list(range(instance.horizon))
    every_vehicle = [v.id for v in problem.vehicles]
    every_site = [s.id for s in problem.disposal_sites]
    options = SolveOptions(time_limit_s=1.0, seed=seed, engine=engine, objective="distance")
    return DayRouter(problem, matrices, options, vehicles_on={s: every_vehicle for s in slots},
                     sites_on={s: every_site for s in slots})


def solve_pvrpif(instance: PvrpifInstance, *, time_limit_s: float, engine: str = "pyvrp", seed: int = 0,
                 progress: ProgressCallback | None = None) -> PvrpifSolution:
    """Plan the instance's week within ``time_limit_s`` wall seconds with the daily ``engine``."""
    started = time.perf_counter()
    router = _router(instance, engine=engine, seed=seed)
    problem, matrices = router.problem, router.matrices
    slots = list(range(instance.horizon))
    every_site = [s.id for s in problem.disposal_sites]
    depot = instance.depot
    travel = matrices.profiles["all"].distance_m
    capacity = {s: instance.num_vehicles * instance.max_capacity * max(1, len(every_site)) for s in slots}
    plan = plan_week(pvrpif_units(instance), slots, router, time_limit_s=max(time_limit_s - 0.2, 0.2),
                     travel=travel, depot_row=problem.location_index(str(depot.id)), centre=(depot.lon, depot.lat),
                     capacity=capacity, vehicles_first=False, seed=seed, progress=progress)
    days = {s: [list(r.stops) for r in plan.days[s].plan.routes if r.stops] for s in slots}
    return PvrpifSolution(routes=routes_of_days(days, depot.id), plan=plan, seconds=time.perf_counter() - started,
                          solves=router.solves)


def route_reported_days(instance: PvrpifInstance, reported: Sequence[DayRoute], *, time_limit_s: float,
                        engine: str = "pyvrp", seed: int = 0) -> PvrpifSolution:
    """Route, with the daily ``engine``, the days of a reported plan (each customer kept on the days it
    is visited there), ``time_limit_s`` wall seconds shared by the days.

    A diagnosis of the week's search rather than a solver: with the days given, what is left is
    daily routing, so the gap of this plan to the report is the daily engine's, and the gap of
    :func:`solve_pvrpif`'s plan beyond it is the choice of days. Raises ``ValueError`` when the
    report visits a customer on days that are not one of its schemes.
    """
    started = time.perf_counter()
    router = _router(instance, engine=engine, seed=seed)
    days_of: dict[str, set[int]] = {}
    for day, path in reported:
        for node in path:
            days_of.setdefault(str(node), set()).add(day)
    units = pvrpif_units(instance)
    choice = {}
    for unit in units:
        visited = days_of.get(unit.id, set())
        k = next((k for k, p in enumerate(unit.patterns) if set(p.slots) == visited), None)
        if k is None:
            raise ValueError(f"customer {unit.id}: reported on days {sorted(visited)}, not one of its schemes")
        choice[unit.id] = k
    slots = list(range(instance.horizon))
    days = route_days(units, choice, slots, router, time_limit_s=max(time_limit_s / max(len(slots), 1), 0.05))
    plan = WeekPlan(choice=choice, days=days, change_cost=0.0, vehicles_first=False)
    routes = {s: [list(r.stops) for r in plan.days[s].plan.routes if r.stops] for s in slots}
    return PvrpifSolution(routes=routes_of_days(routes, instance.depot.id), plan=plan,
                          seconds=time.perf_counter() - started, solves=router.solves)
