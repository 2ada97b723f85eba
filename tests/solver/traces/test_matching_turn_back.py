"""Tests of solver.traces.matching on a crew that drives up a street, collecting, turns round and drives
back down it, at 1 s (issue 18): the smoothed fixes fall back a few metres a fix, each within
``backtrack_m`` of the last, and the match read the whole street as the lorry standing at its mouth
(Oakham rcv-4 at 1 s, seed 1: 1.8 km of such streets, -2.08 %). On a hand-made network, fixes every
second with 10 m of noise a axis."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import match_trace
from tests.conftest import NetworkFactory
from tests.solver.traces.conftest import side_street_network

#: metres in a degree on the equator
DEG_M = 111_195.0
#: the side street's length, and how far up it the crew collects before turning round, metres
SIDE_M, TURN_M = 120.0, 60.0
#: the lorry's speed, m/s; its stands at the bins, every 20 m up the side street, seconds
SPEED, STAND_S = 6.0, 10.0


@pytest.fixture
def side_street(osm_network: NetworkFactory) -> RoadNetwork:
    """A two-way street west to east on the equator (9.000 to 9.004), and a two-way side street off it
    at 9.002, 120 m north to a dead end."""
    return side_street_network(osm_network, SIDE_M)


def _fixes(seed: int) -> tuple[list[Fix], float]:
    """Fixes every second, off by 10 m a axis, of a lorry driving east from 9.0005 to the side street,
    up it 60 m, standing 10 s every 20 m, turning round there and driving back down and on east to
    9.0035; and the true metres."""
    rng = np.random.default_rng(seed)
    to_junction = (9.002 - 9.0005) * DEG_M
    # (seconds, east metres at the start, north metres at the start, east speed, north speed)
    legs: list[tuple[float, float, float, float, float]] = [(to_junction / SPEED, -to_junction, 0.0, SPEED, 0.0)]
    for k in range(int(TURN_M // 20)):
        legs += [(20.0 / SPEED, 0.0, 20.0 * k, 0.0, SPEED), (STAND_S, 0.0, 20.0 * (k + 1), 0.0, 0.0)]
    legs += [(TURN_M / SPEED, 0.0, TURN_M, 0.0, -SPEED), (to_junction / SPEED, 0.0, 0.0, SPEED, 0.0)]
    ends = np.cumsum([leg[0] for leg in legs])
    fixes = []
    for t in np.arange(0.0, ends[-1], 1.0):
        k = int(np.searchsorted(ends, t, side="right"))
        into = t - (ends[k - 1] if k else 0.0)
        _, east, north, v_east, v_north = legs[k]
        x = 9.002 * DEG_M + east + v_east * into + rng.normal(0, 10.0)
        y = north + v_north * into + rng.normal(0, 10.0)
        fixes.append(Fix("rcv-1", 21_600.0 + float(t), x / DEG_M, y / DEG_M))
    return fixes, 2 * to_junction + 2 * TURN_M


def _side_m(network: RoadNetwork, pieces: list[tuple[int, float, float]]) -> float:
    """Metres of ``pieces`` on the side street (either direction)."""
    main_y = shapely.get_coordinates(network.edge_xy[0])[0, 1]
    return sum((b - a) * float(network.edge_length_m[e]) for e, a, b in pieces
               if np.abs(shapely.get_coordinates(network.edge_xy[e])[:, 1] - main_y).max() > 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_a_street_driven_up_and_back_is_no_stand(side_street: RoadNetwork, seed: int) -> None:
    """The match drives up the side street and back (80-160 m of it, 120 m true) and its metres are
    within 40 m of the truth. The matcher before, which took a fix up to ``backtrack_m`` (80 m) behind the
    last one on the same edge for the lorry standing however far behind the farthest point reached, read
    the side street as the lorry standing at its mouth on 4 of these 8 draws (-120 m)."""
    fixes, true_m = _fixes(seed)
    trace = clean_trace(side_street, "rcv-1", fixes)
    matched = match_trace(side_street, trace)
    assert 2 * TURN_M - 40.0 < _side_m(side_street, matched.pieces) < 2 * TURN_M + 40.0
    assert abs(matched.distance_m - true_m) < 40.0
