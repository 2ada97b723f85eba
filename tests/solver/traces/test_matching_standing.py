"""Tests of solver.traces.matching on a cause of matched drives too long found on the Oakham case
(issue 18): a lorry standing near a junction, whose noisy fixes fall over it onto the next street and
back, must not read as driving round the block to get back. On a hand-made network, fixes every 5 s
with 10 m of noise (tests/solver/traces/test_matching_oakham.py has the case itself)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, match_trace
from tests.conftest import NetworkFactory

#: metres in a degree of longitude on the equator
DEG_M = 111_195.0


def _drive_with_stand(start_lon: float, stand_lon: float, end_lon: float, *, lat: float, stand_s: float,
                      seed: int, noise_m: float = 10.0) -> tuple[list[Fix], float]:
    """Fixes every 5 s of a lorry driving east along latitude ``lat`` at 5 m/s from ``start_lon`` to
    ``end_lon``, standing ``stand_s`` seconds at ``stand_lon``, each with ``noise_m`` metres of noise a
    axis; and the true metres."""
    rng = np.random.default_rng(seed)
    first_m, stand_m, last_m = ((x - start_lon) * DEG_M for x in (start_lon, stand_lon, end_lon))
    arrive = (stand_m - first_m) / 5.0
    end = arrive + stand_s + (last_m - stand_m) / 5.0
    times = np.arange(0.0, end + 1e-9, 5.0)
    along = np.where(times < arrive, times * 5.0, np.where(times < arrive + stand_s, stand_m,
                                                           stand_m + (times - arrive - stand_s) * 5.0))
    lon = start_lon + along / DEG_M + rng.normal(0, noise_m / DEG_M, times.size)
    lats = lat + rng.normal(0, noise_m / DEG_M, times.size)
    fixes = [Fix("rcv-1", 21_600.0 + t, float(x), float(y)) for t, x, y in zip(times, lon, lats, strict=True)]
    return fixes, float(last_m - first_m)


@pytest.fixture
def small_block(osm_network: NetworkFactory) -> RoadNetwork:
    """A street west to east on the equator (9.000 to 9.0025), whose stretch 9.001 to 9.0015 (56 m) is
    the south side of a 56 m square block (Oakham's short streets)."""
    step = 0.0005
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.001 + step), 4: (0.0, 9.0025),
             5: (step, 9.001 + step), 6: (step, 9.001)}
    ways = [(100, [1, 2, 3, 4], {"highway": "residential"}), (101, [3, 5, 6, 2], {"highway": "residential"})]
    return osm_network(nodes, ways, name="block.osm")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standing_before_a_junction_is_no_loop(small_block: RoadNetwork, seed: int) -> None:
    """A lorry standing 8 m short of a junction for 5 minutes, its fixes falling past the junction
    onto the next street and back: the fixes fallen back are the lorry standing, not a drive round
    the block to get back: no street of the block is driven, and the match's metres are the 222 m
    driven give or take the ends' noise (a fix is 10 m off a axis; the last ones are seen at their
    mean)."""
    fixes, true_m = _drive_with_stand(9.0003, 9.0015 - 8.0 / DEG_M, 9.0023, lat=0.0, stand_s=300.0, seed=seed)
    matched = match_trace(small_block, clean_trace(small_block, "rcv-1", fixes))
    main_y = shapely.get_coordinates(small_block.edge_xy[0])[0, 1]
    off_main = [e for e, a, b in matched.pieces
                if b > a and np.abs(shapely.get_coordinates(small_block.edge_xy[e])[:, 1] - main_y).max() > 1.0]
    assert off_main == []
    assert abs(matched.distance_m - true_m) < 50.0
    assert np.all(np.diff(matched.along_m) >= 0)


@pytest.mark.parametrize("stub_m", [30.0, 45.0])
def test_a_stand_at_15_m_of_noise_by_a_driveway_is_one_place(osm_network: NetworkFactory, stub_m: float) -> None:
    """A lorry standing 5 minutes 5 m short of a driveway (a dead end ``stub_m`` long going north off its
    street), fixes 5 s apart with 15 m of noise a axis (60 fixes 20-50 m apart), matched with that error:
    over ten draws of the noise, read as one place (``stand_sigmas``: matched at the mean of its fixes),
    the driveway is never driven and the metres are those driven give or take the ends' noise. Thinned fix
    by fix against the last one seen (a fix farther than twice the error from it seen anew), the fixes
    thrown north read as drives up the driveway and back in five draws of ten (Oakham's driveways at 5 s:
    +2.4 to +7.9 %)."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.0015), 3: (0.0, 9.003), 4: (stub_m / DEG_M, 9.0015)}
    ways = [(100, [1, 2, 3], {"highway": "residential"}), (101, [2, 4], {"highway": "residential"})]
    network = osm_network(nodes, ways, name="driveway.osm")
    main_y = shapely.get_coordinates(network.edge_xy[0])[0, 1]
    wrong = []
    for seed in range(10):
        fixes, true_m = _drive_with_stand(9.0003, 9.0015 - 5.0 / DEG_M, 9.0027, lat=0.0, stand_s=300.0, seed=seed,
                                          noise_m=15.0)
        matched = match_trace(network, clean_trace(network, "rcv-1", fixes), MatchOptions(sigma_m=15.0))
        up = [e for e, a, b in matched.pieces
              if b > a and np.abs(shapely.get_coordinates(network.edge_xy[e])[:, 1] - main_y).max() > 1.0]
        if up or matched.distance_m - true_m > 40.0:
            wrong.append((seed, round(matched.distance_m - true_m)))
    assert wrong == []
