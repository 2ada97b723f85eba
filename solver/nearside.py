"""The nearside rule: on a busy road a bin is collected from the nearside only.

A crew does not carry bins across a busy road; the lorry collects them in a pass with the
bin on its kerb side (the *nearside*: the left where traffic drives on the left, as in the
UK). On a quiet street it takes both sides in one pass. So a bin on a busy road fixes the
direction the lorry must arrive in.

* :func:`point_sides`: which side of its snapped edge each input point lies on: ``+1``
  left of the edge's direction of travel (from its start node to its end node), ``-1``
  right, ``0`` on the line (within :data:`ON_LINE_M`) or not snapped. Measured in the
  network's metric projection between the input point and the edge where it was snapped.
* :func:`busy_edges`: per directed edge, whether its OSM ``highway`` is one of the busy
  types (:data:`BUSY_HIGHWAYS` by default: motorway, trunk, primary and their ``_link``
  roads; ``secondary`` is not busy). An edge merged by simplification from several ways
  carries a list of tags: it is busy if any part of it is.
* :func:`approach_slots`: per point, the direction the lorry may collect it in:
  :data:`EITHER` (``-1``), :data:`ALONG_EDGE` (``0``, only along the snapped edge) or
  :data:`ALONG_TWIN` (``1``, only along its twin, the other direction of the street). A
  point is restricted only on a busy two-way street and off its centre line; a one-way
  street has one direction anyway, which the road graph already enforces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

import numpy as np
import shapely

from solver.network import RoadNetwork
from solver.problem import DEFAULT_BUSY_HIGHWAYS, DrivesOn
from solver.snapping import SnappedPoints

#: ``highway`` values of busy roads, where bins are collected from the nearside only.
BUSY_HIGHWAYS = frozenset(DEFAULT_BUSY_HIGHWAYS)
#: the sides of the road traffic may keep to.
DRIVES_ON = get_args(DrivesOn)
#: a point this close (m) to its street's line lies on it: its side is 0.
ON_LINE_M = 0.01
#: half the stretch (m) of edge around a snapped point whose direction is the edge's there.
_HEADING_STEP_M = 0.5

EITHER = -1
ALONG_EDGE = 0
ALONG_TWIN = 1


def point_sides(network: RoadNetwork, lonlat: np.ndarray, snapped: SnappedPoints) -> np.ndarray:
    """Per input point (``lonlat``, ``(n, 2)`` WGS84 degrees, as given to
    :func:`~solver.snapping.snap_points` for ``snapped``): ``+1`` left of its snapped edge's
    direction of travel, ``-1`` right, ``0`` on the line or not snapped (``int8``)."""
    points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if points.shape[0] != len(snapped):
        raise ValueError(f"lonlat has {points.shape[0]} points but snapped has {len(snapped)}")
    side = np.zeros(len(snapped), dtype=np.int8)
    placed = np.flatnonzero(snapped.edge >= 0)
    if placed.size == 0:
        return side
    x, y = network.to_xy().transform(points[placed, 0], points[placed, 1])
    lines = network.edge_xy[snapped.edge[placed]]
    along = snapped.fraction[placed] * shapely.length(lines)
    # the edge's direction at the snapped point, over a short stretch (so a vertex there is no problem)
    behind = shapely.get_coordinates(shapely.line_interpolate_point(lines, along - _HEADING_STEP_M))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(lines, along + _HEADING_STEP_M))
    foot = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
    heading = ahead - behind
    offset = np.column_stack([x, y]) - foot
    cross = heading[:, 0] * offset[:, 1] - heading[:, 1] * offset[:, 0]
    off_line = (np.hypot(offset[:, 0], offset[:, 1]) > ON_LINE_M) & (np.hypot(heading[:, 0], heading[:, 1]) > 0)
    side[placed] = np.where(off_line, np.sign(cross), 0).astype(np.int8)
    return side


def busy_edges(network: RoadNetwork, busy_highways: Iterable[str] = BUSY_HIGHWAYS) -> np.ndarray:
    """Per directed edge of ``network``, whether it is a busy road: its ``highway`` tag, or any
    of them on an edge merged from several ways, is in ``busy_highways``."""
    if isinstance(busy_highways, str):  # a lone value would be read as its letters
        raise ValueError(f"busy_highways must be a list of highway values, not the string {busy_highways!r}")
    busy_types = frozenset(busy_highways)
    if not all(isinstance(t, str) and t for t in busy_types):
        raise ValueError(f"busy_highways must be highway values (non-empty strings), got {list(busy_types)!r}")
    graph, osm = network.graph, network.node_osmid
    busy = np.zeros(network.n_edges, dtype=bool)
    for i, (u, v, k) in enumerate(zip(osm[network.edge_u].tolist(), osm[network.edge_v].tolist(),
                                      network.edge_key.tolist(), strict=True)):
        highway = graph.edges[u, v, k].get("highway", "")
        tags = highway if isinstance(highway, list) else [highway]
        busy[i] = any(str(t) in busy_types for t in tags)
    return busy


def approach_slots(network: RoadNetwork, snapped: SnappedPoints, side: np.ndarray, busy: np.ndarray,
                   drives_on: str = "left") -> np.ndarray:
    """Per point: :data:`ALONG_EDGE` (``0``) or :data:`ALONG_TWIN` (``1``) where the nearside
    rule fixes the direction of collection, else :data:`EITHER` (``-1``) (``int8``).

    ``side`` is :func:`point_sides` for ``snapped``, ``busy`` :func:`busy_edges`. A point is
    restricted when its snapped edge is busy and has a twin and it lies off the line: it is
    collected in the direction that has it on the kerb side, the left of the direction of
    travel when ``drives_on`` is ``"left"``, the right when ``"right"``.
    """
    if drives_on not in DRIVES_ON:
        raise ValueError(f"drives_on must be 'left' or 'right', not {drives_on!r}")
    side = np.asarray(side)
    busy = np.asarray(busy, dtype=bool)
    if side.shape != (len(snapped),):
        raise ValueError(f"side has shape {side.shape}, expected ({len(snapped)},) like snapped")
    if busy.shape != (network.n_edges,):
        raise ValueError(f"busy has shape {busy.shape}, expected ({network.n_edges},): one flag per edge")
    kerb = 1 if drives_on == "left" else -1
    edge = np.maximum(snapped.edge, 0)
    restricted = (snapped.edge >= 0) & busy[edge] & (network.edge_twin[edge] >= 0) & (side != 0)
    return np.where(restricted, np.where(side == kerb, ALONG_EDGE, ALONG_TWIN), EITHER).astype(np.int8)
