"""OSM access tags -> limits in SI units (kilograms, metres), one edge at a time.

:func:`edge_limits` reads an osmnx edge's tags into an :class:`EdgeLimits`; the tag
values are read as the decisions below say (docs/architecture.md, "Access").
"""

from __future__ import annotations

import ast
import contextlib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

#: tags kept on edges beyond osmnx's defaults: access restrictions for lorries (see
#: :func:`edge_limits` for which of them decide a vehicle's streets).
EXTRA_WAY_TAGS = ("maxweight", "maxweight:hgv", "maxweightrating", "maxweightrating:hgv",
                  "maxweight:conditional", "maxweightrating:conditional", "maxwidth", "maxwidth:physical",
                  "maxheight", "maxheight:physical", "maxlength", "hgv", "motor_vehicle", "goods",
                  "access")


# --- access restrictions: OSM tags -> limits in SI units ------------------------------------
#
# Decisions (docs/architecture.md, "Access"):
# * A limit tag gives the largest vehicle allowed: a vehicle *equal* to it may pass.
#   Bare numbers are tonnes (weights) and metres (sizes), as OSM defines them.
#   ``maxweightrating`` (a limit on the plated weight) is compared with the vehicle's
#   gross weight like ``maxweight``; ``maxweight:hgv`` binds heavy goods vehicles only;
#   ``maxwidth:physical``/``maxheight:physical`` (a real gap or bridge) bind as the legal
#   limits do.
# * ``none``, ``no``, ``default`` (the legal default, which every road-legal vehicle
#   meets) and values that cannot be read mean no limit; ``below_default`` means a limit
#   whose value is unknown (NaN), which closes the street to any vehicle whose size in
#   that dimension is given.
# * A ``;`` list or an osmnx list (a simplified edge merged from several ways) counts
#   its tightest limit: the edge as a whole contains that stretch.
# * ``maxweight:conditional`` / ``maxweightrating:conditional`` of ``none @ destination``
#   (or ``delivery``, ``access``: the UK "except for access") lift the weight limit: a
#   refuse lorry has business on every street it collects from. Only on an edge drawn
#   from one way; on a merged edge we cannot tell which stretch the exemption covers.
# * ``hgv`` closes a street to a heavy goods vehicle when it is ``no``, ``private``,
#   ``agricultural``, ``forestry``, ``emergency`` or ``military`` (a ``;`` list only when
#   every part does; a merged edge when any of its ways does). ``destination``,
#   ``delivery``, ``local``, ``unsuitable``, ``discouraged`` and the rest leave it open:
#   a refuse lorry serves those streets.
# * ``access``, ``vehicle``, ``motor_vehicle`` (and ``motorcar``) apply to every vehicle
#   alike and are osmnx's ``drive`` filter's business (it drops ``access=private``,
#   ``motor_vehicle=no``...), so every profile, unrestricted included, sees the same
#   streets there; ``goods`` (OSM: light goods vehicles up to 3.5 t) is kept on edges
#   but decides nothing, as no vehicle is described as a light goods vehicle.

#: no limit on an edge.
NO_LIMIT = math.inf
#: a limit OSM says exists but does not give (``below_default``).
UNKNOWN_LIMIT = math.nan

_KG_PER_UNIT = {"": 1000.0, "t": 1000.0, "to": 1000.0, "tonne": 1000.0, "tonnes": 1000.0, "kg": 1.0,
                "kgs": 1.0, "lb": 0.45359237, "lbs": 0.45359237, "st": 907.18474, "lt": 1016.0469088,
                "cwt": 50.80234544}
_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_WEIGHT = re.compile(rf"^{_NUMBER}\s*([a-z]*)\.?$")
_METRES = re.compile(rf"^{_NUMBER}\s*(m|metres?|meters?|cm)?$")
_FEET_INCHES = re.compile(rf"^(?:{_NUMBER}\s*(?:'|ft|feet|foot)\s*)?(?:{_NUMBER}\s*(?:\"|in|inch|inches)?)?$")
_UNKNOWN_WORDS = frozenset({"below_default"})
_HGV_FORBIDDING = frozenset({"no", "private", "agricultural", "forestry", "emergency", "military"})
_EXEMPT_CONDITIONS = frozenset({"destination", "delivery", "access", "except for access", "access only"})
_LIFTED_VALUES = frozenset({"none", "no"})


def _ways(value: object) -> list[str]:
    """The values of one edge's tag, one per OSM way: a plain value, or osmnx's list for
    an edge merged from several ways (also as GraphML text, ``"['7.5', '3']"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    items: list[object]
    if isinstance(value, list | tuple | set):
        items = list(value)
    else:
        text = str(value).strip()
        items = [text]
        if text.startswith("[") and text.endswith("]"):
            with contextlib.suppress(ValueError, SyntaxError):
                parsed = ast.literal_eval(text)
                if isinstance(parsed, list):
                    items = parsed
    return [str(item).strip() for item in items
            if item is not None and not (isinstance(item, float) and math.isnan(item)) and str(item).strip()]


def _parts(way_value: str) -> list[str]:
    """The parts of one way's ``;``-separated value, lower-cased."""
    return [part.strip().lower() for part in way_value.split(";") if part.strip()]


def _tightest(limits: Iterable[float]) -> float:
    """The smallest limit; unknown (NaN) if any is unknown; no limit if there is none."""
    values = list(limits)
    if any(math.isnan(v) for v in values):
        return UNKNOWN_LIMIT
    return min(values, default=NO_LIMIT)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _one_weight_kg(text: str) -> float:
    if text in _UNKNOWN_WORDS:
        return UNKNOWN_LIMIT
    match = _WEIGHT.match(text)
    factor = _KG_PER_UNIT.get(match.group(2)) if match else None
    if match is None or factor is None:
        return NO_LIMIT  # none, default, and text that names no weight
    return _number(match.group(1)) * factor


def _one_length_m(text: str) -> float:
    if text in _UNKNOWN_WORDS:
        return UNKNOWN_LIMIT
    text = (text.replace("’", "'").replace("′", "'").replace("″", '"').replace("”", '"')
            .replace("''", '"'))
    match = _METRES.match(text)
    if match:
        return _number(match.group(1)) * (0.01 if match.group(2) == "cm" else 1.0)
    match = _FEET_INCHES.match(text)
    if match and (match.group(1) or match.group(2)):
        feet = _number(match.group(1)) if match.group(1) else 0.0
        inches = _number(match.group(2)) if match.group(2) else 0.0
        return feet * 0.3048 + inches * 0.0254
    return NO_LIMIT  # none, default, and text that names no length


def parse_weight_kg(value: object) -> float:
    """A ``maxweight``-style tag value as kilograms: ``"7.5"`` (tonnes), ``"7.5 t"``,
    ``"3500 kg"``, ``"5 st"`` (short tons), ``"11000 lbs"``, lists (tightest).

    ``inf`` for no limit (absent, ``none``, ``default``, unreadable), NaN for
    ``below_default`` (a limit of unknown value).
    """
    return _tightest(_one_weight_kg(part) for way in _ways(value) for part in _parts(way))


def parse_length_m(value: object) -> float:
    """A ``maxwidth``/``maxheight``/``maxlength`` tag value as metres: ``"2.1"``,
    ``"2.1 m"``, ``"210 cm"``, ``"6'6\\""``, ``"6 ft 6 in"``, ``"13'"``, lists (tightest).

    ``inf`` for no limit (absent, ``none``, ``default``, unreadable), NaN for
    ``below_default`` (a limit of unknown value).
    """
    return _tightest(_one_length_m(part) for way in _ways(value) for part in _parts(way))


def hgv_forbidden(value: object) -> bool:
    """Whether an ``hgv`` tag value closes the street to heavy goods vehicles (see the
    decisions above: ``no``, ``private``..., not ``destination`` or ``delivery``)."""
    return any(parts and all(part in _HGV_FORBIDDING for part in parts)
               for parts in (_parts(way) for way in _ways(value)))


def _split_top_level(text: str) -> list[str]:
    """``a @ (x; y); b @ z`` -> ``["a @ (x; y)", "b @ z"]``: split at ``;`` outside brackets."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ";" and depth <= 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def exempts_service_vehicles(conditional: object) -> bool:
    """Whether a ``maxweight:conditional`` value lifts the limit for vehicles with
    business on the street (``none @ destination``, ``none @ (delivery)``...)."""
    ways = _ways(conditional)
    if len(ways) != 1:
        return False
    for rule in _split_top_level(ways[0]):
        value, at, condition = rule.partition("@")
        if at and value.strip().lower() in _LIFTED_VALUES \
                and condition.strip().strip("()").strip().lower() in _EXEMPT_CONDITIONS:
            return True
    return False


class EdgeLimits(NamedTuple):
    """One edge's access limits: kg for any vehicle and for a heavy goods vehicle (which
    ``maxweight:hgv`` also binds), metres of width, height and length (``inf`` none, NaN
    unknown), and whether ``hgv`` closes it to heavy goods vehicles."""

    maxweight_kg: float
    maxweight_hgv_kg: float
    maxwidth_m: float
    maxheight_m: float
    maxlength_m: float
    hgv_forbidden: bool


def edge_limits(tags: Mapping[str, Any]) -> EdgeLimits:
    """The access limits of an edge from its OSM tags (an osmnx edge's attributes)."""
    single_way = len(_ways(tags.get("osmid"))) <= 1  # osmid is a list on an edge merged from ways

    def weight(key: str) -> float:
        kg = parse_weight_kg(tags.get(key))
        if single_way and math.isfinite(kg) and exempts_service_vehicles(tags.get(f"{key}:conditional")):
            return NO_LIMIT
        return kg

    any_vehicle = _tightest([weight("maxweight"), weight("maxweightrating")])
    return EdgeLimits(
        maxweight_kg=any_vehicle,
        maxweight_hgv_kg=_tightest([any_vehicle, parse_weight_kg(tags.get("maxweight:hgv")),
                                    parse_weight_kg(tags.get("maxweightrating:hgv"))]),
        maxwidth_m=_tightest([parse_length_m(tags.get("maxwidth")), parse_length_m(tags.get("maxwidth:physical"))]),
        maxheight_m=_tightest([parse_length_m(tags.get("maxheight")),
                               parse_length_m(tags.get("maxheight:physical"))]),
        maxlength_m=parse_length_m(tags.get("maxlength")),
        hgv_forbidden=hgv_forbidden(tags.get("hgv")),
    )
