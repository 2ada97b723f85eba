"""The only translator between a round review's request and answer and :mod:`solver.week`.

:func:`prepare` turns a :class:`~app.schemas.ReviewRequest` into the daily
:class:`~solver.problem.Problem`, the :class:`~solver.problem.SolveOptions` and the
:class:`~solver.week.WeekProblem` (raising :class:`~solver.week.WeekError`, a 422, for a week that
cannot be planned as given); :func:`review` places the problem on the network, runs
:func:`solver.week.plan_review` with the daily engine and scores each day's rounds with the one
evaluator on the streets (:func:`solver.pipeline.evaluate_plan`), giving each day's optimisation
answer (stored as a plan by the job) and the review's answer (the job's ``result``). When the bins
say where they are collected today, today's week (:mod:`solver.week.today`) is ordered and scored the
same way, in the review job, so that it is stored with the review (plans of source ``today``) and the
week's savings report (:mod:`app.reports.week`) compares two stored weeks scored alike.

Units: metres, seconds, kg; days by their calendar names, weeks by their labels.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.core.config import Settings
from app.core.json_types import JSONObject, JSONValue
from app.schemas import OptimisationRequest, ReviewRequest
from app.schemas.round_reviews import WEEK_FIELDS
from app.services import optimisation
from solver import pipeline
from solver.balance import balance_by_fleet
from solver.matrix import FleetMatrices
from solver.problem import Problem, SolveOptions
from solver.solution import RoutePlan, Unassigned
from solver.week import (
    Calendar,
    CurrentDay,
    WeekBin,
    WeekOptions,
    WeekProblem,
    WeekReview,
    parse_frequency,
    plan_review,
)
from solver.week.day import restrict
from solver.week.review import DayChange
from solver.week.today import TodayDay, has_today, today_round_count, today_week

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

ReviewMethod = Literal["matrix", "district"]
"""How a review was planned (its ``summary.method``): ``matrix``, one travel matrix of every bin and the week's
search (:func:`review`); ``district``, street clusters assigned to days and each day's stream planned on its
own (:mod:`app.services.district_review`, from ``WASTEROUTE_DISTRICT_REVIEW_FROM_BINS`` bins)."""

DAY_CHANGE_COLUMNS = ("property", "address", "bin_ids", "old_day", "old_week", "new_day", "new_week")
"""The columns of the day-changes CSV, one line per household whose day changes (bin ids joined by ``;``)."""

TODAY_SHARE = 0.1
"""Share of the review's time limit the engine has, over all rounds, to order today's week ..."""

TODAY_ROUND_S = (0.2, 5.0)
"""... each round within these seconds (least, most; more for a big round, :func:`solver.week.today.round_seconds`):
today's order is a baseline, not the review's search."""

ReviewProgress = Callable[[float], None]
"""Hears the share (0..1) of the review's time limit spent."""


def daily_body(body: JSONObject, *, bin_ids: Sequence[str] | None = None, vehicle_ids: Sequence[str] | None = None,
               site_ids: Sequence[str] | None = None) -> JSONObject:
    """The optimisation body inside a review ``body`` (the week's fields left out), keeping only the bins,
    vehicles and tips named (``None``: all)."""
    kept = {"bins": bin_ids, "vehicles": vehicle_ids, "disposal_sites": site_ids}
    daily: JSONObject = {}
    for part in ("depots", "disposal_sites", "vehicles", "bins"):
        items = body.get(part, [])
        assert isinstance(items, list)
        wanted = kept.get(part)
        chosen = set(wanted) if wanted is not None else None
        daily[part] = [{k: v for k, v in item.items() if k not in WEEK_FIELDS.get(part, ())}
                       for item in items if isinstance(item, dict) and (chosen is None or item.get("id") in chosen)]
    options = body.get("options", {})
    assert isinstance(options, dict)
    daily["options"] = {k: v for k, v in options.items() if k not in WEEK_FIELDS["options"]}
    return daily


def to_week(request: ReviewRequest, problem: Problem) -> WeekProblem:
    """The week of ``request`` around its daily ``problem`` (only the bins ``problem`` holds);
    :class:`~solver.week.WeekError` naming the field and the id when it cannot be planned as given."""
    calendar = Calendar(days=tuple(request.calendar.days), weeks=tuple(request.calendar.weeks))
    held = {b.id for b in problem.bins}
    bins = []
    for i, b in enumerate(request.bins):
        if b.id not in held:
            continue
        frequency = b.frequency if isinstance(b.frequency, str) else b.frequency.model_dump()
        current = None if b.current is None else CurrentDay(day=b.current.day, week=b.current.week,
                                                            round=b.current.round, sequence=b.current.sequence)
        bins.append(WeekBin(id=b.id, frequency=parse_frequency(frequency, field=f"bins[{i}].frequency", item_id=b.id),
                            property=b.property, current=current,
                            allowed_days=None if b.allowed_days is None else tuple(b.allowed_days)))
    return WeekProblem(
        calendar=calendar, problem=problem, bins=tuple(bins),
        vehicle_days={v.id: tuple(v.days) for v in request.vehicles if v.days is not None},
        tip_days={s.id: tuple(s.days) for s in request.disposal_sites if s.days is not None},
        options=WeekOptions(day_change_cost=request.options.day_change_cost,
                            keep_current_days=request.options.keep_current_days))


def prepare(request: ReviewRequest, *, settings: Settings) -> tuple[Problem, SolveOptions, WeekProblem]:
    """The daily problem, the options (the review's time limit, capped by the service) and the week;
    raises :class:`~solver.problem.ProblemError` (a 422) for what cannot be planned."""
    body = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    daily = OptimisationRequest.model_validate(daily_body(body))
    problem, options = optimisation.prepare(daily, settings=settings)
    return problem, options, to_week(request, problem)


@dataclass(frozen=True)
class ReviewedDay:
    """One day of the reviewed week: its ``day`` and ``week``, the optimisation body of that day
    (``body``: its bins, working vehicles and open tips) and the answer of its rounds (``answer``),
    ``None`` both for a day with nothing to collect."""

    day: str
    week: str
    body: JSONObject | None
    answer: JSONObject | None


@dataclass(frozen=True)
class ReviewOutcome:
    """What :func:`review` answers: the review's ``result`` (``review_id`` and each day's ``plan_id`` still
    to fill in, by whoever stores the days), its ``days``, in calendar order (as ``result["days"]``), and
    the days of today's week (as ``result["today"]["days"]``; none when no bin has a ``current`` day)."""

    result: JSONObject
    days: tuple[ReviewedDay, ...]
    today: tuple[ReviewedDay, ...] = ()


def review(request: ReviewRequest, network: RoadNetwork, *, settings: Settings,
           progress: ReviewProgress | None = None) -> ReviewOutcome:
    """Review the week of ``request`` on ``network`` by one travel matrix of every bin (blocking, about
    ``options.time_limit_s`` seconds plus each day scored on the streets); a week of
    ``settings.district_review_from_bins`` bins or more takes :func:`app.services.district_review.review`."""
    started = time.perf_counter()
    problem, options, _ = prepare(request, settings=settings)
    prepared = pipeline.prepare(problem, network, snap_limit_m=settings.snap_limit_m, turns=options.turn_policy(),
                                busy_highways=options.busy_highways)
    off = {u.bin_id for u in prepared.unplaceable}
    placed, matrices = restrict(problem, prepared.matrices, bin_ids={b.id for b in problem.bins} - off,
                                vehicle_ids={v.id for v in problem.vehicles},
                                site_ids={s.id for s in problem.disposal_sites})
    week = to_week(request, placed)
    report = None if progress is None else (lambda _stage, share: progress(share))
    searching = time.perf_counter()
    reviewed = plan_review(week, matrices, options=options, time_limit_s=options.time_limit_s, seed=options.seed,
                           progress=report)
    scoring = time.perf_counter()
    body = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    days, rows, rounds, unassigned = _days(body, week, reviewed, network, settings, options)
    for row, day in zip(rows, days, strict=True):
        slot = reviewed.calendar.slot(day.day, day.week)
        row["vehicles_available"] = len(week.vehicles_on(slot))
        row["vehicles_needed"] = reviewed.vehicles_needed.get(slot, row["vehicles_used"])
    ordering = time.perf_counter()
    # a cancellation asked for while today's week is ordered stops it after the day in hand
    today_days, today = _today(body, request, week, matrices, network, settings, options,
                               after_day=None if progress is None else (lambda: progress(1.0)))
    logger.info("round review: placed on the network in %.1f s, week searched in %.1f s (limit %.0f s), days "
                "scored on the streets in %.1f s, today's week ordered and scored in %.1f s", searching - started,
                scoring - searching, options.time_limit_s, ordering - scoring, time.perf_counter() - ordering)
    left_out: list[JSONValue] = [*(_unassigned(u) for u in prepared.unplaceable),
                                 *(_unassigned(Unassigned(b, "no_compatible_vehicle", u.reason))
                                   for u in reviewed.unplaceable for b in u.bin_ids), *unassigned]
    result = answer(request, reviewed.calendar, rows, days, assignments=reviewed.assignments, rounds=rounds,
                    day_changes=reviewed.day_changes, left_out=left_out, today=today, started=started)
    summary = result["summary"]
    assert isinstance(summary, dict)
    changes = result["day_changes"]
    assert isinstance(changes, list)
    logger.info("reviewed a week of %d bins in %.1f s: %d vehicles on the busiest day, %d households move",
                len(problem.bins), time.perf_counter() - started, summary["max_vehicles_per_day"], len(changes))
    return ReviewOutcome(result=result, days=tuple(days), today=tuple(today_days))


def answer(request: ReviewRequest, calendar: Calendar, rows: Sequence[JSONObject], days: Sequence[ReviewedDay], *,
           assignments: Mapping[str, Sequence[int]], rounds: Mapping[tuple[int, str], str],
           day_changes: Sequence[DayChange], left_out: Sequence[JSONValue], today: JSONObject | None,
           started: float, method: ReviewMethod = "matrix") -> JSONObject:
    """The review's ``result`` (``review_id`` still to fill in) from its scored ``days`` and their ``rows``, each
    bin's slots (``assignments``) and round on each slot (``rounds``), the households moved, the bins left out
    and today's week; ``wall_s`` counted from ``started`` (``time.perf_counter()``). Both paths answer it."""
    assigned: list[JSONValue] = [{"bin_id": b, "day": calendar.day_of(s), "week": calendar.week_of(s),
                                  "round": rounds.get((s, b))}
                                 for b, slots in assignments.items() for s in slots]
    addresses = {b.property or b.id: b.address for b in reversed(request.bins) if b.address is not None}
    changes: list[JSONValue] = []
    for change in day_changes:
        entry: JSONObject = {"property": change.property, "bin_ids": list(change.bin_ids),
                             "from": {"day": change.from_day, "week": change.from_week},
                             "to": {"day": change.to_day, "week": change.to_week}}
        if change.property in addresses:
            entry["address"] = addresses[change.property]
        changes.append(entry)
    used = [int(r["vehicles_used"]) for r in rows if isinstance(r["vehicles_used"], int)]
    needed = {f"{r['day']} {r['week']}": r["vehicles_needed"] for r in rows}
    summary: JSONObject = {
        "max_vehicles_per_day": max(used, default=0),
        "vehicles_needed_per_day": needed,
        "max_vehicles_needed_per_day": max((n for n in needed.values() if isinstance(n, int)), default=0),
        "days_short_of_vehicles": [f"{r['day']} {r['week']}" for r in rows
                                   if isinstance(r["vehicles_needed"], int) and isinstance(r["vehicles_available"], int)
                                   and r["vehicles_needed"] > r["vehicles_available"]],
        "vehicles_per_day": {f"{r['day']} {r['week']}": r["vehicles_used"] for r in rows},
        "distance_m": sum(float(r["distance_m"]) for r in rows if isinstance(r["distance_m"], int | float)),
        "duration_s": sum(float(r["duration_s"]) for r in rows if isinstance(r["duration_s"], int | float)),
        "properties_changing_day": len(changes),
        "balance": _week_balance(days),
        "balance_outside_tolerance": _outside_tolerance(rows),
        "bins_unassigned": len(left_out),
        "wall_s": time.perf_counter() - started,
        "method": method,
    }
    return {"review_id": None, "summary": summary, "days": [*rows], "assignments": assigned,
            "day_changes": changes, "unassigned": [*left_out], "today": today}


def today_round_s(time_limit_s: float, rounds: int) -> float:
    """Seconds the engine has to order each of the ``rounds`` of today's week (:data:`TODAY_SHARE` of the
    review's time limit shared among them, within :data:`TODAY_ROUND_S`)."""
    least, most = TODAY_ROUND_S
    return min(most, max(least, TODAY_SHARE * time_limit_s / max(rounds, 1)))


def _today(body: JSONObject, request: ReviewRequest, week: WeekProblem, matrices: FleetMatrices,
           network: RoadNetwork, settings: Settings, options: SolveOptions, *,
           after_day: Callable[[], None] | None = None) -> tuple[list[ReviewedDay], JSONObject | None]:
    """Today's week (:mod:`solver.week.today`) scored on the streets, each day as the review's days are:
    its days and the answer's ``today`` (``None`` when no bin has a ``current`` day)."""
    if not has_today(week):
        return [], None
    ordered = today_week(week, matrices, options=options,
                         round_time_s=today_round_s(options.time_limit_s, today_round_count(week)),
                         after_day=after_day)
    return today_answer(body, request, week, ordered, network, settings, options)


def today_answer(body: JSONObject, request: ReviewRequest, week: WeekProblem, ordered: Mapping[int, TodayDay],
                 network: RoadNetwork, settings: Settings, options: SolveOptions
                 ) -> tuple[list[ReviewedDay], JSONObject]:
    """Today's week (each slot's rounds, ``ordered``) scored on the streets, each day as the review's days are:
    its days and the answer's ``today``."""
    calendar = week.calendar
    days: list[ReviewedDay] = []
    rows: list[JSONValue] = []
    unassigned: list[JSONValue] = []
    for slot in range(calendar.horizon):
        day, label = calendar.day_of(slot), calendar.week_of(slot)
        row: JSONObject = {"day": day, "week": label, "plan_id": None, "vehicles_used": 0,
                           "vehicles_available": len(week.vehicles_on(slot)), "vehicles_needed": 0, "distance_m": 0.0,
                           "duration_s": 0.0, "rounds": {}}
        today: TodayDay | None = ordered.get(slot)
        if today is None:
            days.append(ReviewedDay(day=day, week=label, body=None, answer=None))
            rows.append(row)
            continue
        unassigned += [{**_unassigned(u), "day": day, "week": label} for u in today.plan.unassigned]
        days.append(_scored_day(body, week, slot, today.bin_ids, today.plan.routes, row, network, settings, options))
        row.update(vehicles_needed=today.vehicles_needed, rounds={v: list(names) for v, names in today.rounds.items()})
        rows.append(row)
    used = [r["vehicles_used"] for r in rows if isinstance(r, dict) and isinstance(r["vehicles_used"], int)]
    without = [b.id for b in request.bins if b.current is None]
    summary: JSONObject = {
        "max_vehicles_per_day": max(used, default=0),
        "distance_m": sum(float(r["distance_m"]) for r in rows
                          if isinstance(r, dict) and isinstance(r["distance_m"], int | float)),
        "duration_s": sum(float(r["duration_s"]) for r in rows
                          if isinstance(r, dict) and isinstance(r["duration_s"], int | float)),
        "bins_unassigned": len(unassigned),
        "bins_without_current": len(without),
        "ordered_by": "engine",
    }
    return days, {"summary": summary, "days": rows, "unassigned": unassigned}


def _unassigned(u: Unassigned) -> JSONObject:
    """An unassigned bin as the answers give it."""
    return {"bin_id": u.bin_id, "reason": u.reason, "detail": u.detail}


def _days(body: JSONObject, week: WeekProblem, reviewed: WeekReview, network: RoadNetwork,
          settings: Settings, options: SolveOptions
          ) -> tuple[list[ReviewedDay], list[JSONObject], dict[tuple[int, str], str], list[JSONObject]]:
    """Each day scored on the streets: the days, their rows of the answer, each (slot, bin)'s round
    (vehicle id) and the bins a day's rounds leave out."""
    calendar = reviewed.calendar
    days, rows, unassigned = [], [], []
    rounds: dict[tuple[int, str], str] = {}
    for slot in range(calendar.horizon):
        day, label = calendar.day_of(slot), calendar.week_of(slot)
        routed = reviewed.plan.days.get(slot)
        row: JSONObject = {"day": day, "week": label, "plan_id": None, "vehicles_used": 0, "distance_m": 0.0,
                           "duration_s": 0.0}
        if routed is None or not routed.bin_ids:
            days.append(ReviewedDay(day=day, week=label, body=None, answer=None))
            rows.append(row)
            continue
        for route in routed.plan.routes:
            for stop in route.stops:
                rounds[(slot, stop)] = route.vehicle_id
        unassigned += [{**_unassigned(u), "day": day, "week": label} for u in routed.plan.unassigned]
        days.append(_scored_day(body, week, slot, routed.bin_ids, routed.plan.routes, row, network, settings,
                                options))
        rows.append(row)
    return days, rows, rounds, unassigned


def _scored_day(body: JSONObject, week: WeekProblem, slot: int, bin_ids: frozenset[str],
                routes: Sequence[RoutePlan], row: JSONObject, network: RoadNetwork, settings: Settings,
                options: SolveOptions) -> ReviewedDay:
    """One day's ``routes`` through ``bin_ids`` (its vehicles and open tips) scored on the streets by the one
    evaluator: the day, with its figures (vehicles, distance, duration, balance, compactness) written into
    its ``row`` of the answer."""
    calendar = week.calendar
    vehicles, sites = week.vehicles_on(slot), week.tips_on(slot)
    day_problem = _day_problem(week.problem, bin_ids, vehicles, sites)
    planned = pipeline.evaluate_plan(day_problem, network, routes, snap_limit_m=settings.snap_limit_m,
                                     options=options)
    answer = optimisation.to_response(day_problem, planned).model_dump(mode="json", exclude_none=True)
    summary = planned.evaluation.summary
    row.update(vehicles_used=summary.vehicles_used, distance_m=summary.distance_m, duration_s=summary.duration_s)
    shape = answer.get("summary")
    if isinstance(shape, dict):
        for figure in ("balance", "compactness"):
            if shape.get(figure) is not None:
                row[figure] = shape[figure]
    # the tolerance governs the rounds planned together (one stream's lorries), not a day's mix of streams
    fleets = balance_by_fleet(planned.evaluation.routes, {v.id: v.streams for v in day_problem.vehicles},
                              options.balance_tolerance if options.balance else None)
    if planned.evaluation.routes:
        row["balance_by_streams"] = [{"streams": list(f.streams), "rounds": f.balance.rounds,
                                      "duration_spread": f.balance.duration_spread,
                                      "load_spread": f.balance.load_spread,
                                      "within_tolerance": f.within_tolerance} for f in fleets]
    day_body = daily_body(body, bin_ids=[b.id for b in day_problem.bins], vehicle_ids=list(vehicles),
                          site_ids=list(sites))
    return ReviewedDay(day=calendar.day_of(slot), week=calendar.week_of(slot), body=day_body, answer=answer)


def _day_problem(problem: Problem, bin_ids: frozenset[str], vehicle_ids: Sequence[str], site_ids: Sequence[str]
                 ) -> Problem:
    """The problem of one day: the bins collected, the vehicles working and the tips open (in the
    problem's order)."""
    return Problem(depots=problem.depots, vehicles=tuple(v for v in problem.vehicles if v.id in vehicle_ids),
                   bins=tuple(b for b in problem.bins if b.id in bin_ids),
                   disposal_sites=tuple(s for s in problem.disposal_sites if s.id in site_ids))


def _week_balance(days: Sequence[ReviewedDay]) -> JSONObject:
    """The least balanced day: the most any day's longest round runs over that day's mean, in duration
    and in load (``max / mean - 1``, as a plan's ``summary.balance``), and which days they are."""
    worst: JSONObject = {"duration_spread": 0.0, "duration_day": None, "load_spread": 0.0, "load_day": None}
    for day in days:
        summary = (day.answer or {}).get("summary")
        balance = summary.get("balance") if isinstance(summary, dict) else None
        if not isinstance(balance, dict):
            continue
        for figure in ("duration", "load"):
            spread = balance.get(f"{figure}_spread")
            known = worst[f"{figure}_spread"]
            if isinstance(spread, int | float) and isinstance(known, int | float) and spread > known:
                worst[f"{figure}_spread"] = float(spread)
                worst[f"{figure}_day"] = f"{day.day} {day.week}"
    return worst


def _outside_tolerance(rows: Sequence[JSONObject]) -> list[JSONValue]:
    """The plans of a day (one group of streams' rounds) outside ``balance_tolerance``, as
    ``"<day> <week> <streams>"``: what the answer keeps of balance where it could not be kept."""
    out: list[JSONValue] = []
    for row in rows:
        fleets = row.get("balance_by_streams")
        for fleet in fleets if isinstance(fleets, list) else []:
            if isinstance(fleet, dict) and fleet.get("within_tolerance") is False:
                streams = fleet.get("streams")
                named = "+".join(str(x) for x in streams) if isinstance(streams, list) else ""
                out.append(f"{row['day']} {row['week']} {named}")
    return out


def day_changes_csv(changes: Sequence[Mapping[str, object]]) -> str:
    """The day changes of a review's result as CSV (:data:`DAY_CHANGE_COLUMNS`), ready for a letter merge."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DAY_CHANGE_COLUMNS)
    for change in changes:
        old, new = change.get("from"), change.get("to")
        old = old if isinstance(old, Mapping) else {}
        new = new if isinstance(new, Mapping) else {}
        bins = change.get("bin_ids")
        writer.writerow([change.get("property"), change.get("address") or "",
                         ";".join(str(b) for b in bins) if isinstance(bins, list) else "",
                         old.get("day"), old.get("week") or "", new.get("day"), new.get("week") or ""])
    return out.getvalue()
