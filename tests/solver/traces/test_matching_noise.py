"""Tests of solver.traces.matching on the GPS error a trace shows (``gps_error_m``, ``measure_sigma``): a
dense trace's own noise is read from its fixes' offsets from their local mean, a sparse one's from its
fixes' distances to the nearest street (Newson and Krumm's estimate, low where streets are close); a
trace noisier than ``sigma_m`` is matched with its own error. On the hand-made street grid of
tests/conftest.py (fixes made by hand so the truth is known) and a simulated round of Monaco."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, gps_error_m, match_trace
from solver.traces.simulate import TraceOptions, simulate_round

#: metres per degree on the equator (the grid lies on it); the grid's first row street, degrees north
M_PER_DEG, ROW_1 = 111_320.0, 0.001


def _fixes(noise_m: float, interval_s: float, seed: int, stand_s: float = 0.0) -> list[Fix]:
    """A lorry driving east along row 1 at 5 m/s from 9.0 for 300 m, standing ``stand_s`` seconds, and on
    300 m: fixes every ``interval_s`` seconds, each off by ``noise_m`` metres a axis."""
    rng = np.random.default_rng(seed)
    fixes = []
    for t in np.arange(0.0, 120.0 + stand_s, interval_s):
        east = 5.0 * min(t, 60.0) + 5.0 * max(t - 60.0 - stand_s, 0.0)
        x, y = 9.0 * M_PER_DEG + 30.0 + east + rng.normal(0, noise_m), ROW_1 * M_PER_DEG + rng.normal(0, noise_m)
        fixes.append(Fix("rcv-1", 21_600.0 + float(t), x / M_PER_DEG, y / M_PER_DEG))
    return fixes


@pytest.mark.parametrize("noise_m", [5.0, 15.0])
def test_a_dense_traces_error_is_read_from_its_fixes(street_grid: RoadNetwork, noise_m: float) -> None:
    """Fixes every second, 5 or 15 m off a axis: the error read is within 15 % of it; every 30 s (too few
    to measure against their mean), the distance to the street reads no more than it."""
    trace = clean_trace(street_grid, "rcv-1", _fixes(noise_m, 1.0, seed=3, stand_s=600.0))
    assert gps_error_m(street_grid, trace.pieces, 3.0) == pytest.approx(noise_m, rel=0.15)
    sparse = clean_trace(street_grid, "rcv-1", _fixes(noise_m, 30.0, seed=3, stand_s=3000.0))
    estimate = gps_error_m(street_grid, sparse.pieces, 3.0)
    assert estimate is not None and 0.4 * noise_m <= estimate <= 1.1 * noise_m


def test_a_noisier_trace_is_matched_with_its_own_error(monaco_case: SimpleNamespace) -> None:
    """A round of Monaco (its bins in nearest-bin order) driven with 15 m of noise a axis, fixes every
    second: matched with the error it shows, within 2 % of its true metres and nearer them than taken as
    the default 10 m (``measure_sigma`` off), where the GPS's wander reads as drives."""
    sim = simulate_round(monaco_case.prepared, "rcv-1", monaco_case.stops,
                         TraceOptions(seed=3, interval_s=1.0, noise_m=15.0))
    trace = clean_trace(monaco_case.network, "rcv-1", sim.fixes)
    own = match_trace(monaco_case.network, trace).distance_m
    fixed = match_trace(monaco_case.network, trace, MatchOptions(measure_sigma=False)).distance_m
    assert own == pytest.approx(sim.truth.distance_m, rel=0.02)
    assert abs(own - sim.truth.distance_m) < abs(fixed - sim.truth.distance_m)
