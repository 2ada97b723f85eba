"""The OR-Tools engine: the search on the routing model, its two phases for breaks, and the
plan read back (see :mod:`solver.engines.ortools`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from solver.engines.base import ALL_FEATURES
from solver.engines.ortools.data import ModelData, build_data, reserve_breaks
from solver.engines.ortools.model import (
    Model,
    RouteNodes,
    break_positions,
    build_model,
    read_routes,
    stop_ids,
    with_breaks,
)
from solver.evaluate import AnyMatrices, as_fleet, check_matrices, evaluate_route
from solver.feasibility import resolve_bins, screen_bins
from solver.matrix import FleetMatrices
from solver.problem import BREAK_STOP, Bin, Problem, SolveOptions, Vehicle
from solver.progress import ProgressReporter
from solver.scaling import TIME_TOLERANCE_S
from solver.solution import Plan, RoutePlan, Unassigned

logger = logging.getLogger(__name__)

MIN_SEARCH_FRACTION = 0.1
"""Share of ``time_limit_s`` the search keeps even when building the model used up the rest."""

EXACT_BREAKS_SHARE = 0.2
"""Share of the search time kept back, when vehicles have breaks, for the exact model (phase 2);
when phase 2 is not needed, phase 1 searches on for that time."""

MIN_CONTINUATION_S = 0.5
"""Least time worth a continued phase-1 search."""

AUTO = "auto"
"""First-solution strategy chosen by the problem: ``SEQUENTIAL_CHEAPEST_INSERTION`` when some bin
has time windows or vehicles differ in the bins they may take, ``PATH_CHEAPEST_ARC`` otherwise.
``PATH_CHEAPEST_ARC`` extends a route to the nearest bin even when its window opens hours later
(on 1,000 synthetic bins, a tenth with two-hour windows, it left a fifth of them out, which the
search never recovered; the insertion heuristic served them all), and it orders every vehicle's
candidates by the first vehicle's arc costs, so with two streams (arcs into the other stream's
bins priced as forbidden, see :mod:`solver.engines.ortools.data`) it built the other stream's
routes in node order, tipping after every bin, and served 923 of 2,000 bins (the insertion
heuristic: all 2,000, in 11 s)."""


def _seeded_order(n: int, seed: int) -> list[int]:
    """Positions 0..n-1 in the order given to the model: identity for seed 0, else a seeded shuffle."""
    order = list(range(n))
    if seed != 0:
        random.Random(seed).shuffle(order)
    return order


@dataclass(frozen=True)
class _Start:
    """The initial routes in model nodes (one list per vehicle) and the locked prefix of each."""

    routes: list[list[int]]
    locks: list[list[int]]

    @property
    def empty(self) -> bool:
        return not any(self.routes)


def _visit_node(data: ModelData, j: int, start_s: float | None) -> int:
    """The visit node of bin ``j`` for a collection starting at ``start_s`` (seconds since midnight;
    ``None``: unknown): the one whose window is the first not closed by then."""
    visits = data.bin_visits[j]
    if start_s is None or len(visits) == 1:
        return visits[0]
    t = start_s - data.origin_s
    for node in visits:
        window = data.visit_window[node - data.visit_offset]
        if window is not None and t <= window[1]:
            return node
    return visits[-1]


def _initial_nodes(problem: Problem, fleet: FleetMatrices, data: ModelData, options: SolveOptions) -> _Start:
    """``options.initial_routes`` as model nodes.

    Bins the model has and the vehicle may serve keep their place (a bin with several
    windows in the window the evaluator starts it in); a site visit takes a free unload
    copy of that vehicle and site (a vehicle whose end node tips drops its trailing site
    visits: the end node makes that tip); breaks are left to the model; anything else,
    and a bin met again, is left out. A tip right after the depot or after another tip is left out (such arcs
    are never driven). The locked prefix is what is kept of the first ``locked`` stops.
    """
    index_of = {spec.vehicle.id: k for k, spec in enumerate(data.vehicles)}
    bin_index = {b.id: j for j, b in enumerate(data.bins)}
    free: dict[tuple[int, int], list[int]] = {}
    for c, cp in enumerate(data.copies):
        free.setdefault((cp.vehicle, cp.site), []).append(data.copy_offset + c)
    routes: list[list[int]] = [[] for _ in data.vehicles]
    locks: list[list[int]] = [[] for _ in data.vehicles]
    site_offset, n_sites = problem.site_offset(), len(problem.disposal_sites)
    placed: set[int] = set()
    for initial in options.initial_routes:
        k = index_of.get(initial.vehicle_id)
        if k is None or data.vehicles[k].fault is not None or routes[k]:
            continue
        starts = {}
        if any(len(data.bin_visits[bin_index[s]]) > 1 for s in initial.stops if s in bin_index):
            walked = evaluate_route(problem, fleet, data.vehicles[k].vehicle, initial.stops)
            starts = {v.location_id: v.start_s for v in walked.visits if v.type == "bin"}
        nodes: list[int] = []
        locked_count = 0
        for position, stop in enumerate(initial.stops):
            node: int | None = None
            j = bin_index.get(stop)
            if j is not None:
                if k in data.allowed[j] and j not in placed:
                    node = _visit_node(data, j, starts.get(stop))
                    placed.add(j)
            elif stop != BREAK_STOP:
                try:
                    row = problem.location_index(stop)
                except KeyError:
                    row = -1
                if site_offset <= row < site_offset + n_sites:
                    pool = free.get((k, row - site_offset), [])
                    if pool and nodes and not data.is_copy(nodes[-1]):
                        node = pool.pop(0)
            if node is not None:
                nodes.append(node)
            if position < initial.locked:
                locked_count = len(nodes)
        if data.vehicles[k].final_sites:
            while nodes and data.is_copy(nodes[-1]):
                nodes.pop()
        routes[k] = nodes
        locks[k] = nodes[:min(locked_count, len(nodes))]
    return _Start(routes, locks)


class OrToolsEngine:
    """Waste-collection rounds solved by OR-Tools routing (see :mod:`solver.engines.ortools`).

    ``first_solution`` and ``metaheuristic`` name OR-Tools strategies
    (``routing_enums_pb2.FirstSolutionStrategy`` / ``LocalSearchMetaheuristic``;
    ``first_solution="auto"`` picks one by the problem, see :data:`AUTO`);
    ``solution_limit`` stops each search after that many solutions (besides
    ``options.time_limit_s``), which makes runs repeatable regardless of machine
    speed; ``log_search`` turns on OR-Tools' own search log; ``close_nodes_lns`` adds OR-Tools'
    large-neighbourhood operators that remove a node with its closest neighbours and reinsert
    them cheapest-first (better on some instances, worse on others: a racing lane's variant,
    see :mod:`solver.engines.race`).
    """

    name: str = "ortools"
    features: frozenset[str] = ALL_FEATURES

    def __init__(self, *, first_solution: str = AUTO, metaheuristic: str = "GUIDED_LOCAL_SEARCH",
                 solution_limit: int | None = None, log_search: bool = False,
                 close_nodes_lns: bool = False) -> None:
        self.first_solution = (None if first_solution == AUTO
                               else routing_enums_pb2.FirstSolutionStrategy.Value.Value(first_solution))
        self.metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.Value.Value(metaheuristic)
        if solution_limit is not None and solution_limit < 1:
            raise ValueError(f"solution_limit must be at least 1, got {solution_limit}")
        self.solution_limit = solution_limit
        self.log_search = log_search
        self.close_nodes_lns = close_nodes_lns

    def variant(self, *, first_solution: str, close_nodes_lns: bool) -> OrToolsEngine:
        """This engine's settings with another first-solution strategy (named as in the constructor,
        ``auto`` included) and with or without the close-nodes operators."""
        return OrToolsEngine(first_solution=first_solution,
                             metaheuristic=routing_enums_pb2.LocalSearchMetaheuristic.Value.Name(self.metaheuristic),
                             solution_limit=self.solution_limit, log_search=self.log_search,
                             close_nodes_lns=close_nodes_lns)

    def _parameters(self, search_s: float, *, strategy: int | None = None
                    ) -> routing_parameters_pb2.RoutingSearchParameters:
        """Search parameters: strategies, solution limit and ``search_s`` seconds of search."""
        params = pywrapcp.DefaultRoutingSearchParameters()
        chosen = strategy if strategy is not None else self.first_solution
        params.first_solution_strategy = (chosen if chosen is not None
                                          else routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC)
        params.local_search_metaheuristic = self.metaheuristic
        params.time_limit.FromMilliseconds(max(1, int(search_s * 1000)))
        if self.solution_limit is not None:
            params.solution_limit = self.solution_limit
        params.log_search = self.log_search
        if self.close_nodes_lns:
            operators = params.local_search_operators
            operators.use_global_cheapest_insertion_close_nodes_lns = optional_boolean_pb2.BOOL_TRUE
            operators.use_local_cheapest_insertion_close_nodes_lns = optional_boolean_pb2.BOOL_TRUE
        return params

    def _strategy(self, data: ModelData) -> int:
        """The first-solution strategy (see :data:`AUTO`)."""
        if self.first_solution is not None:
            return self.first_solution
        strategies = routing_enums_pb2.FirstSolutionStrategy
        if any(w is not None for w in data.visit_window) or len(set(data.cost_class)) > 1:
            return strategies.SEQUENTIAL_CHEAPEST_INSERTION
        return strategies.PATH_CHEAPEST_ARC

    def solve(self, problem: Problem, matrices: AnyMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`).

        Bins no vehicle could serve alone are unassigned with the reason found by
        :func:`solver.feasibility.screen_bins`; optional bins the search leaves out get
        ``not_worth_serving``, required ones ``no_feasible_insertion``. Unassigned bins
        are listed in ``bin_ids`` order; routes in fleet order, empty ones omitted.
        ``matrices`` may also be one :class:`~solver.matrix.TravelMatrices` for the fleet.
        """
        started = time.perf_counter()
        fleet = as_fleet(problem, matrices)
        check_matrices(problem, fleet)
        requested = [b.id for b in resolve_bins(problem, bin_ids)]
        servable_ids, ruled_out = screen_bins(problem, fleet, requested)
        reasons = {u.bin_id: u for u in ruled_out}
        servable = resolve_bins(problem, servable_ids)
        routes, dropped = self._solve_servable(problem, fleet, servable, options, started, progress)
        reasons.update(dropped)
        unassigned = tuple(reasons[b] for b in requested if b in reasons)
        logger.info("ortools: %d stops on %d routes, %d bins unassigned, in %.3f s",
                    sum(len(r.stops) for r in routes), len(routes), len(unassigned), time.perf_counter() - started)
        return Plan(routes=routes, unassigned=unassigned)

    def _solve_servable(self, problem: Problem, fleet: FleetMatrices, servable: Sequence[Bin],
                        options: SolveOptions, started: float, progress: ProgressReporter | None = None
                        ) -> tuple[tuple[RoutePlan, ...], dict[str, Unassigned]]:
        """Routes for bins that passed the screen, and the bins left out (by id)."""
        shuffled = [servable[i] for i in _seeded_order(len(servable), options.seed)]
        data = build_data(problem, fleet, shuffled, options)
        dropped = {bin_id: Unassigned(bin_id, "no_feasible_insertion", detail)
                   for bin_id, detail in data.dropped.items()}
        if not data.bins:
            return (), dropped
        with_breaks = any(s.breaks and s.fault is None for s in data.vehicles)
        model = build_model(reserve_breaks(data) if with_breaks else data, options, breaks=False)
        built = time.perf_counter()
        remaining = max(options.time_limit_s - (built - started), MIN_SEARCH_FRACTION * options.time_limit_s)
        search_s = remaining * (1.0 - EXACT_BREAKS_SHARE) if with_breaks else remaining
        start = _initial_nodes(problem, fleet, data, options)
        logger.info("ortools: model with %d bins (%d visit nodes), %d unload copies and %d vehicles built in "
                    "%.3f s; searching up to %.2f s", len(data.bins), len(data.visit_bin), len(data.copies),
                    len(data.vehicles), built - started, search_s)
        found = self._search(model, start, search_s, progress)
        routes = [] if found is None else read_routes(model, found)
        plans, misplaced = _plans(problem, fleet, data, routes, exact=False)
        deadline = started + max(options.time_limit_s, (built - started) + remaining)
        left_out = _required_left_out(data, plans) if with_breaks else 0
        if misplaced or left_out:
            why = (f"no place for the breaks of {', '.join(map(repr, misplaced))}" if misplaced
                   else f"{left_out} required bin(s) left out with room kept for breaks")
            exact = self._exact_breaks(problem, fleet, data, options, routes, start, why, deadline, progress)
            if exact is not None and (misplaced or _required_left_out(data, exact) < left_out):
                plans = exact
        elif (found is not None and deadline - time.perf_counter() >= MIN_CONTINUATION_S
              and (progress is None or not progress.stopped)):
            plans = self._continue(problem, fleet, model, found, plans, start, deadline)
        served = {stop for route in plans for stop in route.stops}
        for b in data.bins:
            if b.id in served:
                continue
            if found is None:
                dropped[b.id] = Unassigned(b.id, "no_feasible_insertion",
                                           "the search found no solution within the time limit")
            elif not b.required:
                dropped[b.id] = Unassigned(b.id, "not_worth_serving",
                                           f"the search left it out: serving it costs more than its penalty "
                                           f"of {b.penalty:g}")
            else:
                dropped[b.id] = Unassigned(b.id, "no_feasible_insertion",
                                           "the search found no route that could take it within the time limit")
        return plans, dropped

    def _continue(self, problem: Problem, fleet: FleetMatrices, model: Model, found: pywrapcp.Assignment,
                  plans: tuple[RoutePlan, ...], start: _Start, deadline: float) -> tuple[RoutePlan, ...]:
        """Phase 1 again from its solution (locks applied again) until ``deadline`` (the time kept for
        phase 2 was not needed); the better plan whose breaks all find a place."""
        if any(start.locks):
            model.routing.ApplyLocksToAllVehicles([[model.index(n) for n in nodes] for nodes in start.locks], False)
        params = self._parameters(deadline - time.perf_counter())
        better = model.routing.SolveFromAssignmentWithParameters(found, params)
        if better is None or better.ObjectiveValue() >= found.ObjectiveValue():
            return plans
        again, misplaced = _plans(problem, fleet, model.data, read_routes(model, better), exact=False)
        logger.info("ortools: continued search improved the objective from %d to %d%s", found.ObjectiveValue(),
                    better.ObjectiveValue(), "" if not misplaced else "; kept the first plan (breaks misplaced)")
        return plans if misplaced else again

    def _exact_breaks(self, problem: Problem, fleet: FleetMatrices, data: ModelData, options: SolveOptions,
                      routes: list[RouteNodes], start: _Start, why: str, deadline: float,
                      progress: ProgressReporter | None = None) -> tuple[RoutePlan, ...] | None:
        """Phase 2: the model with break intervals, started from phase 1's routes, until ``deadline``."""
        logger.info("ortools: %s; solving with exact breaks", why)
        model = build_model(data, options, breaks=True)
        nodes: list[list[int]] = [[] for _ in data.vehicles]
        for route in routes:
            nodes[route.vehicle] = list(route.nodes)
        search_s = max(deadline - time.perf_counter(), MIN_SEARCH_FRACTION * options.time_limit_s * 0.5)
        found = self._search(model, _Start(nodes, start.locks), search_s, progress)
        if found is None:
            return None
        plans, still = _plans(problem, fleet, data, read_routes(model, found), exact=True)
        if still:
            logger.warning("ortools: routes of %s keep a violation after placing their breaks",
                           ", ".join(map(repr, still)))
        return plans

    def _search(self, model: Model, start: _Start, search_s: float,
                progress: ProgressReporter | None = None) -> pywrapcp.Assignment | None:
        """Close ``model``, lock and warm-start it from ``start``, and search for ``search_s`` seconds,
        telling ``progress`` of each solution found (the search stops when it answers ``False``)."""
        began = time.perf_counter()
        params = self._parameters(search_s, strategy=self._strategy(model.data))
        routing = model.routing
        routing.CloseModelWithParameters(params)
        if progress is not None:
            _report_solutions(routing, progress)
        initial = self._initial_assignment(model, start)
        if initial is not None:
            left = max(search_s - (time.perf_counter() - began), MIN_SEARCH_FRACTION * search_s)
            solution = routing.SolveFromAssignmentWithParameters(initial, self._parameters(left))
            source = "the initial routes"
        else:
            solution = routing.SolveWithParameters(params)
            source = routing_enums_pb2.FirstSolutionStrategy.Value.Name(params.first_solution_strategy)
        logger.info("ortools: search from %s finished in %.3f s with status %s", source,
                    time.perf_counter() - began, routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status()))
        return solution

    def _initial_assignment(self, model: Model, start: _Start) -> pywrapcp.Assignment | None:
        """The initial routes as a solution (``None`` without them), with their locks applied.

        A route the model finds infeasible is cut to its longest feasible prefix (never
        shorter than its lock) before giving up on it.
        """
        routing = model.routing
        locks = [[model.index(n) for n in nodes] for nodes in start.locks]
        if any(locks) and not routing.ApplyLocksToAllVehicles(locks, False):
            logger.warning("ortools: the locked stops do not form valid routes; solving without locks")
        if start.empty:
            return None
        routes = [[model.index(n) for n in nodes] for nodes in start.routes]
        assignment = routing.ReadAssignmentFromRoutes(routes, True)
        if assignment is not None:
            return assignment
        trimmed = [self._feasible_prefix(model, v, route, len(locks[v])) for v, route in enumerate(routes)]
        assignment = routing.ReadAssignmentFromRoutes(trimmed, True)
        if assignment is None:
            logger.warning("ortools: the initial routes are not a feasible start; searching from scratch")
        else:
            cut = sum(len(a) - len(b) for a, b in zip(routes, trimmed, strict=True))
            logger.info("ortools: initial routes used with %d of their stops left out", cut)
        return assignment

    @staticmethod
    def _feasible_prefix(model: Model, vehicle: int, route: list[int], locked: int) -> list[int]:
        """The longest prefix of ``route`` the model accepts on its own (binary search, at least ``locked``
        long; a prefix ending with a tip on a vehicle whose end node tips loses that tip)."""
        routing = model.routing
        n_vehicles = len(model.data.vehicles)
        ends_with_tip = bool(model.data.vehicles[vehicle].final_sites)

        def prefix(length: int) -> list[int]:
            out = route[:length]
            while ends_with_tip and out and model.data.is_copy(int(model.manager.IndexToNode(out[-1]))):
                out = out[:-1]
            return out

        def feasible(length: int) -> bool:
            alone: list[list[int]] = [[] for _ in range(n_vehicles)]
            alone[vehicle] = prefix(length)
            return routing.ReadAssignmentFromRoutes(alone, True) is not None

        if feasible(len(route)):
            return route
        if not feasible(locked):
            return prefix(locked)
        lo, hi = locked, len(route) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if feasible(mid):
                lo = mid
            else:
                hi = mid - 1
        return prefix(lo)


def _report_solutions(routing: pywrapcp.RoutingModel, progress: ProgressReporter) -> None:
    """Tell ``progress`` of every solution ``routing``'s searches find; cancel them when it says stop."""
    cost = routing.CostVar()

    def on_solution() -> None:
        if not progress.report(float(cost.Value())):
            routing.CancelSearch()

    routing.AddAtSolutionCallback(on_solution)


def _required_left_out(data: ModelData, plans: Sequence[RoutePlan]) -> int:
    """How many required bins of the model no route of ``plans`` serves."""
    served = {stop for route in plans for stop in route.stops}
    return sum(1 for b in data.bins if b.required and b.id not in served)


def _plans(problem: Problem, fleet: FleetMatrices, data: ModelData, routes: Sequence[RouteNodes], *,
           exact: bool) -> tuple[tuple[RoutePlan, ...], list[str]]:
    """Routes as stop lists with their breaks placed, and the vehicles whose breaks found no place the
    evaluator accepts. ``exact``: the routes come from the model with break intervals, whose break
    positions are tried first."""
    plans, misplaced = [], []
    for route in routes:
        vehicle = data.vehicles[route.vehicle].vehicle
        stops = stop_ids(data, route)
        hints = break_positions(data, route) if exact else None
        placed, ok = place_breaks(problem, fleet, vehicle, stops, hints)
        plans.append(RoutePlan(vehicle.id, placed))
        if not ok:
            misplaced.append(vehicle.id)
    return tuple(plans), misplaced


def place_breaks(problem: Problem, fleet: FleetMatrices, vehicle: Vehicle, stops: Sequence[str],
                 hints: Sequence[int | None] | None = None) -> tuple[tuple[str, ...], bool]:
    """``stops`` with the vehicle's breaks that fall due, each where the evaluator finds no violation.

    Break ``k`` (in the vehicle's order) is tried after ``hints[k]`` stops when given, then
    right after the first stop that leaves once its window is open, then ever farther from
    there. Returns the stop list and whether it is violation-free.
    """
    base = tuple(s for s in stops if s != BREAK_STOP)
    positions: list[int] = []
    for k, brk in enumerate(vehicle.breaks):
        current = with_breaks(base, positions)
        walked = evaluate_route(problem, fleet, vehicle, current)
        if not any(v.type == "missing_break" for v in walked.violations):
            break
        departures = [v.departure_s for v in walked.visits if v.type in ("bin", "disposal")]
        leaving = sum(1 for d in departures if d < brk.window[0] - TIME_TOLERANCE_S)
        first = min(leaving + 1, len(base))
        order: list[int] = []
        hint = hints[k] if hints is not None and k < len(hints) else None
        if hint is not None:
            order.append(hint)
        order += [first + d for d in _deltas(len(base) + 1)]
        lowest = positions[-1] if positions else 0
        chosen = None
        for p in dict.fromkeys(order):
            if not lowest <= p <= len(base):
                continue
            trial = [*positions, p]
            later = {"missing_break"} if k + 1 < len(vehicle.breaks) else set()
            kinds = {v.type for v in evaluate_route(problem, fleet, vehicle, with_breaks(base, trial)).violations}
            if kinds <= later:
                chosen = p
                break
        if chosen is None:
            positions.append(max(lowest, min(first, len(base))))
            return with_breaks(base, positions), False
        positions.append(chosen)
    placed = with_breaks(base, positions)
    return placed, not evaluate_route(problem, fleet, vehicle, placed).violations


def _deltas(n: int) -> list[int]:
    """0, +1, -1, +2, -2, ... up to ``n`` either way."""
    out = [0]
    for d in range(1, n + 1):
        out += [d, -d]
    return out
