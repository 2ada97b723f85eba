"""Tests of solver.nearside on the streets fixture (tests/conftest.py, ``STREETS_*``), where
High Road (1-2-3-4) is a primary road: which side of its street a bin lies on, which edges
are busy (merged edges too), the direction a bin on a busy road is collected in for both
sides of the road a country drives on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.nearside import ALONG_EDGE, ALONG_TWIN, EITHER, approach_slots, busy_edges, point_sides
from solver.network import RoadNetwork, build_network
from solver.snapping import snap_points

#: 0.0001 degree of latitude or longitude on the equator, in metres (~11 m).
STEP = 0.0001


@pytest.fixture
def streets(streets_osm: Path) -> RoadNetwork:
    """The streets fixture, unsimplified."""
    return build_network(streets_osm, simplify=False)


#: (lon, lat): north and south of High Road between 1 and 2; east and west of 2-31; on High
#: Road's centre line; and a point 5 km away from any street.
POINTS = np.array([[9.0004, STEP], [9.0004, -STEP], [9.001 + STEP, 0.0005], [9.001 - STEP, 0.0005],
                   [9.0006, 0.0], [9.05, 0.05]])


def test_point_sides(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """Each point's side of the edge it snapped to (one of each two-way pair): north of 1-2 is left
    of travelling east; east of 2-31 is right of travelling north; on the line and off the network 0."""
    snapped = snap_points(streets, POINTS)
    east, north = tools.edge_index(streets, 1, 2), tools.edge_index(streets, 2, 31)
    assert snapped.edge[:5].tolist() == [east, east, north, north, east]
    assert snapped.edge[5] == -1
    assert point_sides(streets, POINTS, snapped).tolist() == [1, -1, -1, 1, 0, 0]
    with pytest.raises(ValueError, match="5 points but snapped has 6"):
        point_sides(streets, POINTS[:5], snapped)


def test_busy_edges(streets_osm: Path, tools: SimpleNamespace) -> None:
    """Unsimplified, the six edges of High Road are busy; simplified, so are the edges merged from
    it and residential ways (tags ['primary', 'residential']); secondary is not busy by default;
    other settings pick other edges; a lone string is refused."""
    plain = build_network(streets_osm, simplify=False)
    osm = plain.node_osmid
    busy = busy_edges(plain)
    assert {(int(osm[plain.edge_u[e]]), int(osm[plain.edge_v[e]])) for e in np.flatnonzero(busy)} == \
        {(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3)}
    assert busy_edges(plain, ["secondary"]).sum() == 0
    assert busy_edges(plain, ["residential"]).sum() == plain.n_edges - 6
    simplified = build_network(streets_osm, simplify=True)
    merged = busy_edges(simplified)
    assert merged.sum() == 6
    for e in np.flatnonzero(merged):
        u, v, k = (int(simplified.node_osmid[simplified.edge_u[e]]), int(simplified.node_osmid[simplified.edge_v[e]]),
                   int(simplified.edge_key[e]))
        assert "primary" in simplified.graph.edges[u, v, k]["highway"]
    assert merged[tools.edge_index(simplified, 3, 22)] and not merged[tools.edge_index(simplified, 3, 32)]
    with pytest.raises(ValueError, match="not the string 'primary'"):
        busy_edges(plain, "primary")


def test_approach_slots(streets: RoadNetwork) -> None:
    """Driving on the left, the bin north of High Road is collected eastbound (along the snapped
    edge 1-2), the one south westbound (along its twin); driving on the right, the other way
    round. Bins by the residential 2-31, on the centre line or off the network: either way."""
    snapped = snap_points(streets, POINTS)
    side = point_sides(streets, POINTS, snapped)
    busy = busy_edges(streets)
    assert approach_slots(streets, snapped, side, busy).tolist() == [ALONG_EDGE, ALONG_TWIN] + [EITHER] * 4
    assert approach_slots(streets, snapped, side, busy, drives_on="right").tolist() == \
        [ALONG_TWIN, ALONG_EDGE] + [EITHER] * 4
    everything = np.ones(streets.n_edges, dtype=bool)
    assert approach_slots(streets, snapped, side, everything).tolist()[2:4] == [ALONG_TWIN, ALONG_EDGE]
    with pytest.raises(ValueError, match="drives_on must be 'left' or 'right', not 'middle'"):
        approach_slots(streets, snapped, side, busy, drives_on="middle")
    with pytest.raises(ValueError, match="busy has shape"):
        approach_slots(streets, snapped, side, busy[:3])


def test_one_way_busy_street_is_not_restricted(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """The one-way 21 -> 22 counted busy: its bins on either side stay EITHER (the graph already
    allows one direction only)."""
    points = np.array([[9.0015, -0.001 + STEP], [9.0015, -0.001 - STEP]])
    snapped = snap_points(streets, points)
    assert snapped.edge.tolist() == [tools.edge_index(streets, 21, 22)] * 2
    side = point_sides(streets, points, snapped)
    assert side.tolist() == [1, -1]
    busy = np.ones(streets.n_edges, dtype=bool)
    assert approach_slots(streets, snapped, side, busy).tolist() == [EITHER, EITHER]


def test_same_bin_same_direction_simplified(streets_osm: Path) -> None:
    """Simplified, the bins by High Road between 1 and 2 snap to the merged edge 2-1-11-31, drawn
    westbound: the south bin is now left of it, and still collected westbound (along that edge)."""
    network = build_network(streets_osm, simplify=True)
    points = POINTS[:2]
    snapped = snap_points(network, points)
    osm = network.node_osmid
    assert [int(osm[network.edge_u[e]]) for e in snapped.edge] == [2, 2]
    side = point_sides(network, points, snapped)
    assert side.tolist() == [-1, 1]
    assert approach_slots(network, snapped, side, busy_edges(network)).tolist() == [ALONG_TWIN, ALONG_EDGE]
