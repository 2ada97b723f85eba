"""A day of actual rounds from traces: the one call an endpoint, a CLI or a notebook makes.

:func:`actual_day` takes the network, the problem (bins, depots, tips, vehicles), every fix of
the day and the lift events, and gives each vehicle's round as driven
(:mod:`solver.traces.driven`), the day as a :class:`~solver.solution.Plan` the evaluator scores
(:func:`solver.pipeline.evaluate_plan`), and every issue met: what was dropped and why. Nothing
is dropped silently.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.network import RoadNetwork
from solver.problem import Bin, Depot, DisposalSite, Problem
from solver.snapping import snap_points
from solver.solution import Plan
from solver.traces.clean import CleanOptions, CleanTrace, clean_trace
from solver.traces.driven import DrivenOptions, RoundAsDriven, bin_stands, rounds_as_driven
from solver.traces.fixes import Fix, Lift, TraceIssue
from solver.traces.matching import MatchedTrace, MatchOptions, match_trace
from solver.traces.pinned import matched_again


@dataclass(frozen=True)
class ActualDay:
    """Each traced vehicle's ``rounds`` as driven (in order of vehicle id), the ``plan`` of the
    rounds of the problem's vehicles (a trace of a vehicle the problem does not hold is matched
    but left out of it, and said), and every ``issue``."""

    rounds: tuple[RoundAsDriven, ...]
    plan: Plan
    issues: tuple[TraceIssue, ...]

    def round(self, vehicle_id: str) -> RoundAsDriven:
        """The round of ``vehicle_id``; ``KeyError`` when no trace shows it."""
        for r in self.rounds:
            if r.vehicle_id == vehicle_id:
                return r
        raise KeyError(vehicle_id)


def actual_day(network: RoadNetwork, problem: Problem, fixes: Sequence[Fix], lifts: Sequence[Lift] = (), *,
               clean: CleanOptions | None = None, match: MatchOptions | None = None,
               driven: DrivenOptions | None = None, snap_limit_m: float = 200.0,
               planned: Mapping[str, Collection[str]] | None = None) -> ActualDay:
    """The day the ``fixes`` (any vehicles, any order) and ``lifts`` show, read on ``network`` against
    ``problem``'s places (snapped up to ``snap_limit_m`` metres from a street); ``planned`` (vehicle id
    -> the ids of the bins the plan gave it, in the plan's order as a list), when the plan is known,
    tells whose bins a stand between two rounds' bins more likely served, and, in order, names the
    lifts no fix shows (:func:`~solver.traces.driven.fill_from_plan`). The
    rounds are read together, each bin collected by one lorry at most
    (:func:`~solver.traces.driven.rounds_as_driven`)."""
    places: list[Depot | DisposalSite | Bin] = [*problem.depots, *problem.disposal_sites, *problem.bins]
    snapped = snap_points(network, np.array([[p.lon, p.lat] for p in places], dtype=float).reshape(-1, 2),
                          limit_m=snap_limit_m)
    by_vehicle: dict[str, list[Fix]] = {}
    for fix in fixes:
        by_vehicle.setdefault(fix.vehicle_id, []).append(fix)
    lifts_of: dict[str, list[Lift]] = {}
    for lift in lifts:
        lifts_of.setdefault(lift.vehicle_id, []).append(lift)
    known = {v.id for v in problem.vehicles}
    issues: list[TraceIssue] = []
    for vehicle_id in sorted(set(lifts_of) - set(by_vehicle)):
        issues.append(TraceIssue("unknown_vehicle", vehicle_id, len(lifts_of[vehicle_id]),
                                 f"lift events of vehicle {vehicle_id!r}, which no trace shows: left out"))
    stands = bin_stands(network, problem, snapped)
    traces: list[CleanTrace] = []
    matched: list[MatchedTrace] = []
    for vehicle_id in sorted(by_vehicle):
        trace = clean_trace(network, vehicle_id, by_vehicle[vehicle_id], clean)
        match_of = match_trace(network, trace, match, stands)
        if not match_of.pieces:
            issues.extend(match_of.issues)
            continue
        traces.append(trace)
        matched.append(match_of)
    # read together: a bin two lorries stood near is collected by one of them
    rounds = rounds_as_driven(network, problem, snapped, matched, lifts_of, driven, traces=traces, planned=planned,
                              match=match)
    if planned:
        # given the plan, a planned bin read where the drive does not pass is a place the lorry stood: the
        # match, pinned there, drives the spur it cut out (solver.traces.pinned)
        again = matched_again(network, problem, snapped, traces, matched, rounds, planned, stands, match,
                              (driven or DrivenOptions()).near_m)
        if again is not None:
            rounds = rounds_as_driven(network, problem, snapped, again, lifts_of, driven, traces=traces,
                                      planned=planned, match=match)
    for done in rounds:
        issues.extend(done.issues)
        if done.vehicle_id not in known:
            issues.append(TraceIssue("unknown_vehicle", done.vehicle_id, len(by_vehicle[done.vehicle_id]),
                                     f"a trace of vehicle {done.vehicle_id!r}, which the problem does not hold: "
                                     "matched, but left out of the plan"))
    plan = Plan(routes=tuple(r.route_plan() for r in rounds if r.vehicle_id in known))
    return ActualDay(rounds=tuple(rounds), plan=plan, issues=tuple(issues))
