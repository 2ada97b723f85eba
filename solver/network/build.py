"""A built road network: :class:`RoadNetwork` (the graph and its array views) and
:func:`build_network`, which reads a source, times its edges and lays out the arrays.

Lengths are metres, times seconds, limits kilograms and metres.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from shapely.geometry import LineString

from solver.network.access import access_counts
from solver.network.routing import quickest_csr
from solver.network.source import NetworkSource, raw_graph, sort_merged_tags
from solver.network.speeds import REFUSE_TRUCK, SpeedProfile, add_speeds
from solver.network.tags import EdgeLimits, edge_limits
from solver.network.turns import banned_turns, dead_ends, side_ways, turning_places

log = logging.getLogger(__name__)


@dataclass
class RoadNetwork:
    """A drivable directed road graph with array views for fast snapping and routing.

    Nodes are numbered ``0..n_nodes-1`` (``node_osmid`` gives their OSM ids); edges
    ``0..n_edges-1`` go ``edge_u -> edge_v``. Lengths are metres, times seconds.
    ``edge_xy`` holds edge geometries in ``crs`` (a metric UTM projection), drawn from
    ``u`` to ``v``; ``edge_twin`` is the index of the same street drawn the other way
    (the opposite direction of a two-way street), or -1. ``node_component`` labels the
    strongly connected parts. ``csr_time``/``csr_length`` hold one entry per
    connected node pair, the quickest of any parallel edges, whose index is in
    ``csr_edge``.

    Access limits per edge, from its OSM tags (:func:`edge_limits`):
    ``edge_maxweight_kg`` binds every vehicle and ``edge_maxweight_hgv_kg`` a heavy
    goods vehicle (kg); ``edge_maxwidth_m``, ``edge_maxheight_m``, ``edge_maxlength_m``
    (m); ``inf`` where there is no limit, NaN where the limit is unknown;
    ``edge_hgv_forbidden`` where ``hgv`` closes the street to heavy goods vehicles.
    The arrays above are the unrestricted road graph; :func:`~solver.network.routing_graph` gives the
    one a vehicle of a given :class:`~solver.network.AccessProfile` may drive.

    Turn facts (:mod:`solver.network.turns`), which the turn-aware graph routes by
    (:mod:`solver.network.turn_graph`): the turn from
    edge ``banned_turn_in[i]`` into edge ``banned_turn_out[i]`` is banned for a refuse lorry
    by OSM relation ``banned_turn_relation[i]``; banned sequences of edges (via-way
    restrictions) are ``banned_seq_edges[banned_seq_offsets[j]:banned_seq_offsets[j + 1]]``
    (in-edge, via edges, out-edge), from relation ``banned_seq_relation[j]``;
    ``turn_restriction_counts`` holds the figures of reading and mapping them. Only an OSM
    file source has restrictions (GraphML files and osmnx queries carry no relations).
    ``node_turning_place`` marks nodes OSM tags as turning circles, turning loops or
    mini-roundabouts; ``node_dead_end`` nodes where a single street ends
    (:func:`~solver.network.dead_ends`); ``node_side_way`` nodes where a side way (a driveway,
    yard or track) joins, which a lorry can reverse into to turn round (:func:`~solver.network.side_ways`).
    """

    name: str
    source: NetworkSource
    profile: SpeedProfile
    simplify: bool
    graph: nx.MultiDiGraph
    crs: str
    node_osmid: np.ndarray
    node_lonlat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_length_m: np.ndarray
    edge_time_s: np.ndarray
    edge_xy: np.ndarray
    edge_twin: np.ndarray
    node_component: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    csr_edge: np.ndarray
    edge_maxweight_kg: np.ndarray
    edge_maxweight_hgv_kg: np.ndarray
    edge_maxwidth_m: np.ndarray
    edge_maxheight_m: np.ndarray
    edge_maxlength_m: np.ndarray
    edge_hgv_forbidden: np.ndarray
    banned_turn_in: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    banned_turn_out: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    banned_turn_relation: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    banned_seq_edges: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    banned_seq_offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    banned_seq_relation: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    turn_restriction_counts: dict[str, int] = field(default_factory=dict)
    node_turning_place: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    node_dead_end: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    node_side_way: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    build_seconds: float = 0.0
    _cached: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_osmid.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    def to_lonlat(self) -> pyproj.Transformer:
        """Transformer from ``crs`` to WGS84 lon/lat."""
        if "to_lonlat" not in self._cached:
            self._cached["to_lonlat"] = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return self._cached["to_lonlat"]

    def to_xy(self) -> pyproj.Transformer:
        """Transformer from WGS84 lon/lat to ``crs`` (metres)."""
        if "to_xy" not in self._cached:
            self._cached["to_xy"] = pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        return self._cached["to_xy"]

    def largest_component(self) -> int:
        """Label of the largest strongly connected part."""
        labels, counts = np.unique(self.node_component, return_counts=True)
        return int(labels[np.argmax(counts)])

    def __getstate__(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["_cached"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


def utm_crs(lon: float, lat: float) -> str:
    """The EPSG code of the UTM zone (WGS84) containing ``lon``/``lat``."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def build_network(source: str | os.PathLike[str] | NetworkSource, *,
                  profile: SpeedProfile = REFUSE_TRUCK, simplify: bool = True) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from ``source`` without any cache."""
    src = source if isinstance(source, NetworkSource) else NetworkSource.parse(source)
    started = time.perf_counter()
    graph = sort_merged_tags(raw_graph(src, simplify=simplify))
    if graph.number_of_edges() == 0:
        raise ValueError(f"network source {src.value!r} holds no drivable street")
    add_speeds(graph, profile)
    network = _arrays_from_graph(graph, src, profile, simplify)
    _add_turn_facts(network)
    network.build_seconds = time.perf_counter() - started
    log.info("built network %s (%d nodes, %d edges) in %.2f s; edges with access limits: %s", network.name,
             network.n_nodes, network.n_edges, network.build_seconds, access_counts(network))
    return network


def _add_turn_facts(network: RoadNetwork) -> None:
    """Fill ``network``'s turn fields (see :class:`RoadNetwork`)."""
    banned = banned_turns(network)
    network.banned_turn_in, network.banned_turn_out = banned.turn_in, banned.turn_out
    network.banned_turn_relation = banned.turn_relation
    network.banned_seq_edges, network.banned_seq_offsets = banned.seq_edges, banned.seq_offsets
    network.banned_seq_relation = banned.seq_relation
    network.turn_restriction_counts = banned.counts
    network.node_turning_place = turning_places(network)
    network.node_dead_end = dead_ends(network)
    network.node_side_way = side_ways(network)


def _arrays_from_graph(graph: nx.MultiDiGraph, src: NetworkSource, profile: SpeedProfile,
                       simplify: bool) -> RoadNetwork:
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lonlat = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=float)
    crs = utm_crs(float(np.median(lonlat[:, 0])), float(np.median(lonlat[:, 1])))
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    us, vs, keys, lengths, times, geoms, limits = [], [], [], [], [], [], []
    for u, v, k, data in graph.edges(keys=True, data=True):
        us.append(index[u])
        vs.append(index[v])
        keys.append(k)
        lengths.append(float(data["length"]))
        times.append(float(data["travel_time"]))
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([lonlat[index[u]], lonlat[index[v]]])
        geoms.append(geom)
        limits.append(edge_limits(data))
    edge_u = np.asarray(us, dtype=np.int64)
    edge_v = np.asarray(vs, dtype=np.int64)
    edge_xy = shapely.transform(np.asarray(geoms, dtype=object),
                                lambda c: np.column_stack(to_xy.transform(c[:, 0], c[:, 1])))
    edge_time = np.maximum(np.asarray(times), 1e-6)
    edge_length = np.asarray(lengths)
    limit = np.asarray(limits, dtype=float).reshape(-1, len(EdgeLimits._fields))
    csr_time, csr_length, csr_edge, component = quickest_csr(
        len(nodes), edge_u, edge_v, edge_time, edge_length, np.arange(len(edge_u)))

    return RoadNetwork(
        name=Path(src.value).name if src.kind in ("file", "graphml") else src.value,
        source=src, profile=profile, simplify=simplify, graph=graph, crs=crs,
        node_osmid=np.asarray(nodes, dtype=np.int64), node_lonlat=lonlat,
        edge_u=edge_u, edge_v=edge_v, edge_key=np.asarray(keys, dtype=np.int64),
        edge_length_m=edge_length, edge_time_s=edge_time, edge_xy=edge_xy,
        edge_twin=_twins(edge_u, edge_v, edge_xy), node_component=component,
        csr_time=csr_time, csr_length=csr_length, csr_edge=csr_edge,
        edge_maxweight_kg=limit[:, 0], edge_maxweight_hgv_kg=limit[:, 1], edge_maxwidth_m=limit[:, 2],
        edge_maxheight_m=limit[:, 3], edge_maxlength_m=limit[:, 4], edge_hgv_forbidden=limit[:, 5] > 0,
    )


def _twins(edge_u: np.ndarray, edge_v: np.ndarray, edge_xy: np.ndarray) -> np.ndarray:
    """For each edge, the edge drawing the same street the opposite way, else -1."""
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        by_pair.setdefault((u, v), []).append(i)
    twin = np.full(len(edge_u), -1, dtype=np.int64)
    for i, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        if twin[i] >= 0:
            continue
        mine = shapely.get_coordinates(edge_xy[i])
        for j in by_pair.get((v, u), ()):
            if twin[j] >= 0 or j == i:  # a loop street (u == v) is its own pair key
                continue
            theirs = shapely.get_coordinates(edge_xy[j])[::-1]
            if theirs.shape == mine.shape and np.allclose(theirs, mine, atol=0.01):
                twin[i], twin[j] = j, i
                break
    return twin
