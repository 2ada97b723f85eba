"""Work moved from the longest rounds to the shortest, when re-solving under caps cannot balance a plan.

The shaped engine's balance phase (:mod:`solver.engines.shaped`) cuts every round's shift to
``(1 + tolerance)`` times the mean round and searches again. Where balance needs a short round to
take *more* work (two lorries, a town and one far village; a last lorry given only the leftovers)
the capped search often finds no plan that serves every bin, and balance is given up.
:func:`rebalance` instead edits the plan as it stands, a local search in the manner of the
districting literature's border moves:

- the *donor* is the longest round (by the worse of its duration against the mean round's and its
  kg against the mean load), the *receivers* the :data:`RECEIVERS` shortest rounds below it;
- the donor's movable bins (not pinned to a vehicle, not named in ``keep``) are grouped into units,
  a whole street when ``streets`` says which bins share one (else one bin), and tried nearest first
  to the receiver's bins by road (symmetric travel seconds on the receiver's matrices): border
  stops first, so each round keeps its own area; single bins are tried only when no whole street
  of the longest round can move (the last street would overshoot the balance);
- each bin of a unit goes to its cheapest position in the receiver by travel seconds (never after
  its last tip when it must come back empty; when every load is full, as a new load after the last
  tip, tipped at the same site), confirmed by the evaluator
  (:func:`solver.evaluate.evaluate_route`: capacity between tips, shift, windows, breaks, vehicle
  access); a position that adds a violation is refused and the next cheapest tried;
- a move is kept when neither round gains a violation, the plan's spread does not rise, the longer
  of the two rounds after it is shorter than the donor was before (so the longest rounds come down
  one by one even when two tie), and the plan's objective stays within :data:`WANDER` allowances of
  what it was before the first move (the plan returned is the least spread one found within one
  ``allowance``); a tip of the donor whose two loads now fit in one is dropped. Each receiver
  offers the cheapest kept move of its :data:`UNIT_TRIES` nearest units, and the cheapest offer is
  made: a greedy path through dear moves would spend the allowance before the balance is reached;
- when no unit can move one way (the receiver would grow too heavy while the donor is too long:
  duration and load pull apart), a bin of the donor is swapped for one of the receiver's nearest
  the donor, under the same rules.

The search stops when the spread is within ``tolerance``, when no unit of the longest round can move,
or at ``deadline``. Units: seconds, kg, the objective's own (seconds, metres or money).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from solver.balance import plan_balance
from solver.evaluate import evaluate_route, initial_vehicles
from solver.matrix import FleetMatrices
from solver.problem import BREAK_STOP, Problem, SolveOptions, Vehicle
from solver.solution import Plan, RouteEvaluation, RoutePlan

log = logging.getLogger(__name__)

RECEIVERS = 3
"""Shortest rounds offered each unit of the longest one: the shortest may lie far off, a neighbour
below the mean may take the same work for less driving."""

UNIT_TRIES = 8
"""Units of the donor tried per receiver, nearest first; a farther unit would cost more driving
than a border one, and each try evaluates both rounds."""

SWAP_TRIES = 4
"""Bins of the donor, and of the receiver back, tried per receiver in a swap (``SWAP_TRIES ** 2``
pairs): a swap is tried only when no one-way move helps."""

WANDER = 2.0
"""How many allowances dearer than the first plan the plans the search passes through may be (the
plan returned stays within one)."""

POSITION_TRIES = 8
"""Cheapest positions in the receiver tried per bin before the unit is refused (the cheapest may
overload a load or miss a window)."""


@dataclass
class _Round:
    """A vehicle's stops and their evaluation."""

    vehicle: Vehicle
    stops: list[str]
    evaluation: RouteEvaluation

    @property
    def violations(self) -> int:
        return len(self.evaluation.violations)


def _value(route: RouteEvaluation, objective: str) -> float:
    """A round's share of the plan's objective: seconds, metres or money."""
    if objective == "duration":
        return route.duration_s
    if objective == "distance":
        return route.distance_m
    return route.cost


def _spread(routes: Collection[RouteEvaluation]) -> float:
    """The worse of the duration and load spreads (``max / mean - 1``), as the shaped engine measures."""
    b = plan_balance(tuple(routes))
    return round(max(b.duration_spread, b.load_spread), 9)


class _Rebalancer:
    """The state of one :func:`rebalance`: the rounds, the fixed yardsticks, the moves made."""

    def __init__(self, problem: Problem, matrices: FleetMatrices, plan: Plan, *, objective: str,
                 streets: Mapping[str, int], keep: Collection[str], options: SolveOptions | None) -> None:
        self.problem = problem
        self.matrices = matrices
        self.objective = objective
        self.streets = streets
        self.breaks_where_they_fit = {r.vehicle_id for r in plan.routes if r.breaks_where_they_fit}
        self.rounds: dict[str, _Round] = {}
        for route in plan.routes:
            if route.stops:
                vehicle = problem.vehicle(route.vehicle_id)
                self.rounds[vehicle.id] = _Round(vehicle, list(route.stops), self._evaluate(vehicle, route.stops))
        locked = {s for r in (options.initial_routes if options else ()) for s in r.stops[:r.locked]}
        self.keep = set(keep) | locked
        self.before = initial_vehicles(options)
        self.move_penalty = options.move_penalty if options is not None else 0.0
        balance = plan_balance(tuple(r.evaluation for r in self.rounds.values()))
        # fixed yardsticks: a round's size is measured against the first plan's means throughout, so
        # each kept move lowers the largest size for good and the search cannot cycle
        self.mean_s = balance.duration_mean_s or 1.0
        self.mean_kg = balance.load_mean_kg or 1.0

    def _evaluate(self, vehicle: Vehicle, stops: list[str] | tuple[str, ...]) -> RouteEvaluation:
        return evaluate_route(self.problem, self.matrices, vehicle, stops,
                              breaks_where_they_fit=vehicle.id in self.breaks_where_they_fit)

    def size(self, route: RouteEvaluation) -> float:
        """A round's duration or load against the first plan's mean round, the larger."""
        return max(route.duration_s / self.mean_s, route.load_kg / self.mean_kg)

    def spread(self) -> float:
        return _spread([r.evaluation for r in self.rounds.values()])

    def objective_value(self) -> float:
        """The plan's objective over its rounds (with the move penalties of bins off their initial vehicle)."""
        value = sum(_value(r.evaluation, self.objective) for r in self.rounds.values())
        if self.objective == "cost" and self.move_penalty and self.before:
            value += self.move_penalty * sum(1 for v, r in self.rounds.items() for s in r.stops
                                             if s in self.before and self.before[s] != v)
        return value

    def units(self, donor: _Round, receiver: _Round, *, whole: bool) -> list[tuple[str, ...]]:
        """The donor's movable bins in units (whole streets when ``whole`` and known, else one bin each),
        nearest the receiver's bins first."""
        offset = self.problem.bin_offset()
        movable = [s for s in donor.stops if s != BREAK_STOP and s not in self.keep
                   and self.problem.location_index(s) >= offset and self.problem.bin(s).vehicle_id is None]
        if not movable:
            return []
        area = [self.problem.location_index(s) for s in receiver.stops
                if s != BREAK_STOP and self.problem.location_index(s) >= offset]
        if not area:
            area = [self.problem.location_index(receiver.vehicle.depot_id)]
        times = self.matrices.for_vehicle(receiver.vehicle.id).duration_s
        rows = np.array([self.problem.location_index(s) for s in movable], dtype=np.int64)
        cols = np.array(area, dtype=np.int64)
        near = ((times[np.ix_(rows, cols)] + times[np.ix_(cols, rows)].T) / 2.0).min(axis=1)
        groups: dict[object, list[int]] = {}
        for i, s in enumerate(movable):
            street = self.streets.get(s) if whole else None
            groups.setdefault(("street", street) if street is not None else ("bin", s), []).append(i)
        ranked = sorted(groups.values(), key=lambda members: float(near[members].min()))
        return [tuple(movable[i] for i in members) for members in ranked]

    def insert(self, receiver: _Round, stops: list[str], bin_id: str, allowed: int) -> tuple[list[str],
                                                                                          RouteEvaluation] | None:
        """``stops`` with ``bin_id`` at the cheapest position (travel seconds) that the evaluator finds
        adds no violation beyond ``allowed``; ``None`` if none of the :data:`POSITION_TRIES` cheapest does."""
        problem, vehicle = self.problem, receiver.vehicle
        times = self.matrices.for_vehicle(vehicle.id).duration_s
        depot = problem.location_index(vehicle.depot_id)
        places, at = [], depot
        for s in stops:
            at = at if s == BREAK_STOP else problem.location_index(s)
            places.append(at)
        before = np.array([depot, *places], dtype=np.int64)
        after = np.array([*places, depot], dtype=np.int64)
        here = problem.location_index(bin_id)
        with np.errstate(invalid="ignore"):
            delta = times[before, here] + times[here, after] - times[before, after]
        last = -1
        if problem.disposal_sites:
            tips = [i for i, s in enumerate(stops)
                    if s != BREAK_STOP and problem.location_index(s) < problem.bin_offset()]
            last = tips[-1] if tips else -1
        if problem.disposal_sites and vehicle.tip_before_return:
            delta[last + 1:] = np.inf  # a bin after the last tip would come back on board
        for position in np.argsort(delta, kind="stable")[:POSITION_TRIES]:
            if not np.isfinite(delta[position]):
                break
            trial = [*stops[:position], bin_id, *stops[position:]]
            evaluation = self._evaluate(vehicle, trial)
            if len(evaluation.violations) <= allowed:
                return trial, evaluation
        if 0 <= last < len(stops) and problem.disposal_sites:
            # every load full: a new one after the last tip, tipped at the same site (a short round
            # that must take more work may need another load, not only room in the ones it has)
            trial = [*stops[:last + 1], bin_id, stops[last], *stops[last + 1:]]
            evaluation = self._evaluate(vehicle, trial)
            if len(evaluation.violations) <= allowed:
                return trial, evaluation
        return None

    def move(self, unit: tuple[str, ...], donor: _Round, receiver: _Round) -> tuple[_Round, _Round] | None:
        """The donor and receiver after ``unit`` moves, or ``None`` when it cannot move without a new violation."""
        stops = receiver.stops
        evaluation = receiver.evaluation
        for bin_id in unit:
            placed = self.insert(receiver, stops, bin_id, receiver.violations)
            if placed is None:
                return None
            stops, evaluation = placed
        gone = set(unit)
        left = [s for s in donor.stops if s not in gone]
        donor_evaluation = self._evaluate(donor.vehicle, left)
        if len(donor_evaluation.violations) > donor.violations:
            return None
        return self.fewer_tips(_Round(donor.vehicle, left, donor_evaluation)), _Round(receiver.vehicle, stops,
                                                                                          evaluation)

    def fewer_tips(self, round_: _Round) -> _Round:
        """``round_`` without each tip (but its last) whose two loads now fit in one, when the evaluator
        finds it shorter with no new violation: a round that gave work away needs fewer loads."""
        vehicle = round_.vehicle
        offset = self.problem.bin_offset()
        k = 0
        while True:
            visits = round_.evaluation.visits
            tips = [i for i, v in enumerate(visits) if v.type == "disposal"]
            merged = None
            for n, i in enumerate(tips[:-1]):
                if n < k:
                    continue
                # the load brought to this tip, and that brought to the next one
                first, second = visits[i - 1].load_kg, visits[tips[n + 1] - 1].load_kg
                first_l, second_l = visits[i - 1].load_l, visits[tips[n + 1] - 1].load_l
                if first + second > vehicle.capacity_kg or (
                        vehicle.capacity_l is not None and first_l + second_l > vehicle.capacity_l):
                    continue
                stop_index = [j for j, s in enumerate(round_.stops)
                              if s != BREAK_STOP and self.problem.location_index(s) < offset][n]
                stops = round_.stops[:stop_index] + round_.stops[stop_index + 1:]
                evaluation = self._evaluate(vehicle, stops)
                if (len(evaluation.violations) <= round_.violations
                        and evaluation.duration_s < round_.evaluation.duration_s):
                    merged = _Round(vehicle, stops, evaluation)
                    k = n
                    break
            if merged is None:
                return round_
            round_ = merged

    def penalty(self, unit: tuple[str, ...], giver: str, taker: str) -> float:
        """The change in move penalties (objective ``cost``) when ``unit`` goes from ``giver`` to ``taker``."""
        if self.objective != "cost" or not self.move_penalty:
            return 0.0
        return self.move_penalty * sum((self.before.get(s, taker) != taker) - (self.before.get(s, giver) != giver)
                                       for s in unit)

    def trials(self, donor: _Round, receiver: _Round, *, whole: bool, swap: bool
               ) -> Iterator[tuple[float, _Round, _Round]]:
        """Each move tried from ``donor`` to ``receiver``: its change in move penalties and the two rounds
        after it. A move is a unit of the donor (:data:`UNIT_TRIES` nearest the receiver), or with
        ``swap`` one of its :data:`SWAP_TRIES` nearest bins for one of the receiver's
        :data:`SWAP_TRIES` nearest the donor."""
        for unit in self.units(donor, receiver, whole=whole)[:SWAP_TRIES if swap else UNIT_TRIES]:
            moved = self.move(unit, donor, receiver)
            if moved is None:
                continue
            there = self.penalty(unit, donor.vehicle.id, receiver.vehicle.id)
            if not swap:
                yield there, *moved
                continue
            taken, given = moved[1], moved[0]
            backs = [u for u in self.units(taken, given, whole=False) if u[0] not in unit][:SWAP_TRIES]
            for back in backs:
                returned = self.move(back, taken, given)
                if returned is not None:
                    yield there + self.penalty(back, receiver.vehicle.id, donor.vehicle.id), returned[1], returned[0]

    def offer(self, donor: _Round, receiver: _Round, *, cap: float, deadline: float | None, whole: bool,
              swap: bool) -> tuple[float, _Round, _Round] | None:
        """The receiver's offer: of the moves :meth:`trials` makes, the one kept (module docstring) at
        the least objective, with the plan's objective after it; ``None`` when no move is kept."""
        spread, value = self.spread(), self.objective_value()
        top = self.size(donor.evaluation)
        others = [r.evaluation for v, r in self.rounds.items() if v not in (donor.vehicle.id, receiver.vehicle.id)]
        best: tuple[float, _Round, _Round] | None = None
        for penalty, new_donor, new_receiver in self.trials(donor, receiver, whole=whole, swap=swap):
            if deadline is not None and time.perf_counter() > deadline:
                break
            if max(self.size(new_donor.evaluation), self.size(new_receiver.evaluation)) >= top:
                continue
            if _spread([*others, new_donor.evaluation, new_receiver.evaluation]) > spread:
                continue
            cost = value + penalty + sum(_value(r.evaluation, self.objective) for r in (new_donor, new_receiver)) - sum(
                _value(r.evaluation, self.objective) for r in (donor, receiver))
            if cost <= cap and (best is None or cost < best[0]):
                best = (cost, new_donor, new_receiver)
        return best

    def step(self, cap: float, deadline: float | None) -> bool:
        """Make the cheapest offer for the longest round's work among the short rounds; whether one was."""
        donor = max(self.rounds.values(), key=lambda r: self.size(r.evaluation))
        top = self.size(donor.evaluation)
        receivers = sorted((r for r in self.rounds.values() if self.size(r.evaluation) < top),
                           key=lambda r: self.size(r.evaluation))[:RECEIVERS]
        offers: list[tuple[float, _Round, _Round]] = []
        # a street is split only when no whole street can move (its last bins overshoot the balance), and
        # bins are swapped only when none can move one way (the receiver is full in the other measure)
        stages = ((True, False), (False, False), (False, True)) if self.streets else ((False, False), (False, True))
        for whole, swap in stages:
            offers = [o for r in receivers
                      if (o := self.offer(donor, r, cap=cap, deadline=deadline, whole=whole, swap=swap)) is not None]
            if offers:
                break
        if not offers:
            return False
        _, new_donor, new_receiver = min(offers, key=lambda o: o[0])
        self.rounds[new_donor.vehicle.id] = new_donor
        self.rounds[new_receiver.vehicle.id] = new_receiver
        return True

    def plan(self, plan: Plan) -> Plan:
        """``plan`` with its routes as the rounds stand now (order and flags kept)."""
        routes = tuple(RoutePlan(r.vehicle_id, tuple(self.rounds[r.vehicle_id].stops), r.breaks_where_they_fit)
                       if r.vehicle_id in self.rounds else r for r in plan.routes)
        return Plan(routes=routes, unassigned=plan.unassigned, relaxed=plan.relaxed)


def rebalance(problem: Problem, matrices: FleetMatrices, plan: Plan, *, tolerance: float, allowance: float,
              objective: str = "duration", streets: Mapping[str, int] | None = None, keep: Collection[str] = (),
              options: SolveOptions | None = None, deadline: float | None = None) -> Plan:
    """``plan`` with work moved from its longest rounds to its shortest (module docstring) until the
    spread (the worse of duration and load, ``max / mean - 1``) is within ``tolerance``.

    ``allowance``: share by which the plan's ``objective`` (``duration`` seconds, ``distance`` metres or
    ``cost`` money with move penalties) may rise over ``plan``'s. ``streets``: bin id -> street, so a
    street's bins in a round move together. ``keep``: bins that stay on their round (besides pinned
    bins and the locked stops of ``options.initial_routes``). ``deadline``: a
    :func:`time.perf_counter` time after which no move is tried. Only used rounds give or take work;
    ``plan.unassigned`` is kept as it is. ``plan`` itself when no move helps.
    """
    state = _Rebalancer(problem, matrices, plan, objective=objective, streets=streets or {}, keep=keep,
                        options=options)
    if len(state.rounds) < 2:
        return plan
    start = state.spread()
    cap = (1.0 + allowance) * state.objective_value()
    # the search may pass through plans up to twice the allowance dearer (a short round's new load
    # costs a tip before the long round's emptied load saves one); the plan returned is the least
    # spread one found within the allowance
    best, best_spread = plan, start
    moves = 0
    while state.spread() > tolerance and moves < len(problem.bins):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if not state.step((1.0 + WANDER * allowance) / (1.0 + allowance) * cap, deadline):
            break
        moves += 1
        if state.spread() < best_spread and state.objective_value() <= cap:
            best, best_spread = state.plan(plan), state.spread()
    if state.spread() > tolerance:
        # why the step stopped short, for the logs: the balance of the rounds as it left them
        b = plan_balance(tuple(r.evaluation for r in state.rounds.values()))
        log.info("rebalance stopped above the tolerance after %d move(s): duration spread %.3f, load spread %.3f, "
                 "rounds of %s s and %s kg, objective %.0f of at most %.0f", moves, b.duration_spread, b.load_spread,
                 [round(r.evaluation.duration_s) for r in state.rounds.values()],
                 [round(r.evaluation.load_kg) for r in state.rounds.values()], state.objective_value(), cap)
    if best is plan:
        return plan
    log.info("rebalanced: %d move(s), spread %.3f -> %.3f", moves, start, best_spread)
    return best


__all__ = ["POSITION_TRIES", "RECEIVERS", "SWAP_TRIES", "UNIT_TRIES", "WANDER", "rebalance"]
