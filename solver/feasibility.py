"""Why a bin is not served: checked facts, never guesses.

Two moments need a reason:

- before solving, :func:`screen_bins` rules out the bins that no vehicle could take
  even on a route of their own (too heavy for every vehicle, no path to and from
  any vehicle's depot, or a round trip longer than every shift);
- after solving, :func:`explain_dropped` takes the bins an engine left out, first
  tries to insert each one (cheapest feasible position in any route, or a route of
  its own on an unused vehicle) and keeps it if it fits, so that no servable bin is
  dropped silently; otherwise it gives the reason found by checking every position.

Feasibility here means what :func:`solver.evaluate.evaluate` accepts: a route is
feasible when the evaluator reports no violation on it, with the same tolerances.
Units: kg, seconds, metres; costs in money as in :func:`solver.evaluate.route_cost`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.evaluate import (
    METRES_PER_KM,
    SECONDS_PER_HOUR,
    check_matrices,
    evaluate_route,
    find_bin,
    route_vehicles,
)
from solver.matrix import TravelMatrices
from solver.problem import Bin, Problem, ProblemError, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import Plan, RouteEvaluation, RoutePlan, Unassigned

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def resolve_bins(problem: Problem, bin_ids: Iterable[str], *, field: str = "bin_ids") -> list[Bin]:
    """The bins named by ``bin_ids``, in order; ``ProblemError`` for an unknown or repeated id."""
    resolved: list[Bin] = []
    seen: set[str] = set()
    for i, bin_id in enumerate(bin_ids):
        b = find_bin(problem, bin_id)
        if b is None:
            raise ProblemError(f"{field}[{i}] names unknown bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        if bin_id in seen:
            raise ProblemError(f"{field}[{i}] repeats bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        seen.add(bin_id)
        resolved.append(b)
    return resolved


@dataclass(frozen=True)
class SoloCheck:
    """Whether each vehicle (row) could serve each bin (column) on a route of its own.

    ``capacity_ok``: demand within capacity; ``reachable``: finite travel both ways
    between the vehicle's depot and the bin; ``round_trip_s``: depot -> bin -> depot
    travel plus the bin's service time, seconds (``inf`` when not reachable);
    ``shift_ok``: that round trip fits the vehicle's shift.
    """

    capacity_ok: BoolArray
    reachable: BoolArray
    round_trip_s: FloatArray
    shift_ok: BoolArray

    @property
    def servable(self) -> BoolArray:
        """Vehicle-by-bin: every single-bin check passes."""
        return self.capacity_ok & self.reachable & self.shift_ok


def solo_check(problem: Problem, matrices: TravelMatrices, bins: Sequence[Bin]) -> SoloCheck:
    """Check every vehicle against every bin of ``bins`` alone (vectorised, float figures)."""
    columns = np.array([problem.location_index(b.id) for b in bins], dtype=np.intp)
    demand = np.array([b.demand_kg for b in bins], dtype=np.float64)
    service = np.array([b.service_s for b in bins], dtype=np.float64)
    depots = np.array([problem.location_index(v.depot_id) for v in problem.vehicles], dtype=np.intp)
    capacity = np.array([v.capacity_kg for v in problem.vehicles], dtype=np.float64)
    shift = np.array([v.shift_end_s - v.shift_start_s for v in problem.vehicles], dtype=np.float64)
    out_s = matrices.duration_s[np.ix_(depots, columns)]
    back_s = matrices.duration_s[np.ix_(columns, depots)].T
    out_m = matrices.distance_m[np.ix_(depots, columns)]
    back_m = matrices.distance_m[np.ix_(columns, depots)].T
    reachable = np.isfinite(out_s) & np.isfinite(back_s) & np.isfinite(out_m) & np.isfinite(back_m)
    round_trip = np.where(reachable, out_s + service[None, :] + back_s, np.inf)
    return SoloCheck(
        capacity_ok=demand[None, :] <= capacity[:, None] + LOAD_TOLERANCE_KG,
        reachable=reachable,
        round_trip_s=round_trip,
        shift_ok=round_trip <= shift[:, None] + TIME_TOLERANCE_S)


def _solo_reason(problem: Problem, b: Bin, check: SoloCheck, column: int) -> Unassigned:
    """The checked reason why no vehicle can serve bin ``b`` (column ``column`` of ``check``) alone."""
    vehicles = problem.vehicles
    if not check.capacity_ok[:, column].any():
        biggest = max(vehicles, key=lambda v: v.capacity_kg)
        return Unassigned(b.id, "capacity", f"demand {b.demand_kg:g} kg exceeds the capacity of every "
                          f"vehicle (largest {biggest.capacity_kg:g} kg, {biggest.id!r})")
    if not check.reachable[:, column].any():
        depots = sorted({v.depot_id for v in vehicles})
        return Unassigned(b.id, "unreachable", f"no path from any vehicle's depot to the bin and back "
                          f"(depots {', '.join(map(repr, depots))})")
    if not check.shift_ok[:, column].any():
        best = int(np.argmin(check.round_trip_s[:, column]))
        longest = max(vehicles, key=lambda v: v.shift_end_s - v.shift_start_s)
        return Unassigned(b.id, "shift_too_short", f"the shortest depot-bin-depot round trip with "
                          f"service takes {check.round_trip_s[best, column]:g} s ({vehicles[best].id!r}), "
                          f"longer than every shift (longest {longest.shift_end_s - longest.shift_start_s} s, "
                          f"{longest.id!r})")
    faults = []
    for v_index, vehicle in enumerate(vehicles):
        if not check.capacity_ok[v_index, column]:
            faults.append(f"{vehicle.id!r} carries {vehicle.capacity_kg:g} kg < {b.demand_kg:g} kg")
        elif not check.reachable[v_index, column]:
            faults.append(f"{vehicle.id!r} has no path from depot {vehicle.depot_id!r} and back")
        else:
            faults.append(f"{vehicle.id!r} needs {check.round_trip_s[v_index, column]:g} s, shift "
                          f"{vehicle.shift_end_s - vehicle.shift_start_s} s")
    return Unassigned(b.id, "no_compatible_vehicle",
                      "no vehicle can serve it even alone: " + "; ".join(faults))


def screen_bins(problem: Problem, matrices: TravelMatrices,
                bin_ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[Unassigned, ...]]:
    """Split ``bin_ids`` into bins some vehicle could serve alone and the rest, with reasons.

    A bin is ruled out when no vehicle can take it on a route of its own. The reason
    is the first of these facts that holds: ``capacity`` (demand above every
    vehicle's ``capacity_kg``), ``unreachable`` (no finite round trip from any
    vehicle's depot), ``shift_too_short`` (depot -> bin -> depot plus service longer
    than every vehicle's shift); when none holds for all vehicles alike (each fails
    for its own reason) the reason is ``no_compatible_vehicle`` and the detail lists
    each vehicle's fault. Returns ``(servable_ids, unassigned)``, both in input order.
    """
    check_matrices(problem, matrices)
    bins = resolve_bins(problem, bin_ids)
    check = solo_check(problem, matrices, bins)
    servable: BoolArray = np.asarray(check.servable.any(axis=0), dtype=np.bool_)
    kept = tuple(b.id for b, ok in zip(bins, servable, strict=True) if ok)
    ruled_out = tuple(_solo_reason(problem, b, check, column)
                      for column, b in enumerate(bins) if not servable[column])
    return kept, ruled_out


@dataclass(frozen=True)
class _Slots:
    """Every place a bin could go in one vehicle's route, with its cheap-to-compute effects.

    Position ``p`` inserts the bin before ``stops[p]`` (``p == len(stops)``: before the
    return to the depot). ``no_path``, ``overload`` and ``overrun_s`` (seconds after the
    shift end the vehicle would be back, ``inf`` without a path) are per position;
    ``spare_kg`` is the capacity left on the route before the bin.
    """

    vehicle: Vehicle
    stops: tuple[str, ...]
    no_path: BoolArray
    overload: bool
    overrun_s: FloatArray
    added_cost: FloatArray
    spare_kg: float

    @property
    def feasible(self) -> BoolArray:
        """Positions where nothing is violated."""
        if self.overload:
            return np.zeros(self.no_path.shape, dtype=np.bool_)
        return ~self.no_path & (self.overrun_s <= TIME_TOLERANCE_S)


def _slots(problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, stops: tuple[str, ...],
           before: RouteEvaluation | None, b: Bin) -> _Slots | None:
    """Insertion effects of ``b`` into ``vehicle``'s route ``stops``; ``None`` if the route is infeasible.

    ``before`` is the evaluation of the non-empty route ``stops`` (``None`` when empty).
    Each position's extra distance and time follow from the three legs it changes
    (no time windows yet, so nothing else moves); the caller confirms the chosen
    position with the evaluator.
    """
    depot = problem.location_index(vehicle.depot_id)
    bin_index = problem.location_index(b.id)
    if before is not None:
        if before.violations:
            return None
        path = np.array([depot, *(problem.location_index(s) for s in stops), depot], dtype=np.intp)
        prev, nxt = path[:-1], path[1:]
        removed_s, removed_m = matrices.duration_s[prev, nxt], matrices.distance_m[prev, nxt]
        back_s, load_kg, fixed = before.visits[-1].arrival_s, before.load_kg, 0.0
    else:
        prev = nxt = np.array([depot], dtype=np.intp)
        removed_s = removed_m = np.zeros(1)
        back_s, load_kg, fixed = float(vehicle.shift_start_s), 0.0, vehicle.fixed_cost
    legs_s = (matrices.duration_s[prev, bin_index], matrices.duration_s[bin_index, nxt])
    legs_m = (matrices.distance_m[prev, bin_index], matrices.distance_m[bin_index, nxt])
    finite = np.isfinite(legs_s[0]) & np.isfinite(legs_s[1]) & np.isfinite(legs_m[0]) & np.isfinite(legs_m[1])
    with np.errstate(invalid="ignore"):
        added_s = np.where(finite, legs_s[0] + b.service_s + legs_s[1] - removed_s, np.inf)
        added_m = np.where(finite, legs_m[0] + legs_m[1] - removed_m, np.inf)
    added_cost = (fixed + vehicle.cost_per_km * added_m / METRES_PER_KM
                  + vehicle.cost_per_hour * added_s / SECONDS_PER_HOUR)
    return _Slots(vehicle=vehicle, stops=stops, no_path=~finite,
                  overload=load_kg + b.demand_kg > vehicle.capacity_kg + LOAD_TOLERANCE_KG,
                  overrun_s=back_s + added_s - vehicle.shift_end_s, added_cost=added_cost,
                  spare_kg=vehicle.capacity_kg - load_kg)


def _confirmed(problem: Problem, matrices: TravelMatrices, slots: _Slots, position: int,
               b: Bin) -> tuple[str, ...] | None:
    """The route with ``b`` inserted at ``position`` if the evaluator finds it violation-free."""
    stops = (*slots.stops[:position], b.id, *slots.stops[position:])
    result = evaluate_route(problem, matrices, slots.vehicle, stops)
    return None if result.violations else stops


def _best_insertion(problem: Problem, matrices: TravelMatrices, candidates: Sequence[_Slots],
                    b: Bin) -> tuple[str, tuple[str, ...]] | None:
    """Cheapest evaluator-confirmed insertion of ``b``: ``(vehicle_id, new stops)`` or ``None``."""
    options = [(float(s.added_cost[p]), k, p) for k, s in enumerate(candidates)
               for p in np.flatnonzero(s.feasible)]
    for _, k, p in sorted(options):
        stops = _confirmed(problem, matrices, candidates[k], int(p), b)
        if stops is not None:
            return candidates[k].vehicle.id, stops
    return None


def _mixed_detail(b: Bin, candidates: Sequence[_Slots]) -> str:
    """Counts (and margins) of the ways the insertions of ``b`` fail, when no single way explains all."""
    n_total = sum(s.no_path.size for s in candidates)
    parts = []
    overloaded = [s for s in candidates if s.overload]
    if overloaded:
        roomiest = max(overloaded, key=lambda s: s.spare_kg)
        parts.append(f"{sum(s.no_path.size for s in overloaded)} overload the vehicle (at most "
                     f"{roomiest.spare_kg:g} kg spare, {roomiest.vehicle.id!r}, for {b.demand_kg:g} kg)")
    overruns = np.concatenate([s.overrun_s[~s.no_path] for s in candidates])
    late = overruns[overruns > TIME_TOLERANCE_S]
    if late.size:
        parts.append(f"{late.size} overrun the shift (the least by {float(late.min()):g} s)")
    n_no_path = sum(int(np.count_nonzero(s.no_path)) for s in candidates)
    if n_no_path:
        parts.append(f"{n_no_path} need a leg with no path")
    return f"none of {n_total} insertions is feasible: " + ", ".join(parts)


def _dropped_reason(b: Bin, candidates: Sequence[_Slots], skipped: Sequence[str]) -> Unassigned:
    """The checked reason why no insertion of ``b`` into ``candidates`` is feasible.

    ``skipped`` names the vehicles whose routes already break a constraint and were
    not considered; the detail says so.
    """
    left_alone = (f"; routes already breaking a constraint were left alone "
                  f"({', '.join(map(repr, skipped))})") if skipped else ""
    if not candidates:
        return Unassigned(b.id, "no_feasible_insertion", "no vehicle is unused" + left_alone)
    if all(s.overload for s in candidates):
        roomiest = max(candidates, key=lambda s: s.spare_kg)
        return Unassigned(b.id, "capacity", f"demand {b.demand_kg:g} kg exceeds the spare capacity of "
                          f"every vehicle (most {roomiest.spare_kg:g} kg, {roomiest.vehicle.id!r})"
                          + left_alone)
    if all(s.no_path.all() for s in candidates):
        return Unassigned(b.id, "unreachable", "no route can reach the bin and go on: every insertion "
                          "needs a leg with no path" + left_alone)
    least = min(candidates, key=lambda s: float(np.min(s.overrun_s)))
    least_overrun = float(np.min(least.overrun_s))
    if least_overrun > TIME_TOLERANCE_S:
        n_no_path = sum(int(np.count_nonzero(s.no_path)) for s in candidates)
        also = f"; {n_no_path} other insertions need a leg with no path" if n_no_path else ""
        return Unassigned(b.id, "shift_too_short", f"every insertion brings a vehicle back after its "
                          f"shift ends (least overrun {least_overrun:g} s, {least.vehicle.id!r})"
                          + also + left_alone)
    return Unassigned(b.id, "no_feasible_insertion", _mixed_detail(b, candidates) + left_alone)


class _Routes:
    """The routes being repaired, by vehicle id, with their evaluations cached until changed."""

    def __init__(self, problem: Problem, matrices: TravelMatrices, plan: Plan) -> None:
        self.problem = problem
        self.matrices = matrices
        self.stops = {r.vehicle_id: tuple(r.stops) for r in plan.routes}
        self._evaluated: dict[str, RouteEvaluation] = {}

    def evaluation(self, vehicle: Vehicle) -> RouteEvaluation | None:
        """The evaluation of ``vehicle``'s route, ``None`` if it has no stops."""
        stops = self.stops.get(vehicle.id, ())
        if not stops:
            return None
        if vehicle.id not in self._evaluated:
            self._evaluated[vehicle.id] = evaluate_route(self.problem, self.matrices, vehicle, stops)
        return self._evaluated[vehicle.id]

    def replace(self, vehicle_id: str, stops: tuple[str, ...]) -> None:
        """Give ``vehicle_id`` the route ``stops``."""
        self.stops[vehicle_id] = stops
        self._evaluated.pop(vehicle_id, None)

    def candidates(self, b: Bin) -> tuple[list[_Slots], list[str]]:
        """Insertion slots of ``b`` for every vehicle (used or not), and the routes skipped as infeasible."""
        candidates, skipped = [], []
        for vehicle in self.problem.vehicles:
            slots = _slots(self.problem, self.matrices, vehicle, self.stops.get(vehicle.id, ()),
                           self.evaluation(vehicle), b)
            if slots is None:
                skipped.append(vehicle.id)
            else:
                candidates.append(slots)
        return candidates, skipped

    def plan_routes(self) -> tuple[RoutePlan, ...]:
        """Non-empty routes in fleet order."""
        return tuple(RoutePlan(v.id, self.stops[v.id]) for v in self.problem.vehicles if self.stops.get(v.id))


def explain_dropped(problem: Problem, matrices: TravelMatrices, plan: Plan,
                    dropped_ids: Sequence[str]) -> Plan:
    """Repair or explain the bins an engine dropped.

    Each bin of ``dropped_ids``, in order, goes into the cheapest position (added money
    cost, fixed cost included for an unused vehicle) where the evaluator finds the
    route violation-free, and later bins see the routes so extended. A bin that fits
    nowhere gets a checked reason, the first that holds of: ``capacity`` if every
    insertion overloads the vehicle, ``unreachable`` if every insertion needs a leg
    with no path, ``shift_too_short`` if every insertion that has a path brings the
    vehicle back after its shift; otherwise ``no_feasible_insertion`` with counts and
    margins in the detail. Routes that already break a constraint are left alone
    (and named in the detail).

    Returns a new plan: routes in fleet order, the entries of ``plan.unassigned`` for
    bins not in ``dropped_ids`` kept as they are, then one entry per dropped bin that
    still cannot be served. ``ProblemError`` if a dropped id is unknown, repeated or
    already on a route.
    """
    started = time.perf_counter()
    check_matrices(problem, matrices)
    dropped = resolve_bins(problem, dropped_ids, field="dropped_ids")
    route_vehicles(problem, plan.routes)
    routes = _Routes(problem, matrices, plan)
    routed = {stop for stops in routes.stops.values() for stop in stops}
    for i, b in enumerate(dropped):
        if b.id in routed:
            raise ProblemError(f"dropped_ids[{i}]: bin {b.id!r} is already on a route",
                               field=f"dropped_ids[{i}]", item_id=b.id)
    explained: list[Unassigned] = []
    repaired = 0
    for b in dropped:
        candidates, skipped = routes.candidates(b)
        insertion = _best_insertion(problem, matrices, candidates, b)
        if insertion is None:
            explained.append(_dropped_reason(b, candidates, skipped))
        else:
            routes.replace(*insertion)
            repaired += 1
    dropped_set = {b.id for b in dropped}
    kept = tuple(u for u in plan.unassigned if u.bin_id not in dropped_set)
    logger.info("explained %d dropped bins in %.3f s: %d inserted, %d unassigned", len(dropped),
                time.perf_counter() - started, repaired, len(explained))
    return Plan(routes=routes.plan_routes(), unassigned=kept + tuple(explained))
