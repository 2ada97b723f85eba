"""Tests of solver.traces.driven: bins collected are read from where the lorry stood (on the grid, every
bin of a round, in order) and from lift events (lifts of unknown bins said and left out); a skipped
street shows as not driven and its bins as not collected; a long stand away from bins is a break; a
tip visit is read from the stand at the tip, and a place on a junction is passed by a drive along any
of its streets; the stops make a RoutePlan; the stretches no fix shows (the
bridges) are carried, in metres along the round's own drive, as matched and as laid through a bin; a
lift no fix shows is read from the plan's order where the lifts of the bins read beside it leave the
seconds (a demo round at 30 s and 15 m of noise)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solver.geometry import cut_pieces, piece_starts_m
from solver.network import RoadNetwork
from solver.pipeline.stages import prepare
from solver.problem import Depot, DisposalSite, Problem, Vehicle
from solver.snapping import snap_points
from solver.traces.clean import clean_trace
from solver.traces.driven import _passes, round_as_driven
from solver.traces.fixes import Fix, Lift
from solver.traces.matching import match_trace
from solver.traces.simulate import Departures, SimulatedRound, TraceOptions, simulate_round

from .conftest import demo_round_read_given_the_plan
from .test_standing import ROW_1, _spur_day


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


def _metres(network: RoadNetwork, pieces: list[tuple[int, float, float]]) -> float:
    return float(sum((f1 - f0) * float(network.edge_length_m[e]) for e, f0, f1 in pieces))


def test_a_silent_stretch_is_carried_as_a_bridge_along_the_drive(grid_case: SimpleNamespace) -> None:
    """The tracker silent for 30 fixes mid-round and the rest shifted 25 minutes later (a gap the match
    breaks at): the round carries the matcher's bridge (``gap``), ``bridged_m`` its length, and the
    drive cut between its metres is that long, and runs along the streets of the bins the lorry lifted
    while silent (the stretch the trace does not show)."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=6, tunnel_s=0.0))
    fixes = list(sim.fixes)
    lost = slice(len(fixes) // 2, len(fixes) // 2 + 30)
    t0, t1 = fixes[lost.start].time_s, fixes[lost.stop].time_s
    later = [Fix(f.vehicle_id, f.time_s + 1500.0, f.lon, f.lat) for f in fixes[lost.stop:]]
    problem = grid_case.problem
    snapped = snap_points(grid_case.network, np.array([[p.lon, p.lat] for p in [*problem.depots, *problem.bins]]))
    trace = clean_trace(grid_case.network, "rcv-1", [*fixes[:lost.start], *later])
    matched = match_trace(grid_case.network, trace)
    done = round_as_driven(grid_case.network, problem, snapped, matched, trace=trace)
    assert [b.reason for b in done.bridges] == ["gap"] and done.bridges == matched.bridges
    (bridge,) = done.bridges
    assert done.bridged_m == pytest.approx(sum(b.end_m - b.start_m for b in done.bridges)) and done.bridged_m > 50.0
    starts = piece_starts_m(grid_case.network, done.pieces)
    assert starts[-1] == pytest.approx(done.distance_m)
    cut = cut_pieces(grid_case.network, done.pieces, starts, bridge.start_m, bridge.end_m)
    assert _metres(grid_case.network, cut) == pytest.approx(bridge.end_m - bridge.start_m)
    streets = {e for e, a, b in cut if b > a} | {int(grid_case.network.edge_twin[e]) for e, a, b in cut if b > a}
    row = {b.id: k for k, b in enumerate(problem.bins)}
    silent = [b for b, when in sim.truth.bins if t0 < when < t1]
    assert silent and all(int(snapped.edge[1 + row[b]]) in streets for b in silent)


def test_the_bridges_of_the_drive_laid_through_a_bin_are_carried(street_grid: RoadNetwork) -> None:
    """The spur day (test_standing.py: fixes lost while the lorry drives up a column street to a bin
    and back) given the plan's order: the drive is laid up the spur, and the round carries the laid
    drive's bridge (``bin``, none matched), in metres along its own pieces: cut there, the drive runs
    up the spur's street, as long as ``bridged_m``."""
    bins, fixes = _spur_day(street_grid, up_the_spur=True)
    problem = Problem(depots=(Depot("depot", 9.0, ROW_1),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=10_000.0),))
    snapped = snap_points(street_grid, np.array([[p.lon, p.lat] for p in [*problem.depots, *problem.bins]]))
    trace = clean_trace(street_grid, "rcv-1", fixes)
    matched = match_trace(street_grid, trace)
    done = round_as_driven(street_grid, problem, snapped, matched, trace=trace, planned=["a", "b", "c"])
    assert matched.bridges == () and [b.reason for b in done.bridges] == ["bin"]
    (bridge,) = done.bridges
    assert done.bridged_m == pytest.approx(bridge.end_m - bridge.start_m) and done.bridged_m >= 2 * 50.0
    starts = piece_starts_m(street_grid, done.pieces)
    assert starts[-1] == pytest.approx(done.distance_m) and bridge.end_m <= done.distance_m
    cut = cut_pieces(street_grid, done.pieces, starts, bridge.start_m, bridge.end_m)
    assert _metres(street_grid, cut) == pytest.approx(done.bridged_m)
    spur = int(snapped.edge[1 + 1])  # bin b, after the depot and bin a
    assert any(e in (spur, int(street_grid.edge_twin[spur])) and b > a for e, a, b in cut)


def test_a_place_on_a_junction_is_passed_along_any_of_its_streets(grid_case: SimpleNamespace) -> None:
    """A tip on a corner of the grid (snapped to the end of one street) is passed by a drive that reaches
    the corner down the other street, and by none that stops short of it; a place mid-street only along
    its own street (a stand matched at the mean of its fixes lies on the corner, either street as near)."""
    network: RoadNetwork = grid_case.network
    snapped = snap_points(network, np.array([[9.006, 0.0], [9.0055, 0.0]]))
    tip_edge = int(snapped.edge[0])
    corner = int(network.edge_v[tip_edge]) if snapped.fraction[0] > 0.5 else int(network.edge_u[tip_edge])
    into = [e for e in np.flatnonzero(network.edge_v == corner).tolist()
            if e not in (tip_edge, int(network.edge_twin[tip_edge]))]
    assert into, "the corner has another street"
    other = into[0]
    length = float(network.edge_length_m[other])
    whole = [(other, 0.0, 1.0)]
    rows, _ = _passes(network, whole, np.array([0.0, length]), snapped, 25.0)
    assert 0 in rows.tolist() and 1 not in rows.tolist()
    short = [(other, 0.0, 0.5)]
    rows, _ = _passes(network, short, np.array([0.0, 0.5 * length]), snapped, 25.0)
    assert rows.tolist() == []


@pytest.mark.slow
def test_a_lift_beside_bins_read_at_the_edges_is_read_from_the_plan(monaco: RoadNetwork) -> None:
    """The demo's round rcv-2 (115 bins) driven with 15 m of GPS noise and fixes 30 s apart (seed 2), read
    given the plan: at least 98 % of the bins it collected are read, none it did not. Before, every bin
    read in the stretch from the fix before b00312's lift to the fix after b00305's (26,220-26,400 s) took
    off its whole lift from the standing there, b00301 too (read at 26,399 s, 30 % of its standing in the
    stretch), no spare was left for b00310 (between b00312 and b00305 in the plan), and 112 were read;
    now each takes off the share of its standing laid in the stretch."""
    truth, read = demo_round_read_given_the_plan(monaco, "rcv-2", TraceOptions(seed=2, interval_s=30.0, noise_m=15.0))
    assert not read - truth
    assert len(read & truth) >= 0.98 * len(truth)
