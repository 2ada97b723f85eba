"""Tests of solver.traces.bin_places: where bins lie along the network's directed edges."""

from __future__ import annotations

import numpy as np
import shapely

from solver.network import RoadNetwork
from solver.traces.bin_places import bin_places
from tests.conftest import NetworkFactory

#: metres in a degree on the equator
DEG_M = 111_195.0


def _street(osm_network: NetworkFactory) -> RoadNetwork:
    """A two-way street 300 m west to east on the equator and a one-way street 300 m north of it."""
    north = 300.0 / DEG_M
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.0 + 300.0 / DEG_M), 3: (north, 9.0), 4: (north, 9.0 + 300.0 / DEG_M)}
    ways = [(100, [1, 2], {"highway": "residential"}),
            (101, [3, 4], {"highway": "residential", "oneway": "yes"})]
    return osm_network(nodes, ways, name="street.osm")


def test_a_bin_lies_on_both_directions_of_its_street(osm_network: NetworkFactory) -> None:
    """A bin 100 m along a two-way street lies 100 m along one direction and 200 m along the other; one
    on the one-way street on that edge alone; a point 150 m off every street on none; ``near`` says which
    places lie within the metres asked of a bin on the same edge."""
    network = _street(osm_network)
    two_way = [e for e in range(network.n_edges) if network.edge_twin[e] >= 0]
    one_way = [e for e in range(network.n_edges) if network.edge_twin[e] < 0]
    on_two = shapely.get_coordinates(shapely.line_interpolate_point(network.edge_xy[two_way[0]], 100.0))[0]
    on_one = shapely.get_coordinates(shapely.line_interpolate_point(network.edge_xy[one_way[0]], 50.0))[0]
    places = bin_places(network, np.array([on_two, on_one, on_two + np.array([0.0, 150.0])]))
    assert sorted(places.along_m) == sorted([*two_way, one_way[0]])
    lengths = network.edge_length_m
    assert np.isclose(places.along_m[two_way[0]][0], 100.0 * lengths[two_way[0]] / shapely.length(
        network.edge_xy[two_way[0]]), atol=0.5)
    assert np.isclose(places.along_m[two_way[1]][0], lengths[two_way[1]] - places.along_m[two_way[0]][0], atol=0.5)
    at = places.along_m[two_way[0]][0]
    near = places.near(np.array([two_way[0], two_way[0], one_way[0], two_way[1]]),
                       np.array([at + 15.0, at + 25.0, 45.0, 0.0]), 20.0)
    assert near.tolist() == [True, False, True, False]
    assert bin_places(network, np.zeros((0, 2))).along_m == {}


def test_only_bins_alone(osm_network: NetworkFactory) -> None:
    """Given ``alone_m``, a bin with another within that many metres is left out, and both of a pair:
    two bins 10 m apart on the two-way street and one 150 m along it, 30 m alone: only the third."""
    network = _street(osm_network)
    edge = next(e for e in range(network.n_edges) if network.edge_twin[e] >= 0)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(network.edge_xy[edge], [50.0, 60.0, 200.0]))
    assert sum(a.size for a in bin_places(network, xy).along_m.values()) == 6
    alone = bin_places(network, xy, alone_m=30.0).along_m
    assert sum(a.size for a in alone.values()) == 2
    assert np.isclose(alone[edge][0], 200.0 * network.edge_length_m[edge] / shapely.length(network.edge_xy[edge]),
                      atol=0.5)

