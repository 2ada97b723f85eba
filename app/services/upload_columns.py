"""Column names as councils write them -> the names the uploads read (case-insensitive aliases).

A header is first normalised (:func:`normalise`: lower case, spaces, hyphens and dots
as underscores, so ``"Bin Size"``, ``"BIN-SIZE"`` and ``"bin_size"`` are one name),
then looked up in the alias tables below. When a file has two columns for one name
(``ID`` and ``BIN_ID``), the one listed first is read and the other is kept as an
attribute. The tables are documented in ``docs/council_data.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SEPARATORS = re.compile(r"[\s\-./]+")

BIN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "bin_id", "property_id", "property_ref", "prop_ref"),
    "uprn": ("uprn", "property_uprn", "uprn_no"),
    "demand_kg": ("demand_kg", "weight_kg", "kg"),
    "volume_l": ("volume_l", "volume_litres", "litres"),
    "service_s": ("service_s", "lift_s", "lift_time_s"),
    "bin_size": ("bin_size", "bin_size_l", "bin_litres", "size", "size_l", "container_size",
                 "container_size_l", "container", "container_type", "bin_type", "bin"),
    "stream": ("stream", "waste_stream", "waste_type", "waste", "material"),
    "address": ("address", "full_address", "property_address", "single_line_address", "addr", "address_line"),
    "street": ("street", "street_name", "street_description", "street_descriptor", "road", "road_name",
               "thoroughfare"),
    "postcode": ("postcode", "post_code", "postal_code"),
    "frequency": ("frequency", "freq", "collection_frequency"),
    "day": ("day", "collection_day", "coll_day", "round_day"),
    "week": ("week", "collection_week", "week_no", "week_number", "wk"),
    "round": ("round", "round_name", "round_id", "round_ref", "crew_round"),
    "assisted": ("assisted", "assisted_collection", "assisted_lift", "assisted_lifts"),
    "notes": ("notes", "note", "comments", "comment", "crew_notes", "instructions"),
    "time_windows": ("time_windows", "time_window"),
    "required": ("required",),
    "penalty": ("penalty",),
    "vehicle": ("vehicle", "vehicle_id"),
    "max_vehicle_weight_kg": ("max_vehicle_weight_kg",),
    "max_vehicle_width_m": ("max_vehicle_width_m",),
}
"""Names a bins file's columns may have, by the name the upload reads."""

SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "site_id", "tip_id"), "unload_s": ("unload_s",), "opening": ("opening", "opening_hours"),
    "streams": ("streams", "stream", "waste_streams"),
}
"""Names a disposal sites file's columns may have."""

ROUND_ALIASES: dict[str, tuple[str, ...]] = {
    "round": ("round", "round_name", "round_id", "round_ref", "vehicle_id", "vehicle", "crew_round"),
    "sequence": ("sequence", "seq", "sequence_no", "order", "stop_order", "visit_order", "position"),
    "stop": ("bin_id", "stop", "uprn", "id", "property_uprn"),
    "day": ("day", "collection_day", "coll_day", "round_day"),
    "week": ("week", "collection_week", "week_no", "week_number", "wk"),
}
"""Names a today's-rounds file's columns may have (``stop``: a bin id or UPRN, a tip id or ``break``)."""


def normalise(header: str) -> str:
    """A header as the tables know it: ``" Bin Size "`` -> ``"bin_size"``."""
    return _SEPARATORS.sub("_", header.strip().lower()).strip("_")


def resolve(headers: Iterable[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised header -> the name it is read as, for the headers an alias table knows.

    Each name is given by at most one header: the one whose alias comes first.
    """
    present = set(headers)
    read_as: dict[str, str] = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in present and alias not in read_as:
                read_as[alias] = name
                break
    return read_as
