"""Tests of solver.traces.relay: the drive laid through a bin collected that it does not pass. On the
hand-made street grid (tests/conftest.py), the spur day of test_standing.py: a lorry drives up a column
street 50 m to a bin and back while its fixes are lost (a tunnel of buildings), so the matched drive
turns at the corner and never goes up the street."""

from __future__ import annotations

import numpy as np
import pytest

from solver.network import RoadNetwork
from solver.snapping import snap_points
from solver.traces.clean import clean_trace
from solver.traces.matching import MatchedTrace, match_trace
from solver.traces.relay import Via, through_bins

from .test_standing import EAST_END, M_PER_DEG, _spur_day

#: how far up the column street the bin stands, and where the day ends west of the east end (metres),
#: as _spur_day drives it
SPUR_M, HOME_M = 50.0, 150.0


def _day(street_grid: RoadNetwork) -> tuple[MatchedTrace, Via]:
    """The matched spur day, and the spur's bin as a via at the middle of the fixes' gap."""
    bins, fixes = _spur_day(street_grid, up_the_spur=True)
    matched = match_trace(street_grid, clean_trace(street_grid, "rcv-1", fixes))
    gap = int(np.argmax(np.diff(matched.time_s)))
    spur = next(b for b in bins if b.id == "b")
    snapped = snap_points(street_grid, np.array([[spur.lon, spur.lat]]))
    edge = int(snapped.edge[0])
    at_m = float(snapped.fraction[0]) * float(street_grid.edge_length_m[edge])
    when = 0.5 * float(matched.time_s[gap] + matched.time_s[gap + 1])
    return matched, Via(when, edge, at_m, spur.service_s)


def test_the_drive_is_laid_up_the_spur_to_the_bin(street_grid: RoadNetwork) -> None:
    """Laid through the bin, the drive is as long as the lorry drove (to the east end, up the spur and
    back, west to 150 m: within 15 m; the match turned 31 m short of the corner, and cut the spur out),
    drives the column street's edge the bin is on, keeps the fixes before the gap where they were and
    moves those after it on by the metres laid, and the gap's bridge grows by as many."""
    matched, via = _day(street_grid)
    laid = through_bins(street_grid, matched, [via])
    east_m = (EAST_END - 9.0) * M_PER_DEG
    assert laid.distance_m == pytest.approx(east_m + 2 * SPUR_M + east_m - HOME_M, abs=15.0)
    assert matched.distance_m < laid.distance_m - 2 * SPUR_M
    added = laid.distance_m - matched.distance_m
    twin = int(street_grid.edge_twin[via.edge])
    assert any(e in (via.edge, twin) and b > a for e, a, b in laid.pieces)
    assert not any(e in (via.edge, twin) for e, _, _ in matched.pieces)
    gap = int(np.argmax(np.diff(matched.time_s)))
    assert np.allclose(laid.along_m[:gap + 1], matched.along_m[:gap + 1])
    assert np.allclose(laid.along_m[gap + 1:], matched.along_m[gap + 1:] + added)
    assert laid.bridged_m == pytest.approx(matched.bridged_m + added)
    assert np.all(np.diff(laid.along_m) >= 0)


def test_a_bin_whose_lift_the_seconds_cannot_hold_is_not_laid(street_grid: RoadNetwork) -> None:
    """A bin whose lift alone takes longer than the seconds the matcher allows between the gap's fixes:
    the drive is left as it was (the time says the lorry did not go there); with no bins, too."""
    matched, via = _day(street_grid)
    dt_s = float(np.max(np.diff(matched.time_s)))
    slow = Via(via.time_s, via.edge, via.at_m, service_s=2.0 * dt_s + 60.0)
    assert through_bins(street_grid, matched, [slow]).pieces == matched.pieces
    assert through_bins(street_grid, matched, []) is matched
