"""Which days of the approved weeks the nightly batch re-optimises tonight.

A day of an approved week is a round set ``week/[<area>/]<day>/<week>`` (filed by
:func:`app.services.week_approval.approve_week`) whose latest approved plan carries
``parameters["week"]``: the review it came from, its day and week, the calendar and the Monday that
starts week A. For a night's date (the date of the collection day it prepares) the batch:

- keeps, per area, only the days of the week approved last (a week approved later for the same area
  supersedes the earlier one, including its days the new week no longer works);
- finds which calendar day and week the date is (:func:`app.services.week_approval.calendar_day`,
  the anchor from the approval unless the batch is given ``--week-a-starts``) and re-optimises only
  that day's round set: every other day of the week waits for its own night;
- refuses a bin register that would bring into a day a bin of another weekday of the same week
  (a household keeps its day: its day changes only through a review or a new property's placement).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.core.json_types import JSONObject, JSONValue
from app.services.week_approval import WeekDayKey, calendar_day, parse_week_round_set
from app.store import repository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeekDay:
    """A day of an approved week: its round set, its key and its latest approved plan's ``week`` parameters."""

    round_set: str
    key: WeekDayKey
    week: JSONObject

    def review_id(self) -> str | None:
        """The review whose approved week this day is."""
        value = self.week.get("review_id")
        return value if isinstance(value, str) else None

    def collected_on(self, night: date, *, week_a_starts: date | None = None) -> bool:
        """Whether the date ``night`` is this day of the week (``week_a_starts`` overrides the approval's)."""
        days, weeks = self.week.get("days"), self.week.get("weeks")
        stored = self.week.get("week_a_starts")
        anchor = week_a_starts or (date.fromisoformat(stored) if isinstance(stored, str) else None)
        found = calendar_day(night, days=[str(d) for d in days] if isinstance(days, list) else [],
                             weeks=[str(w) for w in weeks] if isinstance(weeks, list) else [self.key.week],
                             week_a_starts=anchor)
        return found == (self.key.day, self.key.week)


def live_week_days(session: Session, tenant: str, round_sets: list[str]) -> tuple[dict[str, WeekDay], list[str]]:
    """The tenant's days of approved weeks among ``round_sets`` that are current (their area's week approved
    last), and the week round sets superseded or without an approved week plan (skipped)."""
    found: list[WeekDay] = []
    skipped: list[str] = []
    for round_set in round_sets:
        key = parse_week_round_set(round_set)
        if key is None:
            continue
        approved = repository.latest_plan(session, tenant, round_set, status="approved")
        week = approved.parameters.get("week") if approved is not None else None
        if not isinstance(week, dict):
            skipped.append(round_set)
            continue
        found.append(WeekDay(round_set=round_set, key=key, week=dict(week)))
    newest: dict[str | None, tuple[str, str | None]] = {}
    for day in found:
        stamp = str(day.week.get("approved_at") or "")
        if day.key.area not in newest or stamp > newest[day.key.area][0]:
            newest[day.key.area] = (stamp, day.review_id())
    live = {d.round_set: d for d in found if d.review_id() == newest[d.key.area][1]}
    skipped += [d.round_set for d in found if d.round_set not in live]
    return live, skipped


def foreign_bins(session: Session, tenant: str, day: WeekDay, live: dict[str, WeekDay],
                 bins: list[JSONValue]) -> str | None:
    """Why ``bins`` (a register's for ``day``) cannot be that day's: the first bin that another weekday of the
    same week collects (from that day's latest inputs), ``None`` when there is none."""
    others: dict[str, str] = {}
    for other in live.values():
        if other.key.area != day.key.area or other.key.day == day.key.day:
            continue
        latest = repository.latest_plan(session, tenant, other.round_set)
        problem = repository.get_problem(session, tenant, latest.problem_id) if latest is not None else None
        for b in problem.body.get("bins", []) if problem is not None else []:
            if isinstance(b, dict) and isinstance(b.get("id"), str):
                others[b["id"]] = other.round_set
    for i, b in enumerate(bins):
        bin_id = b.get("id") if isinstance(b, dict) else None
        if isinstance(bin_id, str) and bin_id in others:
            return (f"the register's bins[{i}] {bin_id!r} is collected on {others[bin_id]}, another day of the "
                    f"approved week: a household keeps its day (a new property goes through --new-properties)")
    return None
