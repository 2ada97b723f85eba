"""Tests of solver.progress and the ``on_progress`` hook of :func:`solver.pipeline.optimise`:
reports carry the share of the time limit and the best cost, and a callback that answers
``False`` stops a real OR-Tools or PyVRP search long before its time limit."""

from __future__ import annotations

import time

import pytest

from solver.network import RoadNetwork
from solver.pipeline import optimise
from solver.problem import Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.progress import ProgressReporter
from solver.synthetic import kerbside_bins


@pytest.fixture(scope="module")
def problem(monaco: RoadNetwork) -> Problem:
    """80 kerbside bins in Monaco, one tip, two 500 kg lorries."""
    bins = kerbside_bins(monaco, 80, seed=11)
    (spot,) = kerbside_bins(monaco, 1, seed=98, prefix="t")
    return Problem(depots=(Depot("depot", 7.4149, 43.7302),),
                   vehicles=(Vehicle("rcv-1", "depot", 500), Vehicle("rcv-2", "depot", 500)),
                   bins=tuple(bins), disposal_sites=(DisposalSite("tip", spot.lon, spot.lat, unload_s=600),))


def test_reporter_keeps_the_best_cost_and_throttles() -> None:
    """The reporter remembers the lowest cost, calls back at most once per interval unless
    forced, and answers ``False`` for good once the callback has."""
    heard: list[tuple[float, float | None]] = []
    answers = iter([True, False])
    reporter = ProgressReporter(10.0, lambda f, c: heard.append((f, c)) or next(answers), min_interval_s=60.0)
    assert reporter.report(50.0)
    assert reporter.report(40.0)  # throttled: not passed on
    assert reporter.best_cost == 40.0 and len(heard) == 1
    assert not reporter.report(45.0, force=True)
    assert heard[-1][1] == 40.0 and 0.0 <= heard[-1][0] <= 1.0
    assert not reporter.report(30.0, force=True) and len(heard) == 2


def test_reporter_rejects_a_time_limit_that_is_not_positive() -> None:
    """A zero time limit is a programming error, named."""
    with pytest.raises(ValueError, match="time_limit_s"):
        ProgressReporter(0.0, None)


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_optimise_reports_progress_and_stops_when_asked(monaco: RoadNetwork, problem: Problem,
                                                       engine: str) -> None:
    """Each engine reports fractions in 0..1 with a cost once it has a solution; asked to stop
    at the first report with a cost, a 30 s search returns within a few seconds, every bin
    still served or explained."""
    heard: list[tuple[float, float | None]] = []

    def on_progress(fraction: float, cost: float | None) -> bool:
        heard.append((fraction, cost))
        return cost is None

    began = time.perf_counter()
    rounds = optimise(problem, monaco, SolveOptions(time_limit_s=30.0, engine=engine), on_progress=on_progress)
    elapsed = time.perf_counter() - began
    assert heard and all(0.0 <= f <= 1.0 for f, _ in heard)
    assert heard[-1][1] is not None
    assert elapsed < 20.0
    served = {v.location_id for r in rounds.evaluation.routes for v in r.visits if v.type == "bin"}
    unassigned = {u.bin_id for u in rounds.evaluation.unassigned}
    assert {b.id for b in problem.bins} <= served | unassigned
