"""The OR-Tools routing model built from :class:`~solver.engines.ortools.data.ModelData`, and
reading a solution back as stop lists.

Dimensions (each only when the problem needs it):

- ``time``: whole seconds since the data's origin. Transit ``i -> j`` is the service
  (or unload) at ``i`` plus the travel, from the matrix of the vehicle's access profile
  (one matrix registered per profile, shared by its vehicles). Slack up to the horizon
  is waiting (for a window, a site's opening) and breaks. Each vehicle's start cumul is
  its shift start, its capacity the end of its shift (the end node's cumul may also have
  a floor, see the data). A visit node's cumul (when collection starts) lies in its
  window; an unload copy's in its site's opening hours.
- ``kg`` (and ``litres`` when some vehicle has a volume limit): the load on board on
  arrival, in grams (millilitres). A bin adds its demand; an unload copy subtracts more
  than any capacity and its slack (free only there, zero elsewhere) brings the load
  back to anything from 0 up, so after a tip the load starts again from zero: the
  classic "reload" trick. The capacity bounds the load at every node and at the end
  (the load before the final tip of an end node).
- ``lifts``: one per bin, up to ``max_lifts``; ``collected``: grams per bin, never reset,
  up to ``max_collected_kg``.
- ``moves``: per vehicle, one per bin its initial route put on another vehicle; its span
  costs ``move_penalty`` per unit, so each moved bin is charged once.
- ``allowed``: per vehicle, one per node it may not visit (a bin of a stream it does not
  carry, too narrow or heavy for it, pinned elsewhere or out of its reach; another
  vehicle's unload copy), capacity 0 (see :func:`_forbid_elsewhere`).

Breaks (only with ``build_model(..., breaks=True)``, the exact model of phase 2, see
:mod:`solver.engines.ortools`) are optional interval variables on the time dimension
(``SetBreakIntervalsOfVehicle``; node visit transits are the service and unload times,
so a break never overlaps a collection or an unload) whose start lies in the break's
window (its opening clamped to the shift start). The rule "due when the route is still
out when the window opens" is two constraints on the end cumul: the break is performed
if and only if the route ends after the window opens, and a performed break ends before
the route does (so it is taken on the route, not after it). For a vehicle with one break,
``SetBreakDistanceDurationOfVehicle`` with the longest stretch a valid route can have
without its break lets OR-Tools' own break filter see that long routes need one.
Intervals are optional because mandatory ones made OR-Tools fail outright whenever
some vehicle of a fleet with breaks stayed unused (OR-Tools 9.15, measured). The Python
binding offers only ``node_visit_transits`` (no pre/post-travel evaluators), so OR-Tools
may start a break part-way through a drive, where the rules take it at the previous stop
(up to that drive later): :func:`break_positions` gives OR-Tools' place as a first guess
and the engine confirms every place with the evaluator.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp

from solver.engines.ortools.data import ModelData
from solver.problem import BREAK_STOP, SolveOptions


@dataclass
class Model:
    """A routing model with its index manager, dimensions and break intervals per vehicle."""

    data: ModelData
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    breaks: list[list[pywrapcp.IntervalVar]]

    def index(self, node: int) -> int:
        """Routing index of a model node that is neither a start nor an end."""
        return int(self.manager.NodeToIndex(node))


def _no_slack_but_copies(data: ModelData, model_manager: pywrapcp.RoutingIndexManager,
                         routing: pywrapcp.RoutingModel, dimension: pywrapcp.RoutingDimension) -> None:
    """Zero slack on every index but the unload copies (where the load resets)."""
    for index in range(routing.Size()):
        if not data.is_copy(int(model_manager.IndexToNode(index))):
            dimension.SlackVar(index).SetValue(0)


def _moves(data: ModelData, options: SolveOptions) -> list[list[int]] | None:
    """Per vehicle, per node: 1 on the bins its initial route put on another vehicle (``None``: no move costs)."""
    if options.move_penalty <= 0 or not options.initial_routes:
        return None
    before: dict[str, str] = {}
    for route in options.initial_routes:
        for stop in route.stops:
            before.setdefault(stop, route.vehicle_id)
    vectors = []
    for spec in data.vehicles:
        vector = [0] * data.n_nodes
        for k in range(len(data.visit_bin)):
            node = data.visit_offset + k
            had = before.get(data.bin_at(node).id)
            if had is not None and had != spec.vehicle.id:
                vector[node] = 1
        vectors.append(vector)
    if not any(any(v) for v in vectors):
        return None
    return vectors


def _forbid_elsewhere(data: ModelData, routing: pywrapcp.RoutingModel) -> None:
    """Keep each node off the vehicles it is not allowed on, where OR-Tools' filters see it.

    ``SetAllowedVehiclesForIndex``'s Python binding rejects every list in 9.15 (no typemap for
    ``absl::Span<int const>``), and the vehicle variables' domains alone are checked only by
    propagation: with two waste streams at 2,000 bins, PATH_CHEAPEST_ARC then built routes the
    propagation refused, over and over, and found no first solution in 20 s. So an ``allowed``
    dimension of capacity 0 counts, per vehicle, the nodes it may not visit (one unary vector per
    distinct set, shared by its vehicles).
    """
    n_vehicles = len(data.vehicles)
    barred: list[set[int]] = [set() for _ in range(n_vehicles)]
    for j, allowed in enumerate(data.allowed):
        for v in set(range(n_vehicles)) - set(allowed):
            barred[v].update(data.bin_visits[j])
    for c, cp in enumerate(data.copies):
        for v in range(n_vehicles):
            if v != cp.vehicle:
                barred[v].add(data.copy_offset + c)
    if not any(barred):
        return
    registered: dict[frozenset[int], int] = {}
    callbacks = []
    for nodes in barred:
        key = frozenset(nodes)
        if key not in registered:
            vector = [0] * data.n_nodes
            for node in nodes:
                vector[node] = 1
            registered[key] = routing.RegisterUnaryTransitVector(vector)
        callbacks.append(registered[key])
    routing.AddDimensionWithVehicleTransits(callbacks, 0, 0, True, "allowed")


def build_model(data: ModelData, options: SolveOptions, *, breaks: bool) -> Model:
    """The routing model of ``data`` (see the module docstring); break intervals only with ``breaks``
    (without, ``data`` should keep room for them: :func:`~solver.engines.ortools.data.reserve_breaks`)."""
    specs = data.vehicles
    n_vehicles = len(specs)
    manager = pywrapcp.RoutingIndexManager(data.n_nodes, n_vehicles, [s.start_node for s in specs],
                                           [s.end_node for s in specs])
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    # ---- objective: arcs by cost class, fixed costs
    cost_callbacks = [routing.RegisterTransitMatrix(m.tolist()) for m in data.arc_costs]
    for v in range(n_vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_callbacks[data.cost_class[v]], v)
        routing.SetFixedCostOfVehicle(data.fixed_cost[v], v)
    # ---- time
    time_callbacks = [routing.RegisterTransitMatrix(t.tolist()) for t in data.transit]
    all_at_origin = all(s.start_t == 0 for s in specs)
    routing.AddDimensionWithVehicleTransitAndCapacity([time_callbacks[s.profile] for s in specs], data.horizon,
                                                      [s.end_t for s in specs], all_at_origin, "time")
    time = routing.GetDimensionOrDie("time")
    for v, spec in enumerate(specs):
        if not all_at_origin:
            time.CumulVar(routing.Start(v)).SetValue(spec.start_t)
        if spec.end_min_t > spec.start_t:
            time.CumulVar(routing.End(v)).SetMin(spec.end_min_t)
    for k, window in enumerate(data.visit_window):
        if window is None:
            continue
        index = manager.NodeToIndex(data.visit_offset + k)
        cumul = time.CumulVar(index)
        if window[0] > cumul.Max() or window[1] < cumul.Min():
            routing.ActiveVar(index).SetValue(0)  # the window lies outside every shift: never visited
        else:
            cumul.SetRange(*window)
    for c, (opens, closes) in enumerate(data.copy_windows):
        time.CumulVar(manager.NodeToIndex(data.copy_offset + c)).SetRange(opens, closes)
    # ---- loads
    has_copies = bool(data.copies)
    kg_callback = routing.RegisterUnaryTransitVector(data.demand_g.tolist())
    reset_g = max(data.capacity_g) + 1
    routing.AddDimensionWithVehicleCapacity(kg_callback, reset_g if has_copies else 0, list(data.capacity_g), True,
                                            "kg")
    if has_copies:
        _no_slack_but_copies(data, manager, routing, routing.GetDimensionOrDie("kg"))
    if data.volume_ml is not None and data.capacity_ml is not None:
        ml_callback = routing.RegisterUnaryTransitVector(data.volume_ml.tolist())
        reset_ml = max(data.capacity_ml) + 1
        routing.AddDimensionWithVehicleCapacity(ml_callback, reset_ml if has_copies else 0, list(data.capacity_ml),
                                                True, "litres")
        if has_copies:
            _no_slack_but_copies(data, manager, routing, routing.GetDimensionOrDie("litres"))
    if data.max_lifts is not None:
        ones = [1 if data.is_visit(n) else 0 for n in range(data.n_nodes)]
        routing.AddDimensionWithVehicleCapacity(routing.RegisterUnaryTransitVector(ones), 0, list(data.max_lifts),
                                                True, "lifts")
    if data.collected_g is not None and data.max_collected_g is not None:
        routing.AddDimensionWithVehicleCapacity(routing.RegisterUnaryTransitVector(data.collected_g.tolist()), 0,
                                                list(data.max_collected_g), True, "collected")
    # ---- moves off the initial vehicle
    moves = _moves(data, options)
    if moves is not None:
        registered: dict[tuple[int, ...], int] = {}
        callbacks = []
        for vector in moves:
            key = tuple(vector)
            if key not in registered:
                registered[key] = routing.RegisterUnaryTransitVector(vector)
            callbacks.append(registered[key])
        routing.AddDimensionWithVehicleTransits(callbacks, 0, len(data.bins) + 1, True, "moves")
        move_dimension = routing.GetDimensionOrDie("moves")
        units = round(options.move_penalty * data.unit_per_money)
        for v in range(n_vehicles):
            move_dimension.SetSpanCostCoefficientForVehicle(max(units, 1), v)
    # ---- breaks
    intervals_of: list[list[pywrapcp.IntervalVar]] = [[] for _ in specs]
    visit = [int(data.service[manager.IndexToNode(i)]) for i in range(routing.Size())]
    for v, spec in enumerate(specs):
        if not breaks or not spec.breaks or spec.fault is not None:
            continue
        end = time.CumulVar(routing.End(v))
        intervals = [solver.FixedDurationIntervalVar(b.start_min, b.start_max, b.duration, True,
                                                     f"break {spec.vehicle.id} {k}")
                     for k, b in enumerate(spec.breaks)]
        time.SetBreakIntervalsOfVehicle(intervals, v, visit)
        for interval, b in zip(intervals, spec.breaks, strict=True):
            solver.Add(interval.PerformedExpr() == solver.IsGreaterCstVar(end, b.due_after))
            solver.Add(interval.SafeEndExpr(0) <= end)
        for first, second in itertools.pairwise(intervals):
            solver.Add(first.SafeEndExpr(0) <= second.SafeStartExpr(2 * data.horizon + 1))
        if len(spec.breaks) == 1:
            b = spec.breaks[0]
            longest = max(b.start_max - spec.start_t, spec.end_t - b.start_min - b.duration)
            time.SetBreakDistanceDurationOfVehicle(longest, b.duration, v)
        for interval in intervals:
            routing.AddIntervalToAssignment(interval)
        intervals_of[v] = intervals
    # ---- bins: at most one visit, optional with a penalty, on their allowed vehicles; copies: free, own vehicle
    every = set(range(n_vehicles))
    for j, allowed in enumerate(data.allowed):
        indices = [manager.NodeToIndex(node) for node in data.bin_visits[j]]
        routing.AddDisjunction(indices, data.penalty[j], 1)
        if set(allowed) != every:
            for index in indices:
                routing.VehicleVar(index).SetValues([-1, *allowed])
    for c, cp in enumerate(data.copies):
        index = manager.NodeToIndex(data.copy_offset + c)
        routing.AddDisjunction([index], 0)
        routing.VehicleVar(index).SetValues([-1, cp.vehicle])
    _forbid_elsewhere(data, routing)
    return Model(data=data, manager=manager, routing=routing, time=time, breaks=intervals_of)


# --------------------------------------------------------------------------- reading a solution


@dataclass(frozen=True)
class RouteNodes:
    """One vehicle's route in a solution: model nodes in driving order (no start, no end), when service
    starts at each (model time), when it is back, and the start of each performed break (``None``: not
    taken)."""

    vehicle: int
    nodes: tuple[int, ...]
    starts: tuple[int, ...]
    end: int
    breaks: tuple[int | None, ...]


def read_routes(model: Model, solution: pywrapcp.Assignment) -> list[RouteNodes]:
    """Every non-empty route of ``solution``, in fleet order."""
    routing, manager, time = model.routing, model.manager, model.time
    routes = []
    for v in range(len(model.data.vehicles)):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        nodes, starts = [], []
        while not routing.IsEnd(index):
            nodes.append(int(manager.IndexToNode(index)))
            starts.append(int(solution.Min(time.CumulVar(index))))
            index = solution.Value(routing.NextVar(index))
        if not nodes:
            continue
        end = int(solution.Min(time.CumulVar(routing.End(v))))
        breaks = tuple(int(solution.StartValue(b)) if solution.PerformedValue(b) else None
                       for b in model.breaks[v])
        routes.append(RouteNodes(v, tuple(nodes), tuple(starts), end, breaks))
    return routes


def stop_ids(data: ModelData, route: RouteNodes) -> list[str]:
    """The stop list of ``route`` without breaks: bin ids and site ids, the final tip included."""
    sites = data.problem.disposal_sites
    stops = []
    for node in route.nodes:
        if data.is_visit(node):
            stops.append(data.bin_at(node).id)
        else:
            stops.append(sites[data.copies[node - data.copy_offset].site].id)
    spec = data.vehicles[route.vehicle]
    if spec.final_sites:
        site = int(data.final_choice[spec.profile][spec.end_node][route.nodes[-1]])
        if site >= 0:  # -1: the route ended with a mid-route tip, already empty
            stops.append(sites[site].id)
    return stops


def break_positions(data: ModelData, route: RouteNodes) -> list[int | None]:
    """For each break of the route's vehicle, how many stops (of :func:`stop_ids`) precede it in the
    solution: the stops whose service ended by the time the break starts (``None``: not taken).

    A break in the last gap comes before the final tip (the crew breaks after its last bin).
    """
    positions: list[int | None] = []
    for start in route.breaks:
        if start is None:
            positions.append(None)
            continue
        done = 0
        for node, begins in zip(route.nodes, route.starts, strict=True):
            if begins + int(data.service[node]) <= start:
                done += 1
            else:
                break
        positions.append(done)
    return positions


def with_breaks(stops: Sequence[str], positions: Sequence[int | None]) -> tuple[str, ...]:
    """``stops`` with ``"break"`` inserted after the given numbers of stops (in order; ``None`` skipped)."""
    out = list(stops)
    for shift, position in enumerate(p for p in positions if p is not None):
        out.insert(position + shift, BREAK_STOP)
    return tuple(out)
