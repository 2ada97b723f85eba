"""Tests of solver.traces.matching on turns at bins (issue 18): a crew that drives up a street to a bin,
stands there and turns round drove the street twice where the straight line between its fixes does
not see it, and at 30 s the match cut such streets out (Monaco at 30 s: a bin 134 m up a fork, its
fixes read on the other branch, 268 m short). On a hand-made network, fixes every 30 s with 10 m of
noise a axis, the bin given as a stand."""

from __future__ import annotations

import numpy as np
import pytest

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, Stands, match_trace
from tests.conftest import NetworkFactory

#: metres in a degree on the equator
DEG_M = 111_195.0
#: the fork's two branches: their bearings (degrees north of east) and lengths (metres)
SPUR_DEG, SPUR_M = 20.0, 160.0
BRANCH_DEG, BRANCH_M = 10.0, 400.0
#: where along the spur the bin stands, and the lorry's lift there, metres and seconds
BIN_M, LIFT_S = 110.0, 30.0
#: the lorry's speed, m/s
SPEED = 8.0


def _at(bearing_deg: float, metres: float) -> tuple[float, float]:
    """(north, east) metres of a point ``metres`` from the fork along ``bearing_deg``."""
    return metres * np.sin(np.radians(bearing_deg)), metres * np.cos(np.radians(bearing_deg))


@pytest.fixture
def fork(osm_network: NetworkFactory) -> RoadNetwork:
    """A two-way street west to east on the equator (9.000 to 9.002), forking at 9.002 into a two-way
    spur (20 degrees north of east, 160 m to a dead end) and a two-way branch (10 degrees, 400 m): 110 m
    up the spur, where the bin stands, the branch is some 19 m away."""
    spur, branch = _at(SPUR_DEG, SPUR_M), _at(BRANCH_DEG, BRANCH_M)
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.002), 3: (spur[0] / DEG_M, 9.002 + spur[1] / DEG_M),
             4: (branch[0] / DEG_M, 9.002 + branch[1] / DEG_M)}
    ways = [(100, [1, 2], {"highway": "residential"}), (101, [2, 3], {"highway": "residential"}),
            (102, [2, 4], {"highway": "residential"})]
    return osm_network(nodes, ways, name="fork.osm")


def _fixes(seed: int, interval_s: float = 30.0) -> tuple[list[Fix], float]:
    """Fixes every ``interval_s`` seconds, off by 10 m a axis, of a lorry driving east from 9.0002 to the fork, 110 m up
    the spur to the bin, standing 30 s there, and back the way it came; and the true metres."""
    rng = np.random.default_rng(seed)
    to_fork = 0.0018 * DEG_M
    legs = [to_fork, BIN_M, 0.0, BIN_M, to_fork]
    seconds = [m / SPEED for m in legs]
    seconds[2] = LIFT_S
    ends = np.cumsum(seconds)
    times = np.append(np.arange(0.0, ends[-1], interval_s), ends[-1])
    fixes = []
    for t in times:
        k = min(int(np.searchsorted(ends, t, side="left")), len(legs) - 1)
        into = (t - (ends[k - 1] if k else 0.0)) * SPEED
        north, east = [(0.0, into - to_fork), _at(SPUR_DEG, into), _at(SPUR_DEG, BIN_M), _at(SPUR_DEG, BIN_M - into),
                       (0.0, -into)][k]
        x, y = 9.002 * DEG_M + east + rng.normal(0, 10.0), north + rng.normal(0, 10.0)
        fixes.append(Fix("rcv-1", 21_600.0 + float(t), x / DEG_M, y / DEG_M))
    return fixes, float(sum(legs))


def _stands(network: RoadNetwork) -> Stands:
    """The bin 110 m up the spur, in the network's projection, with its 30 s lift."""
    north, east = _at(SPUR_DEG, BIN_M)
    x, y = network.to_xy().transform(9.002 + east / DEG_M, north / DEG_M)
    return Stands(xy=np.array([[x, y]]), service_s=np.array([LIFT_S]))


def _spur_m(network: RoadNetwork, pieces: list[tuple[int, float, float]]) -> float:
    """Metres of ``pieces`` on the spur (either direction: the edges of its length)."""
    spur = np.flatnonzero(np.abs(network.edge_length_m - SPUR_M) < 2.0)
    return sum((b - a) * float(network.edge_length_m[e]) for e, a, b in pieces if e in spur)


def test_a_turn_at_a_bin_up_a_fork_is_read(fork: RoadNetwork) -> None:
    """A lorry drives 110 m up one branch of a fork to a bin, the other branch 19 m from it, stands
    30 s, turns round at the bin and drives back the way it came (620 m): given the bin, on at least 11
    of 12 draws of the noise the match drives up the spur to about the bin and back (150-260 m of it)
    and its metres are within 40 m of the truth. Before turns at bins were weighed apart
    (``bin_turns`` off: every turn mid-street costs ``reverse_cost``), 6 of 12: on five the match drove to
    the spur's dead end and back, where the turn costs nothing (+87 to +112 m; on one of them it still
    does), on one the fix at the bin was read on the other branch (the spur cut out)."""
    stands = _stands(fork)
    good = 0
    for seed in range(12):
        fixes, true_m = _fixes(seed)
        matched = match_trace(fork, clean_trace(fork, "rcv-1", fixes), stands=stands)
        spur_m = _spur_m(fork, matched.pieces)
        good += abs(matched.distance_m - true_m) < 40.0 and 2 * BIN_M - 70.0 < spur_m < 2 * BIN_M + 40.0
    assert good >= 11


def test_turns_at_bins_only_on_sparse_traces_given_bins(fork: RoadNetwork) -> None:
    """Without the bins, or with ``bin_turns`` off, the match is the match as before to the piece; on a
    trace of fixes 5 s apart the bins change no turn."""
    fixes, _ = _fixes(1)
    trace = clean_trace(fork, "rcv-1", fixes)
    plain = match_trace(fork, trace, MatchOptions(time_weight=0.0))
    off = match_trace(fork, trace, MatchOptions(time_weight=0.0, bin_turns=False), stands=_stands(fork))
    on = match_trace(fork, trace, MatchOptions(time_weight=0.0), stands=_stands(fork))
    assert off.pieces == plain.pieces
    assert on.pieces != plain.pieces  # the draw where the match before drove to the dead end
    dense = clean_trace(fork, "rcv-1", _fixes(1, interval_s=5.0)[0])
    assert (match_trace(fork, dense, stands=_stands(fork)).pieces == match_trace(fork, dense).pieces)
