"""Street-following LineStrings for routes.

Each leg is drawn exactly as :mod:`solver.matrix` priced it: the rest of the
street the vehicle stops on, the quickest path's edges (their real shapes), and
the start of the next stop's street; or the stretch of one street between two
stops on it. Legs join end to start, so a route is one continuous LineString in
WGS84 lon/lat from depot to depot. Paths follow the road graph the legs were priced on
(the vehicle's access profile), so a lorry's line never uses a street closed to it.
Two consecutive stops at the same point (a break taken where the vehicle is) add
nothing to the line.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.ops import substring

from solver.matrix import Legs
from solver.network import RoadNetwork, RoutingGraph, routing_graph

_NO_PRED = -9999


def node_paths(network: RoadNetwork, pairs: Sequence[tuple[int, int]], *,
               routing: RoutingGraph | None = None) -> dict[tuple[int, int], list[int]]:
    """Quickest node paths (node indices, both ends included) for ``(source, target)`` pairs
    on ``routing`` (default: every street of the network).

    Uses the same Dijkstra as the matrices, so paths are the ones that were priced.
    """
    graph = routing or routing_graph(network)
    paths: dict[tuple[int, int], list[int]] = {}
    by_source: dict[int, list[int]] = {}
    for s, t in pairs:
        by_source.setdefault(s, []).append(t)
    sources = np.array(sorted(by_source), dtype=np.int64)
    step = 256
    for start in range(0, len(sources), step):
        chunk = sources[start:start + step]
        _, pred = dijkstra(graph.csr_time, directed=True, indices=chunk, return_predecessors=True)
        for row, s in enumerate(chunk.tolist()):
            for t in by_source[s]:
                path = [t]
                while path[-1] != s:
                    p = int(pred[row, path[-1]])
                    if p == _NO_PRED:
                        raise ValueError(f"no path from node {s} to node {t}")
                    path.append(p)
                paths[(s, t)] = path[::-1]
    return paths


def _edge_between(graph: RoutingGraph, u: int, v: int) -> int:
    """Index of the quickest edge of ``graph`` from node ``u`` to node ``v``."""
    lo, hi = graph.csr_time.indptr[u], graph.csr_time.indptr[u + 1]
    pos = lo + int(np.searchsorted(graph.csr_time.indices[lo:hi], v))
    return int(graph.csr_edge[pos])


def _piece(network: RoadNetwork, edge: int, start: float, end: float) -> np.ndarray:
    """Coordinates (projected) of ``edge`` between two fractions of its length."""
    line = network.edge_xy[edge]
    if start <= 0.0 and end >= 1.0:
        return shapely.get_coordinates(line)
    part = substring(line, start, end, normalized=True)
    coords = shapely.get_coordinates(part)
    if coords.shape[0] == 1:
        coords = np.vstack([coords, coords])
    return coords


def route_lines(legs: Legs, routes: Mapping[str, Sequence[int]]) -> dict[str, LineString]:
    """LineStrings (WGS84) for routes given as point-index sequences, keyed like ``routes``.

    Each sequence lists matrix rows in driving order, depot first and last; a row may
    repeat (the leg between is empty). Raises ``ValueError`` for a point the legs'
    profile cannot use.
    """
    network = legs.network
    pending: list[tuple[str, int, int]] = []
    for key, seq in routes.items():
        pending.extend((key, int(p), int(q)) for p, q in itertools.pairwise(seq))
    if not pending:
        return {}
    p = np.array([x[1] for x in pending])
    q = np.array([x[2] for x in pending])
    if not (legs.valid[p].all() and legs.valid[q].all()):
        raise ValueError("a route visits a point that is not on the reachable network")
    _, _, col, direct = legs.choose(p, q)
    slot_a, slot_b = col // 2, col % 2
    rows = np.arange(len(p))
    edge_a, frac_a = legs.slot_edge[p, slot_a], legs.slot_fraction[p, slot_a]
    edge_b, frac_b = legs.slot_edge[q, slot_b], legs.slot_fraction[q, slot_b]
    node_pairs = {(int(network.edge_v[edge_a[i]]), int(network.edge_u[edge_b[i]]))
                  for i in rows if not direct[i]}
    paths = node_paths(network, sorted(node_pairs), routing=legs.routing)

    pieces: dict[str, list[np.ndarray]] = {key: [] for key in routes}
    for i, (key, _, _) in enumerate(pending):
        ea, eb = int(edge_a[i]), int(edge_b[i])
        if direct[i]:
            pieces[key].append(_piece(network, ea, float(frac_a[i]), float(frac_b[i])))
            continue
        pieces[key].append(_piece(network, ea, float(frac_a[i]), 1.0))
        path = paths[(int(network.edge_v[ea]), int(network.edge_u[eb]))]
        for u, v in itertools.pairwise(path):
            pieces[key].append(shapely.get_coordinates(network.edge_xy[_edge_between(legs.routing, u, v)]))
        pieces[key].append(_piece(network, eb, 0.0, float(frac_b[i])))

    to_lonlat = network.to_lonlat()
    lines: dict[str, LineString] = {}
    for key, parts in pieces.items():
        if not parts:
            continue
        xy = np.vstack(parts)
        keep = np.concatenate(([True], np.any(np.abs(np.diff(xy, axis=0)) > 1e-6, axis=1)))
        xy = xy[keep]
        if xy.shape[0] == 1:
            xy = np.vstack([xy, xy])
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        lines[key] = LineString(np.column_stack([lon, lat]))
    return lines
