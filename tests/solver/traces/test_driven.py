"""Tests of solver.traces.driven: bins collected are read from where the lorry stood (on the grid, every
bin of a round, in order) and from lift events (lifts of unknown bins said and left out); a skipped
street shows as not driven and its bins as not collected; a long stand away from bins is a break; a
tip visit is read from the stand at the tip; the stops make a RoutePlan."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solver.pipeline.stages import prepare
from solver.problem import DisposalSite, Problem
from solver.snapping import snap_points
from solver.traces.clean import clean_trace
from solver.traces.driven import round_as_driven
from solver.traces.fixes import Fix, Lift
from solver.traces.matching import match_trace
from solver.traces.simulate import Departures, SimulatedRound, TraceOptions, simulate_round


def _read(case: SimpleNamespace, sim: SimulatedRound, problem: Problem | None = None,
          lifts: tuple[Lift, ...] = ()) -> object:
    problem = problem or case.problem
    places = [*problem.depots, *problem.disposal_sites, *problem.bins]
    snapped = snap_points(case.network, np.array([[p.lon, p.lat] for p in places]))
    trace = clean_trace(case.network, "rcv-1", sim.fixes)
    matched = match_trace(case.network, trace)
    return round_as_driven(case.network, problem, snapped, matched, lifts, trace=trace)


@pytest.mark.parametrize("interval_s", [1.0, 5.0, 30.0])
def test_bins_identified_from_stops(grid_case: SimpleNamespace, interval_s: float) -> None:
    """Every bin the lorry stood at is read as collected, none other, in the order driven."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops,
                         TraceOptions(seed=21, interval_s=interval_s, noise_m=10.0))
    done = _read(grid_case, sim)
    assert [c.bin_id for c in done.bins] == [b for b, _ in sim.truth.bins]  # type: ignore[attr-defined]
    assert all(c.source == "stop" for c in done.bins)  # type: ignore[attr-defined]


def test_bins_identified_from_lift_events(grid_case: SimpleNamespace) -> None:
    """Lift events name the bins collected, in time order; a lift of a bin the problem does not hold is
    said and left out."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=4))
    lifts = (*sim.lifts[:10], Lift("rcv-1", sim.lifts[3].time_s + 1.0, "no-such-bin"))
    done = _read(grid_case, sim, lifts=lifts)
    assert [c.bin_id for c in done.bins] == [x.bin_id for x in sim.lifts[:10]]  # type: ignore[attr-defined]
    assert [(i.kind, i.count) for i in done.issues] == [("unknown_bin", 1)]  # type: ignore[attr-defined]


def test_skipped_street_shows_as_not_driven(grid_case: SimpleNamespace) -> None:
    """A street the crew skipped is not among the streets driven, and its bins are not collected; the
    others are (all but at most one: where the match runs ahead of a standing lorry and waits, a bin's
    stand can go to its neighbour, docs/actuals.md)."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=2),
                         Departures(skip_street=True))
    done = _read(grid_case, sim)
    street = sim.truth.skipped_street
    assert not done.edges & {street, int(grid_case.network.edge_twin[street])}  # type: ignore[attr-defined]
    collected = {c.bin_id for c in done.bins}  # type: ignore[attr-defined]
    assert not collected & set(sim.truth.skipped_bins)
    truly = {b for b, _ in sim.truth.bins}
    assert collected <= truly and len(collected) >= len(truly) - 1  # one bin may lose its stand to a neighbour


def test_tip_visit_and_route_plan(grid_case: SimpleNamespace) -> None:
    """An extra tip run is read as a tip visit, between the bins before and after it, in the RoutePlan."""
    problem = Problem(depots=grid_case.problem.depots, bins=grid_case.problem.bins,
                      vehicles=grid_case.problem.vehicles,
                      disposal_sites=(DisposalSite("tip", 9.006, 0.0, unload_s=600.0),))
    sim = simulate_round(prepare(problem, grid_case.network), "rcv-1", grid_case.stops, TraceOptions(seed=4),
                         Departures(extra_tip=True))
    done = _read(grid_case, sim, problem)
    assert [t.site_id for t in done.tips] == ["tip"]  # type: ignore[attr-defined]
    plan = done.route_plan()  # type: ignore[attr-defined]
    assert plan.stops == sim.truth.stops and plan.breaks_where_they_fit


def test_a_long_stand_is_a_break(grid_case: SimpleNamespace) -> None:
    """Half an hour without fixes mid-round, the lorry found where it was, is a break."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=6, tunnel_s=0.0))
    fixes = list(sim.fixes)
    half = len(fixes) // 2
    paused = [*fixes[:half], *(Fix(f.vehicle_id, f.time_s + 1800.0, f.lon, f.lat) for f in fixes[half:])]
    done = _read(grid_case, SimulatedRound(tuple(paused), sim.lifts, sim.truth))
    assert len(done.breaks) == 1  # type: ignore[attr-defined]
    start, end = done.breaks[0]  # type: ignore[attr-defined]
    assert end - start >= 1800.0
