"""Tests of the turn-aware matrices (solver.matrix with a TurnPolicy, solver.matrix_turns,
solver.network.turn_graph) on Monaco: durations against a brute force over an edge-expanded
graph built here independently with networkx, the drawn pieces timed back to the matrix,
no banned turn and no U-turn away from dead ends, turning places and side ways in any drawn drive."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

from solver.geometry import route_pieces
from solver.matrix import LORRY_TURNS, build_legs, travel_matrices
from solver.network import RoadNetwork, TurnCosts, TurnPolicy, all_turns, junction_nodes
from solver.snapping import snap_points


def expanded_graph(network: RoadNetwork, policy: TurnPolicy) -> nx.DiGraph:
    """Node ``e`` = at the end of edge ``e``; an arc per allowed turn, weighted turn + next edge (s)."""
    turns = all_turns(network, drives_on=policy.drives_on)
    banned = set(zip(network.banned_turn_in.tolist(), network.banned_turn_out.tolist(), strict=True))
    junction = junction_nodes(network)
    c = policy.costs
    graph = nx.DiGraph()
    for a, b, v, kind, crossing in zip(turns.in_edge.tolist(), turns.out_edge.tolist(), turns.node.tolist(),
                                       turns.kind_names(), turns.crosses_traffic.tolist(), strict=True):
        if (a, b) in banned:
            continue
        if kind == "u_turn":
            if network.node_turning_place[v]:
                cost = c.turning_place_s
            elif network.node_dead_end[v] or (policy.turn_in_side_ways and network.node_side_way[v]):
                cost = c.reversing_s
            elif policy.allow_u_turns:
                cost = c.u_turn_s
            else:
                continue
        elif not junction[v] or kind == "straight":
            cost = c.straight_s
        else:
            cost = c.crossing_s if crossing else c.turn_s
        graph.add_edge(a, b, weight=cost + float(network.edge_time_s[b]))
    return graph


@pytest.fixture(scope="module")
def sample(monaco: RoadNetwork) -> SimpleNamespace:
    """40 random points on the streets of Monaco's largest strongly connected part (two on one edge), their
    turn-aware legs and matrices (scipy)."""
    rng = np.random.default_rng(3)
    largest = monaco.node_component == monaco.largest_component()
    edges = rng.choice(np.flatnonzero(largest[monaco.edge_u] & largest[monaco.edge_v]), 38, replace=False)
    edges = np.concatenate([edges, edges[:1], edges[:1]])
    fractions = np.concatenate([rng.uniform(0.1, 0.9, 38), [0.2, 0.8]])
    xy = np.array([monaco.edge_xy[e].interpolate(f, normalized=True).coords[0]
                   for e, f in zip(edges.tolist(), fractions.tolist(), strict=True)])
    lon, lat = monaco.to_lonlat().transform(xy[:, 0], xy[:, 1])
    snapped = snap_points(monaco, np.column_stack([lon, lat]))
    legs = build_legs(monaco, snapped, backend="scipy")
    return SimpleNamespace(snapped=snapped, legs=legs, matrices=travel_matrices(legs))


def brute_time(network: RoadNetwork, graph: nx.DiGraph, legs: object, p: int, q: int) -> float:
    """Least time from point p to point q over their slots, through the expanded graph."""
    best = np.inf
    for a, b in itertools.product(range(2), range(2)):
        ea, fa = int(legs.slot_edge[p, a]), float(legs.slot_fraction[p, a])  # type: ignore[attr-defined]
        eb, fb = int(legs.slot_edge[q, b]), float(legs.slot_fraction[q, b])  # type: ignore[attr-defined]
        if ea == eb and fb >= fa:
            best = min(best, (fb - fa) * network.edge_time_s[ea])
            continue
        out = (1.0 - fa) * network.edge_time_s[ea]
        if ea == eb:
            into = [(x, graph[x][eb]["weight"]) for x in graph.predecessors(eb)]
            lengths = nx.single_source_dijkstra_path_length(graph, ea)
            middle = min((lengths[x] + w for x, w in into if x in lengths), default=np.inf)
        else:
            try:
                middle = nx.dijkstra_path_length(graph, ea, eb)
            except nx.NetworkXNoPath:
                continue
        best = min(best, out + middle - (1.0 - fb) * network.edge_time_s[eb])
    return float(best)


def test_turn_aware_durations_equal_brute_force(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """Every sampled duration equals the least drive over slots on an independently built expanded graph."""
    graph = expanded_graph(monaco, LORRY_TURNS)
    rng = np.random.default_rng(5)
    pairs = [(38, 39), (39, 38)] + [tuple(rng.choice(40, 2, replace=False)) for _ in range(60)]
    for p, q in pairs:
        expected = brute_time(monaco, graph, sample.legs, int(p), int(q))
        assert sample.matrices.duration_s[p, q] == pytest.approx(expected, rel=1e-9, abs=1e-6), (p, q)


def test_point_behind_on_one_edge_drives_round(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """From the later of two points on one edge to the earlier, the lorry goes round, not back."""
    legs = sample.legs
    t = sample.matrices.duration_s
    assert legs.slot_edge[38, 0] == legs.slot_edge[39, 0]
    ahead, behind = (38, 39) if legs.slot_fraction[38, 0] < legs.slot_fraction[39, 0] else (39, 38)
    edge = int(legs.slot_edge[38, 0])
    straight = abs(legs.slot_fraction[39, 0] - legs.slot_fraction[38, 0]) * monaco.edge_time_s[edge]
    assert t[ahead, behind] == pytest.approx(straight) or monaco.edge_twin[edge] >= 0
    if monaco.edge_twin[edge] < 0:
        assert t[behind, ahead] > straight


def test_turn_aware_is_never_quicker_than_free_turns(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """Turn rules and costs only add: every duration is at least the free-turning one."""
    plain = travel_matrices(build_legs(monaco, sample.snapped, turns=None, backend="scipy"))
    finite = np.isfinite(sample.matrices.duration_s)
    assert (sample.matrices.duration_s[finite] >= plain.duration_s[finite] - 1e-6).all()
    assert (sample.matrices.duration_s[finite] > plain.duration_s[finite] + 1e-6).any()


def test_drawn_pieces_are_timed_as_the_matrix(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """Summing the drawn pieces (edge parts plus the turns between them) gives the matrix duration."""
    graph = expanded_graph(monaco, LORRY_TURNS)
    seq = list(range(0, 40, 3))
    pieces = route_pieces(sample.legs, {"r": seq})["r"]
    total = 0.0
    for (e, f0, f1), nxt in itertools.zip_longest(pieces, pieces[1:]):
        total += (f1 - f0) * monaco.edge_time_s[e]
        if nxt is not None and f1 == 1.0 and nxt[1] == 0.0 and nxt[0] != e:
            total += graph[e][nxt[0]]["weight"] - monaco.edge_time_s[nxt[0]]
    expected = sum(sample.matrices.duration_s[p, q] for p, q in itertools.pairwise(seq))
    assert total == pytest.approx(expected, rel=1e-9)


def test_drawn_drives_take_no_banned_turn_and_no_u_turn_in_the_street(monaco: RoadNetwork,
                                                                        sample: SimpleNamespace) -> None:
    """Between consecutive pieces: never a banned pair; a turn onto the twin only at a dead end, turning place
    or side way."""
    banned = set(zip(monaco.banned_turn_in.tolist(), monaco.banned_turn_out.tolist(), strict=True))
    seq = list(range(40))
    pieces = route_pieces(sample.legs, {"r": seq})["r"]
    checked = 0
    for (e, _, f1), (nxt, f0, _) in itertools.pairwise(pieces):
        if f1 == 1.0 and f0 == 0.0 and nxt != e:
            checked += 1
            assert (e, nxt) not in banned
            if monaco.edge_twin[e] == nxt:
                node = monaco.edge_v[e]
                assert monaco.node_dead_end[node] or monaco.node_turning_place[node] or monaco.node_side_way[node]
    assert checked > 50


def test_allowing_u_turns_never_lengthens_a_drive(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """With free U-turns allowed anywhere no drive gets longer, and some get shorter."""
    free = travel_matrices(build_legs(monaco, sample.snapped, backend="scipy",
                                      turns=TurnPolicy(allow_u_turns=True, costs=TurnCosts(u_turn_s=0.0))))
    finite = np.isfinite(sample.matrices.duration_s)
    assert (free.duration_s[finite] <= sample.matrices.duration_s[finite] + 1e-6).all()
    assert (free.duration_s[finite] < sample.matrices.duration_s[finite] - 1e-6).any()


def test_ch_backend_agrees_with_scipy(monaco: RoadNetwork, sample: SimpleNamespace) -> None:
    """The CCH on the turn-aware graph gives the scipy durations to a few milliseconds."""
    pytest.importorskip("pyroutingkit")
    ch = travel_matrices(build_legs(monaco, sample.snapped, backend="ch"))
    finite = np.isfinite(sample.matrices.duration_s)
    np.testing.assert_array_equal(np.isfinite(ch.duration_s), finite)
    assert np.abs(ch.duration_s[finite] - sample.matrices.duration_s[finite]).max() < 0.05
