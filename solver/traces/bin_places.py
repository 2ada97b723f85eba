"""Where bins lie along the network's directed edges, for the matcher to ask whether a lorry turning
round mid-street turned at a bin (:mod:`solver.traces.matching`): a planned round leaves a bin the way
it came, so a turn at a bin is what a crew does, and a turn elsewhere is rarer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from solver.network import RoadNetwork


@dataclass(frozen=True)
class BinPlaces:
    """Per directed edge (both directions of a two-way street), the metres along it (from its start,
    the network's ``edge_length_m``) where bins lie, sorted."""

    along_m: dict[int, np.ndarray]

    def near(self, edge: np.ndarray, along_m: np.ndarray, within_m: float) -> np.ndarray:
        """Whether a bin lies on each ``edge`` within ``within_m`` metres along it of ``along_m``
        (arrays of one length; boolean array)."""
        out = np.zeros(np.shape(edge), dtype=bool)
        for k, (e, at) in enumerate(zip(np.asarray(edge).tolist(), np.asarray(along_m).tolist(), strict=True)):
            places = self.along_m.get(int(e))
            if places is not None:
                i = int(np.searchsorted(places, at))
                out[k] = any(abs(places[j] - at) <= within_m for j in (i - 1, i) if 0 <= j < places.size)
        return out


def bin_places(network: RoadNetwork, xy: np.ndarray, within_m: float = 1.0, alone_m: float = 0.0) -> BinPlaces:
    """Where the points ``xy`` ((n, 2) projected metres, bins placed on their streets) lie along the
    edges they are within ``within_m`` metres of (both directions of a two-way street); given ``alone_m``,
    only those with no other point within ``alone_m`` metres (a bin the crew stops for on its own)."""
    if alone_m > 0 and xy.shape[0] > 1:
        xy = xy[cKDTree(xy).query_ball_point(xy, alone_m, return_length=True) == 1]
    if xy.shape[0] == 0:
        return BinPlaces({})
    points = shapely.points(xy)
    which, edge = shapely.STRtree(network.edge_xy).query(points, predicate="dwithin", distance=within_m)
    fraction = shapely.line_locate_point(network.edge_xy[edge], points[which], normalized=True)
    along = fraction * network.edge_length_m[edge]
    order = np.lexsort((along, edge))
    edge, along = edge[order], along[order]
    cut = np.flatnonzero(np.diff(edge)) + 1
    return BinPlaces({int(es[0]): a for es, a in zip(np.split(edge, cut), np.split(along, cut), strict=True)})
