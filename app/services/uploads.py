"""Planners' files of bins, vehicles, tips and today's rounds -> API models.

Files are CSV, GeoJSON, GeoPackage or zipped Shapefile (:mod:`app.services.upload_formats`);
positions are lon/lat, British National Grid or a CRS the file or the request names
(:mod:`app.services.upload_coordinates`). Every fault names where it is, as a planner's
spreadsheet shows it: the **row** (the line of the CSV file, the header being row 1;
elsewhere the feature's number, from 1) and the **column** as the file writes it, plus
the id of the bin or vehicle when the row has one. All faults of a file are found
(:class:`UploadError`) and nothing of a wrong file is answered.

Bins (``docs/council_data.md``): column names are matched case-insensitively with the
aliases of :data:`app.services.upload_columns.BIN_ALIASES` (``UPRN`` is the id when there
is no ``id``); a ``bin_size`` gives the volume, weight and lift time from
:mod:`app.services.bin_sizes`; streams are named as councils name them; ``address``,
``street``, ``uprn``, ``postcode``, ``frequency``, ``day``, ``week``, ``round``,
``assisted``, ``notes``, ``bin_size`` and every column the upload does not read are kept
in the bin's ``attributes``.

Other files use the API's field names with these spreadsheet-friendly forms; columns they do
not read are kept, by the names the file writes, in the tip's or vehicle's ``attributes``:

- bins: ``time_windows`` as ``07:00-10:00`` or several joined by ``|``.
- vehicles: ``shift_start``/``shift_end`` (``HH:MM``), ``streams`` joined by ``|``,
  ``break_duration_s`` with ``break_start``/``break_end`` (the window the break may
  start in); optionally ``depot_lon``/``depot_lat`` to declare the depot (elsewhere:
  the Point).
- disposal sites (tips): ``id``, a position, ``unload_s``, ``opening`` as
  ``06:00-18:00``, ``streams`` joined by ``|``.
- today's rounds (CSV, as in-cab systems export them): ``round``, ``sequence`` and the
  stop (``bin_id``, ``uprn`` or ``stop``: a bin, a disposal-site id or ``break``),
  optionally ``day`` and ``week`` (then one day and week is chosen).

Empty cells take the API's defaults. Units as everywhere: kg, litres, seconds, metres.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.schemas import BinIn, DepotIn, DisposalSiteIn, RouteIn, VehicleIn
from app.services.bin_sizes import BinSize, canonical_stream, parse_size, size_table, stream_names
from app.services.upload_columns import BIN_ALIASES, ROUND_ALIASES, SITE_ALIASES, resolve
from app.services.upload_coordinates import Kind, Placement, PlacementError, find_columns, parse_crs, place
from app.services.upload_faults import MAX_ROW_ITEMS, Record, UploadError, UploadErrorItem, UploadFault
from app.services.upload_formats import Table, detect_format, read_table

__all__ = ["MAX_ROW_ITEMS", "BinsRead", "RoundsRead", "SitesRead", "UploadError", "UploadErrorItem", "UploadFault",
           "detect_format", "read_bins", "read_bins_file", "read_rounds", "read_rounds_file", "read_sites",
           "read_sites_file", "read_vehicles"]

Model = TypeVar("Model", bound=BaseModel)

LIST_SEPARATOR = "|"
"""Joins several values in one cell: time windows, streams."""

BIN_ATTRIBUTES = ("uprn", "address", "street", "postcode", "frequency", "day", "week", "round", "notes")
"""Columns a bins file may have that are kept, under these names, in the bin's ``attributes``."""

TRUE_WORDS = frozenset({"y", "yes", "true", "1", "t"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "f"})

BREAK_STOP = "break"

MISSPELT_CUTOFF = 0.8
"""How like a field's name (difflib's ratio, 0..1) a column of a vehicles or tips file must be to be
taken for a misspelling of it (``capacty_kg``, ``shift_strat``) rather than a column of the council's own."""


# --------------------------------------------------------------------------- cells to fields


def _clock_pair(text: str, *, record: Record, column: str) -> list[str] | None:
    """``"07:00-10:00"`` -> ``["07:00", "10:00"]``; notes a fault and gives ``None`` otherwise."""
    parts = [part.strip() for part in text.split("-")]
    if len(parts) != 2 or not all(parts):
        record.fault(column, f'expected a window "HH:MM-HH:MM", got {text!r}', "window_format")
        return None
    return parts


def _window(value: Any, record: Record, column: str) -> Any:
    """One window from ``"06:00-18:00"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    return _clock_pair(value, record=record, column=column)


def _windows(value: Any, record: Record, column: str) -> Any:
    """Time windows from ``"07:00-10:00|13:00-15:00"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    windows = [_clock_pair(part, record=record, column=column) for part in value.split(LIST_SEPARATOR)]
    return [w for w in windows if w is not None]


def _names(value: Any, record: Record, column: str) -> Any:
    """A list of names from ``"refuse|recycling"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _number(value: Any, record: Record, column: str) -> Any:
    """A finite number, or the cell unchanged for pydantic to refuse with its own words."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if not math.isfinite(number):
        record.fault(column, f"must be a finite number, got {value!r}", "finite_number")
    return number


def _flag(value: Any, record: Record, column: str) -> bool | None:
    """``Y``/``yes``/``true``/``1`` -> True, ``N``/``no``/``false``/``0`` -> False; a fault otherwise."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    record.fault(column, f"expected yes or no (Y/N, true/false, 1/0), got {value!r}", "bool_parsing")
    return None


Converter = Callable[[Any, Record, str], Any]

BIN_CONVERTERS: dict[str, Converter] = {"time_windows": _windows}
"""How a bins file's cell becomes a field value, where it is not as it is."""

SITE_COLUMNS: dict[str, Converter | None] = {
    "id": None, "unload_s": None, "opening": _window, "streams": _names,
}
"""Columns of a disposal sites file besides its position (``opening`` as ``06:00-18:00``)."""

VEHICLE_COLUMNS: dict[str, Converter | None] = {
    "id": None, "depot": None, "capacity_kg": None, "capacity_l": None, "shift_start": None, "shift_end": None,
    "streams": _names, "break_duration_s": None, "break_start": None, "break_end": None, "fixed_cost": None,
    "cost_per_km": None, "cost_per_hour": None, "max_lifts": None, "max_collected_kg": None,
    "tip_before_return": None, "gross_weight_kg": None, "width_m": None, "height_m": None, "length_m": None,
    "hgv": None, "depot_lon": _number, "depot_lat": _number,
}
"""Columns of a vehicles file."""

VEHICLE_FIELD_COLUMNS: dict[tuple[str | int, ...], str] = {
    ("shift", 0): "shift_start", ("shift", 1): "shift_end", ("shift",): "shift_start",
    ("break", "duration_s"): "break_duration_s", ("break", "window", 0): "break_start",
    ("break", "window", 1): "break_end", ("break", "window"): "break_start", ("break",): "break_duration_s",
}
"""Where pydantic's error locations of a vehicle's composite fields point in the file."""


# --------------------------------------------------------------------------- shared steps


def _keys(records: Sequence[Record]) -> list[str]:
    """Every (normalised) column of a file, in the order first met."""
    return list(dict.fromkeys(key for record in records for key in (*record.headers, *record.cells)))


def _kept_columns(record: Record, known: Iterable[str]) -> dict[str, Any]:
    """The record's cells under columns the kind of file does not read, by the names the file writes:
    kept as the item's ``attributes`` (a fleet list carries registrations, makes, crews: never a fault).

    A column named nearly as a field (``capacty_kg``) is a fault instead, naming the field meant:
    kept quietly, the typo would leave the field at its default.
    """
    allowed = set(known)
    kept: dict[str, Any] = {}
    for column, value in record.cells.items():
        if column in allowed or value is None:
            continue
        written = record.headers.get(column, column)
        meant = difflib.get_close_matches(column, allowed, n=1, cutoff=MISSPELT_CUTOFF)
        if meant:
            record.fault(written, f"unknown column {written!r}: did you mean {meant[0]!r}? (columns named "
                                  "unlike any field are kept as attributes)", "misspelt_column")
        else:
            kept[written] = value
    return kept


def _validate(model: type[Model], data: dict[str, Any], record: Record,
              column_of: Callable[[tuple[str | int, ...]], str | None]) -> Model | None:
    """``model`` built from ``data``, or ``None`` with the record's faults noted (with the cell's value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        told: set[str | None] = set()
        for error in exc.errors():
            loc = tuple(error["loc"])
            column = column_of(loc)
            if column in told:
                continue  # a union (an attribute: text, number or yes/no) fails once per member: tell it once
            told.add(column)
            value = data.get(str(loc[0])) if loc and len(loc) == 1 else None
            msg = "a value is required" if error["type"] == "missing" else _message(error)
            got = f", got {value!r}" if value is not None and "got " not in msg and error["type"] != "missing" else ""
            record.fault(column, f"{msg}{got}", str(error["type"]))
        return None


def _message(error: ErrorDetails) -> str:
    """pydantic's message, with any ``{name!r}`` its template left unfilled filled from the context."""
    msg = str(error["msg"])
    for name, value in (error.get("ctx") or {}).items():
        msg = msg.replace(f"{{{name}!r}}", repr(value))
    return msg


def _raise_faults(records: Iterable[Record], fmt: str, extra: Iterable[UploadFault] = ()) -> None:
    """Raise :class:`UploadError` if any record (or ``extra``) has a fault (each told once)."""
    faults = list(dict.fromkeys([fault for record in records for fault in record.faults] + list(extra)))
    if faults:
        raise UploadError(faults, fmt=fmt)


def _duplicate_ids(records: Iterable[Record], *, what: str, column: str = "id") -> list[UploadFault]:
    """A fault for every row repeating an earlier row's id."""
    seen: dict[str, int] = {}
    faults = []
    for record in records:
        item_id = record.item_id
        if item_id is None:
            continue
        if item_id in seen:
            faults.append(UploadFault(record.row, column, item_id,
                                      f"duplicate {what} {item_id!r}: row {seen[item_id]} has it already",
                                      "duplicate_id"))
        else:
            seen[item_id] = record.row
    return faults


def _options_fault(column: str, msg: str) -> UploadError:
    """A wrong request option (``crs``, ``bin_sizes``, ``streams``, ``day``...) as an error."""
    return UploadError([UploadFault(None, column, None, msg, "option")], fmt="csv")


def _placed(table: Table, request_crs: str | None) -> Placement:
    """Every record's ``lon``/``lat`` from its geometry or its coordinate columns (see :func:`place`)."""
    records = table.records
    try:
        if table.has_geometry and any(record.point is not None for record in records):
            return place(records, columns=None, kind="either", request_crs=request_crs, file_crs=table.crs)
        headers = {key: name for record in records for key, name in record.headers.items()}
        columns, kind = find_columns(list(headers), headers)
        return place(records, columns=columns, kind=kind, request_crs=request_crs, file_crs=table.crs)
    except PlacementError as exc:
        raise UploadError([exc.fault], fmt=table.fmt) from exc


def _request_crs(crs: str | None) -> str | None:
    """The request's ``crs`` option, checked."""
    try:
        return parse_crs(crs)
    except PlacementError as exc:
        raise UploadError([exc.fault], fmt="csv") from exc


def _streams(extra: str | None) -> dict[str, str]:
    """Accepted stream names: the known ones and a council's own (``streams`` option, joined by ``,`` or ``|``)."""
    names = [part for chunk in (extra or "").split(",") for part in chunk.split(LIST_SEPARATOR)]
    return stream_names(names)


def _stream(value: Any, names: Mapping[str, str], record: Record, column: str) -> str | None:
    """The stream a cell names, or ``None`` with a fault listing the known streams."""
    stream = canonical_stream(str(value), names)
    if stream is None:
        known = ", ".join(sorted(set(names.values())))
        record.fault(column, f"unknown stream {value!r}; known streams: {known} (and their usual names, see "
                             "docs/council_data.md); name a council's own with the streams option", "unknown_stream")
    return stream


def _converted(record: Record, columns: Mapping[str, Converter | None], streams: Mapping[str, str]) -> dict[str, Any]:
    """The record's cells under ``columns`` after each column's converter, with ``streams`` named as known."""
    values: dict[str, Any] = {}
    for column, value in record.cells.items():
        if column in columns:
            convert = columns[column]
            values[column] = convert(value, record, column) if convert is not None else value
    if isinstance(values.get("streams"), list):
        values["streams"] = [_stream(s, streams, record, "streams") for s in values["streams"]]
    return values


# --------------------------------------------------------------------------- bins


@dataclass(frozen=True, slots=True)
class BinsRead:
    """Bins read from a file and how their positions were read."""

    bins: list[BinIn]
    crs: str
    coordinate_columns: list[str]


def _bin_size(value: Any, sizes: Mapping[int, BinSize], record: Record, column: str) -> tuple[int, BinSize] | None:
    """The size a cell names and its row of the table, or ``None`` with a fault."""
    size = parse_size(value)
    if size is None or size not in sizes:
        known = ", ".join(str(s) for s in sorted(sizes))
        record.fault(column, f"unknown bin size {value!r}: known sizes (litres) are {known}; add one with the "
                             "bin_sizes option", "unknown_bin_size")
        return None
    return size, sizes[size]


def _bin_data(record: Record, read_as: Mapping[str, str], skip: set[str], sizes: Mapping[int, BinSize],
              streams: Mapping[str, str]) -> dict[str, Any]:
    """A ``BinIn`` body from a row: the fields it reads, the table's figures, the rest as attributes."""
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    header = record.headers.get
    for key, value in record.cells.items():
        if key in skip:
            continue
        name = read_as.get(key)
        column = header(key, key)
        if name is None:
            attributes[column] = value
        elif name in BIN_ATTRIBUTES:
            attributes[name] = str(value) if name == "uprn" else value
        elif name == "bin_size":
            sized = _bin_size(value, sizes, record, column)
            if sized is not None:
                size, figures = sized
                attributes["bin_size"] = size
                for field in ("volume_l", "demand_kg", "service_s"):
                    data.setdefault(field, getattr(figures, field))
        elif name == "stream":
            data["stream"] = _stream(value, streams, record, column)
        elif name == "assisted":
            flag = _flag(value, record, column)
            if flag is not None:
                attributes["assisted"] = flag
        elif name == "id":
            continue  # set below, from record.item_id
        else:
            convert = BIN_CONVERTERS.get(name)
            data[name] = convert(value, record, column) if convert is not None else value
    for field in ("volume_l", "demand_kg", "service_s"):  # a row's own figure wins over the table's
        own = next((k for k, n in read_as.items() if n == field and k in record.cells), None)
        if own is not None:
            data[field] = record.cells[own]
    data["id"] = record.item_id
    data["lon"], data["lat"] = record.cells.get("lon", 0.0), record.cells.get("lat", 0.0)
    if attributes:
        data["attributes"] = attributes
    return data


def read_bins(content: bytes, *, filename: str | None = None, crs: str | None = None,
              bin_sizes: str | None = None, streams: str | None = None) -> list[BinIn]:
    """Bins from a council's file (see :func:`read_bins_file`)."""
    return read_bins_file(content, filename=filename, crs=crs, bin_sizes=bin_sizes, streams=streams).bins


def read_bins_file(content: bytes, *, filename: str | None = None, crs: str | None = None,
                   bin_sizes: str | None = None, streams: str | None = None) -> BinsRead:
    """Bins from a council's file; raises :class:`UploadError` listing every fault (capped in the answer).

    ``crs`` names the CRS of the positions (else the columns' names, the file's own and
    the values tell), ``bin_sizes`` is JSON laid over the size table, ``streams`` names a
    council's own streams (joined by ``,``).
    """
    request_crs = _request_crs(crs)
    try:
        sizes = size_table(bin_sizes)
    except ValueError as exc:
        raise _options_fault("bin_sizes", str(exc)) from exc
    names = _streams(streams)
    table = read_table(content, filename=filename)
    records = table.records
    read_as = resolve(_keys(records), BIN_ALIASES)
    id_key = next((k for k, n in read_as.items() if n == "id"), None)
    uprn_key = next((k for k, n in read_as.items() if n == "uprn"), None)
    for record in records:  # the id first, so that every fault names it
        source = id_key if id_key in record.cells else uprn_key
        record.cells["id"] = record.cells.get(source) if source is not None else None
        if record.cells["id"] is None:
            del record.cells["id"]
        elif isinstance(record.cells["id"], float) and record.cells["id"].is_integer():
            record.cells["id"] = int(record.cells["id"])  # a UPRN stored as a real number
    if id_key is None and uprn_key is None:
        raise UploadError([UploadFault(None, "id", None, "no id column: expected id or UPRN "
                                       "(see docs/council_data.md for the names accepted)", "missing")],
                          fmt=table.fmt)
    placement = _placed(table, request_crs)
    skip = set(placement.columns) | {"lon", "lat", "id"} | ({id_key} if id_key else set())
    written = {key: name for record in records for key, name in record.headers.items()}  # GeoJSON: per feature
    field_columns = {name: written.get(key, key) for key, name in read_as.items()}
    x_column, y_column = (written.get(c, c) for c in placement.columns) if placement.columns else ("geometry",) * 2
    field_columns.update({"lon": x_column, "lat": y_column,
                          "id": field_columns.get("id", field_columns.get("uprn", "id"))})

    def column_of(loc: tuple[str | int, ...]) -> str | None:
        if not loc:
            return None
        if loc[0] == "attributes" and len(loc) > 1:
            return field_columns.get(str(loc[1]), str(loc[1]))
        return field_columns.get(str(loc[0]), str(loc[0]))

    bins = []
    for record in records:
        had_faults = bool(record.faults)
        data = _bin_data(record, read_as, skip, sizes, names)
        if "demand_kg" not in data and "bin_size" not in read_as.values():
            record.fault(field_columns.get("demand_kg", "demand_kg"),
                         "a value is required: a demand_kg (kg) or a bin_size column", "missing")
            continue
        if had_faults or record.faults:
            continue  # the row's faults are told; building it would only repeat them
        built = _validate(BinIn, data, record, column_of)
        if built is not None:
            bins.append(built)
    what = "bin id" if id_key is not None else "UPRN"
    _raise_faults(records, table.fmt, _duplicate_ids(records, what=what, column=field_columns["id"]))
    return BinsRead(bins, placement.crs, [written.get(c, c) for c in placement.columns])


# --------------------------------------------------------------------------- sites and vehicles


@dataclass(frozen=True, slots=True)
class SitesRead:
    """Disposal sites read from a file and how their positions were read."""

    sites: list[DisposalSiteIn]
    crs: str


def read_sites(content: bytes, *, filename: str | None = None, crs: str | None = None,
               streams: str | None = None) -> list[DisposalSiteIn]:
    """Disposal sites (tips) from a file (see :func:`read_sites_file`)."""
    return read_sites_file(content, filename=filename, crs=crs, streams=streams).sites


def read_sites_file(content: bytes, *, filename: str | None = None, crs: str | None = None,
                    streams: str | None = None) -> SitesRead:
    """Disposal sites (tips) from a file; raises :class:`UploadError` listing every wrong cell."""
    request_crs = _request_crs(crs)
    names = _streams(streams)
    table = read_table(content, filename=filename)
    records = table.records
    read_as = resolve(_keys(records), SITE_ALIASES)
    for record in records:
        for key, name in read_as.items():
            if key != name and key in record.cells:
                record.cells.setdefault(name, record.cells.pop(key))
                record.headers = {**record.headers, name: record.headers.get(key, key)}
    placement = _placed(table, request_crs)
    sites = []
    for record in records:
        values = _converted(record, SITE_COLUMNS, names)
        values["lon"], values["lat"] = record.cells.get("lon", 0.0), record.cells.get("lat", 0.0)
        kept = _kept_columns(record, [*SITE_COLUMNS, *placement.columns, "lon", "lat"])
        if kept:
            values["attributes"] = kept
        if record.faults:
            continue
        built = _validate(DisposalSiteIn, values, record, _site_column)
        if built is not None:
            sites.append(built)
    _raise_faults(records, table.fmt, _duplicate_ids(records, what="site id"))
    return SitesRead(sites, placement.crs)


def _site_column(loc: tuple[str | int, ...]) -> str | None:
    """The file's column an error location of ``DisposalSiteIn`` points at."""
    if len(loc) > 1 and loc[0] == "attributes":
        return str(loc[1])
    return str(loc[0]) if loc else None


def _vehicle_data(values: dict[str, Any]) -> dict[str, Any]:
    """A ``VehicleIn`` body from a vehicles row's converted cells."""
    data = {k: v for k, v in values.items()
            if k not in {"shift_start", "shift_end", "break_duration_s", "break_start", "break_end",
                         "depot_lon", "depot_lat"}}
    if "shift_start" in values or "shift_end" in values:
        data["shift"] = [values.get("shift_start"), values.get("shift_end")]
    if any(k in values for k in ("break_duration_s", "break_start", "break_end")):
        data["break"] = {"duration_s": values.get("break_duration_s"),
                         "window": [values.get("break_start"), values.get("break_end")]}
    return data


def _vehicle_column(loc: tuple[str | int, ...]) -> str | None:
    """The file's column an error location of ``VehicleIn`` points at."""
    if len(loc) > 1 and loc[0] == "attributes":
        return str(loc[1])
    for size in range(len(loc), 0, -1):
        column = VEHICLE_FIELD_COLUMNS.get(loc[:size])
        if column is not None:
            return column
    return str(loc[0]) if loc else None


def _depots(records: list[Record], vehicles: list[VehicleIn]) -> tuple[list[DepotIn], list[UploadFault]]:
    """Depots declared by ``depot_lon``/``depot_lat``; faults where one depot gets two places."""
    depots: dict[str, tuple[int, DepotIn]] = {}
    faults: list[UploadFault] = []
    by_id = {v.id: v for v in vehicles}
    for record in records:
        vehicle = by_id.get(record.item_id or "")
        lon, lat = record.cells.get("depot_lon"), record.cells.get("depot_lat")
        if vehicle is None or (lon is None and lat is None):
            continue
        if lon is None or lat is None:
            column = "depot_lat" if lat is None else "depot_lon"
            faults.append(UploadFault(record.row, column, vehicle.id,
                                      "depot_lon and depot_lat go together: give both or neither", "missing"))
            continue
        try:
            depot = DepotIn(id=vehicle.depot, lon=float(lon), lat=float(lat))
        except (ValueError, ValidationError) as exc:
            faults.append(UploadFault(record.row, "depot_lon", vehicle.id, f"not a valid position: {exc}",
                                      "depot_position"))
            continue
        earlier = depots.get(depot.id)
        if earlier is not None and (earlier[1].lon, earlier[1].lat) != (depot.lon, depot.lat):
            faults.append(UploadFault(record.row, "depot_lon", vehicle.id,
                                      f"depot {depot.id!r} is at a different place in row {earlier[0]}",
                                      "depot_conflict"))
        elif earlier is None:
            depots[depot.id] = (record.row, depot)
    return [depot for _, depot in depots.values()], faults


DEPOT_GRID_COLUMNS: tuple[tuple[tuple[str, str], Kind], ...] = (
    (("depot_easting", "depot_northing"), "grid"), (("depot_x", "depot_y"), "either"))
"""Columns of a depot's position in British National Grid metres (or the request's ``crs``) in a vehicles file."""


def _place_grid_depots(records: list[Record], request_crs: str | None) -> None:
    """``depot_lon``/``depot_lat`` of the rows that give their depot in eastings and northings."""
    for (x_col, y_col), kind in DEPOT_GRID_COLUMNS:
        declaring = [r for r in records if x_col in r.cells or y_col in r.cells]
        if not declaring:
            continue
        place(declaring, columns=(x_col, y_col), kind=kind, request_crs=request_crs)
        for record in declaring:
            record.cells.pop(x_col, None)
            record.cells.pop(y_col, None)
            if "lon" in record.cells:
                record.cells["depot_lon"], record.cells["depot_lat"] = record.cells.pop("lon"), record.cells.pop("lat")


def read_vehicles(content: bytes, *, filename: str | None = None, crs: str | None = None,
                  streams: str | None = None) -> tuple[list[VehicleIn], list[DepotIn]]:
    """Vehicles (and the depots they declare) from a file; raises :class:`UploadError`.

    A depot's position is ``depot_lon``/``depot_lat`` (degrees), ``depot_easting``/
    ``depot_northing`` (British National Grid, or ``crs``) or ``depot_x``/``depot_y``; in
    GeoJSON, GeoPackage and Shapefile the feature's Point (in the file's CRS, or ``crs``).
    """
    request_crs = _request_crs(crs)
    names = _streams(streams)
    table = read_table(content, filename=filename)
    records = table.records
    located = [record for record in records if record.point is not None]
    if located:
        try:
            place(located, columns=None, kind="either", request_crs=request_crs, file_crs=table.crs)
        except PlacementError as exc:
            raise UploadError([exc.fault], fmt=table.fmt) from exc
        for record in located:
            if "lon" in record.cells:
                record.cells.setdefault("depot_lon", record.cells.pop("lon"))
                record.cells.setdefault("depot_lat", record.cells.pop("lat"))
    _place_grid_depots(records, request_crs)
    vehicles = []
    for record in records:
        data = _vehicle_data(_converted(record, VEHICLE_COLUMNS, names))
        kept = _kept_columns(record, VEHICLE_COLUMNS)
        if kept:
            data["attributes"] = kept
        built = _validate(VehicleIn, data, record, _vehicle_column)
        if built is not None and not record.faults:
            vehicles.append(built)
    depots, depot_faults = _depots(records, vehicles)
    _raise_faults(records, table.fmt, _duplicate_ids(records, what="vehicle id") + depot_faults)
    return vehicles, depots


# --------------------------------------------------------------------------- today's rounds


DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}
"""Days by their first three letters (``Mon``, ``MONDAY``, ``monday`` are one day)."""


def day_name(value: Any) -> str:
    """A collection day as written in a file or an option, as one spelling: ``"MON"`` -> ``"Monday"``."""
    text = str(value).strip()
    return DAY_NAMES.get(text[:3].lower(), text)


def week_name(value: Any) -> str:
    """A collection week as one spelling: ``"Week 1"``, ``"wk1"``, ``1``, ``1.0`` -> ``"1"``; ``"A"`` -> ``"A"``."""
    text = str(value).strip()
    lowered = text.lower()
    for prefix in ("week", "wk"):
        if lowered.startswith(prefix):
            text = text[len(prefix):].strip(" _-")
    try:
        number = float(text)
    except ValueError:
        return text.upper()
    return str(int(number)) if number.is_integer() else text


def _known_ids(text: str | None, column: str) -> set[str] | None:
    """A JSON list of ids (``bin_ids``, ``site_ids`` options), or ``None`` when the option is absent."""
    if text is None or not text.strip():
        return None
    try:
        ids = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _options_fault(column, f"{column} is not a JSON list of ids ({exc.msg})") from exc
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise _options_fault(column, f"{column} must be a JSON list of ids, as strings")
    return {str(i) for i in ids}


@dataclass(frozen=True, slots=True)
class RoundsRead:
    """Today's rounds read from a file, and the file's columns that are not read."""

    routes: list[RouteIn]
    ignored_columns: list[str]


def read_rounds(content: bytes, *, filename: str | None = None, day: str | None = None, week: str | None = None,
                bin_ids: str | None = None, site_ids: str | None = None) -> list[RouteIn]:
    """Today's rounds from a CSV file (see :func:`read_rounds_file`), each in driving order."""
    return read_rounds_file(content, filename=filename, day=day, week=week, bin_ids=bin_ids,
                            site_ids=site_ids).routes


def read_rounds_file(content: bytes, *, filename: str | None = None, day: str | None = None,
                     week: str | None = None, bin_ids: str | None = None, site_ids: str | None = None) -> RoundsRead:
    """Today's rounds from a CSV file as in-cab systems export them (round, day, week, sequence, UPRN).

    Rounds keep the order in which they first appear; stops are sorted by ``sequence``.
    A file holding several days or weeks needs ``day`` and/or ``week`` to choose one;
    rows of other days are not today's rounds and are left out. With ``bin_ids`` (the
    bins uploaded, JSON) every stop must be one of them, a ``site_ids`` tip or ``break``.
    Raises :class:`UploadError` for missing cells, sequences that are no whole number,
    a sequence repeated within a round, and stops that are not in the gazetteer.
    """
    fmt = detect_format(filename, content)
    if fmt != "csv":
        raise UploadError([UploadFault(None, None, None, "today's rounds are read from CSV "
                                       "(columns round, sequence, and bin_id or uprn)", "format")], fmt=fmt)
    bins, sites = _known_ids(bin_ids, "bin_ids"), _known_ids(site_ids, "site_ids")
    records = read_table(content, filename=filename).records
    read_as = resolve(_keys(records), ROUND_ALIASES)
    ignored = [records[0].headers.get(key, key) for key in _keys(records) if key not in read_as]
    column = {name: records[0].headers.get(key, key) for key, name in read_as.items()}
    chosen = _chosen_day(records, read_as, day, week)
    rounds: dict[str, dict[int, tuple[int, str]]] = {}
    for record in chosen:
        parts = {read_as[k]: v for k, v in record.cells.items() if k in read_as}
        for part in ("round", "sequence", "stop"):
            if part not in parts:
                record.fault(column.get(part, {"stop": "bin_id"}.get(part, part)), "a value is required", "missing")
        if record.faults:
            continue
        name, seq_text, stop = str(parts["round"]), parts["sequence"], str(parts["stop"])
        try:
            sequence = int(float(seq_text)) if float(seq_text).is_integer() else int(seq_text)
        except (TypeError, ValueError):
            record.fault(column["sequence"], f"expected a whole number, got {seq_text!r}", "int_parsing")
            continue
        if bins is not None and stop != BREAK_STOP and stop not in bins and stop not in (sites or set()):
            record.fault(column["stop"], f"stop {stop!r} is not a bin of the gazetteer uploaded "
                                         "(nor a tip, nor 'break')", "unknown_bin")
            continue
        stops = rounds.setdefault(name, {})
        if sequence in stops:
            record.fault(column["sequence"], f"round {name!r} has sequence {sequence} already in row "
                                             f"{stops[sequence][0]}", "duplicate_sequence")
            continue
        stops[sequence] = (record.row, stop)
    _raise_faults(records, fmt)
    return RoundsRead([RouteIn(vehicle_id=name, stops=[stops[s][1] for s in sorted(stops)])
                       for name, stops in rounds.items()], ignored)


def _chosen_day(records: list[Record], read_as: Mapping[str, str], day: str | None,
                week: str | None) -> list[Record]:
    """The rows of the day and week asked for; refuses a file of several days or weeks when none is asked."""
    keys = {name: key for key, name in read_as.items()}
    chosen = records
    for part, asked, spell in (("day", day, day_name), ("week", week, week_name)):
        key = keys.get(part)
        if key is None:
            continue
        present = list(dict.fromkeys(spell(r.cells[key]) for r in chosen if key in r.cells))
        if asked is None or not str(asked).strip():
            if len(present) > 1:
                raise _options_fault(part, f"the file holds the rounds of several {part}s ({', '.join(present)}): "
                                           f"choose today's with the {part} option")
            continue
        wanted = spell(asked)
        if wanted not in present:
            raise _options_fault(part, f"no rounds on {part} {wanted!r}: the file has {', '.join(present) or 'none'}")
        chosen = [r for r in chosen if key in r.cells and spell(r.cells[key]) == wanted]
    return chosen
