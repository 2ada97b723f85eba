"""New properties put on the day (and week) and round of their approved week that suit them best.

A property built (or first registered) after its week was approved has no collection day yet. The
council's system exports it, as it exports the bin register, in a *new properties* file the batch
reads (``wasteroute batch --new-properties FILE``, :func:`load_new_properties`): bins of a round
review (``id``, ``lon``, ``lat``, ``demand_kg``, ``stream``, ``property``, ``frequency``,
``allowed_days``, ``address``, ...; no ``current`` day, since it has none) of a ``tenant`` and an
``area`` (the approved week's, ``null`` for a week approved without one).

Before the night's solves, for each tenant and area (:func:`place_new_properties`):

1. each day of the area's approved week (see :mod:`app.batch.week_days`) gives its latest inputs and
   the rounds of its latest plan; a property whose bins a day holds already is ``already_placed``
   (placed on an earlier night: the file may list it again) and reported with its days;
2. the days' problems and the new bins are placed on the network together (one set of matrices);
3. each new property is put on the pattern of days its frequency and allowed days permit whose
   cheapest insertion into those days' rounds adds least driving time, each route checked by the one
   evaluator (:func:`solver.week.placement.place_unit`), one property after the other (in the file's
   order), each seeing those placed before it;
4. every day that gained a property is scored by the evaluator on the streets and stored as a new
   draft of its round set (source ``batch``, parent the day's approved plan), which becomes that
   day's latest inputs: its own night re-optimises it with the new bins (the engine may then move a
   new bin to another round of the same day; never to another day);
5. the report says, per property, its days, rounds, the driving time each adds and why that pattern
   (the others' prices), in ``batch-<night>.json``/``.md`` and ``new-properties-<night>.csv``, for
   the household's letter. A property no pattern fits is ``unplaced`` with the reason (exit status 1).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.batch.inputs import ACTOR, InputFileError, check_bin, problem_body, read_bins_file
from app.batch.report import PlacedVisit, PropertyPlacement, route_stops
from app.batch.week_days import WeekDay, live_week_days
from app.core.config import Settings
from app.core.json_types import JSONObject, JSONValue
from app.schemas import OptimisationRequest
from app.schemas.round_reviews import WEEK_FIELDS, ReviewBinIn
from app.services import optimisation
from app.services.answers import read_answer
from app.store import repository
from app.store.engine import Store
from app.store.models import PlanRecord
from solver import pipeline
from solver.network import RoadNetwork
from solver.problem import Problem, ProblemError
from solver.solution import RoutePlan
from solver.week import Calendar, WeekBin, WeekError, WeekProblem, parse_frequency, week_units
from solver.week.day import restrict
from solver.week.moves import DayStops
from solver.week.placement import UnitPlacement, place_unit

logger = logging.getLogger(__name__)

class NewPropertiesError(InputFileError):
    """A new-properties file that cannot be read; ``field`` and ``item_id`` name the fault."""


NewProperties = dict[tuple[str, str | None], list[JSONObject]]
"""Bins of new properties per (tenant, area), in the file's order."""


def load_new_properties(path: Path, *, default_tenant: str) -> NewProperties:
    """Read ``{"tenant": T, "area": A, "bins": [...review bins...]}`` (``tenant`` defaults to
    ``default_tenant``, ``area`` to none); :class:`NewPropertiesError` naming the field and bin id of the
    first fault (a bin with a ``current`` day is one: a new property has none)."""
    data, tenant = read_bins_file(path, what="new properties", error=NewPropertiesError,
                                  default_tenant=default_tenant)
    area = data.get("area")
    if area is not None and (not isinstance(area, str) or not area or "/" in area):
        raise NewPropertiesError("area must be the name of an approved week's area (no '/') or null", field="area")
    seen: set[str] = set()
    bins: list[JSONObject] = []
    listed = data["bins"]
    assert isinstance(listed, list)
    for i, item in enumerate(listed):
        item_id = str(item.get("id")) if isinstance(item, dict) else None
        check_bin(ReviewBinIn, item, index=i, item_id=item_id, error=NewPropertiesError)
        assert isinstance(item, dict)
        if item.get("current") is not None:
            raise NewPropertiesError(f"bins[{i}].current of {item_id!r}: a new property has no collection day yet "
                                     "(the batch chooses it)", field=f"bins[{i}].current", item_id=item_id)
        if item_id in seen:
            raise NewPropertiesError(f"duplicate bin id {item_id!r}", field=f"bins[{i}].id", item_id=item_id)
        seen.add(str(item_id))
        bins.append(item)
    return {(tenant, area): bins} if bins else {}


@dataclass
class _Day:
    """A day of the approved week as the placement sees it: its latest inputs and rounds."""

    week_day: WeekDay
    slot: int
    body: JSONObject
    routes: dict[str, list[str]]
    approved: PlanRecord | None
    latest_id: str
    added: list[JSONObject] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)


def _daily(item: Mapping[str, JSONValue]) -> JSONObject:
    """A review bin as a bin of a day's body (the week's fields left out)."""
    return {k: v for k, v in item.items() if k not in WEEK_FIELDS["bins"]}


def _allowed(item: Mapping[str, JSONValue]) -> tuple[str, ...] | None:
    """A new bin's allowed days (``None``: every day of the calendar)."""
    days = item.get("allowed_days")
    return tuple(str(d) for d in days) if isinstance(days, list) else None


def _households(bins: Sequence[JSONObject]) -> dict[str, list[JSONObject]]:
    """The new bins per property (a bin without one is a property of its own), in the file's order."""
    found: dict[str, list[JSONObject]] = {}
    for b in bins:
        found.setdefault(str(b.get("property") or b["id"]), []).append(b)
    return found


def _read_days(session: Session, tenant: str, area: str | None) -> tuple[Calendar | None, list[_Day]]:
    """The calendar and days (with rounds) of the area's current approved week."""
    live, _ = live_week_days(session, tenant, repository.list_round_sets(session, tenant))
    mine = [d for d in live.values() if d.key.area == area]
    if not mine:
        return None, []
    days, weeks = mine[0].week.get("days"), mine[0].week.get("weeks")
    calendar = Calendar(days=tuple(str(d) for d in days) if isinstance(days, list) else (),
                        weeks=tuple(str(w) for w in weeks) if isinstance(weeks, list) else ("A",))
    found = []
    for day in mine:
        latest = repository.latest_plan(session, tenant, day.round_set)
        if latest is None:
            continue
        body = problem_body(session, tenant, latest)
        found.append(_Day(week_day=day, slot=calendar.slot(day.key.day, day.key.week), body=body,
                          routes=route_stops(read_answer(latest.result)), latest_id=latest.id,
                          approved=repository.latest_plan(session, tenant, day.round_set, status="approved")))
    return calendar, sorted(found, key=lambda d: d.slot)


def _merged(days: Sequence[_Day], new_bins: Sequence[JSONObject]) -> JSONObject:
    """One optimisation body of every day's depots, vehicles, tips and bins (each once) plus the new bins."""
    merged: JSONObject = {}
    for part in ("depots", "disposal_sites", "vehicles", "bins"):
        items: dict[str, JSONValue] = {}
        for day in days:
            listed = day.body.get(part)
            for item in listed if isinstance(listed, list) else []:
                if isinstance(item, dict):
                    items.setdefault(str(item.get("id")), item)
        if part == "bins":
            for b in new_bins:
                items.setdefault(str(b["id"]), _daily(b))
        merged[part] = list(items.values())
    merged["options"] = days[0].body.get("options", {})
    return merged


def _ids(day: _Day, part: str) -> list[str]:
    """The ids of one part (vehicles, disposal_sites, bins) of a day's body."""
    items = day.body.get(part)
    return [str(i["id"]) for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class _Placer:
    """The placements of one tenant's and area's new properties, on the matrices of the whole week."""

    def __init__(self, tenant: str, area: str | None, calendar: Calendar, days: list[_Day], problem: Problem,
                 prepared: pipeline.PreparedProblem) -> None:
        self.tenant, self.area, self.calendar, self.days = tenant, area, calendar, days
        off = {u.bin_id for u in prepared.unplaceable}
        self.off = {u.bin_id: u for u in prepared.unplaceable}
        self.problem, self.matrices = restrict(problem, prepared.matrices,
                                               bin_ids={b.id for b in problem.bins} - off,
                                               vehicle_ids={v.id for v in problem.vehicles},
                                               site_ids={s.id for s in problem.disposal_sites})
        self.travel = next(iter(self.matrices.profiles.values())).duration_s
        self.by_slot = {d.slot: d for d in days}
        self.stops = {d.slot: DayStops(routes={v: list(s) for v, s in d.routes.items()},
                                       free=[v for v in _ids(d, "vehicles") if v not in d.routes]) for d in days}
        self.tips_on = {d.slot: _ids(d, "disposal_sites") for d in days}
        weekdays: dict[str, set[str]] = {}
        for d in days:
            for v in _ids(d, "vehicles"):
                weekdays.setdefault(v, set()).add(d.week_day.key.day)
        self.vehicle_days = {v: tuple(day for day in calendar.days if day in found) for v, found in weekdays.items()}

    def place(self, household: str, bins: list[JSONObject]) -> PropertyPlacement:
        """Put one new property on its cheapest pattern (its outcome, the days' stops updated)."""
        outcome = PropertyPlacement(tenant=self.tenant, area=self.area, property=household,
                                    bin_ids=[str(b["id"]) for b in bins], status="unplaced",
                                    address=next((str(b["address"]) for b in bins if b.get("address")), None))
        off = [self.off[i] for i in outcome.bin_ids if i in self.off]
        if off:
            outcome.why = f"bin {off[0].bin_id!r} cannot be reached on the streets ({off[0].reason}: {off[0].detail})"
            return outcome
        try:
            week_bins = tuple(WeekBin(id=str(b["id"]), property=household,
                                      frequency=parse_frequency(b.get("frequency"), field="frequency",
                                                                item_id=str(b["id"])),
                                      allowed_days=_allowed(b)) for b in bins)
            own = Problem(depots=self.problem.depots, vehicles=self.problem.vehicles,
                          disposal_sites=self.problem.disposal_sites,
                          bins=tuple(self.problem.bin(i) for i in outcome.bin_ids))
            units, unplaceable = week_units(WeekProblem(calendar=self.calendar, problem=own, bins=week_bins,
                                                        vehicle_days=self.vehicle_days))
        except WeekError as exc:  # its index is the file's property's, not the file's: leave it out
            outcome.why = re.sub(r"^bins\[\d+\]\.", "", str(exc))
            return outcome
        if unplaceable:
            outcome.why = unplaceable[0].reason
            return outcome
        placed = place_unit(self.problem, self.matrices, self.travel, self.stops, units[0], tips_on=self.tips_on)
        outcome.alternatives = [{"days": self._label(p.pattern.slots), "added_s": p.added, "why": p.why}
                                for p in placed.prices]
        if placed.chosen is None:
            outcome.why = "no day its frequency and allowed days permit fits: " + "; ".join(
                f"{a['days']}: {a['why']}" for a in outcome.alternatives)
            return outcome
        self._apply(placed, bins)
        outcome.status = "placed"
        outcome.visits = [PlacedVisit(day=self.calendar.day_of(s), week=self.calendar.week_of(s),
                                      round=placed.rounds[s], round_set=self.by_slot[s].week_day.round_set,
                                      plan_id=None, added_s=placed.added[s]) for s in sorted(placed.chosen.slots)]
        others = [f"{a['days']} +{a['added_s']:.0f} s" if a["added_s"] is not None else f"{a['days']}: {a['why']}"
                  for a in outcome.alternatives if a["days"] != self._label(placed.chosen.slots)]
        outcome.why = (f"cheapest insertion: {self._label(placed.chosen.slots)} adds "
                       f"{sum(placed.added.values()):.0f} s of driving"
                       + (f" (other days: {', '.join(others)})" if others else " (no other day permitted)"))
        return outcome

    def _label(self, slots: frozenset[int]) -> str:
        return ", ".join(self.calendar.label(s) for s in sorted(slots))

    def _apply(self, placed: UnitPlacement, bins: list[JSONObject]) -> None:
        """Keep the new days' stops and note, per day, the bins it gained."""
        assert placed.chosen is not None
        self.stops = placed.days
        for slot, ids in placed.chosen.visits:
            day = self.by_slot[slot]
            day.added += [_daily(b) for b in bins if b["id"] in ids]
            day.properties.append(placed.unit.id)


def _known_days(days: Sequence[_Day], bin_ids: Sequence[str]) -> list[PlacedVisit]:
    """The days (their rounds and latest plans) that hold any of ``bin_ids`` already."""
    visits = []
    for day in days:
        held = set(_ids(day, "bins"))
        if held & set(bin_ids):
            found = next((v for v, stops in day.routes.items() if set(stops) & set(bin_ids)), None)
            visits.append(PlacedVisit(day=day.week_day.key.day, week=day.week_day.key.week, round=found,
                                      round_set=day.week_day.round_set, plan_id=day.latest_id))
    return visits


def _placed_here(day: _Day, outcomes: Mapping[str, PropertyPlacement]) -> list[JSONValue]:
    """What the day's draft keeps of each property placed on it (``parameters.placements``): the property,
    its bins and address, the day, week and round, the driving added, and why."""
    kept: list[JSONValue] = []
    for household in day.properties:
        outcome = outcomes[household]
        for visit in outcome.visits:
            if visit.round_set == day.week_day.round_set:
                kept.append({"property": household, "bin_ids": list(outcome.bin_ids), "address": outcome.address,
                             "day": visit.day, "week": visit.week, "round": visit.round, "added_s": visit.added_s,
                             "why": outcome.why})
    return kept


def _store_day(store: Store, settings: Settings, tenant: str, day: _Day, network: RoadNetwork, night: date,
               stops: DayStops, outcomes: Mapping[str, PropertyPlacement]) -> str:
    """Score the day with its new bins on the streets and store it as a draft of its round set (with what it
    took in: :func:`_placed_here`); the plan id."""
    held = day.body.get("bins")
    body: JSONObject = {**day.body, "bins": [*(held if isinstance(held, list) else []), *day.added]}
    request = OptimisationRequest.model_validate(body)
    problem, options = optimisation.prepare(request, settings=settings)
    routes = [RoutePlan(vehicle_id=v, stops=tuple(s)) for v, s in stops.routes.items() if s]
    planned = pipeline.evaluate_plan(problem, network, routes, snap_limit_m=settings.snap_limit_m, options=options)
    answer = optimisation.to_response(problem, planned).model_dump(mode="json", exclude_none=True)
    key = f"place:{night.isoformat()}:{day.week_day.round_set}:{repository.content_hash(sorted(day.properties))[:16]}"
    parameters: JSONObject = {"night": night.isoformat(), "new_properties": list(day.properties),
                              "placed_by": "cheapest insertion", "week": day.week_day.week,
                              "placements": _placed_here(day, outcomes)}
    try:
        with store.transaction() as session:
            record = repository.save_problem(session, tenant, body)
            plan = repository.create_plan(session, tenant, problem=record, result=answer, source="batch",
                                          parameters=parameters, round_set=day.week_day.round_set,
                                          parent_id=day.approved.id if day.approved else None, idempotency_key=key,
                                          created_by=ACTOR, name=f"{day.week_day.round_set} with new properties "
                                                                 f"{night.isoformat()}")
            return plan.id
    except IntegrityError:  # another run stored the same placement between our reading and our write
        with store.transaction() as session:
            existing = repository.find_plan_by_key(session, tenant, key)
            if existing is None:
                raise
            return existing.id


def place_area(store: Store, settings: Settings, network: RoadNetwork, tenant: str, area: str | None,
               new_bins: list[JSONObject], night: date) -> list[PropertyPlacement]:
    """Place one tenant's and area's new properties (see the module docstring); one outcome per property."""
    households = _households(new_bins)

    def failed(why: str) -> list[PropertyPlacement]:
        return [PropertyPlacement(tenant=tenant, area=area, property=h, bin_ids=[str(b["id"]) for b in bins],
                                  status="unplaced", why=why) for h, bins in households.items()]

    with store.transaction() as session:
        calendar, days = _read_days(session, tenant, area)
    if calendar is None or not days:
        return failed(f"tenant {tenant!r} has no approved week for area {area!r}: approve a round review first")
    outcomes: dict[str, PropertyPlacement] = {}
    fresh: list[JSONObject] = []
    for household, bins in households.items():
        known = _known_days(days, [str(b["id"]) for b in bins])
        if known:
            outcomes[household] = PropertyPlacement(
                tenant=tenant, area=area, property=household, bin_ids=[str(b["id"]) for b in bins],
                status="already_placed", visits=known,
                why="placed on an earlier run: its bins are on these days already (the plans named)",
                address=next((str(b["address"]) for b in bins if b.get("address")), None))
        else:
            fresh += bins
    if fresh:
        try:
            request = OptimisationRequest.model_validate(_merged(days, fresh))
            problem, options = optimisation.prepare(request, settings=settings)
            prepared = pipeline.prepare(problem, network, snap_limit_m=settings.snap_limit_m,
                                        turns=options.turn_policy(), busy_highways=options.busy_highways)
        except (ValidationError, ProblemError) as exc:
            return [*outcomes.values(), *failed(f"the week with the new bins cannot be planned: {exc}")]
        placer = _Placer(tenant, area, calendar, days, problem, prepared)
        for household, bins in households.items():
            if household not in outcomes:
                outcomes[household] = placer.place(household, bins)
        plan_ids = {d.slot: _store_day(store, settings, tenant, d, network, night, placer.stops[d.slot], outcomes)
                    for d in days if d.added}
        by_round_set = {d.week_day.round_set: plan_ids[d.slot] for d in days if d.slot in plan_ids}
        for outcome in outcomes.values():
            if outcome.status == "placed":
                for visit in outcome.visits:
                    visit.plan_id = by_round_set.get(visit.round_set)
    ordered = [outcomes[h] for h in households]
    for o in ordered:
        rounds = ", ".join(f"{v.day} {v.week} on {v.round}" for v in o.visits)
        logger.info("new property %s/%s (%s): %s%s; %s", tenant, o.property, ", ".join(o.bin_ids),
                    o.status.replace("_", " "), f" on {rounds}" if rounds else "", o.why)
    return ordered


def place_new_properties(store: Store, settings: Settings, network: RoadNetwork, new_properties: NewProperties,
                         night: date, tenants: tuple[str, ...] | None = None) -> list[PropertyPlacement]:
    """Every (chosen) tenant's and area's new properties placed; one outcome per property."""
    placements: list[PropertyPlacement] = []
    for (tenant, area), bins in new_properties.items():
        if tenants is not None and tenant not in tenants:
            continue
        try:
            placements += place_area(store, settings, network, tenant, area, bins, night)
        except Exception as exc:  # one area's failure must not stop the night's solves
            logger.exception("placing the new properties of %s (area %s) failed", tenant, area)
            why = f"the placement failed: {type(exc).__name__}: {exc}"
            placements += [PropertyPlacement(tenant=tenant, area=area, property=h, bin_ids=[str(b["id"]) for b in hb],
                                             status="unplaced", why=why) for h, hb in _households(bins).items()]
    return placements
