"""Snap points (bins, depots, sites) to the nearest street edge, in one vectorised call.

A point is moved onto the nearest *edge* of the network (not merely the nearest
node), keeping where along the edge it lies (``fraction`` 0..1 from the edge's start
node, ``offset_m`` in metres) and how far it was moved (``distance_m``, metres).
Distances are measured in the network's metric projection.

A point farther than ``limit_m`` from every street is not moved: its status is
``off_network``. A point whose street lies outside the strongly connected parts
the vehicles can reach (and come back from) is ``unreachable``.

Snapping uses every street of the network. Which of the snapped points a vehicle of a
given size can use is :func:`usable_by`: the point's street must be open to it and lie
in the part of *its* road graph (:func:`solver.network.routing_graph`) that holds the
depots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from solver.network import RoadNetwork, RoutingGraph

DEFAULT_SNAP_LIMIT_M = 200.0

OK = "ok"
OFF_NETWORK = "off_network"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class SnappedPoints:
    """Where each input point lies on the network; arrays aligned with the input.

    ``edge`` is the edge index (-1 when off the network), ``fraction`` the position
    along it (0 at its start node, 1 at its end node, by length), ``offset_m`` that
    position in metres of the edge's length, ``distance_m`` how far the point was
    moved (for an off-network point: how far the nearest street is), ``lonlat`` the
    point on the street (the input point when off the network), and ``status`` one
    of ``ok``, ``off_network``, ``unreachable``.
    """

    edge: np.ndarray
    fraction: np.ndarray
    offset_m: np.ndarray
    distance_m: np.ndarray
    lonlat: np.ndarray
    status: np.ndarray

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of points that are on the network and reachable."""
        return self.status == OK


def _edge_tree(network: RoadNetwork, components: frozenset[int] | None = None
               ) -> tuple[shapely.STRtree, np.ndarray]:
    """An STRtree over one edge of each street (a two-way street's twin is left out),
    optionally only the edges whose both ends lie in ``components``."""
    key = ("edge_tree", components)
    cached = network._cached.get(key)
    if cached is None:
        idx = np.arange(network.n_edges)
        keep = (network.edge_twin < 0) | (idx < network.edge_twin)
        if components is not None:
            inside = list(components)
            keep &= np.isin(network.node_component[network.edge_u], inside)
            keep &= np.isin(network.node_component[network.edge_v], inside)
        edges = idx[keep]
        cached = (shapely.STRtree(network.edge_xy[edges]), edges)
        network._cached[key] = cached
    return cached


def snap_points(network: RoadNetwork, lonlat: np.ndarray, *, limit_m: float = DEFAULT_SNAP_LIMIT_M,
                reachable_components: Iterable[int] | None = None) -> SnappedPoints:
    """Snap ``lonlat`` (shape ``(n, 2)``, WGS84 degrees) to the nearest street edges.

    ``limit_m`` is the farthest a point may be moved, in metres.
    ``reachable_components`` are the strongly-connected-component labels vehicles
    can use (normally the depots'); by default the largest component.
    """
    points_lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if limit_m <= 0 or not np.isfinite(limit_m):
        raise ValueError(f"limit_m must be a positive number of metres, got {limit_m}")
    n = points_lonlat.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    fraction = np.zeros(n)
    distance = np.full(n, np.inf)
    status = np.full(n, OFF_NETWORK, dtype=object)
    snapped_lonlat = points_lonlat.copy()
    if n == 0:
        return SnappedPoints(edge, fraction, fraction.copy(), distance, snapped_lonlat, status)

    to_xy = network.to_xy()
    x, y = to_xy.transform(points_lonlat[:, 0], points_lonlat[:, 1])
    points = shapely.points(np.column_stack([x, y]))
    components = frozenset(int(c) for c in reachable_components) if reachable_components is not None \
        else frozenset({network.largest_component()})
    # nearest street the vehicles can use; failing that, the nearest street at all
    # (so a point by a cut-off street is told apart from one far from any street)
    for tree, tree_edges, label in (*_edge_tree(network, components), OK), (*_edge_tree(network), UNREACHABLE):
        todo = np.flatnonzero(edge < 0)
        if todo.size == 0 or tree_edges.size == 0:
            continue
        (found, tree_idx), dist = tree.query_nearest(points[todo], max_distance=limit_m, return_distance=True,
                                                     all_matches=False)
        hit = todo[found]
        edge[hit] = tree_edges[tree_idx]
        distance[hit] = dist
        status[hit] = label
    placed = np.flatnonzero(edge >= 0)
    if placed.size:
        lines = network.edge_xy[edge[placed]]
        fraction[placed] = shapely.line_locate_point(lines, points[placed], normalized=True)
        on_street = shapely.line_interpolate_point(lines, fraction[placed], normalized=True)
        xy = shapely.get_coordinates(on_street)
        lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
        snapped_lonlat[placed] = np.column_stack([lon, lat])
    tree, _ = _edge_tree(network)
    missed = np.flatnonzero(edge < 0)
    if missed.size:  # how far the nearest street really is, for the report
        (m_idx, _), m_dist = tree.query_nearest(points[missed], return_distance=True, all_matches=False)
        distance[missed[m_idx]] = m_dist
    offset = np.where(edge >= 0, fraction * network.edge_length_m[np.maximum(edge, 0)], 0.0)
    return SnappedPoints(edge=edge, fraction=fraction, offset_m=offset, distance_m=distance,
                         lonlat=snapped_lonlat, status=status)


def component_of(network: RoadNetwork, snapped: SnappedPoints, i: int) -> int | None:
    """Strongly-connected-component label of point ``i``'s street, or None when the
    point is off the network or its street joins two components (a one-way way out)."""
    e = int(snapped.edge[i])
    if e < 0:
        return None
    cu = int(network.node_component[network.edge_u[e]])
    cv = int(network.node_component[network.edge_v[e]])
    return cu if cu == cv else None


def usable_by(network: RoadNetwork, snapped: SnappedPoints, routing: RoutingGraph,
              anchors: Sequence[int] | None = None) -> np.ndarray:
    """Bool mask of the points a vehicle driving ``routing`` can use.

    A point is usable when it is ``ok``, its street is an allowed edge of ``routing``
    and, given ``anchors`` (indices of points such as the depots), both ends of its
    street lie in a strongly connected part of ``routing`` that holds a usable anchor
    (so the vehicle can get there from a depot and back).
    """
    ok = snapped.ok.astype(bool)
    edge = np.where(ok, snapped.edge, 0)
    usable = ok & routing.allowed[edge]
    if anchors is None:
        return usable
    comp_u = routing.node_component[network.edge_u[edge]]
    comp_v = routing.node_component[network.edge_v[edge]]
    anchor_list = [int(a) for a in anchors if usable[int(a)] and comp_u[int(a)] == comp_v[int(a)]]
    reachable = np.unique(comp_u[anchor_list]) if anchor_list else np.zeros(0, dtype=np.int64)
    return usable & np.isin(comp_u, reachable) & np.isin(comp_v, reachable)
