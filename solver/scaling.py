"""The one place where float figures become the integers an integer solver needs.

Engines such as OR-Tools routing work in ``int64``. Every conversion goes through
this module so the rounding rules are stated once:

- demands: grams (:data:`~solver.units.GRAMS_PER_KG`), rounded **up**; volumes: millilitres
  (:data:`~solver.units.MILLILITRES_PER_LITRE`), rounded **up**;
- capacities: grams (millilitres), rounded **down**;
- travel, service, unload and break times: whole seconds, rounded **up**;
- the latest allowed start of a window (a bin's, a site's opening hours, a break's):
  whole seconds, rounded **down**; the earliest, rounded **up**.

With these rules a plan that is feasible in integers is feasible in floats too:
the integer load on board is never less than the true load and the integer
capacity never more than the true capacity; integer clock times are never
earlier than the true ones. Before rounding, a value within a relative
:data:`SNAP_REL` of an integer is taken as that integer, so that float noise
(``16.01 kg * 1000 = 16010.000000000002 g``) does not cost a whole unit. That snap
can make an integer figure smaller than the float one by at most ``SNAP_REL`` of
its size; the evaluator's tolerances (:data:`LOAD_TOLERANCE_KG`,
:data:`TIME_TOLERANCE_S`) are far larger than that for any real vehicle (below
500 t of payload and two days of shift).

Objective terms (what the engine minimises, not what it must respect) round to
the nearest unit, in finer units (:data:`OBJECTIVE_UNITS_PER_SECOND`,
:data:`OBJECTIVE_UNITS_PER_METRE`, :data:`OBJECTIVE_UNITS_PER_MONEY`) so that short
legs between neighbouring bins keep their relative lengths.

:data:`INT64_SAFE_MAX` is the bound every engine keeps its sums below, so that
no sum of costs or penalties can overflow ``int64`` (about ``9.2e18``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver.units import GRAMS_PER_KG, MILLILITRES_PER_LITRE

OBJECTIVE_UNITS_PER_SECOND = 10
"""Objective units per second of travel (deciseconds) when minimising duration."""

OBJECTIVE_UNITS_PER_METRE = 10
"""Objective units per metre driven (decimetres) when minimising distance."""

OBJECTIVE_UNITS_PER_MONEY = 36_000
"""Objective units per unit of money when minimising cost: a whole number per second at
any whole ``cost_per_hour`` (30/h is 300 units/s) and per metre at any whole
``cost_per_km`` (1/km is 36 units/m)."""

SNAP_REL = 1e-9
"""Relative distance to an integer below which a scaled value counts as that integer."""

INT64_SAFE_MAX = 2**62
"""Upper bound for any integer an engine hands to the solver, sums included."""

LOAD_TOLERANCE_KG = 1e-3
"""The evaluator flags an overload only when the load exceeds capacity by more than this (1 g)."""

TIME_TOLERANCE_S = 1e-3
"""The evaluator flags a time violation only when it is later than allowed by more than this."""

DEFAULT_RATE_PER_HOUR = 30.0
"""Money per hour that weighs money (fixed costs, penalties) against time when no vehicle has a
per-hour cost; every engine uses this one rate."""

DEFAULT_RATE_PER_KM = 1.0
"""Money per km that weighs money against distance when no vehicle has a per-km cost."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _snapped(values: npt.ArrayLike) -> FloatArray:
    """``values`` as float64, with entries within ``SNAP_REL`` (relative) of an integer set to it."""
    a = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        nearest = np.rint(a)
        close = np.abs(a - nearest) <= SNAP_REL * np.maximum(1.0, np.abs(a))
    return np.where(close, nearest, a)


def _to_int(a: FloatArray, *, cap: int) -> IntArray:
    """Float array of whole numbers to int64, with non-finite or too-large entries set to ``cap``."""
    bounded = np.where(np.isfinite(a) & (a <= cap), a, float(cap))
    return np.maximum(bounded, 0.0).astype(np.int64)


def grams_up(kg: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Demands in kg to whole grams, rounded up (capped at ``cap``, never negative)."""
    return _to_int(np.ceil(_snapped(np.asarray(kg, dtype=np.float64) * GRAMS_PER_KG)), cap=cap)


def grams_down(kg: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Capacities in kg to whole grams, rounded down (capped at ``cap``, never negative)."""
    return _to_int(np.floor(_snapped(np.asarray(kg, dtype=np.float64) * GRAMS_PER_KG)), cap=cap)


def millilitres_up(litres: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Volumes in litres to whole millilitres, rounded up (capped at ``cap``, never negative)."""
    return _to_int(np.ceil(_snapped(np.asarray(litres, dtype=np.float64) * MILLILITRES_PER_LITRE)), cap=cap)


def millilitres_down(litres: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Body volumes in litres to whole millilitres, rounded down (capped at ``cap``, never negative)."""
    return _to_int(np.floor(_snapped(np.asarray(litres, dtype=np.float64) * MILLILITRES_PER_LITRE)), cap=cap)


def seconds_up(seconds: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Durations in seconds to whole seconds, rounded up.

    ``inf`` (no path) and anything above ``cap`` become ``cap``: callers pass a cap
    beyond every shift so that such an arc can never be driven.
    """
    return _to_int(np.ceil(_snapped(seconds)), cap=cap)


def seconds_down(seconds: npt.ArrayLike, *, cap: int = INT64_SAFE_MAX) -> IntArray:
    """Latest allowed times in seconds to whole seconds, rounded down (``inf`` becomes ``cap``)."""
    return _to_int(np.floor(_snapped(seconds)), cap=cap)


def objective_units(values: npt.ArrayLike, *, units_per_value: float,
                    cap: int = INT64_SAFE_MAX) -> IntArray:
    """Objective figures (seconds or metres) to integer objective units, rounded to nearest.

    ``units_per_value`` is :data:`OBJECTIVE_UNITS_PER_SECOND`,
    :data:`OBJECTIVE_UNITS_PER_METRE` or :data:`OBJECTIVE_UNITS_PER_MONEY`; ``inf`` and
    values above ``cap`` become ``cap``.
    """
    scaled = np.asarray(values, dtype=np.float64) * units_per_value
    return _to_int(np.rint(scaled), cap=cap)


def objective_units_per_value(objective: str) -> int:
    """Objective units per second (``"duration"``), per metre (``"distance"``) or per unit of
    money (``"cost"``)."""
    if objective == "duration":
        return OBJECTIVE_UNITS_PER_SECOND
    if objective == "distance":
        return OBJECTIVE_UNITS_PER_METRE
    if objective == "cost":
        return OBJECTIVE_UNITS_PER_MONEY
    raise ValueError(f"options.objective must be 'duration', 'distance' or 'cost', got {objective!r}")
