"""Tests of solver.traces.matching: the matcher recovers a known drive under GPS noise (its streets and
its metres, within 2 %) on the hand-made grid and on a planned Monaco round, at sparse and dense
sampling; fixes of a standing lorry do not read as driving; a break in the trace is bridged and said."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solver.compactness import street_of
from solver.geometry import Pieces
from solver.network import RoadNetwork
from solver.traces.clean import clean_trace
from solver.traces.fixes import Fix
from solver.traces.matching import MatchOptions, match_trace
from solver.traces.simulate import TraceOptions, simulate_round


def _streets(network: RoadNetwork, pieces: Pieces, *, over_m: float = 20.0) -> set[int]:
    """The streets (an edge and its twin) of which ``pieces`` drive more than ``over_m`` metres."""
    metres: dict[int, float] = {}
    for e, a, b in pieces:
        street = int(street_of(network, np.array([e]))[0])
        metres[street] = metres.get(street, 0.0) + abs(b - a) * float(network.edge_length_m[e])
    return {s for s, m in metres.items() if m > over_m}


@pytest.mark.parametrize("interval_s", [1.0, 5.0, 30.0])
def test_grid_drive_recovered_under_noise(grid_case: SimpleNamespace, interval_s: float) -> None:
    """With 10 m of noise, fixes 1, 5 or 30 s apart, the matched drive is within 2 % of the true metres,
    drives every street the truth drove and no other (for more than 20 m: a fix at the depot may fall on
    the street round the corner); positions along it never go back."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops,
                         TraceOptions(seed=11, interval_s=interval_s, noise_m=10.0))
    matched = match_trace(grid_case.network, clean_trace(grid_case.network, "rcv-1", sim.fixes))
    assert matched.distance_m == pytest.approx(sim.truth.distance_m, rel=0.02)
    assert _streets(grid_case.network, matched.pieces) == _streets(grid_case.network, sim.truth.pieces)
    assert np.all(np.diff(matched.along_m) >= 0) and np.all(np.diff(matched.time_s) > 0)


@pytest.mark.slow
@pytest.mark.parametrize("interval_s", [2.0, 5.0])
def test_monaco_round_recovered(monaco_case: SimpleNamespace, interval_s: float) -> None:
    """A round of Monaco (its bins in nearest-bin order), driven with 10 m of noise, dropouts and a 2-minute tunnel, is
    matched within 2 % of its true metres."""
    sim = simulate_round(monaco_case.prepared, "rcv-1", monaco_case.stops,
                         TraceOptions(seed=3, interval_s=interval_s, noise_m=10.0))
    matched = match_trace(monaco_case.network, clean_trace(monaco_case.network, "rcv-1", sim.fixes))
    assert matched.distance_m == pytest.approx(sim.truth.distance_m, rel=0.02)


def test_standing_lorry_drives_nothing(grid_case: SimpleNamespace) -> None:
    """Ten minutes of fixes, one a second, of a lorry standing mid-street with 10 m of noise match to
    almost no metres (the GPS's wander is not driving)."""
    rng = np.random.default_rng(0)
    xy = np.array([[9.0025, 0.001]])
    lonlat = xy + rng.normal(0, 10.0 / 111_195.0, (600, 2))
    fixes = [Fix("rcv-1", 21_600.0 + k, float(x), float(y)) for k, (x, y) in enumerate(lonlat)]
    matched = match_trace(grid_case.network, clean_trace(grid_case.network, "rcv-1", fixes))
    assert matched.distance_m < 40.0


def test_a_gap_is_bridged_and_said(grid_case: SimpleNamespace) -> None:
    """An hour without fixes in the middle breaks the match; the drive between is filled in with the
    quickest one and counted as bridged, and the total stays within 2 % of the truth."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=2, tunnel_s=0.0))
    fixes = list(sim.fixes)
    half = len(fixes) // 2
    moved = [*fixes[:half], *(Fix(f.vehicle_id, f.time_s + 3600.0, f.lon, f.lat) for f in fixes[half:])]
    matched = match_trace(grid_case.network, clean_trace(grid_case.network, "rcv-1", moved))
    assert [b.reason for b in matched.bridges] == ["gap"]
    assert matched.bridges[0].end_s - matched.bridges[0].start_s > 3600.0
    assert matched.distance_m == pytest.approx(sim.truth.distance_m, rel=0.02)


def test_options_are_checked() -> None:
    """Model parameters must be positive."""
    with pytest.raises(ValueError, match="sigma_m"):
        MatchOptions(sigma_m=0.0)
