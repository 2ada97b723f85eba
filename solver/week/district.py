"""A round review at district scale: street clusters assigned to day territories, then each day's
rounds of each stream planned on the network by the large-problem pipeline, the days in parallel.

:func:`~solver.week.review.plan_review` needs the travel matrix of every bin of the week (its moves
between days are priced on it): at 40,000 properties and 60,000 bins that is 29 GB a matrix, and
its starts route every day many times. A district is reviewed in two levels instead, the
cluster-first design of the districting literature (docs/architecture.md, "The week"):

1. **street clusters** (:func:`street_clusters`): the properties on one street (the network edge
   their refuse bin snaps to) with the same current day, at most ``cluster_size`` each, become one
   unit whose patterns are the (weekday, week) both or all members can take (:func:`cluster_unit`),
   so a street keeps one collection day and a week whose current days are kept stays possible;
2. **day territories**: the clusters assigned by the week's own construction
   (:func:`~solver.week.search.construct`: sweep around the depot, nearest to the clusters already
   on a day, the load over a day's fair share and the day-change cost weighed), on straight-line
   distances between the clusters' centres (metres), which is all a closeness score needs;
3. **routing**: every (day, stream) with the lorries of that stream working that day, as many as its
   work needs (:func:`lorries_needed`; streams that share a lorry working that day are one problem,
   :func:`stream_groups`, so that no lorry is given two rounds of one day), planned by
   :func:`solver.pipeline.optimise` (the large path:
   streets as stops, parts, the one evaluator), largest first through ``executor`` (a process
   pool, or Dask's executor when a cluster is configured), each searching a share of the time left
   in proportion to its bins, so that the whole review keeps to ``time_limit_s``.

What it leaves out against :func:`~solver.week.review.plan_review`: moves of units between days
after routing and the starts on fewer vehicles a day (a day's lorries come from the estimate).
Units: metres, seconds, kg.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyproj

from solver.network.build import utm_crs
from solver.problem import Problem, SolveOptions
from solver.snapping import snap_points
from solver.week.calendar import Calendar, Slot
from solver.week.model import Unplaceable, WeekProblem, week_units
from solver.week.review import DayChange, _changes
from solver.week.search import WeekPlan, construct
from solver.week.units import Pattern, Unit

if TYPE_CHECKING:
    from solver.network import RoadNetwork
    from solver.pipeline.stages import PlannedRounds

CLUSTER_SIZE = 40
"""Properties in a street cluster at most (a crew's quarter-hour of lifts)."""

OVERHEAD_PER_BIN_S = 0.01
"""Wall seconds a (day, stream)'s plan takes per bin besides the engine's search (snapping, the stops'
matrices, expanding and drawing the rounds, starting a worker), until jobs of the review have ended
and say what it is (measured: docs/performance.md, "The week at district scale")."""

JOB_OVERHEAD_S = 1.0
"""Wall seconds every (day, stream)'s plan takes whatever its size (handing it to a worker, the engine's
model built), besides :data:`OVERHEAD_PER_BIN_S` a bin."""

TAIL_SHARE = 0.05
"""Share of the time limit the (day, stream) plans are dispatched to end before it."""

MIN_SEARCH_S = 0.5
"""The least search a (day, stream) is given, however late it starts."""

DRIVE_PER_BIN_S = 12.0
"""Seconds of driving a lorry spends per bin on residential streets, for the estimate of lorries."""

TIP_ROUND_TRIP_S = 1800.0
"""Seconds of driving to the tip and back per load, for the estimate of lorries."""

PROGRESS_EVERY_S = 1.0
"""Wall seconds between progress reports while (day, stream) plans run (a cancellation is heard that soon)."""

Progress = Callable[[float], None]
"""Hears the share (0..1) of the review's time limit spent; a caller stops the review by raising there."""


def _key(pattern: Pattern, calendar: Calendar) -> tuple[str, str | None]:
    """(weekday, starting week) of a pattern; the week ``None`` for a pattern the same every week."""
    day = calendar.day_of(min(pattern.slots))
    _, _, week = pattern.label.partition(" from week ")
    return day, week or None


def cluster_unit(cluster_id: str, members: Sequence[Unit], calendar: Calendar) -> tuple[Unit, list[list[int]]]:
    """One unit standing for ``members`` (properties on one street), its patterns the (weekday,
    week) every member can take, their bins merged slot by slot, their day-change costs summed;
    and for each of its patterns, the index of each member's own pattern. A member whose patterns
    are the same every week fits either week. ``location``, ``lon``, ``lat`` are the first member's."""
    keys = sorted({_key(p, calendar) for m in members for p in m.patterns},
                  key=lambda k: (calendar.days.index(k[0]), k[1] or ""))
    weeks = [k for k in keys if k[1] is not None] or keys
    patterns, picks = [], []
    for day, week in weeks:
        chosen = []
        for m in members:
            index = {_key(p, calendar): i for i, p in enumerate(m.patterns)}
            k = index.get((day, week), index.get((day, None)))
            if k is None:
                break
            chosen.append(k)
        else:
            visits: dict[Slot, list[str]] = {}
            for m, k in zip(members, chosen, strict=True):
                for slot, ids in m.patterns[k].visits:
                    visits.setdefault(slot, []).extend(ids)
            label = day if week is None else f"{day} from week {week}"
            patterns.append(Pattern(visits=tuple((s, tuple(ids)) for s, ids in sorted(visits.items())),
                                    change_cost=sum(m.patterns[k].change_cost for m, k in zip(members, chosen,
                                                                                               strict=True)),
                                    label=label))
            picks.append(chosen)
    first = members[0]
    return Unit(id=cluster_id, patterns=tuple(patterns), demand=sum(m.demand for m in members), location=first.location,
                lon=first.lon, lat=first.lat), picks


def street_clusters(units: Sequence[Unit], streets: Sequence[object], *, cluster_size: int = CLUSTER_SIZE,
                    ) -> list[list[Unit]]:
    """``units`` grouped by their street (``streets[i]`` for ``units[i]``, any hashable) and their cheapest
    patterns' (current) days, in order, each group cut into pieces of at most ``cluster_size``."""
    groups: dict[tuple[object, tuple[str, ...]], list[Unit]] = {}
    for unit, street in zip(units, streets, strict=True):
        least = min(p.change_cost for p in unit.patterns)
        today = tuple(sorted(p.label for p in unit.patterns if p.change_cost == least))
        groups.setdefault((street, today), []).append(unit)
    clusters = []
    for members in groups.values():
        for start in range(0, len(members), max(1, cluster_size)):
            clusters.append(members[start:start + cluster_size])
    return clusters


def lorries_needed(problem: Problem, bin_ids: Sequence[str], vehicle_ids: Sequence[str], *,
                   capped: bool = True) -> int:
    """How many of ``vehicle_ids`` (alike) a day of ``bin_ids`` needs: lifting, driving
    (:data:`DRIVE_PER_BIN_S` a bin) and tipping (a round trip and the unload per load) against a
    shift less its breaks, rounded up, plus one for the slack a route's shape costs; at least one,
    at most all (unless not ``capped``: then what the day would need of such lorries)."""
    if not vehicle_ids or not bin_ids:
        return 0
    vehicle = problem.vehicle(vehicle_ids[0])
    bins = [problem.bin(b) for b in bin_ids]
    kg = sum(b.demand_kg for b in bins)
    unload = max((s.unload_s for s in problem.disposal_sites), default=0.0)
    loads = math.ceil(kg / vehicle.capacity_kg) if vehicle.capacity_kg > 0 else 1
    work = sum(b.service_s + DRIVE_PER_BIN_S for b in bins) + loads * (unload + TIP_ROUND_TRIP_S)
    shift = vehicle.shift_end_s - vehicle.shift_start_s - sum(b.duration_s for b in vehicle.breaks)
    need = max(1, math.ceil(work / max(shift, 1.0)) + 1)
    return min(len(vehicle_ids), need) if capped else need


@dataclass(frozen=True)
class DistrictDay:
    """One stream's rounds on one slot (``stream``: streams sharing a lorry that day joined by ``+``):
    ``bins`` collected, ``lorries`` given (of ``fleet`` working; the estimate without the fleet's cap,
    ``needed``), the engine's ``search_s`` limit, the job's ``wall_s`` and its ``rounds`` planned on the
    network."""

    slot: Slot
    stream: str
    bins: int
    lorries: int
    fleet: int
    search_s: float
    wall_s: float
    rounds: PlannedRounds
    needed: int = 0


@dataclass(frozen=True)
class DistrictReview:
    """The district's week: each property's pattern (``choice``), each bin's slots (``assignments``),
    the households moved, those no day can serve, each (slot, stream)'s rounds (``days``), how many
    street ``clusters`` were assigned and the seconds of each stage (``timings_s``)."""

    calendar: Calendar
    choice: dict[str, int]
    assignments: dict[str, tuple[Slot, ...]]
    day_changes: tuple[DayChange, ...]
    unplaceable: tuple[Unplaceable, ...]
    days: tuple[DistrictDay, ...]
    clusters: int
    timings_s: dict[str, float] = field(default_factory=dict)

    def vehicles_per_slot(self) -> dict[Slot, int]:
        """Lorries used on each slot, every stream together."""
        used: dict[Slot, int] = {}
        for day in self.days:
            used[day.slot] = used.get(day.slot, 0) + day.rounds.evaluation.summary.vehicles_used
        return used

    @property
    def max_vehicles_per_day(self) -> int:
        """Lorries on the busiest slot."""
        return max(self.vehicles_per_slot().values(), default=0)


DaySolver = Callable[[Problem, SolveOptions], "PlannedRounds"]
"""Plans one (day, stream) problem on the network (a picklable callable when it goes to an executor)."""


def route_on_network(network: RoadNetwork, problem: Problem, options: SolveOptions, *,
                     snap_limit_m: float = 200.0) -> PlannedRounds:
    """:func:`solver.pipeline.optimise` of ``problem`` on ``network`` (the network travels with each job)."""
    from solver.pipeline import optimise  # the engines load only where a day is routed

    return optimise(problem, network, options, snap_limit_m=snap_limit_m)


def route_on_file(network_file: str, cache_dir: str | None, problem: Problem, options: SolveOptions, *,
                  snap_limit_m: float = 200.0, simplify: bool = True) -> PlannedRounds:
    """:func:`solver.pipeline.optimise` of ``problem`` on the network of ``network_file``, loaded once per
    process (:func:`solver.network.load_network` keeps it), so that a worker keeps the network's own
    indexes (streets for snapping, routing graphs) from one job to the next instead of rebuilding them
    for every network shipped to it."""
    from solver.network import load_network
    from solver.pipeline import optimise

    network = load_network(network_file, cache_dir=cache_dir, simplify=simplify)
    return optimise(problem, network, options, snap_limit_m=snap_limit_m)


def stream_groups(problem: Problem, streams: Sequence[str], vehicle_ids: Sequence[str]) -> list[tuple[str, ...]]:
    """``streams`` joined where one of ``vehicle_ids`` carries both (transitively), each group sorted: a
    lorry that carries two streams does both in one day's problem, never two rounds of one day."""
    group = {s: {s} for s in streams}
    for v in vehicle_ids:
        carried = [s for s in streams if problem.vehicle(v).carries(s)]
        for s in carried[1:]:
            if group[s] is not group[carried[0]]:
                joined = group[carried[0]] | group[s]
                for member in joined:
                    group[member] = joined
    return sorted({tuple(sorted(g)) for g in group.values()})


def _day_problem(week: WeekProblem, slot: Slot, streams: tuple[str, ...], bin_ids: set[str]
                 ) -> tuple[Problem, int, int]:
    """The problem of ``streams`` on one slot, its lorries cut to those needed; the fleet working and the
    lorries the estimate asks for, uncapped."""
    problem = week.problem
    working = [v for v in week.vehicles_on(slot) if any(problem.vehicle(v).carries(s) for s in streams)]
    bins = tuple(b for b in problem.bins if b.id in bin_ids)
    need = lorries_needed(problem, [b.id for b in bins], working)
    open_tips = set(week.tips_on(slot))
    day = Problem(depots=problem.depots, vehicles=tuple(problem.vehicle(v) for v in working[:need]), bins=bins,
                  disposal_sites=tuple(s for s in problem.disposal_sites
                                       if s.id in open_tips and any(s.accepts(t) for t in streams)))
    return day, len(working), lorries_needed(problem, [b.id for b in bins], working[:1], capped=False)


Job = tuple[Slot, str, Problem, int, int]
"""A (day, stream) to route: its slot, stream(s), problem, the fleet of its stream(s) working, and the lorries
the estimate asks for, uncapped."""


def _route_days(jobs: Sequence[Job], solver: DaySolver, *, deadline: float, executor: Executor | None, lanes: int,
                options: SolveOptions, progress: Callable[[], None] | None = None) -> list[DistrictDay]:
    """Route ``jobs`` in their order with ``solver``, ``lanes`` at once through ``executor`` (here without one),
    calling ``progress`` after each job and every :data:`PROGRESS_EVERY_S` while jobs run (an exception raised
    there cancels the jobs not started and is raised again).

    A job's wall time is its search, :data:`JOB_OVERHEAD_S`, and work in proportion to its bins
    (snapping, the stops' matrices, expanding, evaluating and drawing the rounds: :data:`OVERHEAD_PER_BIN_S`
    a bin until jobs have ended, then what they took); each job is dispatched with the lanes' seconds left (less
    what the jobs under way still need and the other jobs' overhead), shared by bins among the jobs not
    yet started, so that the review keeps to its time limit whatever a day's overhead costs."""
    waiting = list(jobs)
    running: dict[Future[PlannedRounds], tuple[Job, float, float]] = {}
    days: list[DistrictDay] = []
    overhead = bins_done = 0.0

    def besides(n_bins: int) -> float:
        """Seconds a job of ``n_bins`` takes besides its search."""
        per_bin = overhead / bins_done if bins_done else OVERHEAD_PER_BIN_S
        return JOB_OVERHEAD_S + per_bin * n_bins

    def search_time(job: Job) -> float:
        later = [len(j[2].bins) for j in waiting] + [len(job[2].bins)]
        now = time.perf_counter()
        # the lanes' seconds still to come, less what the jobs under way are expected to take yet
        busy = sum(max(0.0, began + search_s + besides(len(j[2].bins)) - now)
                   for j, search_s, began in running.values())
        lane_s = max(0.0, (deadline - now) * lanes - busy - sum(besides(n) for n in later))
        return max(MIN_SEARCH_S, lane_s * len(job[2].bins) / max(sum(later), 1))

    def done(job: Job, search_s: float, rounds: PlannedRounds, wall: float) -> None:
        nonlocal overhead, bins_done
        overhead += max(0.0, wall - search_s - JOB_OVERHEAD_S)
        bins_done += len(job[2].bins)
        slot, stream, day, fleet, needed = job
        days.append(DistrictDay(slot, stream, len(day.bins), len(day.vehicles), fleet, search_s, wall, rounds,
                                needed))

    try:
        while waiting or running:
            while waiting and (executor is None or len(running) < lanes):
                job = waiting.pop(0)
                search_s = search_time(job)
                day_options = replace(options, time_limit_s=search_s)
                began = time.perf_counter()
                if executor is None:
                    done(job, search_s, solver(job[2], day_options), time.perf_counter() - began)
                    if progress is not None:
                        progress()
                else:
                    running[executor.submit(solver, job[2], day_options)] = (job, search_s, began)
            if running:
                finished, _ = wait(running, timeout=PROGRESS_EVERY_S, return_when=FIRST_COMPLETED)
                for future in finished:
                    job, search_s, began = running.pop(future)
                    done(job, search_s, future.result(), time.perf_counter() - began)
                if progress is not None:
                    progress()
    except BaseException:
        for future in running:
            future.cancel()
        raise
    return days


def plan_district_review(week: WeekProblem, network: RoadNetwork, options: SolveOptions, *, time_limit_s: float,
                         executor: Executor | None = None, workers: int = 1, snap_limit_m: float = 200.0,
                         cluster_size: int = CLUSTER_SIZE, day_solver: DaySolver | None = None,
                         progress: Progress | None = None) -> DistrictReview:
    """Review the district's week within ``time_limit_s`` wall seconds (see the module docstring);
    ``executor`` runs the (day, stream) plans (``workers`` of them at once; ``None``: here, in turn) with
    ``day_solver`` (default: :func:`route_on_network` on ``network``; :func:`route_on_file`, or the
    service's worker that keeps its network, for a pool), ``options`` name the daily engine (their time
    limit is replaced by each day's share). ``progress`` hears the share of the time limit spent after
    the territories and while the days are planned (raising there stops the review)."""
    started = time.perf_counter()
    deadline = started + time_limit_s

    def report() -> None:
        if progress is not None:
            progress(min(1.0, (time.perf_counter() - started) / max(time_limit_s, 1e-9)))

    timings: dict[str, float] = {}
    units, unplaceable = week_units(week)
    problem = week.problem
    lonlat = np.asarray([[u.lon, u.lat] for u in units], dtype=float).reshape(-1, 2)
    snapped = snap_points(network, lonlat, limit_m=snap_limit_m)
    streets = [(min(int(network.edge_u[e]), int(network.edge_v[e])), max(int(network.edge_u[e]),
                int(network.edge_v[e]))) if e >= 0 else ("off", i) for i, e in enumerate(snapped.edge.tolist())]
    groups = street_clusters(units, streets, cluster_size=cluster_size)
    clusters, picks = [], {}
    for k, members in enumerate(groups):
        unit, chosen = cluster_unit(f"c{k}", members, week.calendar)
        if not unit.patterns:
            # members that share no (weekday, week) are assigned one by one
            for m in members:
                solo, solo_picks = cluster_unit(f"c{k}-{m.id}", [m], week.calendar)
                clusters.append(solo)
                picks[solo.id] = ([m], solo_picks)
            continue
        clusters.append(unit)
        picks[unit.id] = (members, chosen)
    timings["clusters"] = time.perf_counter() - started

    depot = problem.depots[0]
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", utm_crs(depot.lon, depot.lat), always_xy=True)
    centres = np.asarray([np.mean([[m.lon, m.lat] for m in picks[c.id][0]], axis=0) for c in clusters]
                         + [[depot.lon, depot.lat]]).reshape(-1, 2)
    xy = np.column_stack(to_xy.transform(centres[:, 0], centres[:, 1]))
    # in money, as the day-change costs it is weighed against: a km costs what the fleet's km costs
    per_km = problem.vehicles[0].cost_per_km if problem.vehicles else 1.0
    travel = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) * (per_km / 1000.0)
    slots = list(range(week.calendar.horizon))
    index = {c.location: i for i, c in enumerate(clusters)}
    # as the matrix path: without a tip open, a day's fleet carries its capacity once; and a day's fair share
    # of the load grows with the lorries working it
    capacity = {s: sum(problem.vehicle(v).capacity_kg for v in week.vehicles_on(s)) if not week.tips_on(s)
                else math.inf for s in slots}
    shares = {s: float(max(len(week.vehicles_on(s)), 1)) for s in slots}
    cluster_choice = construct(clusters, slots, travel=travel, index=index, depot_row=len(clusters),
                               centre=(depot.lon, depot.lat), capacity=capacity, shares=shares,
                               demand_of={b.id: b.demand_kg for b in problem.bins})
    del travel
    choice: dict[str, int] = {}
    for c in clusters:
        members, chosen = picks[c.id]
        for m, k in zip(members, chosen[cluster_choice[c.id]], strict=True):
            choice[m.id] = k
    timings["territories"] = time.perf_counter() - started - timings["clusters"]
    report()

    per_day: dict[tuple[Slot, str], set[str]] = {}
    assignments: dict[str, list[Slot]] = {}
    for unit in units:
        for slot, ids in unit.patterns[choice[unit.id]].visits:
            for b in ids:
                assignments.setdefault(b, []).append(slot)
                per_day.setdefault((slot, problem.bin(b).stream), set()).add(b)
    jobs = []
    for slot in sorted({s for s, _ in per_day}):
        streams = sorted(stream for s, stream in per_day if s == slot)
        for group in stream_groups(problem, streams, week.vehicles_on(slot)):
            bin_ids = set().union(*(per_day[(slot, stream)] for stream in group))
            day, fleet, needed = _day_problem(week, slot, group, bin_ids)
            jobs.append((slot, "+".join(group), day, fleet, needed))
    jobs.sort(key=lambda j: -len(j[2].bins))
    # the plans aim a little inside the limit: the last of them ends when it ends, not when asked
    aim = deadline - TAIL_SHARE * time_limit_s
    solver = day_solver or partial(route_on_network, network, snap_limit_m=snap_limit_m)
    days = _route_days(jobs, solver, deadline=aim, executor=executor,
                       lanes=max(1, workers) if executor is not None else 1, options=options, progress=report)
    timings["routing"] = time.perf_counter() - started - timings["clusters"] - timings["territories"]
    days.sort(key=lambda d: (d.slot, d.stream))
    plan = WeekPlan(choice=choice, days={}, change_cost=sum(u.patterns[choice[u.id]].change_cost for u in units))
    return DistrictReview(calendar=week.calendar, choice=choice,
                          assignments={b: tuple(sorted(s)) for b, s in assignments.items()},
                          day_changes=tuple(_changes(week, units, plan)), unplaceable=tuple(unplaceable),
                          days=tuple(days), clusters=len(clusters), timings_s=timings)


def slot_loads(review: DistrictReview, week: WeekProblem) -> Mapping[Slot, float]:
    """The kg collected on each slot, every stream together."""
    loads: dict[Slot, float] = {}
    for bin_id, slots in review.assignments.items():
        for s in slots:
            loads[s] = loads.get(s, 0.0) + week.problem.bin(bin_id).demand_kg
    return loads
