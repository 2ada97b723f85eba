"""Where a file's rows are: lon/lat, British National Grid or a named CRS -> WGS84 ``lon``/``lat``.

Councils' gazetteers give eastings and northings in British National Grid (EPSG:27700);
other files give degrees, or a GeoPackage/Shapefile declares its own CRS. The grid is
recognised from the column names (:data:`DEGREE_COLUMNS`, :data:`GRID_COLUMNS`;
plain ``x``/``y`` and a geometry without a declared CRS are told apart by their
values) and confirmed by range: British National Grid positions must lie inside
Great Britain (:data:`GB_GRID_BOX`, metres), degrees inside -180..180 and -90..90.
A CRS named by the request (``crs``) wins over the columns' names and the file's own.
A file whose rows are in two grids is refused, row by row, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from app.services.upload_faults import Record, UploadFault

WGS84 = "EPSG:4326"
BRITISH_NATIONAL_GRID = "EPSG:27700"

GB_GRID_BOX = (0.0, 0.0, 700_000.0, 1_300_000.0)
"""Eastings and northings (metres) of Great Britain on the British National Grid: min E, min N, max E, max N."""

DEGREE_COLUMNS = (("lon", "lng", "long", "longitude", "x_lon", "wgs84_lon"),
                  ("lat", "latitude", "y_lat", "wgs84_lat"))
"""Column names (normalised) of positions in degrees: the first of each tuple found is read."""

GRID_COLUMNS = (("easting", "eastings", "east", "x_coordinate", "x_coord", "xcoord", "x_coordinate_bng",
                 "bng_easting", "grid_easting"),
                ("northing", "northings", "north", "y_coordinate", "y_coord", "ycoord", "y_coordinate_bng",
                 "bng_northing", "grid_northing"))
"""Column names (normalised) of positions in British National Grid metres (or the request's ``crs``)."""

PLAIN_COLUMNS = (("x",), ("y",))
"""Column names (normalised) whose grid is told by their values."""

Kind = Literal["degrees", "grid", "either"]
Shape = Literal["degrees", "grid", "neither"]


@dataclass(frozen=True, slots=True)
class Placement:
    """How a file's positions were read: the columns (normalised; empty for a geometry) and the CRS."""

    columns: tuple[str, ...]
    crs: str


class PlacementError(ValueError):
    """The file as a whole has no readable positions (no columns, half a pair, a wrong ``crs``)."""

    def __init__(self, fault: UploadFault) -> None:
        """Keep the fault."""
        self.fault = fault
        super().__init__(fault.msg)


def parse_crs(text: str | None) -> str | None:
    """A request's ``crs`` (``"EPSG:27700"``, ``"27700"``, a WKT or PROJ string) as pyproj spells it."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        crs = CRS.from_user_input(int(value) if value.isdigit() else value)
    except (CRSError, ValueError, OverflowError) as exc:  # a fuzzed number too large for PROJ is no CRS either
        raise PlacementError(UploadFault(None, "crs", None, f"crs {value!r} is not a coordinate reference "
                                         f"system pyproj knows ({exc})", "crs")) from exc
    return crs.to_string()


def shape_of(x: float, y: float) -> Shape:
    """Whether a position looks like degrees, British National Grid metres inside Great Britain, or neither."""
    if -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0:
        return "degrees"
    min_e, min_n, max_e, max_n = GB_GRID_BOX
    # A grid position that is not also a pair of degrees lies beyond 180 m east or 90 m north: every one on land does.
    inside = min_e <= x <= max_e and min_n <= y <= max_n and (x > 180.0 and y > 90.0)
    return "grid" if inside else "neither"


def find_columns(headers: Sequence[str], written: Mapping[str, str] | None = None) -> tuple[tuple[str, str], Kind]:
    """The pair of (normalised) columns holding positions, and what their names say they hold.

    Raises :class:`PlacementError` when there is none, or only half of one (naming the
    columns as ``written`` in the file).
    """
    present = set(headers)
    as_written = written or {}
    for (xs, ys), kind in ((DEGREE_COLUMNS, "degrees"), (GRID_COLUMNS, "grid"), (PLAIN_COLUMNS, "either")):
        x = next((name for name in xs if name in present), None)
        y = next((name for name in ys if name in present), None)
        if x is not None and y is not None:
            return (x, y), kind  # type: ignore[return-value]
        if x is not None or y is not None:
            found, want = (x, ys[0]) if x is not None else (str(y), xs[0])
            have = as_written.get(found, found)
            raise PlacementError(UploadFault(None, have, None, f"column {have!r} holds half a position: "
                                             f"expected a {want!r} column beside it", "coordinate_pair"))
    raise PlacementError(UploadFault(
        None, None, None,
        "no usable coordinate columns: expected lon/lat (degrees), easting/northing or x_coordinate/"
        "y_coordinate (British National Grid, or the crs the request names) or x/y; the file has "
        f"{', '.join(as_written.get(h, h) for h in headers) or 'no columns'}", "no_coordinates"))


def _number(record: Record, column: str, label: str) -> float | None:
    """A coordinate cell as a finite number, or ``None`` with a fault noted."""
    value = record.cells.get(column)
    where = record.headers.get(column, column)
    if value is None:
        record.fault(where, "a value is required", "missing")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        record.fault(where, f"expected a number ({label}), got {value!r}", "float_parsing")
        return None
    if not math.isfinite(number):
        record.fault(where, f"must be a finite number, got {value!r}", "finite_number")
        return None
    return number


def place(records: Sequence[Record], *, columns: tuple[str, str] | None, kind: Kind,
          request_crs: str | None, file_crs: str | None = None) -> Placement:
    """Set each record's ``lon``/``lat`` cells (WGS84 degrees) from its position; note a fault where it cannot.

    ``columns`` are the two (normalised) columns holding x and y, or ``None`` when the
    positions are the records' ``point`` (a file's geometry, in ``file_crs`` if it declares one).
    """
    x_col, y_col = columns if columns is not None else ("geometry", "geometry")
    positions: list[tuple[Record, float, float]] = []
    for record in records:
        if columns is None:
            if record.point is None:
                record.fault("geometry", "has no point geometry", "geometry")
                continue
            x, y = record.point
        else:
            xv, yv = _number(record, x_col, "x"), _number(record, y_col, "y")
            if xv is None or yv is None:
                continue
            x, y = xv, yv
        positions.append((record, x, y))

    crs = request_crs or file_crs
    if crs is None:
        crs = _crs_by_range(positions, kind)
    _check_ranges(positions, crs, x_col, y_col, named=request_crs is not None or file_crs is not None,
                  told_by_values=kind == "either" and request_crs is None and file_crs is None)
    _transform(positions, crs, x_col)
    return Placement(columns=() if columns is None else (x_col, y_col), crs=crs)


def _crs_by_range(positions: list[tuple[Record, float, float]], kind: Kind) -> str:
    """The CRS the columns' names say, or for plain x/y the grid most rows fit (the others are then faults)."""
    if kind == "degrees":
        return WGS84
    if kind == "grid":
        return BRITISH_NATIONAL_GRID
    shapes = [shape_of(x, y) for _, x, y in positions]
    grid, degrees = shapes.count("grid"), shapes.count("degrees")
    return BRITISH_NATIONAL_GRID if grid >= degrees and grid > 0 else WGS84


def _check_ranges(positions: list[tuple[Record, float, float]], crs: str, x_col: str, y_col: str, *,
                  named: bool, told_by_values: bool = False) -> None:
    """Note a fault on rows outside what ``crs`` allows: Great Britain for the grid, the globe for degrees."""
    others = "named by the file or the request" if named else "of the file's other rows"
    some_degrees = not named and any(shape_of(x, y) == "degrees" for _, x, y in positions)
    # x/y whose values fit neither grid on any row cannot say which they are: ask for the crs
    undecided = told_by_values and all(shape_of(x, y) == "neither" for _, x, y in positions)
    kept = []
    for record, x, y in positions:
        fault = _range_fault(x, y, crs, x_col, y_col, undecided=undecided, some_degrees=some_degrees, others=others)
        if fault is None:
            kept.append((record, x, y))
        else:
            column, msg, kind = fault
            record.fault(record.headers.get(column, column), msg, kind)
    positions[:] = kept


def _range_fault(x: float, y: float, crs: str, x_col: str, y_col: str, *, undecided: bool, some_degrees: bool,
                 others: str) -> tuple[str, str, str] | None:
    """(column, message, kind) of a position ``crs`` does not allow, or ``None`` when it is allowed."""
    shape = shape_of(x, y)
    if undecided:
        return (x_col, f"({x}, {y}) is neither lon/lat degrees nor a British National Grid position in Great "
                       "Britain: send the crs the file uses", "ambiguous_grid")
    if crs == BRITISH_NATIONAL_GRID and shape == "degrees":
        return (x_col, f"({x}, {y}) looks like lon/lat degrees but positions are British National Grid metres "
                       f"({others}): mixed grids; one file holds one grid", "mixed_grids")
    if crs == BRITISH_NATIONAL_GRID and shape == "neither":
        return (x_col, f"easting/northing ({x}, {y}) is outside Great Britain (British National Grid eastings "
                       "0-700,000 m, northings 0-1,300,000 m)", "outside_great_britain")
    if crs == WGS84 and shape == "grid":
        return (x_col, f"({x}, {y}) is no lon/lat in degrees: it looks like a British National Grid easting/"
                       "northing; name the columns easting/northing or send crs=EPSG:27700",
                "mixed_grids" if some_degrees else "grid_as_degrees")
    if crs == WGS84 and shape == "neither":
        return (y_col if -180.0 <= x <= 180.0 else x_col,
                f"({x}, {y}) is no lon/lat: longitude must lie in -180..180 and latitude in -90..90", "out_of_range")
    return None


def _transform(positions: list[tuple[Record, float, float]], crs: str, x_col: str) -> None:
    """Write WGS84 ``lon``/``lat`` into each record from its position in ``crs``."""
    if not positions:
        return
    if crs == WGS84:
        for record, x, y in positions:
            record.cells["lon"], record.cells["lat"] = x, y
        return
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    lons, lats = transformer.transform([x for _, x, _ in positions], [y for _, _, y in positions])
    for (record, x, y), lon, lat in zip(positions, lons, lats, strict=True):
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            record.fault(record.headers.get(x_col, x_col), f"({x}, {y}) in {crs} has no place on the globe",
                         "out_of_range")
            continue
        record.cells["lon"], record.cells["lat"] = round(float(lon), 7), round(float(lat), 7)
