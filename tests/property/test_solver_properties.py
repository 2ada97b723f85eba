"""Property-based tests (hypothesis) of the solver on generated small problems on the
real Monaco network, with real OR-Tools searches of one second: every bin is served
exactly once or unassigned with a named reason, and the evaluator finds no violation
in the optimised plan, also when the plan is scored afresh as a person's plan."""

from __future__ import annotations

import math
from collections import Counter
from typing import get_args

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from solver import pipeline
from solver.network import RoadNetwork
from solver.problem import Bin, Break, Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.solution import RoutePlan, UnassignedReason

HOUR = 3600
DEPOT = Depot(id="depot", lon=7.4149, lat=43.7302)
TIP = DisposalSite(id="tip", lon=7.4186, lat=43.7318, unload_s=600)
"""A depot and a tip on streets of Monaco."""

OPTIMISED_REASONS = set(get_args(UnassignedReason)) - {"not_in_plan"}
SETTINGS = settings(deadline=None, max_examples=8)


@st.composite
def windows(draw: st.DrawFn) -> tuple[int, int]:
    """A time window (seconds since midnight) between 05:00 and 16:00, at least 5 minutes long."""
    start = draw(st.integers(5 * HOUR, 15 * HOUR))
    return start, start + draw(st.integers(300, 4 * HOUR))


@st.composite
def vehicles(draw: st.DrawFn, index: int) -> Vehicle:
    """A vehicle of the depot: capacity, shift, streams, maybe a break or a lift limit."""
    start = draw(st.integers(5 * HOUR, 8 * HOUR))
    brk = draw(st.none() | st.builds(lambda s, d: Break(duration_s=d, window=(s, s + HOUR)),
                                     st.integers(start + HOUR, start + 2 * HOUR), st.integers(300, 1800)))
    return Vehicle(
        id=f"rcv-{index}", depot_id=DEPOT.id, capacity_kg=draw(st.floats(20, 200)),
        shift_start_s=start, shift_end_s=start + draw(st.integers(HOUR // 2, 9 * HOUR)),
        streams=tuple(draw(st.sets(st.sampled_from(["refuse", "glass"]), min_size=1))),
        breaks=() if brk is None else (brk,), max_lifts=draw(st.none() | st.integers(1, 10)),
    )


@st.composite
def bins(draw: st.DrawFn, index: int) -> Bin:
    """A bin near (or in the sea off) Monaco with a demand, stream, maybe windows, maybe optional."""
    required = draw(st.booleans())
    return Bin(
        id=f"b{index:03d}", lon=draw(st.floats(7.405, 7.435)), lat=draw(st.floats(43.722, 43.748)),
        demand_kg=draw(st.floats(0, 150)), service_s=draw(st.floats(0, 120)),
        stream=draw(st.sampled_from(["refuse", "refuse", "glass"])),
        time_windows=tuple(draw(st.lists(windows(), max_size=2))),
        required=required, penalty=None if required else draw(st.floats(0, 5000)),
    )


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """A small problem: one depot, maybe a tip, 1-3 vehicles, 1-8 bins."""
    n_vehicles = draw(st.integers(1, 3))
    n_bins = draw(st.integers(1, 8))
    return Problem(
        depots=(DEPOT,), disposal_sites=(TIP,) if draw(st.booleans()) else (),
        vehicles=tuple(draw(vehicles(i)) for i in range(n_vehicles)),
        bins=tuple(draw(bins(i)) for i in range(n_bins)),
    )


def _optimise(problem: Problem, network: RoadNetwork, seed: int) -> pipeline.PlannedRounds:
    """One second of OR-Tools on ``problem`` (noted, so that a failing example shows it)."""
    note(f"problem: {problem!r}, seed {seed}")
    return pipeline.optimise(problem, network, SolveOptions(time_limit_s=1, seed=seed, engine="ortools"),
                             snap_limit_m=200)


@pytest.mark.slow
@SETTINGS
@given(problem=problems(), seed=st.integers(0, 100))
def test_every_bin_is_served_once_or_unassigned_with_a_reason(monaco: RoadNetwork, problem: Problem,
                                                              seed: int) -> None:
    """Each bin is on exactly one route once, or unassigned (only once) with a named
    reason and a detail, never both, never neither."""
    evaluation = _optimise(problem, monaco, seed).evaluation
    served = Counter(v.location_id for r in evaluation.routes for v in r.visits if v.type == "bin")
    unassigned = Counter(u.bin_id for u in evaluation.unassigned)
    for b in problem.bins:
        assert (served[b.id], unassigned[b.id]) in ((1, 0), (0, 1)), b.id
    assert all(u.reason in OPTIMISED_REASONS and u.detail for u in evaluation.unassigned)
    assert evaluation.summary.bins_served + evaluation.summary.bins_unassigned == len(problem.bins)


@pytest.mark.slow
@SETTINGS
@given(problem=problems(), seed=st.integers(0, 100))
def test_optimised_plan_shows_no_violation_even_when_scored_afresh(monaco: RoadNetwork, problem: Problem,
                                                                   seed: int) -> None:
    """The optimised plan has no violation, and scoring its routes again as a person's
    plan finds none either and the same distance."""
    evaluation = _optimise(problem, monaco, seed).evaluation
    assert evaluation.summary.violations == 0
    assert all(not r.violations for r in evaluation.routes)
    routes = tuple(RoutePlan(vehicle_id=r.vehicle_id,
                             stops=tuple("break" if v.type == "break" else v.location_id
                                         for v in r.visits if v.type != "depot"))
                   for r in evaluation.routes)
    again = pipeline.evaluate_plan(problem, monaco, routes, snap_limit_m=200).evaluation
    assert again.summary.violations == 0, [v for r in again.routes for v in r.violations]
    assert math.isclose(again.summary.distance_m, evaluation.summary.distance_m, rel_tol=1e-6, abs_tol=1e-6)
