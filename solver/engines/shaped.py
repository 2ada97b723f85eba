"""Balanced and compact rounds, enforced around any engine by the constraints each already models.

A :class:`ShapedEngine` wraps the engine :func:`solver.engines.choose_engine` picked (OR-Tools,
PyVRP, the hybrid, raced or not) when ``options`` ask for ``balance``, ``compact`` or fixed
``territories``, and solves in phases, each with a share of the time limit (phases 2 and 3 do not
warm-start from the phase before: its rounds break their new pins or bounds, and OR-Tools,
cutting such a start back to a feasible one, searched worse from it than from scratch):

1. *first*: the plain problem, or with fixed territories each bin pinned to its territory's
   vehicle (:func:`solver.territories.extend_territories` gives the bins the approved plan did
   not have to the nearest territory by road);
2. *balance* (up to :data:`BALANCE_ROUNDS` times, while the spread exceeds
   ``balance_tolerance``): each used vehicle's shift cut to ``(1 + tol) x`` the mean round's
   duration (by :data:`BALANCE_MARGIN` of the tolerance, so the evaluated plan lands inside
   it), and its kg to ``(1 + tol) x`` the mean round's load (a daily kg limit where the
   engine models one, else its capacity when there is no tip, where one load is the
   round's); kept when it serves as many bins and its spread is smaller. Caps only shorten
   the longest rounds: where balance needs a short round to take more work (a far village, a
   last lorry given the leftovers) the capped search finds nothing, so if the spread is still
   above the tolerance, work is moved from the longest rounds to the shortest
   (:func:`solver.rebalance.rebalance`: border streets first, each move confirmed by the
   evaluator, within :data:`REBALANCE_ALLOWANCE` of the objective, in at most
   :data:`REBALANCE_SHARE` of the time limit); the result is kept with each bin pinned to its
   round as it stands, so the polish (4) reorders the rounds without undoing the moves;
3. *compact* (without fixed territories): territories drawn from the current rounds less their
   interleaving (:func:`solver.territories.grow_territories`, within the balance), each street
   whole in one of them (``options.streets``, :func:`solver.territories.whole_streets`), each bin
   pinned to its territory's vehicle, solved (bounded as in 2 when balance is on); if that
   serves fewer bins, breaks the balance or costs more than :data:`COMPACT_ALLOWANCE` over the
   rounds it was drawn from, once more with only the territories' cores pinned (borders free);
4. *polish* (with a share of the time kept for it, and whatever earlier phases did not use, say
   when the first plan was balanced already; at least :data:`POLISH_FROM` of the limit): the
   search goes on from the current plan as it was solved (its pins, and bounds
   :data:`POLISH_SLACK` above its spread), kept when it serves as many bins at a lower objective
   within the tolerance; so a shape that holds anyway costs the search little time, and a phase
   that failed leaves time to improve the plan kept.

Pins, shift ends and kg limits are hard constraints of both engines (OR-Tools: the vehicles
allowed at a node, the time dimension's end bound, the collected-kg dimension; PyVRP: the
client's allowed vehicle types, the vehicle type's latest end, its capacity), so every engine
keeps its features and its model is unchanged.

Relaxation (:data:`~solver.solution.RELAXATION_ORDER`): compactness is given up first (fixed
territories that cannot be balanced are freed at their borders, then given up; drawn
territories that fail are not used), balance last, when no bounded solve reaches the
tolerance. Hard limits (shifts, capacities, windows) are never relaxed. The plan's ``relaxed``
names what the answer does not keep.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from solver.balance import plan_balance
from solver.engines.base import DAILY_LIMIT, Engine
from solver.evaluate import evaluate, plan_rank
from solver.feasibility import explain_dropped
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import InitialRoute, Problem, SolveOptions, Vehicle
from solver.progress import ProgressReporter
from solver.rebalance import rebalance
from solver.solution import RELAXATION_ORDER, Evaluation, Plan, Relaxation
from solver.territories import Territories, extend_territories, grow_territories, territory_core, whole_streets

log = logging.getLogger(__name__)

BALANCE_ROUNDS = 2
"""Bounded re-solves at most: the second corrects a mean that moved in the first."""

COMPACT_ALLOWANCE = 0.05
"""Share by which compact rounds may raise the plan's objective (duration, distance or cost) over
the rounds they were drawn from; dearer territories are given up (the issue's bar: within 5 %
of the unconstrained plan's distance)."""

REBALANCE_ALLOWANCE = 0.05
"""Share by which moving work from the longest rounds to the shortest (:func:`solver.rebalance.rebalance`)
may raise the plan's objective over the balance phase's plan. The same bar as compact rounds: the
issue allows balanced, compact rounds within 5 % of the unconstrained plan's distance, and a short
round sent to a far patch to even the shifts is the price of balance a council pays in crews'
hours (an unbalanced plan pays it in overtime on the long round and idle hours on the short one);
a dearer balance is given up, as before."""

REBALANCE_SHARE = 0.2
"""Share of the time limit the moves may take at most (they are Python, evaluated round by round:
a few seconds on a district day's rounds), so the compact and polish phases keep theirs."""

DEFAULT_TOLERANCE = 0.1
"""How far a compact territory may grow above the mean when balance is off (the size limit of
:func:`~solver.territories.grow_territories`)."""

POLISH_FROM = 0.1
"""Share of the time limit that must be left for the last phase, the polish, to run."""

POLISH_SLACK = 0.02
"""How far above the current plan's spread the polish's bounds lie, so the plan is a feasible
start even after the engines round times up to whole seconds."""

BALANCE_MARGIN = 0.9
"""Share of the tolerance the bounds use: a round at its bound is then inside the tolerance even
when the mean drops a little in the re-solve."""


@dataclass(frozen=True)
class _Candidate:
    """A plan, the problem it was solved as (pins, bounds) and its evaluation on the real problem."""

    plan: Plan
    solved_as: Problem
    evaluation: Evaluation
    territories: Territories | None

    @property
    def pinned(self) -> bool:
        """Whether the plan was solved inside territories (whole or their cores)."""
        return self.territories is not None

    @property
    def served(self) -> int:
        return self.evaluation.summary.bins_served

    @property
    def violations(self) -> int:
        return self.evaluation.summary.violations

    def spread(self) -> float:
        """The worse of the duration and load spreads (``max / mean - 1``) of the used rounds, to 9
        decimals (2,200 kg over a 2,000 kg mean is a spread of 0.1, not 0.10000000000000009)."""
        b = plan_balance(self.evaluation.routes)
        return round(max(b.duration_spread, b.load_spread), 9)

    def no_worse_than(self, other: _Candidate) -> bool:
        """Serves at least as many bins with no more violations."""
        return self.violations <= other.violations and self.served >= other.served


def compactable(problem: Problem, matrices: FleetMatrices) -> str | None:
    """Why territories cannot be cut for this fleet (``None`` when they can): one access profile,
    every vehicle carrying every stream, no bin that needs a small vehicle."""
    if len({matrices.vehicle_profile[v.id] for v in problem.vehicles}) > 1:
        return "the vehicles drive different streets (access profiles)"
    streams = problem.streams()
    if any(not all(v.carries(s) for s in streams) for v in problem.vehicles):
        return "not every vehicle carries every stream"
    if any(b.max_vehicle_weight_kg is not None or b.max_vehicle_width_m is not None for b in problem.bins):
        return "some bins need a small vehicle"
    return None


def pinned(problem: Problem, territories: Territories) -> Problem:
    """``problem`` with each bin of ``territories`` pinned to its vehicle (earlier pins kept)."""
    bins = tuple(b if b.vehicle_id is not None or b.id not in territories
                 else replace(b, vehicle_id=territories[b.id]) for b in problem.bins)
    return replace(problem, bins=bins)


def bounded(problem: Problem, evaluation: Evaluation, tolerance: float, *, daily_limit: bool) -> Problem:
    """``problem`` with each used vehicle's shift and kg bounded at ``(1 + tolerance)`` x the mean
    round of ``evaluation`` (see the module docstring)."""
    balance = plan_balance(evaluation.routes)
    used = {r.vehicle_id for r in evaluation.routes}
    limit_s = (1.0 + tolerance) * balance.duration_mean_s
    limit_kg = (1.0 + tolerance) * balance.load_mean_kg

    def bound(v: Vehicle) -> Vehicle:
        if v.id not in used:
            return v
        end = min(v.shift_end_s, v.shift_start_s + max(1, math.floor(limit_s)))
        if daily_limit:
            cap = limit_kg if v.max_collected_kg is None else min(v.max_collected_kg, limit_kg)
            return replace(v, shift_end_s=end, max_collected_kg=cap)
        if not problem.disposal_sites:
            return replace(v, shift_end_s=end, capacity_kg=min(v.capacity_kg, limit_kg))
        return replace(v, shift_end_s=end)

    return replace(problem, vehicles=tuple(bound(v) for v in problem.vehicles))


def _rounds(plan: Plan, bins: set[str]) -> dict[str, list[str]]:
    """Vehicle id -> the bins of its route (of ``bins``), for the routes that serve any."""
    out = {r.vehicle_id: [s for s in r.stops if s in bins] for r in plan.routes}
    return {v: stops for v, stops in out.items() if stops}


class ShapedEngine:
    """``inner`` made to keep rounds balanced and compact (see the module docstring)."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.features = inner.features

    def solve(self, problem: Problem, matrices: FleetMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan ``bin_ids`` in the phases of the module docstring, within ``options.time_limit_s``."""
        deadline = time.perf_counter() + options.time_limit_s
        several = len(problem.vehicles) > 1
        wanted = set(bin_ids)
        fixed = {b: v for b, v in options.territories if b in wanted}
        want_compact = several and (options.compact or bool(options.territories))
        want_balance = several and options.balance
        plain = replace(options, balance=False, compact=False, territories=(), streets=())

        def run(solved_as: Problem, territories: Territories | None, after: int, start: Plan | None = None
                ) -> _Candidate:
            """One phase, with an equal share of the time left between it and the ``after`` phases
            still planned (at least 5 % of the time limit), warm-started from ``start`` if given."""
            share = max((deadline - time.perf_counter()) / (1 + after), 0.05 * options.time_limit_s)
            # the request's own warm start (its locks, its move penalty) stays in every phase
            phase = replace(plain, time_limit_s=share)
            if start is not None and not options.initial_routes:
                phase = replace(phase, initial_routes=tuple(InitialRoute(r.vehicle_id, r.stops) for r in start.routes))
            plan = self.inner.solve(solved_as, matrices, bin_ids=bin_ids, options=phase, progress=progress)
            if plan.unassigned:
                # tight bounds can leave a search too little time to place every bin: the cheapest
                # insertion places what fits within them, then (without pins, which it would break)
                # what fits within the real limits
                dropped = [u.bin_id for u in plan.unassigned]
                plan = explain_dropped(solved_as, matrices, replace(plan, unassigned=()), dropped, options=phase)
                if plan.unassigned and territories is None and solved_as is not problem:
                    dropped = [u.bin_id for u in plan.unassigned]
                    plan = explain_dropped(problem, matrices, replace(plan, unassigned=()), dropped, options=phase)
            candidate = _Candidate(plan, solved_as, evaluate(problem, matrices, plan, options=options), territories)
            log.info("shaped phase (%s, %.1f s): %d bins served, %d violations, spread %.3f, %.0f s, %.0f m",
                     "free" if territories is None else f"{len(territories)} bins pinned", share,
                     candidate.served, candidate.violations, candidate.spread(),
                     candidate.evaluation.summary.duration_s, candidate.evaluation.summary.distance_m)
            return candidate

        why = compactable(problem, matrices) if want_compact else None
        if why is not None:
            log.warning("compact rounds relaxed: %s", why)
        fleet = matrices.for_vehicle(problem.vehicles[0].id)
        open_bins = [b for b in bin_ids if problem.bin(b).vehicle_id is None]
        cut = want_compact and why is None and not fixed
        later = 2 * int(cut) + 1  # the compact tries, and the polish's share kept for the end
        if fixed and why is None:
            territories = extend_territories(problem, fleet, open_bins, fixed)
            # a bin the approved plan named keeps its vehicle; only new bins follow their street
            territories = {**whole_streets(territories, dict(options.streets)), **fixed}
            current = run(pinned(problem, territories), territories, 2 + BALANCE_ROUNDS * int(want_balance))
            if current.served < len(bin_ids) or current.violations:
                # a territory too big for its vehicle: the bins go back to the whole fleet
                log.warning("fixed territories leave %d bin(s) unserved: solving without them",
                            len(bin_ids) - current.served)
                free = run(problem, None, 1 + BALANCE_ROUNDS * int(want_balance))
                current = free if free.no_worse_than(current) else current
        else:
            current = run(problem, None, BALANCE_ROUNDS * int(want_balance) + later)
        if want_balance:
            current = self._balance(problem, fleet, current, options, run, later=later)
            if current.spread() > options.balance_tolerance and len(current.evaluation.routes) > 1:
                current = self._rebalance(problem, matrices, current, options,
                                          min(deadline - POLISH_FROM * options.time_limit_s,
                                              time.perf_counter() + REBALANCE_SHARE * options.time_limit_s))
        if cut:
            current = self._compact(problem, fleet, open_bins, current, run,
                                    tolerance=options.balance_tolerance if want_balance else None,
                                    objective=options.objective, streets=dict(options.streets))
        if deadline - time.perf_counter() >= POLISH_FROM * options.time_limit_s:
            current = self._polish(current, options, run, balanced=want_balance)
        kept = {"compactness": not want_compact or current.pinned,
                "balance": not want_balance or current.spread() <= options.balance_tolerance}
        relaxed: tuple[Relaxation, ...] = tuple(name for name in RELAXATION_ORDER if not kept[name])
        if relaxed:
            log.info("shaped solve: relaxed %s", ", ".join(relaxed))
        return replace(current.plan, relaxed=relaxed)

    def _bounded(self, problem: Problem, territories: Territories | None, current: _Candidate,
                 tolerance: float | None, *, margin: float = BALANCE_MARGIN) -> Problem:
        """``problem`` pinned to ``territories`` (if any) and, with a ``tolerance``, bounded around
        ``current``'s mean round at ``margin`` of it (:func:`bounded`)."""
        solved_as = problem if territories is None else pinned(problem, territories)
        if tolerance is None:
            return solved_as
        return bounded(solved_as, current.evaluation, margin * tolerance,
                       daily_limit=DAILY_LIMIT in self.inner.features)

    def _better(self, candidate: _Candidate, current: _Candidate, tolerance: float | None, objective: str) -> bool:
        """Serves as many bins as ``current``, costs at most :data:`COMPACT_ALLOWANCE` more by
        ``objective`` and, with a ``tolerance``, is within it or less spread."""
        if not candidate.no_worse_than(current):
            return False
        if plan_rank(candidate.evaluation, objective)[2] > (1 + COMPACT_ALLOWANCE) * plan_rank(
                current.evaluation, objective)[2]:
            return False
        return tolerance is None or candidate.spread() <= max(tolerance, current.spread())

    def _polish(self, current: _Candidate, options: SolveOptions, run: _Runner, *, balanced: bool) -> _Candidate:
        """The time left, spent searching on from ``current`` as it was solved (its pins), bounded
        :data:`POLISH_SLACK` above its own spread so that it is a feasible start; kept when it
        serves as many bins at a lower objective and (``balanced``) keeps the tolerance."""
        tolerance = options.balance_tolerance
        bound = max(tolerance, current.spread()) + POLISH_SLACK if balanced else None
        candidate = run(self._bounded(current.solved_as, None, current, bound, margin=1.0), current.territories, 0,
                        current.plan)
        if not candidate.no_worse_than(current):
            return current
        if plan_rank(candidate.evaluation, options.objective)[2] >= plan_rank(current.evaluation, options.objective)[2]:
            return current
        if balanced and candidate.spread() > max(tolerance, current.spread()):
            return current
        return candidate

    def _balance(self, problem: Problem, fleet: TravelMatrices, current: _Candidate, options: SolveOptions,
                 run: _Runner, *, later: int) -> _Candidate:
        """The balance phase: bounded re-solves while the spread is above the tolerance. Inside
        fixed territories that cannot be balanced, their borders are freed first (only their
        cores stay pinned), then the territories are given up (compactness relaxed). ``later``:
        phases planned after this one, for the share of time each re-solve gets."""
        tolerance = options.balance_tolerance
        for round_ in range(BALANCE_ROUNDS):
            if current.spread() <= tolerance or len(current.evaluation.routes) < 2:
                break
            tries: list[Territories | None] = [current.territories]
            if current.territories:
                tries += [territory_core(problem, fleet, current.territories), None]
            for k, territories in enumerate(tries):
                candidate = run(self._bounded(problem, territories, current, tolerance), territories,
                                len(tries) - 1 - k + BALANCE_ROUNDS - 1 - round_ + later)
                if candidate.no_worse_than(current) and candidate.spread() < current.spread():
                    current = candidate
                    break
            else:
                break
        return current

    def _rebalance(self, problem: Problem, matrices: FleetMatrices, current: _Candidate, options: SolveOptions,
                   deadline: float) -> _Candidate:
        """``current`` with work moved from its longest rounds to its shortest (module docstring, 2),
        pinned as it stands; ``current`` when that serves fewer bins, is no less spread or costs more
        than :data:`REBALANCE_ALLOWANCE` over it. Bins of kept territories stay in them."""
        keep = set(current.territories or ())
        plan = rebalance(problem, matrices, current.plan, tolerance=options.balance_tolerance,
                         allowance=REBALANCE_ALLOWANCE, objective=options.objective, streets=dict(options.streets),
                         keep=keep, options=options, deadline=deadline)
        if plan is current.plan:
            return current
        bins = {b.id for b in problem.bins}
        rounds = {s: r.vehicle_id for r in plan.routes for s in r.stops if s in bins}
        candidate = _Candidate(plan, pinned(problem, rounds), evaluate(problem, matrices, plan, options=options),
                               current.territories)
        if not candidate.no_worse_than(current) or candidate.spread() >= current.spread():
            return current
        if plan_rank(candidate.evaluation, options.objective)[2] > (1 + REBALANCE_ALLOWANCE) * plan_rank(
                current.evaluation, options.objective)[2]:
            return current
        log.info("shaped phase (rebalance): spread %.3f -> %.3f, %.0f s, %.0f m", current.spread(),
                 candidate.spread(), candidate.evaluation.summary.duration_s, candidate.evaluation.summary.distance_m)
        return candidate

    def _compact(self, problem: Problem, fleet: TravelMatrices, open_bins: list[str], current: _Candidate,
                 run: _Runner, *, tolerance: float | None, objective: str, streets: Mapping[str, int]) -> _Candidate:
        """The compact phase: territories drawn from ``current``'s rounds, solved pinned (bounded with
        a ``tolerance``), then pinned to their cores only; ``current`` when neither serves as much
        (or keeps the balance) within :data:`COMPACT_ALLOWANCE` of its objective."""
        rounds = _rounds(current.plan, set(open_bins))
        if len(rounds) < 2:  # one round is its own territory
            return replace(current, territories={})
        territories = whole_streets(grow_territories(problem, fleet, open_bins, rounds,
                                                     tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance),
                                    streets)
        # bounds only keep a balance that holds; a plan balance was given up on is not bounded
        bound = tolerance if tolerance is not None and current.spread() <= tolerance else None
        for after, pins in ((2, territories), (1, territory_core(problem, fleet, territories))):
            candidate = run(self._bounded(problem, pins, current, bound), pins, after)
            if self._better(candidate, current, tolerance, objective):
                return candidate
        log.warning("compact rounds relaxed: the territories' rounds served fewer bins, cost more than %.0f %% "
                    "more or broke the balance", 100 * COMPACT_ALLOWANCE)
        return current


class _Runner(Protocol):
    """The signature of ``run`` inside :meth:`ShapedEngine.solve`: one phase solved."""

    def __call__(self, solved_as: Problem, territories: Territories | None, after: int,
                 start: Plan | None = None) -> _Candidate: ...


def shaped(engine: Engine, options: SolveOptions) -> Engine:
    """``engine`` wrapped in a :class:`ShapedEngine` when ``options`` ask for the rounds' shape."""
    return ShapedEngine(engine) if options.shaped else engine


__all__ = ["BALANCE_MARGIN", "BALANCE_ROUNDS", "COMPACT_ALLOWANCE", "REBALANCE_ALLOWANCE", "REBALANCE_SHARE",
           "ShapedEngine", "bounded", "compactable", "pinned",
           "shaped"]
