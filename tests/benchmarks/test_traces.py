"""Tests of benchmarks/traces.py: a round of the hand-made street grid measured as the script measures
the Monaco and Oakham rounds, each figure where the truth puts it, and the table's row."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from solver.network import RoadNetwork
from solver.problem import Bin, Depot, Problem, Vehicle

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "traces.py"


@pytest.fixture(scope="module")
def script(tools: SimpleNamespace) -> ModuleType:
    """The benchmark script, imported as a module."""
    return tools.import_script(SCRIPT)


def test_a_grid_round_measured(script: ModuleType, street_grid: RoadNetwork) -> None:
    """Twelve bins along the grid's second street, one lorry: the row's error is its matched against its
    true km (within 5 %: on a 1.5 km round one turn back 20 m too far is 2.6 %), all bins but at most one
    are read (docs/actuals.md), none falsely, and the row prints every column."""
    bins = [Bin(id=f"b{k}", lon=9.0 + (k + 0.5) * 0.0005, lat=0.001 + 0.000045, demand_kg=10.0) for k in range(12)]
    problem = Problem(depots=(Depot("depot", 9.0, 0.0),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=1_000.0),))
    rows = script.measure("grid", problem, street_grid, {"rcv-1": [b.id for b in bins]}, [5.0], 10.0, 0)
    (row,) = rows
    assert row["error_pct"] == pytest.approx(100.0 * (row["matched_km"] / row["true_km"] - 1.0))
    assert abs(row["error_pct"]) <= 5.0 and row["true_km"] > 1.0
    assert row["bins"] == 12 and row["read"] >= 11 and row["false"] == 0
    assert script._row(row).count("|") == len(script.HEADER) + 1
