"""Racing an engine in several processes (solver.engines.race): real OR-Tools searches in real
spawned processes on a small CVRP grid; the race keeps the best lane's plan by the evaluator."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from solver.engines import choose_engine
from solver.engines.ortools import OrToolsEngine
from solver.engines.pyvrp import PyVrpEngine
from solver.engines.race import (
    MIN_RACE_S,
    ORTOOLS_LANES,
    RacingEngine,
    _answer,
    _end,
    _start,
    lane_engines,
)
from solver.evaluate import evaluate, plan_rank
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Depot, InitialRoute, Problem, ProblemError, SolveOptions, Vehicle


def _grid(n_bins: int = 30) -> tuple[Problem, FleetMatrices]:
    """Bins on a scattered grid around a depot, four 100 kg vehicles, bins of 10-30 kg; Manhattan metres at 10 m/s."""
    rng = np.random.default_rng(7)
    xy = np.vstack([[0.0, 0.0], rng.integers(-20, 21, size=(n_bins, 2)) * 100.0])
    vehicles = tuple(Vehicle(f"v{k}", "D", capacity_kg=100.0) for k in range(1, 5))
    bins = tuple(Bin(f"b{i:02d}", -0.7, 52.6, demand_kg=float(10 + 10 * (i % 3))) for i in range(n_bins))
    problem = Problem((Depot("D", -0.7, 52.6),), vehicles, bins)
    distance_m = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    fleet = FleetMatrices.uniform(TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m),
                                  [v.id for v in vehicles])
    return problem, fleet


def test_ortools_lanes_search_with_other_operators_or_first_solutions() -> None:
    """OR-Tools with its automatic first solution races lanes with the listed first solutions and
    operators, and the close-nodes operators really reach the search parameters; an engine without
    such choices (PyVRP) races copies of itself (they differ by seed)."""
    engine = OrToolsEngine()
    lanes = lane_engines(engine, 3)
    assert lanes[0] is engine
    expected = [OrToolsEngine(first_solution=s, close_nodes_lns=c) for s, c in ORTOOLS_LANES[:2]]
    assert [(e.first_solution, e.close_nodes_lns) for e in lanes[1:]] == [  # type: ignore[attr-defined]
        (e.first_solution, e.close_nodes_lns) for e in expected]
    operators = lanes[1]._parameters(1.0).local_search_operators  # type: ignore[attr-defined]
    assert operators.use_global_cheapest_insertion_close_nodes_lns == 3  # BOOL_TRUE
    assert engine._parameters(1.0).local_search_operators.use_global_cheapest_insertion_close_nodes_lns != 3
    pyvrp = PyVrpEngine()
    assert lane_engines(pyvrp, 2) == [pyvrp, pyvrp]
    with pytest.raises(ValueError, match="at least 1"):
        lane_engines(pyvrp, 0)


@pytest.mark.spawns
def test_the_race_keeps_the_best_lane() -> None:
    """Two lanes stopped after their first solution (repeatable whatever the machine's speed): the race
    answers with the better of the two plans each lane makes alone, in its own process."""
    problem, fleet = _grid()
    engine = OrToolsEngine(first_solution="PATH_CHEAPEST_ARC", solution_limit=1)
    options = SolveOptions(time_limit_s=20.0, seed=0, objective="distance", search_processes=2)
    racing = RacingEngine(engine, 2)
    ids = [b.id for b in problem.bins]
    alone = [lane.solve(problem, fleet, bin_ids=ids, options=replace(options, seed=k))
             for k, lane in enumerate(racing.lanes)]
    ranks = [plan_rank(evaluate(problem, fleet, plan), "distance") for plan in alone]
    assert ranks[0] != ranks[1]  # the lanes differ, so the choice is tested
    raced = racing.solve(problem, fleet, bin_ids=ids, options=options)
    assert plan_rank(evaluate(problem, fleet, raced), "distance") == min(ranks)


@pytest.mark.spawns
def test_a_failing_lane_is_left_out_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A lane whose search raises in its process answers no plan; the reason reaches the log."""
    problem, fleet = _grid(6)
    options = SolveOptions(time_limit_s=2.0)
    with tempfile.TemporaryDirectory() as folder:
        lane = _start(1, Path(folder), OrToolsEngine(), problem, fleet, ["no-such-bin"], options, time.time() + 2.0)
        try:
            with caplog.at_level(logging.WARNING, logger="solver.engines.race"):
                assert _answer(lane, time.time() + 60.0) is None
        finally:
            _end(lane)
    assert "lane 1 failed" in caplog.text and "no-such-bin" in caplog.text


def test_choose_engine_races_only_when_asked_and_not_a_warm_start() -> None:
    """``search_processes`` above 1 wraps the chosen engine (same name and features); one process, or a
    request with its own warm start, gets the engine itself."""
    problem, fleet = _grid(6)
    raced = choose_engine(problem, SolveOptions(engine="ortools", search_processes=2), matrices=fleet)
    assert isinstance(raced, RacingEngine) and raced.name == "ortools" and len(raced.lanes) == 2
    assert not isinstance(choose_engine(problem, SolveOptions(engine="ortools"), matrices=fleet), RacingEngine)
    warm = SolveOptions(engine="ortools", search_processes=2, initial_routes=(InitialRoute("v1", ("b00",)),))
    assert not isinstance(choose_engine(problem, warm, matrices=fleet), RacingEngine)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_search_processes_must_be_a_positive_whole_number(bad: object) -> None:
    """``options.search_processes`` of 0, -1 or 1.5 is a ProblemError naming the field."""
    with pytest.raises(ProblemError) as raised:
        SolveOptions(search_processes=bad)  # type: ignore[arg-type]
    assert raised.value.field == "options.search_processes"


def test_a_search_shorter_than_a_lane_takes_to_start_is_not_raced(caplog: pytest.LogCaptureFixture) -> None:
    """Below ``MIN_RACE_S`` seconds the engine searches alone, however many processes are asked for, and
    so does a raced engine given a shorter phase: a spawned lane would spend the whole search starting."""
    problem, fleet = _grid(6)
    short = SolveOptions(engine="ortools", search_processes=2, time_limit_s=MIN_RACE_S - 0.5)
    assert not isinstance(choose_engine(problem, short, matrices=fleet), RacingEngine)
    long = replace(short, time_limit_s=MIN_RACE_S)
    raced = choose_engine(problem, long, matrices=fleet)
    assert isinstance(raced, RacingEngine)
    ids = [b.id for b in problem.bins]
    with caplog.at_level(logging.INFO, logger="solver.engines.race"):
        plan = raced.solve(problem, fleet, bin_ids=ids, options=replace(long, time_limit_s=1.0))  # a short phase
    assert "race:" not in caplog.text  # no lane was started, none was waited for
    assert sum(len(r.stops) for r in plan.routes) == len(ids)
