"""Tests of solver.matrix: node-to-node quickest paths against networkx, point-to-point
durations and distances against a brute force over the ways of leaving and entering
each street, one-way streets, chunking, off-network points, a network worked by hand,
and per-access-profile matrices (a lorry kept off a weight-limited street) for a fleet."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

from solver.matrix import TravelMatrices, build_legs, fleet_matrices, node_matrices, travel_matrices
from solver.network import AccessProfile, RoadNetwork
from solver.problem import Vehicle
from solver.snapping import SnappedPoints, snap_points

NetworkFactory = Callable[..., RoadNetwork]


def quickest_digraph(network: RoadNetwork) -> nx.DiGraph:
    """Reference graph on node indices: one arc per node pair, the quickest parallel edge,
    with its ``travel_time`` (s) and ``length`` (m) taken from the osmnx graph."""
    index = {int(osmid): i for i, osmid in enumerate(network.node_osmid)}
    graph = nx.DiGraph()
    graph.add_nodes_from(range(network.n_nodes))
    for u, v, data in network.graph.edges(data=True):
        a, b = index[u], index[v]
        t, length = float(data["travel_time"]), float(data["length"])
        if not graph.has_edge(a, b) or t < graph[a][b]["travel_time"]:
            graph.add_edge(a, b, travel_time=t, length=length)
    return graph


def path_length(graph: nx.DiGraph, path: list[int]) -> float:
    """Sum of arc lengths (m) along ``path``."""
    return sum(graph[a][b]["length"] for a, b in itertools.pairwise(path))


@pytest.fixture(scope="module")
def reference(monaco: RoadNetwork) -> nx.DiGraph:
    """Monaco's quickest-arc DiGraph for networkx."""
    return quickest_digraph(monaco)


def in_largest(network: RoadNetwork) -> np.ndarray:
    """Indices of edges with both ends in the largest strongly connected part."""
    big = network.largest_component()
    return np.flatnonzero((network.node_component[network.edge_u] == big)
                          & (network.node_component[network.edge_v] == big))


# --- node to node ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_sample(monaco: RoadNetwork, reference: nx.DiGraph) -> SimpleNamespace:
    """10 sources in the largest part x 10 targets anywhere (so some unreachable), with
    node_matrices' answer and networkx's quickest paths from each source."""
    rng = np.random.default_rng(3)
    big = np.flatnonzero(monaco.node_component == monaco.largest_component())
    sources = rng.choice(big, size=10, replace=False)
    targets = np.concatenate([rng.choice(big, size=8, replace=False),
                              rng.choice(np.flatnonzero(monaco.node_component != monaco.largest_component()),
                                         size=2, replace=False)])
    times, lengths = node_matrices(monaco, sources, targets)
    nx_paths = {int(s): nx.single_source_dijkstra(reference, int(s), weight="travel_time")
                for s in sources}
    return SimpleNamespace(sources=sources, targets=targets, times=times, lengths=lengths, nx=nx_paths)


def test_node_times_equal_networkx(node_sample: SimpleNamespace) -> None:
    """On 100 Monaco node pairs the quickest times equal networkx's Dijkstra (inf if unreachable)."""
    for i, s in enumerate(node_sample.sources.tolist()):
        dist, _ = node_sample.nx[s]
        for j, t in enumerate(node_sample.targets.tolist()):
            assert node_sample.times[i, j] == pytest.approx(dist.get(t, math.inf), rel=1e-9, abs=1e-5)


def test_node_sample_reaches_and_misses(node_sample: SimpleNamespace) -> None:
    """The sample is not trivial: most pairs are reachable, a few are not, none is zero-length."""
    finite = np.isfinite(node_sample.times)
    assert finite.sum() >= 80 and (~finite).sum() >= 1
    assert (node_sample.times[finite] > 0).all()


def test_node_lengths_are_quickest_path_lengths(node_sample: SimpleNamespace, reference: nx.DiGraph) -> None:
    """Each distance is the length of networkx's quickest path (not the shortest one) within 1 mm, inf if none."""
    for i, s in enumerate(node_sample.sources.tolist()):
        _, paths = node_sample.nx[s]
        for j, t in enumerate(node_sample.targets.tolist()):
            expected = path_length(reference, paths[t]) if t in paths else math.inf
            assert node_sample.lengths[i, j] == pytest.approx(expected, abs=1e-3)


def test_node_chunking_gives_identical_results(monaco: RoadNetwork, node_sample: SimpleNamespace) -> None:
    """A tiny memory budget (one source per Dijkstra chunk) gives exactly the same arrays."""
    times, lengths = node_matrices(monaco, node_sample.sources, node_sample.targets, chunk_bytes=1)
    np.testing.assert_array_equal(times, node_sample.times)
    np.testing.assert_array_equal(lengths, node_sample.lengths)


# --- point to point --------------------------------------------------------------------


def _ways_out(network: RoadNetwork, e: int, f: float) -> list[tuple[int, float, float]]:
    """(node, time s, length m) of each way of leaving a point at fraction ``f`` of edge ``e``."""
    ways = [(int(network.edge_v[e]), (1 - f) * network.edge_time_s[e], (1 - f) * network.edge_length_m[e])]
    twin = int(network.edge_twin[e])
    if twin >= 0:  # drive back along the street, on its twin, to e's start node
        ways.append((int(network.edge_v[twin]), f * network.edge_time_s[twin], f * network.edge_length_m[twin]))
    return ways


def _ways_in(network: RoadNetwork, e: int, f: float) -> list[tuple[int, float, float]]:
    """(node, time s, length m) of each way of reaching a point at fraction ``f`` of edge ``e``."""
    ways = [(int(network.edge_u[e]), f * network.edge_time_s[e], f * network.edge_length_m[e])]
    twin = int(network.edge_twin[e])
    if twin >= 0:
        ways.append((int(network.edge_u[twin]), (1 - f) * network.edge_time_s[twin],
                     (1 - f) * network.edge_length_m[twin]))
    return ways


class BruteForce:
    """Quickest (time s, length m) between snapped points, worked out independently of
    solver.matrix: the least over the ways of leaving p and of entering q, joined by
    networkx's quickest node path, and over driving straight along a shared street
    (either way along a two-way street)."""

    def __init__(self, network: RoadNetwork, reference: nx.DiGraph, snapped: SnappedPoints) -> None:
        self.network, self.reference, self.snapped = network, reference, snapped
        self._trees: dict[int, tuple[dict, dict]] = {}

    def _tree(self, node: int) -> tuple[dict, dict]:
        if node not in self._trees:
            self._trees[node] = nx.single_source_dijkstra(self.reference, node, weight="travel_time")
        return self._trees[node]

    def __call__(self, p: int, q: int) -> tuple[float, float]:
        net = self.network
        ep, fp = int(self.snapped.edge[p]), float(self.snapped.fraction[p])
        eq, fq = int(self.snapped.edge[q]), float(self.snapped.fraction[q])
        options = []
        for node_out, t_out, l_out in _ways_out(net, ep, fp):
            dist, paths = self._tree(node_out)
            for node_in, t_in, l_in in _ways_in(net, eq, fq):
                if node_in in dist:
                    options.append((t_out + dist[node_in] + t_in,
                                    l_out + path_length(self.reference, paths[node_in]) + l_in))
        twin = int(net.edge_twin[ep])
        # q's position measured along p's edge, when both lie on the same street
        pos = fq if eq == ep else (1 - fq) if (twin >= 0 and eq == twin) else None
        if pos is not None and pos >= fp:
            options.append(((pos - fp) * net.edge_time_s[ep], (pos - fp) * net.edge_length_m[ep]))
        if pos is not None and twin >= 0 and pos <= fp:
            options.append(((fp - pos) * net.edge_time_s[twin], (fp - pos) * net.edge_length_m[twin]))
        return min(options) if options else (math.inf, math.inf)


@pytest.fixture(scope="module")
def stops(monaco: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """14 points on largest-part Monaco streets (two pairs share a street: one two-way, one
    one-way), snapped, with their legs and matrices."""
    rng = np.random.default_rng(5)
    inside = in_largest(monaco)
    long = inside[monaco.edge_length_m[inside] > 60]
    two_way = long[monaco.edge_twin[long] >= 0]
    one_way = long[monaco.edge_twin[long] < 0]
    edges = np.concatenate([rng.choice(inside, size=10, replace=False),
                            [two_way[0], two_way[0], one_way[0], one_way[0]]])
    fractions = np.concatenate([rng.uniform(0.1, 0.9, size=10), [0.3, 0.7, 0.2, 0.8]])
    snapped = snap_points(monaco, tools.lonlat_on_edges(monaco, edges, fractions))
    assert snapped.ok.all()
    legs = build_legs(monaco, snapped, turns=None)
    return SimpleNamespace(snapped=snapped, legs=legs, matrices=travel_matrices(legs))


@pytest.fixture(scope="module")
def brute(monaco: RoadNetwork, reference: nx.DiGraph, stops: SimpleNamespace) -> dict[tuple[int, int], tuple]:
    """Brute-force (time s, length m) for every ordered pair of distinct stops."""
    solve = BruteForce(monaco, reference, stops.snapped)
    n = len(stops.snapped)
    return {(p, q): solve(p, q) for p in range(n) for q in range(n) if p != q}


def test_point_durations_equal_brute_force(stops: SimpleNamespace, brute: dict) -> None:
    """Every off-diagonal duration equals the brute-force least over leaving/entering each street."""
    for (p, q), (expected, _) in brute.items():
        assert stops.matrices.duration_s[p, q] == pytest.approx(expected, rel=1e-9, abs=1e-6), (p, q)


def test_point_distances_are_lengths_of_quickest_drives(stops: SimpleNamespace, brute: dict) -> None:
    """Every off-diagonal distance is the length of that brute-force quickest drive."""
    for (p, q), (_, expected) in brute.items():
        assert stops.matrices.distance_m[p, q] == pytest.approx(expected, abs=1e-3), (p, q)


def test_brute_force_sample_uses_every_kind_of_leg(stops: SimpleNamespace, brute: dict) -> None:
    """The sample is not trivial: it holds 182 pairs, direct same-street legs and legs across town."""
    assert len(brute) == 14 * 13
    assert stops.matrices.distance_m[10, 11] < 100 and stops.matrices.distance_m.max() > 1000


def test_point_matrices_shape_and_diagonal(stops: SimpleNamespace) -> None:
    """Matrices are n x n, finite between reachable points, positive off and zero on the diagonal."""
    m: TravelMatrices = stops.matrices
    n = len(stops.snapped)
    assert m.size == n and m.duration_s.shape == m.distance_m.shape == (n, n)
    assert np.isfinite(m.duration_s).all() and np.isfinite(m.distance_m).all()
    off = ~np.eye(n, dtype=bool)
    assert (m.duration_s[off] > 0).all() and (m.distance_m[off] > 0).all()
    assert (np.diag(m.duration_s) == 0).all() and (np.diag(m.distance_m) == 0).all()


def test_two_way_street_is_driven_directly_both_ways(monaco: RoadNetwork, stops: SimpleNamespace) -> None:
    """Two points on a two-way street are joined straight along it in both directions."""
    p, q = 10, 11  # fractions 0.3 and 0.7 of the same two-way edge
    e = int(stops.snapped.edge[p])
    gap = abs(stops.snapped.fraction[q] - stops.snapped.fraction[p])
    assert stops.snapped.edge[q] == e and gap == pytest.approx(0.4, abs=1e-6)
    for a, b in ((p, q), (q, p)):
        assert stops.matrices.duration_s[a, b] == pytest.approx(gap * monaco.edge_time_s[e], rel=1e-9)
        assert stops.matrices.distance_m[a, b] == pytest.approx(gap * monaco.edge_length_m[e], rel=1e-9)


def test_one_way_street_honoured(monaco: RoadNetwork, reference: nx.DiGraph, stops: SimpleNamespace) -> None:
    """On a one-way street, forward is the direct stretch; backward goes round the block:
    to the end node, the quickest way back to the start node, then up to the point."""
    p, q = 12, 13  # fractions 0.2 and 0.8 of the same one-way edge
    e = int(stops.snapped.edge[p])
    fp, fq = stops.snapped.fraction[p], stops.snapped.fraction[q]
    assert monaco.edge_twin[e] == -1 and stops.snapped.edge[q] == e
    t_e, l_e = monaco.edge_time_s[e], monaco.edge_length_m[e]
    assert stops.matrices.duration_s[p, q] == pytest.approx((fq - fp) * t_e, rel=1e-9)
    assert stops.matrices.distance_m[p, q] == pytest.approx((fq - fp) * l_e, rel=1e-9)
    dist, path = nx.single_source_dijkstra(reference, int(monaco.edge_v[e]), int(monaco.edge_u[e]),
                                           weight="travel_time")
    assert stops.matrices.duration_s[q, p] == pytest.approx((1 - fq) * t_e + dist + fp * t_e, rel=1e-9)
    assert stops.matrices.distance_m[q, p] == pytest.approx(
        (1 - fq) * l_e + path_length(reference, path) + fp * l_e, abs=1e-3)
    assert stops.matrices.distance_m[q, p] > stops.matrices.distance_m[p, q] + l_e * 0.2


def test_point_chunking_gives_identical_results(monaco: RoadNetwork, stops: SimpleNamespace) -> None:
    """A one-row Dijkstra budget and one-column assembly blocks give exactly the same matrices."""
    legs = build_legs(monaco, stops.snapped, chunk_bytes=1, turns=None)
    chunked = travel_matrices(legs, block_bytes=1)
    np.testing.assert_array_equal(chunked.duration_s, stops.matrices.duration_s)
    np.testing.assert_array_equal(chunked.distance_m, stops.matrices.distance_m)


def test_off_network_points_have_inf_rows_and_columns(monaco: RoadNetwork, tools: SimpleNamespace) -> None:
    """An off-network (sea) and an unreachable point get inf rows and columns, 0 on the diagonal;
    the others are unaffected."""
    cu, cv = monaco.node_component[monaco.edge_u], monaco.node_component[monaco.edge_v]
    island = np.flatnonzero((cu == cv) & (cu != monaco.largest_component()) & (monaco.edge_length_m > 20))[0]
    inside = in_largest(monaco)
    on_streets = tools.lonlat_on_edges(monaco, [inside[0], inside[50], island], [0.5, 0.5, 0.5])
    lonlat = np.vstack([on_streets[:2], [[7.43, 43.60]], on_streets[2:]])
    snapped = snap_points(monaco, lonlat)
    assert list(snapped.status) == ["ok", "ok", "off_network", "unreachable"]
    m = travel_matrices(build_legs(monaco, snapped, turns=None))
    for bad in (2, 3):
        others = [i for i in range(4) if i != bad]
        assert np.isinf(m.duration_s[bad, others]).all() and np.isinf(m.duration_s[others, bad]).all()
        assert np.isinf(m.distance_m[bad, others]).all() and np.isinf(m.distance_m[others, bad]).all()
        assert m.duration_s[bad, bad] == 0 and m.distance_m[bad, bad] == 0
    assert np.isfinite(m.duration_s[:2, :2]).all()


def test_no_ok_point_gives_inf_matrix(monaco: RoadNetwork) -> None:
    """With every point off the network the matrices are inf off the diagonal, 0 on it."""
    snapped = snap_points(monaco, np.array([[7.43, 43.60], [7.44, 43.60]]))
    m = travel_matrices(build_legs(monaco, snapped, turns=None))
    np.testing.assert_array_equal(m.duration_s, [[0, np.inf], [np.inf, 0]])


# --- a network worked by hand ------------------------------------------------------------------

#: 1 -- 2 ==> 3 along the equator (0.001 degrees, ~111.2 m apart), 4 north of 2; 3 - 4 - 2 back.
#: 1-2 residential two-way (truck 38.4 km/h); 2->3 one-way 30 mph (truck 38.62 km/h);
#: 3-4 two-way 20 km/h (truck 16 km/h, ~157.3 m); 4-2 residential two-way (38.4 km/h).
BLOCK_NODES = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.002), 4: (0.001, 9.001)}
BLOCK_WAYS = [
    (10, [1, 2], {"highway": "residential"}),
    (11, [2, 3], {"highway": "residential", "oneway": "yes", "maxspeed": "30 mph"}),
    (12, [3, 4], {"highway": "residential", "maxspeed": "20"}),
    (13, [4, 2], {"highway": "residential"}),
]


@pytest.fixture
def block(osm_network: NetworkFactory, tools: SimpleNamespace) -> SimpleNamespace:
    """The hand-made block, its hand-computed edge lengths (m) and truck times (s)."""
    network = osm_network(BLOCK_NODES, BLOCK_WAYS)
    gc = tools.great_circle_m
    length = {"12": gc(0, 9.0, 0, 9.001), "23": gc(0, 9.001, 0, 9.002), "34": gc(0, 9.002, 0.001, 9.001),
              "42": gc(0.001, 9.001, 0, 9.001)}
    kph = {"12": 48 * 0.8, "23": 30 * 1.60934 * 0.8, "34": 20 * 0.8, "42": 48 * 0.8}
    time = {k: length[k] / (kph[k] / 3.6) for k in length}
    return SimpleNamespace(network=network, length=length, time=time)


def test_hand_made_edge_times(block: SimpleNamespace) -> None:
    """The hand figures: ~111.2 m blocks take ~10.42 s (38.4 km/h) and ~10.36 s (38.62 km/h);
    the ~157.3 m diagonal at 16 km/h takes ~35.38 s."""
    assert block.length["34"] == pytest.approx(157.25, abs=0.01)
    assert block.time["12"] == pytest.approx(10.42, abs=0.01)
    assert block.time["23"] == pytest.approx(10.36, abs=0.01)
    assert block.time["34"] == pytest.approx(35.38, abs=0.01)


def test_hand_made_node_matrices(block: SimpleNamespace, tools: SimpleNamespace) -> None:
    """1 -> 3 is 1-2-3 (~20.79 s); 3 -> 1 must go round 3-4-2-1 (~56.23 s), and lengths follow."""
    net = block.network
    n1, n3 = tools.node_index(net, 1), tools.node_index(net, 3)
    times, lengths = node_matrices(net, np.array([n1, n3]), np.array([n1, n3]))
    t, length = block.time, block.length
    np.testing.assert_allclose(times, [[0, t["12"] + t["23"]], [t["34"] + t["42"] + t["12"], 0]], rtol=1e-9)
    np.testing.assert_allclose(lengths, [[0, length["12"] + length["23"]],
                                         [length["34"] + length["42"] + length["12"], 0]], rtol=1e-9)
    assert times[1, 0] == pytest.approx(56.23, abs=0.01)


def test_hand_made_point_matrices(block: SimpleNamespace) -> None:
    """q in the middle of 1-2, p in the middle of one-way 2->3, r a quarter along 2->3:
    q -> p straight through node 2; p -> q round the block 3-4-2 and back along 1-2;
    r -> p a quarter of 2->3; p -> r round the block and in again at node 2."""
    net = block.network
    snapped = snap_points(net, np.array([[9.0005, 0.00001], [9.0015, 0.00001], [9.00125, 0.00001]]))
    assert snapped.ok.all()
    m = travel_matrices(build_legs(net, snapped, turns=None))
    t, length = block.time, block.length
    q, p, r = 0, 1, 2
    expected_t = {
        (q, p): 0.5 * t["12"] + 0.5 * t["23"],
        (p, q): 0.5 * t["23"] + t["34"] + t["42"] + 0.5 * t["12"],
        (r, p): 0.25 * t["23"],
        (p, r): 0.5 * t["23"] + t["34"] + t["42"] + 0.25 * t["23"],
    }
    expected_m = {
        (q, p): 0.5 * length["12"] + 0.5 * length["23"],
        (p, q): 0.5 * length["23"] + length["34"] + length["42"] + 0.5 * length["12"],
        (r, p): 0.25 * length["23"],
        (p, r): 0.5 * length["23"] + length["34"] + length["42"] + 0.25 * length["23"],
    }
    for pair, value in expected_t.items():
        assert m.duration_s[pair] == pytest.approx(value, rel=1e-6), pair
        assert m.distance_m[pair] == pytest.approx(expected_m[pair], rel=1e-6), pair
    assert m.duration_s[p, q] == pytest.approx(56.20, abs=0.01)
    assert m.distance_m[p, q] == pytest.approx(379.65, abs=0.01)


# --- access: per-profile matrices ----------------------------------------------------------

#: a 26 t refuse lorry and a 3.5 t van (sizes in kg and m).
TRUCK = AccessProfile(gross_weight_kg=26_000, width_m=2.55, height_m=3.7, length_m=10.5, hgv=True)
VAN = AccessProfile(gross_weight_kg=3_500, width_m=2.0, height_m=2.6, length_m=6.0)


def _vehicle(vehicle_id: str, profile: AccessProfile) -> Vehicle:
    return Vehicle(id=vehicle_id, depot_id="d", capacity_kg=1000, gross_weight_kg=profile.gross_weight_kg,
                   width_m=profile.width_m, height_m=profile.height_m, length_m=profile.length_m, hgv=profile.hgv)


@pytest.fixture
def detour(restricted_network: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """Points on the hand-made restricted network (see conftest): 0 the depot, half-way
    along 0-1; 1 a bin half-way along 2-5; 2 a bin on the 7.5 t street 1-2; 3 a bin on
    6-7, reached only through the 2 m lane 1-6. Edge lengths (m) and truck times (s)
    by street."""
    net = restricted_network
    e = {name: tools.edge_index(net, int(name[0]), int(name[1])) for name in ("01", "12", "13", "34", "42", "25", "67")}
    snapped = snap_points(net, tools.lonlat_on_edges(net, [e["01"], e["25"], e["12"], e["67"]], [0.5, 0.5, 0.5, 0.5]))
    assert snapped.ok.all()
    return SimpleNamespace(network=net, snapped=snapped, length={k: net.edge_length_m[i] for k, i in e.items()},
                           time={k: net.edge_time_s[i] for k, i in e.items()})


def test_truck_matrix_takes_the_detour(detour: SimpleNamespace) -> None:
    """Depot to bin for the 26 t lorry: round the 7.5 t street by 1-3-4-2 (~56 + 334 + 56 m)."""
    m = travel_matrices(build_legs(detour.network, detour.snapped, profile=TRUCK, anchors=[0], turns=None))
    length, t = detour.length, detour.time
    assert m.distance_m[0, 1] == pytest.approx(0.5 * length["01"] + length["13"] + length["34"] + length["42"]
                                               + 0.5 * length["25"], rel=1e-9)
    assert m.duration_s[0, 1] == pytest.approx(0.5 * t["01"] + t["13"] + t["34"] + t["42"] + 0.5 * t["25"],
                                               rel=1e-9)
    assert m.distance_m[0, 1] == pytest.approx(0.5 * 111.2 + 333.6 + 0.5 * 111.2, abs=0.5)


def test_van_matrix_takes_the_shortcut(detour: SimpleNamespace) -> None:
    """Depot to bin for the 3.5 t van: straight along the 7.5 t street 1-2 (~222 m)."""
    m = travel_matrices(build_legs(detour.network, detour.snapped, profile=VAN, anchors=[0], turns=None))
    length, t = detour.length, detour.time
    assert m.distance_m[0, 1] == pytest.approx(0.5 * length["01"] + length["12"] + 0.5 * length["25"], rel=1e-9)
    assert m.duration_s[0, 1] == pytest.approx(0.5 * t["01"] + t["12"] + 0.5 * t["25"], rel=1e-9)


def test_bin_on_restricted_street_is_unreachable_for_the_truck(detour: SimpleNamespace) -> None:
    """A bin on the 7.5 t street has inf rows and columns in the lorry's matrices and finite
    ones in the van's."""
    truck_legs = build_legs(detour.network, detour.snapped, profile=TRUCK, anchors=[0], turns=None)
    truck = travel_matrices(truck_legs)
    van = travel_matrices(build_legs(detour.network, detour.snapped, profile=VAN, anchors=[0], turns=None))
    assert not truck_legs.valid[2]
    assert np.isinf(np.delete(truck.duration_s[2], 2)).all() and np.isinf(np.delete(truck.duration_s[:, 2], 2)).all()
    assert np.isinf(truck.distance_m[0, 2])
    assert np.isfinite(van.duration_s[[0, 1], 2]).all() and np.isfinite(van.duration_s[2, [0, 1]]).all()


def test_street_behind_a_narrow_lane_is_cut_off_for_the_truck(detour: SimpleNamespace) -> None:
    """The open street 6-7, reachable only through the 2 m lane, lies outside the lorry's
    part of its road graph that holds the depot: that bin is invalid, with inf rows and columns."""
    legs = build_legs(detour.network, detour.snapped, profile=TRUCK, anchors=[0], turns=None)
    m = travel_matrices(legs)
    assert not legs.valid[3]
    assert np.isinf(m.duration_s[0, 3]) and np.isinf(m.duration_s[3, 0])


def test_without_anchors_open_streets_stay_valid(detour: SimpleNamespace) -> None:
    """Without anchors, a point on an open street is valid even if cut off; only its paths are inf."""
    legs = build_legs(detour.network, detour.snapped, profile=TRUCK, turns=None)
    assert legs.valid.tolist() == [True, True, False, True]
    assert np.isinf(travel_matrices(legs).duration_s[0, 3])


def test_profile_matrices_equal_unrestricted_when_nothing_is_tagged(block: SimpleNamespace) -> None:
    """On a network with no access tag, the lorry's matrices are exactly the unrestricted ones."""
    net = block.network
    snapped = snap_points(net, np.array([[9.0005, 0.00001], [9.0015, 0.00001], [9.00125, 0.00001]]))
    plain = travel_matrices(build_legs(net, snapped, turns=None))
    lorry = travel_matrices(build_legs(net, snapped, profile=TRUCK, turns=None))
    np.testing.assert_array_equal(lorry.duration_s, plain.duration_s)
    np.testing.assert_array_equal(lorry.distance_m, plain.distance_m)


def test_monaco_small_van_matrices_equal_unrestricted(monaco: RoadNetwork, stops: SimpleNamespace) -> None:
    """Monaco's tags bind no 3.5 t, 2 m van: its matrices equal the unrestricted ones."""
    van = travel_matrices(build_legs(monaco, stops.snapped, profile=VAN, turns=None))
    np.testing.assert_array_equal(van.duration_s, stops.matrices.duration_s)
    np.testing.assert_array_equal(van.distance_m, stops.matrices.distance_m)


def test_monaco_lorry_is_never_quicker(monaco: RoadNetwork, tools: SimpleNamespace) -> None:
    """Closing streets can only lengthen drives: on 60 Monaco points the lorry's durations are
    never below the unrestricted ones, and some are longer."""
    rng = np.random.default_rng(9)
    inside = in_largest(monaco)
    snapped = snap_points(monaco, tools.lonlat_on_edges(monaco, rng.choice(inside, 60, replace=False),
                                                        rng.uniform(0.1, 0.9, 60)))
    plain = travel_matrices(build_legs(monaco, snapped, turns=None))
    lorry = travel_matrices(build_legs(monaco, snapped, profile=TRUCK, turns=None))
    assert (lorry.duration_s >= plain.duration_s - 1e-9).all()
    assert (lorry.duration_s > plain.duration_s + 1.0).any()


def test_fleet_vehicles_of_one_size_share_matrices(detour: SimpleNamespace) -> None:
    """Two lorries of one size and a van: two builds, the lorries on one object."""
    fleet, legs = fleet_matrices(detour.network, detour.snapped,
                                 [_vehicle("rcv-1", TRUCK), _vehicle("van", VAN), _vehicle("rcv-2", TRUCK)],
                                 anchors=[0])
    assert fleet.for_vehicle("rcv-1") is fleet.for_vehicle("rcv-2")
    assert fleet.for_vehicle("van") is not fleet.for_vehicle("rcv-1")
    assert set(fleet.profiles) == set(legs) == {TRUCK.key, "unrestricted"}
    assert fleet.vehicle_profile == {"rcv-1": TRUCK.key, "rcv-2": TRUCK.key, "van": "unrestricted"}


def test_fleet_sizes_the_tags_cannot_tell_apart_share_one_build(block: SimpleNamespace) -> None:
    """On an untagged network a lorry and a van drive the same streets: one build, 'unrestricted'."""
    net = block.network
    snapped = snap_points(net, np.array([[9.0005, 0.00001], [9.0015, 0.00001]]))
    fleet, legs = fleet_matrices(net, snapped, [_vehicle("rcv", TRUCK), _vehicle("van", VAN)])
    assert list(fleet.profiles) == ["unrestricted"] and list(legs) == ["unrestricted"]
    assert fleet.for_vehicle("rcv") is fleet.for_vehicle("van")


def test_fleet_matrices_per_vehicle_match_single_builds(detour: SimpleNamespace) -> None:
    """Each vehicle's fleet matrices equal a build for its own profile."""
    fleet, _ = fleet_matrices(detour.network, detour.snapped, [_vehicle("rcv", TRUCK), _vehicle("van", VAN)],
                              anchors=[0])
    for vehicle_id, profile in (("rcv", TRUCK), ("van", VAN)):
        alone = travel_matrices(build_legs(detour.network, detour.snapped, profile=profile, anchors=[0]))
        np.testing.assert_array_equal(fleet.for_vehicle(vehicle_id).duration_s, alone.duration_s)
        np.testing.assert_array_equal(fleet.for_vehicle(vehicle_id).distance_m, alone.distance_m)
