"""Planners' files (CSV or GeoJSON) of bins, vehicles, tips and today's rounds -> API models.

Every fault names where it is, as a planner's spreadsheet shows it: the **row** (the
line of the CSV file, the header being row 1; in GeoJSON the feature's number, from
1) and the **column** (the CSV column or GeoJSON property), plus the id of the bin or
vehicle when the row has one. All faults of a file are reported at once
(:class:`UploadError`), never only the first.

Columns (CSV header names, GeoJSON property names) are the fields of the API's
``BinIn`` and ``VehicleIn`` with these spreadsheet-friendly forms:

- bins: ``time_windows`` as ``07:00-10:00`` or several joined by ``|``
  (``07:00-10:00|13:00-15:00``); in GeoJSON ``lon``/``lat`` come from the Point.
- vehicles: ``shift_start``/``shift_end`` (``HH:MM``), ``streams`` joined by ``|``,
  ``break_duration_s`` with ``break_start``/``break_end`` (the window the break may
  start in); optionally ``depot_lon``/``depot_lat`` to declare the depot (in GeoJSON:
  the Point).
- disposal sites (tips): ``id``, ``lon``, ``lat``, ``unload_s``, ``opening`` as
  ``06:00-18:00``, ``streams`` joined by ``|``.
- today's rounds (CSV): ``round`` (the vehicle id; ``vehicle_id`` also accepted),
  ``sequence`` (a whole number, driving order within the round) and ``bin_id``
  (``stop`` also accepted: a bin id, a disposal-site id or ``break``).

Empty cells take the API's defaults. Units as everywhere: kg, litres, seconds, metres.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.core.json_types import ErrorItemDict
from app.schemas import BinIn, DepotIn, DisposalSiteIn, RouteIn, VehicleIn

Kind = Literal["bins", "vehicles", "rounds"]
Model = TypeVar("Model", bound=BaseModel)

LIST_SEPARATOR = "|"
"""Joins several values in one cell: time windows, streams."""

HEADER_ROW = 1
"""The CSV header's row number; the first data row is row 2."""


class UploadErrorItem(ErrorItemDict):
    """A 422 item of an upload: the API's item plus the file's ``row`` and ``column``."""

    row: int | None
    column: str | None


@dataclass(frozen=True, slots=True)
class UploadFault:
    """One wrong cell (or row, or file): where it is and what is wrong, in words."""

    row: int | None
    column: str | None
    item_id: str | None
    msg: str
    type: str

    def as_item(self, *, fmt: str) -> UploadErrorItem:
        """The fault in the shape of the API's 422 items, plus ``row`` and ``column``."""
        unit = "feature" if fmt == "geojson" else "row"
        where = [f"{unit} {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        if self.item_id is not None:
            prefix += f" (id {self.item_id!r})"
        loc: list[str | int] = ["file"]
        if self.row is not None:
            loc.append(self.row)
        if self.column is not None:
            loc.append(self.column)
        return {"loc": loc, "field": prefix or "file", "id": self.item_id, "row": self.row,
                "column": self.column, "msg": f"{prefix}: {self.msg}" if prefix else self.msg,
                "type": self.type}


class UploadError(ValueError):
    """A file that could not be read into models: its faults, all of them."""

    def __init__(self, faults: list[UploadFault], *, fmt: str) -> None:
        """Keep the faults; the message lists the first few."""
        self.faults = faults
        self.fmt = fmt
        super().__init__("; ".join(item["msg"] for item in self.items()[:5]))

    def items(self) -> list[UploadErrorItem]:
        """The faults as 422 items."""
        return [fault.as_item(fmt=self.fmt) for fault in self.faults]


@dataclass
class _Record:
    """One row (CSV) or feature (GeoJSON): its number and its non-empty cells by column."""

    row: int
    cells: dict[str, Any]  # JSON values or CSV text, duck-typed here and checked by the models they feed
    faults: list[UploadFault] = field(default_factory=list)

    @property
    def item_id(self) -> str | None:
        """The row's ``id`` cell, if it has one."""
        value = self.cells.get("id")
        return str(value) if value not in (None, "") else None

    def fault(self, column: str | None, msg: str, type_: str = "value_error") -> None:
        """Note a fault of this row."""
        self.faults.append(UploadFault(self.row, column, self.item_id, msg, type_))


# --------------------------------------------------------------------------- reading files


def detect_format(filename: str | None, content: bytes) -> str:
    """``"geojson"`` for ``.geojson``/``.json`` files or content starting with ``{``, else ``"csv"``."""
    name = (filename or "").lower()
    if name.endswith((".geojson", ".json")):
        return "geojson"
    if name.endswith((".csv", ".txt")):
        return "csv"
    return "geojson" if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def _decode(content: bytes, fmt: str) -> str:
    """The file as text (UTF-8, with or without the byte-order mark Excel writes)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError([UploadFault(None, None, None, f"the file is not UTF-8 text (byte {exc.start})",
                                       "encoding")], fmt=fmt) from exc


def _csv_records(text: str) -> list[_Record]:
    """Rows of a CSV file (comma, semicolon or tab separated) with lower-cased header names."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise UploadError([UploadFault(HEADER_ROW, None, None, "the file is empty: expected a header row",
                                       "empty")], fmt="csv")
    header = [name.strip().lower() for name in rows[0]]
    records = []
    for number, cells in enumerate(rows[1:], start=HEADER_ROW + 1):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        record = _Record(number, {})
        if len(cells) > len(header):
            record.fault(None, f"has {len(cells)} cells but the header names {len(header)} columns",
                         "extra_cells")
        for name, cell in zip(header, cells, strict=False):
            if name and cell.strip():
                record.cells[name] = cell.strip()
        records.append(record)
    return records


def _geojson_records(text: str, *, point_columns: tuple[str, str]) -> list[_Record]:
    """Features of a GeoJSON FeatureCollection: their properties, the Point as ``point_columns``."""
    def refuse(msg: str, row: int | None = None) -> UploadError:
        return UploadError([UploadFault(row, None, None, msg, "geojson")], fmt="geojson")

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise refuse(f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise refuse('expected a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}')
    records = []
    for number, feature in enumerate(document["features"], start=1):
        if not isinstance(feature, dict):
            raise refuse("is not a GeoJSON Feature", number)
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise refuse("its properties are not an object", number)
        record = _Record(number, {str(k).lower(): v for k, v in properties.items() if v not in (None, "")})
        geometry = feature.get("geometry")
        if isinstance(geometry, dict):
            coordinates = geometry.get("coordinates")
            if geometry.get("type") != "Point" or not isinstance(coordinates, list) or len(coordinates) < 2:
                record.fault("geometry", f"expected a Point [lon, lat], got a {geometry.get('type')!r}",
                             "geometry")
            else:
                record.cells.setdefault(point_columns[0], coordinates[0])
                record.cells.setdefault(point_columns[1], coordinates[1])
        records.append(record)
    return records


# --------------------------------------------------------------------------- cells to fields


def _clock_pair(text: str, *, record: _Record, column: str) -> list[str] | None:
    """``"07:00-10:00"`` -> ``["07:00", "10:00"]``; notes a fault and gives ``None`` otherwise."""
    parts = [part.strip() for part in text.split("-")]
    if len(parts) != 2 or not all(parts):
        record.fault(column, f'expected a window "HH:MM-HH:MM", got {text!r}', "window_format")
        return None
    return parts


def _window(value: Any, record: _Record, column: str) -> Any:
    """One window from ``"06:00-18:00"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    return _clock_pair(value, record=record, column=column)


def _windows(value: Any, record: _Record, column: str) -> Any:
    """Time windows from ``"07:00-10:00|13:00-15:00"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    windows = [_clock_pair(part, record=record, column=column) for part in value.split(LIST_SEPARATOR)]
    return [w for w in windows if w is not None]


def _names(value: Any, record: _Record, column: str) -> Any:
    """A list of names from ``"refuse|recycling"`` (or a JSON list, kept as it is)."""
    if not isinstance(value, str):
        return value
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _number(value: Any, record: _Record, column: str) -> Any:
    """A finite number, or the cell unchanged for pydantic to refuse with its own words."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if not math.isfinite(number):
        record.fault(column, f"must be a finite number, got {value!r}", "finite_number")
    return number


Converter = Callable[[Any, _Record, str], Any]

BIN_COLUMNS: dict[str, Converter | None] = {
    "id": None, "lon": _number, "lat": _number, "demand_kg": None, "volume_l": None, "service_s": None,
    "stream": None, "time_windows": _windows, "required": None, "penalty": None, "vehicle": None,
    "max_vehicle_weight_kg": None, "max_vehicle_width_m": None,
}
"""Columns of a bins file, with how a cell becomes a field value (``None``: as it is)."""

SITE_COLUMNS: dict[str, Converter | None] = {
    "id": None, "lon": _number, "lat": _number, "unload_s": None, "opening": _window, "streams": _names,
}
"""Columns of a disposal sites file (``opening`` as ``06:00-18:00``, ``streams`` joined by ``|``)."""

VEHICLE_COLUMNS: dict[str, Converter | None] = {
    "id": None, "depot": None, "capacity_kg": None, "capacity_l": None, "shift_start": None, "shift_end": None,
    "streams": _names, "break_duration_s": None, "break_start": None, "break_end": None, "fixed_cost": None,
    "cost_per_km": None, "cost_per_hour": None, "max_lifts": None, "max_collected_kg": None,
    "tip_before_return": None, "gross_weight_kg": None, "width_m": None, "height_m": None, "length_m": None,
    "hgv": None, "depot_lon": _number, "depot_lat": _number,
}
"""Columns of a vehicles file."""

ROUND_COLUMNS = {"round": "round", "vehicle_id": "round", "sequence": "sequence", "bin_id": "stop",
                 "stop": "stop"}
"""Columns of a today's-rounds file and the part of a stop each names."""

VEHICLE_FIELD_COLUMNS: dict[tuple[str | int, ...], str] = {
    ("shift", 0): "shift_start", ("shift", 1): "shift_end", ("shift",): "shift_start",
    ("break", "duration_s"): "break_duration_s", ("break", "window", 0): "break_start",
    ("break", "window", 1): "break_end", ("break", "window"): "break_start", ("break",): "break_duration_s",
}
"""Where pydantic's error locations of a vehicle's composite fields point in the file."""


def _check_columns(records: Iterable[_Record], known: Iterable[str], *, ignored: Iterable[str] = ()) -> None:
    """Note a fault for every cell under a column the kind of file does not have."""
    allowed = set(known) | set(ignored)
    for record in records:
        for column in record.cells:
            if column not in allowed:
                record.fault(column, f"unknown column {column!r}; known columns: {', '.join(sorted(known))}",
                             "unknown_column")


def _converted(record: _Record, columns: Mapping[str, Converter | None]) -> dict[str, Any]:
    """The record's cells after each column's converter."""
    values: dict[str, Any] = {}
    for column, value in record.cells.items():
        convert = columns.get(column)
        if column in columns:
            values[column] = convert(value, record, column) if convert is not None else value
    return values


def _validate(model: type[Model], data: dict[str, Any], record: _Record,
              column_of: Callable[[tuple[str | int, ...]], str | None]) -> Model | None:
    """``model`` built from ``data``, or ``None`` with the record's faults noted (with the cell's value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            column = column_of(loc)
            value = record.cells.get(column) if column is not None else None
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


def _raise_faults(records: Iterable[_Record], fmt: str, extra: Iterable[UploadFault] = ()) -> None:
    """Raise :class:`UploadError` if any record (or ``extra``) has a fault (each told once)."""
    faults = list(dict.fromkeys([fault for record in records for fault in record.faults] + list(extra)))
    if faults:
        raise UploadError(faults, fmt=fmt)


def _duplicate_ids(records: Iterable[_Record], *, what: str) -> list[UploadFault]:
    """A fault for every row repeating an earlier row's id."""
    seen: dict[str, int] = {}
    faults = []
    for record in records:
        item_id = record.item_id
        if item_id is None:
            continue
        if item_id in seen:
            faults.append(UploadFault(record.row, "id", item_id,
                                      f"duplicate {what} id {item_id!r}: row {seen[item_id]} has it already",
                                      "duplicate_id"))
        else:
            seen[item_id] = record.row
    return faults


def _records(content: bytes, *, filename: str | None, point_columns: tuple[str, str]) -> tuple[list[_Record], str]:
    """The file's records and its format."""
    fmt = detect_format(filename, content)
    text = _decode(content, fmt)
    records = _csv_records(text) if fmt == "csv" else _geojson_records(text, point_columns=point_columns)
    if not records:
        raise UploadError([UploadFault(None, None, None, "the file holds no rows", "empty")], fmt=fmt)
    return records, fmt


# --------------------------------------------------------------------------- the three kinds of file


def _read_items(content: bytes, *, filename: str | None, model: type[Model],
                columns: Mapping[str, Converter | None], what: str) -> list[Model]:
    """Items of ``model`` from a file whose columns are ``model``'s fields (after ``columns``' converters)."""
    records, fmt = _records(content, filename=filename, point_columns=("lon", "lat"))
    _check_columns(records, columns)
    items = []
    for record in records:
        built = _validate(model, _converted(record, columns), record, lambda loc: str(loc[0]) if loc else None)
        if built is not None:
            items.append(built)
    _raise_faults(records, fmt, _duplicate_ids(records, what=what))
    return items


def read_bins(content: bytes, *, filename: str | None = None) -> list[BinIn]:
    """Bins from a CSV or GeoJSON file; raises :class:`UploadError` listing every wrong cell."""
    return _read_items(content, filename=filename, model=BinIn, columns=BIN_COLUMNS, what="bin")


def read_sites(content: bytes, *, filename: str | None = None) -> list[DisposalSiteIn]:
    """Disposal sites (tips) from a CSV or GeoJSON file; raises :class:`UploadError` listing every wrong cell."""
    return _read_items(content, filename=filename, model=DisposalSiteIn, columns=SITE_COLUMNS, what="site")


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
    for size in range(len(loc), 0, -1):
        column = VEHICLE_FIELD_COLUMNS.get(loc[:size])
        if column is not None:
            return column
    return str(loc[0]) if loc else None


def _depots(records: list[_Record], vehicles: list[VehicleIn]) -> tuple[list[DepotIn], list[UploadFault]]:
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


def read_vehicles(content: bytes, *, filename: str | None = None) -> tuple[list[VehicleIn], list[DepotIn]]:
    """Vehicles (and the depots they declare) from a CSV or GeoJSON file; raises :class:`UploadError`."""
    records, fmt = _records(content, filename=filename, point_columns=("depot_lon", "depot_lat"))
    _check_columns(records, VEHICLE_COLUMNS)
    vehicles = []
    for record in records:
        data = _vehicle_data(_converted(record, VEHICLE_COLUMNS))
        built = _validate(VehicleIn, data, record, _vehicle_column)
        if built is not None:
            vehicles.append(built)
    depots, depot_faults = _depots(records, vehicles)
    _raise_faults(records, fmt, _duplicate_ids(records, what="vehicle") + depot_faults)
    return vehicles, depots


def read_rounds(content: bytes, *, filename: str | None = None) -> list[RouteIn]:
    """Today's rounds from a CSV file (``round``, ``sequence``, ``bin_id``), each in driving order.

    Rounds keep the order in which they first appear; stops are sorted by ``sequence``.
    Raises :class:`UploadError` for missing cells, sequences that are no whole number
    and a sequence number repeated within a round.
    """
    fmt = detect_format(filename, content)
    if fmt != "csv":
        raise UploadError([UploadFault(None, None, None, "today's rounds are read from CSV "
                                       "(columns round, sequence, bin_id)", "format")], fmt=fmt)
    records, _ = _records(content, filename=filename, point_columns=("lon", "lat"))
    _check_columns(records, ROUND_COLUMNS)
    rounds: dict[str, dict[int, tuple[int, str]]] = {}
    for record in records:
        parts = {ROUND_COLUMNS[c]: (c, v) for c, v in record.cells.items() if c in ROUND_COLUMNS}
        for part, column in (("round", "round"), ("sequence", "sequence"), ("stop", "bin_id")):
            if part not in parts:
                record.fault(column, "a value is required", "missing")
        if record.faults:
            continue
        (_, name), (seq_column, seq_text), (_, stop) = parts["round"], parts["sequence"], parts["stop"]
        try:
            sequence = int(seq_text)
        except ValueError:
            record.fault(seq_column, f"expected a whole number, got {seq_text!r}", "int_parsing")
            continue
        stops = rounds.setdefault(name, {})
        if sequence in stops:
            record.fault(seq_column, f"round {name!r} has sequence {sequence} already in row {stops[sequence][0]}",
                         "duplicate_sequence")
            continue
        stops[sequence] = (record.row, stop)
    _raise_faults(records, fmt)
    return [RouteIn(vehicle_id=name, stops=[stops[s][1] for s in sorted(stops)]) for name, stops in rounds.items()]
