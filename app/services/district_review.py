"""A round review at district scale through the API: the translator between a review's request and answer
and :func:`solver.week.district.plan_district_review`.

A review job (:mod:`app.jobs.execute`) hands a week of at least ``WASTEROUTE_DISTRICT_REVIEW_FROM_BINS`` bins
(:func:`takes_district_path`) to :func:`review` here instead of :func:`app.services.round_review.review`, which
builds one travel matrix of every bin (docs/performance.md, "The week at district scale"). The answer is the
small path's, field for field (``../shared/API.md``, "round reviews"), so that the job stores each day as a
plan, and the week's savings report, its approval and the map read it alike:

- **the week**: street clusters assigned to days, then each (day, stream) planned by the large pipeline in
  its own process (``WASTEROUTE_DISTRICT_REVIEW_WORKERS`` of them at once, a local pool started for the
  review and stopped after it; the Dask cluster when ``WASTEROUTE_DASK_SCHEDULER`` is set), within
  :data:`SEARCH_SHARE` of the review's time limit;
- **each day**: the rounds of its streams together, scored on the streets by the one evaluator
  (:func:`app.services.round_review._scored_day`), as the small path scores its days: the stored plan, its
  row (vehicles used, available and needed, km, hours, balance, compactness);
- **today's week**, when the bins carry their current day: each day's bins placed on the network and
  ordered by the engine (:func:`solver.week.today.today_day`) on a matrix of that day's bins alone, never
  of the week's;
- progress is the share of the time limit spent, reported while the days are planned and after each day
  of today's week; a cancellation raised from it stops the review, its pool's processes terminated.

Units: metres, seconds, kg; days by their calendar names, weeks by their labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from app.compute.executors import NetworkPaths, optimise_on_worker, solver_executor, stop_now
from app.core.config import Settings
from app.core.json_types import JSONObject, JSONValue
from app.schemas import ReviewRequest
from app.services.round_review import (
    ReviewedDay,
    ReviewOutcome,
    ReviewProgress,
    _scored_day,
    _unassigned,
    answer,
    prepare,
    today_answer,
    today_round_s,
)
from solver import pipeline
from solver.problem import Problem, SolveOptions
from solver.solution import Plan, RoutePlan, Unassigned
from solver.week import WeekProblem
from solver.week.day import restrict
from solver.week.district import DistrictDay, DistrictReview, plan_district_review, route_on_network
from solver.week.today import TodayDay, has_today, today_bins, today_day, today_round_count

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

SEARCH_SHARE = 0.7
"""Share of the review's time limit the district's week (clusters, territories, every (day, stream) planned)
is given; the rest is for scoring each day on the streets and ordering today's week, which at 40,000
properties take a matrix of each day's bins (docs/performance.md, "The week at district scale")."""

FLEET_REASONS = frozenset({"capacity", "shift_too_short", "no_feasible_insertion", "time_window"})
"""Reasons a bin is left out that more lorries could cure (a day that leaves such bins with every lorry it has
says how many it would need)."""


def takes_district_path(request: ReviewRequest, settings: Settings) -> bool:
    """Whether the week of ``request`` is reviewed here: ``settings.district_review_from_bins`` bins or more."""
    return len(request.bins) >= settings.district_review_from_bins


def review(request: ReviewRequest, network: RoadNetwork, *, settings: Settings,
           progress: ReviewProgress | None = None) -> ReviewOutcome:
    """Review the week of ``request`` on ``network`` by the district path (see the module docstring); raises
    :class:`~solver.problem.ProblemError` (a 422) as :func:`app.services.round_review.prepare` does. Blocking:
    about ``options.time_limit_s`` seconds."""
    started = time.perf_counter()
    problem, options, week = prepare(request, settings=settings)
    reviewed = _plan(week, network, options, settings, progress)
    planned = time.perf_counter()
    body = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    calendar = week.calendar
    days: list[ReviewedDay] = []
    rows: list[JSONObject] = []
    left_out: list[JSONValue] = [_unassigned(Unassigned(b, "no_compatible_vehicle", u.reason))
                                 for u in reviewed.unplaceable for b in u.bin_ids]
    rounds: dict[tuple[int, str], str] = {}
    on_slot: dict[int, set[str]] = {}
    for b, slots in reviewed.assignments.items():
        for s in slots:
            on_slot.setdefault(s, set()).add(b)
    for slot in range(calendar.horizon):
        day, label = calendar.day_of(slot), calendar.week_of(slot)
        planned_here = [d for d in reviewed.days if d.slot == slot]
        row: JSONObject = {"day": day, "week": label, "plan_id": None, "vehicles_used": 0, "distance_m": 0.0,
                           "duration_s": 0.0, "vehicles_available": len(week.vehicles_on(slot)),
                           "vehicles_needed": 0}
        bin_ids = frozenset(on_slot.get(slot, ()))
        if not planned_here:
            days.append(ReviewedDay(day=day, week=label, body=None, answer=None))
            rows.append(row)
            continue
        routes = []
        for d in planned_here:
            left_out += [{**_unassigned(u), "day": day, "week": label} for u in d.rounds.evaluation.unassigned]
            for route in d.rounds.evaluation.routes:
                stops = tuple(v.location_id for v in route.visits if v.type != "depot")
                if any(v.type == "bin" for v in route.visits):
                    routes.append(RoutePlan(route.vehicle_id, stops))
                for stop in stops:
                    rounds[(slot, stop)] = route.vehicle_id
        days.append(_scored_day(body, week, slot, bin_ids, routes, row, network, settings, options))
        row["vehicles_needed"] = _needed(planned_here, row["vehicles_used"])
        rows.append(row)
    scored = time.perf_counter()
    today_days, today = _today(body, request, week, network, settings, options, progress)
    logger.info("district round review: %d clusters, week planned in %.1f s (%s), days scored on the streets in "
                "%.1f s, today's week ordered and scored in %.1f s", reviewed.clusters, planned - started,
                ", ".join(f"{k} {v:.1f} s" for k, v in reviewed.timings_s.items()), scored - planned,
                time.perf_counter() - scored)
    result = answer(request, calendar, rows, days, assignments=reviewed.assignments, rounds=rounds,
                    day_changes=reviewed.day_changes, left_out=left_out, today=today, started=started,
                    method="district")
    summary = result["summary"]
    assert isinstance(summary, dict)
    summary["clusters"] = reviewed.clusters
    logger.info("reviewed a district week of %d bins in %.1f s: %s vehicles on the busiest day, %s households move",
                len(problem.bins), time.perf_counter() - started, summary["max_vehicles_per_day"],
                summary["properties_changing_day"])
    return ReviewOutcome(result=result, days=tuple(days), today=tuple(today_days))


def _plan(week: WeekProblem, network: RoadNetwork, options: SolveOptions, settings: Settings,
          progress: ReviewProgress | None) -> DistrictReview:
    """The district's week planned within :data:`SEARCH_SHARE` of the time limit, the days in a pool of
    ``settings.district_review_workers`` processes (or the Dask cluster), else here; the pool is stopped at
    once when the review is cancelled (``progress`` raising)."""
    limit = SEARCH_SHARE * options.time_limit_s
    report: Callable[[float], None] | None = None
    if progress is not None:
        def report(share: float) -> None:
            progress(SEARCH_SHARE * share)
    workers = settings.district_review_workers
    if workers <= 1 and not settings.dask_scheduler:
        return plan_district_review(week, network, options, time_limit_s=limit, snap_limit_m=settings.snap_limit_m,
                                    day_solver=partial(route_on_network, network, snap_limit_m=settings.snap_limit_m),
                                    progress=report)
    # the days run side by side, a process each: a day racing searches of its own (the service's default is a
    # core each) would put twice the processes on the cores (measured: lanes left out at their deadline)
    options = replace(options, search_processes=1)
    executor: Executor = solver_executor(settings, workers=workers)
    try:
        reviewed = plan_district_review(
            week, network, options, time_limit_s=limit, executor=executor, workers=workers,
            snap_limit_m=settings.snap_limit_m,
            day_solver=partial(optimise_on_worker, NetworkPaths.of(settings), snap_limit_m=settings.snap_limit_m),
            progress=report)
    except BaseException:
        stop_now(executor)
        raise
    executor.shutdown(wait=True)
    return reviewed


def _needed(planned_here: Sequence[DistrictDay], used: JSONValue) -> int:
    """The lorries a day needs: those it used, and for a (day, stream) that left bins out for want of
    lorries with every lorry it has, the estimate of what it would need instead."""
    need = 0
    for d in planned_here:
        short = d.lorries >= d.fleet and any(u.reason in FLEET_REASONS for u in d.rounds.evaluation.unassigned)
        need += max(d.needed, d.rounds.evaluation.summary.vehicles_used) if short else \
            d.rounds.evaluation.summary.vehicles_used
    return max(need, used if isinstance(used, int) else 0)


def _today(body: JSONObject, request: ReviewRequest, week: WeekProblem, network: RoadNetwork, settings: Settings,
           options: SolveOptions, progress: ReviewProgress | None) -> tuple[list[ReviewedDay], JSONObject | None]:
    """Today's week, day by day on a matrix of that day's bins (``None`` when no bin has a ``current`` day);
    bins that cannot be placed on the network are left out of today's day with their reason."""
    if not has_today(week):
        return [], None
    round_s = today_round_s(options.time_limit_s, today_round_count(week))
    problem = week.problem
    ordered: dict[int, TodayDay] = {}
    for slot in range(week.calendar.horizon):
        ids = {b.id for b in today_bins(week, slot)}
        if ids:
            here = Problem(depots=problem.depots, vehicles=problem.vehicles,
                           bins=tuple(b for b in problem.bins if b.id in ids), disposal_sites=problem.disposal_sites)
            prepared = pipeline.prepare(here, network, snap_limit_m=settings.snap_limit_m,
                                        turns=options.turn_policy(), busy_highways=options.busy_highways)
            off = {u.bin_id for u in prepared.unplaceable}
            placed, matrices = restrict(here, prepared.matrices, bin_ids=ids - off,
                                        vehicle_ids={v.id for v in here.vehicles},
                                        site_ids={s.id for s in here.disposal_sites})
            slot_week = replace(week, problem=placed, bins=tuple(b for b in week.bins if b.id in ids - off))
            day = today_day(slot_week, matrices, slot, options=options, round_time_s=round_s) if ids - off else None
            if day is None:
                day = TodayDay(slot=slot, bin_ids=frozenset(), plan=Plan(routes=(), unassigned=()), rounds={})
            # the day's stored plan holds every bin collected that day today: those off the network are
            # scored as left out, with the reason they could not be placed
            ordered[slot] = replace(day, bin_ids=frozenset(ids), plan=Plan(
                routes=day.plan.routes, unassigned=(*day.plan.unassigned, *prepared.unplaceable)))
        if progress is not None:
            progress(1.0)  # a cancellation asked for while today's week is ordered stops it after the day in hand
    return today_answer(body, request, week, ordered, network, settings, options)
