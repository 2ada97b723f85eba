"""Travel-time and distance matrices between snapped points.

A snapped point lies part-way along a street edge. A vehicle leaves it by driving
the rest of that edge to the edge's end node, and reaches it by driving from the
edge's start node; on a two-way street it may use either direction (the twin
edge), and two points on the same edge in driving order are joined directly.
Between nodes the vehicle takes the quickest path. So for points ``p`` and ``q``::

    duration(p, q) = min over ways of leaving p and reaching q of
                     rest_of_edge(p) + quickest(node, node) + start_of_edge(q)

and ``distance(p, q)`` is the length (metres) of that same quickest drive, so both
matrices describe one drive, which :mod:`solver.geometry` draws.

The node-to-node part uses scipy's sparse-graph Dijkstra (the reference backend),
run in chunks of sources so memory stays bounded.

Access: a vehicle drives only the streets its size allows
(:func:`solver.network.routing_graph` of its :class:`~solver.network.AccessProfile`).
:func:`build_legs` for a profile runs Dijkstra on that profile's graph, and a point
whose street is closed to the profile, or cut off from the depots in its graph, gets
``inf`` rows and columns. :func:`fleet_matrices` builds one set per profile of the
fleet, shared by vehicles whose profiles the network's tags do not tell apart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.sparse.csgraph import dijkstra

from solver.network import UNRESTRICTED, AccessProfile, RoadNetwork, RoutingGraph, SizedVehicle, routing_graph
from solver.snapping import SnappedPoints, usable_by

log = logging.getLogger(__name__)

#: memory budget for one chunk of Dijkstra rows (bytes).
DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024
_NO_PRED = -9999  # scipy's marker for "no predecessor"


@dataclass(frozen=True)
class TravelMatrices:
    """Asymmetric matrices between locations, row = from, column = to.

    ``duration_s`` in seconds and ``distance_m`` in metres, both ``float64`` of shape
    ``(n, n)``, with ``inf`` where no path exists (or a location could not be
    snapped). The distance is the length of the quickest path, so that the two
    matrices describe the same drive.
    """

    duration_s: np.ndarray
    distance_m: np.ndarray

    @property
    def size(self) -> int:
        """Number of locations (rows)."""
        return int(self.duration_s.shape[0])


@dataclass(frozen=True)
class FleetMatrices:
    """Travel matrices per vehicle.

    Vehicles whose size lets them drive the same streets share one access profile
    and one :class:`TravelMatrices`: ``profiles`` maps a profile key to its matrices,
    ``vehicle_profile`` maps each vehicle id to its profile key.
    """

    profiles: dict[str, TravelMatrices]
    vehicle_profile: dict[str, str]

    def for_vehicle(self, vehicle_id: str) -> TravelMatrices:
        """The matrices vehicle ``vehicle_id`` drives by."""
        return self.profiles[self.vehicle_profile[vehicle_id]]

    @property
    def size(self) -> int:
        """Number of locations (rows of every matrix)."""
        return next(iter(self.profiles.values())).size

    @classmethod
    def uniform(cls, matrices: TravelMatrices, vehicle_ids: Iterable[str]) -> FleetMatrices:
        """Every vehicle drives by the same ``matrices``."""
        return cls(profiles={"all": matrices}, vehicle_profile={v: "all" for v in vehicle_ids})


def _rows_per_chunk(n_nodes: int, arrays: int, budget_bytes: int) -> int:
    return max(1, budget_bytes // max(1, n_nodes * 8 * arrays))


def node_matrices(network: RoadNetwork, sources: np.ndarray, targets: np.ndarray, *,
                  routing: RoutingGraph | None = None,
                  chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Quickest-path times (s) and their lengths (m) from each source to each target node.

    Returns two ``(len(sources), len(targets))`` arrays, ``inf`` where no path exists.
    Parallel edges count as their quickest one. ``routing`` is the road graph driven
    (default: every street of the network).
    """
    graph = routing or routing_graph(network)
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    n = network.n_nodes
    times = np.empty((len(sources), len(targets)))
    lengths = np.empty_like(times)
    # CSR entries keyed u*n+v, for looking up the length of a tree edge (pred -> node)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.csr_time.indptr))
    pair_key = rows * n + graph.csr_time.indices
    pair_len = graph.csr_length.data
    step = _rows_per_chunk(n, 6, chunk_bytes)
    for start in range(0, len(sources), step):
        chunk = sources[start:start + step]
        t, pred = dijkstra(graph.csr_time, directed=True, indices=chunk, return_predecessors=True)
        times[start:start + len(chunk)] = t[:, targets]
        lengths[start:start + len(chunk)] = _tree_lengths(pred, pair_key, pair_len, n)[:, targets]
        lengths[start:start + len(chunk)][~np.isfinite(times[start:start + len(chunk)])] = np.inf
    return times, lengths


def _tree_lengths(pred: np.ndarray, pair_key: np.ndarray, pair_len: np.ndarray, n: int) -> np.ndarray:
    """Length (m) of the tree path from each row's source to every node, by pointer doubling."""
    m = pred.shape[0]
    nodes = np.broadcast_to(np.arange(n, dtype=np.int64), (m, n))
    has_pred = pred != _NO_PRED
    up = np.where(has_pred, pred, nodes).astype(np.int64)
    step_len = np.zeros((m, n))
    keys = up[has_pred] * n + nodes[has_pred]
    step_len[has_pred] = pair_len[np.searchsorted(pair_key, keys)]
    row = np.arange(m)[:, None]
    while True:
        nxt = up[row, up]
        step_len = step_len + step_len[row, up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    return step_len


@dataclass(frozen=True)
class Legs:
    """How snapped points are joined: the data behind :class:`TravelMatrices`.

    Each point has two slots (ways of being on its street: the snapped edge and, on a
    two-way street, its twin; a one-way street repeats the first). ``slot_edge`` and
    ``slot_fraction`` are ``(n, 2)``; ``node_time``/``node_length`` are quickest paths
    on ``routing`` (the road graph of the access profile with key ``profile_key``; other
    profiles may drive the same streets) from every slot's
    exit node (``src_index``) to every slot's entry node (``dst_index``). Points the
    profile cannot use (not ``ok``, on a street closed to it, or cut off from the
    anchors in its graph) have ``valid`` False.
    """

    network: RoadNetwork
    routing: RoutingGraph
    profile_key: str
    valid: np.ndarray
    slot_edge: np.ndarray
    slot_fraction: np.ndarray
    src_nodes: np.ndarray
    dst_nodes: np.ndarray
    src_index: np.ndarray
    dst_index: np.ndarray
    node_time: np.ndarray
    node_length: np.ndarray

    def candidates(self, p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times (s), lengths (m) and direct flags of the four ways from ``p`` to ``q``.

        ``p`` and ``q`` are equal-length index arrays; each result is ``(len(p), 4)``,
        column ``2*a + b`` leaving by slot ``a`` of ``p`` and arriving by slot ``b`` of ``q``.
        """
        net = self.network
        times = np.empty((len(p), 4))
        lengths = np.empty((len(p), 4))
        direct = np.zeros((len(p), 4), dtype=bool)
        for a in range(2):
            ea, fa = self.slot_edge[p, a], self.slot_fraction[p, a]
            out_t = (1.0 - fa) * net.edge_time_s[ea]
            out_l = (1.0 - fa) * net.edge_length_m[ea]
            src = self.src_index[p, a]
            for b in range(2):
                eb, fb = self.slot_edge[q, b], self.slot_fraction[q, b]
                dst = self.dst_index[q, b]
                t = out_t + self.node_time[src, dst] + fb * net.edge_time_s[eb]
                d = out_l + self.node_length[src, dst] + fb * net.edge_length_m[eb]
                same = (ea == eb) & (fb >= fa)
                t_direct = (fb - fa) * net.edge_time_s[ea]
                use = same & (t_direct <= t)
                col = 2 * a + b
                times[:, col] = np.where(use, t_direct, t)
                lengths[:, col] = np.where(use, (fb - fa) * net.edge_length_m[ea], d)
                direct[:, col] = use
        return times, lengths, direct

    def choose(self, p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The chosen way for each pair: (time s, length m, column 2*a+b, direct flag)."""
        times, lengths, direct = self.candidates(p, q)
        col = np.argmin(times, axis=1)
        rows = np.arange(len(p))
        return times[rows, col], lengths[rows, col], col, direct[rows, col]


def build_legs(network: RoadNetwork, snapped: SnappedPoints, *, profile: AccessProfile | None = None,
               anchors: Sequence[int] | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Legs:
    """Slots of every snapped point and the quickest node paths between them, driving the
    streets open to ``profile`` (default: unrestricted, every street).

    ``anchors`` (point indices, normally the depots) restrict the valid points to the
    strongly connected parts of the profile's graph that hold an anchor; without them
    every ``ok`` point on an open street is valid.
    """
    profile = profile or UNRESTRICTED
    routing = routing_graph(network, profile)
    valid = usable_by(network, snapped, routing, anchors)
    n = len(snapped)
    first = np.where(valid, snapped.edge, 0)
    twin = network.edge_twin[first]
    twin = np.where((twin >= 0) & routing.allowed[np.maximum(twin, 0)], twin, -1)  # a twin shares its tags
    second = np.where(twin >= 0, twin, first)
    slot_edge = np.column_stack([first, second])
    slot_fraction = np.column_stack([snapped.fraction, np.where(twin >= 0, 1.0 - snapped.fraction,
                                                                snapped.fraction)])
    exit_nodes = network.edge_v[slot_edge]
    entry_nodes = network.edge_u[slot_edge]
    src_nodes, src_index = np.unique(exit_nodes[valid], return_inverse=True)
    dst_nodes, dst_index = np.unique(entry_nodes[valid], return_inverse=True)
    full_src = np.zeros((n, 2), dtype=np.int64)
    full_dst = np.zeros((n, 2), dtype=np.int64)
    full_src[valid] = src_index.reshape(-1, 2)
    full_dst[valid] = dst_index.reshape(-1, 2)
    if len(src_nodes):
        node_time, node_length = node_matrices(network, src_nodes, dst_nodes, routing=routing,
                                               chunk_bytes=chunk_bytes)
    else:
        node_time = node_length = np.full((1, 1), np.inf)
    return Legs(network=network, routing=routing, profile_key=profile.key, valid=valid,
                slot_edge=slot_edge, slot_fraction=slot_fraction,
                src_nodes=src_nodes, dst_nodes=dst_nodes, src_index=full_src, dst_index=full_dst,
                node_time=node_time, node_length=node_length)


def travel_matrices(legs: Legs, *, rows_per_chunk: int = 512) -> TravelMatrices:
    """Duration (s) and distance (m) matrices between all points of ``legs``.

    Points that are not ``ok`` get ``inf`` rows and columns (0 on the diagonal).
    """
    started = time.perf_counter()
    n = legs.valid.shape[0]
    duration = np.full((n, n), np.inf)
    distance = np.full((n, n), np.inf)
    ok = np.flatnonzero(legs.valid)
    for start in range(0, len(ok), rows_per_chunk):
        rows = ok[start:start + rows_per_chunk]
        p = np.repeat(rows, len(ok))
        q = np.tile(ok, len(rows))
        t, d, _, _ = legs.choose(p, q)
        duration[p, q] = t
        distance[p, q] = d
    np.fill_diagonal(duration, 0.0)
    np.fill_diagonal(distance, 0.0)
    log.info("matrix %dx%d in %.3f s", n, n, time.perf_counter() - started)
    return TravelMatrices(duration_s=duration, distance_m=distance)


class _FleetVehicle(SizedVehicle, Protocol):
    @property
    def id(self) -> str: ...


def fleet_matrices(network: RoadNetwork, snapped: SnappedPoints, vehicles: Iterable[_FleetVehicle], *,
                   anchors: Sequence[int] | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES
                   ) -> tuple[FleetMatrices, dict[str, Legs]]:
    """Travel matrices for every vehicle, one build per set of streets the fleet may drive.

    Each vehicle drives the streets its :meth:`AccessProfile.of` profile allows.
    Vehicles whose profiles this network's tags do not tell apart (every lorry, where no
    street is tagged) share one build, one :class:`Legs` and one :class:`TravelMatrices`,
    under one key of ``FleetMatrices.profiles``: ``unrestricted`` when they may drive
    every street, else the :attr:`AccessProfile.key` of the first such vehicle in fleet
    order. ``anchors`` are the depots' point indices (see :func:`build_legs`). Returns
    the matrices and the legs under the same keys, for drawing.
    """
    vehicle_profile: dict[str, str] = {}
    legs: dict[str, Legs] = {}
    matrices: dict[str, TravelMatrices] = {}
    key_of_graph: dict[int, str] = {}
    for vehicle in vehicles:
        profile = AccessProfile.of(vehicle)
        graph = routing_graph(network, profile)
        key = key_of_graph.get(id(graph))
        if key is None:
            key = profile.key if graph.restricted else UNRESTRICTED.key
            key_of_graph[id(graph)] = key
            legs[key] = build_legs(network, snapped, profile=profile, anchors=anchors, chunk_bytes=chunk_bytes)
            matrices[key] = travel_matrices(legs[key])
        vehicle_profile[vehicle.id] = key
    if not matrices:
        legs[UNRESTRICTED.key] = build_legs(network, snapped, anchors=anchors, chunk_bytes=chunk_bytes)
        matrices[UNRESTRICTED.key] = travel_matrices(legs[UNRESTRICTED.key])
    log.info("fleet matrices: %d vehicle(s) on %d set(s) of streets: %s", len(vehicle_profile), len(matrices),
             ", ".join(matrices))
    return FleetMatrices(profiles=matrices, vehicle_profile=vehicle_profile), legs
