"""The savings of a proposed week against today's week, day by day and in total, per week and per year.

Pure, like :mod:`solver.savings`, whose figures it reuses: each day of the calendar is two
evaluations by the one evaluator (today's rounds and the proposed rounds of that day, either absent
on a day with nothing to collect) made into :class:`~solver.savings.Figures` at the same
:class:`~solver.savings.Factors`; the week's totals are the sums of its days (``vehicles_used``
summed is *vehicle-days*), beside the figures a week adds:

- ``busiest_day_vehicles``: the vehicles of the busiest day (the fleet the council must own and crew);
- ``households_moved``: households told their collection day changes (today's week moves none);
- each day's balance (``duration_spread``, ``load_spread``: longest or heaviest round over the day's
  mean, minus 1) and compactness (``shared_street_share``: mean share of a round's street length
  another round also serves; ``overlap_share``: mean share inside other rounds' areas;
  ``crossing_pairs``: pairs of rounds whose areas cross), all lower is better, and for the week each
  figure's worst day on either side (:meth:`WeekSavings.shape`).

A year is ``weeks_per_year / len(calendar weeks)`` cycles of the calendar (52 weeks: a one-week
calendar runs 52 times, a fortnight A/B 26 times), so a fortnight's totals, which hold two weeks,
are counted 26 times. ``delta = proposed - today`` everywhere; "what got worse" names every total,
day, figure of balance or compactness, and household moved that is worse than today.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from solver.savings import (
    FIGURE_INFO,
    FIGURES,
    STRAW_MAN_RATIO,
    Change,
    Factors,
    Figures,
    changes,
    no_round,
    plan_figures,
    savings_report,
    verdict,
)
from solver.solution import Evaluation
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

WEEKS_PER_YEAR = 52.0
"""Weeks a year the calendar's cycles are counted over (bank holidays and their catch-up days ignored)."""

DAY_MOVE_NOTES = ("the plan does not serve", "the plan serves")
"""The one-day report's notes on bins served by one side only, left out of a day of the week (see
:func:`week_savings`)."""

SHAPE_FIGURES: tuple[tuple[str, str], ...] = (
    ("duration_spread", "Balance: longest round over the mean"),
    ("load_spread", "Balance: heaviest round over the mean"),
    ("shared_street_share", "Compactness: street length another round also serves"),
    ("overlap_share", "Compactness: street length inside other rounds' areas"),
    ("crossing_pairs", "Compactness: pairs of rounds whose areas cross"),
)
"""The balance and compactness figures of a day (name, label), each lower is better (shares are 0..1)."""


@dataclass(frozen=True)
class WeekDayInput:
    """One day of the calendar: its ``day`` and ``week``, the evaluations of today's rounds and of the
    proposed rounds (``None``: nothing collected that day), each vehicle's paid shift in seconds, and each
    side's balance and compactness figures (:data:`SHAPE_FIGURES`; a figure absent when not known)."""

    day: str
    week: str
    today: Evaluation | None
    proposed: Evaluation | None
    paid_shift_s: Mapping[str, float] = field(default_factory=dict)
    today_shape: Mapping[str, float] = field(default_factory=dict)
    proposed_shape: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"tue A"``."""
        return f"{self.day} {self.week}"


@dataclass(frozen=True)
class ShapeChange:
    """How one balance or compactness figure of a day moved (``None`` where a side has no rounds)."""

    day: str
    figure: str
    label: str
    today: float | None
    proposed: float | None
    delta: float | None
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class WeekDaySavings:
    """One day compared: ``today``, ``proposed``, ``delta`` figures (one collection of that day), the
    changes of balance and compactness, and the day report's notes."""

    label: str
    today: Figures
    proposed: Figures
    delta: Figures
    shape: tuple[ShapeChange, ...]
    notes: tuple[str, ...]

    def changes(self) -> list[Change]:
        """How each figure of the day moved (``vehicle_id`` holds the day's label)."""
        return changes(self.today, self.proposed, self.delta, vehicle_id=self.label)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"day": self.label, "today": self.today.as_dict(), "proposed": self.proposed.as_dict(),
                "delta": self.delta.as_dict(), "shape": [s.as_dict() for s in self.shape], "notes": list(self.notes)}


@dataclass(frozen=True)
class WeekSavings:
    """The proposed week against today's: per day, the week's totals (one cycle of the calendar), the
    busiest day's vehicles, households moved, per year, what got worse, notes, factors."""

    days: tuple[WeekDaySavings, ...]
    today: Figures
    proposed: Figures
    delta: Figures
    busiest_day_vehicles: tuple[int, int]
    households_moved: int
    cycles_per_year: float
    per_year: dict[str, dict[str, float]]
    factors: Factors
    notes: tuple[str, ...]

    def changes(self) -> list[Change]:
        """How each total of the week moved."""
        return changes(self.today, self.proposed, self.delta)

    def shape(self) -> list[ShapeChange]:
        """The week's balance and compactness: each figure of its worst day, today against proposed (the
        ``day`` field names the worst days, ``"today's day / proposed day"``)."""
        out = []
        for name, label in SHAPE_FIGURES:
            sides = []
            for side in ("today", "proposed"):
                known = [(s.today if side == "today" else s.proposed, d.label) for d in self.days for s in d.shape
                         if s.figure == name and (s.today if side == "today" else s.proposed) is not None]
                sides.append(max(known, key=lambda k: (k[0] or 0.0)) if known else (None, "-"))
            (before, before_day), (after, after_day) = sides
            if before is None and after is None:
                continue
            delta = None if before is None or after is None else after - before
            out.append(ShapeChange(day=f"{before_day} / {after_day}", figure=name, label=f"{label} (worst day)",
                                   today=before, proposed=after, delta=delta, verdict=_judged(delta, before, after)))
        return out

    def worse(self) -> list[str]:
        """Everything worse than today, named: the busiest day, households moved, each total, each day's
        figures, each day's balance and compactness."""
        named = []
        today_fleet, proposed_fleet = self.busiest_day_vehicles
        if proposed_fleet > today_fleet:
            named.append(f"vehicles on the busiest day: {proposed_fleet} against {today_fleet} today")
        if self.households_moved:
            named.append(f"households moved: {self.households_moved} must be told their collection day changes")
        named += [f"week: {c.label} {_signed(c.delta)} {c.unit}" for c in self.changes() if c.verdict == "worse"]
        named += [f"week: {s.label} {_shown(s.today)} -> {_shown(s.proposed)}" for s in self.shape()
                  if s.verdict == "worse"]
        for day in self.days:
            named += [f"{day.label}: {c.label} {_signed(c.delta)} {c.unit}" for c in day.changes()
                      if c.verdict == "worse"]
            named += [f"{day.label}: {s.label} {_shown(s.today)} -> {_shown(s.proposed)}" for s in day.shape
                      if s.verdict == "worse"]
        return named

    def better(self) -> list[str]:
        """The week's totals (and busiest day) that improved, named."""
        named = []
        today_fleet, proposed_fleet = self.busiest_day_vehicles
        if proposed_fleet < today_fleet:
            named.append(f"vehicles on the busiest day: {proposed_fleet} against {today_fleet} today")
        return named + [f"week: {c.label} {_signed(c.delta)} {c.unit}" for c in self.changes()
                        if c.verdict == "better"]

    def as_dict(self) -> dict[str, Any]:
        """The report's JSON (see ``docs/savings.md``, "The week's savings report")."""
        today_fleet, proposed_fleet = self.busiest_day_vehicles
        return {
            "today": self.today.as_dict(), "proposed": self.proposed.as_dict(), "delta": self.delta.as_dict(),
            "busiest_day_vehicles": {"today": today_fleet, "proposed": proposed_fleet,
                                     "delta": proposed_fleet - today_fleet},
            "households_moved": self.households_moved,
            "cycles_per_year": self.cycles_per_year, "per_year": self.per_year,
            "days": [d.as_dict() for d in self.days],
            "changes": [c.as_dict() for c in self.changes()], "shape": [s.as_dict() for s in self.shape()],
            "worse": self.worse(), "better": self.better(), "notes": list(self.notes),
            "factors": self.factors.as_dict(),
            "figures": [dataclasses.asdict(f) for f in FIGURES],
        }


def _reworded(note: str) -> str:
    """A day report's note in the week's words: the baseline is today's rounds, the plan the proposed ones."""
    for old, new in (("the baseline's", "today's rounds'"), ("the baseline", "today's rounds"),
                     ("the plan's", "the proposed rounds'"), ("the plan", "the proposed rounds")):
        note = note.replace(old, new)
    return note


def _signed(value: float) -> str:
    return f"{value:+,.6g}"


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _nothing(factors: Factors) -> Figures:
    """The figures of a day with nothing collected: all zero."""
    return dataclasses.replace(no_round(factors), bins_unassigned=0)


def _sum(figures: Sequence[Figures], factors: Factors) -> Figures:
    """Figures added up, figure by figure."""
    total = _nothing(factors)
    for f in figures:
        total = dataclasses.replace(total, **{n: getattr(total, n) + (getattr(f, n) or 0)
                                              for n in FIGURE_INFO})
    return total


def _shape(day: WeekDayInput) -> tuple[ShapeChange, ...]:
    """Each balance and compactness figure of the day, today against proposed."""
    out = []
    for name, label in SHAPE_FIGURES:
        before, after = day.today_shape.get(name), day.proposed_shape.get(name)
        if before is None and after is None:
            continue
        delta = None if before is None or after is None else after - before
        out.append(ShapeChange(day=day.label, figure=name, label=label, today=before, proposed=after, delta=delta,
                               verdict=_judged(delta, before, after)))
    return tuple(out)


def _judged(delta: float | None, before: float | None, after: float | None) -> str:
    """``better``/``worse``/``same`` for a figure where lower is better (``same`` when a side is unknown)."""
    if delta is None:
        return "same"
    return verdict("distance_m", delta, scale=max(abs(before or 0.0), abs(after or 0.0)))


def week_savings(days: Sequence[WeekDayInput], factors: Factors, *, households_moved: int, n_weeks: int,
                 visits_today: Mapping[str, int] | None = None, visits_proposed: Mapping[str, int] | None = None,
                 weeks_per_year: float = WEEKS_PER_YEAR) -> WeekSavings:
    """Compare the proposed week with today's (see the module docstring). ``n_weeks`` is the calendar's
    weeks (a cycle); ``visits_*`` each bin's collections over the cycle on either side, to warn when the
    two weeks do not do the same work. ``factors.collections_per_year`` is not used: a year is
    ``weeks_per_year / n_weeks`` cycles."""
    compared = []
    notes: list[str] = []
    for day in days:
        paid = day.paid_shift_s
        if day.today is not None and day.proposed is not None:
            report = savings_report(day.proposed, day.today, factors, paid_shift_s=paid)
            # bins served on one day and not the other are what a review does (households move days):
            # the week's own note checks that every bin is collected as often in both weeks instead
            before, after = report.baseline, report.plan
            day_notes = [_reworded(n) for n in report.notes if not n.startswith(DAY_MOVE_NOTES)]
        else:
            before = plan_figures(day.today, factors, paid) if day.today is not None else _nothing(factors)
            after = plan_figures(day.proposed, factors, paid) if day.proposed is not None else _nothing(factors)
            day_notes = []
        compared.append(WeekDaySavings(label=day.label, today=before, proposed=after, delta=after.minus(before),
                                       shape=_shape(day), notes=tuple(day_notes)))
        notes += [f"{day.label}: {n}" for n in day_notes]
    today = _sum([d.today for d in compared], factors)
    proposed = _sum([d.proposed for d in compared], factors)
    cycles = weeks_per_year / max(n_weeks, 1)
    yearly_today, yearly_proposed = today.per_year(cycles), proposed.per_year(cycles)
    per_year = {"today": yearly_today, "proposed": yearly_proposed,
                "delta": {k: yearly_proposed[k] - yearly_today[k] for k in yearly_proposed}}
    fleet = (max((d.today.vehicles_used for d in compared), default=0),
             max((d.proposed.vehicles_used for d in compared), default=0))
    notes += _work_notes(visits_today or {}, visits_proposed or {})
    notes += _straw_man(today, proposed)
    return WeekSavings(days=tuple(compared), today=today, proposed=proposed, delta=proposed.minus(today),
                       busiest_day_vehicles=fleet, households_moved=households_moved, cycles_per_year=cycles,
                       per_year=per_year, factors=factors, notes=tuple(notes))


def _straw_man(today: Figures, proposed: Figures) -> list[str]:
    """A warning when today's week is far longer than the proposed one (:data:`~solver.savings.STRAW_MAN_RATIO`
    times the distance or round time) while serving no more bins: today's rounds as given may not be the
    rounds crews drive, and a saving that large needs checking."""
    if today.bins_served > proposed.bins_served:
        return []
    warnings = []
    for label, before, after, scale, unit in (("distance", today.distance_m, proposed.distance_m, METRES_PER_KM, "km"),
                                              ("round time", today.duration_s, proposed.duration_s, SECONDS_PER_HOUR,
                                               "h")):
        if after > 0 and before > STRAW_MAN_RATIO * after:
            warnings.append(f"warning: today's week's {label} ({before / scale:,.1f} {unit}) is {before / after:.1f} "
                            f"times the proposed week's ({after / scale:,.1f} {unit}) serving no more bins: check that "
                            "the bins' current days and rounds are the rounds crews drive before quoting any saving")
    return warnings


def _work_notes(today: Mapping[str, int], proposed: Mapping[str, int]) -> list[str]:
    """Warnings when the two weeks do not collect the same bins as often: the savings are not like for like."""
    notes = []
    absent = sorted(b for b in proposed if b not in today)
    if absent:
        shown = ", ".join(absent[:10]) + (", ..." if len(absent) > 10 else "")
        notes.append(f"{len(absent)} bin(s) have no current day and are in no day of today's week ({shown}): "
                     "the proposed week does work today's week does not show")
    differ = sorted(b for b in today if b in proposed and today[b] != proposed[b])
    if differ:
        shown = ", ".join(f"{b} ({today[b]} today, {proposed[b]} proposed)" for b in differ[:10])
        notes.append(f"{len(differ)} bin(s) are collected a different number of times in the two weeks ({shown}"
                     f"{', ...' if len(differ) > 10 else ''}): a current day without a week counts every week")
    return notes
