"""The week's savings report: a round review's proposed week against today's week.

A review job stores each day of the proposed week (plans of source ``review``) and, when the bins
say where they are collected today, each day of today's week (source ``today``), both listed in the
review's ``result``. :func:`load_week` reads them back; :func:`build` scores every stored day again
with the one evaluator, as the plan report does (never copying a figure from a stored answer), and
compares the weeks with :func:`solver.week.savings.week_savings` at the configured factors
(``WASTEROUTE_SAVINGS_*``). A year is 52 weeks: the calendar's cycle (one week, or a fortnight
A/B) runs ``52 / weeks`` times. Renderings: JSON, CSV and printable HTML (the plan report's style
and number formats).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, cast

from sqlalchemy.orm import Session

from app import store
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.reports import inputs, render
from app.reports.render import ReportMeta
from app.reports.stored import StoredPlan, load_plan
from app.services import optimisation
from solver.savings import FIGURE_INFO, FIGURES
from solver.week.savings import WEEKS_PER_YEAR, WeekDayInput, WeekSavings, week_savings

if TYPE_CHECKING:
    from solver.network import RoadNetwork
    from solver.solution import Evaluation

CSV_COLUMNS = ("scope", "day", "figure", "unit", "today", "proposed", "delta", "verdict")
"""Columns of the CSV: ``scope`` is ``week`` (one cycle of the calendar), ``year``, ``week shape`` (the worst
day's balance and compactness, ``day`` naming today's and the proposed worst day), ``day`` or ``day shape``."""


class WeekReportError(LookupError):
    """A review whose report cannot be made: ``status_code`` 404 (no such review) or 409 (not done, or
    no today's week to compare with), ``detail`` says which."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class StoredDay:
    """One day of the calendar: today's and the proposed stored plan (``None``: nothing that day), and the
    vehicles each side would need beside those working the day (``(needed, available)``, from the review)."""

    day: str
    week: str
    today: StoredPlan | None
    proposed: StoredPlan | None
    today_fleet: tuple[int, int] | None = None
    proposed_fleet: tuple[int, int] | None = None

    def fleet_notes(self) -> list[str]:
        """Warnings for a side whose rounds need more vehicles than work the day."""
        notes = []
        for side, fleet in (("today's rounds", self.today_fleet), ("the proposed rounds", self.proposed_fleet)):
            if fleet is not None and fleet[0] > fleet[1]:
                notes.append(f"{self.day} {self.week}: {side} would need {fleet[0]} vehicles to serve every bin, "
                             f"{fleet[1]} work that day")
        return notes


@dataclass(frozen=True)
class StoredWeek:
    """A review's two weeks as stored: its days, households moved and the calendar's weeks."""

    review_id: str
    days: tuple[StoredDay, ...]
    households_moved: int
    n_weeks: int

    @property
    def n_bins(self) -> int:
        """Bin collections of the larger of the two weeks (what the report scores, each side)."""
        today = sum(d.today.n_bins for d in self.days if d.today is not None)
        proposed = sum(d.proposed.n_bins for d in self.days if d.proposed is not None)
        return max(today, proposed)

    @property
    def problem_id(self) -> str | None:
        """A stored problem of the review (a job is queued on one)."""
        plans = [p for d in self.days for p in (d.proposed, d.today) if p is not None]
        return plans[0].problem_id if plans else None


@dataclass(frozen=True)
class WeekReport:
    """The week's report ready to render."""

    review_id: str
    savings: WeekSavings
    meta: ReportMeta


def _plan_id(row: object, key: str = "plan_id") -> str | None:
    value = row.get(key) if isinstance(row, dict) else None
    return value if isinstance(value, str) else None


def _fleet(row: object) -> tuple[int, int] | None:
    """``(vehicles_needed, vehicles_available)`` of a day's row of the review, when it has both."""
    if not isinstance(row, dict):
        return None
    needed, available = row.get("vehicles_needed"), row.get("vehicles_available")
    return (needed, available) if isinstance(needed, int) and isinstance(available, int) else None


def load_week(session: Session, tenant: str, review_id: str) -> StoredWeek:
    """The tenant's review ``review_id`` with its stored days; :class:`WeekReportError` 404 when there is
    no such review, 409 when it has not succeeded or has no today's week."""
    job = store.get_job(session, tenant, review_id)
    if job is None or job.kind != "review":
        raise WeekReportError(404, f"round review {review_id!r} not found")
    if job.status != "succeeded" or job.result is None:
        raise WeekReportError(409, f"round review {review_id!r} is {job.status}: its report needs it done; "
                                   f"GET /api/v1/jobs/{review_id} shows its progress")
    result = job.result
    today = result.get("today")
    if not isinstance(today, dict):
        raise WeekReportError(409, f"round review {review_id!r} has no today's week to compare with: no bin of it "
                                   "carries current (today's day, week and round); post the review again with each "
                                   "bin's current day")
    proposed_rows = result.get("days")
    today_rows = today.get("days")
    assert isinstance(proposed_rows, list) and isinstance(today_rows, list)
    by_day = {(r["day"], r["week"]): r for r in today_rows if isinstance(r, dict)}
    days = []
    for row in proposed_rows:
        assert isinstance(row, dict)
        key = (str(row["day"]), str(row["week"]))
        mine, theirs = _plan_id(row), _plan_id(by_day.get(key))
        days.append(StoredDay(day=key[0], week=key[1],
                              today=None if theirs is None else load_plan(session, tenant, theirs, field="today"),
                              proposed=None if mine is None else load_plan(session, tenant, mine, field="days"),
                              today_fleet=_fleet(by_day.get(key)), proposed_fleet=_fleet(row)))
    summary = result.get("summary")
    moved = summary.get("properties_changing_day") if isinstance(summary, dict) else 0
    return StoredWeek(review_id=review_id, days=tuple(days), households_moved=moved if isinstance(moved, int) else 0,
                      n_weeks=len({d.week for d in days}) or 1)


def _scored(plan: StoredPlan | None, network: RoadNetwork, settings: Settings
            ) -> tuple[Evaluation | None, dict[str, float], dict[str, float], dict[str, int]]:
    """A stored day scored again: its evaluation, balance and compactness figures, paid shifts and bins."""
    if plan is None:
        return None, {}, {}, {}
    scored = inputs.score(plan.label, plan.body, network, settings=settings)
    summary = optimisation.to_response(scored.problem, scored.planned).summary
    shape: dict[str, float] = {}
    if summary.balance is not None:
        shape.update(duration_spread=summary.balance.duration_spread, load_spread=summary.balance.load_spread)
    if summary.compactness is not None:
        shape.update(shared_street_share=summary.compactness.mean_shared_street_share,
                     overlap_share=summary.compactness.mean_overlap_share,
                     crossing_pairs=float(summary.compactness.crossing_pairs))
    return (scored.planned.evaluation, shape, inputs.paid_shifts_s(scored.problem),
            {b.id: 1 for b in scored.problem.bins})


def build(week: StoredWeek, network: RoadNetwork, *, settings: Settings) -> WeekReport:
    """Score both weeks' stored days on ``network`` and compare them. Blocking; raises pydantic's
    ``ValidationError`` or :class:`~solver.problem.ProblemError` for a stored day that can no longer be scored."""
    cycles = WEEKS_PER_YEAR / week.n_weeks
    factors = inputs.factors_from(settings, (cycles, f"a year is {WEEKS_PER_YEAR:g} weeks: the calendar's cycle of "
                                                     f"{week.n_weeks} week(s) runs {cycles:g} times a year"))
    days = []
    visits: dict[str, dict[str, int]] = {"today": {}, "proposed": {}}
    for day in week.days:
        today, today_shape, today_paid, today_bins = _scored(day.today, network, settings)
        proposed, proposed_shape, proposed_paid, proposed_bins = _scored(day.proposed, network, settings)
        for side, bins in (("today", today_bins), ("proposed", proposed_bins)):
            for b in bins:
                visits[side][b] = visits[side].get(b, 0) + 1
        days.append(WeekDayInput(day=day.day, week=day.week, today=today, proposed=proposed,
                                 paid_shift_s={**today_paid, **proposed_paid}, today_shape=today_shape,
                                 proposed_shape=proposed_shape))
    savings = week_savings(days, factors, households_moved=week.households_moved, n_weeks=week.n_weeks,
                           visits_today=visits["today"], visits_proposed=visits["proposed"])
    short = [note for day in week.days for note in day.fleet_notes()]
    if short:
        savings = replace(savings, notes=(*savings.notes, *short))
    meta = ReportMeta(plan_label=f"proposed week of round review {week.review_id}",
                      baseline_label=f"today's week of round review {week.review_id}", network=network.name,
                      extra={"Calendar": f"{len(week.days) // week.n_weeks} day(s) over {week.n_weeks} week(s)",
                             "Today's order": "each vehicle's bins ordered by the engine alone: a generous "
                                              "baseline (savings understated)"})
    return WeekReport(review_id=week.review_id, savings=savings, meta=meta)


def to_json(report: WeekReport) -> dict[str, object]:
    """The report's JSON: :meth:`~solver.week.savings.WeekSavings.as_dict` plus ``review_id`` and ``meta``."""
    return {"review_id": report.review_id, **report.savings.as_dict(), "meta": asdict(report.meta)}


def to_csv(report: WeekReport) -> str:
    """Every figure as CSV rows (:data:`CSV_COLUMNS`): the week, the year, each day, each day's shape."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    savings = report.savings
    today_fleet, proposed_fleet = savings.busiest_day_vehicles
    writer.writerow(("week", "", "busiest_day_vehicles", "vehicles", today_fleet, proposed_fleet,
                     proposed_fleet - today_fleet, ""))
    writer.writerow(("week", "", "households_moved", "households", 0, savings.households_moved,
                     savings.households_moved, "worse" if savings.households_moved else "same"))
    for change in savings.changes():
        writer.writerow(("week", "", change.figure, change.unit, repr(change.baseline), repr(change.plan),
                         repr(change.delta), change.verdict))
    for name, value in savings.per_year["delta"].items():
        writer.writerow(("year", "", name, FIGURE_INFO[name].unit, repr(savings.per_year["today"][name]),
                         repr(savings.per_year["proposed"][name]), repr(value), ""))
    for shape in savings.shape():
        writer.writerow(("week shape", shape.day, shape.figure, _shape_unit(shape.figure),
                         "" if shape.today is None else repr(shape.today),
                         "" if shape.proposed is None else repr(shape.proposed),
                         "" if shape.delta is None else repr(shape.delta), shape.verdict))
    for day in savings.days:
        for change in day.changes():
            writer.writerow(("day", day.label, change.figure, change.unit, repr(change.baseline), repr(change.plan),
                             repr(change.delta), change.verdict))
        for shape in day.shape:
            writer.writerow(("day shape", day.label, shape.figure, _shape_unit(shape.figure),
                             "" if shape.today is None else repr(shape.today),
                             "" if shape.proposed is None else repr(shape.proposed),
                             "" if shape.delta is None else repr(shape.delta), shape.verdict))
    return buffer.getvalue()


def _shape_unit(figure: str) -> str:
    """The unit of a balance or compactness figure in the CSV."""
    return "share" if "share" in figure else "pairs" if figure == "crossing_pairs" else "ratio"


def to_html(report: WeekReport) -> str:
    """The printable HTML report (one self-contained page)."""
    savings = report.savings
    return render.environment().get_template("week_report.html.j2").render(
        report=report, savings=savings, meta=report.meta, factors=savings.factors, figures=FIGURES,
        info=FIGURE_INFO, changes=savings.changes(), worse=savings.worse(), better=savings.better())


def rendered(report: WeekReport) -> JSONObject:
    """All three renderings, as a report job keeps them (``{"json", "html", "csv"}``)."""
    as_json = cast("JSONObject", to_json(report))  # plain dicts, lists, strings and numbers
    return {"json": as_json, "html": to_html(report), "csv": to_csv(report)}
