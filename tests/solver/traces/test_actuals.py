"""Tests of solver.traces.actual_day: a day of several vehicles' fixes, shuffled together, read into
rounds as driven and a plan the evaluator scores; traces and lifts of vehicles the problem does not
hold are said and left out of the plan."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from solver.pipeline import evaluate_plan
from solver.pipeline.stages import prepare
from solver.problem import Problem, Vehicle
from solver.traces.actuals import actual_day
from solver.traces.fixes import Fix, Lift
from solver.traces.simulate import TraceOptions, simulate_round


def test_a_day_read_and_scored(grid_case: SimpleNamespace) -> None:
    """Two lorries' fixes, mixed and out of order, give two rounds with their bins (each at most one short:
    at the first stop, where the lorry turns back, two bins 44 m apart can read as one) and their metres,
    and a plan the evaluator scores: the bins read are served, the others not in the plan."""
    problem = Problem(depots=grid_case.problem.depots, bins=grid_case.problem.bins,
                      vehicles=(*grid_case.problem.vehicles, Vehicle("rcv-2", "depot", capacity_kg=10_000.0)))
    prepared = prepare(problem, grid_case.network)
    half = len(grid_case.stops) // 2
    one = simulate_round(prepared, "rcv-1", grid_case.stops[:half], TraceOptions(seed=1))
    two = simulate_round(prepared, "rcv-2", grid_case.stops[half:], TraceOptions(seed=2))
    fixes = sorted([*one.fixes, *two.fixes], key=lambda f: (f.lon, f.lat))
    day = actual_day(grid_case.network, problem, fixes)
    assert [r.vehicle_id for r in day.rounds] == ["rcv-1", "rcv-2"]
    for vehicle_id, stops in (("rcv-1", grid_case.stops[:half]), ("rcv-2", grid_case.stops[half:])):
        read = [c.bin_id for c in day.round(vehicle_id).bins]
        assert set(read) <= set(stops) and len(read) >= len(stops) - 1  # a bin at a turn may merge with the next
    assert day.round("rcv-1").distance_m == pytest.approx(one.truth.distance_m, rel=0.02)
    assert day.round("rcv-2").distance_m == pytest.approx(two.truth.distance_m, rel=0.02)
    assert {i.kind for i in day.issues} == {"out_of_order"}
    scored = evaluate_plan(problem, grid_case.network, day.plan.routes)
    served = sum(len(r.bins) for r in day.rounds)
    assert scored.evaluation.summary.bins_served == served
    assert {u.reason for u in scored.evaluation.unassigned} <= {"not_in_plan"}
    assert len(scored.evaluation.unassigned) == len(grid_case.stops) - served


def test_unknown_vehicles_are_said(grid_case: SimpleNamespace) -> None:
    """A trace of a vehicle the problem does not hold is read but left out of the plan; lifts of a vehicle
    no trace shows are left out; both said."""
    sim = simulate_round(grid_case.prepared, "rcv-1", grid_case.stops, TraceOptions(seed=3))
    stranger = [Fix("van-9", f.time_s, f.lon, f.lat) for f in sim.fixes]
    day = actual_day(grid_case.network, grid_case.problem, [*sim.fixes, *stranger],
                     [Lift("ghost", 25_000.0, grid_case.stops[0])])
    assert [r.vehicle_id for r in day.rounds] == ["rcv-1", "van-9"]
    assert [r.vehicle_id for r in day.plan.routes] == ["rcv-1"]
    unknown = {i.vehicle_id: i.count for i in day.issues if i.kind == "unknown_vehicle"}
    assert unknown == {"ghost": 1, "van-9": len(sim.fixes)}
