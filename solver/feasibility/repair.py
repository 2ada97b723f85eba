"""Repairing a plan: each bin an engine dropped inserted where the evaluator confirms the cheapest
place (a route of its own on an unused vehicle included), or explained."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from solver.evaluate import AnyMatrices, as_fleet, check_matrices, evaluate_route, initial_vehicles, route_vehicles
from solver.feasibility.bins import BIN_TOKEN, resolve_bins, solo_sequences
from solver.feasibility.insertion import _Candidate, _insertions, _RouteFacts, _Tally
from solver.feasibility.solo import _solo_reason, solo_check
from solver.feasibility.windows import _Windows
from solver.matrix import FleetMatrices
from solver.problem import Bin, Problem, ProblemError, SolveOptions, Vehicle
from solver.solution import Plan, RouteEvaluation, RoutePlan, Unassigned

logger = logging.getLogger(__name__)


CONFIRMED_CANDIDATES = 5
"""Feasible insertions confirmed by the evaluator before the cheapest of them is kept."""


class _Routes:
    """The routes being repaired, by vehicle id, with their evaluations and facts cached until changed."""

    def __init__(self, problem: Problem, fleet: FleetMatrices, plan: Plan, options: SolveOptions | None) -> None:
        self.problem = problem
        self.fleet = fleet
        self.stops = {r.vehicle_id: tuple(r.stops) for r in plan.routes}
        self.locked = {r.vehicle_id: r.locked for r in options.initial_routes} if options else {}
        self.before = initial_vehicles(options)
        self.move_penalty = options.move_penalty if options else 0.0
        self._evaluated: dict[str, RouteEvaluation] = {}
        self._facts: dict[str, _RouteFacts] = {}

    def evaluation(self, vehicle: Vehicle) -> RouteEvaluation | None:
        """The evaluation of ``vehicle``'s route, ``None`` if it has no stops."""
        stops = self.stops.get(vehicle.id, ())
        if not stops:
            return None
        if vehicle.id not in self._evaluated:
            self._evaluated[vehicle.id] = evaluate_route(self.problem, self.fleet, vehicle, stops)
        return self._evaluated[vehicle.id]

    def facts(self, vehicle: Vehicle, evaluation: RouteEvaluation) -> _RouteFacts:
        """The insertion facts of ``vehicle``'s feasible route."""
        if vehicle.id not in self._facts:
            self._facts[vehicle.id] = _RouteFacts(self.problem, self.fleet.for_vehicle(vehicle.id), vehicle,
                                                  self.stops[vehicle.id], evaluation)
        return self._facts[vehicle.id]

    def replace(self, vehicle_id: str, stops: tuple[str, ...]) -> None:
        """Give ``vehicle_id`` the route ``stops``."""
        self.stops[vehicle_id] = stops
        self._evaluated.pop(vehicle_id, None)
        self._facts.pop(vehicle_id, None)

    def move_cost(self, b: Bin, vehicle: Vehicle) -> float:
        """The move penalty of serving ``b`` on ``vehicle``."""
        had = self.before.get(b.id)
        return self.move_penalty if had is not None and had != vehicle.id else 0.0

    def plan_routes(self) -> tuple[RoutePlan, ...]:
        """Non-empty routes in fleet order."""
        return tuple(RoutePlan(v.id, self.stops[v.id]) for v in self.problem.vehicles if self.stops.get(v.id))


@dataclass(frozen=True)
class _Insertion:
    """The cheapest confirmed way to serve a bin: its vehicle, new stops and exact added cost."""

    vehicle_id: str
    stops: tuple[str, ...]
    added_cost: float


def _best_insertion(problem: Problem, routes: _Routes, candidates: list[_Candidate]) -> _Insertion | None:
    """The cheapest of the first :data:`CONFIRMED_CANDIDATES` candidates the evaluator confirms."""
    confirmed: list[_Insertion] = []
    for candidate in sorted(candidates, key=lambda c: c.approx_cost):
        vehicle = candidate.vehicle
        result = evaluate_route(problem, routes.fleet, vehicle, candidate.stops)
        if result.violations:
            continue
        old = routes.evaluation(vehicle)
        added = result.cost - (old.cost if old is not None else 0.0) + candidate.move_cost
        confirmed.append(_Insertion(vehicle.id, candidate.stops, added))
        if len(confirmed) >= CONFIRMED_CANDIDATES:
            break
    return min(confirmed, key=lambda c: c.added_cost) if confirmed else None


def _solo_candidates(problem: Problem, routes: _Routes, vehicle: Vehicle, b: Bin) -> list[_Candidate]:
    """Routes of its own for ``b`` on the unused ``vehicle``, priced exactly by the evaluator."""
    candidates = []
    for seq in solo_sequences(problem, vehicle):
        stops = tuple(b.id if s == BIN_TOKEN else s for s in seq)
        result = evaluate_route(problem, routes.fleet, vehicle, stops)
        if not result.violations:
            move_cost = routes.move_cost(b, vehicle)
            candidates.append(_Candidate(result.cost + move_cost, vehicle, stops, move_cost))
    return candidates


def _explain_one(problem: Problem, routes: _Routes, b: Bin) -> Unassigned | _Insertion:
    """Insert ``b`` where it fits most cheaply, or the checked reason why it cannot be served."""
    check = solo_check(problem, routes.fleet, [b])
    if not check.servable[:, 0].any():
        return _solo_reason(problem, b, check, 0)
    windows = _Windows.of([b])
    tally = _Tally()
    skipped: list[str] = []
    candidates: list[_Candidate] = []
    for r, vehicle in enumerate(problem.vehicles):
        if not check.servable[r, 0]:
            continue
        evaluation = routes.evaluation(vehicle)
        if evaluation is None:
            candidates += _solo_candidates(problem, routes, vehicle, b)
        elif evaluation.violations:
            skipped.append(vehicle.id)
        else:
            candidates += _insertions(routes.facts(vehicle, evaluation), b, windows,
                                      locked=routes.locked.get(vehicle.id, 0),
                                      move_cost=routes.move_cost(b, vehicle), tally=tally)
    best = _best_insertion(problem, routes, candidates)
    if best is not None:
        if not b.required and best.added_cost >= (b.penalty or 0.0):
            return Unassigned(b.id, "not_worth_serving", f"the cheapest feasible insertion adds "
                              f"{best.added_cost:.2f} ({best.vehicle_id!r}), not less than its penalty "
                              f"{b.penalty or 0.0:g}")
        return best
    left_alone = (f"; routes already breaking a constraint were left alone ({', '.join(map(repr, skipped))})"
                  if skipped else "")
    if tally.all_capacity and not skipped:
        spare = (f" (most spare {tally.most_spare[0]:g} kg, {tally.most_spare[1]!r})" if tally.most_spare else "")
        limits = f"; {tally.limit_detail}" if tally.limit_detail else ""
        return Unassigned(b.id, "capacity", f"every route it could join would overload with its "
                          f"{b.demand_kg:g} kg, {b.volume_l:g} l{spare}{limits}, and no tip fixes it")
    if tally.positions == 0:
        return Unassigned(b.id, "no_feasible_insertion", "it fits a vehicle alone, but no route of the plan "
                          "could take it" + left_alone)
    return Unassigned(b.id, "no_feasible_insertion", tally.text(b) + left_alone)


def explain_dropped(problem: Problem, matrices: AnyMatrices, plan: Plan, dropped_ids: Sequence[str], *,
                    options: SolveOptions | None = None) -> Plan:
    """Repair or explain the bins an engine dropped.

    Each bin of ``dropped_ids``, in order, is first checked alone (:func:`~solver.feasibility.screen_bins`'
    facts and reasons). If some vehicle could serve it alone, it goes into the cheapest
    place (added money cost: per km and per hour, the fixed cost of an unused vehicle,
    ``options.move_penalty`` when the vehicle is not the one that had it in
    ``options.initial_routes``) among: every position of every violation-free route of a
    vehicle that could serve it alone, plain or with a tip at any site right after or
    right before it (positions among a route's locked first stops excluded), and the
    short routes of :func:`solo_sequences` on unused vehicles. Candidates are checked
    exactly (loads between tips, streams at tips, lifts and daily kg, and time by a
    backward pass of latest arrivals) and the cheapest of the first few is confirmed by
    the evaluator. A required bin that fits is inserted; an optional one only if the added
    cost is below its ``penalty``, else ``not_worth_serving``. A bin that fits nowhere gets
    ``capacity`` when every position overloads the vehicle (or breaks a daily limit) and
    no tip fixes it, else ``no_feasible_insertion`` with counts and margins. Later bins see
    the routes so extended. Routes that already break a constraint are left alone (and
    named in the detail).

    Returns a new plan: routes in fleet order, the entries of ``plan.unassigned`` for bins
    not in ``dropped_ids`` kept as they are, then one entry per dropped bin that is still
    not served. ``ProblemError`` if a dropped id is unknown, repeated or already on a route.
    """
    started = time.perf_counter()
    fleet = as_fleet(problem, matrices)
    check_matrices(problem, fleet)
    dropped = resolve_bins(problem, dropped_ids, field="dropped_ids")
    route_vehicles(problem, plan.routes)
    routes = _Routes(problem, fleet, plan, options)
    routed = {stop for stops in routes.stops.values() for stop in stops}
    for i, b in enumerate(dropped):
        if b.id in routed:
            raise ProblemError(f"dropped_ids[{i}]: bin {b.id!r} is already on a route",
                               field=f"dropped_ids[{i}]", item_id=b.id)
    explained: list[Unassigned] = []
    repaired = 0
    for b in dropped:
        outcome = _explain_one(problem, routes, b)
        if isinstance(outcome, Unassigned):
            explained.append(outcome)
        else:
            routes.replace(outcome.vehicle_id, outcome.stops)
            repaired += 1
    dropped_set = {b.id for b in dropped}
    kept = tuple(u for u in plan.unassigned if u.bin_id not in dropped_set)
    logger.info("explained %d dropped bins in %.3f s: %d inserted, %d unassigned", len(dropped),
                time.perf_counter() - started, repaired, len(explained))
    return Plan(routes=routes.plan_routes(), unassigned=kept + tuple(explained))
