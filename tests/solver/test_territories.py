"""Territories cut along the streets of a hand-made grid where the right answer is plain.

The grid: four east-west residential streets (rows 0..3, 0.001 degree, ~111 m apart, on the
equator) of six stretches each (columns 0..6), joined by north-south streets at both ends; the
depot on the west one. Node ``(row, col)`` has OSM id ``100 + 10 * row + col``. Three bins lie
on each east-west stretch; distances come from the real matrices of the built network.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from solver.network import RoadNetwork
from solver.pipeline import prepare
from solver.problem import Bin, Depot, Problem, ProblemError, Vehicle
from solver.territories import (
    check_territories,
    extend_territories,
    grow_territories,
    territory_core,
    whole_streets,
)

ROWS, COLS = 4, 7
STEP_DEG = 0.001
FRACTIONS = (0.25, 0.5, 0.75)


def _node(row: int, col: int) -> int:
    return 100 + 10 * row + col


@pytest.fixture
def grid(street_grid: RoadNetwork) -> RoadNetwork:
    """The street grid of tests/conftest.py (the module docstring's)."""
    return street_grid


def _bin_id(row: int, col: int, k: int) -> str:
    return f"r{row}c{col}k{k}"


@pytest.fixture
def grid_problem(grid: RoadNetwork, tools: SimpleNamespace) -> Problem:
    """Three bins on every east-west stretch of the grid (72 bins, 20 kg each), two vehicles."""
    bins = []
    for row in range(ROWS):
        for col in range(COLS - 1):
            edge = tools.edge_index(grid, _node(row, col), _node(row, col + 1))
            for k, (lon, lat) in enumerate(tools.lonlat_on_edges(grid, [edge] * 3, FRACTIONS)):
                bins.append(Bin(_bin_id(row, col, k), float(lon), float(lat), demand_kg=20.0))
    return Problem(depots=(Depot("d", 9.0, 1.5 * STEP_DEG),), bins=tuple(bins),
                   vehicles=(Vehicle("a", "d", 10_000.0), Vehicle("b", "d", 10_000.0)))


def _stretches(territories: dict[str, str]) -> dict[tuple[str, str], set[str]]:
    """(row, col) of each stretch -> the vehicles whose territories hold its bins."""
    out: dict[tuple[str, str], set[str]] = {}
    for bin_id, vehicle in territories.items():
        row, col = bin_id[1], bin_id[3]
        out.setdefault((row, col), set()).add(vehicle)
    return out


def test_interleaved_rounds_become_territories_sharing_no_street(grid: RoadNetwork, grid_problem: Problem) -> None:
    """Two rounds alternating stretch by stretch (and bin by bin on the middle bins) become two
    territories that share hardly a stretch (from all 24 shared to at most 2), and neither
    territory swallows the other (each keeps at most 10 % over half the bins)."""
    prepared = prepare(grid_problem, grid)
    fleet = prepared.matrices.for_vehicle("a")
    ids = [b.id for b in grid_problem.bins]
    rounds: dict[str, list[str]] = {"a": [], "b": []}
    for b in ids:
        row, col, k = int(b[1]), int(b[3]), int(b[5])
        rounds["a" if (row + col + (k == 1)) % 2 == 0 else "b"].append(b)
    before = _stretches({b: v for v, stops in rounds.items() for b in stops})
    assert all(len(v) == 2 for v in before.values())
    territories = grow_territories(grid_problem, fleet, ids, rounds)
    assert set(territories) == set(ids)
    after = _stretches(territories)
    assert sum(len(v) > 1 for v in after.values()) <= 2, after
    sizes = sorted(list(territories.values()).count(v) for v in ("a", "b"))
    assert sizes[1] <= 40, sizes


def test_territories_within_a_tolerance_stay_balanced(grid: RoadNetwork, grid_problem: Problem) -> None:
    """With a tolerance, a territory takes a bin only while it stays within 10 % of the mean
    territory's work and kg: from rounds of 36 bins each, neither ends above 40."""
    prepared = prepare(grid_problem, grid)
    fleet = prepared.matrices.for_vehicle("a")
    ids = [b.id for b in grid_problem.bins]
    rounds = {"a": ids[0::2], "b": ids[1::2]}
    territories = grow_territories(grid_problem, fleet, ids, rounds, tolerance=0.1)
    counts = [list(territories.values()).count(v) for v in ("a", "b")]
    assert max(counts) <= 40, counts


def test_fixed_territories_extend_to_new_bins_nearest_by_road(grid: RoadNetwork, grid_problem: Problem) -> None:
    """An approved plan held the west half's stretches in ``a`` and the east half's in ``b``; the
    middle column's bins (not in it) join the territory nearest to them, and the named bins keep
    their vehicle."""
    prepared = prepare(grid_problem, grid)
    fleet = prepared.matrices.for_vehicle("a")
    ids = [b.id for b in grid_problem.bins]
    fixed = {b: ("a" if int(b[3]) <= 1 else "b") for b in ids if int(b[3]) != 2 and int(b[3]) != 3}
    territories = extend_territories(grid_problem, fleet, ids, fixed)
    assert all(territories[b] == v for b, v in fixed.items())
    for row in range(ROWS):
        assert territories[_bin_id(row, 2, 0)] == "a"  # next to column 1 (a)
        assert territories[_bin_id(row, 3, 2)] == "b"  # next to column 4 (b)


def test_a_territory_core_leaves_out_its_border(grid: RoadNetwork, grid_problem: Problem) -> None:
    """West half to ``a``, east half to ``b``: the core keeps the bins far from the boundary and
    leaves out those whose nearest bins lie across it."""
    prepared = prepare(grid_problem, grid)
    fleet = prepared.matrices.for_vehicle("a")
    territories = {b.id: ("a" if int(b.id[3]) <= 2 else "b") for b in grid_problem.bins}
    core = territory_core(grid_problem, fleet, territories)
    assert _bin_id(0, 0, 0) in core and _bin_id(0, 5, 2) in core
    assert _bin_id(0, 2, 2) not in core and _bin_id(0, 3, 0) not in core
    assert all(core[b] == territories[b] for b in core)


@pytest.mark.parametrize(("pairs", "item"), [
    ((("nobin", "a"),), "nobin"),
    ((("r0c0k0", "novehicle"),), "r0c0k0"),
    ((("r0c0k0", "a"), ("r0c0k0", "b")), "r0c0k0"),
])
def test_bad_territories_name_the_field_and_the_bin(grid_problem: Problem, pairs: tuple[tuple[str, str], ...],
                                                    item: str) -> None:
    """A pair naming an unknown bin, an unknown vehicle, or a bin twice is a ProblemError on
    ``options.territories`` naming the bin."""
    with pytest.raises(ProblemError) as caught:
        check_territories(grid_problem, pairs)
    assert caught.value.field == "options.territories" and caught.value.item_id == item
    assert item in str(caught.value)


def test_whole_streets_put_every_bin_of_a_street_in_one_territory() -> None:
    """A street whose bins straddle a border goes whole to the territory most of its bins are in;
    a bin without a street keeps its territory."""
    territories = {"s1a": "a", "s1b": "a", "s1c": "b", "s2a": "b", "lone": "b"}
    streets = {"s1a": 1, "s1b": 1, "s1c": 1, "s2a": 2}
    assert whole_streets(territories, streets) == {"s1a": "a", "s1b": "a", "s1c": "a", "s2a": "b", "lone": "b"}
