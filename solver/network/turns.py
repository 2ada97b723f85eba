"""Turn facts of a road network: banned turns from OSM turn restrictions, turning places and
dead ends, laid onto a :class:`~solver.network.RoadNetwork`'s nodes and directed edges.

The restrictions are read by :mod:`solver.osm_restrictions` as OSM node paths
``(before, via..., after)``; :func:`map_restrictions` finds the chains of directed edges
whose geometry runs along such a path (matching node positions within
:data:`MATCH_TOLERANCE_M`), so that it works on an unsimplified graph (an edge per OSM
segment) and a simplified one (edges merged across ways) alike. A chain of two edges is a
banned turn ``(in_edge, out_edge)`` at the node between them; a longer chain (a via-way
restriction) a banned sequence ``(in_edge, via edges..., out_edge)``. An ``only_*``
restriction bans, after the same in-edge (and via edges), every other exit of the node
where the chain leaves its last via edge, the U-turn included.

Only a network built from an OSM file has restrictions: GraphML files and osmnx
queries carry no relations, so theirs are empty (and a log line says so).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from solver.osm_restrictions import RestrictionsRead, TurnRestriction, read_turn_restrictions

if TYPE_CHECKING:
    from solver.network.build import RoadNetwork

log = logging.getLogger(__name__)

#: how far (m) an edge's vertex may lie from the OSM node it should be, to count as it.
MATCH_TOLERANCE_M = 0.5
#: ``highway`` values of a node where a lorry can turn round.
TURNING_PLACE_VALUES = frozenset({"turning_circle", "turning_loop", "mini_roundabout"})


@dataclass(frozen=True, slots=True)
class BannedTurns:
    """Banned turns on a network's directed edges.

    ``turn_in[i] -> turn_out[i]`` is banned at the node between them (``turn_relation[i]``
    is the OSM relation saying so). A banned sequence ``j`` is the edges
    ``seq_edges[seq_offsets[j]:seq_offsets[j + 1]]`` (in-edge, via edges, out-edge), from
    relation ``seq_relation[j]``. ``counts`` holds the figures of reading and mapping.
    """

    turn_in: np.ndarray
    turn_out: np.ndarray
    turn_relation: np.ndarray
    seq_edges: np.ndarray
    seq_offsets: np.ndarray
    seq_relation: np.ndarray
    counts: dict[str, int]

    @classmethod
    def empty(cls, **counts: int) -> BannedTurns:
        """No banned turn."""
        none = np.empty(0, dtype=np.int64)
        return cls(none, none.copy(), none.copy(), none.copy(), np.zeros(1, dtype=np.int64), none.copy(),
                   dict(counts))


def banned_turns(network: RoadNetwork) -> BannedTurns:
    """The banned turns of ``network``, read from its OSM file; empty for other sources."""
    if network.source.kind != "file":
        log.info("network %s comes from %s, which holds no turn restrictions; none are applied",
                 network.name, network.source.kind)
        return BannedTurns.empty()
    return map_restrictions(network, read_turn_restrictions(Path(network.source.value)))


class _Adjacency:
    """Edges into and out of each node, and edge vertices in the network's metres."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self.node_of = {int(osmid): i for i, osmid in enumerate(network.node_osmid.tolist())}
        self.out_edges = _grouped(network.edge_u, network.n_nodes)
        self.in_edges = _grouped(network.edge_v, network.n_nodes)
        self._coords: dict[int, np.ndarray] = {}

    def coords(self, edge: int) -> np.ndarray:
        if edge not in self._coords:
            self._coords[edge] = shapely.get_coordinates(self.network.edge_xy[edge])
        return self._coords[edge]


def _grouped(keys: np.ndarray, n: int) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(n)]
    for edge, key in enumerate(keys.tolist()):
        groups[key].append(edge)
    return groups


def map_restrictions(network: RoadNetwork, read: RestrictionsRead) -> BannedTurns:
    """Lay the restrictions of ``read`` onto the directed edges of ``network``.

    A restriction none of whose paths runs along the graph is reported with one warning
    naming its relation, and counted as ``unmapped``.
    """
    adj = _Adjacency(network)
    ids = sorted(read.node_lonlat)
    lon = np.array([read.node_lonlat[n][0] for n in ids])
    lat = np.array([read.node_lonlat[n][1] for n in ids])
    x, y = network.to_xy().transform(lon, lat) if ids else (lon, lat)
    xy = {n: np.array([x[i], y[i]]) for i, n in enumerate(ids)}
    pairs: dict[tuple[int, int], int] = {}
    sequences: dict[tuple[int, ...], int] = {}
    mapped = unmapped = 0
    for restriction in read.restrictions:
        chains = [c for path in restriction.paths for c in _chains(adj, path, xy)]
        if not chains:
            unmapped += 1
            log.warning("turn restriction relation %d (%s) does not lie on the network's edges; not applied",
                        restriction.relation_id, restriction.restriction)
            continue
        mapped += 1
        for banned in _banned(adj, restriction, chains):
            if len(banned) == 2:
                pairs.setdefault((banned[0], banned[1]), restriction.relation_id)
            else:
                sequences.setdefault(banned, restriction.relation_id)
    pair_keys = sorted(pairs)
    seq_keys = sorted(sequences)
    counts = {"relations": read.relations, "exempt": read.exempt, "skipped": len(read.skipped),
              "read": len(read.restrictions), "mapped": mapped, "unmapped": unmapped,
              "banned_turns": len(pair_keys), "banned_sequences": len(seq_keys)}
    log.info("turn restrictions of %s: %s", network.name, counts)
    return BannedTurns(
        turn_in=np.array([p[0] for p in pair_keys], dtype=np.int64),
        turn_out=np.array([p[1] for p in pair_keys], dtype=np.int64),
        turn_relation=np.array([pairs[p] for p in pair_keys], dtype=np.int64),
        seq_edges=np.array([e for s in seq_keys for e in s], dtype=np.int64),
        seq_offsets=np.cumsum([0, *(len(s) for s in seq_keys)], dtype=np.int64),
        seq_relation=np.array([sequences[s] for s in seq_keys], dtype=np.int64),
        counts=counts,
    )


def _banned(adj: _Adjacency, restriction: TurnRestriction, chains: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The edge chains ``restriction`` bans, given the ``chains`` its paths run along."""
    if restriction.forbids:
        return chains
    allowed: dict[tuple[int, ...], set[int]] = {}
    for chain in chains:
        if restriction.via_ways and len(chain) == 2:
            # the via way merged into the out-edge: no junction where the lorry could stray
            continue
        allowed.setdefault(chain[:-1], set()).add(chain[-1])
    banned = []
    for prefix, exits in allowed.items():
        node = int(adj.network.edge_v[prefix[-1]])
        banned += [(*prefix, out) for out in adj.out_edges[node] if out not in exits]
    return banned


def _chains(adj: _Adjacency, path: Sequence[int], xy: dict[int, np.ndarray]) -> list[tuple[int, ...]]:
    """Chains of directed edges whose vertices run along the OSM node ``path``
    ``(before, first via, ..., after)``: the first edge ends ``before -> first via``, the
    last starts with the step to ``after`` (and may run on beyond it)."""
    start = adj.node_of.get(path[1])
    if start is None:
        return []
    points = [xy[n] for n in path]
    found: list[tuple[int, ...]] = []

    def near(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.hypot(*(a - b)) <= MATCH_TOLERANCE_M)

    def extend(chain: tuple[int, ...], node: int, at: int) -> None:
        # points[at] is where ``node`` lies; follow each edge leaving it along the path
        for edge in adj.out_edges[node]:
            vertices = adj.coords(edge)
            steps = min(len(vertices) - 1, len(points) - 1 - at)
            if all(near(vertices[k], points[at + k]) for k in range(1, steps + 1)):
                if at + len(vertices) - 1 >= len(points) - 1:
                    found.append((*chain, edge))
                else:
                    extend((*chain, edge), int(adj.network.edge_v[edge]), at + len(vertices) - 1)

    for edge in adj.in_edges[start]:
        vertices = adj.coords(edge)
        if len(vertices) >= 2 and near(vertices[-2], points[0]):
            extend((edge,), start, 1)
    return list(dict.fromkeys(found))


def turning_places(network: RoadNetwork) -> np.ndarray:
    """Per node, whether OSM marks a place to turn round there (``highway`` of
    :data:`TURNING_PLACE_VALUES` on the node)."""
    graph = network.graph
    return np.array([str(graph.nodes[int(n)].get("highway", "")) in TURNING_PLACE_VALUES
                     for n in network.node_osmid.tolist()], dtype=bool)


def dead_ends(network: RoadNetwork) -> np.ndarray:
    """Per node, whether it is a dead end: one street ends there. A street is an edge with its
    twin (the other direction of a two-way street) counted once; a loop street ends twice at
    its node, as a lorry can drive round it, and so do two streets to the same neighbour."""
    edges = np.arange(network.n_edges)
    street = np.where(network.edge_twin >= 0, np.minimum(edges, network.edge_twin), edges)
    one = street == edges
    ends = np.bincount(np.concatenate([network.edge_u[one], network.edge_v[one]]), minlength=network.n_nodes)
    return np.asarray(ends == 1)
