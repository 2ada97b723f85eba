"""Unit conversions, defined once: the solver works in metres, seconds, kilograms and
litres (integers of grams and millilitres inside the models), and reports kilometres,
hours and minutes.

The factors are exact integers, so dividing by one gives the same float as dividing by
its float form, and clock arithmetic on whole seconds stays in integers.
"""

from __future__ import annotations

METRES_PER_KM = 1000
"""Metres in a kilometre."""

SECONDS_PER_MINUTE = 60
"""Seconds in a minute."""

SECONDS_PER_HOUR = 3600
"""Seconds in an hour."""

MINUTES_PER_HOUR = 60
"""Minutes in an hour."""

SECONDS_PER_DAY = 86_400
"""Seconds in a day."""

GRAMS_PER_KG = 1000
"""Grams in a kilogram (the models' load unit)."""

MILLILITRES_PER_LITRE = 1000
"""Millilitres in a litre (the models' volume unit)."""

KPH_PER_MPS = 3.6
"""Kilometres per hour in one metre per second."""


def kph_to_mps(kph: float) -> float:
    """A speed in km/h as metres per second."""
    return kph / KPH_PER_MPS


def mps_to_kph(mps: float) -> float:
    """A speed in metres per second as km/h."""
    return mps * KPH_PER_MPS
