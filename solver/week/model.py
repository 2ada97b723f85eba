"""A council's week: the daily problem (every bin, vehicle and tip) with what the week adds to it,
validated, and turned into the units the week's search assigns.

What the week adds (the contract's "round reviews", ``../shared/API.md``):

- a :class:`~solver.week.calendar.Calendar` of working days over weeks A/B;
- for each bin (:class:`WeekBin`): its frequency, the ``property`` it belongs to (a household's bins
  share one collection weekday; its fortnightly bins go in alternate weeks, refuse one week and
  recycling the other), its ``current`` day and week when known, and the ``allowed_days``;
- the days each vehicle works and each tip opens;
- :class:`WeekOptions`: ``day_change_cost`` (money per property moved off its current day) and
  ``keep_current_days`` (every property whose current day can still be kept keeps it).

Validation (:meth:`WeekProblem.__post_init__`) raises :class:`~solver.week.calendar.WeekError`
naming the field and the id: a frequency the calendar cannot hold, a property whose bins carry
different allowed days, a vehicle that works no day, a working day no tip opens, a current day
outside the calendar, a day name the calendar does not have.

:func:`week_units` gives one :class:`~solver.week.units.Unit` per property: one pattern per
weekday it may take (and, with fortnightly bins, per week it starts in), each bin on the slots its
frequency gives from that weekday; a property no day can serve is left out with the reason
(:class:`Unplaceable`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from solver.problem import Problem
from solver.week.calendar import Calendar, Frequency, Slot, WeekError, visiting_schemes
from solver.week.units import Pattern, Unit


@dataclass(frozen=True)
class CurrentDay:
    """Where a bin is collected today: ``day`` (weekday name), ``week`` (label, ``None``: every week of
    the calendar or not known), ``round`` (the crew's round name, if known) and ``sequence`` (its place
    in that round's visiting order, 1, 2, ..., as an in-cab export gives it, if known)."""

    day: str
    week: str | None = None
    round: str | None = None
    sequence: int | None = None


@dataclass(frozen=True)
class WeekBin:
    """The week's attributes of a bin of the daily problem (same ``id``): ``frequency``, ``property``
    (``None``: a property of its own), ``current`` day, and ``allowed_days`` (``None``: every day)."""

    id: str
    frequency: Frequency = field(default_factory=Frequency)
    property: str | None = None
    current: CurrentDay | None = None
    allowed_days: tuple[str, ...] | None = None

    def household(self) -> str:
        """The property id, or the bin's own id when it has none."""
        return self.id if self.property is None else self.property


@dataclass(frozen=True)
class WeekOptions:
    """``day_change_cost``: money per property moved off its current day (each must be told);
    ``keep_current_days``: keep every property on its current day where that day is still possible."""

    day_change_cost: float = 0.0
    keep_current_days: bool = False


@dataclass(frozen=True)
class WeekProblem:
    """The daily ``problem`` (every bin, vehicle and tip) and the week's additions (see the module
    docstring). ``vehicle_days`` and ``tip_days`` map ids to the weekday names they work / open on
    (absent: every day of the calendar). ``bins`` need not name every bin (absent: weekly, own property)."""

    calendar: Calendar
    problem: Problem
    bins: tuple[WeekBin, ...] = ()
    vehicle_days: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tip_days: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: WeekOptions = WeekOptions()

    def __post_init__(self) -> None:
        object.__setattr__(self, "bins", tuple(self.bins))
        days = self.calendar.days
        known = {b.id for b in self.problem.bins}
        seen: set[str] = set()
        for i, b in enumerate(self.bins):
            where = f"bins[{i}]"
            if b.id not in known:
                raise WeekError(f"{where}.id {b.id!r} is not a bin of the problem", field=f"{where}.id", item_id=b.id)
            if b.id in seen:
                raise WeekError(f"{where}.id {b.id!r} is given twice", field=f"{where}.id", item_id=b.id)
            seen.add(b.id)
            visiting_schemes(b.frequency, self.calendar, field=f"{where}.frequency", item_id=b.id)
            if b.allowed_days is not None:
                _check_days(b.allowed_days, days, field=f"{where}.allowed_days", item_id=b.id, empty_ok=False)
            if b.current is not None:
                if b.current.day not in days:
                    raise WeekError(f"{where}.current.day of {b.id!r}: {b.current.day!r} is not a day of the calendar "
                                    f"({', '.join(days)})", field=f"{where}.current.day", item_id=b.id)
                if b.current.week is not None and b.current.week not in self.calendar.weeks:
                    raise WeekError(f"{where}.current.week of {b.id!r}: {b.current.week!r} is not a week of the "
                                    f"calendar ({', '.join(self.calendar.weeks)})", field=f"{where}.current.week",
                                    item_id=b.id)
        allowed: dict[str, tuple[int, frozenset[str] | None]] = {}
        for i, b in enumerate(self.bins):
            mine = None if b.allowed_days is None else frozenset(b.allowed_days)
            first = allowed.setdefault(b.household(), (i, mine))
            if first[1] != mine:
                raise WeekError(f"bins[{i}].allowed_days of {b.id!r} differ from those of bins[{first[0]}], though "
                                f"both belong to property {b.household()!r} (a household's bins share one day)",
                                field=f"bins[{i}].allowed_days", item_id=b.household())
        vehicle_ids = [v.id for v in self.problem.vehicles]
        for i, v in enumerate(vehicle_ids):
            if v in self.vehicle_days:
                _check_days(self.vehicle_days[v], days, field=f"vehicles[{i}].days", item_id=v, empty_ok=False)
        for i, s in enumerate(self.problem.disposal_sites):
            if s.id in self.tip_days:
                _check_days(self.tip_days[s.id], days, field=f"disposal_sites[{i}].days", item_id=s.id,
                            empty_ok=True)
        if self.problem.disposal_sites:
            for day in days:
                works = any(day in self.vehicle_days.get(v, days) for v in vehicle_ids)
                if works and not any(day in self.tip_days.get(s.id, days) for s in self.problem.disposal_sites):
                    raise WeekError(f"disposal_sites: no tip opens on {day!r}, a day vehicles work",
                                    field="disposal_sites", item_id=day)
        cost = self.options.day_change_cost
        if not math.isfinite(cost) or cost < 0:
            raise WeekError(f"options.day_change_cost must be a finite number >= 0, got {cost!r}",
                            field="options.day_change_cost")

    def week_bin(self, bin_id: str) -> WeekBin:
        """The week's attributes of a bin (defaults when the week does not name it)."""
        return self._by_id().get(bin_id, WeekBin(id=bin_id))

    def _by_id(self) -> dict[str, WeekBin]:
        # built once: week_bin is asked for every bin, and a dict per call made a district's week quadratic
        known = self.__dict__.get("_week_bins")
        if known is None:
            known = {b.id: b for b in self.bins}
            object.__setattr__(self, "_week_bins", known)
        return known

    def vehicles_on(self, slot: Slot) -> tuple[str, ...]:
        """Ids of the vehicles working on ``slot``."""
        day = self.calendar.day_of(slot)
        return tuple(v.id for v in self.problem.vehicles if day in self.vehicle_days.get(v.id, self.calendar.days))

    def tips_on(self, slot: Slot) -> tuple[str, ...]:
        """Ids of the tips open on ``slot``."""
        day = self.calendar.day_of(slot)
        return tuple(s.id for s in self.problem.disposal_sites if day in self.tip_days.get(s.id, self.calendar.days))


def _check_days(names: Sequence[str], days: Sequence[str], *, field: str, item_id: str, empty_ok: bool) -> None:
    if not names and not empty_ok:
        raise WeekError(f"{field} of {item_id!r} names no day", field=field, item_id=item_id)
    for name in names:
        if name not in days:
            raise WeekError(f"{field} of {item_id!r}: {name!r} is not a day of the calendar ({', '.join(days)})",
                            field=field, item_id=item_id)


@dataclass(frozen=True)
class Unplaceable:
    """A property no day can serve, its bins and why (a checked reason)."""

    property: str
    bin_ids: tuple[str, ...]
    reason: str


def _bin_slots(week_bin: WeekBin, order: int, day: str, phase: int, calendar: Calendar,
               allowed: frozenset[str]) -> frozenset[Slot] | None:
    """The slots of one bin when its property takes weekday ``day`` starting in week ``phase``; ``order``
    counts the property's fortnightly bins before it (they alternate weeks). ``None``: none fits."""
    d = calendar.days.index(day)
    n, weeks = calendar.n_days, len(calendar.weeks)
    kind = week_bin.frequency.kind
    if kind == "weekly":
        return frozenset(w * n + d for w in range(weeks))
    if kind == "fortnightly":
        return frozenset(w * n + d for w in range(weeks) if w % 2 == (phase + order) % 2)
    anchor = (phase % weeks) * n + d
    for scheme in visiting_schemes(week_bin.frequency, calendar, item_id=week_bin.id):
        if anchor in scheme and all(calendar.day_of(s) in allowed for s in scheme):
            return scheme
    return None


def _keeps(week_bins: Sequence[WeekBin], slots: Mapping[str, frozenset[Slot]], calendar: Calendar) -> bool:
    """Whether every bin with a current day is still collected on that day (and week, when given)."""
    for b in week_bins:
        if b.current is None:
            continue
        mine = slots[b.id]
        if b.current.week is None:
            if not any(calendar.day_of(s) == b.current.day for s in mine):
                return False
        elif calendar.slot(b.current.day, b.current.week) not in mine:
            return False
    return True


def week_units(week: WeekProblem) -> tuple[list[Unit], list[Unplaceable]]:
    """One unit per property (see the module docstring) and the properties no day can serve."""
    calendar = week.calendar
    by_property: dict[str, list[WeekBin]] = {}
    for daily in week.problem.bins:
        wb = week.week_bin(daily.id)
        by_property.setdefault(wb.household(), []).append(wb)
    working = {s for s in range(calendar.horizon) if week.vehicles_on(s)}
    units, unplaceable = [], []
    for household, members in by_property.items():
        allowed = frozenset(members[0].allowed_days or calendar.days)
        fortnightly = any(b.frequency.kind in ("fortnightly", "visits") for b in members)
        patterns: dict[tuple[tuple[Slot, tuple[str, ...]], ...], Pattern] = {}
        keeping: set[tuple[tuple[Slot, tuple[str, ...]], ...]] = set()
        for day in calendar.days:
            if day not in allowed:
                continue
            for phase in range(len(calendar.weeks) if fortnightly else 1):
                slots: dict[str, frozenset[Slot]] = {}
                order = 0
                for member in members:
                    got = _bin_slots(member, order, day, phase, calendar, allowed)
                    order += member.frequency.kind == "fortnightly"
                    if got is None or not got <= working:
                        break
                    slots[member.id] = got
                else:
                    per_slot: dict[Slot, list[str]] = {}
                    for member in members:
                        for s in slots[member.id]:
                            per_slot.setdefault(s, []).append(member.id)
                    visits = tuple((s, tuple(ids)) for s, ids in sorted(per_slot.items()))
                    keeps = _keeps(members, slots, calendar)
                    cost = 0.0 if keeps else week.options.day_change_cost
                    label = day if not fortnightly else f"{day} from week {calendar.weeks[phase]}"
                    patterns.setdefault(visits, Pattern(visits=visits, change_cost=cost, label=label))
                    if keeps:
                        keeping.add(visits)
        chosen = [p for v, p in patterns.items() if v in keeping] if week.options.keep_current_days and keeping \
            else list(patterns.values())
        bin_ids = tuple(b.id for b in members)
        if not chosen:
            unplaceable.append(Unplaceable(property=household, bin_ids=bin_ids,
                                           reason=f"no day of {sorted(allowed)} has a vehicle working on every day "
                                                  "its bins' frequencies need"))
            continue
        first = week.problem.bin(members[0].id)
        demand = sum(week.problem.bin(m.id).demand_kg for m in members)
        units.append(Unit(id=household, patterns=tuple(chosen), demand=demand, location=first.id, lon=first.lon,
                          lat=first.lat))
    return units, unplaceable
