"""Compactness of a plan's rounds on a hand-made grid where the answer is known.

The grid: four east-west residential streets (rows 0..3, 0.001 degree, ~111 m apart, on
the equator) of six stretches each (columns 0..6, ~111 m), joined by north-south streets
at both ends; the depot on the west one. Node ``(row, col)`` has OSM id ``100 + 10 * row
+ col``. Bins lie on the east-west stretches; plans are evaluated through
:func:`solver.pipeline.evaluate_plan`, so bins are really snapped and rounds really driven.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from solver.compactness import CompactnessOptions, plan_compactness
from solver.network import RoadNetwork
from solver.pipeline import PlannedRounds, evaluate_plan, prepare
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.solution import RoutePlan

ROWS, COLS = 4, 7
STEP_DEG = 0.001


def _node(row: int, col: int) -> int:
    return 100 + 10 * row + col


@pytest.fixture
def grid(street_grid: RoadNetwork) -> RoadNetwork:
    """The street grid of tests/conftest.py (the module docstring's)."""
    return street_grid


def _evaluate(grid: RoadNetwork, tools: SimpleNamespace,
              rounds: dict[str, list[tuple[int, int, float]]]) -> tuple[Problem, PlannedRounds]:
    """Evaluate a plan whose round ``vehicle -> [(row, col, fraction), ...]`` serves one bin at
    ``fraction`` along the stretch from ``(row, col)`` to ``(row, col + 1)``, in that order;
    the problem built and its evaluated rounds."""
    bins, routes = [], []
    for vehicle, stops in rounds.items():
        ids = []
        for row, col, fraction in stops:
            edge = tools.edge_index(grid, _node(row, col), _node(row, col + 1))
            lon, lat = tools.lonlat_on_edges(grid, [edge], [fraction])[0]
            ids.append(f"{vehicle}-{row}-{col}-{fraction}")
            bins.append(Bin(ids[-1], float(lon), float(lat), demand_kg=10.0))
        routes.append(RoutePlan(vehicle, tuple(ids)))
    depot_lat = 0.5 * STEP_DEG
    problem = Problem(depots=(Depot("d", 9.0, depot_lat),), bins=tuple(bins),
                      vehicles=tuple(Vehicle(v, "d", 10_000.0) for v in rounds))
    return problem, evaluate_plan(problem, grid, routes)


def test_rounds_on_disjoint_streets_share_nothing(grid: RoadNetwork, tools: SimpleNamespace) -> None:
    """West half (columns 0-2) to one round, east half (4-6) to the other: no street shared, no
    length inside the other's area, no crossing; each round serves 8 stretches of ~111 m."""
    _, planned = _evaluate(grid, tools, {
        "west": [(r, c, 0.5) for r in range(ROWS) for c in (0, 1)],
        "east": [(r, c, 0.5) for r in range(ROWS) for c in (4, 5)],
    })
    figures = planned.compactness
    assert figures is not None
    assert figures.streets == 16 and figures.shared_streets == 0 and figures.shared_street_ids == ()
    assert figures.crossing_pairs == 0 and figures.max_rounds_per_street == 1
    for rnd in figures.rounds:
        assert rnd.streets == 8 and rnd.shared_streets == 0 and rnd.crossing_rounds == 0
        assert rnd.shared_street_share == 0.0 and rnd.overlap_share == 0.0
        assert rnd.street_length_m == pytest.approx(8 * 111.2, rel=0.01)
        # the hull of two columns by three rows, widened by 15 m
        assert rnd.area_m2 > 222 * 333
    assert figures.mean_overlap_share == 0.0 and figures.mean_shared_street_share == 0.0


def test_rounds_alternating_along_the_same_streets_share_them_all(grid: RoadNetwork,
                                                                  tools: SimpleNamespace) -> None:
    """Both rounds serve every stretch of rows 0 and 1, bin by bin: every street shared by two
    rounds and listed by its end nodes' OSM ids, both shares 1, the two areas cross."""
    stretches = [(r, c) for r in (0, 1) for c in range(COLS - 1)]
    _, planned = _evaluate(grid, tools, {
        "a": [(r, c, 0.3) for r, c in stretches],
        "b": [(r, c, 0.7) for r, c in stretches],
    })
    figures = planned.compactness
    assert figures is not None
    expected = sorted(f"{_node(r, c)}-{_node(r, c + 1)}" for r, c in stretches)
    assert list(figures.shared_street_ids) == expected
    assert figures.shared_streets == figures.streets == 12 and figures.max_rounds_per_street == 2
    assert figures.crossing_pairs == 1
    for rnd in figures.rounds:
        assert rnd.shared_streets == 12 and rnd.crossing_rounds == 1
        assert rnd.shared_street_share == pytest.approx(1.0)
        assert rnd.overlap_share == pytest.approx(1.0)


def test_interleaved_rows_overlap_without_sharing_a_street(grid: RoadNetwork, tools: SimpleNamespace) -> None:
    """Rows 0 and 2 to one round, rows 1 and 3 to the other: no street is shared, but each round's
    area covers half of the other's street length, and they cross."""
    _, planned = _evaluate(grid, tools, {
        "even": [(r, c, 0.5) for r in (0, 2) for c in range(COLS - 1)],
        "odd": [(r, c, 0.5) for r in (1, 3) for c in range(COLS - 1)],
    })
    figures = planned.compactness
    assert figures is not None
    assert figures.shared_streets == 0 and figures.crossing_pairs == 1
    odd = figures.of("odd")
    even = figures.of("even")
    assert odd is not None and even is not None
    # row 1 (half the odd round's length) lies inside the even round's area (rows 0 to 2), row 3
    # outside it; likewise row 2 inside the odd round's area (rows 1 to 3), row 0 outside
    assert odd.overlap_share == pytest.approx(0.5, abs=0.01)
    assert even.overlap_share == pytest.approx(0.5, abs=0.01)
    assert figures.of("nobody") is None


def test_options_name_the_bad_field() -> None:
    """A negative buffer or a ratio outside 0..1 is refused, naming the option."""
    with pytest.raises(ValueError, match="buffer_m"):
        CompactnessOptions(buffer_m=-1.0)
    with pytest.raises(ValueError, match="hull_ratio"):
        CompactnessOptions(hull_ratio=1.5)
    with pytest.raises(ValueError, match="crossing_min_share"):
        CompactnessOptions(crossing_min_share=2.0)


def test_a_wider_buffer_is_reported(grid: RoadNetwork, tools: SimpleNamespace) -> None:
    """A round on one straight street: its area is the street widened by the buffer on each side
    (with round ends); the buffer used is part of the figures, and a wider one gives more area."""
    problem, planned = _evaluate(grid, tools, {"solo": [(0, c, 0.5) for c in range(COLS - 1)]})
    figures = planned.compactness
    assert figures is not None and figures.buffer_m == 15.0
    assert figures.rounds[0].overlap_share == 0.0 and figures.crossing_pairs == 0
    length_m = figures.rounds[0].street_length_m
    assert figures.rounds[0].area_m2 == pytest.approx(length_m * 30 + math.pi * 15 ** 2, rel=0.02)
    wider = plan_compactness(problem, grid, prepare(problem, grid).snapped, planned.evaluation,
                             CompactnessOptions(buffer_m=30.0))
    assert wider.buffer_m == 30.0
    assert wider.rounds[0].area_m2 == pytest.approx(length_m * 60 + math.pi * 30 ** 2, rel=0.02)
