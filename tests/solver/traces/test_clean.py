"""Tests of solver.traces.clean: each kind of bad trace is said and the rest kept: fixes out of time
order (sorted), duplicated times, invalid numbers, fixes off the network's area (dropped, counted; a
whole trace of another area said so), a jump of kilometres (cut, the fixes it went to dropped), an
hour without fixes (a break)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solver.traces.clean import CleanOptions, clean_trace
from solver.traces.fixes import Fix
from solver.traces.simulate import TraceOptions, simulate_round


@pytest.fixture
def fixes(grid_case: SimpleNamespace) -> list[Fix]:
    """A simulated trace of the grid's snake round, 5 s apart, no dropouts, no tunnel."""
    return list(simulate_round(grid_case.prepared, "rcv-1", grid_case.stops,
                               TraceOptions(seed=1, dropout=0.0, tunnel_s=0.0)).fixes)


def _kinds(trace: object) -> dict[str, int]:
    return {i.kind: i.count for i in trace.issues}  # type: ignore[attr-defined]


def test_a_good_trace_is_one_piece(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """A clean trace keeps every fix, in one piece, with no issue."""
    trace = clean_trace(grid_case.network, "rcv-1", fixes)
    assert len(trace.pieces) == 1 and trace.n_kept == len(fixes) and not trace.issues


def test_out_of_order_fixes_are_sorted_and_said(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """Shuffled fixes come out in time order, all kept, and the issue counts the late ones."""
    shuffled = [fixes[i] for i in np.random.default_rng(0).permutation(len(fixes))]
    trace = clean_trace(grid_case.network, "rcv-1", shuffled)
    assert trace.n_kept == len(fixes)
    assert np.all(np.diff(trace.pieces[0].time_s) > 0)
    assert _kinds(trace)["out_of_order"] > 0


def test_duplicates_and_invalid_fixes(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """A fix repeated at the same time keeps the first (it came late in the file: out of order too); a NaN
    coordinate or a latitude of 95 is dropped."""
    bad = [*fixes[:10], fixes[5], Fix("rcv-1", fixes[10].time_s + 0.5, float("nan"), 0.0),
           Fix("rcv-1", fixes[10].time_s + 0.7, 9.0, 95.0), *fixes[10:]]
    trace = clean_trace(grid_case.network, "rcv-1", bad)
    assert trace.n_kept == len(fixes)
    assert _kinds(trace) == {"duplicate_time": 1, "invalid": 2, "out_of_order": 1}


def test_fixes_off_the_network_are_dropped_and_counted(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """Fixes a kilometre from any street are dropped and counted; the rest is kept."""
    far = [Fix("rcv-1", f.time_s + 0.5, f.lon, f.lat + 0.01) for f in fixes[100:105]]
    trace = clean_trace(grid_case.network, "rcv-1", [*fixes, *far])
    assert _kinds(trace)["off_network"] == 5
    assert trace.n_kept == len(fixes)


def test_a_trace_of_another_area(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """A trace lying wholly elsewhere (here 1 degree north) is said to be of another area, and nothing is kept."""
    elsewhere = [Fix(f.vehicle_id, f.time_s, f.lon, f.lat + 1.0) for f in fixes]
    trace = clean_trace(grid_case.network, "rcv-1", elsewhere)
    assert trace.pieces == ()
    issue = trace.issues[0]
    assert issue.kind == "off_network" and issue.count == len(fixes) and "another area" in issue.detail


def test_a_jump_of_kilometres_cuts_the_trace(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """Two fixes hundreds of metres off within half a second (a GPS glitch; the grid is 667 m wide, so a
    glitch on a street of it lies at most that far) are cut out: the trace is cut at the jumps, the two
    fixes dropped as an outlier piece, the rest kept in two pieces."""
    k = len(fixes) // 3
    start = fixes[k]
    corners = [(9.0, 0.0), (9.006, 0.0), (9.0, 0.003), (9.006, 0.003)]
    lon, lat = max(corners, key=lambda c: np.hypot(c[0] - start.lon, c[1] - start.lat))
    assert np.hypot(start.lon - lon, start.lat - lat) * 111_195.0 > 500.0
    glitch = [Fix("rcv-1", start.time_s + 0.2, lon, lat), Fix("rcv-1", start.time_s + 0.4, lon, lat)]
    trace = clean_trace(grid_case.network, "rcv-1", [*fixes, *glitch])
    kinds = _kinds(trace)
    assert kinds["jump"] == 2 and kinds["outlier"] == 2
    assert len(trace.pieces) == 2 and trace.n_kept == len(fixes)
    assert trace.pieces[1].after == "jump"


def test_an_hour_without_fixes_breaks_the_match(grid_case: SimpleNamespace, fixes: list[Fix]) -> None:
    """An hour with no fix splits the trace into two pieces, the second after a gap."""
    half = len(fixes) // 2
    later = [*fixes[:half], *(Fix(f.vehicle_id, f.time_s + 3600.0, f.lon, f.lat) for f in fixes[half:])]
    trace = clean_trace(grid_case.network, "rcv-1", later, CleanOptions(max_gap_s=1200.0))
    assert [p.after for p in trace.pieces] == ["start", "gap"]
    assert _kinds(trace) == {"gap": 1}


def test_options_are_checked() -> None:
    """Limits must be positive."""
    with pytest.raises(ValueError, match="max_gap_s"):
        CleanOptions(max_gap_s=0.0)
