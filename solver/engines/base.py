"""What every engine provides, and what a request needs of an engine.

An engine has a ``name``, the set of ``features`` it models exactly (so that
:func:`solver.evaluate.evaluate` finds no violation in its plans), and a ``solve``
that turns a problem into a :class:`~solver.solution.Plan`. :func:`required_features`
names what a request needs; :func:`solver.engines.choose_engine` matches the two.

Feature names (one per modelling capability beyond a plain capacitated VRP with
shifts, a heterogeneous fleet and the ``duration``/``distance`` objectives, which
every engine must handle):

==================== ==================================================================
``disposal_sites``   tips: unloading mid-route, unload time, opening hours, tipping
                     before the return to the depot
``time_windows``     bins with time windows (one or several)
``breaks``           crew breaks
``multi_capacity``   a second capacity dimension: litres (some ``capacity_l``)
``max_lifts``        a maximum number of bins per shift
``daily_limit``      a maximum of kg collected per shift over all loads
``streams``          more than one waste stream, a vehicle that does not carry every
                     stream of the bins, or a site that does not accept every stream
``access_profiles``  vehicles that drive different streets (several access profiles
                     in the fleet's matrices, or vehicle sizes when they are not
                     known yet), or bins that need a small vehicle
``optional_bins``    bins that may be left out for a penalty
``pinned_bins``      bins pinned to a vehicle
``warm_start``       an earlier plan to start from (``options.initial_routes``)
``locks``            initial routes whose first stops are locked
``move_penalty``     a charge per bin moved off its initial vehicle
``objective_cost``   ``options.objective == "cost"`` (fixed, per-km and per-hour money)
==================== ==================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from solver.matrix import FleetMatrices
from solver.problem import Problem, SolveOptions
from solver.progress import ProgressReporter
from solver.solution import Plan

DISPOSAL_SITES = "disposal_sites"
TIME_WINDOWS = "time_windows"
BREAKS = "breaks"
MULTI_CAPACITY = "multi_capacity"
MAX_LIFTS = "max_lifts"
DAILY_LIMIT = "daily_limit"
STREAMS = "streams"
ACCESS_PROFILES = "access_profiles"
OPTIONAL_BINS = "optional_bins"
PINNED_BINS = "pinned_bins"
WARM_START = "warm_start"
LOCKS = "locks"
MOVE_PENALTY = "move_penalty"
OBJECTIVE_COST = "objective_cost"

ALL_FEATURES: frozenset[str] = frozenset({
    DISPOSAL_SITES, TIME_WINDOWS, BREAKS, MULTI_CAPACITY, MAX_LIFTS, DAILY_LIMIT, STREAMS,
    ACCESS_PROFILES, OPTIONAL_BINS, PINNED_BINS, WARM_START, LOCKS, MOVE_PENALTY, OBJECTIVE_COST,
})
"""Every feature name :func:`required_features` can return."""


@runtime_checkable
class Engine(Protocol):
    """A routing engine: pure function of a problem and its matrices to a :class:`Plan`.

    ``features`` names what it models exactly (see the module docstring); a request
    needing anything else must go to another engine. ``solve`` plans routes for the
    bins named in ``bin_ids`` (the caller has already removed the off-network and
    unreachable ones), each vehicle driving by ``matrices.for_vehicle(vehicle.id)``,
    within ``options.time_limit_s`` seconds, repeatably for a given ``options.seed``,
    minimising ``options.objective``. A route's stops are bin ids, disposal-site ids
    and ``"break"`` in driving order. Bins it cannot fit go in ``Plan.unassigned``; an
    engine gives the reason when it has checked one, otherwise
    ``no_feasible_insertion`` with a detail, and :func:`solver.feasibility.explain_dropped`
    repairs or explains them afterwards. Engines compute no reported figures:
    :func:`solver.evaluate.evaluate` does.
    """

    name: str
    features: frozenset[str]

    def solve(self, problem: Problem, matrices: FleetMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` of ``problem`` on ``matrices`` (see the class docstring), telling
        ``progress`` of each better solution and stopping early when it answers ``False``."""
        ...


def _needs_streams(problem: Problem) -> bool:
    streams = problem.streams()
    if len(streams) > 1:
        return True
    if any(not all(v.carries(s) for s in streams) for v in problem.vehicles):
        return True
    return any(not all(site.accepts(s) for s in streams) for site in problem.disposal_sites)


def _needs_access_profiles(problem: Problem, matrices: FleetMatrices | None) -> bool:
    if any(b.max_vehicle_weight_kg is not None or b.max_vehicle_width_m is not None for b in problem.bins):
        return True
    if matrices is not None:
        return len({matrices.vehicle_profile[v.id] for v in problem.vehicles}) > 1
    sizes = {(v.gross_weight_kg, v.width_m, v.height_m, v.length_m, v.hgv) for v in problem.vehicles}
    return len(sizes) > 1 or any(size != (None, None, None, None, True) for size in sizes)


def required_features(problem: Problem, options: SolveOptions, *,
                      matrices: FleetMatrices | None = None) -> frozenset[str]:
    """The features (names in the module docstring) an engine needs to plan this request.

    ``matrices``, when known, decide ``access_profiles`` by the fleet's profiles;
    without them any vehicle size counts, since the access rules may then give
    vehicles different streets. ``move_penalty`` counts only with initial routes
    (without them no bin can move).
    """
    needed: set[str] = set()
    if problem.disposal_sites:
        needed.add(DISPOSAL_SITES)
    if any(b.time_windows for b in problem.bins):
        needed.add(TIME_WINDOWS)
    if any(v.breaks for v in problem.vehicles):
        needed.add(BREAKS)
    if any(v.capacity_l is not None for v in problem.vehicles):
        needed.add(MULTI_CAPACITY)
    if any(v.max_lifts is not None for v in problem.vehicles):
        needed.add(MAX_LIFTS)
    if any(v.max_collected_kg is not None for v in problem.vehicles):
        needed.add(DAILY_LIMIT)
    if _needs_streams(problem):
        needed.add(STREAMS)
    if _needs_access_profiles(problem, matrices):
        needed.add(ACCESS_PROFILES)
    if any(not b.required for b in problem.bins):
        needed.add(OPTIONAL_BINS)
    if any(b.vehicle_id is not None for b in problem.bins):
        needed.add(PINNED_BINS)
    if options.initial_routes:
        needed.add(WARM_START)
        if any(r.locked > 0 for r in options.initial_routes):
            needed.add(LOCKS)
        if options.move_penalty > 0:
            needed.add(MOVE_PENALTY)
    if options.objective == "cost":
        needed.add(OBJECTIVE_COST)
    return frozenset(needed)

