"""The PyVRP model's integer units: time in ticks, money and route figures as objective terms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.problem import Vehicle
from solver.scaling import (
    DEFAULT_RATE_PER_HOUR,
    DEFAULT_RATE_PER_KM,
    INT64_SAFE_MAX,
    OBJECTIVE_UNITS_PER_METRE,
    objective_units,
    seconds_up,
)
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TICKS_PER_SECOND = 10
"""Model time units per second (tenths of a second)."""

MONEY_UNITS = 1_000_000
"""Model units per unit of money under the ``cost`` objective."""


def _ticks_up(seconds: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Durations in seconds to whole ticks, rounded up (``inf`` and anything above ``cap``: ``cap``)."""
    return seconds_up(np.asarray(seconds, dtype=np.float64) * TICKS_PER_SECOND, cap=cap)


def _clock(seconds: int) -> int:
    """A clock time (whole seconds since midnight) in ticks."""
    return int(seconds) * TICKS_PER_SECOND


@dataclass(frozen=True)
class _Objective:
    """How money and route figures become integer objective terms."""

    kind: str
    fleet: tuple[Vehicle, ...]

    def _rate(self, vehicle: Vehicle | None) -> float:
        """Money per objective unit at ``vehicle``'s rate (``None``: the fleet's mean rate)."""
        if self.kind == "duration":
            def own(v: Vehicle) -> float:
                return v.cost_per_hour / SECONDS_PER_HOUR / TICKS_PER_SECOND
            default = DEFAULT_RATE_PER_HOUR / SECONDS_PER_HOUR / TICKS_PER_SECOND
        else:
            def own(v: Vehicle) -> float:
                return v.cost_per_km / METRES_PER_KM / OBJECTIVE_UNITS_PER_METRE
            default = DEFAULT_RATE_PER_KM / METRES_PER_KM / OBJECTIVE_UNITS_PER_METRE
        if vehicle is not None and own(vehicle) > 0:
            return own(vehicle)
        positive = [own(v) for v in self.fleet if own(v) > 0]
        return sum(positive) / len(positive) if positive else default

    def money(self, amount: float, vehicle: Vehicle | None = None, *, cap: int = INT64_SAFE_MAX) -> int:
        """``amount`` of money in objective units (at ``vehicle``'s rate for ``duration``/``distance``)."""
        if amount <= 0:
            return 0
        if self.kind == "cost":
            return int(objective_units(amount, units_per_value=MONEY_UNITS, cap=cap))
        return int(objective_units(amount / self._rate(vehicle), units_per_value=1, cap=cap))

    def unit_costs(self, vehicle: Vehicle) -> tuple[int, int]:
        """``(unit_distance_cost, unit_duration_cost)`` of ``vehicle``: per decimetre and per tick."""
        if self.kind == "duration":
            return 0, 1
        if self.kind == "distance":
            return 1, 0
        per_dm = vehicle.cost_per_km / METRES_PER_KM / OBJECTIVE_UNITS_PER_METRE * MONEY_UNITS
        per_tick = vehicle.cost_per_hour / SECONDS_PER_HOUR / TICKS_PER_SECOND * MONEY_UNITS
        return (max(round(per_dm), 1 if per_dm > 0 else 0),
                max(round(per_tick), 1 if per_tick > 0 else 0))
