"""Planners' files -> rows: CSV, GeoJSON, GeoPackage and zipped Shapefile, each row a :class:`Record`.

CSV and GeoJSON are read here line by line, so that every fault names the line or the
feature. GeoPackage and Shapefile (zipped with its ``.shx``, ``.dbf`` and ``.prj``) are
read through pyogrio (GDAL), with the CRS the file declares. Column names are
normalised (:func:`app.services.upload_columns.normalise`); the names as written are
kept for messages and attributes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from app.services.upload_columns import normalise
from app.services.upload_faults import Record, UploadError, UploadFault

Format = Literal["csv", "geojson", "gpkg", "shapefile"]

HEADER_ROW = 1
"""The CSV header's row number; the first data row is row 2."""

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
"""Largest Shapefile (all its parts, unzipped) read, bytes: a zip that would unpack to more is refused."""

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
"""The files of a Shapefile that are read from its zip."""


@dataclass
class Table:
    """A file's rows, its format and the CRS it declares (``None``: none declared, or CSV)."""

    records: list[Record]
    fmt: Format
    crs: str | None = None
    has_geometry: bool = False


def detect_format(filename: str | None, content: bytes) -> Format:
    """The format from the file's name, else from its first bytes; CSV when nothing else fits."""
    name = (filename or "").lower()
    if name.endswith(".gpkg") or content.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if name.endswith(".zip") or content.startswith(b"PK\x03\x04"):
        return "shapefile"
    if name.endswith((".geojson", ".json")):
        return "geojson"
    if name.endswith((".csv", ".txt")):
        return "csv"
    return "geojson" if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def _refuse(msg: str, fmt: str, type_: str, row: int | None = None) -> UploadError:
    """A whole-file fault as an error."""
    return UploadError([UploadFault(row, None, None, msg, type_)], fmt=fmt)


def _decode(content: bytes, fmt: str) -> str:
    """The file as text (UTF-8, with or without the byte-order mark Excel writes)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(f"the file is not UTF-8 text (byte {exc.start})", fmt, "encoding") from exc


def _keys(headers: list[str]) -> list[str]:
    """Normalised, unique keys for a file's headers (a repeated name gets ``_2``, ``_3``...)."""
    keys: list[str] = []
    for header in headers:
        key = normalise(header)
        if not key:
            keys.append("")
            continue
        unique, n = key, 2
        while unique in keys:
            unique, n = f"{key}_{n}", n + 1
        keys.append(unique)
    return keys


def read_csv(text: str) -> Table:
    """Rows of a CSV file (comma, semicolon or tab separated)."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise _refuse("the file is empty: expected a header row", "csv", "empty", HEADER_ROW)
    written = [name.strip() for name in rows[0]]
    keys = _keys(written)
    headers = {key: name for key, name in zip(keys, written, strict=True) if key}
    records = []
    for number, cells in enumerate(rows[1:], start=HEADER_ROW + 1):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        record = Record(number, {}, headers)
        if len(cells) > len(keys):
            record.fault(None, f"has {len(cells)} cells but the header names {len(keys)} columns", "extra_cells")
        for key, cell in zip(keys, cells, strict=False):
            if key and cell.strip():
                record.cells[key] = cell.strip()
        records.append(record)
    return Table(records, "csv")


def _crs_name(value: Any, fmt: str) -> str | None:
    """A declared CRS as pyproj spells it (``None`` for none); refuses one pyproj does not know."""
    if value is None:
        return None
    try:
        crs = CRS.from_user_input(value)
    except (CRSError, ValueError, OverflowError) as exc:
        raise _refuse(f"the file declares a CRS pyproj does not know: {value!r}", fmt, "crs") from exc
    epsg = crs.to_epsg()
    if crs.is_geographic and epsg in (4326, None) and "84" in crs.name:
        return "EPSG:4326"  # OGC CRS84 is WGS84 with lon first, as positions are read anyway
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


def read_geojson(text: str) -> Table:
    """Features of a GeoJSON FeatureCollection: their properties and their Point; the ``crs`` member if any."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                      "geojson", "geojson") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise _refuse('expected a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}',
                      "geojson", "geojson")
    declared = document.get("crs")
    crs = None
    if isinstance(declared, dict) and isinstance(declared.get("properties"), dict):
        crs = _crs_name(declared["properties"].get("name"), "geojson")
    records = []
    for number, feature in enumerate(document["features"], start=1):
        if not isinstance(feature, dict):
            raise _refuse("is not a GeoJSON Feature", "geojson", "geojson", number)
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise _refuse("its properties are not an object", "geojson", "geojson", number)
        written = [str(k) for k in properties]
        keys = _keys(written)
        record = Record(number, {k: v for k, v in zip(keys, properties.values(), strict=True)
                                 if k and v not in (None, "")},
                        {k: w for k, w in zip(keys, written, strict=True) if k})
        geometry = feature.get("geometry")
        if isinstance(geometry, dict):
            coordinates = geometry.get("coordinates")
            if geometry.get("type") != "Point" or not isinstance(coordinates, list) or len(coordinates) < 2 \
                    or not all(isinstance(c, int | float) for c in coordinates[:2]):
                record.fault("geometry", f"expected a Point [lon, lat], got a {geometry.get('type')!r}", "geometry")
            else:
                record.point = (float(coordinates[0]), float(coordinates[1]))
        records.append(record)
    return Table(records, "geojson", crs, has_geometry=True)


def _plain(value: Any) -> Any:
    """A cell of a GDAL table as JSON: numpy scalars as numbers, dates as ISO text, NaN as nothing."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None
    return value


def _read_vector(path: Path, fmt: Format) -> Table:
    """Features of the first point layer of a GeoPackage or Shapefile at ``path``."""
    try:
        layers = pyogrio.list_layers(path)
        points = [str(name) for name, kind in layers if kind and "point" in str(kind).lower()]
        layer = points[0] if points else (str(layers[0][0]) if len(layers) else None)
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (DataSourceError, DataLayerError, RuntimeError, ValueError, OSError) as exc:  # GDAL on a stranger's file
        what = "GeoPackage" if fmt == "gpkg" else "Shapefile"
        raise _refuse(f"the file is not a {what} that can be read: {exc}", fmt, "format") from exc
    has_geometry = "geometry" in frame.columns  # a GeoPackage table without geometry is read like a CSV
    declared = getattr(frame, "crs", None)
    crs = _crs_name(declared, fmt) if declared is not None else None
    written = [str(c) for c in frame.columns if c != "geometry"]
    keys = _keys(written)
    headers = {k: w for k, w in zip(keys, written, strict=True) if k}
    records = []
    for number, (_, row) in enumerate(frame.iterrows(), start=1):
        cells = {}
        for key, column in zip(keys, written, strict=True):
            value = _plain(row[column])
            if key and value not in (None, ""):
                cells[key] = value.strip() if isinstance(value, str) else value
        record = Record(number, cells, headers)
        geometry = row.get("geometry") if has_geometry else None
        if geometry is not None and not geometry.is_empty:
            if geometry.geom_type == "Point":
                record.point = (float(geometry.x), float(geometry.y))
            elif geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
                record.point = (float(geometry.geoms[0].x), float(geometry.geoms[0].y))
            else:
                record.fault("geometry", f"expected a Point, got a {geometry.geom_type}", "geometry")
        records.append(record)
    return Table(records, fmt, crs, has_geometry=has_geometry)


def _unzip_shapefile(content: bytes, folder: Path) -> Path:
    """The one Shapefile in a zip, its parts written into ``folder``; refuses zips without exactly one."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise _refuse("the file is not a zip archive (a Shapefile is sent zipped with its .shx, .dbf and .prj)",
                      "shapefile", "format") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        shapes = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shapes) != 1:
            found = ", ".join(m.filename for m in shapes) or "none"
            raise _refuse(f"the zip must hold exactly one Shapefile (.shp); it holds {found}", "shapefile", "format")
        stem = str(PurePosixPath(shapes[0].filename).with_suffix("")).lower()
        parts = [m for m in members if str(PurePosixPath(m.filename).with_suffix("")).lower() == stem
                 and PurePosixPath(m.filename).suffix.lower() in SHAPEFILE_PARTS]
        if sum(m.file_size for m in parts) > MAX_UNZIPPED_BYTES:
            raise _refuse(f"the Shapefile unzips to more than {MAX_UNZIPPED_BYTES} bytes", "shapefile", "too_large")
        for member in parts:
            # Written under a fixed name: nothing in the zip chooses where a file goes.
            target = folder / f"upload{PurePosixPath(member.filename).suffix.lower()}"
            target.write_bytes(archive.read(member))
    return folder / "upload.shp"


def read_table(content: bytes, *, filename: str | None) -> Table:
    """The rows of a CSV, GeoJSON, GeoPackage or zipped Shapefile; refuses a file with none."""
    fmt = detect_format(filename, content)
    if fmt == "csv":
        table = read_csv(_decode(content, fmt))
    elif fmt == "geojson":
        table = read_geojson(_decode(content, fmt))
    else:
        with tempfile.TemporaryDirectory(prefix="wasteroute-upload-") as folder:
            if fmt == "gpkg":
                path = Path(folder) / "upload.gpkg"
                path.write_bytes(content)
            else:
                path = _unzip_shapefile(content, Path(folder))
            table = _read_vector(path, fmt)
    if not table.records:
        raise _refuse("the file holds no rows", fmt, "empty")
    return table
