"""Capacitated vehicle routing with OR-Tools' routing library.

The model:

- nodes are the depots that vehicles start from (several vehicles may share one)
  and the bins to serve; each vehicle starts and ends at its own depot;
- a ``load`` dimension in grams (demands rounded up, capacities rounded down) with
  one capacity per vehicle (heterogeneous fleet);
- a ``time`` dimension in whole seconds (rounded up): transit from ``i`` to ``j`` is
  the service time at ``i`` plus the travel time ``i -> j``; no waiting (slack 0).
  Its cumul is the time elapsed since the vehicle's ``shift_start_s``: 0 when it
  leaves the depot (without waiting, leaving at the start of the shift is always
  best), at most the shift's length when it is back. Measured on 2000 bins, a start
  cumul left free in ``[shift_start_s, shift_end_s]`` (or fixed at a non-zero value)
  made the first solution 25 times slower than a start fixed at zero, because
  OR-Tools' path filters take a fast path only for the latter;
- the arc cost is travel time (``objective="duration"``) or distance
  (``"distance"``) in the units of :mod:`solver.scaling`, plus each vehicle's
  ``fixed_cost`` converted into the same units at its own per-hour or per-km rate;
- every bin is optional with a penalty above the cost of any complete plan, so a
  bin is dropped only when no plan found can take it;
- an arc with no path (``inf``) gets a travel time beyond every shift, so no route
  can use it, and a cost equal to the drop penalty; bins are restricted to the
  vehicles that could serve them alone.

OR-Tools routing has no random seed: ``options.seed`` permutes the order in which
bins are given to the model (seed 0 keeps the given order). The search is
deterministic, so the same seed and the same stopping point (a solution limit, or a
search that converges before the time limit) give the same plan.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2

from solver.evaluate import check_matrices
from solver.feasibility import resolve_bins, screen_bins
from solver.matrix import TravelMatrices
from solver.problem import Bin, Problem, SolveOptions, Vehicle
from solver.scaling import (
    INT64_SAFE_MAX,
    grams_down,
    grams_up,
    objective_units,
    objective_units_per_value,
    seconds_up,
)
from solver.solution import Plan, RoutePlan, Unassigned

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

DEFAULT_RATE_PER_HOUR = 30.0
"""Money per hour used to weigh a fixed cost when no vehicle of the fleet has a per-hour cost."""

DEFAULT_RATE_PER_KM = 1.0
"""Money per km used to weigh a fixed cost when no vehicle of the fleet has a per-km cost."""

MIN_SEARCH_FRACTION = 0.1
"""Share of ``time_limit_s`` the search keeps even when building the model used up the rest."""


@dataclass(frozen=True)
class _Nodes:
    """Model nodes: first the depots vehicles start from, then the bins (in model order)."""

    depot_ids: tuple[str, ...]
    bins: tuple[Bin, ...]
    locations: npt.NDArray[np.intp]

    @classmethod
    def build(cls, problem: Problem, bins: Sequence[Bin]) -> _Nodes:
        """Nodes for the fleet's depots (in problem order) and ``bins``."""
        used = {v.depot_id for v in problem.vehicles}
        depot_ids = tuple(d.id for d in problem.depots if d.id in used)
        ids = (*depot_ids, *(b.id for b in bins))
        return cls(depot_ids, tuple(bins),
                   np.array([problem.location_index(i) for i in ids], dtype=np.intp))

    @property
    def n_depots(self) -> int:
        """Number of depot nodes (bin nodes follow them)."""
        return len(self.depot_ids)

    def depot_node(self, depot_id: str) -> int:
        """Model node of a depot."""
        return self.depot_ids.index(depot_id)

    def service_s(self) -> npt.NDArray[np.float64]:
        """Service seconds per node (0 at depots)."""
        return np.array([0.0] * self.n_depots + [b.service_s for b in self.bins], dtype=np.float64)


def _shift_lengths(vehicles: Sequence[Vehicle]) -> list[int]:
    """Seconds from shift start to shift end, per vehicle: the capacity of the time dimension."""
    return [v.shift_end_s - v.shift_start_s for v in vehicles]


def _seeded_order(n: int, seed: int) -> list[int]:
    """Positions 0..n-1 in the order given to the model: identity for seed 0, else a seeded shuffle."""
    order = list(range(n))
    if seed != 0:
        random.Random(seed).shuffle(order)
    return order


def _time_matrix(matrices: TravelMatrices, nodes: _Nodes, horizon_s: int) -> IntArray:
    """Whole seconds (rounded up) of service at ``i`` plus travel ``i -> j``.

    Arcs with no path, and arcs longer than the horizon, get ``horizon_s + 1``:
    no shift can contain them.
    """
    loc = nodes.locations
    travel = matrices.duration_s[np.ix_(loc, loc)]
    no_path = ~np.isfinite(matrices.distance_m[np.ix_(loc, loc)])
    transit = np.where(no_path, np.inf, nodes.service_s()[:, None] + travel)
    result = seconds_up(transit, cap=horizon_s + 1)
    np.fill_diagonal(result, 0)
    return result


def _fixed_cost_value(vehicle: Vehicle, fleet: Sequence[Vehicle], objective: str) -> float:
    """A vehicle's fixed cost in seconds (duration) or metres (distance) at its own rate.

    A vehicle without a positive rate uses the fleet's mean positive rate, or a
    default rate when the fleet has none.
    """
    if vehicle.fixed_cost <= 0:
        return 0.0

    def rate(v: Vehicle) -> float:
        return v.cost_per_hour / 3600.0 if objective == "duration" else v.cost_per_km / 1000.0

    own = rate(vehicle)
    if own <= 0:
        positive = [rate(v) for v in fleet if rate(v) > 0]
        default = DEFAULT_RATE_PER_HOUR / 3600.0 if objective == "duration" else DEFAULT_RATE_PER_KM / 1000.0
        own = sum(positive) / len(positive) if positive else default
    return vehicle.fixed_cost / own


@dataclass(frozen=True)
class _Costs:
    """Integer objective: arc costs (node by node), fixed cost per vehicle, drop penalty."""

    arcs: IntArray
    fixed: IntArray
    penalty: int


def _costs(problem: Problem, matrices: TravelMatrices, nodes: _Nodes, forbidden: npt.NDArray[np.bool_],
           objective: str) -> _Costs:
    """Arc costs, fixed costs and a drop penalty in objective units, safe from int64 overflow.

    The penalty exceeds the largest possible total of arc and fixed costs of any
    plan (every route arc at the dearest allowed arc, every vehicle used), so dropping
    a bin never pays while some plan found can serve it. Forbidden arcs cost the
    penalty. Each unit value is capped so that even ``n_terms`` penalties stay below
    :data:`INT64_SAFE_MAX`; the cap (over 1e9 units for 5000 bins) is far above any
    real leg or fixed cost.
    """
    loc = nodes.locations
    source = matrices.duration_s if objective == "duration" else matrices.distance_m
    values = np.where(forbidden, 0.0, source[np.ix_(loc, loc)])
    np.fill_diagonal(values, 0.0)
    fixed_values = [_fixed_cost_value(v, problem.vehicles, objective) for v in problem.vehicles]
    per_value = objective_units_per_value(objective)
    n_vehicles, n_bins = len(problem.vehicles), len(nodes.bins)
    n_terms = 2 * (n_bins + n_vehicles) + 2
    cap = INT64_SAFE_MAX // (4 * n_terms * n_terms)
    arcs = objective_units(values, units_per_value=per_value, cap=cap)
    fixed = objective_units(fixed_values, units_per_value=per_value, cap=cap)
    penalty = (n_bins + n_vehicles) * int(arcs.max(initial=0)) + int(fixed.sum()) + 1
    return _Costs(np.where(forbidden, penalty, arcs).astype(np.int64), fixed, penalty)


def _allowed_vehicles(problem: Problem, nodes: _Nodes, transit: IntArray, demand: IntArray,
                      capacity: IntArray) -> list[list[int]]:
    """For each bin node, the vehicles that could serve it alone in the integer model."""
    depot_nodes = np.array([nodes.depot_node(v.depot_id) for v in problem.vehicles], dtype=np.intp)
    bin_nodes = np.arange(nodes.n_depots, nodes.n_depots + len(nodes.bins))
    shift = np.array(_shift_lengths(problem.vehicles), dtype=np.int64)
    round_trip = transit[np.ix_(depot_nodes, bin_nodes)] + transit[np.ix_(bin_nodes, depot_nodes)].T
    ok = (round_trip <= shift[:, None]) & (demand[None, bin_nodes] <= capacity[:, None])
    return [[int(v) for v in np.flatnonzero(ok[:, k])] for k in range(len(nodes.bins))]


@dataclass(frozen=True)
class _IntegerInputs:
    """The model's integer data: nodes, transit seconds and demand grams per node,
    capacity grams per vehicle, allowed vehicles per bin node, longest shift (s)."""

    nodes: _Nodes
    transit: IntArray
    demand: IntArray
    capacity: IntArray
    allowed: list[list[int]]
    horizon_s: int


def _integer_inputs(problem: Problem, matrices: TravelMatrices,
                    bins: Sequence[Bin]) -> tuple[_IntegerInputs, dict[str, Unassigned]]:
    """Integer model data for ``bins``, leaving out (with a reason) those no vehicle can take alone.

    Such bins passed the float screen but fail once demands and times are rounded up.
    """
    horizon_s = max(_shift_lengths(problem.vehicles))
    nodes = _Nodes.build(problem, bins)
    transit = _time_matrix(matrices, nodes, horizon_s)
    demand = np.concatenate([np.zeros(nodes.n_depots, dtype=np.int64),
                             grams_up([b.demand_kg for b in bins])])
    capacity = grams_down([v.capacity_kg for v in problem.vehicles])
    allowed = _allowed_vehicles(problem, nodes, transit, demand, capacity)
    detail = "no vehicle can serve it alone once loads are rounded up to whole grams and times to whole seconds"
    dropped = {b.id: Unassigned(b.id, "no_feasible_insertion", detail)
               for b, vehicles in zip(bins, allowed, strict=True) if not vehicles}
    if dropped:
        keep = np.concatenate([np.arange(nodes.n_depots),
                               nodes.n_depots + np.flatnonzero([bool(vs) for vs in allowed])])
        nodes = _Nodes.build(problem, [b for b in bins if b.id not in dropped])
        transit, demand = transit[np.ix_(keep, keep)], demand[keep]
        allowed = [vs for vs in allowed if vs]
    return _IntegerInputs(nodes, transit, demand, capacity, allowed, horizon_s), dropped


@dataclass(frozen=True)
class _Model:
    """An OR-Tools routing model and the index manager that maps its indices to nodes."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel


def _build_model(problem: Problem, inputs: _IntegerInputs, costs: _Costs) -> _Model:
    """The routing model: arc costs, fixed costs, load and time dimensions, optional bins."""
    vehicles, nodes = problem.vehicles, inputs.nodes
    depot_nodes = [nodes.depot_node(v.depot_id) for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(len(nodes.locations), len(vehicles), depot_nodes, depot_nodes)
    routing = pywrapcp.RoutingModel(manager)
    cost_index = routing.RegisterTransitMatrix(costs.arcs.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
    for v, fixed in enumerate(costs.fixed.tolist()):
        routing.SetFixedCostOfVehicle(fixed, v)
    load_index = routing.RegisterUnaryTransitVector(inputs.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(load_index, 0, inputs.capacity.tolist(), True, "load")
    time_index = routing.RegisterTransitMatrix(inputs.transit.tolist())
    routing.AddDimensionWithVehicleCapacity(time_index, 0, _shift_lengths(vehicles), True, "time")
    every_vehicle = len(vehicles)
    for k, vehicle_list in enumerate(inputs.allowed):
        index = manager.NodeToIndex(nodes.n_depots + k)
        routing.AddDisjunction([index], costs.penalty)
        if len(vehicle_list) < every_vehicle:
            # SetAllowedVehiclesForIndex's Python binding rejects every list in 9.15 (no typemap
            # for absl::Span<int const>); restricting the vehicle variable is the same constraint.
            routing.VehicleVar(index).SetValues([-1, *vehicle_list])
    return _Model(manager, routing)


class OrToolsEngine:
    """Capacitated VRP with a heterogeneous fleet and shifts, solved by OR-Tools routing.

    ``first_solution`` and ``metaheuristic`` name OR-Tools strategies
    (``routing_enums_pb2.FirstSolutionStrategy`` / ``LocalSearchMetaheuristic``);
    ``solution_limit`` stops the search after that many solutions (besides
    ``options.time_limit_s``), which makes runs repeatable regardless of machine
    speed; ``log_search`` turns on OR-Tools' own search log.
    """

    name: str = "ortools"

    def __init__(self, *, first_solution: str = "PATH_CHEAPEST_ARC",
                 metaheuristic: str = "GUIDED_LOCAL_SEARCH", solution_limit: int | None = None,
                 log_search: bool = False) -> None:
        self.first_solution = routing_enums_pb2.FirstSolutionStrategy.Value.Value(first_solution)
        self.metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.Value.Value(metaheuristic)
        if solution_limit is not None and solution_limit < 1:
            raise ValueError(f"solution_limit must be at least 1, got {solution_limit}")
        self.solution_limit = solution_limit
        self.log_search = log_search

    def _parameters(self, search_s: float) -> routing_parameters_pb2.RoutingSearchParameters:
        """Search parameters: strategies, solution limit and ``search_s`` seconds of search."""
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = self.first_solution
        params.local_search_metaheuristic = self.metaheuristic
        params.time_limit.FromMilliseconds(max(1, int(search_s * 1000)))
        if self.solution_limit is not None:
            params.solution_limit = self.solution_limit
        params.log_search = self.log_search
        return params

    def solve(self, problem: Problem, matrices: TravelMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`).

        Bins no vehicle could serve alone are unassigned with the reason found by
        :func:`solver.feasibility.screen_bins`; bins the search leaves out get
        ``no_feasible_insertion``. Unassigned bins are listed in ``bin_ids`` order;
        routes in fleet order, empty ones omitted.
        """
        started = time.perf_counter()
        check_matrices(problem, matrices)
        requested = [b.id for b in resolve_bins(problem, bin_ids)]
        servable_ids, ruled_out = screen_bins(problem, matrices, requested)
        reasons = {u.bin_id: u for u in ruled_out}
        servable = resolve_bins(problem, servable_ids)
        routes, dropped = self._solve_servable(problem, matrices, servable, options, started)
        reasons.update(dropped)
        unassigned = tuple(reasons[b] for b in requested if b in reasons)
        logger.info("ortools: %d bins on %d routes, %d unassigned, in %.3f s",
                    sum(len(r.stops) for r in routes), len(routes), len(unassigned),
                    time.perf_counter() - started)
        return Plan(routes=routes, unassigned=unassigned)

    def _solve_servable(self, problem: Problem, matrices: TravelMatrices, servable: Sequence[Bin],
                        options: SolveOptions, started: float
                        ) -> tuple[tuple[RoutePlan, ...], dict[str, Unassigned]]:
        """Routes for bins that passed the screen, and the bins left out (by id)."""
        shuffled = [servable[i] for i in _seeded_order(len(servable), options.seed)]
        inputs, dropped = _integer_inputs(problem, matrices, shuffled)
        if not inputs.nodes.bins:
            return (), dropped
        costs = _costs(problem, matrices, inputs.nodes, inputs.transit > inputs.horizon_s, options.objective)
        model = _build_model(problem, inputs, costs)
        built = time.perf_counter()
        search_s = max(options.time_limit_s - (built - started), MIN_SEARCH_FRACTION * options.time_limit_s)
        logger.info("ortools: model with %d bins and %d vehicles built in %.3f s; searching up to %.2f s",
                    len(inputs.nodes.bins), len(problem.vehicles), built - started, search_s)
        solution = model.routing.SolveWithParameters(self._parameters(search_s))
        logger.info("ortools: search finished in %.3f s with status %s", time.perf_counter() - built,
                    routing_enums_pb2.RoutingSearchStatus.Value.Name(model.routing.status()))
        routes = () if solution is None else _routes_of(problem, model, inputs.nodes, solution)
        served = {stop for route in routes for stop in route.stops}
        detail = ("the search found no solution within the time limit" if solution is None
                  else "the search found no route that could take it within the time limit")
        dropped.update({b.id: Unassigned(b.id, "no_feasible_insertion", detail)
                        for b in inputs.nodes.bins if b.id not in served})
        return routes, dropped


def _routes_of(problem: Problem, model: _Model, nodes: _Nodes,
               solution: pywrapcp.Assignment) -> tuple[RoutePlan, ...]:
    """Non-empty routes of ``solution`` in fleet order, as bin ids in driving order."""
    routing, manager = model.routing, model.manager
    routes = []
    for v, vehicle in enumerate(problem.vehicles):
        stops = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            stops.append(nodes.bins[manager.IndexToNode(index) - nodes.n_depots].id)
            index = solution.Value(routing.NextVar(index))
        if stops:
            routes.append(RoutePlan(vehicle.id, tuple(stops)))
    return tuple(routes)
