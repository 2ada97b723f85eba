"""One day of the week routed by the daily engine, as it stands.

A week's days share one daily :class:`~solver.problem.Problem` holding every bin, vehicle and
tip, and its :class:`~solver.matrix.FleetMatrices`. :func:`restrict` cuts from them the problem
of one day (the bins collected that day, the vehicles working it, the tips open) with the rows
and columns of its matrices; :class:`DayRouter` solves it with the engine the options name
(:func:`solver.engines.choose_engine`: tips, windows, breaks, streams, access) and scores the
plan with the one evaluator (:func:`solver.evaluate.evaluate`), never with an engine's own
objective. Routed days are remembered by what defines them (vehicles, tips, bins), so a day
whose bins come back after a rejected move, or another day with the same bins (days 0 and 2 of
a four-day horizon often hold the same customers), is not solved again.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np

from solver.evaluate import evaluate
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, InitialRoute, Problem, SolveOptions
from solver.solution import Evaluation, Plan, Unassigned
from solver.week.calendar import Slot

SHAPED_FROM_S = 5.0
"""A day searched for at least this many seconds is searched shaped (``balance`` and ``compact`` as asked)."""

SHAPED_S_PER_BIN = 0.01
"""Below :data:`SHAPED_FROM_S`, a day searched for less than this many seconds per bin is searched plain
(``balance`` and ``compact`` off): the shaped solve's phases share the limit, and a phase of a few hundredths
of a second on a day of hundreds of bins drops most of them (docs/performance.md, "The week at district
scale"); a small day is shaped even in a short search, so that its rounds keep the balance asked for."""

DayMeasure = Callable[[Evaluation], float]
"""A day's cost from its evaluation (the objective's units: metres, seconds or money)."""


def objective_measure(objective: str) -> DayMeasure:
    """The evaluator's figure an objective minimises: ``distance_m``, ``duration_s`` or the money cost."""
    if objective == "distance":
        return lambda e: e.summary.distance_m
    if objective == "duration":
        return lambda e: e.summary.duration_s
    return lambda e: e.summary.objective_cost


def restrict(problem: Problem, matrices: FleetMatrices, *, bin_ids: Collection[str], vehicle_ids: Collection[str],
             site_ids: Collection[str]) -> tuple[Problem, FleetMatrices]:
    """The problem of one day: ``problem``'s bins, vehicles and tips named (kept in the problem's
    order, so that the same day always gives the same problem) and the matching matrix rows."""
    bins = tuple(b for b in problem.bins if b.id in bin_ids)
    vehicles = tuple(v for v in problem.vehicles if v.id in vehicle_ids)
    sites = tuple(s for s in problem.disposal_sites if s.id in site_ids)
    day = Problem(depots=problem.depots, vehicles=vehicles, bins=bins, disposal_sites=sites)
    rows = np.array([problem.location_index(i) for i in day.location_ids()], dtype=np.intp)
    cut = np.ix_(rows, rows)
    profiles = {key: TravelMatrices(duration_s=m.duration_s[cut], distance_m=m.distance_m[cut])
                for key, m in matrices.profiles.items()}
    return day, FleetMatrices(profiles=profiles, vehicle_profile={v.id: matrices.vehicle_profile[v.id]
                                                                  for v in vehicles})


@dataclass(frozen=True)
class DayRoutes:
    """A routed day: its ``slot``, ``bin_ids``, the engine's ``plan`` and the evaluator's ``evaluation``,
    its ``cost`` (the router's measure), ``vehicles`` used and bins ``unserved`` (left out, or on a route
    that breaks a rule: a day that is not ``feasible``)."""

    slot: Slot
    bin_ids: frozenset[str]
    plan: Plan
    evaluation: Evaluation | None
    cost: float
    vehicles: int
    unserved: int

    @property
    def feasible(self) -> bool:
        """Every bin served and no rule broken."""
        return self.unserved == 0


class DayRouter:
    """Routes the days of a week with the daily engine (see the module docstring).

    ``vehicles_on`` and ``sites_on`` give the vehicle ids working and tip ids open on each slot;
    ``options`` the engine, objective and seed (their ``time_limit_s`` is replaced by each call's);
    ``measure`` a day's cost (default: the figure ``options.objective`` minimises).
    """

    def __init__(self, problem: Problem, matrices: FleetMatrices, options: SolveOptions, *,
                 vehicles_on: Mapping[Slot, Collection[str]], sites_on: Mapping[Slot, Collection[str]],
                 measure: DayMeasure | None = None) -> None:
        self.problem = problem
        self.matrices = matrices
        self.options = options
        self.vehicles_on = {s: tuple(v.id for v in problem.vehicles if v.id in ids) for s, ids in vehicles_on.items()}
        self.sites_on = {s: tuple(t.id for t in problem.disposal_sites if t.id in ids) for s, ids in sites_on.items()}
        self.measure = measure or objective_measure(options.objective)
        self._best: dict[tuple[tuple[str, ...], tuple[str, ...], frozenset[str]], DayRoutes] = {}
        self.solves = 0
        self.solve_seconds = 0.0

    def capped(self, n_vehicles: int | Mapping[Slot, int]) -> DayRouter:
        """A router that works each day with at most ``n_vehicles`` of the day's vehicles (the first; one
        number for every day or one per slot), sharing this one's memory of routed days."""
        caps = n_vehicles if isinstance(n_vehicles, Mapping) else dict.fromkeys(self.vehicles_on, n_vehicles)
        router = DayRouter(self.problem, self.matrices, self.options,
                           vehicles_on={s: ids[:caps.get(s, len(ids))] for s, ids in self.vehicles_on.items()},
                           sites_on=self.sites_on, measure=self.measure)
        router._best = self._best
        return router

    @property
    def fleet(self) -> int:
        """The most vehicles any day has."""
        return max((len(ids) for ids in self.vehicles_on.values()), default=0)

    def _key(self, slot: Slot, bin_ids: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
        return self.vehicles_on.get(slot, ()), self.sites_on.get(slot, ()), bin_ids

    def known(self, slot: Slot, bin_ids: Collection[str]) -> DayRoutes | None:
        """The best routing found so far of these bins on this slot (or an identical day), if any."""
        bins = frozenset(bin_ids)
        best = self._best.get(self._key(slot, bins))
        return None if best is None else dataclasses.replace(best, slot=slot)

    def route(self, slot: Slot, bin_ids: Collection[str], *, time_limit_s: float,
              warm: DayRoutes | None = None, again: bool = False) -> DayRoutes:
        """The day's routes: the remembered best unless ``again`` (then the engine searches once more,
        from ``warm``'s routes when given, and the better of the two is kept)."""
        bins = frozenset(bin_ids)
        key = self._key(slot, bins)
        best = self._best.get(key)
        if best is not None and not again:
            return dataclasses.replace(best, slot=slot)
        routed = self._solve(slot, bins, time_limit_s=time_limit_s, warm=warm if warm is not None else best)
        if best is None or _better(routed, best):
            self._best[key] = routed
            return routed
        return dataclasses.replace(best, slot=slot)

    def adopt(self, slot: Slot, bin_ids: Collection[str], plan: Plan) -> DayRoutes:
        """Score routes made elsewhere (say, by moves between days) for these bins on this slot with the
        evaluator, and remember them when they beat the best known; returns them scored."""
        bins = frozenset(bin_ids)
        vehicle_ids = self.vehicles_on.get(slot, ())
        day, day_matrices = restrict(self.problem, self.matrices, bin_ids=bins, vehicle_ids=vehicle_ids,
                                     site_ids=self.sites_on.get(slot, ()))
        evaluation = evaluate(day, day_matrices, plan)
        unserved = len(evaluation.unassigned) + sum(len(r.violations) > 0 for r in evaluation.routes)
        routed = DayRoutes(slot=slot, bin_ids=bins, plan=plan, evaluation=evaluation, cost=self.measure(evaluation),
                           vehicles=evaluation.summary.vehicles_used, unserved=unserved)
        key = self._key(slot, bins)
        best = self._best.get(key)
        if best is None or _better(routed, best):
            self._best[key] = routed
        return routed

    def _solve(self, slot: Slot, bins: frozenset[str], *, time_limit_s: float, warm: DayRoutes | None) -> DayRoutes:
        if not bins:
            return DayRoutes(slot=slot, bin_ids=bins, plan=Plan(routes=()), evaluation=None, cost=0.0, vehicles=0,
                             unserved=0)
        vehicle_ids = self.vehicles_on.get(slot, ())
        if not vehicle_ids:
            unassigned = tuple(Unassigned(bin_id=b, reason="no_compatible_vehicle",
                                             detail="no vehicle works this day")
                               for b in sorted(bins))
            return DayRoutes(slot=slot, bin_ids=bins, plan=Plan(routes=(), unassigned=unassigned), evaluation=None,
                             cost=0.0, vehicles=0, unserved=len(bins))
        from solver.engines import choose_engine  # the engines load only when a day is routed

        day, day_matrices = restrict(self.problem, self.matrices, bin_ids=bins, vehicle_ids=vehicle_ids,
                                     site_ids=self.sites_on.get(slot, ()))
        initial = () if warm is None else _warm_routes(warm.plan, bins, day)
        options = dataclasses.replace(self.options, time_limit_s=max(time_limit_s, 0.05), initial_routes=initial,
                                      search_processes=1 if initial else self.options.search_processes)
        if time_limit_s < min(SHAPED_FROM_S, SHAPED_S_PER_BIN * len(bins)) and (options.balance or options.compact):
            # the shaped solve's phases share the limit, and a phase of a few hundredths of a second drops
            # most bins, each then explained by a search of its own: 1,000 properties at a 30 s limit
            # (0.3 s a day) took 527 s, 96 % of it explaining dropped bins
            options = dataclasses.replace(options, balance=False, compact=False)
        engine = choose_engine(day, options, matrices=day_matrices)
        started = time.perf_counter()
        plan = engine.solve(day, day_matrices, bin_ids=[b.id for b in day.bins], options=options)
        self.solve_seconds += time.perf_counter() - started
        self.solves += 1
        evaluation = evaluate(day, day_matrices, plan)
        unserved = len(evaluation.unassigned) + sum(len(r.violations) > 0 for r in evaluation.routes)
        return DayRoutes(slot=slot, bin_ids=bins, plan=plan, evaluation=evaluation, cost=self.measure(evaluation),
                         vehicles=evaluation.summary.vehicles_used, unserved=unserved)


def _better(a: DayRoutes, b: DayRoutes) -> bool:
    """Whether day routing ``a`` beats ``b``: fewer bins unserved, then lower cost."""
    return (a.unserved, a.cost) < (b.unserved, b.cost)


def _warm_routes(plan: Plan, bins: frozenset[str], day: Problem) -> tuple[InitialRoute, ...]:
    """``plan``'s routes as a warm start for ``day``: bins no longer collected dropped (new ones the
    engine inserts), tips kept where open, only vehicles that work the day."""
    vehicles = {v.id for v in day.vehicles}
    sites = {s.id for s in day.disposal_sites}
    routes = []
    for route in plan.routes:
        if route.vehicle_id not in vehicles:
            continue
        stops = tuple(s for s in route.stops if s in bins or s in sites or s == BREAK_STOP)
        if any(s in bins for s in stops):
            routes.append(InitialRoute(vehicle_id=route.vehicle_id, stops=stops))
    return tuple(routes)
