"""A PVRP-IF benchmark instance (:mod:`solver.instances.pvrpif`) planned as a week: each customer a
unit whose patterns are its visiting schemes, every vehicle working and every facility open on
every day, each day routed by the daily engine and the week searched by :func:`solver.week.search.plan_week`.

The instances are scored on travel alone, so the week's objective here is cost first
(``vehicles_first`` off: the fleet each day is the instance's ``numVehicles``, a hard limit the
daily engine keeps), the way :mod:`solver.bench` solves published instances as published.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from solver.instances.pvrpif import DayRoute, PvrpifInstance, pvrpif_problem, routes_of_days
from solver.problem import SolveOptions
from solver.week.day import DayRouter
from solver.week.search import ProgressCallback, WeekPlan, plan_week
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


def solve_pvrpif(instance: PvrpifInstance, *, time_limit_s: float, engine: str = "pyvrp", seed: int = 0,
                 progress: ProgressCallback | None = None) -> PvrpifSolution:
    """Plan the instance's week within ``time_limit_s`` wall seconds with the daily ``engine``."""
    started = time.perf_counter()
    problem, matrices = pvrpif_problem(instance)
    slots = list(range(instance.horizon))
    every_vehicle = [v.id for v in problem.vehicles]
    every_site = [s.id for s in problem.disposal_sites]
    options = SolveOptions(time_limit_s=1.0, seed=seed, engine=engine, objective="distance")
    router = DayRouter(problem, matrices, options, vehicles_on={s: every_vehicle for s in slots},
                       sites_on={s: every_site for s in slots})
    depot = instance.depot
    travel = matrices.profiles["all"].distance_m
    capacity = {s: instance.num_vehicles * instance.max_capacity * max(1, len(every_site)) for s in slots}
    plan = plan_week(pvrpif_units(instance), slots, router, time_limit_s=max(time_limit_s - 0.2, 0.2),
                     travel=travel, depot_row=problem.location_index(str(depot.id)), centre=(depot.lon, depot.lat),
                     capacity=capacity, vehicles_first=False, seed=seed, progress=progress)
    days = {s: [list(r.stops) for r in plan.days[s].plan.routes if r.stops] for s in slots}
    return PvrpifSolution(routes=routes_of_days(days, depot.id), plan=plan, seconds=time.perf_counter() - started,
                          solves=router.solves)
