"""GPS traces and in-cab lift records, as telematics and in-cab systems export them -> fixes and lifts.

The files of ``POST /api/v1/actuals`` (``../shared/API.md``, "Actual rounds (traces)"):

- **traces**: GPX (each track a vehicle, named by the track's name, else by the file's) or CSV
  with a vehicle, a time and a position per row, optionally a speed. Columns are matched
  case-insensitively with the aliases of :data:`TRACE_ALIASES`; a speed column says its unit by
  its name (``speed_kmh``, ``speed_mph``; else metres a second).
- **lifts** (optional): CSV of bin lifts, a time and the bin (``bin_id`` or ``uprn``),
  optionally the vehicle.

Times are ISO 8601 (``2026-12-07T07:31:05Z``, with an offset, or none: then in ``time_zone``,
UTC by default) or seconds since 1970. Positions are WGS84 degrees.

What is wrong with part of a file is **stated and the rest kept** (:class:`TraceNote`, kinds in
:data:`NOTE_KINDS`): rows without a usable time or position, fixes out of time order (sorted),
fixes repeated at the same time (the first kept), a file sent twice (read once), lifts of bins
the problem does not have. What makes a whole file unreadable (no time or position column, not
GPX or CSV, no usable row) is an :class:`~app.services.upload_faults.UploadError` naming the
file: a 422, nothing of the upload kept. Jumps of kilometres, hours without fixes and fixes off
the network's area are found when the trace is matched to the network, not here.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import PurePath
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import gpxpy
import gpxpy.gpx

from app.services.upload_columns import normalise, resolve
from app.services.upload_faults import UploadError, UploadFault
from app.services.upload_formats import read_csv

TRACE_ALIASES: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle", "vehicle_id", "vehicle_ref", "registration", "reg", "vrn", "fleet_no", "fleet_number",
                "asset", "asset_id", "unit", "unit_id", "device", "device_id", "round"),
    "time": ("time", "timestamp", "datetime", "date_time", "gps_time", "fix_time", "recorded_at", "utc_time",
             "event_time"),
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "lat": ("lat", "latitude", "y"),
    "speed": ("speed", "speed_mps", "speed_m_s", "speed_kmh", "speed_kph", "speed_km_h", "speed_mph"),
}
"""Names a trace CSV's columns may have, by the name read (``docs/actuals.md``)."""

LIFT_ALIASES: dict[str, tuple[str, ...]] = {
    "time": TRACE_ALIASES["time"] + ("lift_time",),
    "vehicle": TRACE_ALIASES["vehicle"],
    "bin_id": ("bin_id", "bin", "id", "stop", "container_id"),
    "uprn": ("uprn", "property_uprn"),
}
"""Names a lifts CSV's columns may have."""

SPEED_FACTORS = {"speed_kmh": 1 / 3.6, "speed_kph": 1 / 3.6, "speed_km_h": 1 / 3.6, "speed_mph": 0.44704}
"""Metres a second per unit of a speed column named with its unit (others: metres a second)."""

NoteKind = Literal["bad_time", "bad_position", "out_of_order", "duplicate_fix", "duplicate_file", "no_time",
                   "unknown_bin", "no_bin", "unknown_vehicle"]
NOTE_KINDS: tuple[NoteKind, ...] = ("bad_time", "bad_position", "out_of_order", "duplicate_fix", "duplicate_file",
                                    "no_time", "unknown_bin", "no_bin", "unknown_vehicle")
"""What a note may say was wrong with part of a file (the rest being kept)."""

ROWS_NAMED = 5
"""Rows a note names as examples."""


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS position of a vehicle: ``time`` (aware, UTC), ``lon``/``lat`` degrees, ``speed_mps`` if told."""

    vehicle: str
    time: datetime
    lon: float
    lat: float
    speed_mps: float | None = None


@dataclass(frozen=True, slots=True)
class Lift:
    """One bin lift recorded in the cab: ``time`` (aware, UTC), the bin's id, the vehicle if told."""

    time: datetime
    bin_id: str
    vehicle: str | None = None


@dataclass
class TraceNote:
    """Part of a file left out or put right, and the rest kept: what, where, how often."""

    kind: NoteKind
    file: str
    count: int
    msg: str
    vehicle: str | None = None
    rows: list[int] = field(default_factory=list)
    """The first rows (CSV lines, header 1) concerned, at most :data:`ROWS_NAMED`."""

    def as_dict(self) -> dict[str, Any]:
        """The note as JSON."""
        return {"kind": self.kind, "file": self.file, "vehicle": self.vehicle, "count": self.count,
                "rows": self.rows, "msg": self.msg}


@dataclass
class TracesRead:
    """Every vehicle's fixes in time order, the notes, and each file read by its SHA-256."""

    fixes: dict[str, list[Fix]]
    notes: list[TraceNote]
    hashes: dict[str, str]


@dataclass
class LiftsRead:
    """The lifts of known bins in time order, and the notes."""

    lifts: list[Lift]
    notes: list[TraceNote]
    hash: str


class _Tally:
    """Rows of one file with one kind of fault, to be said once as a note."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows: dict[tuple[NoteKind, str | None], list[int]] = defaultdict(list)
        self.what: dict[tuple[NoteKind, str | None], str] = {}

    def add(self, kind: NoteKind, row: int, what: str, vehicle: str | None = None) -> None:
        self.rows[(kind, vehicle)].append(row)
        self.what.setdefault((kind, vehicle), what)

    def notes(self) -> list[TraceNote]:
        return [TraceNote(kind, self.file, len(rows), f"{len(rows)} row(s) left out: {self.what[(kind, vehicle)]}",
                          vehicle, rows[:ROWS_NAMED])
                for (kind, vehicle), rows in self.rows.items()]


def time_zone(name: str | None) -> tzinfo:
    """The zone naive times are in (``None``: UTC); :class:`ValueError` naming an unknown one."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/London)") from exc


def parse_time(value: Any, zone: tzinfo = UTC) -> datetime:
    """A cell's time as an aware UTC datetime: ISO 8601 (naive: in ``zone``) or seconds since 1970;
    :class:`ValueError` otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.astimezone(UTC)
    if not math.isfinite(seconds):
        raise ValueError(f"not a time: {value!r}")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _position(lon: Any, lat: Any) -> tuple[float, float]:
    """Degrees (lon, lat) of two cells; :class:`ValueError` when not numbers within the globe."""
    x, y = float(lon), float(lat)
    if not (math.isfinite(x) and math.isfinite(y) and -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        raise ValueError(f"not a position in degrees: ({lon}, {lat})")
    return x, y


def _file_fault(file: str, msg: str, type_: str, column: str | None = None) -> UploadError:
    """A fault that makes a whole file unreadable, naming it."""
    return UploadError([UploadFault(None, column, None, f"file {file!r}: {msg}", type_)], fmt="csv")


def _is_gpx(name: str, content: bytes) -> bool:
    """Whether a file is GPX: by its name, else by its first bytes."""
    if name.lower().endswith(".gpx"):
        return True
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<gpx")


def _gpx_fixes(name: str, content: bytes) -> tuple[list[Fix], _Tally]:
    """The fixes of a GPX file: each track a vehicle (its name, else the file's stem)."""
    tally = _Tally(name)
    try:
        gpx = gpxpy.parse(content.decode("utf-8-sig"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        raise _file_fault(name, f"not a readable GPX file ({exc})", "gpx") from exc
    fixes: list[Fix] = []
    stem = PurePath(name).stem or name
    number = 0
    for k, track in enumerate(gpx.tracks):
        vehicle = (track.name or "").strip() or (stem if len(gpx.tracks) == 1 else f"{stem}-{k + 1}")
        for segment in track.segments:
            for point in segment.points:
                number += 1
                if point.time is None:
                    tally.add("no_time", number, "track points without a <time>", vehicle)
                    continue
                moment = point.time if point.time.tzinfo else point.time.replace(tzinfo=UTC)
                fixes.append(Fix(vehicle, moment.astimezone(UTC), point.longitude, point.latitude, point.speed))
    if not fixes:
        raise _file_fault(name, "no track point with a time: a trace needs <trk><trkseg><trkpt> with <time>",
                          "no_fixes")
    return fixes, tally


def _row_time(cells: Mapping[str, Any], column: Mapping[str, str], zone: tzinfo) -> datetime | None:
    """A row's time (``None`` when it has none that reads, see :func:`parse_time`)."""
    try:
        return parse_time(cells[column["time"]], zone)
    except (KeyError, ValueError, OverflowError, OSError):
        return None


def _row_vehicle(cells: Mapping[str, Any], column: Mapping[str, str]) -> str | None:
    """A row's vehicle name, ``None`` when it names none."""
    return str(cells.get(column.get("vehicle", ""), "") or "").strip() or None


BAD_TIME = "no time, or a time that is neither ISO 8601 nor seconds since 1970"


def _csv_fixes(name: str, content: bytes, zone: tzinfo) -> tuple[list[Fix], _Tally]:
    """The fixes of a trace CSV (see the module docstring)."""
    tally = _Tally(name)
    try:
        table = read_csv(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _file_fault(name, f"not UTF-8 text (byte {exc.start})", "encoding") from exc
    keys = list(dict.fromkeys(key for record in table.records for key in (*record.headers, *record.cells)))
    read_as = resolve(keys, TRACE_ALIASES)
    column = {name_: key for key, name_ in read_as.items()}
    missing = [c for c in ("time", "lon", "lat") if c not in column]
    if missing:
        known = "; ".join(f"{c}: {', '.join(TRACE_ALIASES[c][:4])}..." for c in missing)
        raise _file_fault(name, f"no {' or '.join(missing)} column (names accepted: {known})", "missing_column")
    stem = PurePath(name).stem or name
    factor = SPEED_FACTORS.get(column.get("speed", ""), 1.0)
    fixes: list[Fix] = []
    for record in table.records:
        cells = record.cells
        vehicle = _row_vehicle(cells, column) or stem
        moment = _row_time(cells, column, zone)
        if moment is None:
            tally.add("bad_time", record.row, BAD_TIME, vehicle)
            continue
        try:
            lon, lat = _position(cells.get(column["lon"]), cells.get(column["lat"]))
        except (TypeError, ValueError):
            tally.add("bad_position", record.row, "no position, or one outside -180..180, -90..90 degrees", vehicle)
            continue
        speed = None
        if "speed" in column and cells.get(column["speed"]) not in (None, ""):
            try:
                speed = float(cells[column["speed"]]) * factor
            except ValueError:
                speed = None  # a speed is a hint to the matcher only: a bad one is not worth a note
        fixes.append(Fix(vehicle, moment, lon, lat, speed))
    if not fixes:
        raise _file_fault(name, "no row with a usable time and position", "no_fixes")
    return fixes, tally


def _late(fixes: Sequence[Fix]) -> dict[str, int]:
    """Vehicle -> its fixes of one file that come earlier than the one before them."""
    last: dict[str, datetime] = {}
    late: dict[str, int] = defaultdict(int)
    for fix in fixes:
        if fix.vehicle in last and fix.time < last[fix.vehicle]:
            late[fix.vehicle] += 1
        last[fix.vehicle] = fix.time
    return late


def _in_order(vehicle: str, fixes: list[Fix], file: str, late: int) -> tuple[list[Fix], list[TraceNote]]:
    """A vehicle's fixes sorted by time (a note when ``late`` of them, within their files, were not), one
    per instant (a note for the rest). Files may come in any order: that is no fault."""
    notes = []
    ordered = sorted(fixes, key=lambda f: f.time)  # stable: of fixes at one instant the first in the file is kept
    if late:
        notes.append(TraceNote("out_of_order", file, late, f"{late} fix(es) earlier than the one before them: "
                               "the fixes were sorted by time", vehicle))
    kept = [f for k, f in enumerate(ordered) if k == 0 or f.time != ordered[k - 1].time]
    if len(kept) < len(ordered):
        repeated = len(ordered) - len(kept)
        notes.append(TraceNote("duplicate_fix", file, repeated, f"{repeated} fix(es) at the same time as another "
                               "of the vehicle: the first kept", vehicle))
    return kept, notes


def read_traces(files: Sequence[tuple[str, bytes]], *, zone: str | None = None) -> TracesRead:
    """Every vehicle's fixes from trace files ``(name, content)``, with notes (see the module docstring).

    A vehicle's fixes from several files are merged; a file identical to one read before is
    skipped with a note. Raises :class:`UploadError` naming the file when one cannot be read at all,
    and :class:`ValueError` for an unknown ``zone``.
    """
    tz = time_zone(zone)
    by_vehicle: dict[str, list[Fix]] = defaultdict(list)
    first_file: dict[str, str] = {}
    notes: list[TraceNote] = []
    hashes: dict[str, str] = {}
    seen: dict[str, str] = {}
    late: dict[str, int] = defaultdict(int)
    for name, content in files:
        digest = hashlib.sha256(content).hexdigest()
        if digest in seen:
            notes.append(TraceNote("duplicate_file", name, 1, f"the same file as {seen[digest]!r}: read once"))
            continue
        seen[digest] = name
        hashes[name] = digest
        fixes, tally = _gpx_fixes(name, content) if _is_gpx(name, content) else _csv_fixes(name, content, tz)
        notes += tally.notes()
        for vehicle, count in _late(fixes).items():
            late[vehicle] += count
        for fix in fixes:
            by_vehicle[fix.vehicle].append(fix)
            first_file.setdefault(fix.vehicle, name)
    ordered: dict[str, list[Fix]] = {}
    for vehicle, fixes in by_vehicle.items():
        ordered[vehicle], said = _in_order(vehicle, fixes, first_file[vehicle], late[vehicle])
        notes += said
    return TracesRead(ordered, notes, hashes)


def read_lifts(name: str, content: bytes, *, bin_ids: Iterable[str], uprns: Mapping[str, str] | None = None,
               zone: str | None = None) -> LiftsRead:
    """The lifts of a lifts CSV whose bin is known (``bin_ids``, or a UPRN of ``uprns``: UPRN -> bin id),
    in time order; lifts of other bins, and rows without a time or a bin, are left out with notes."""
    tz = time_zone(zone)
    try:
        table = read_csv(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _file_fault(name, f"not UTF-8 text (byte {exc.start})", "encoding") from exc
    keys = list(dict.fromkeys(key for record in table.records for key in (*record.headers, *record.cells)))
    column = {name_: key for key, name_ in resolve(keys, LIFT_ALIASES).items()}
    if "time" not in column or ("bin_id" not in column and "uprn" not in column):
        raise _file_fault(name, "a lifts file needs a time column and a bin_id or uprn column", "missing_column")
    known = set(bin_ids)
    by_uprn = {normalise(str(k)): v for k, v in (uprns or {}).items()}
    tally = _Tally(name)
    lifts: list[Lift] = []
    for record in table.records:
        cells = record.cells
        vehicle = _row_vehicle(cells, column)
        moment = _row_time(cells, column, tz)
        if moment is None:
            tally.add("bad_time", record.row, BAD_TIME)
            continue
        bin_id = _lift_bin(cells, column, by_uprn)
        if bin_id is None:
            tally.add("no_bin", record.row, "no bin_id or uprn")
        elif bin_id not in known:
            tally.add("unknown_bin", record.row, "lifts of bins the problem does not have (first: "
                      f"{bin_id!r})")
        else:
            lifts.append(Lift(moment, bin_id, vehicle))
    lifts.sort(key=lambda lift: lift.time)
    return LiftsRead(lifts, tally.notes(), hashlib.sha256(content).hexdigest())


def _lift_bin(cells: Mapping[str, Any], column: Mapping[str, str], by_uprn: Mapping[str, str]) -> str | None:
    """The bin id of a lift row: its bin_id, else the bin of its UPRN (the UPRN itself when unknown)."""
    raw = cells.get(column.get("bin_id", ""))
    if raw not in (None, ""):
        return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    uprn = cells.get(column.get("uprn", ""))
    if uprn in (None, ""):
        return None
    text = str(int(uprn)) if isinstance(uprn, float) and uprn.is_integer() else str(uprn).strip()
    return by_uprn.get(normalise(text), text)
