"""Tests of solver.orientation: the direction each route drives past its bins, chosen so that a
lorry arrives at and leaves each bin the same way, on Monaco's turn-aware legs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from solver.matrix import build_legs
from solver.network import RoadNetwork
from solver.orientation import choose_rows, orient_route, oriented
from solver.snapping import snap_points


@pytest.fixture(scope="module")
def legs(monaco: RoadNetwork) -> object:
    """Turn-aware legs of 30 random points on Monaco's two-way streets (point 0 plays the depot)."""
    rng = np.random.default_rng(11)
    two_way = np.flatnonzero(monaco.edge_twin >= 0)
    edges = rng.choice(two_way, 30, replace=False)
    xy = np.array([monaco.edge_xy[e].interpolate(f, normalized=True).coords[0]
                   for e, f in zip(edges.tolist(), rng.uniform(0.2, 0.8, 30).tolist(), strict=True)])
    lon, lat = monaco.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return build_legs(monaco, snap_points(monaco, np.column_stack([lon, lat])), backend="scipy")


def _drive(legs: object, rows: list[int]) -> float:
    t, _, _, _ = legs.choose(np.array(rows[:-1]), np.array(rows[1:]))  # type: ignore[attr-defined]
    return float(t.sum())


def test_each_bin_is_left_the_way_it_was_reached(legs: object) -> None:
    """With the directions fixed, every leg into a bin arrives in the slot the next leg leaves by."""
    fixable = np.arange(30) > 0
    rows = [0, *range(1, 30), 0]
    fixed, _ = oriented(legs, [rows], fixable)  # type: ignore[arg-type]
    _, _, col, _ = fixed.choose(np.array(rows[:-1]), np.array(rows[1:]))
    for k in range(len(rows) - 2):
        b = rows[k + 1]
        arrive, leave = col[k] % 2, col[k + 1] // 2
        assert fixed.slot_edge[b, arrive] == fixed.slot_edge[b, leave]


def test_fixed_route_is_the_quickest_consistent_choice(legs: object) -> None:
    """On a short route the chosen directions give the least drive over every consistent choice (brute force),
    never less than the free drive that may turn back at a bin."""
    fixable = np.arange(30) > 0
    rows = [0, 3, 7, 12, 18, 25, 0]
    chosen = orient_route(legs, rows, fixable)  # type: ignore[arg-type]
    best = np.inf
    for slots in itertools.product(range(2), repeat=5):
        c = np.full(30, -1)
        c[rows[1:-1]] = slots
        best = min(best, _drive(legs.with_slots(c), rows))  # type: ignore[attr-defined]
    c = np.full(30, -1)
    for row, slot in chosen.items():
        c[row] = slot
    got = _drive(legs.with_slots(c), rows)  # type: ignore[attr-defined]
    assert got == pytest.approx(best)
    assert got >= _drive(legs, rows) - 1e-9


def test_depot_keeps_both_directions(legs: object) -> None:
    """A point that is not fixable (a depot) gets no direction."""
    chosen = orient_route(legs, [0, 5, 0, 9, 0], np.arange(30) > 0)  # type: ignore[arg-type]
    assert 0 not in chosen and set(chosen) == {5, 9}


def test_choose_rows_is_the_quickest_choice_over_candidates() -> None:
    """On a small matrix the chosen rows give the least total over every choice (brute force)."""
    rng = np.random.default_rng(2)
    t = rng.uniform(1, 100, (7, 7))
    candidates = [[0], [1, 2], [3], [4, 5], [6, 1], [0]]
    chosen = choose_rows(t, candidates)
    best = min(itertools.product(*candidates), key=lambda rows: sum(t[a, b] for a, b in itertools.pairwise(rows)))
    assert sum(t[a, b] for a, b in itertools.pairwise(chosen)) == pytest.approx(
        sum(t[a, b] for a, b in itertools.pairwise(best)))
    assert [c in opts for c, opts in zip(chosen, candidates, strict=True)] == [True] * 6
