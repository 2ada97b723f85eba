"""Building blocks shared by the request and response models: ids, coordinates, clock times, money.

Global rules, stated once (see ``API.md``): coordinates are ``lon``/``lat`` in WGS84
degrees; clock times are ``"HH:MM"`` strings on the plan's day; ids are strings.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
"""``"HH:MM"``, 00:00 to 23:59."""

_CLOCK_RE = re.compile(CLOCK_PATTERN)

OSM_ATTRIBUTION = "Road data © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"


def _check_clock(value: str) -> str:
    """Refuse anything but "HH:MM" from 00:00 to 23:59."""
    if not _CLOCK_RE.fullmatch(value):
        raise PydanticCustomError(
            "clock_format", 'expected a clock time "HH:MM" between 00:00 and 23:59, got {value!r}',
            {"value": value},
        )
    return value


def _check_not_blank(value: str) -> str:
    """Refuse ids made of whitespace only."""
    if not value.strip():
        raise PydanticCustomError("blank_id", "an id must not be blank")
    return value


Clock = Annotated[
    str,
    AfterValidator(_check_clock),
    Field(json_schema_extra={"pattern": CLOCK_PATTERN}, examples=["06:00"]),
]
"""A time of day as ``"HH:MM"``."""

Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_check_not_blank)]
"""A non-blank identifier."""

Stream = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_not_blank)]
"""A waste stream's name (``"refuse"``, ``"recycling"``, ...)."""

HighwayValue = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_not_blank)]
"""An OpenStreetMap ``highway`` value (``"primary"``, ``"trunk_link"``, ...)."""

Lon = Annotated[float, Field(ge=-180.0, le=180.0, description="Longitude, WGS84 degrees.")]
Lat = Annotated[float, Field(ge=-90.0, le=90.0, description="Latitude, WGS84 degrees.")]
NonNegative = Annotated[float, Field(ge=0.0)]

MAX_MONEY = 1e9
"""Largest cost, rate or penalty accepted (money units); more would overflow the engines' integer costs."""

Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]

MAX_LIFTS = 1_000_000
"""Largest lift limit accepted per vehicle and shift."""
