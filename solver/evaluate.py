"""KPIs and constraint check of any plan: the single source of every reported figure.

:func:`evaluate` drives each route through the travel matrices, stop by stop, and
records what happens. Conventions (units in the names: metres, seconds since
midnight, kg):

- A route starts at its vehicle's depot at ``shift_start_s`` (visit ``sequence`` 0),
  visits its stops in order and returns to the same depot (the last visit). Routes
  with no stops are not reported: the vehicle is not used.
- ``arrival_s`` at a stop is the departure from the previous stop plus the leg's
  travel time; ``departure_s = arrival_s + service_s`` of a bin (no waiting: time
  windows do not exist yet). At the depots ``arrival_s == departure_s``.
- ``load_kg`` of a visit is the load on board **after** the stop: 0 when leaving the
  depot, the cumulative kg collected after each bin, and on the final depot visit
  the total collected (a depot is not a tip, nothing is unloaded there).
- A route's ``distance_m`` is the sum of its legs; ``duration_s`` runs from
  ``shift_start_s`` to the arrival back at the depot; ``load_kg`` is the total kg
  collected; ``trips`` is the number of loads tipped (0: no disposal sites yet);
  ``cost = fixed_cost + cost_per_km * km + cost_per_hour * hours``.
- Violations (``Violation(type, stop, detail)``):
  ``overload`` at the first stop where the load exceeds ``capacity_kg``;
  ``shift_overrun`` (stop: the depot) when the vehicle is back after ``shift_end_s``;
  ``unknown_stop`` for an id that is not a bin of the problem (the stop is skipped:
  no leg, no visit); ``duplicate_stop`` for a bin already visited earlier in the
  plan (the vehicle still drives there and spends the service time, but its kg and
  its count are taken only once); ``no_path`` for a leg with no path (``inf`` in a
  matrix): that leg counts 0 m and 0 s, so figures exclude it.
- Comparisons allow :data:`solver.scaling.LOAD_TOLERANCE_KG` and
  :data:`solver.scaling.TIME_TOLERANCE_S` of float noise.

The summary is the plain sum of the reported routes, in route order.

Extension points: :class:`_RouteWalk` holds the state of a vehicle along its route
(clock, load on board, distance); new stop kinds (disposal sites, breaks) become new
``_visit_*`` methods and waiting for time windows goes into ``_arrive``, without
changing how routes are summed or reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from solver.matrix import TravelMatrices
from solver.problem import Bin, Problem, ProblemError, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import (
    Evaluation,
    Plan,
    RouteEvaluation,
    RoutePlan,
    Summary,
    Violation,
    Visit,
    VisitType,
)

METRES_PER_KM = 1000.0
SECONDS_PER_HOUR = 3600.0


def check_matrices(problem: Problem, matrices: TravelMatrices) -> None:
    """Raise ``ValueError`` unless both matrices are square with one row per problem location."""
    n = problem.n_locations
    for name in ("duration_s", "distance_m"):
        shape = getattr(matrices, name).shape
        if shape != (n, n):
            raise ValueError(f"matrices.{name} must have shape ({n}, {n}) for {len(problem.depots)} "
                             f"depots and {len(problem.bins)} bins, got {shape}")


def find_bin(problem: Problem, location_id: str) -> Bin | None:
    """The bin with id ``location_id``, or ``None`` if it is not a bin of ``problem``."""
    try:
        index = problem.location_index(location_id)
    except KeyError:
        return None
    offset = problem.bin_offset()
    return problem.bins[index - offset] if index >= offset else None


def route_cost(vehicle: Vehicle, *, distance_m: float, duration_s: float) -> float:
    """Money cost of a used vehicle: fixed cost plus per-km and per-hour costs."""
    return (vehicle.fixed_cost + vehicle.cost_per_km * distance_m / METRES_PER_KM
            + vehicle.cost_per_hour * duration_s / SECONDS_PER_HOUR)


class _RouteWalk:
    """A vehicle driven along its stops, accumulating visits, figures and violations.

    ``seen`` maps each bin id already visited in the plan to the vehicle id that
    visited it first; the walk adds the bins it serves.
    """

    def __init__(self, problem: Problem, matrices: TravelMatrices, vehicle: Vehicle,
                 seen: dict[str, str]) -> None:
        self.problem = problem
        self.matrices = matrices
        self.vehicle = vehicle
        self.seen = seen
        self.depot_index = problem.location_index(vehicle.depot_id)
        self.at_index = self.depot_index
        self.clock_s = float(vehicle.shift_start_s)
        self.on_board_kg = 0.0
        self.collected_kg = 0.0
        self.distance_m = 0.0
        self.n_bins = 0
        self.visits: list[Visit] = []
        self.violations: list[Violation] = []
        self._overloaded = False
        self._record("depot", vehicle.depot_id, self.depot_index, arrival_s=self.clock_s,
                     departure_s=self.clock_s, leg_distance_m=0.0, leg_duration_s=0.0)

    def _violate(self, kind: str, stop: str, detail: str) -> None:
        self.violations.append(Violation(type=kind, stop=stop, detail=detail))

    def _record(self, kind: VisitType, location_id: str, index: int, *, arrival_s: float,
                departure_s: float, leg_distance_m: float, leg_duration_s: float) -> None:
        self.visits.append(Visit(
            sequence=len(self.visits), type=kind, location_id=location_id, location_index=index,
            arrival_s=arrival_s, departure_s=departure_s, load_kg=self.on_board_kg,
            leg_distance_m=leg_distance_m, leg_duration_s=leg_duration_s))

    def _drive(self, location_id: str, index: int) -> tuple[float, float]:
        """Drive from the current location to ``index``; the leg's (metres, seconds)."""
        distance_m = float(self.matrices.distance_m[self.at_index, index])
        duration_s = float(self.matrices.duration_s[self.at_index, index])
        if not (math.isfinite(distance_m) and math.isfinite(duration_s)):
            from_id = self.problem.location_ids()[self.at_index]
            self._violate("no_path", location_id,
                          f"no path from {from_id!r} to {location_id!r}; this leg counts 0 m and 0 s")
            distance_m, duration_s = 0.0, 0.0
        self.distance_m += distance_m
        self.clock_s += duration_s
        self.at_index = index
        return distance_m, duration_s

    def _arrive(self) -> float:
        """Arrival time at the stop just reached (the place to add waiting for time windows)."""
        return self.clock_s

    def visit(self, stop_id: str) -> None:
        """Drive to ``stop_id`` and serve it (a bin; other ids are ``unknown_stop``)."""
        b = find_bin(self.problem, stop_id)
        if b is None:
            self._visit_unknown(stop_id)
        else:
            self._visit_bin(b)

    def _visit_unknown(self, stop_id: str) -> None:
        if stop_id in self.problem.location_ids():
            detail = f"{stop_id!r} is a depot; a route's depot start and end are implied"
        else:
            detail = f"{stop_id!r} is not a bin of this problem; the stop is skipped"
        self._violate("unknown_stop", stop_id, detail)

    def _visit_bin(self, b: Bin) -> None:
        index = self.problem.location_index(b.id)
        leg_m, leg_s = self._drive(b.id, index)
        arrival_s = self._arrive()
        departure_s = arrival_s + b.service_s
        first_by = self.seen.get(b.id)
        if first_by is None:
            self.seen[b.id] = self.vehicle.id
            self.on_board_kg += b.demand_kg
            self.collected_kg += b.demand_kg
            self.n_bins += 1
            self._check_load(b.id)
        else:
            where = "earlier on this route" if first_by == self.vehicle.id else f"by {first_by!r}"
            self._violate("duplicate_stop", b.id,
                          f"bin {b.id!r} was already visited {where}; its {b.demand_kg} kg count once")
        self.clock_s = departure_s
        self._record("bin", b.id, index, arrival_s=arrival_s, departure_s=departure_s,
                     leg_distance_m=leg_m, leg_duration_s=leg_s)

    def _check_load(self, stop_id: str) -> None:
        capacity = self.vehicle.capacity_kg
        if not self._overloaded and self.on_board_kg > capacity + LOAD_TOLERANCE_KG:
            self._overloaded = True
            self._violate("overload", stop_id,
                          f"load {self.on_board_kg:g} kg exceeds capacity {capacity:g} kg "
                          f"of {self.vehicle.id!r}")

    def finish(self) -> RouteEvaluation:
        """Drive back to the depot and return the route's figures."""
        vehicle = self.vehicle
        leg_m, leg_s = self._drive(vehicle.depot_id, self.depot_index)
        arrival_s = self._arrive()
        self._record("depot", vehicle.depot_id, self.depot_index, arrival_s=arrival_s,
                     departure_s=arrival_s, leg_distance_m=leg_m, leg_duration_s=leg_s)
        if arrival_s > vehicle.shift_end_s + TIME_TOLERANCE_S:
            self._violate("shift_overrun", vehicle.depot_id,
                          f"back at the depot at {arrival_s:g} s, {arrival_s - vehicle.shift_end_s:g} s "
                          f"after the shift of {vehicle.id!r} ends at {vehicle.shift_end_s} s")
        duration_s = arrival_s - vehicle.shift_start_s
        return RouteEvaluation(
            vehicle_id=vehicle.id, visits=tuple(self.visits), distance_m=self.distance_m,
            duration_s=duration_s, load_kg=self.collected_kg, n_bins=self.n_bins, trips=0,
            cost=route_cost(vehicle, distance_m=self.distance_m, duration_s=duration_s),
            violations=tuple(self.violations))


def evaluate_route(problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, stops: Iterable[str],
                   *, seen: dict[str, str] | None = None) -> RouteEvaluation:
    """Figures and violations of ``vehicle`` driving ``stops`` (bin ids, depot implied).

    ``seen`` maps bin ids visited earlier in the plan to the vehicle that visited
    them (for ``duplicate_stop``); it is updated in place. Matrices are not checked
    here: :func:`evaluate` does that once.
    """
    walk = _RouteWalk(problem, matrices, vehicle, {} if seen is None else seen)
    for stop_id in stops:
        walk.visit(stop_id)
    return walk.finish()


def route_vehicles(problem: Problem, routes: Iterable[RoutePlan]) -> list[Vehicle]:
    """The vehicle of each route; ``ProblemError`` for an unknown or repeated vehicle id."""
    by_id = {v.id: v for v in problem.vehicles}
    used: set[str] = set()
    vehicles = []
    for i, route in enumerate(routes):
        field = f"routes[{i}].vehicle_id"
        if route.vehicle_id not in by_id:
            raise ProblemError(f"{field} names unknown vehicle {route.vehicle_id!r}", field=field,
                               item_id=route.vehicle_id)
        if route.vehicle_id in used:
            raise ProblemError(f"{field}: vehicle {route.vehicle_id!r} has more than one route",
                               field=field, item_id=route.vehicle_id)
        used.add(route.vehicle_id)
        vehicles.append(by_id[route.vehicle_id])
    return vehicles


def summarise(routes: Iterable[RouteEvaluation], *, bins_unassigned: int) -> Summary:
    """Totals of evaluated routes: plain sums in route order."""
    routes = tuple(routes)
    return Summary(
        distance_m=sum((r.distance_m for r in routes), 0.0),
        duration_s=sum((r.duration_s for r in routes), 0.0),
        vehicles_used=len(routes),
        bins_served=sum(r.n_bins for r in routes),
        bins_unassigned=bins_unassigned,
        cost=sum((r.cost for r in routes), 0.0),
        violations=sum(len(r.violations) for r in routes))


def evaluate(problem: Problem, matrices: TravelMatrices, plan: Plan) -> Evaluation:
    """Recompute every figure of ``plan`` from the matrices and check its constraints.

    Raises ``ValueError`` for matrices of the wrong shape and :class:`ProblemError`
    for a route naming an unknown vehicle or a vehicle with two routes; everything
    else wrong with a plan is reported as a :class:`Violation` on its route.
    """
    check_matrices(problem, matrices)
    vehicles = route_vehicles(problem, plan.routes)
    seen: dict[str, str] = {}
    evaluated = [evaluate_route(problem, matrices, vehicle, route.stops, seen=seen)
                 for route, vehicle in zip(plan.routes, vehicles, strict=True) if route.stops]
    return Evaluation(routes=tuple(evaluated),
                      summary=summarise(evaluated, bins_unassigned=len(plan.unassigned)),
                      unassigned=plan.unassigned)
