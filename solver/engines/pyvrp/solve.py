"""PyVRP's search on the model, its stopping rule, and its routes read back as a plan."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvrp
from pyvrp import Activity, ActivityType, ProblemData
from pyvrp.exceptions import PenaltyBoundWarning

from solver.engines.base import (
    ACCESS_PROFILES,
    DISPOSAL_SITES,
    MULTI_CAPACITY,
    OBJECTIVE_COST,
    OPTIONAL_BINS,
    PINNED_BINS,
    STREAMS,
    TIME_WINDOWS,
    WARM_START,
    required_features,
)
from solver.engines.pyvrp.model import _Builder, _Model
from solver.engines.pyvrp.objective import BoolArray
from solver.evaluate import check_matrices
from solver.feasibility import resolve_bins, screen_bins
from solver.matrix import FleetMatrices
from solver.problem import BREAK_STOP, Bin, Problem, ProblemError, SolveOptions, Vehicle
from solver.progress import ProgressReporter
from solver.solution import Plan, RoutePlan, Unassigned

logger = logging.getLogger(__name__)


GIVE_UP_FRACTION = 0.7
"""Share of the search time (or iterations) after which a search with no feasible plan yet is rerun
with every bin optional. On 2,000 bins with tips, windows and two streams PyVRP took about 1,400
iterations to its first feasible plan, so giving up early costs good plans."""

MIN_SEARCH_FRACTION = 0.1
"""Share of ``time_limit_s`` a search keeps even when building the model used up the rest."""

_INFEASIBLE_COST = int(np.iinfo(np.int64).max)
"""What PyVRP's cost evaluator gives an infeasible solution."""


class _Stop:
    """PyVRP stopping criterion: a deadline, an iteration cap, and giving up early on a search
    that has found no feasible plan by ``give_up`` of its time (or of its iterations, when
    capped, so that capped runs stay repeatable)."""

    def __init__(self, *, seconds: float, give_up: float | None, max_iterations: int | None,
                 progress: ProgressReporter | None = None) -> None:
        now = time.perf_counter()
        self.progress = progress
        self.deadline = now + seconds
        self.give_up_at = None if give_up is None else now + give_up * seconds
        self.give_up_iterations = None if give_up is None or max_iterations is None else give_up * max_iterations
        self.max_iterations = max_iterations
        self.iterations = 0

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            return True
        now = time.perf_counter()
        if now >= self.deadline:
            return True
        feasible = best_cost < _INFEASIBLE_COST
        if self.progress is not None and not self.progress.report(float(best_cost) if feasible else None):
            return True
        if feasible:
            return False
        if self.give_up_iterations is not None:
            return self.iterations >= self.give_up_iterations
        return self.give_up_at is not None and now >= self.give_up_at


def _warm_start(model: _Model, problem: Problem, options: SolveOptions) -> pyvrp.Solution | None:
    """``options.initial_routes`` as a PyVRP solution (bins and sites it cannot use left out)."""
    if not options.initial_routes:
        return None
    type_of = {v.id: t for t, vt in enumerate(model.types) for v in vt.vehicles}
    site_depot = {site: depot for depot, site in model.depot_site.items()}
    used: set[str] = set()
    routes = []
    seen_vehicles: set[str] = set()
    for route in options.initial_routes:
        t = type_of.get(route.vehicle_id)
        if t is None or route.vehicle_id in seen_vehicles:
            continue
        seen_vehicles.add(route.vehicle_id)
        reloads = set(model.types[t].reload_depots)
        activities: list[Activity] = []
        for stop in route.stops:
            if stop == BREAK_STOP:
                continue
            if stop in model.bin_clients and stop not in used:
                used.add(stop)
                activities.append(Activity(ActivityType.CLIENT, model.bin_clients[stop][0]))
            elif site_depot.get(stop) in reloads:
                activities.append(Activity(ActivityType.DEPOT, site_depot[stop]))
        while activities and activities[-1].is_depot():
            activities.pop()  # the final tip is implied by the route's end
        if any(a.is_client() for a in activities):
            routes.append(pyvrp.Route(model.data, activities, t))
    if not routes:
        return None
    try:
        return pyvrp.Solution(model.data, routes)
    except (ValueError, IndexError) as exc:
        logger.warning("pyvrp: initial routes ignored, PyVRP rejects them as a solution: %s", exc)
        return None


def _same_routes(data: ProblemData, solution: pyvrp.Solution) -> pyvrp.Solution:
    """``solution``'s routes on ``data`` (same clients and depots, other prizes or requirements)."""
    routes = [pyvrp.Route(data, [Activity(a.type, a.idx) for a in list(r.schedule())[1:-1]], r.vehicle_type())
              for r in solution.routes()]
    return pyvrp.Solution(data, routes)


def _search(data: ProblemData, stop: _Stop, seed: int, initial: pyvrp.Solution | None) -> pyvrp.Result:
    """PyVRP's search, quietly: a penalty at its bound only means no feasible plan is found yet,
    which the engine handles."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial)


class PyVrpEngine:
    """Waste collection routes by PyVRP's iterated local search (see :mod:`solver.engines.pyvrp`).

    ``max_iterations`` stops each search after that many iterations (besides
    ``options.time_limit_s``), which makes runs repeatable whatever the machine's speed.
    """

    name: str = "pyvrp"
    features: frozenset[str] = frozenset({
        DISPOSAL_SITES, TIME_WINDOWS, MULTI_CAPACITY, STREAMS, ACCESS_PROFILES, OPTIONAL_BINS, PINNED_BINS,
        WARM_START, OBJECTIVE_COST,
    })

    def __init__(self, *, max_iterations: int | None = None) -> None:
        if max_iterations is not None and max_iterations < 1:
            raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
        self.max_iterations = max_iterations

    def solve(self, problem: Problem, matrices: FleetMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`).

        Raises :class:`ProblemError` (field ``options.engine``) for a request needing a
        feature this engine does not model. Bins no vehicle could serve alone are
        unassigned with the reason :func:`solver.feasibility.screen_bins` found; those that
        fail only once rounded to the model's integers, and those the search leaves out,
        get ``no_feasible_insertion``. Unassigned bins follow ``bin_ids`` order; routes
        follow fleet order, empty ones omitted.
        """
        started = time.perf_counter()
        missing = required_features(problem, options, matrices=matrices) - self.features
        if missing:
            raise ProblemError(f"options.engine: engine {self.name!r} does not support "
                               f"{', '.join(sorted(missing))}, which this request needs", field="options.engine")
        check_matrices(problem, matrices)
        requested = [b.id for b in resolve_bins(problem, bin_ids)]
        servable_ids, ruled_out = screen_bins(problem, matrices, requested)
        reasons = {u.bin_id: u for u in ruled_out}
        servable = resolve_bins(problem, servable_ids)
        routes: tuple[RoutePlan, ...] = ()
        if servable:
            routes, dropped = self._solve_servable(problem, matrices, servable, options, started, progress)
            reasons.update(dropped)
        unassigned = tuple(reasons[b] for b in requested if b in reasons)
        logger.info("pyvrp: %d bins on %d routes, %d unassigned, in %.3f s",
                    len(requested) - len(unassigned), len(routes), len(unassigned),
                    time.perf_counter() - started)
        return Plan(routes=routes, unassigned=unassigned)

    def _solve_servable(self, problem: Problem, matrices: FleetMatrices, servable: Sequence[Bin],
                        options: SolveOptions, started: float, progress: ProgressReporter | None = None
                        ) -> tuple[tuple[RoutePlan, ...], dict[str, Unassigned]]:
        """Routes for bins that passed the screen, and the bins left out (by id)."""
        model = _Builder(problem, matrices, servable, options).build()
        alone = _servable_alone(model)
        detail = ("no vehicle can serve it alone once loads are rounded up to whole grams and times to tenths "
                  "of a second (with the tip it must end with)")
        dropped = {b.id: Unassigned(b.id, "no_feasible_insertion", detail)
                   for b, ok in zip(servable, alone, strict=True) if not ok}
        if dropped:
            kept = [b for b, ok in zip(servable, alone, strict=True) if ok]
            if not kept:
                return (), dropped
            model = _Builder(problem, matrices, kept, options).build()
        built = time.perf_counter()
        search_s = max(options.time_limit_s - (built - started), MIN_SEARCH_FRACTION * options.time_limit_s)
        logger.info("pyvrp: model with %d bins, %d clients, %d vehicle types, %d profiles built in %.3f s; "
                    "searching up to %.2f s", len(model.bins), model.data.num_clients, model.data.num_vehicle_types,
                    model.data.num_profiles, built - started, search_s)
        seed = options.seed % 2**32
        stop = _Stop(seconds=search_s, give_up=GIVE_UP_FRACTION, max_iterations=self.max_iterations,
                     progress=progress)
        result = _search(model.data, stop, seed, _warm_start(model, problem, options))
        best, data = result.best, model.data
        if not best.is_feasible() and (progress is None or not progress.stopped):
            remaining = max(search_s - (time.perf_counter() - built), MIN_SEARCH_FRACTION * search_s)
            logger.info("pyvrp: no feasible plan with every bin required after %d iterations; searching "
                        "%.2f s more with bins optional", result.num_iterations, remaining)
            data = relaxed = model.relaxed()
            left = None if self.max_iterations is None else max(1, self.max_iterations - result.num_iterations)
            stop = _Stop(seconds=remaining, give_up=None, max_iterations=left, progress=progress)
            result = _search(relaxed, stop, seed, _same_routes(relaxed, best))
            best = result.best
        logger.info("pyvrp: search finished after %d iterations in %.3f s, feasible: %s", result.num_iterations,
                    time.perf_counter() - built, best.is_feasible())
        routes = _routes_of(problem, model, data, best, options)
        served = {stop for route in routes for stop in route.stops}
        required = "the search found no route that could take it within the time limit"
        optional = ("the search left it out: no route took it for less than its penalty within the time "
                    "limit")
        dropped.update({b.id: Unassigned(b.id, "no_feasible_insertion", required if b.required else optional)
                        for b in model.bins if b.id not in served})
        return routes, dropped


def _servable_alone(model: _Model) -> BoolArray:
    """For each bin of ``model``, whether some vehicle type can serve it on a route of its own
    in the integer model (loads in grams, times in ticks, the closing tip included)."""
    data = model.data
    clients = data.clients()
    depots = data.depots()
    location = np.array([c.location for c in clients], dtype=np.intp)
    early = np.array([c.tw_early for c in clients], dtype=np.int64)
    late = np.array([c.tw_late for c in clients], dtype=np.int64)
    service = np.array([c.service_duration for c in clients], dtype=np.int64)
    load = np.array([c.pickup for c in clients], dtype=np.int64).reshape(len(clients), -1)
    ok = np.zeros(len(clients), dtype=np.bool_)
    matrices: dict[int, Any] = {}
    for vt in data.vehicle_types():
        if vt.profile not in matrices:
            matrices[vt.profile] = data.duration_matrix(vt.profile)
        ticks = matrices[vt.profile]
        start, end = depots[vt.start_depot], depots[vt.end_depot]
        begin = np.maximum(vt.tw_early + ticks[start.location, location], early)
        back = begin + service + ticks[location, end.location]
        ok |= ((load <= np.array(vt.capacity, dtype=np.int64)[None, :]).all(axis=1) & (begin <= late)
               & (back <= end.tw_late) & (np.maximum(back, end.tw_early) <= vt.tw_late))
    index = {b.id: j for j, b in enumerate(model.bins)}
    servable = np.zeros(len(model.bins), dtype=np.bool_)
    np.logical_or.at(servable, np.array([index[b] for b in model.client_bin], dtype=np.intp), ok)
    return servable


def _stops_of(model: _Model, route: pyvrp.Route) -> tuple[str, ...]:
    """A PyVRP route as bin ids and site ids in driving order, the final tip of a route that
    ends through a virtual end included."""
    stops: list[str] = []
    last_location = -1
    schedule = list(route.schedule())
    for activity in schedule[1:-1]:
        if activity.is_client():
            stops.append(model.client_bin[activity.idx])
            last_location = model.client_location[activity.idx]
        elif activity.is_depot():
            stops.append(model.depot_site[activity.idx])
            last_location = -1
    final = model.final_site.get(schedule[-1].idx, {}).get(last_location)
    if final is not None:
        stops.append(final)
    return tuple(stops)


def _assign(vehicles: Sequence[Vehicle], routes: Sequence[tuple[str, ...]], options: SolveOptions
            ) -> dict[str, tuple[str, ...]]:
    """Routes of one vehicle type to its (interchangeable) vehicles: each route to the vehicle whose
    initial route shares most bins with it, so that a warm start keeps rounds on their vehicles;
    the others in fleet order."""
    initial = {r.vehicle_id: set(r.stops) for r in options.initial_routes}
    pairs = sorted(((len(initial.get(v.id, set()) & set(stops)), -r, -k)
                    for r, stops in enumerate(routes) for k, v in enumerate(vehicles)), reverse=True)
    taken_routes: set[int] = set()
    taken_vehicles: set[int] = set()
    assigned: dict[str, tuple[str, ...]] = {}
    for shared, minus_r, minus_k in pairs:
        r, k = -minus_r, -minus_k
        if shared == 0 or r in taken_routes or k in taken_vehicles:
            continue
        taken_routes.add(r)
        taken_vehicles.add(k)
        assigned[vehicles[k].id] = routes[r]
    free = iter(k for k in range(len(vehicles)) if k not in taken_vehicles)
    for r, stops in enumerate(routes):
        if r not in taken_routes:
            assigned[vehicles[next(free)].id] = stops
    return assigned


def _violation(route: pyvrp.Route) -> int:
    """How much a PyVRP route breaks its constraints: excess load over all dimensions plus time warp."""
    return sum(route.excess_load()) + route.time_warp() + route.excess_distance()


def _repaired(data: ProblemData, route: pyvrp.Route) -> pyvrp.Route | None:
    """A feasible route from an infeasible one by leaving bins out, greedily: each time the bin
    whose removal cuts the violation most, among the bins late or on an overloaded trip (all of
    them when none is). ``None`` when nothing feasible is left."""
    activities = [Activity(a.type, a.idx) for a in list(route.schedule())[1:-1]]
    vehicle_type = route.vehicle_type()
    while any(a.is_client() for a in activities):
        schedule = list(route.schedule())[1:-1]
        overloaded = {a.trip for a in schedule if a.is_client()} if sum(route.excess_load()) else set()
        suspects = [k for k, a in enumerate(schedule) if a.is_client() and (a.time_warp > 0 or a.trip in overloaded)]
        suspects = suspects or [k for k, a in enumerate(activities) if a.is_client()]
        trials = [(k, pyvrp.Route(data, activities[:k] + activities[k + 1:], vehicle_type)) for k in suspects]
        k, route = min(trials, key=lambda trial: (_violation(trial[1]), trial[0]))
        del activities[k]
        if route.is_feasible():
            return route if any(a.is_client() for a in activities) else None
    return None


def _routes_of(problem: Problem, model: _Model, data: ProblemData, solution: pyvrp.Solution,
               options: SolveOptions) -> tuple[RoutePlan, ...]:
    """The routes of ``solution`` (on ``data``) in fleet order. A route that is still infeasible,
    possible only when the relaxed search found no feasible plan either, first loses bins
    (see :func:`_repaired`), which then go unassigned."""
    per_type: dict[int, list[tuple[str, ...]]] = {}
    for route in solution.routes():
        feasible = route if route.is_feasible() else _repaired(data, route)
        if feasible is not None:
            per_type.setdefault(feasible.vehicle_type(), []).append(_stops_of(model, feasible))
    by_vehicle: dict[str, tuple[str, ...]] = {}
    for t, routes in per_type.items():
        by_vehicle.update(_assign(model.types[t].vehicles, routes, options))
    return tuple(RoutePlan(v.id, by_vehicle[v.id]) for v in problem.vehicles if by_vehicle.get(v.id))
