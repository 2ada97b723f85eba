"""Where each stop of a plan is, as a crew names it: street, address, house number, and the
few facts of a bin a crew needs (assisted collection, stream, bin size, UPRN).

A bin's street and address come from the bin as the planner gave it, when given: its
``street`` and ``address`` (top-level fields or attributes kept from an upload, matched
case-insensitively), the house number parsed from the address ("12A Burley Road, Oakham" ->
``12A`` on Burley Road). A bin without them is named by the street its stop lies on: the OSM
``name`` (else ``ref``) of the edge the stop snaps to (:func:`solver.directions.edge_names`).
Disposal sites and depots are named the same way from the street they stop on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.core.json_types import JSONObject, JSONValue
from app.schemas import DEFAULT_STREAM, VisitFeature

if TYPE_CHECKING:
    from solver.network import RoadNetwork

STREET_SNAP_LIMIT_M = 50.0
"""Farthest (metres) a stop may lie from a street and still be named after it; a stop of a plan
lies on its street, so only a plan drawn on another network comes near this."""

ATTRIBUTE_HOLDERS = ("attributes", "properties", "extra")
"""Fields of a bin that may hold the columns of an upload kept as they came, read in this order."""
STREET_NAMES = ("street", "street_name", "road", "street_description", "street_descriptor", "thoroughfare")
"""A bin's fields or attributes that name its street, first found first (AddressBase and LLPG exports
call it ``STREET_DESCRIPTION``, ``STREET_DESCRIPTOR`` or ``THOROUGHFARE``)."""
NUMBER_NAMES = ("house_number", "number", "building_number", "pao_start_number", "paon")
"""A bin's fields or attributes that give its house number (AddressBase: ``BUILDING_NUMBER``,
``PAO_START_NUMBER``; LLPG: ``PAON``)."""

_TRUE = frozenset({"1", "true", "yes", "y", "t", "x", "assisted"})
_NUMBER_STREET = re.compile(r"(?:^|,\s*|\s)(\d+[A-Za-z]?)(?:\s*-\s*\d+[A-Za-z]?)?,?\s+([^,\d][^,]*)")
"""A house number (``12``, ``12A``, ``12-14``: the first counts) followed by the street's name."""


@dataclass(frozen=True, slots=True)
class BinDetails:
    """What a crew reads about one bin: its ``address`` (``None`` when not given), ``street``
    (from the bin, else ``None`` until a street is found from the network), ``house_number``
    (``"12A"``; ``None`` when the address has none), whether collection is ``assisted``, its
    ``stream`` (the request's default when the bin names none), ``bin_size_l`` (litres; ``None``
    when not given) and ``uprn``."""

    address: str | None = None
    street: str | None = None
    house_number: str | None = None
    assisted: bool = False
    stream: str | None = None
    bin_size_l: float | None = None
    uprn: str | None = None


def parse_address(address: str) -> tuple[str | None, str | None]:
    """``(house number, street)`` read from an address line: ``"12A Burley Road, Oakham"`` ->
    ``("12A", "Burley Road")``, ``"Flat 2, 14 Mill Lane"`` -> ``("14", "Mill Lane")``; an
    address without a number gives ``(None, None)`` (its first part may be a house name)."""
    match = _NUMBER_STREET.search(address)
    if match is None:
        return None, None
    return match.group(1).upper(), match.group(2).strip() or None


def house_number_value(number: str | None) -> int | None:
    """The integer part of a house number (``"12A"`` -> 12), for ranges and odd/even sides."""
    if number is None:
        return None
    digits = re.match(r"\d+", number)
    return int(digits.group(0)) if digits else None


def _lookup(bin_body: Mapping[str, JSONValue], *names: str) -> JSONValue:
    """The first of ``names`` the bin carries, as a field or an attribute, matched case-insensitively."""
    fields = {str(k).casefold(): v for k, v in bin_body.items()}
    extra: dict[str, JSONValue] = {}
    for holder in ATTRIBUTE_HOLDERS:
        attributes = bin_body.get(holder)
        if isinstance(attributes, dict):
            extra.update({str(k).casefold(): v for k, v in attributes.items() if str(k).casefold() not in extra})
    for name in names:
        for source in (fields, extra):
            value = source.get(name)
            if value is not None and str(value).strip():
                return value
    return None


def _text(value: JSONValue) -> str | None:
    """A value as stripped text (``None`` when absent)."""
    return None if value is None else (str(value).strip() or None)


def _litres(value: JSONValue) -> float | None:
    """A bin size as litres: ``240``, ``"240"``, ``"240L"`` (``None`` when unreadable)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = _text(value)
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*l?\s*$", text or "", flags=re.IGNORECASE)
    return float(match.group(1)) if match else None


def bin_details(bin_body: Mapping[str, JSONValue]) -> BinDetails:
    """The crew's facts of one bin as posted (a bin of a problem body; attributes read when present)."""
    address = _text(_lookup(bin_body, "address", "full_address", "address_line"))
    number, parsed_street = parse_address(address) if address else (None, None)
    street = _text(_lookup(bin_body, *STREET_NAMES)) or parsed_street
    number = _text(_lookup(bin_body, *NUMBER_NAMES)) or number
    assisted = _lookup(bin_body, "assisted", "assisted_collection")
    return BinDetails(
        address=address, street=street, house_number=number.upper() if number else None,
        assisted=assisted is True or (isinstance(assisted, str) and assisted.strip().casefold() in _TRUE)
        or (isinstance(assisted, int | float) and not isinstance(assisted, bool) and assisted != 0),
        stream=_text(bin_body.get("stream")) or DEFAULT_STREAM,
        bin_size_l=_litres(_lookup(bin_body, "bin_size_l", "bin_size", "size")),
        uprn=_text(_lookup(bin_body, "uprn")))


def problem_bins(problem_body: JSONObject | None) -> dict[str, BinDetails]:
    """Each bin of a problem body (as stored with a plan) -> its details; ``{}`` without a body."""
    bins = (problem_body or {}).get("bins")
    if not isinstance(bins, list):
        return {}
    return {str(b["id"]): bin_details(b) for b in bins if isinstance(b, dict) and "id" in b}


def stop_lonlat(visit: VisitFeature) -> tuple[float, float]:
    """Where a stop of a plan is: ``(lon, lat)``."""
    lon, lat = visit.geometry.coordinates
    return float(lon), float(lat)


def streets_at(network: RoadNetwork, lonlat: Iterable[tuple[float, float]]) -> list[str | None]:
    """The street name at each point (lon, lat) of a plan's stops: the edge it snaps to
    (``None`` for a point farther than :data:`STREET_SNAP_LIMIT_M` from any street)."""
    from solver.directions import edge_names
    from solver.snapping import snap_points

    points = np.asarray(list(lonlat), dtype=float).reshape(-1, 2)
    if points.shape[0] == 0:
        return []
    snapped = snap_points(network, points, limit_m=STREET_SNAP_LIMIT_M,
                          reachable_components=np.unique(network.node_component).tolist())
    names = edge_names(network)
    return [str(names[e]) if e >= 0 else None for e in snapped.edge.tolist()]
