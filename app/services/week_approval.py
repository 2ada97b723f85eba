"""A reviewed week approved as a whole, and how a night's date finds its day of that week.

Approving a round review (:func:`approve_week`, one transaction) approves every day's plan of the
review and files each as the next version of the round set of its day, ``week/<day>/<week>`` (or
``week/<area>/<day>/<week>``): the day's approved rounds are then found as any round set's are, the
nightly batch re-optimises each on its own day (:mod:`app.batch.nightly`), and a later week approved
for the same area becomes the next version of the same round sets, superseding this one. Each plan's
``parameters["week"]`` holds what the nightly needs (the review, the day and week, the calendar, the
date that starts week A); the review's answer gains ``approval`` (who, when, the round sets); the
audit log keeps one ``week.approve`` line with the week's figures besides each plan's ``plan.approve``.
:func:`week_new_properties` lists the properties the nightly batch later put on the week's days.

Dates are calendar dates of the council's own time zone (the night's date, as the batch is given it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app import store
from app.core.json_types import JSONObject, JSONValue
from app.schemas.round_reviews import WORKING_WEEK
from app.store import ConflictError, FourEyesError
from app.store.models import utc_now
from solver.problem import ProblemError
from solver.week.calendar import WEEKDAYS

WEEK_PREFIX = "week"
"""First segment of every round set that is a day of an approved week."""

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class WeekDayKey:
    """A round set that is a day of an approved week: its ``area`` (``None``: no area), ``day`` and ``week``."""

    area: str | None
    day: str
    week: str


def week_round_set(day: str, week: str, area: str | None = None) -> str:
    """The round set of ``day`` of ``week`` (of ``area``): ``week/mon/A`` or ``week/north/mon/A``."""
    return "/".join([WEEK_PREFIX, *([area] if area else []), day, week])


def parse_week_round_set(round_set: str) -> WeekDayKey | None:
    """The area, day and week of a week's round set, ``None`` for any other round set."""
    parts = round_set.split("/")
    if parts[0] != WEEK_PREFIX or len(parts) not in (3, 4) or parts[-2] not in WEEKDAYS:
        return None
    return WeekDayKey(area=parts[1] if len(parts) == 4 else None, day=parts[-2], week=parts[-1])


def calendar_day(night: date, *, days: list[str], weeks: list[str],
                 week_a_starts: date | None) -> tuple[str, str] | None:
    """The (day, week) of the calendar that the date ``night`` is, ``None`` on a day the calendar does not work.

    Weeks run Monday to Sunday; week A is the one starting ``week_a_starts`` (a Monday), then B, ...,
    round and round (dates before it too). A calendar of one week needs no anchor.
    """
    day = WEEKDAYS[night.weekday()]
    if day not in days:
        return None
    if len(weeks) == 1:
        return day, weeks[0]
    if week_a_starts is None:
        raise ValueError("week_a_starts: a calendar of several weeks needs the date that starts week A")
    monday = night.toordinal() - night.weekday()
    return day, weeks[((monday - week_a_starts.toordinal()) // DAYS_PER_WEEK) % len(weeks)]


def _calendar(session: Session, tenant: str, problem_id: str) -> tuple[list[str], list[str]]:
    """The calendar's days and weeks of the review whose body is problem ``problem_id`` (the defaults
    when it named none)."""
    problem = store.get_problem(session, tenant, problem_id)
    calendar = problem.body.get("calendar") if problem is not None else None
    calendar = calendar if isinstance(calendar, dict) else {}
    days, weeks = calendar.get("days"), calendar.get("weeks")
    return (list(days) if isinstance(days, list) else list(WORKING_WEEK),
            list(weeks) if isinstance(weeks, list) else ["A"])


def _check_anchor(review_id: str, weeks: list[str], week_a_starts: date | None) -> None:
    """A 422 (naming ``week_a_starts`` and the review) when the cycle's start is missing or not a Monday."""
    if week_a_starts is None:
        if len(weeks) > 1:
            raise ProblemError(f"week_a_starts: review {review_id!r} has a calendar of {len(weeks)} weeks "
                               f"({', '.join(weeks)}); give the Monday that starts a week {weeks[0]}",
                               field="week_a_starts", item_id=review_id)
        return
    if week_a_starts.weekday() != 0:
        raise ProblemError(f"week_a_starts: {week_a_starts.isoformat()} is a {WEEKDAYS[week_a_starts.weekday()]}, "
                           "not a Monday", field="week_a_starts", item_id=review_id)


def approve_week(session: Session, tenant: str, review_id: str, *, by: str, week_a_starts: date | None = None,
                 area: str | None = None, by_user_id: str | None = None, four_eyes: bool = False) -> JSONObject | None:
    """Approve every day's plan of the tenant's review ``review_id`` in the name of ``by`` (the user ``by_user_id``;
    see the module docstring); the review's answer with its ``approval``. With ``four_eyes`` the user who asked
    for the review (who created its days' plans) is refused (:class:`~app.store.FourEyesError`).

    ``None`` when the tenant has no review of that id; :class:`~app.store.ConflictError` when it is not a
    succeeded review or was approved already; :class:`~solver.problem.ProblemError` for a missing or
    wrong ``week_a_starts``. The caller's transaction makes it all or nothing.
    """
    job = store.get_job(session, tenant, review_id)
    if job is None or job.kind != "review":
        return None
    if job.status != "succeeded" or job.result is None:
        raise ConflictError(f"round review {review_id!r} is {job.status}: only a finished (succeeded) review "
                            "can be approved")
    result: JSONObject = dict(job.result)
    known = result.get("approval")
    if isinstance(known, dict):
        raise ConflictError(f"round review {review_id!r} was approved already, by {known.get('by')!r} at "
                            f"{known.get('at')}")
    if four_eyes and by_user_id is not None and job.created_by_user_id == by_user_id:
        raise FourEyesError(f"round review {review_id!r} was asked for by {by!r}: the four-eyes rule asks another "
                            "approver to approve it")
    days, weeks = _calendar(session, tenant, job.problem_id)
    _check_anchor(review_id, weeks, week_a_starts)
    approved_at = utc_now()
    rows = result.get("days")
    filed: list[JSONValue] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("plan_id"), str):
            continue  # a day with nothing to collect has no rounds to approve
        plan_id, day, week = str(row["plan_id"]), str(row["day"]), str(row["week"])
        plan = store.get_plan(session, tenant, plan_id)
        if plan is None:
            raise ConflictError(f"round review {review_id!r}: the plan {plan_id!r} of {day} {week} is not stored")
        round_set = week_round_set(day, week, area)
        latest = store.latest_plan(session, tenant, round_set)
        plan.round_set, plan.version = round_set, (latest.version if latest else 0) + 1
        plan.parameters = {**plan.parameters, "week": {
            "review_id": review_id, "area": area, "day": day, "week": week, "days": days, "weeks": weeks,
            "week_a_starts": week_a_starts.isoformat() if week_a_starts else None,
            "approved_at": approved_at.isoformat()}}
        session.flush()
        if plan.status != "approved":  # a day approved alone before keeps that approval
            store.approve_plan(session, tenant, plan_id, by=by, by_user_id=by_user_id, four_eyes=four_eyes)
        filed.append({"day": day, "week": week, "plan_id": plan_id, "round_set": round_set, "version": plan.version})
    approval: JSONObject = {"by": by, "user_id": by_user_id, "at": approved_at.isoformat(), "area": area,
                            "week_a_starts": week_a_starts.isoformat() if week_a_starts else None,
                            "round_sets": filed}
    job.result = {**result, "approval": approval}
    session.flush()
    store.append_audit(session, tenant, actor=by, action="week.approve", subject_type="review", subject_id=review_id,
                       details={"summary": result.get("summary"), "round_sets": filed, "area": area,
                                "week_a_starts": approval["week_a_starts"]})
    return job.result


NEW_PROPERTY_COLUMNS = ("property", "address", "bin_ids", "day", "week", "round", "round_set", "plan_id", "night",
                        "added_s", "why")
"""The columns of an approved week's new properties as CSV: one line per property and day (bin ids joined by ``;``)."""


def week_new_properties(session: Session, tenant: str, review_id: str) -> list[JSONObject] | None:
    """The properties the nightly batch put on the days of the tenant's approved review ``review_id``, oldest
    night first: one row per property and day (:data:`NEW_PROPERTY_COLUMNS`), from the drafts that took
    them in (``parameters.placements``). ``None`` for no review of that id; :class:`~app.store.ConflictError`
    for a review not approved (new properties join approved weeks only)."""
    job = store.get_job(session, tenant, review_id)
    if job is None or job.kind != "review":
        return None
    approval = (job.result or {}).get("approval")
    if not isinstance(approval, dict):
        raise ConflictError(f"round review {review_id!r} is not approved: new properties join an approved week only")
    filed = approval.get("round_sets")
    round_sets = sorted({str(r["round_set"]) for r in filed if isinstance(r, dict)} if isinstance(filed, list) else [])
    rows: list[JSONObject] = []
    for round_set in round_sets:
        for plan in reversed(store.list_plans(session, tenant, round_set=round_set, limit=1000)):
            week, placements = plan.parameters.get("week"), plan.parameters.get("placements")
            if not isinstance(week, dict) or week.get("review_id") != review_id or not isinstance(placements, list):
                continue
            rows += [{**p, "round_set": round_set, "plan_id": plan.id, "night": plan.parameters.get("night")}
                     for p in placements if isinstance(p, dict)]
    return sorted(rows, key=lambda r: (str(r.get("night")), str(r.get("property")), str(r.get("week")),
                                       str(r.get("day"))))


def new_properties_csv(rows: Sequence[JSONObject]) -> str:
    """:func:`week_new_properties`'s rows as CSV, ready for a letter merge."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NEW_PROPERTY_COLUMNS)
    for row in rows:
        bins = row.get("bin_ids")
        writer.writerow([";".join(str(b) for b in bins) if isinstance(bins, list) and column == "bin_ids"
                         else ("" if row.get(column) is None else row.get(column)) for column in NEW_PROPERTY_COLUMNS])
    return out.getvalue()
