"""Tests of solver.traces.matching on the cause of Monaco rcv-2's matched drive 4 % too long at 5 s
(issue 18): where many streets lie near a fix (Monaco's streets above and below each other), the
street the lorry drove must still be among the fix's candidates. On a hand-made network, fixes
every 5 s."""

from __future__ import annotations

import numpy as np
import pytest

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, match_trace
from tests.conftest import NetworkFactory

#: metres in a degree on the equator
DEG_M = 111_195.0
#: the five two-way streets of the bundle lie this many metres north of the lorry's street
BUNDLE_M = (12.0, 16.0, 20.0, 24.0, 28.0)


@pytest.fixture
def bundle(osm_network: NetworkFactory) -> RoadNetwork:
    """A one-way street east along the equator (9.000 to 9.004), and beside its middle (9.0012 to
    9.0030) five two-way streets 12-28 m north of it, reached only from a road 300 m north that
    joins the street's two ends: ten candidates nearer to a fix 20 m north of the street than the
    street itself, none of them within a few seconds' drive of it."""
    north = 300.0 / DEG_M
    nodes: dict[int, tuple[float, float]] = {1: (0.0, 9.0), 2: (0.0, 9.004), 3: (north, 9.004), 4: (north, 9.0)}
    ways = [(100, [1, 2], {"highway": "residential", "oneway": "yes"})]
    tops: list[int] = []  # the bundle's ends on the north road
    for k, metres in enumerate(BUNDLE_M):
        west, east, top_w, top_e = 10 + 4 * k, 11 + 4 * k, 12 + 4 * k, 13 + 4 * k
        nodes |= {west: (metres / DEG_M, 9.0012), east: (metres / DEG_M, 9.0030),
                  top_w: (north, 9.0012 + 0.00001 * (k + 1)), top_e: (north, 9.0030 + 0.00001 * (k + 1))}
        ways.append((200 + k, [top_w, west, east, top_e], {"highway": "residential"}))
        tops += [top_w, top_e]
    tops.sort(key=lambda n: -nodes[n][1])  # east to west
    ways.append((101, [2, 3, *tops, 4, 1], {"highway": "residential"}))
    return osm_network(nodes, ways, name="bundle.osm")


def _fixes() -> tuple[list[Fix], float]:
    """Fixes every 5 s of a lorry driving east along the street at 8 m/s from 9.0002 to 9.0038, those
    beside the bundle 20 m north of it (a GPS thrown off by the buildings, or Monaco's roads above
    each other), the rest on it; and the true metres."""
    times = np.arange(0.0, (9.0038 - 9.0002) * DEG_M / 8.0, 5.0)
    lon = 9.0002 + times * 8.0 / DEG_M
    lat = np.where((lon > 9.0014) & (lon < 9.0028), 20.0 / DEG_M, 0.0)
    fixes = [Fix("rcv-1", 21_600.0 + float(t), float(x), float(y)) for t, x, y in zip(times, lon, lat, strict=True)]
    return fixes, float(times[-1] * 8.0)


def test_the_street_driven_is_a_candidate_among_many_nearer(bundle: RoadNetwork) -> None:
    """Beside the bundle each fix has ten candidates nearer than the lorry's street; the match keeps
    to the street, its metres those driven, with no break. With the 8 nearest candidates (the
    matcher before) the street was left out there: the match broke (``no_match``) and drove round by
    the road 300 m north, 2,450 m for 400."""
    fixes, true_m = _fixes()
    matched = match_trace(bundle, clean_trace(bundle, "rcv-1", fixes))
    assert not matched.bridges and not [i for i in matched.issues if i.kind == "no_match"]
    assert abs(matched.distance_m - true_m) < 20.0
    before = match_trace(bundle, clean_trace(bundle, "rcv-1", fixes), MatchOptions(max_candidates=8))
    assert before.distance_m > true_m + 500.0
