"""Tests of solver.traces.simulate: the drive is the planned one (its metres are the evaluator's), the
tracker's fixes follow its settings, the same seed gives the same trace, and crews' departures from
the plan (a skipped street, a reversed stretch, an extra tip run) show in the truth."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from solver.evaluate import evaluate
from solver.pipeline.stages import prepare
from solver.problem import DisposalSite, Problem
from solver.solution import Plan, RoutePlan
from solver.traces.clean import street_distance_m
from solver.traces.simulate import Departures, TraceOptions, simulate_round


def _evaluated_distance(case: SimpleNamespace, stops: list[str]) -> float:
    plan = Plan(routes=(RoutePlan("rcv-1", tuple(stops)),))
    return evaluate(case.problem, case.prepared.matrices, plan).routes[0].distance_m


def test_truth_drives_the_planned_metres(grid_case: SimpleNamespace) -> None:
    """The simulated drive is as long as the evaluator prices the plan, and collects every bin in order."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=3))
    assert sim.truth.distance_m == pytest.approx(_evaluated_distance(grid_case, grid_case.stops), rel=1e-6)
    assert [b for b, _ in sim.truth.bins] == grid_case.stops
    times = [t for _, t in sim.truth.bins]
    assert times == sorted(times) and np.all(np.diff(times) >= 30.0)


def test_fixes_follow_the_tracker_settings(grid_case: SimpleNamespace) -> None:
    """Without noise every fix lies on a street; fixes come every ``interval_s`` seconds except the lost
    ones and the tunnel; lifts come one per bin."""
    options = TraceOptions(seed=1, noise_m=0.0, interval_s=10.0, dropout=0.1, tunnel_s=60.0)
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, options)
    xy = np.column_stack(grid_case.network.to_xy().transform([f.lon for f in sim.fixes], [f.lat for f in sim.fixes]))
    assert street_distance_m(grid_case.network, xy).max() < 0.01
    times = np.array([f.time_s for f in sim.fixes])
    steps = np.diff(times)
    assert np.allclose(steps[:-1] % 10.0, 0.0) and steps.max() >= 60.0
    expected = (sim.truth.end_s - sim.truth.start_s) / 10.0
    assert 0.7 * expected < len(sim.fixes) < 0.95 * expected
    assert [lift.bin_id for lift in sim.lifts] == grid_case.stops


def test_noise_has_the_stated_size(grid_case: SimpleNamespace) -> None:
    """With 10 m of noise on each axis the fixes lie about 12.5 m (10 x sqrt(pi / 2)) from the true
    position on average."""
    clean = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=5, noise_m=0.0))
    noisy = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=5, noise_m=10.0))
    a = shapely.points([(f.lon, f.lat) for f in clean.fixes])
    b = shapely.points([(f.lon, f.lat) for f in noisy.fixes])
    metres = shapely.distance(a, b) * 111_195.0  # degrees on the equator
    assert 11.0 < float(np.mean(metres)) < 14.0


def test_same_seed_same_trace(grid_case: SimpleNamespace) -> None:
    """A seed reproduces the trace exactly; another seed gives another one."""
    one = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=7))
    again = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=7))
    other = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=8))
    assert one.fixes == again.fixes
    assert one.fixes != other.fixes


def test_skipped_street_is_not_driven(grid_case: SimpleNamespace) -> None:
    """A crew skipping a street leaves its bins and never drives it."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=2),
                         Departures(skip_street=True))
    street = sim.truth.skipped_street
    assert street >= 0 and sim.truth.skipped_bins
    assert not sim.truth.edges & {street, int(grid_case.network.edge_twin[street])}
    assert not set(sim.truth.skipped_bins) & {b for b, _ in sim.truth.bins}


def test_reorder_and_extra_tip(grid_case: SimpleNamespace) -> None:
    """A reversed stretch collects the same bins in another order; an extra tip run visits the tip once,
    halfway through; without a tip the extra run is refused."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=4), Departures(reorder=True))
    collected = [b for b, _ in sim.truth.bins]
    assert sorted(collected) == sorted(grid_case.stops) and collected != grid_case.stops
    with pytest.raises(ValueError, match="disposal site"):
        simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, departures=Departures(extra_tip=True))


def test_extra_tip_run(grid_case: SimpleNamespace) -> None:
    """With a tip in the problem, the extra run drives there halfway and stands for its unload time."""
    problem = Problem(depots=grid_case.problem.depots, bins=grid_case.problem.bins,
                      vehicles=grid_case.problem.vehicles,
                      disposal_sites=(DisposalSite("tip", 9.006, 0.0, unload_s=600.0),))
    prepared = prepare(problem, grid_case.network)
    sim = simulate_round(prepared, "rcv-1", grid_case.stops, TraceOptions(seed=4), Departures(extra_tip=True))
    assert [t for t, _ in sim.truth.tips] == ["tip"]
    assert sim.truth.stops[len(grid_case.stops) // 2] == "tip"
