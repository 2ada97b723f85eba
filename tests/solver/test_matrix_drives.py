"""Tests of solver.matrix_drives (drives kept factored on a junction table) and of the point matrix
assembled straight from it (solver.matrix.travel_matrices) on Monaco's turn-aware legs: the same
figures as the whole expanded table gives, by either backend, excepted pairs and floors included."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from solver import matrix_ch
from solver.bench import random_network_points
from solver.matrix import LORRY_TURNS, build_legs, node_matrices, travel_matrices
from solver.matrix_chains import junction_table
from solver.matrix_drives import NodeDrives
from solver.network import RoadNetwork, routing_graph, turn_graph
from solver.snapping import snap_points

BACKENDS = ["scipy", pytest.param("ch", marks=pytest.mark.skipif(not matrix_ch.available(),
                                                                 reason="pyroutingkit is not installed"))]


@pytest.fixture(scope="module")
def points(monaco: RoadNetwork) -> SimpleNamespace:
    """300 random points on Monaco's streets, with 20 of them repeated a little further along the same
    edge (so that pairs on one edge, and round the block, are in the matrix)."""
    lonlat = random_network_points(monaco, 300, seed=4)
    snapped = snap_points(monaco, lonlat)
    edges = snapped.edge[:20]
    xy = np.array([monaco.edge_xy[e].interpolate(min(f + 0.05, 1.0), normalized=True).coords[0]
                   for e, f in zip(edges.tolist(), snapped.fraction[:20].tolist(), strict=True)])
    lon, lat = monaco.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return SimpleNamespace(snapped=snap_points(monaco, np.vstack([lonlat, np.column_stack([lon, lat])])))


@pytest.fixture(scope="module", params=BACKENDS)
def legs(request: pytest.FixtureRequest, monaco: RoadNetwork, points: SimpleNamespace) -> SimpleNamespace:
    """Turn-aware legs of the points by one backend, and the same legs with the whole table expanded
    (the plain table the assembly read before the drives were kept factored)."""
    legs = build_legs(monaco, points.snapped, backend=request.param)
    plain = replace(legs, drives=NodeDrives.table(legs.node_time.copy(), legs.node_length.copy()))
    return SimpleNamespace(backend=request.param, legs=legs, plain=plain)


def test_turn_aware_legs_keep_their_drives_factored(legs: SimpleNamespace) -> None:
    """The turn-aware drives are kept on a junction table (on unsimplified Rutland far smaller than the
    table between the slots' edges; on Monaco's simplified graph about as large), with excepted pairs
    (on one stretch of street, an edge to itself): what the assembly below exercises."""
    drives = legs.legs.drives
    assert not drives.plain
    assert drives.core_t.shape != drives.shape
    assert len(drives.pair_key) > 20


def test_at_reads_the_expanded_table(legs: SimpleNamespace) -> None:
    """``at`` gives exactly the expanded table's figures, for random pairs and every excepted one."""
    drives = legs.legs.drives
    rng = np.random.default_rng(2)
    i = np.concatenate([rng.integers(0, drives.shape[0], 5000), drives.pairs()[0]])
    j = np.concatenate([rng.integers(0, drives.shape[1], 5000), drives.pairs()[1]])
    t, m = drives.at(i, j)
    np.testing.assert_array_equal(t, drives.times[i, j])
    np.testing.assert_array_equal(m, drives.lengths[i, j])


def test_point_matrix_from_the_junction_table_equals_the_expanded_one(legs: SimpleNamespace) -> None:
    """The point matrix assembled from the factored drives is the one assembled from the whole expanded
    table: the same unreachable pairs, the same figures but for the rounding of the sums taken in
    another order (float32 from the CCH), in blocks of any size."""
    factored = travel_matrices(legs.legs)
    expanded = travel_matrices(legs.plain)
    tight = legs.backend == "scipy"
    for got, want, atol in ((factored.duration_s, expanded.duration_s, 1e-9 if tight else 2e-3),
                            (factored.distance_m, expanded.distance_m, 1e-6 if tight else 0.05)):
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6, atol=atol)
    blocks = travel_matrices(legs.legs, block_bytes=1)
    np.testing.assert_array_equal(blocks.duration_s, factored.duration_s)
    np.testing.assert_array_equal(blocks.distance_m, factored.distance_m)


def test_with_pairs_keeps_the_last_figures() -> None:
    """A pair given twice takes the figures given last; the other entries keep their sums."""
    core = np.array([[1.0, 2.0], [3.0, 4.0]])
    drives = NodeDrives.factored(core, 10 * core, np.array([0, 1, 1]), np.array([1, 0]),
                                 (np.array([0.5, 0.0, 1.0]), np.zeros(3)), (np.array([0.0, 0.25]), np.zeros(2)))
    drives = drives.with_pairs(np.array([2, 0]), np.array([1, 0]), np.array([7.0, 8.0]), np.array([70.0, 80.0]))
    drives = drives.with_pairs(np.array([2]), np.array([1]), np.array([9.0]), np.array([90.0]))
    np.testing.assert_array_equal(drives.times, [[8.0, 1.75], [4.0, 3.25], [5.0, 9.0]])
    np.testing.assert_array_equal(drives.lengths, [[80.0, 10.0], [40.0, 30.0], [40.0, 90.0]])


@pytest.mark.skipif(not matrix_ch.available(), reason="pyroutingkit is not installed")
def test_floored_raises_every_figure_below_zero_to_zero(monaco: RoadNetwork) -> None:
    """From the end of an edge to the start of the next, the CCH's milliseconds and the length metric's
    units may sum a little below 0: ``floored`` raises exactly those figures to 0, found without
    expanding the table, and leaves every other figure as it was."""
    graph = turn_graph(monaco, routing_graph(monaco), LORRY_TURNS)
    edges = np.arange(0, monaco.n_edges, 3)
    query = lambda junctions, s, t: node_matrices(monaco, s, t, routing=junctions, backend="ch")  # noqa: E731
    table = junction_table(monaco, graph, edges, edges, query)
    raw = table.factored(edges, edges, target_offset_s=-monaco.edge_time_s[edges],
                         target_offset_m=-monaco.edge_length_m[edges])
    assert (raw.times < 0).any() or (raw.lengths < 0).any()  # there is something to floor
    floored = raw.floored()
    np.testing.assert_array_equal(floored.times, np.maximum(raw.times, 0))
    np.testing.assert_array_equal(floored.lengths, np.maximum(raw.lengths, 0))
