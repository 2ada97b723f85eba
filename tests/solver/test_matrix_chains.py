"""Tests of solver.matrix_chains: the single-arc runs of a turn graph, and matrices asked of the
junction nodes only that equal the direct ones, times and lengths, on Monaco (every pair of a
stretch of street included) and on hand-made runs (a loop of single arcs among them)."""

from __future__ import annotations

import numpy as np
import pytest

from solver.matrix import LORRY_TURNS, node_matrices
from solver.matrix_chains import chains, junction_graph, junction_query, junction_table, single_arc_runs
from solver.network import RoadNetwork, TurnGraph, routing_graph, turn_graph


@pytest.fixture(scope="module")
def graph(monaco: RoadNetwork) -> TurnGraph:
    """Monaco's turn graph for a UK lorry."""
    return turn_graph(monaco, routing_graph(monaco), LORRY_TURNS)


def scipy_query(network: RoadNetwork, graph: TurnGraph):  # type: ignore[no-untyped-def]
    """The exact query: scipy's Dijkstra on the whole turn graph."""
    return lambda junctions, s, t: node_matrices(network, s, t, routing=junctions, backend="scipy")


def stretch_nodes(network: RoadNetwork, graph: TurnGraph) -> np.ndarray:
    """Whole stretches of street as runs of single arcs, so that sources and targets share them both
    ways: some forward runs; and junction nodes that lie inside a run of single ways *in* (one-way
    streets and banned turns make them), with that run and every node whose run on ends there; plus
    a few other junction nodes."""
    forward, backward = chains(network, graph)
    rng = np.random.default_rng(11)
    long_run = np.flatnonzero(forward.steps >= 4)
    ends = np.unique(forward.end[rng.choice(long_run, 25, replace=False)])
    inside = np.flatnonzero((forward.steps == 0) & (backward.steps > 0))
    inside = rng.choice(inside, min(30, len(inside)), replace=False)
    nodes = np.flatnonzero(np.isin(forward.end, np.concatenate([ends, inside]))
                           | np.isin(backward.end, backward.end[inside]))
    junctions = rng.choice(np.flatnonzero(forward.steps == 0), 20, replace=False)
    return np.unique(np.concatenate([nodes, junctions]))


def test_many_turn_graph_nodes_have_one_way_on(monaco: RoadNetwork, graph: TurnGraph) -> None:
    """Even on Monaco's simplified graph (chains of vertices merged) a third of the edge-nodes have a
    single way on and single way in (on unsimplified Rutland 85%), which is what the reduction gains from."""
    forward, backward = chains(monaco, graph)
    assert (forward.steps > 0).mean() > 0.3
    assert (backward.steps > 0).mean() > 0.3
    assert len(np.unique(forward.end)) < 0.75 * graph.n_nodes
    assert junction_graph(monaco, graph).csr_time.shape[0] < 0.9 * graph.n_nodes  # 2,246 of 2,627


def test_junction_query_equals_the_direct_query(monaco: RoadNetwork, graph: TurnGraph) -> None:
    """Times and lengths through the junction nodes equal scipy's on the whole graph for every pair
    of some whole stretches of street (either way round, :func:`stretch_nodes`); a node to itself is inf."""
    nodes = stretch_nodes(monaco, graph)
    direct_t, direct_l = node_matrices(monaco, nodes, nodes, routing=graph, backend="scipy")
    times, lengths = junction_query(monaco, graph, nodes, nodes, scipy_query(monaco, graph))
    assert np.isinf(np.diag(times)).all() and np.isinf(np.diag(lengths)).all()
    off = ~np.eye(len(nodes), dtype=bool)
    np.testing.assert_array_equal(np.isfinite(times[off]), np.isfinite(direct_t[off]))
    finite = off & np.isfinite(direct_t)
    np.testing.assert_allclose(times[finite], direct_t[finite], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(lengths[finite], direct_l[finite], rtol=1e-9, atol=1e-3)
    forward, _ = chains(monaco, graph)
    same_run = forward.end[nodes][:, None] == forward.end[nodes][None, :]
    assert (same_run & finite).sum() > 100  # the exceptions were exercised


def test_target_offsets_are_added_to_every_column(monaco: RoadNetwork, graph: TurnGraph) -> None:
    """The per-target offsets land on every finite entry of their column, exceptions included."""
    nodes = stretch_nodes(monaco, graph)
    times, lengths = junction_query(monaco, graph, nodes, nodes, scipy_query(monaco, graph))
    shift_s, shift_m = -0.5 * np.arange(len(nodes)), 2.0 * np.arange(len(nodes))
    shifted_t, shifted_l = junction_query(monaco, graph, nodes, nodes, scipy_query(monaco, graph),
                                          target_offset_s=shift_s, target_offset_m=shift_m)
    finite = np.isfinite(times)
    np.testing.assert_array_equal(np.isfinite(shifted_t), finite)
    np.testing.assert_allclose(shifted_t[finite], (times + shift_s[None, :])[finite], atol=1e-6)
    np.testing.assert_allclose(shifted_l[finite], (lengths + shift_m[None, :])[finite], atol=1e-6)


def test_junction_query_on_the_ch_agrees_with_scipy(monaco: RoadNetwork, graph: TurnGraph) -> None:
    """With the CCH answering the junction query, times stay within milliseconds of the exact ones."""
    pytest.importorskip("pyroutingkit")
    nodes = stretch_nodes(monaco, graph)
    exact_t, _ = junction_query(monaco, graph, nodes, nodes, scipy_query(monaco, graph))
    times, lengths = junction_query(monaco, graph, nodes, nodes,
                                    lambda junctions, s, t: node_matrices(monaco, s, t, routing=junctions,
                                                                          backend="ch"))
    np.testing.assert_array_equal(np.isfinite(times), np.isfinite(exact_t))
    finite = np.isfinite(exact_t)
    assert np.abs(times[finite] - exact_t[finite]).max() < 0.05
    assert np.isfinite(lengths[finite]).all()


def test_runs_follow_single_arcs_to_their_end() -> None:
    """A run 0 -> 1 -> 2 -> 3 stops at 3 (several ways on) with the times and lengths summed; a node
    with several ways on is its own end."""
    single = np.array([True, True, True, False])
    nxt = np.array([1, 2, 3, 3])
    runs = single_arc_runs(4, single, nxt, np.array([1.0, 2.0, 4.0, 0.0]), np.array([10.0, 20.0, 40.0, 0.0]))
    np.testing.assert_array_equal(runs.end, [3, 3, 3, 3])
    np.testing.assert_array_equal(runs.steps, [3, 2, 1, 0])
    np.testing.assert_allclose(runs.time_s, [7.0, 6.0, 4.0, 0.0])
    np.testing.assert_allclose(runs.length_m, [70.0, 60.0, 40.0, 0.0])
    np.testing.assert_array_equal(runs.ahead(np.array([0, 0, 1]), np.array([2, 3, 1])), [2, 3, 2])
    np.testing.assert_array_equal(runs.on_run(np.array([0, 1, 2]), np.array([2, 0, 3])), [True, False, True])


def test_an_endless_run_is_cut() -> None:
    """A loop of single arcs (4 -> 5 -> 6 -> 4) and the run into it (7 -> 4) never stop: their nodes
    become ends, so no sum runs round the loop."""
    single = np.array([False, False, False, False, True, True, True, True])
    nxt = np.array([0, 1, 2, 3, 5, 6, 4, 4])
    runs = single_arc_runs(8, single, nxt, np.ones(8), np.ones(8))
    np.testing.assert_array_equal(runs.end[4:], [4, 5, 6, 7])
    np.testing.assert_array_equal(runs.steps[4:], [0, 0, 0, 0])


def test_one_table_serves_any_of_its_sources_and_targets(monaco: RoadNetwork, graph: TurnGraph) -> None:
    """A junction table expands the drives between any subsets of the nodes it was made for, the same
    as a query of its own; a node it was not made for is refused with a clear error."""
    nodes = stretch_nodes(monaco, graph)
    query = scipy_query(monaco, graph)
    table = junction_table(monaco, graph, nodes, nodes, query)
    some = nodes[::3]
    np.testing.assert_allclose(table.drives(some, nodes)[0], junction_query(monaco, graph, some, nodes, query)[0])
    forward, _ = chains(monaco, graph)
    outside = np.setdiff1d(np.flatnonzero(~np.isin(forward.end, forward.end[nodes])), nodes)[:1]
    with pytest.raises(ValueError, match="not made for"):
        table.drives(outside, nodes)
