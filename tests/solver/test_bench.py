"""The pure parts of the benchmark harness: scoring rules and the matrix measurement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solver.bench import ends_with_tips, gap_pct, mean_gap, random_network_points, run_matrix, run_wcvrptw
from solver.evaluate import evaluate
from solver.instances import WcvrptwInstance, read_wcvrptw
from solver.network import RoadNetwork
from solver.snapping import snap_points
from solver.solution import Plan, RoutePlan

TINY_STOPS = """100
400
50
3600
40
id x y early late service load type
0 0 0 0400 1500 0 9999 0
1 5280 0 0000 2400 600 9999 2
3 0 5280 0000 2400 60 10 1
4 5280 5280 0000 2400 60 10 1
"""
"""A depot, a tip a mile east, and two stops (ids 3 and 4) a mile north of each."""


@pytest.fixture
def tiny(tmp_path: Path) -> WcvrptwInstance:
    """The tiny waste instance above, read by the Kim et al. reader."""
    path = tmp_path / "tiny_stop.txt"
    path.write_text(TINY_STOPS, encoding="utf-8")
    return read_wcvrptw(path, n_vehicles=1)


def test_a_break_after_the_last_tip_still_ends_with_a_tip(tiny: WcvrptwInstance) -> None:
    """stops, tip, lunch, depot: the route ends with a tip (the lunch taken after it does not count)."""
    plan = Plan(routes=(RoutePlan("v1", ("3", "4", "1", "break")),))
    assert ends_with_tips(evaluate(tiny.problem, tiny.matrices, plan))


def test_a_route_ending_with_a_bin_does_not_end_with_a_tip(tiny: WcvrptwInstance) -> None:
    """A tip in the middle of the route does not make up for the bin collected after it."""
    plan = Plan(routes=(RoutePlan("v1", ("3", "1", "4")),))
    assert not ends_with_tips(evaluate(tiny.problem, tiny.matrices, plan))


def test_auto_solves_a_waste_instance_and_names_the_engine_it_chose(tmp_path: Path) -> None:
    """``auto`` on a waste instance (lunch, daily limits) at a short limit runs OR-Tools, named in the row."""
    path = tmp_path / "tiny_stop.txt"
    path.write_text(TINY_STOPS, encoding="utf-8")
    row = run_wcvrptw(path, time_limit_s=2.0, engine="auto")
    assert (row["engine_used"], row["feasible"], row["unassigned"], row["error"]) == ("ortools", True, 0, None)


def test_waste_rows_carry_each_route_in_the_file_s_numbering(tmp_path: Path) -> None:
    """The tiny instance's row has its one route, named by its vehicle, from depot 0 back to it, with
    both stops and the tip (1) before going home: re-checkable from the file alone."""
    path = tmp_path / "tiny_stop.txt"
    path.write_text(TINY_STOPS, encoding="utf-8")
    row = run_wcvrptw(path, time_limit_s=1.0, engine="ortools")
    [route] = row["routes"]
    assert route["vehicle_id"].startswith("v")
    assert route["path"][0] == route["path"][-1] == "0"
    assert sorted(route["path"][1:-2]) == ["3", "4"] and route["path"][-2] == "1"


def test_gap_is_relative_to_the_best_known() -> None:
    """110 against a best known 100 is a 10% gap."""
    assert gap_pct(110.0, 100.0) == pytest.approx(10.0)


def test_gap_is_unknown_without_a_best_known() -> None:
    """No best known value, no gap (``None``, never 0)."""
    assert gap_pct(110.0, None) is None


def test_mean_gap_skips_rows_without_a_gap() -> None:
    """Rows whose run failed (no gap) do not pull the mean towards zero."""
    assert mean_gap([{"gap_pct": 2.0}, {"gap_pct": None}, {"gap_pct": 4.0}]) == pytest.approx(3.0)


def test_random_network_points_lie_on_streets(monaco: RoadNetwork) -> None:
    """Every sampled point is on a street of the main component: snapped within a centimetre."""
    snapped = snap_points(monaco, random_network_points(monaco, 200, seed=1), limit_m=1.0)
    assert snapped.ok.all()
    assert float(np.max(snapped.distance_m)) < 0.01


@pytest.mark.slow
def test_run_matrix_reports_a_full_matrix_with_its_measures(monaco: RoadNetwork) -> None:
    """A 60 x 60 matrix on Monaco: every point snapped, every pair joined, time and memory measured."""
    row = run_matrix(monaco, 60, seed=0)
    assert (row["n"], row["nodes"], row["snapped"], row["finite_share"]) == (60, monaco.n_nodes, 60, 1.0)
    assert row["seconds"] > 0 and row["peak_mb"] > 0


@pytest.mark.slow
def test_run_matrix_reports_the_median_of_repeated_runs(monaco: RoadNetwork) -> None:
    """With ``repeat=3`` each backend is timed three times and its ``seconds`` is their median."""
    row = run_matrix(monaco, 40, seed=1, backends=["scipy"], repeat=3)
    runs = row["scipy_runs_s"]
    assert len(runs) == 3 and row["scipy_seconds"] == round(float(np.median(runs)), 3)
