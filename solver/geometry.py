"""Street-following LineStrings for routes.

Each leg is drawn exactly as :mod:`solver.matrix` priced it: the rest of the
street the vehicle stops on, the quickest path's edges (their real shapes), and
the start of the next stop's street; or the stretch of one street between two
stops on it. On turn-aware legs the path is the quickest one of the turn-aware graph
(:func:`edge_paths`), so the line takes no banned turn and turns back only where the
priced drive does. Legs join end to start, so a route is one continuous LineString in
WGS84 lon/lat from depot to depot. Paths follow the road graph the legs were priced on
(the vehicle's access profile), so a lorry's line never uses a street closed to it.
Two consecutive stops at the same point (a break taken where the vehicle is) add
nothing to the line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.ops import substring

from solver.matrix import Legs
from solver.network import RoadNetwork, RoutingGraph, TurnGraph, routing_graph

_NO_PRED = -9999


def _trees(csr: sp.csr_array, pairs: Sequence[tuple[int, int]], step: int
           ) -> Iterator[tuple[int, list[int], np.ndarray, np.ndarray]]:
    """For each source of ``pairs`` (``(source, target)``): the source, its targets, and its quickest-path
    tree on ``csr`` (distances and predecessors), Dijkstra run on chunks of ``step`` sources."""
    by_source: dict[int, list[int]] = {}
    for s, t in pairs:
        by_source.setdefault(s, []).append(t)
    sources = np.array(sorted(by_source), dtype=np.int64)
    for start in range(0, len(sources), step):
        chunk = sources[start:start + step]
        dist, pred = dijkstra(csr, directed=True, indices=chunk, return_predecessors=True)
        for row, s in enumerate(chunk.tolist()):
            yield s, by_source[s], dist[row], pred[row]


def _walk_back(pred: np.ndarray, source: int, target: int) -> list[int]:
    """The path ``source .. target`` (both included) along the predecessors ``pred``."""
    path = [target]
    while path[-1] != source:
        p = int(pred[path[-1]])
        if p == _NO_PRED:
            raise ValueError(f"no path from {source} to {target}")
        path.append(p)
    return path[::-1]


def node_paths(network: RoadNetwork, pairs: Sequence[tuple[int, int]], *,
               routing: RoutingGraph | None = None) -> dict[tuple[int, int], list[int]]:
    """Quickest node paths (node indices, both ends included) for ``(source, target)`` pairs
    on ``routing`` (default: every street of the network).

    Uses the same Dijkstra as the matrices, so paths are the ones that were priced.
    """
    graph = routing or routing_graph(network)
    return {(s, t): _walk_back(pred, s, t) for s, targets, _, pred in _trees(graph.csr_time, pairs, 256)
            for t in targets}


def edge_paths(network: RoadNetwork, graph: TurnGraph, pairs: Sequence[tuple[int, int]]
               ) -> dict[tuple[int, int], list[int]]:
    """The edges driven between the end of edge ``a`` and the start of edge ``b`` (neither
    included), on the quickest drive of the turn-aware ``graph``, for ``(a, b)`` pairs; for
    ``a == b`` the drive round and back into the edge (:mod:`solver.matrix_turns`)."""
    into = graph.csr_into
    paths: dict[tuple[int, int], list[int]] = {}
    for a, targets, dist, pred in _trees(graph.csr_time, pairs, 64):
        for b in targets:
            if a == b:  # round the block: up to the best edge before coming back into a, then a itself
                lo, hi = into.indptr[a], into.indptr[a + 1]
                before = into.indices[lo:hi]
                if not len(before):
                    raise ValueError(f"no drive from edge {a} back to itself")
                middle = _walk_back(pred, a, int(before[np.argmin(dist[before] + into.data[lo:hi])]))[1:]
            else:
                middle = _walk_back(pred, a, b)[1:-1]
            paths[(a, b)] = [int(e) for e in graph.node_edge[np.array(middle, dtype=np.int64)]] if middle else []
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


def _middles(legs: Legs, edge_a: np.ndarray, edge_b: np.ndarray, direct: np.ndarray
             ) -> dict[tuple[int, int], list[int]]:
    """For each drive that is not direct, the edges between the end of ``edge_a[i]`` and the start of
    ``edge_b[i]``, keyed ``(edge_a[i], edge_b[i])``."""
    network = legs.network
    pairs = sorted({(int(a), int(b)) for a, b, d in zip(edge_a, edge_b, direct, strict=True) if not d})
    if legs.turns is not None:
        return edge_paths(network, legs.turns, pairs)
    node_pairs = {(int(network.edge_v[a]), int(network.edge_u[b])) for a, b in pairs}
    paths = node_paths(network, sorted(node_pairs), routing=legs.routing)
    return {(a, b): [_edge_between(legs.routing, u, v)
                     for u, v in itertools.pairwise(paths[(int(network.edge_v[a]), int(network.edge_u[b]))])]
            for a, b in pairs}


#: a route's drive as pieces of edges in driving order: (edge index, start fraction, end fraction).
Pieces = list[tuple[int, float, float]]


def route_pieces(legs: Legs, routes: Mapping[str, Sequence[int]]) -> dict[str, Pieces]:
    """The pieces of edges each route drives, keyed like ``routes`` (point-index sequences in
    driving order, as for :func:`route_lines`): the rest of a stop's street, the whole edges of
    the drive between, the start of the next stop's street; or the stretch of one street between
    two stops on it. Raises ``ValueError`` for a point the legs' profile cannot use."""
    pending: list[tuple[str, int, int]] = []
    for key, seq in routes.items():
        pending.extend((key, int(p), int(q)) for p, q in itertools.pairwise(seq))
    pieces: dict[str, Pieces] = {key: [] for key in routes}
    if not pending:
        return pieces
    p = np.array([x[1] for x in pending])
    q = np.array([x[2] for x in pending])
    if not (legs.valid[p].all() and legs.valid[q].all()):
        raise ValueError("a route visits a point that is not on the reachable network")
    _, _, col, direct = legs.choose(p, q)
    slot_a, slot_b = col // 2, col % 2
    edge_a, frac_a = legs.slot_edge[p, slot_a], legs.slot_fraction[p, slot_a]
    edge_b, frac_b = legs.slot_edge[q, slot_b], legs.slot_fraction[q, slot_b]
    middles = _middles(legs, edge_a, edge_b, direct)
    for i, (key, _, _) in enumerate(pending):
        ea, eb = int(edge_a[i]), int(edge_b[i])
        if direct[i]:
            pieces[key].append((ea, float(frac_a[i]), float(frac_b[i])))
            continue
        pieces[key].append((ea, float(frac_a[i]), 1.0))
        pieces[key].extend((e, 0.0, 1.0) for e in middles[(ea, eb)])
        pieces[key].append((eb, 0.0, float(frac_b[i])))
    return pieces


def piece_starts_m(network: RoadNetwork, pieces: Pieces) -> np.ndarray:
    """Metres along the drive of ``pieces`` to the start of each piece, and to the end."""
    lengths = network.edge_length_m
    return np.concatenate(([0.0], np.cumsum([(f1 - f0) * float(lengths[e]) for e, f0, f1 in pieces])))


def cut_pieces(network: RoadNetwork, pieces: Pieces, starts_m: np.ndarray, from_m: float, to_m: float) -> Pieces:
    """The stretch of the drive ``pieces`` (whose starts along it are ``starts_m``, metres, as
    :func:`piece_starts_m` gives them) from ``from_m`` to ``to_m`` metres along it, as pieces."""
    out: Pieces = []
    for k, (edge, f0, _) in enumerate(pieces):
        lo, hi = float(starts_m[k]), float(starts_m[k + 1])
        if hi <= from_m or lo >= to_m:
            continue
        length = float(network.edge_length_m[edge])
        per_m = 1.0 / length if length > 0 else 0.0
        a = f0 + max(from_m - lo, 0.0) * per_m
        b = f0 + (min(to_m, hi) - lo) * per_m
        out.append((int(edge), a, max(a, b)))
    return out


def pieces_line(network: RoadNetwork, pieces: Pieces) -> LineString | None:
    """The WGS84 LineString of a route's ``pieces`` (``None`` for no piece)."""
    if not pieces:
        return None
    xy = np.vstack([_piece(network, e, f0, f1) for e, f0, f1 in pieces])
    keep = np.concatenate(([True], np.any(np.abs(np.diff(xy, axis=0)) > 1e-6, axis=1)))
    xy = xy[keep]
    if xy.shape[0] == 1:
        xy = np.vstack([xy, xy])
    lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return LineString(np.column_stack([lon, lat]))


def route_lines(legs: Legs, routes: Mapping[str, Sequence[int]]) -> dict[str, LineString]:
    """LineStrings (WGS84) for routes given as point-index sequences, keyed like ``routes``.

    Each sequence lists matrix rows in driving order, depot first and last; a row may
    repeat (the leg between is empty). Raises ``ValueError`` for a point the legs'
    profile cannot use.
    """
    lines = {key: pieces_line(legs.network, p) for key, p in route_pieces(legs, routes).items()}
    return {key: line for key, line in lines.items() if line is not None}
