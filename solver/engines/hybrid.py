"""PyVRP's search, then OR-Tools' exact model: the ``auto`` engine for requests PyVRP cannot model alone.

PyVRP's iterated local search finds much better rounds than OR-Tools' guided local
search in the same time (CVRPLIB X at 60 s: about 0.4% above the best known against
3.6%), but its open edition has no crew breaks and no per-shift limits (lifts, kg
collected over all loads). OR-Tools models all of them. :class:`HybridEngine` gets the
best of both in one time limit:

1. **OR-Tools alone** for :data:`ORTOOLS_SHARE` of the time (its own first solution and
   guided local search: on some instances, e.g. many disposal sites, it beats PyVRP's relaxation);
2. **PyVRP on a relaxation** for :data:`PYVRP_SHARE` of the time, given only the vehicles
   OR-Tools' plan used when that plan served every bin and vehicles have a fixed cost
   (:func:`_capped_fleet`): the same problem
   without breaks, lift limits and daily kg limits, but with room kept for the breaks
   (:func:`relax_for_pyvrp`: shifts end earlier by the breaks that fall due in them,
   and every window or opening hour that closes after a break window opens closes
   earlier by those breaks, never before it opens; the same room OR-Tools' own first
   phase keeps, see :func:`solver.engines.ortools.data.reserve_breaks`). Its plan is
   repaired for the real problem (:func:`repair_route`: breaks placed where the evaluator
   accepts them, bins that still break a rule, such as a daily limit, taken out) and the
   bins taken out are put back where the evaluator confirms the cheapest place
   (:func:`solver.feasibility.explain_dropped`);
3. **OR-Tools from the better** of the two plans (fewer violations, then fewer bins
   unserved, then lower cost) for the rest of the time, as its warm start
   (``options.initial_routes``, no move penalty); a round its model rejects is cut to
   its longest feasible prefix and the search puts the rest back.

The answer is the best of the three plans by the evaluator, so it is never worse than
OR-Tools' own first phase. When the request
itself carries a warm start, locks or a move penalty, or PyVRP cannot take even the
relaxation, the whole time goes to OR-Tools. Progress is reported throughout: OR-Tools'
costs, and during PyVRP's phase reports without costs (its units differ).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace

from solver.engines.base import ALL_FEATURES, required_features
from solver.engines.ortools import OrToolsEngine, place_breaks
from solver.engines.pyvrp import PyVrpEngine
from solver.evaluate import AnyMatrices, as_fleet, evaluate, evaluate_route, plan_rank
from solver.feasibility import explain_dropped
from solver.matrix import FleetMatrices
from solver.problem import BREAK_STOP, InitialRoute, Problem, SolveOptions, TimeWindow, Vehicle
from solver.progress import ProgressReporter
from solver.solution import Plan, RoutePlan, Unassigned

logger = logging.getLogger(__name__)

ORTOOLS_SHARE = 0.25
"""Share of the time limit OR-Tools first searches alone."""

PYVRP_SHARE = 0.5
"""Share of the time limit PyVRP then searches the relaxation; OR-Tools has the rest, from the better plan."""

MAX_REINSERT = 10
MAX_REINSERT_SHARE = 0.05
"""A phase's plan with more bins left out than the larger of these (a count, a share of the bins) is
not repaired by insertion (slow, and such a plan is not the one kept): it ranks by the bins it serves."""

MIN_ORTOOLS_S = 1.0
"""Least time OR-Tools gets after PyVRP, whatever PyVRP used."""


def _breaks_due(vehicle: Vehicle, closes: float) -> float:
    """Seconds of ``vehicle``'s breaks whose window opens before ``closes`` (s since midnight)."""
    return sum(b.duration_s for b in vehicle.breaks if b.window[0] < closes)


def _squeezed(window: TimeWindow, by: float) -> TimeWindow:
    """``window`` closing ``by`` seconds earlier (whole seconds, rounded up), never before it opens."""
    return window[0], max(window[0], window[1] - math.ceil(by))


def relax_for_pyvrp(problem: Problem, *, squeeze_windows: bool = True) -> Problem:
    """``problem`` without breaks, lift limits and daily kg limits, with room kept for the breaks.

    Each vehicle's shift ends earlier by its breaks that fall due in it; each bin window and
    site opening that closes after some vehicle's break window opens closes earlier by the
    most any vehicle's breaks take before it closes. A plan of the relaxation whose breaks
    are then taken right after the first stop that leaves once their window is open keeps
    every window, opening and shift of ``problem``; only the daily limits may be broken.
    """
    with_breaks = [v for v in problem.vehicles if v.breaks] if squeeze_windows else []

    def room(closes: float) -> float:
        return max((_breaks_due(v, closes) for v in with_breaks), default=0.0)

    vehicles = tuple(replace(v, breaks=(), max_lifts=None, max_collected_kg=None,
                             shift_end_s=int(max(v.shift_start_s, v.shift_end_s - _breaks_due(v, v.shift_end_s))))
                     for v in problem.vehicles)
    bins = tuple(replace(b, time_windows=tuple(_squeezed(w, room(w[1])) for w in b.time_windows))
                 if b.time_windows else b for b in problem.bins)
    sites = tuple(replace(s, opening=_squeezed(s.opening, room(s.opening[1]))) for s in problem.disposal_sites)
    return replace(problem, vehicles=vehicles, bins=bins, disposal_sites=sites)


class _CostsHidden(ProgressReporter):
    """Forwards a phase's reports to ``outer`` without their costs (the phase's units are its own)."""

    def __init__(self, outer: ProgressReporter) -> None:
        super().__init__(outer.time_limit_s, None)
        self.outer = outer

    def report(self, cost: float | None, *, force: bool = False) -> bool:
        go_on = self.outer.report(None, force=force)
        self.stopped = self.outer.stopped
        return go_on


def repair_route(problem: Problem, fleet: FleetMatrices, vehicle: Vehicle, stops: Sequence[str]
                 ) -> tuple[tuple[str, ...], list[str]]:
    """``stops`` (a round planned without breaks or daily limits) made violation-free by the evaluator:
    the vehicle's breaks placed (:func:`solver.engines.ortools.place_breaks`), and while a violation
    remains, the bin it names (or the last bin, for one found back at the depot) taken out.
    Returns the stops with breaks and the bins taken out, in the order they went."""
    bins = {b.id for b in problem.bins}
    current = [s for s in stops if s != BREAK_STOP]
    removed: list[str] = []
    while True:
        placed, ok = place_breaks(problem, fleet, vehicle, current)
        if ok:
            return placed, removed
        walked = evaluate_route(problem, fleet, vehicle, placed)
        named = [v.stop for v in walked.violations if v.stop in bins]
        on_route = [s for s in current if s in bins]
        if not on_route:
            return (), removed
        victim = named[0] if named else on_route[-1]
        current.remove(victim)
        removed.append(victim)
        current = _without_idle_tips(current, bins)


def _without_idle_tips(stops: Sequence[str], bins: set[str]) -> list[str]:
    """``stops`` without a tip that follows the depot or another tip (nothing on board to unload)."""
    out: list[str] = []
    for s in stops:
        if s not in bins and (not out or out[-1] not in bins):
            continue
        out.append(s)
    return out


def _capped_fleet(relaxed: Problem, plan: Plan) -> Problem:
    """``relaxed`` with only the vehicles ``plan`` uses, when it serves every bin, uses some, and every
    vehicle has a fixed cost.

    PyVRP's search hardly cuts vehicles once it has a plan (it kept 20 on waste instance 1932
    where OR-Tools found 17); when vehicles cost money to use, a plan on more of them than OR-Tools
    needed is seldom the one kept, so PyVRP gets OR-Tools' fleet to beat."""
    used = {r.vehicle_id for r in plan.routes if r.stops}
    if plan.unassigned or not used or any(v.fixed_cost <= 0 for v in relaxed.vehicles):
        return relaxed
    return replace(relaxed, vehicles=tuple(v for v in relaxed.vehicles if v.id in used))


class HybridEngine:
    """OR-Tools, PyVRP on a relaxation (repaired), then OR-Tools from the better (see the module docstring).

    ``ortools_share`` and ``pyvrp_share`` are the shares of ``options.time_limit_s`` of the first two
    phases; ``squeeze_windows`` whether the relaxation closes windows earlier to keep room for breaks.
    """

    name: str = "pyvrp+ortools"
    features: frozenset[str] = ALL_FEATURES

    def __init__(self, *, ortools_share: float = ORTOOLS_SHARE, pyvrp_share: float = PYVRP_SHARE,
                 squeeze_windows: bool = True) -> None:
        if not (pyvrp_share > 0.0 and ortools_share > 0.0 and ortools_share + pyvrp_share < 1.0):
            raise ValueError(f"ortools_share and pyvrp_share must be positive with a sum below 1, got "
                             f"{ortools_share} and {pyvrp_share}")
        self.ortools_share = ortools_share
        self.pyvrp_share = pyvrp_share
        self.squeeze_windows = squeeze_windows
        self.pyvrp = PyVrpEngine()
        self.ortools = OrToolsEngine()

    def solve(self, problem: Problem, matrices: AnyMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`): the best, by the
        evaluator, of OR-Tools' own plan, PyVRP's repaired plan of the relaxation, and OR-Tools' plan
        warm-started from the better of those two."""
        started = time.perf_counter()
        fleet = as_fleet(problem, matrices)
        relaxed = relax_for_pyvrp(problem, squeeze_windows=self.squeeze_windows)
        total = options.time_limit_s
        plain = SolveOptions(time_limit_s=total, seed=options.seed, engine=self.pyvrp.name,
                             objective=options.objective)
        missing = required_features(relaxed, plain, matrices=fleet) - self.pyvrp.features
        if options.initial_routes or missing:
            why = "the request has its own warm start" if options.initial_routes else (
                f"PyVRP lacks {', '.join(sorted(missing))}")
            logger.info("pyvrp+ortools: %s; OR-Tools alone", why)
            return self.ortools.solve(problem, fleet, bin_ids=bin_ids, options=options, progress=progress)

        def ortools(seconds: float, warm: Plan | None) -> Plan:
            start = () if warm is None else tuple(InitialRoute(r.vehicle_id, r.stops) for r in warm.routes if r.stops)
            then = replace(options, time_limit_s=max(seconds, MIN_ORTOOLS_S), engine=self.ortools.name,
                           initial_routes=start, move_penalty=0.0)
            return _reinsert(problem, fleet, self.ortools.solve(problem, fleet, bin_ids=bin_ids, options=then,
                                                                progress=progress), options)

        def rank(plan: Plan) -> tuple[int, int, float]:
            return plan_rank(evaluate(problem, fleet, plan, options=options))

        plans = [ortools(total * self.ortools_share, None)]
        if progress is not None and progress.stopped:
            return plans[0]
        deadline = started + total
        share = self.pyvrp_share / (1.0 - self.ortools_share)
        pyvrp_s = max((deadline - time.perf_counter()) * share, MIN_ORTOOLS_S)
        first = self.pyvrp.solve(_capped_fleet(relaxed, plans[0]), fleet, bin_ids=bin_ids,
                                 options=replace(plain, time_limit_s=pyvrp_s),
                                 progress=None if progress is None else _CostsHidden(progress))
        plans.append(self._repaired(problem, fleet, first, options))
        ranks = [rank(plan) for plan in plans]
        better = plans[int(ranks[1] < ranks[0])]
        left = deadline - time.perf_counter()
        logger.info("pyvrp+ortools: OR-Tools alone %s, PyVRP repaired %s (violations, unserved, cost) after %.2f s; "
                    "OR-Tools from the better for %.2f s", *ranks, time.perf_counter() - started, left)
        if progress is not None and progress.stopped:
            return better
        plans.append(ortools(left, better))
        ranks.append(rank(plans[-1]))
        best = min(range(len(plans)), key=lambda k: ranks[k])
        logger.info("pyvrp+ortools: OR-Tools from it %s; kept the %s plan", ranks[-1],
                    ("OR-Tools alone", "PyVRP repaired", "OR-Tools from the better")[best])
        return plans[best]

    def _repaired(self, problem: Problem, fleet: FleetMatrices, plan: Plan, options: SolveOptions) -> Plan:
        """PyVRP's plan of the relaxation made violation-free for ``problem``: breaks placed, bins that
        break a rule taken out (:func:`repair_route`) and put back where they fit (:func:`_reinsert`)."""
        vehicles = {v.id: v for v in problem.vehicles}
        routes, taken_out = [], []
        for route in plan.routes:
            stops, removed = repair_route(problem, fleet, vehicles[route.vehicle_id], route.stops)
            if stops:
                routes.append(RoutePlan(route.vehicle_id, stops))
            taken_out += removed
        unassigned = plan.unassigned + tuple(Unassigned(b, "no_feasible_insertion", "taken out in repair")
                                             for b in taken_out)
        return _reinsert(problem, fleet, Plan(routes=tuple(routes), unassigned=unassigned), options)


def _reinsert(problem: Problem, fleet: FleetMatrices, plan: Plan, options: SolveOptions) -> Plan:
    """``plan`` with its bins left out for want of time or room (``no_feasible_insertion``) put back
    where the evaluator confirms the cheapest place (:func:`solver.feasibility.explain_dropped`)."""
    retry = [u.bin_id for u in plan.unassigned if u.reason == "no_feasible_insertion"]
    if not retry or len(retry) > max(MAX_REINSERT, MAX_REINSERT_SHARE * len(problem.bins)):
        return plan
    again = set(retry)
    kept = Plan(routes=plan.routes, unassigned=tuple(u for u in plan.unassigned if u.bin_id not in again))
    repaired = explain_dropped(problem, fleet, kept, retry, options=options)
    logger.info("pyvrp+ortools: %d of %d bins left out put back",
                len(retry) - sum(1 for u in repaired.unassigned if u.bin_id in again), len(retry))
    return repaired


__all__ = ["HybridEngine", "relax_for_pyvrp", "repair_route"]
