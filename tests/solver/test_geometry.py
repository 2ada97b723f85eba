"""Tests of solver.geometry: street-following route LineStrings that are continuous,
start and end at the depot, stay on the streets, are as long as the matrices say, and
join two stops on one street by the stretch between them, draw each vehicle on the streets
its size allows, and draw a repeated stop as one. Monaco, Rutland and hand-made OSM."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from solver.geometry import node_paths, route_lines
from solver.matrix import build_legs, node_matrices, travel_matrices
from solver.network import AccessProfile, RoadNetwork
from solver.snapping import snap_points

#: the route drawn on each network: point 0 is the depot; 10, 11 share a two-way street
#: (fractions 0.3, 0.7) and 12, 13 a one-way street (0.2, 0.8), 13 visited before 12
#: so that leg goes round the block.
ROUTE = [0, 3, 13, 12, 5, 10, 11, 7, 1, 0]


def _projected(network: RoadNetwork, line: LineString) -> np.ndarray:
    """The vertices of a WGS84 ``line`` in the network's metric projection."""
    lonlat = shapely.get_coordinates(line)
    x, y = network.to_xy().transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _scene(network: RoadNetwork, tools: SimpleNamespace, seed: int) -> SimpleNamespace:
    """14 points on the network's largest part (as ROUTE expects), their legs, matrices
    and the drawn ROUTE."""
    rng = np.random.default_rng(seed)
    big = network.largest_component()
    inside = np.flatnonzero((network.node_component[network.edge_u] == big)
                            & (network.node_component[network.edge_v] == big))
    long = inside[network.edge_length_m[inside] > 60]
    two_way = long[network.edge_twin[long] >= 0]
    one_way = long[network.edge_twin[long] < 0]
    edges = np.concatenate([rng.choice(inside, size=10, replace=False),
                            [two_way[0], two_way[0], one_way[0], one_way[0]]])
    fractions = np.concatenate([rng.uniform(0.1, 0.9, size=10), [0.3, 0.7, 0.2, 0.8]])
    snapped = snap_points(network, tools.lonlat_on_edges(network, edges, fractions))
    assert snapped.ok.all()
    legs = build_legs(network, snapped)
    line = route_lines(legs, {"r": ROUTE})["r"]
    return SimpleNamespace(network=network, snapped=snapped, legs=legs, matrices=travel_matrices(legs),
                           line=line, xy=_projected(network, line))


@pytest.fixture(scope="module")
def monaco_scene(monaco: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """ROUTE drawn on Monaco."""
    return _scene(monaco, tools, seed=21)


@pytest.fixture(scope="module")
def rutland_scene(rutland: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """ROUTE drawn on Rutland (needs ../shared)."""
    return _scene(rutland, tools, seed=22)


@pytest.fixture(params=["monaco", pytest.param("rutland", marks=pytest.mark.shared)])
def scene(request: pytest.FixtureRequest) -> SimpleNamespace:
    """Each network's scene in turn."""
    return request.getfixturevalue(f"{request.param}_scene")


def _distance_to_streets(network: RoadNetwork, xy: np.ndarray) -> np.ndarray:
    """Distance (m) from each projected point to the nearest network edge."""
    tree = shapely.STRtree(network.edge_xy)
    _, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    return dist


# --- the whole route --------------------------------------------------------------------------


def test_route_is_one_line(scene: SimpleNamespace) -> None:
    """The route is a single valid LineString with many vertices (it follows the streets)."""
    assert isinstance(scene.line, LineString)
    assert scene.line.is_valid and not scene.line.is_empty
    assert len(scene.line.coords) > 2 * len(ROUTE)


def test_route_starts_and_ends_at_depot(scene: SimpleNamespace) -> None:
    """First and last vertices are the depot's snapped point ([lon, lat])."""
    depot = scene.snapped.lonlat[0]
    np.testing.assert_allclose(scene.line.coords[0], depot, atol=1e-8)
    np.testing.assert_allclose(scene.line.coords[-1], depot, atol=1e-8)


def test_route_vertices_lie_on_streets(scene: SimpleNamespace) -> None:
    """Every vertex is within 1 m of a network edge."""
    assert _distance_to_streets(scene.network, scene.xy).max() < 1.0


def test_route_is_continuous_along_streets(scene: SimpleNamespace) -> None:
    """Points a quarter, half and three quarters along every segment are on streets too,
    so no segment jumps across a block."""
    a, b = scene.xy[:-1], scene.xy[1:]
    between = np.vstack([a + (b - a) * t for t in (0.25, 0.5, 0.75)])
    assert _distance_to_streets(scene.network, between).max() < 1.0


def test_route_length_matches_matrix_distances(scene: SimpleNamespace) -> None:
    """The projected length of the route is the sum of its legs' matrix distances, within 0.5 %."""
    legs_m = sum(scene.matrices.distance_m[p, q] for p, q in itertools.pairwise(ROUTE))
    assert LineString(scene.xy).length == pytest.approx(legs_m, rel=0.005)


def test_each_leg_length_matches_matrix_distance(scene: SimpleNamespace) -> None:
    """Drawn one by one, every leg is as long as its matrix distance, within 0.5 %."""
    routes = {f"{p}-{q}": [p, q] for p, q in itertools.pairwise(ROUTE)}
    lines = route_lines(scene.legs, routes)
    for key, (p, q) in zip(routes, itertools.pairwise(ROUTE), strict=True):
        length = LineString(_projected(scene.network, lines[key])).length
        assert length == pytest.approx(scene.matrices.distance_m[p, q], rel=0.005), key


def test_leg_joins_at_each_stop(scene: SimpleNamespace) -> None:
    """Each leg drawn alone runs from one stop's snapped point to the next one's."""
    for p, q in itertools.pairwise(ROUTE):
        line = route_lines(scene.legs, {"leg": [p, q]})["leg"]
        np.testing.assert_allclose(line.coords[0], scene.snapped.lonlat[p], atol=1e-8)
        np.testing.assert_allclose(line.coords[-1], scene.snapped.lonlat[q], atol=1e-8)


# --- stops on one street ------------------------------------------------------------------------


def test_two_stops_on_one_street_joined_by_the_stretch(scene: SimpleNamespace) -> None:
    """Stops at 0.3 and 0.7 of one two-way street are joined by that stretch of street: same
    shape (within 1 cm) and 40 % of its length."""
    net = scene.network
    e = int(scene.snapped.edge[10])
    f10, f11 = scene.snapped.fraction[10], scene.snapped.fraction[11]
    stretch = substring(net.edge_xy[e], f10, f11, normalized=True)
    line = LineString(_projected(net, route_lines(scene.legs, {"leg": [10, 11]})["leg"]))
    assert shapely.hausdorff_distance(line, stretch) < 0.01
    assert line.length == pytest.approx(0.4 * net.edge_xy[e].length, rel=1e-4)


def test_two_stops_on_one_street_backwards(scene: SimpleNamespace) -> None:
    """Driven the other way on the two-way street, the leg is the same stretch reversed."""
    net = scene.network
    e = int(scene.snapped.edge[10])
    stretch = substring(net.edge_xy[e], scene.snapped.fraction[11], scene.snapped.fraction[10], normalized=True)
    line = LineString(_projected(net, route_lines(scene.legs, {"leg": [11, 10]})["leg"]))
    assert shapely.hausdorff_distance(line, stretch) < 0.01
    np.testing.assert_allclose(line.coords[0], _projected(net, LineString(scene.snapped.lonlat[[11, 10]]))[0],
                               atol=1e-3)


def test_one_way_backwards_leg_goes_round(scene: SimpleNamespace) -> None:
    """From 0.8 back to 0.2 of a one-way street the line leaves by the street's end and is
    longer than the street itself."""
    net = scene.network
    e = int(scene.snapped.edge[12])
    line = LineString(_projected(net, route_lines(scene.legs, {"leg": [13, 12]})["leg"]))
    end_node = shapely.get_coordinates(shapely.get_point(net.edge_xy[e], -1))[0]
    assert shapely.distance(shapely.Point(end_node), line) < 1e-6
    assert line.length > net.edge_xy[e].length


# --- edges of the API ------------------------------------------------------------------------


def test_no_routes_gives_no_lines(monaco_scene: SimpleNamespace) -> None:
    """Nothing to draw returns an empty dict."""
    assert route_lines(monaco_scene.legs, {}) == {}


def test_route_through_off_network_point_raises(monaco: RoadNetwork, monaco_scene: SimpleNamespace) -> None:
    """A route visiting a point that is not on the reachable network is a ValueError."""
    snapped = snap_points(monaco, np.vstack([monaco_scene.snapped.lonlat[:2], [[7.43, 43.60]]]))
    legs = build_legs(monaco, snapped)
    with pytest.raises(ValueError, match="not on the reachable network"):
        route_lines(legs, {"r": [0, 2, 0]})


def test_depot_only_route_is_a_point_at_the_depot(monaco_scene: SimpleNamespace) -> None:
    """A route that never leaves the depot is a zero-length line at the depot."""
    line = route_lines(monaco_scene.legs, {"idle": [0, 0]})["idle"]
    assert line.length == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(line.coords[0], monaco_scene.snapped.lonlat[0], atol=1e-8)


def test_node_paths_are_the_priced_paths(monaco: RoadNetwork, monaco_scene: SimpleNamespace) -> None:
    """node_paths returns connected node sequences whose CSR time is the matrix's quickest time."""
    legs = monaco_scene.legs
    pairs = [(int(s), int(t)) for s in legs.src_nodes[:4] for t in legs.dst_nodes[:4]]
    paths = node_paths(monaco, pairs)
    times, _ = node_matrices(monaco, legs.src_nodes[:4], legs.dst_nodes[:4])
    for k, (s, t) in enumerate(pairs):
        path = paths[(s, t)]
        assert path[0] == s and path[-1] == t
        total = sum(monaco.csr_time[a, b] for a, b in itertools.pairwise(path))
        assert total == pytest.approx(times[k // 4, k % 4], rel=1e-9, abs=1e-9)


# --- access: each profile's line on its own streets ------------------------------------------

TRUCK = AccessProfile(gross_weight_kg=26_000, width_m=2.55, height_m=3.7, length_m=10.5, hgv=True)
VAN = AccessProfile(gross_weight_kg=3_500, width_m=2.0, height_m=2.6, length_m=6.0)


@pytest.fixture
def detour_lines(restricted_network: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """On the hand-made restricted network: a depot half-way along 0-1 and a bin half-way
    along 2-5; the lorry's and the van's legs, matrices and drawn depot-bin-depot lines
    (projected), and the midpoints (projected) of the 7.5 t street 1-2 and of the detour's
    middle block 3-4."""
    net = restricted_network
    edges = [tools.edge_index(net, 0, 1), tools.edge_index(net, 2, 5)]
    snapped = snap_points(net, tools.lonlat_on_edges(net, edges, [0.5, 0.5]))
    out = SimpleNamespace(network=net)
    for name, profile in (("truck", TRUCK), ("van", VAN)):
        legs = build_legs(net, snapped, profile=profile, anchors=[0])
        line = route_lines(legs, {"r": [0, 1, 0]})["r"]
        setattr(out, name, SimpleNamespace(legs=legs, matrices=travel_matrices(legs),
                                           line=LineString(_projected(net, line))))
    mid = shapely.line_interpolate_point(net.edge_xy[[tools.edge_index(net, 1, 2), tools.edge_index(net, 3, 4)]],
                                         0.5, normalized=True)
    out.restricted_mid, out.detour_mid = mid
    return out


def test_truck_line_takes_the_detour(detour_lines: SimpleNamespace) -> None:
    """The 26 t lorry's line runs round by 3-4 and never along the 7.5 t street."""
    line = detour_lines.truck.line
    assert shapely.distance(line, detour_lines.detour_mid) < 0.01
    assert shapely.distance(line, detour_lines.restricted_mid) > 50


def test_van_line_takes_the_shortcut(detour_lines: SimpleNamespace) -> None:
    """The 3.5 t van's line runs along the 7.5 t street and not round the detour."""
    line = detour_lines.van.line
    assert shapely.distance(line, detour_lines.restricted_mid) < 0.01
    assert shapely.distance(line, detour_lines.detour_mid) > 50


def test_truck_line_is_as_long_as_its_matrices(detour_lines: SimpleNamespace) -> None:
    """The lorry's drawn line is as long as its own matrices say (there and back)."""
    m = detour_lines.truck.matrices
    assert detour_lines.truck.line.length == pytest.approx(m.distance_m[0, 1] + m.distance_m[1, 0], rel=5e-3)
    assert detour_lines.truck.line.length > detour_lines.van.line.length + 400


def test_node_paths_avoid_closed_streets(detour_lines: SimpleNamespace, tools: SimpleNamespace) -> None:
    """On the lorry's road graph the quickest node path 1 -> 2 is 1-3-4-2."""
    net = detour_lines.network
    n = {k: tools.node_index(net, k) for k in (1, 2, 3, 4)}
    paths = node_paths(net, [(n[1], n[2])], routing=detour_lines.truck.legs.routing)
    assert paths[(n[1], n[2])] == [n[1], n[3], n[4], n[2]]
    assert node_paths(net, [(n[1], n[2])])[(n[1], n[2])] == [n[1], n[2]]


def test_repeated_stop_draws_as_one(monaco_scene: SimpleNamespace) -> None:
    """A stop listed twice in a row (a break taken where the vehicle is) draws the same line
    as the stop once: the empty leg adds no length and the line stays one piece."""
    once = route_lines(monaco_scene.legs, {"r": [0, 3, 5, 0]})["r"]
    twice = route_lines(monaco_scene.legs, {"r": [0, 3, 3, 5, 5, 0]})["r"]
    assert twice.is_valid and twice.geom_type == "LineString"
    assert twice.length == pytest.approx(once.length, rel=1e-12)
    assert shapely.equals_exact(twice, once, tolerance=1e-9)
