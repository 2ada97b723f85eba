"""Tests of solver.snapping: points onto the nearest street edge (not node), distance
limits, reachability by strongly connected component, the vectorised call, and which
snapped points a vehicle of a given size can use."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from solver.network import AccessProfile, RoadNetwork, routing_graph
from solver.snapping import OFF_NETWORK, OK, UNREACHABLE, component_of, snap_points, usable_by

NetworkFactory = Callable[..., RoadNetwork]
OFFSET_M = 5.0


def _to_xy(network: RoadNetwork, lonlat: np.ndarray) -> np.ndarray:
    """Projected (metres) coordinates of WGS84 ``lonlat`` rows."""
    x, y = network.to_xy().transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _to_lonlat(network: RoadNetwork, xy: np.ndarray) -> np.ndarray:
    """WGS84 lon/lat of projected ``xy`` rows."""
    lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _nearest_edge_distance(network: RoadNetwork, xy: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray:
    """Brute force: distance (m) from each point to the nearest of ``edges`` (default: all edges)."""
    points = shapely.points(xy)
    lines = network.edge_xy if edges is None else network.edge_xy[edges]
    return shapely.distance(points[:, None], lines[None, :]).min(axis=1)


def _main_edges(network: RoadNetwork) -> np.ndarray:
    """Edges whose both ends lie in the largest strongly connected component."""
    big = network.largest_component()
    inside = (network.node_component[network.edge_u] == big) & (network.node_component[network.edge_v] == big)
    return np.flatnonzero(inside)


@pytest.fixture(scope="module")
def beside_edge(monaco: RoadNetwork) -> SimpleNamespace:
    """A point 5 m to the side of the middle of a long Monaco edge, with no other street
    within 20 m of it: ``edge``, ``twin``, ``lonlat`` (1, 2), ``xy`` (2,)."""
    big = monaco.largest_component()
    inside = (monaco.node_component[monaco.edge_u] == big) & (monaco.node_component[monaco.edge_v] == big)
    for e in np.argsort(-monaco.edge_length_m):
        if not inside[e] or monaco.edge_length_m[e] < 80:
            continue
        line = monaco.edge_xy[e]
        mid = shapely.get_coordinates(shapely.line_interpolate_point(line, 0.5, normalized=True))[0]
        ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, 0.5 + 1.0 / line.length,
                                                                       normalized=True))[0]
        direction = (ahead - mid) / np.linalg.norm(ahead - mid)
        for side in (1.0, -1.0):
            xy = mid + side * OFFSET_M * np.array([-direction[1], direction[0]])
            point = shapely.Point(xy)
            if abs(shapely.distance(point, line) - OFFSET_M) > 1e-3:
                continue
            others = np.ones(monaco.n_edges, dtype=bool)
            others[[e, monaco.edge_twin[e]] if monaco.edge_twin[e] >= 0 else [e]] = False
            if shapely.distance(point, monaco.edge_xy[others]).min() > 20.0:
                return SimpleNamespace(edge=int(e), twin=int(monaco.edge_twin[e]), xy=xy,
                                       lonlat=_to_lonlat(monaco, xy[None, :]))
    raise AssertionError("no isolated long edge in Monaco")


# --- onto the edge -----------------------------------------------------------------------------


def test_point_beside_edge_snaps_onto_that_edge(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """A point 5 m beside the middle of a long street lands on that street (or its twin), ok."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    assert snapped.edge[0] in (beside_edge.edge, beside_edge.twin)
    assert snapped.status[0] == OK


def test_point_beside_edge_lies_inside_the_edge(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """The snapped position is strictly inside the edge (0 < fraction < 1), near its middle."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    assert 0.0 < snapped.fraction[0] < 1.0
    assert snapped.fraction[0] == pytest.approx(0.5, abs=0.02)


def test_snap_distance_is_the_offset(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """The reported move is the 5 m the point was set beside the street."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    assert snapped.distance_m[0] == pytest.approx(OFFSET_M, abs=1e-3)


def test_snap_to_edge_is_closer_than_nearest_node(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """Snapping to the edge moves the point less than snapping to any node would."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    node_xy = _to_xy(monaco, monaco.node_lonlat)
    nearest_node_m = np.hypot(*(node_xy - beside_edge.xy).T).min()
    assert snapped.distance_m[0] < nearest_node_m - 10.0


def test_offset_is_fraction_of_edge_length(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """``offset_m`` is the fraction times the edge's length in metres."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    e = int(snapped.edge[0])
    assert snapped.offset_m[0] == pytest.approx(snapped.fraction[0] * monaco.edge_length_m[e], rel=1e-12)


def test_snapped_lonlat_lies_on_the_edge(monaco: RoadNetwork, beside_edge: SimpleNamespace) -> None:
    """The returned ``[lon, lat]`` is on the street, at the reported fraction."""
    snapped = snap_points(monaco, beside_edge.lonlat)
    e = int(snapped.edge[0])
    xy = _to_xy(monaco, snapped.lonlat)[0]
    expected = shapely.get_coordinates(shapely.line_interpolate_point(monaco.edge_xy[e], snapped.fraction[0],
                                                                      normalized=True))[0]
    np.testing.assert_allclose(xy, expected, atol=1e-3)
    assert 7.3 < snapped.lonlat[0, 0] < 7.6 and 43.6 < snapped.lonlat[0, 1] < 43.8


def test_hand_made_snap_by_hand(osm_network: NetworkFactory, tools: SimpleNamespace) -> None:
    """On a lone ~111.2 m east-west street, a point 0.0001 degrees (~11.1 m) north of its middle
    snaps to fraction 0.5, offset ~55.6 m, moved ~11.05 m."""
    network = osm_network({1: (0.0, 9.0), 2: (0.0, 9.001)}, [(10, [1, 2], {"highway": "residential"})])
    snapped = snap_points(network, np.array([[9.0005, 0.0001]]))
    e = int(snapped.edge[0])
    fraction = snapped.fraction[0] if network.edge_u[e] == tools.node_index(network, 1) else 1 - snapped.fraction[0]
    assert fraction == pytest.approx(0.5, abs=1e-6)
    assert snapped.offset_m[0] == pytest.approx(tools.great_circle_m(0, 9.0, 0, 9.001) / 2, rel=1e-6)
    # the projection is on the WGS84 ellipsoid: a degree of latitude at the equator is
    # 110,574 m; 9 E is zone 32's central meridian, where UTM scales lengths by 0.9996
    assert snapped.distance_m[0] == pytest.approx(0.0001 * 110_574.3 * 0.9996, rel=1e-4)


# --- off the network ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def at_sea(monaco: RoadNetwork) -> SimpleNamespace:
    """A point 300 m south of the southernmost street point of Monaco (in the sea):
    ``lonlat`` (1, 2) and ``true_m``, its brute-force distance to the nearest street."""
    coords = shapely.get_coordinates(monaco.edge_xy)
    lowest = coords[np.argmin(coords[:, 1])]
    xy = lowest - np.array([0.0, 300.0])
    return SimpleNamespace(lonlat=_to_lonlat(monaco, xy[None, :]),
                           true_m=float(_nearest_edge_distance(monaco, xy[None, :])[0]))


def test_far_point_is_off_network(monaco: RoadNetwork, at_sea: SimpleNamespace) -> None:
    """A point 300 m from every street is off the network at the default 200 m limit: not moved."""
    snapped = snap_points(monaco, at_sea.lonlat)
    assert snapped.status[0] == OFF_NETWORK
    assert snapped.edge[0] == -1
    np.testing.assert_array_equal(snapped.lonlat, at_sea.lonlat)
    assert not snapped.ok[0]


def test_off_network_reports_true_distance(monaco: RoadNetwork, at_sea: SimpleNamespace) -> None:
    """The report gives how far the nearest street really is (not inf, not the limit)."""
    snapped = snap_points(monaco, at_sea.lonlat)
    assert at_sea.true_m >= 300.0
    assert snapped.distance_m[0] == pytest.approx(at_sea.true_m, abs=1e-6)


def test_far_point_snaps_with_larger_limit(monaco: RoadNetwork, at_sea: SimpleNamespace) -> None:
    """With a limit beyond its distance the same point snaps, moved by that distance."""
    snapped = snap_points(monaco, at_sea.lonlat, limit_m=at_sea.true_m + 10.0)
    assert snapped.status[0] != OFF_NETWORK
    assert snapped.edge[0] >= 0
    assert snapped.distance_m[0] == pytest.approx(at_sea.true_m, abs=1e-6)


@pytest.mark.parametrize("limit", [0.0, -5.0, float("inf"), float("nan")])
def test_bad_limit_raises(monaco: RoadNetwork, limit: float) -> None:
    """The limit must be a positive finite number of metres."""
    with pytest.raises(ValueError, match="limit_m"):
        snap_points(monaco, np.array([[7.42, 43.73]]), limit_m=limit)


def test_no_points_gives_empty_arrays(monaco: RoadNetwork) -> None:
    """Snapping nothing returns empty, aligned arrays."""
    snapped = snap_points(monaco, np.empty((0, 2)))
    assert len(snapped) == 0
    assert snapped.lonlat.shape == (0, 2)


# --- reachability ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outside_edge(monaco: RoadNetwork) -> SimpleNamespace:
    """The longest Monaco edge whose two ends lie in one strongly connected part other than
    the largest: ``edge``, ``component``, ``lonlat`` of its middle."""
    big = monaco.largest_component()
    cu, cv = monaco.node_component[monaco.edge_u], monaco.node_component[monaco.edge_v]
    candidates = np.flatnonzero((cu == cv) & (cu != big) & (monaco.edge_u != monaco.edge_v))
    assert candidates.size > 0
    e = int(candidates[np.argmax(monaco.edge_length_m[candidates])])
    return SimpleNamespace(edge=e, component=int(cu[e]), lonlat=_lonlat_mid(monaco, e))


def _lonlat_mid(network: RoadNetwork, e: int) -> np.ndarray:
    """lon/lat (1, 2) of the middle of edge ``e``."""
    xy = shapely.get_coordinates(shapely.line_interpolate_point(network.edge_xy[e], 0.5, normalized=True))
    return _to_lonlat(network, xy)


def test_point_outside_largest_component_is_unreachable(monaco: RoadNetwork,
                                                        outside_edge: SimpleNamespace) -> None:
    """A point on a street outside the largest strongly connected part is unreachable by default,
    though it was snapped onto that street."""
    snapped = snap_points(monaco, outside_edge.lonlat)
    e = int(snapped.edge[0])
    assert monaco.node_component[monaco.edge_u[e]] == outside_edge.component
    assert snapped.status[0] == UNREACHABLE
    assert snapped.distance_m[0] < 0.01
    assert not snapped.ok[0]


def test_point_in_given_component_is_ok(monaco: RoadNetwork, outside_edge: SimpleNamespace) -> None:
    """Naming that street's component as reachable makes the same point ok."""
    snapped = snap_points(monaco, outside_edge.lonlat, reachable_components=[outside_edge.component])
    assert snapped.status[0] == OK


def test_point_in_largest_is_unreachable_for_other_component(monaco: RoadNetwork,
                                                             beside_edge: SimpleNamespace,
                                                             outside_edge: SimpleNamespace) -> None:
    """Reachability follows the components given, not the largest: a main-street point is
    unreachable when only a small island is named."""
    snapped = snap_points(monaco, beside_edge.lonlat, reachable_components=[outside_edge.component])
    assert snapped.status[0] == UNREACHABLE


def test_edge_between_components_is_unreachable(monaco: RoadNetwork) -> None:
    """A street joining two components (a one-way way out) is unreachable even when one of its
    ends is in a reachable component, and has no single component."""
    cu, cv = monaco.node_component[monaco.edge_u], monaco.node_component[monaco.edge_v]
    between = np.flatnonzero(cu != cv)
    e = int(between[np.argmax(monaco.edge_length_m[between])])
    snapped = snap_points(monaco, _lonlat_mid(monaco, e), reachable_components=[int(cu[e])])
    assert snapped.edge[0] == e
    assert snapped.status[0] == UNREACHABLE
    assert component_of(monaco, snapped, 0) is None


def test_component_of_inside_edge(monaco: RoadNetwork, outside_edge: SimpleNamespace) -> None:
    """component_of names the component of a point's street, and None when off the network."""
    snapped = snap_points(monaco, np.vstack([outside_edge.lonlat, [[7.43, 43.60]]]))
    assert component_of(monaco, snapped, 0) == outside_edge.component
    assert component_of(monaco, snapped, 1) is None


# --- vectorised -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scattered(monaco: RoadNetwork) -> SimpleNamespace:
    """5,000 seeded random points over Monaco's bounding box (streets, hills and sea) and
    their snapping: ``lonlat``, ``xy``, ``snapped``."""
    rng = np.random.default_rng(7)
    coords = shapely.get_coordinates(monaco.edge_xy)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    xy = lo + rng.random((5000, 2)) * (hi - lo)
    lonlat = _to_lonlat(monaco, xy)
    return SimpleNamespace(lonlat=lonlat, xy=xy, snapped=snap_points(monaco, lonlat))


def test_vectorised_arrays_align_with_input(scattered: SimpleNamespace) -> None:
    """One call snaps thousands of points; every array has one entry per point."""
    snapped = scattered.snapped
    assert len(snapped) == 5000
    for name in ("edge", "fraction", "offset_m", "distance_m", "status"):
        assert getattr(snapped, name).shape == (5000,), name
    assert snapped.lonlat.shape == (5000, 2)
    assert set(np.unique(snapped.status)) <= {OK, OFF_NETWORK, UNREACHABLE}
    assert (snapped.status == OK).sum() > 1000 and (snapped.status == OFF_NETWORK).sum() > 100


def test_vectorised_distance_is_nearest_usable_street(monaco: RoadNetwork, scattered: SimpleNamespace) -> None:
    """For a sample of the points, the reported distance is the brute-force distance to the
    nearest street of the main component for points snapped ``ok``, and to the nearest
    street of any component for the others."""
    sample = np.arange(0, 5000, 20)
    ok = scattered.snapped.status[sample] == OK
    any_street = _nearest_edge_distance(monaco, scattered.xy[sample])
    usable = _nearest_edge_distance(monaco, scattered.xy[sample], _main_edges(monaco))
    np.testing.assert_allclose(scattered.snapped.distance_m[sample], np.where(ok, usable, any_street), atol=1e-6)


def test_point_by_cut_off_stub_snaps_to_usable_street_within_limit(monaco: RoadNetwork) -> None:
    """A point whose nearest edge lies outside the main component, but with a main-component
    street within the limit, snaps to that street (ok) rather than being called unreachable."""
    main = _main_edges(monaco)
    outside = np.setdiff1d(np.arange(monaco.n_edges), main)
    mids = shapely.get_coordinates(shapely.line_interpolate_point(monaco.edge_xy[outside], 0.5, normalized=True))
    gap = _nearest_edge_distance(monaco, mids, main)
    pick = int(np.argmin(np.where(gap > 1.0, gap, np.inf)))
    assert gap[pick] < 200.0
    lonlat = _to_lonlat(monaco, mids[pick][None, :])
    snapped = snap_points(monaco, lonlat)
    assert snapped.status[0] == OK
    assert snapped.edge[0] in set(main.tolist())
    assert snapped.distance_m[0] == pytest.approx(gap[pick], abs=1e-6)
    assert snap_points(monaco, lonlat, limit_m=gap[pick] / 2).status[0] == UNREACHABLE


def test_vectorised_limit_splits_snapped_from_off_network(scattered: SimpleNamespace) -> None:
    """Points within 200 m have an edge; those beyond are off the network with edge -1."""
    snapped = scattered.snapped
    near = snapped.distance_m <= 200.0
    assert (snapped.edge[near] >= 0).all()
    assert (snapped.edge[~near] == -1).all()
    assert (snapped.status[~near] == OFF_NETWORK).all()


def test_vectorised_fraction_and_offset_consistent(monaco: RoadNetwork, scattered: SimpleNamespace) -> None:
    """Each snapped point's fraction is in [0, 1], its offset that share of its edge's length,
    and it lies on its edge at the reported distance from the input."""
    snapped = scattered.snapped
    hit = snapped.edge >= 0
    e = snapped.edge[hit]
    assert ((snapped.fraction[hit] >= 0) & (snapped.fraction[hit] <= 1)).all()
    np.testing.assert_allclose(snapped.offset_m[hit], snapped.fraction[hit] * monaco.edge_length_m[e])
    on = shapely.points(_to_xy(monaco, snapped.lonlat[hit]))
    np.testing.assert_allclose(shapely.distance(on, monaco.edge_xy[e]), 0.0, atol=1e-3)
    moved = np.hypot(*(_to_xy(monaco, snapped.lonlat[hit]) - scattered.xy[hit]).T)
    np.testing.assert_allclose(moved, snapped.distance_m[hit], atol=1e-3)


def test_points_on_streets_stay_put(monaco: RoadNetwork, tools: SimpleNamespace) -> None:
    """Thousands of points placed exactly on largest-component streets all snap ok, unmoved."""
    rng = np.random.default_rng(11)
    big = monaco.largest_component()
    inside = np.flatnonzero((monaco.node_component[monaco.edge_u] == big)
                            & (monaco.node_component[monaco.edge_v] == big))
    edges = rng.choice(inside, size=3000)
    lonlat = tools.lonlat_on_edges(monaco, edges, rng.uniform(0.05, 0.95, size=3000))
    snapped = snap_points(monaco, lonlat)
    assert (snapped.status == OK).all()
    assert snapped.distance_m.max() < 1e-3
    np.testing.assert_allclose(snapped.lonlat, lonlat, atol=1e-8)


# --- usable_by: which snapped points a vehicle of a given size can use ------------------------

LORRY = AccessProfile(gross_weight_kg=26_000, width_m=2.55, hgv=True)


@pytest.fixture
def restricted_points(restricted_network: RoadNetwork, tools: SimpleNamespace) -> SimpleNamespace:
    """Points half-way along 0-1 (open; the depot), 1-2 (7.5 t), 2-5 (open), 6-7 (open, behind
    the 2 m lane 1-6) of the hand-made restricted network, snapped on every street."""
    net = restricted_network
    edges = [tools.edge_index(net, a, b) for a, b in ((0, 1), (1, 2), (2, 5), (6, 7))]
    snapped = snap_points(net, tools.lonlat_on_edges(net, edges, [0.5] * 4))
    assert snapped.ok.all()
    return SimpleNamespace(network=net, snapped=snapped)


def test_point_on_a_closed_street_is_not_usable(restricted_points: SimpleNamespace) -> None:
    """Snapping ignores access (the point stays on the 7.5 t street), but the lorry cannot use it."""
    net, snapped = restricted_points.network, restricted_points.snapped
    usable = usable_by(net, snapped, routing_graph(net, LORRY))
    assert usable.tolist() == [True, False, True, True]


def test_point_cut_off_from_the_anchors_is_not_usable(restricted_points: SimpleNamespace) -> None:
    """With the depot as anchor, the open street behind the narrow lane is out of the lorry's reach."""
    net, snapped = restricted_points.network, restricted_points.snapped
    usable = usable_by(net, snapped, routing_graph(net, LORRY), anchors=[0])
    assert usable.tolist() == [True, False, True, False]


def test_every_point_usable_on_the_unrestricted_graph(restricted_points: SimpleNamespace) -> None:
    """A vehicle of unknown size can use every ok point, anchored or not."""
    net, snapped = restricted_points.network, restricted_points.snapped
    assert usable_by(net, snapped, routing_graph(net), anchors=[0]).all()
