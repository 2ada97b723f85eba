"""The week's calendar and its visiting schemes: on which days of the planning horizon a bin
may be collected, given how often.

A :class:`Calendar` is working days (``mon`` .. ``fri``) over one or more weeks (``A``, ``B``);
its *slots* are the days of the whole horizon, numbered week by week (slot
``week * n_days + day``), so a fortnight of five working days has slots 0..9. A frequency
(:class:`Frequency`) is turned into *visiting schemes*: the sets of slots on which a bin of
that frequency may be collected, the way the periodic routing literature states it (and the
pvrpif benchmark checks it): ``k`` visits spread evenly over the horizon, every cyclic gap
between two visits ``floor(H / k)`` or ``ceil(H / k)`` slots. So over four days two visits
are days {0, 2} or {1, 3}; over a five-day week two visits are Mon-Wed, Mon-Thu, Tue-Thu,
Tue-Fri or Wed-Fri.

The council frequencies are read on the calendar's weeks:

- ``weekly``: one weekday, every week (one scheme per weekday);
- ``fortnightly``: one weekday of one week in two (the calendar needs an even number of weeks);
- ``twice_weekly``: two evenly spaced weekdays, the same pair every week;
- ``{"visits": k}``: ``k`` evenly spaced slots over the whole horizon.

A frequency the calendar cannot hold raises :class:`WeekError` naming the field and the id.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from solver.problem import ProblemError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The day names a calendar may use, in order."""

FREQUENCY_KINDS = ("weekly", "fortnightly", "twice_weekly", "visits")
"""The kinds of :class:`Frequency` (``visits`` is written ``{"visits": k}``)."""

MAX_ENUMERATED_SLOTS = 28
"""Longest horizon (slots) whose ``{"visits": k}`` schemes are enumerated (four weeks of seven days)."""


class WeekError(ProblemError):
    """A week that cannot be planned as given: ``field`` names the offending field and
    ``item_id`` the bin, vehicle, tip or property it belongs to (a 422 in the API)."""


Slot = int
"""A day of the horizon: ``week_index * n_days + day_index``."""


@dataclass(frozen=True)
class Calendar:
    """Working ``days`` (names from :data:`WEEKDAYS`, in order) over ``weeks`` (labels, say A and B)."""

    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    weeks: tuple[str, ...] = ("A",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", tuple(self.days))
        object.__setattr__(self, "weeks", tuple(self.weeks))
        if not self.days:
            raise WeekError("calendar.days must name at least one day", field="calendar.days")
        for day in self.days:
            if day not in WEEKDAYS:
                raise WeekError(f"calendar.days: {day!r} is not one of {', '.join(WEEKDAYS)}",
                                field="calendar.days", item_id=day)
        if len(set(self.days)) != len(self.days):
            raise WeekError("calendar.days repeats a day", field="calendar.days")
        if not self.weeks or len(set(self.weeks)) != len(self.weeks):
            raise WeekError("calendar.weeks must name one or more distinct weeks", field="calendar.weeks")

    @property
    def n_days(self) -> int:
        """Working days per week."""
        return len(self.days)

    @property
    def horizon(self) -> int:
        """Slots (days) over all weeks."""
        return len(self.days) * len(self.weeks)

    def slot(self, day: str, week: str | None = None) -> Slot:
        """The slot of ``day`` in ``week`` (the first week when ``None``); ``KeyError`` when absent."""
        if day not in self.days:
            raise KeyError(day)
        if week is not None and week not in self.weeks:
            raise KeyError(week)
        week_index = 0 if week is None else self.weeks.index(week)
        return week_index * self.n_days + self.days.index(day)

    def day_of(self, slot: Slot) -> str:
        """The weekday name of ``slot``."""
        return self.days[slot % self.n_days]

    def week_of(self, slot: Slot) -> str:
        """The week label of ``slot``."""
        return self.weeks[slot // self.n_days]

    def label(self, slot: Slot) -> str:
        """``"tue A"``: the slot's day and week."""
        return f"{self.day_of(slot)} {self.week_of(slot)}"


@dataclass(frozen=True)
class Frequency:
    """How often a bin is collected: ``kind`` from :data:`FREQUENCY_KINDS`, ``visits`` for ``visits``."""

    kind: str = "weekly"
    visits: int | None = None


def parse_frequency(value: Any, *, field: str, item_id: str | None) -> Frequency:
    """A :class:`Frequency` from ``"weekly"``, ``"fortnightly"``, ``"twice_weekly"``, ``{"visits": k}``
    or a whole number ``k`` (``None``: weekly); :class:`WeekError` for anything else."""
    if value is None:
        return Frequency()
    if isinstance(value, str) and value in FREQUENCY_KINDS[:3]:
        return Frequency(value)
    if isinstance(value, Mapping) and set(value) == {"visits"}:
        value = value["visits"]
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return Frequency("visits", int(value))
    raise WeekError(f"{field} of {item_id!r} must be 'weekly', 'fortnightly', 'twice_weekly' or {{\"visits\": k}}, "
                    f"got {value!r}", field=field, item_id=item_id)


def even_schemes(n: int, k: int) -> tuple[frozenset[int], ...]:
    """Sets of ``k`` positions on a cycle of ``n`` whose cyclic gaps are all ``floor(n / k)`` or
    ``ceil(n / k)``, in lexicographic order (``k = n``: the one set of all; ``k = 1``: each single)."""
    if not 1 <= k <= n:
        raise ValueError(f"cannot place {k} visits on {n} days")
    low, high = n // k, math.ceil(n / k)
    schemes = []
    for chosen in itertools.combinations(range(n), k):
        gaps = [b - a for a, b in itertools.pairwise(chosen)] + [chosen[0] + n - chosen[-1]]
        if all(low <= g <= high for g in gaps):
            schemes.append(frozenset(chosen))
    return tuple(schemes)


def visiting_schemes(frequency: Frequency, calendar: Calendar, *, field: str = "frequency",
                     item_id: str | None = None) -> tuple[frozenset[Slot], ...]:
    """The schemes (sets of slots) a bin of ``frequency`` may be collected on (see the module
    docstring); :class:`WeekError` naming ``field`` and ``item_id`` when the calendar cannot hold it."""
    n_days, n_weeks = calendar.n_days, len(calendar.weeks)
    every_week = range(n_weeks)
    if frequency.kind == "weekly":
        return tuple(frozenset(w * n_days + d for w in every_week) for d in range(n_days))
    if frequency.kind == "fortnightly":
        if n_weeks % 2:
            raise WeekError(f"{field} of {item_id!r}: fortnightly needs a calendar of an even number of weeks "
                            f"(A/B), this one has {n_weeks}", field=field, item_id=item_id)
        return tuple(frozenset(w * n_days + d for w in every_week if w % 2 == phase)
                     for phase in range(2) for d in range(n_days))
    if frequency.kind == "twice_weekly":
        if n_days < 2:
            raise WeekError(f"{field} of {item_id!r}: twice_weekly needs at least two working days a week",
                            field=field, item_id=item_id)
        return tuple(frozenset(w * n_days + d for w in every_week for d in pair) for pair in even_schemes(n_days, 2))
    if frequency.kind == "visits":
        k = frequency.visits
        if k is None or not 1 <= k <= calendar.horizon:
            raise WeekError(f"{field} of {item_id!r}: {k!r} visits do not fit a calendar of {calendar.horizon} days "
                            f"(1 to {calendar.horizon})", field=field, item_id=item_id)
        if calendar.horizon > MAX_ENUMERATED_SLOTS:
            raise WeekError(f"{field} of {item_id!r}: a calendar of {calendar.horizon} days is longer than the "
                            f"{MAX_ENUMERATED_SLOTS} whose visiting schemes are listed", field=field, item_id=item_id)
        return even_schemes(calendar.horizon, k)
    raise WeekError(f"{field} of {item_id!r}: unknown frequency {frequency.kind!r}", field=field, item_id=item_id)


def weekdays_of(slots: Iterable[Slot], calendar: Calendar) -> frozenset[str]:
    """The weekday names the slots fall on."""
    return frozenset(calendar.day_of(s) for s in slots)
