"""Trace and lift files read as telematics and in-cab systems export them: what a good file gives,
and each fault of part of a file stated with the rest kept (a whole unreadable file refused)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.services.trace_files import Fix, TraceNote, parse_time, read_lifts, read_traces
from app.services.upload_faults import UploadError

TRACE_CSV = (b"Registration,Timestamp,Latitude,Longitude,Speed_kmh\n"
             b"RU21 ABC,2026-12-07T07:00:00Z,43.7302,7.4149,36\n"
             b"RU21 ABC,2026-12-07T07:00:10Z,43.7305,7.4152,18\n"
             b"RU21 ABD,2026-12-07T07:00:05Z,43.7310,7.4160,\n")

GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>rcv-7</name><trkseg>
  <trkpt lat="43.7302" lon="7.4149"><time>2026-12-07T07:00:00Z</time></trkpt>
  <trkpt lat="43.7303" lon="7.4150"></trkpt>
  <trkpt lat="43.7304" lon="7.4151"><time>2026-12-07T07:00:02Z</time></trkpt>
 </trkseg></trk>
</gpx>"""


def kinds(notes: list[TraceNote]) -> dict[str, int]:
    """Note kind -> count."""
    return {n.kind: n.count for n in notes}


def test_a_trace_csv_gives_each_vehicle_s_fixes_by_its_column_aliases() -> None:
    """Registration, Timestamp, Latitude, Longitude are the vehicle, time and position; a speed in
    km/h is read in metres a second; an empty speed is unknown."""
    read = read_traces([("traces.csv", TRACE_CSV)])
    assert sorted(read.fixes) == ["RU21 ABC", "RU21 ABD"]
    first = read.fixes["RU21 ABC"][0]
    assert first == Fix("RU21 ABC", datetime(2026, 12, 7, 7, 0, tzinfo=UTC), 7.4149, 43.7302, 10.0)
    assert read.fixes["RU21 ABD"][0].speed_mps is None
    assert read.notes == [] and len(read.hashes["traces.csv"]) == 64


def test_fixes_out_of_order_are_sorted_and_a_repeated_instant_kept_once_each_said() -> None:
    """Three fixes given 07:00:10, 07:00:00, 07:00:00: sorted (one note: one out of order), the second
    of the same instant dropped (one note), two kept."""
    content = (b"vehicle,time,lon,lat\nv,2026-12-07T07:00:10Z,7.41,43.73\nv,2026-12-07T07:00:00Z,7.42,43.73\n"
               b"v,2026-12-07T07:00:00Z,7.43,43.73\n")
    read = read_traces([("t.csv", content)])
    assert [f.lon for f in read.fixes["v"]] == [7.42, 7.41]
    assert kinds(read.notes) == {"out_of_order": 1, "duplicate_fix": 1}


def test_bad_rows_are_left_out_with_their_rows_named_and_the_rest_kept() -> None:
    """A row with no time and one with a latitude of 143 are each stated by row; the good row is kept."""
    content = (b"vehicle,time,lon,lat\nv,,7.41,43.73\nv,2026-12-07T07:00:00Z,7.41,143.7\n"
               b"v,2026-12-07T07:00:05Z,7.41,43.73\n")
    read = read_traces([("t.csv", content)])
    assert len(read.fixes["v"]) == 1
    assert {(n.kind, tuple(n.rows)) for n in read.notes} == {("bad_time", (2,)), ("bad_position", (3,))}


def test_a_file_sent_twice_is_read_once() -> None:
    """The same bytes under another name are skipped with a note naming the first file."""
    read = read_traces([("monday.csv", TRACE_CSV), ("copy.csv", TRACE_CSV)])
    assert len(read.fixes["RU21 ABC"]) == 2
    (note,) = read.notes
    assert (note.kind, note.file) == ("duplicate_file", "copy.csv") and "monday.csv" in note.msg


def test_times_without_a_zone_are_read_in_the_zone_named_and_seconds_since_1970_are_utc() -> None:
    """07:00 in Europe/London in winter is 07:00 UTC, in summer 06:00 UTC; 1796601600 is 2026-12-07 00:00 UTC."""
    london = ZoneInfo("Europe/London")
    assert parse_time("2026-12-07 07:00:00", london) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert parse_time("2026-06-07 07:00:00", london) == datetime(2026, 6, 7, 6, 0, tzinfo=UTC)
    assert parse_time("1796601600") == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def test_a_gpx_track_is_a_vehicle_and_points_without_time_are_said() -> None:
    """A track named rcv-7 gives that vehicle's fixes; its point with no <time> is left out with a note."""
    read = read_traces([("day.gpx", GPX)])
    assert [(f.vehicle, f.lat) for f in read.fixes["rcv-7"]] == [("rcv-7", 43.7302), ("rcv-7", 43.7304)]
    assert kinds(read.notes) == {"no_time": 1}


@pytest.mark.parametrize(("name", "content", "said"), [
    ("t.csv", b"vehicle,when,lon,lat\nv,07:00,7.41,43.73\n", "no time column"),
    ("t.csv", b"vehicle,time,lon,lat\nv,,7.41,43.73\n", "no row with a usable time and position"),
    ("t.gpx", b"<gpx><trk><trkseg></trkseg></trk>", "not a readable GPX file"),
])
def test_a_file_that_cannot_be_read_at_all_is_refused_naming_it(name: str, content: bytes, said: str) -> None:
    """No time column, no usable row, or broken GPX: one fault naming the file, nothing kept."""
    with pytest.raises(UploadError) as caught:
        read_traces([("good.csv", TRACE_CSV), (name, content)])
    (item,) = caught.value.items()
    assert f"file {name!r}" in item["msg"] and said in item["msg"]


def test_lifts_of_known_bins_are_kept_by_bin_or_uprn_and_others_said() -> None:
    """A lift naming bin b1, one naming the UPRN of b2, one of an unknown bin and one with no bin:
    two lifts kept in time order, two notes."""
    content = (b"time,vehicle,bin_id,uprn\n2026-12-07T07:05:00Z,v,,100001\n2026-12-07T07:01:00Z,v,b1,\n"
               b"2026-12-07T07:02:00Z,v,b9,\n2026-12-07T07:03:00Z,v,,\n")
    read = read_lifts("lifts.csv", content, bin_ids={"b1", "b2"}, uprns={"100001": "b2"})
    assert [(lift.bin_id, lift.time.minute) for lift in read.lifts] == [("b1", 1), ("b2", 5)]
    assert {(n.kind, tuple(n.rows)) for n in read.notes} == {("unknown_bin", (4,)), ("no_bin", (5,))}


def test_files_of_one_vehicle_merge_in_time_order_whatever_order_they_come_in() -> None:
    """The afternoon's file before the morning's: the fixes merge in time order, and that is no fault."""
    morning = b"vehicle,time,lon,lat\nv,2026-12-07T07:00:00Z,7.41,43.73\n"
    afternoon = b"vehicle,time,lon,lat\nv,2026-12-07T13:00:00Z,7.42,43.73\n"
    read = read_traces([("pm.csv", afternoon), ("am.csv", morning)])
    assert [f.time.hour for f in read.fixes["v"]] == [7, 13] and read.notes == []
