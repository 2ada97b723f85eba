"""A new unit (a property that arrives after its week was approved) put on the pattern of days, and the
rounds of those days, whose insertion costs least, every other unit left where it is.

Each pattern the unit's frequency and allowed days permit (:func:`solver.week.model.week_units`) is
priced by inserting its bins, day by day, at the cheapest place of the day's routes that the one
evaluator accepts (:class:`solver.week.moves.MoveSearch`: capacity, tips, shift, windows; an extra
unload when a route is full; a vehicle of the day without a route when none has room); the pattern
adding the least travel wins, the first in calendar order on a tie. Travel is in the units of the
matrix given (seconds of driving for a duration matrix).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from solver.matrix import FleetMatrices
from solver.problem import Problem
from solver.week.calendar import Slot
from solver.week.moves import DayStops, MoveSearch
from solver.week.units import Pattern, Unit

NOWHERE = Pattern(visits=())
"""The pattern of a unit not yet on any day."""


@dataclass(frozen=True)
class PatternPrice:
    """What one pattern would cost: the travel its insertion adds (``None``: it does not fit, ``why``)."""

    pattern: Pattern
    added: float | None
    why: str = ""


@dataclass(frozen=True)
class UnitPlacement:
    """Where a new unit goes: the ``chosen`` pattern (``None``: none fits), every pattern's price, the days
    after the insertion (the given days when not placed), and per day of the chosen pattern the round
    (vehicle id) its bins went on and the travel that day gained."""

    unit: Unit
    chosen: Pattern | None
    prices: tuple[PatternPrice, ...]
    days: dict[Slot, DayStops]
    rounds: dict[Slot, str] = field(default_factory=dict)
    added: dict[Slot, float] = field(default_factory=dict)


def place_unit(problem: Problem, matrices: FleetMatrices, travel: np.ndarray, days: Mapping[Slot, DayStops],
               unit: Unit, *, tips_on: Mapping[Slot, Sequence[str]] | None = None) -> UnitPlacement:
    """Put ``unit`` (whose bins are in ``problem`` but on no day of ``days``) on its cheapest pattern (see
    the module docstring); ``days`` are the week's days with rounds, ``tips_on`` the tips open on each."""
    prices: list[PatternPrice] = []
    best: tuple[float, Pattern, MoveSearch] | None = None
    for pattern in unit.patterns:
        missing = sorted(pattern.slots - days.keys())
        if missing:
            prices.append(PatternPrice(pattern, None, "a day without rounds in the approved week"))
            continue
        search = MoveSearch(problem, matrices, travel, days, tips_on=tips_on)
        added = search.try_move(unit, NOWHERE, pattern, budget=math.inf)
        if added is None:
            prices.append(PatternPrice(pattern, None, "no round has room (capacity, shift, windows)"))
            continue
        prices.append(PatternPrice(pattern, added))
        if best is None or added < best[0]:
            best = (added, pattern, search)
    if best is None:
        return UnitPlacement(unit=unit, chosen=None, prices=tuple(prices), days=dict(days))
    _, pattern, search = best
    rounds: dict[Slot, str] = {}
    gained: dict[Slot, float] = {}
    for slot, bin_ids in pattern.visits:
        before, after = days[slot].routes, search.days[slot].routes
        gained[slot] = sum(search.travel_of(v, stops) - (search.travel_of(v, before[v]) if v in before else 0.0)
                           for v, stops in after.items() if before.get(v) != stops)
        rounds[slot] = next(v for v, stops in after.items() if bin_ids[0] in stops)
    return UnitPlacement(unit=unit, chosen=pattern, prices=tuple(prices), days=search.days, rounds=rounds,
                         added=gained)
