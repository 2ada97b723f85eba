"""Turn facts of a road network: banned turns from OSM turn restrictions, turning places and
dead ends, laid onto a :class:`~solver.network.RoadNetwork`'s nodes and directed edges.

The restrictions are read by :mod:`solver.osm_restrictions` as OSM node paths
``(before, via..., after)``; :func:`map_restrictions` finds the chains of directed edges
whose geometry runs along such a path (matching node positions within
:data:`MATCH_TOLERANCE_M`), so that it works on an unsimplified graph (an edge per OSM
segment) and a simplified one (edges merged across ways) alike; there a via way may be
merged into the from way's edge (where nothing else meets them) or into the to way's. A
chain of two edges is a banned turn ``(in_edge, out_edge)`` at the node between them; a
longer chain (a via-way restriction) a banned sequence ``(in_edge, via edges...,
out_edge)``. An ``only_*`` restriction bans, after the same in-edge (and via edges), every
other exit of the node where the chain leaves its last via edge, the U-turn included.

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

from solver.osm_filter import SIDE_WAY_TAG
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
    """Edges out of each node, edges passing through a point, and edge vertices in the network's metres."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self.out_edges = _grouped(network.edge_u, network.n_nodes)
        self._coords: dict[int, np.ndarray] = {}
        self._tree: shapely.STRtree | None = None

    def coords(self, edge: int) -> np.ndarray:
        if edge not in self._coords:
            self._coords[edge] = shapely.get_coordinates(self.network.edge_xy[edge])
        return self._coords[edge]

    def edges_near(self, xy: np.ndarray) -> list[int]:
        """The edges passing within :data:`MATCH_TOLERANCE_M` of the point ``xy`` (metres)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.network.edge_xy)
        hits = self._tree.query(shapely.points(xy), predicate="dwithin", distance=MATCH_TOLERANCE_M)
        return sorted(int(e) for e in hits.tolist())


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
    last_via = {path[-2] for path in restriction.paths}
    osmid = adj.network.node_osmid
    allowed: dict[tuple[int, ...], set[int]] = {}
    for chain in chains:
        if int(osmid[adj.network.edge_u[chain[-1]]]) not in last_via:
            # the via way merged into the out-edge: no junction where the lorry could stray
            continue
        allowed.setdefault(chain[:-1], set()).add(chain[-1])
    banned = []
    for prefix, exits in allowed.items():
        node = int(adj.network.edge_v[prefix[-1]])
        banned += [(*prefix, out) for out in adj.out_edges[node] if out not in exits]
    return banned


def _chains(adj: _Adjacency, path: Sequence[int], xy: dict[int, np.ndarray]) -> list[tuple[int, ...]]:
    """Chains of at least two directed edges whose vertices run along the OSM node ``path``
    ``(before, first via, ..., after)``: the first edge takes the step ``before -> first via``
    (and may begin before ``before``, or run on past the first via when simplification merged
    the via way into it), the last takes the step to ``after`` (and may run on beyond it)."""
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

    for edge in adj.edges_near(points[1]):
        vertices = adj.coords(edge)
        for k in range(1, len(vertices)):
            if not (near(vertices[k - 1], points[0]) and near(vertices[k], points[1])):
                continue
            # the edge runs on from the first via along the path: how far?
            on = 0
            while k + on + 1 < len(vertices) and 1 + on + 1 < len(points) and near(vertices[k + on + 1],
                                                                                    points[1 + on + 1]):
                on += 1
            if k + on == len(vertices) - 1 and 1 + on < len(points) - 1:
                extend((edge,), int(adj.network.edge_v[edge]), 1 + on)
    return list(dict.fromkeys(found))


def turning_places(network: RoadNetwork) -> np.ndarray:
    """Per node, whether OSM marks a place to turn round there (``highway`` of
    :data:`TURNING_PLACE_VALUES` on the node)."""
    graph = network.graph
    return np.array([str(graph.nodes[int(n)].get("highway", "")) in TURNING_PLACE_VALUES
                     for n in network.node_osmid.tolist()], dtype=bool)


def side_ways(network: RoadNetwork) -> np.ndarray:
    """Per node, whether a side way joins the road there (a driveway, yard or track the lorry does
    not route along but can reverse into to turn round: :data:`~solver.osm_filter.SIDE_WAY_TAG`,
    read from OSM files)."""
    graph = network.graph
    return np.array([str(graph.nodes[int(n)].get(SIDE_WAY_TAG, "")) == "yes"
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
