"""Tests of solver.traces.matching on fixes the GPS throws off the street (``max_outliers``): a fix no
drive on the network reaches from the fixes around it is left out (an ``outlier`` issue), where before
the match broke there and filled the drive back with the quickest one, however long (Monaco at 5 s with
15 m of noise: a fix 55 m off read on a street above a tunnel, a 3.3 km bridge). On a hand-made network,
fixes made by hand so the truth is known; and a drive longer than the seconds between two fixes allow is
none."""

from __future__ import annotations

import pytest

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, match_trace
from tests.conftest import NetworkFactory

#: metres in a degree on the equator
DEG_M = 111_195.0
#: the lorry's speed (m/s) and the seconds between its fixes
SPEED, EVERY_S = 8.0, 5.0


@pytest.fixture
def one_way_side(osm_network: NetworkFactory) -> RoadNetwork:
    """A two-way street west to east on the equator (9.000 to 9.004) and, from its middle (9.002), a
    one-way street north 100 m that comes back to the street's east end only by a loop of some 1.1 km."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.002), 3: (0.0, 9.004), 4: (0.0009, 9.002), 5: (0.004, 9.002),
             6: (0.004, 9.004)}
    ways = [(100, [1, 2, 3], {"highway": "residential"}),
            (101, [2, 4, 5, 6, 3], {"highway": "residential", "oneway": "yes"})]
    return osm_network(nodes, ways, name="one-way-side.osm")


def _fixes(odd_north_m: float | None) -> list[Fix]:
    """Fixes every 5 s of a lorry driving east along the street from 9.0 to 9.004 at 8 m/s, on the street;
    the one 20 m past the middle thrown ``odd_north_m`` metres north, 3 m east of the one-way street."""
    fixes = []
    t = 0.0
    while SPEED * t <= 0.004 * DEG_M:
        east = SPEED * t
        north = 0.0
        if odd_north_m is not None and abs(east - (0.002 * DEG_M + 20.0)) < SPEED * EVERY_S / 2:
            east, north = 0.002 * DEG_M + 3.0, odd_north_m
        fixes.append(Fix("rcv-1", 21_600.0 + t, 9.0 + east / DEG_M, north / DEG_M))
        t += EVERY_S
    return fixes


@pytest.mark.parametrize("north_m", [55.0, 300.0])
def test_a_fix_thrown_onto_a_one_way_street_is_left_out(one_way_side: RoadNetwork, north_m: float) -> None:
    """The fix thrown 55 m north (beyond the 50 m candidates look, only the one-way street near it: reached
    from the fix before, the next is not reached from it) or 300 m (not reached from the fix before): the
    match leaves it out and says so, and drives the street as the lorry did, within 10 m of the drive
    without it; with ``max_outliers`` 0 (the match before) it breaks there and the quickest drive back from
    the one-way street, round its loop, is counted, a kilometre more."""
    trace = clean_trace(one_way_side, "rcv-1", _fixes(north_m))
    clean = match_trace(one_way_side, clean_trace(one_way_side, "rcv-1", _fixes(None)))
    matched = match_trace(one_way_side, trace)
    assert matched.distance_m == pytest.approx(clean.distance_m, abs=10.0)
    assert [(i.kind, i.count) for i in matched.issues if i.kind in ("outlier", "no_match")] == [("outlier", 1)]
    before = match_trace(one_way_side, trace, MatchOptions(max_outliers=0))
    assert before.distance_m > clean.distance_m + 1000.0


def test_a_fix_thrown_up_a_long_side_street_is_not_a_drive_there_and_back(osm_network: NetworkFactory) -> None:
    """A two-way side street 400 m north from the street's middle, and the fix 20 m past it thrown 300 m up
    it: no lorry drives 300 m out and back between fixes 5 s apart (the street's speed, 38 km/h, over the
    seconds the matcher allows gives 240 m), so the fix is left out and the drive is the street's; before
    the bound, the search, which looks a whole street past its limit, drove up the side street and back."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.002), 3: (0.0, 9.004), 4: (400.0 / DEG_M, 9.002)}
    ways = [(100, [1, 2, 3], {"highway": "residential"}), (101, [2, 4], {"highway": "residential"})]
    network = osm_network(nodes, ways, name="long-side.osm")
    clean = match_trace(network, clean_trace(network, "rcv-1", _fixes(None)))
    matched = match_trace(network, clean_trace(network, "rcv-1", _fixes(300.0)))
    assert matched.distance_m == pytest.approx(clean.distance_m, abs=10.0)
    assert [(i.kind, i.count) for i in matched.issues] == [("outlier", 1)]
