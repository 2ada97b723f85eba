"""Bin sizes -> the volume, weight and lift time a planner's bin gets, and waste streams by their names.

A gazetteer gives a bin's size (``240``, ``"240L"``, ``"1100 litre"``), rarely what it
weighs or how long it takes to lift. :data:`DEFAULT_BIN_SIZES` fills those in. The
weights and times are **planning defaults**, not measurements: about 0.07 kg per litre
of a full bin (a UK household residual bin), 25-35 s per wheeled bin (walk, lift, tip,
return) and 75-90 s for a four-wheeled bulk bin. A council overrides any row, or adds
sizes, with the upload's ``bin_sizes`` option (JSON); a file's own ``demand_kg``,
``volume_l`` or ``service_s`` cell wins over the table. See ``docs/council_data.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError


@dataclass(frozen=True, slots=True)
class BinSize:
    """What one bin of a size holds and costs: litres, kg when full, seconds to lift."""

    volume_l: float
    demand_kg: float
    service_s: float


DEFAULT_BIN_SIZES: dict[int, BinSize] = {
    140: BinSize(140.0, 10.0, 25.0),
    180: BinSize(180.0, 13.0, 25.0),
    240: BinSize(240.0, 17.0, 30.0),
    360: BinSize(360.0, 25.0, 35.0),
    660: BinSize(660.0, 45.0, 75.0),
    1100: BinSize(1100.0, 75.0, 90.0),
}
"""Bin size (litres) -> volume (litres), weight (kg) and lift time (seconds); planning defaults."""

_SIZE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(l|lt|ltr|ltrs|litre|litres|liter|liters)?\b", re.IGNORECASE)

STREAM_ALIASES: dict[str, tuple[str, ...]] = {
    "refuse": ("refuse", "residual", "general", "general waste", "rubbish", "household waste", "domestic",
               "black bin", "grey bin", "landfill"),
    "recycling": ("recycling", "dry recycling", "mixed recycling", "co mingled", "comingled", "dmr"),
    "garden": ("garden", "garden waste", "green", "green waste"),
    "food": ("food", "food waste", "kitchen waste"),
    "glass": ("glass",),
    "paper": ("paper", "paper and card", "card", "cardboard"),
}
"""Waste streams the uploads know, and the names councils give them (case and spacing ignored)."""


class _SizeOverride(BaseModel):
    """One row of a council's ``bin_sizes`` option; what it leaves out comes from the default."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    volume_l: float | None = Field(default=None, ge=0.0)
    demand_kg: float | None = Field(default=None, ge=0.0)
    service_s: float | None = Field(default=None, ge=0.0)


def parse_size(value: object) -> int | None:
    """A size in litres from a cell: ``240``, ``"240L"``, ``"1100 litre"`` -> 240, 1100; ``None`` if none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else None
    match = _SIZE_TEXT.match(str(value))
    if match is None:
        return None
    number = float(match.group(1))
    return int(number) if number.is_integer() else None


def size_table(option: str | None) -> dict[int, BinSize]:
    """The defaults with a council's ``bin_sizes`` option (JSON ``{"240": {"demand_kg": 22}, ...}``) laid over.

    Raises :class:`ValueError` naming the wrong size or figure.
    """
    table = dict(DEFAULT_BIN_SIZES)
    if not option or not option.strip():
        return table
    try:
        document = json.loads(option)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bin_sizes is not JSON ({exc.msg}, column {exc.colno})") from exc
    if not isinstance(document, dict):
        raise ValueError('bin_sizes must be an object: {"240": {"volume_l": 240, "demand_kg": 20, "service_s": 30}}')
    for key, figures in document.items():
        size = parse_size(key)
        if size is None or size <= 0:
            raise ValueError(f"bin_sizes: {key!r} is not a size in whole litres")
        try:
            override = _SizeOverride.model_validate(figures)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"bin_sizes[{key!r}]{'.' + where if where else ''}: {first['msg']}") from exc
        base = table.get(size)
        if base is None:
            if override.demand_kg is None or override.service_s is None:
                raise ValueError(f"bin_sizes: the new size {key!r} needs demand_kg and service_s")
            base = BinSize(float(size), override.demand_kg, override.service_s)
        table[size] = BinSize(
            volume_l=base.volume_l if override.volume_l is None else override.volume_l,
            demand_kg=base.demand_kg if override.demand_kg is None else override.demand_kg,
            service_s=base.service_s if override.service_s is None else override.service_s,
        )
    return table


def _stream_key(name: str) -> str:
    """A stream name with case, underscores, hyphens and repeated spaces ignored."""
    return " ".join(re.split(r"[\s_\-]+", name.strip().lower()))


def stream_names(extra: Iterable[str] = ()) -> dict[str, str]:
    """Every accepted stream name (as :func:`_stream_key` writes it) -> the stream it names.

    ``extra`` are a council's own streams (the upload's ``streams`` option), taken as they are.
    """
    names = {_stream_key(alias): stream for stream, aliases in STREAM_ALIASES.items() for alias in aliases}
    names.update({_stream_key(name): name.strip() for name in extra if name.strip()})
    return names


def canonical_stream(value: str, names: Mapping[str, str]) -> str | None:
    """The stream a cell names (``"Dry Recycling"`` -> ``"recycling"``), or ``None`` if unknown."""
    return names.get(_stream_key(value))
