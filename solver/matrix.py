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

The node-to-node part has two backends (:func:`node_matrices`): scipy's sparse-graph
Dijkstra (the reference, exact), and contraction hierarchies (:mod:`solver.matrix_ch`,
times within milliseconds, lengths within metres), which ``auto`` picks for large
matrices (:func:`choose_backend`). Both run in chunks of sources so memory stays bounded.

Access: a vehicle drives only the streets its size allows
(:func:`solver.network.routing_graph` of its :class:`~solver.network.AccessProfile`).
:func:`build_legs` for a profile runs Dijkstra on that profile's graph, and a point
whose street is closed to the profile, or cut off from the depots in its graph, gets
``inf`` rows and columns. :func:`fleet_matrices` builds one set per profile of the
fleet, shared by vehicles whose profiles the network's tags do not tell apart.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from solver import matrix_ch
from solver.matrix_chains import JunctionGraph
from solver.matrix_drives import NodeDrives, equal_pairs
from solver.matrix_turns import end_to_start, slot_reachable
from solver.network import (
    UNRESTRICTED,
    AccessProfile,
    RoadNetwork,
    RoutingGraph,
    SizedVehicle,
    TurnGraph,
    TurnPolicy,
    routing_graph,
    turn_graph,
)
from solver.snapping import SnappedPoints, usable_by

log = logging.getLogger(__name__)

#: the turn rules of a UK refuse lorry, the default of every matrix.
LORRY_TURNS = TurnPolicy()
#: memory budget for one chunk of Dijkstra rows (bytes).
DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024


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

    ``directed`` (optional, per profile key) extends each profile's matrices with rows for the
    directions of travel past some locations: ``direction_rows[row]`` lists the rows of location
    ``row`` driven past one way and the other (the first is the location's own row), so that the
    direction of each can be chosen once a route's order is known
    (:func:`solver.pipeline.large.stop_directions`).
    """

    profiles: dict[str, TravelMatrices]
    vehicle_profile: dict[str, str]
    directed: dict[str, TravelMatrices] = field(default_factory=dict)
    direction_rows: dict[int, tuple[int, ...]] = field(default_factory=dict)

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


#: matrix backends: ``scipy`` (Dijkstra, the reference) and ``ch`` (contraction hierarchies).
BACKENDS = ("scipy", "ch")
#: let :func:`choose_backend` pick.
AUTO = "auto"
#: ``auto`` picks ``ch`` from this many (sources x graph nodes) on: below it scipy takes a few
#: hundredths of a second and the hierarchy's one-off build (0.2-0.4 s on Rutland, kept on the
#: network) would not pay. Once built, the CCH is 20-30 times quicker at every size: turn-aware
#: legs of simplified Rutland, 10 points 0.13 s (scipy) against 0.004 s, 200 points 2.2 s
#: against 0.05 s, 800 points 13.7 s against 0.6 s (load average about 4; it was 5,000,000, which
#: sent each round's legs after the search, ~650 bins, to scipy: 1.9 s a round on the Oakham case).
CH_FROM_WORK = 100_000
#: resolution of the time part of scipy's lexicographic pass (s).
_LEX_TIME_UNIT_S = 0.001


def choose_backend(backend: str, n_sources: int, n_nodes: int) -> str:
    """The backend to run: ``backend`` itself, or for ``auto`` ``ch`` when pyroutingkit is
    installed and the work (``n_sources * n_nodes``) reaches :data:`CH_FROM_WORK`, else ``scipy``."""
    if backend == AUTO:
        return "ch" if matrix_ch.available() and n_sources * n_nodes >= CH_FROM_WORK else "scipy"
    if backend not in BACKENDS:
        raise ValueError(f"unknown matrix backend {backend!r}; choose from {', '.join((AUTO, *BACKENDS))}")
    if backend == "ch" and not matrix_ch.available():
        raise ValueError("matrix backend 'ch' needs pyroutingkit, which is not installed")
    return backend


def node_matrices(network: RoadNetwork, sources: np.ndarray, targets: np.ndarray, *,
                  routing: RoutingGraph | TurnGraph | JunctionGraph | None = None,
                  chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                  backend: str = "scipy") -> tuple[np.ndarray, np.ndarray]:
    """Quickest-path times (s) and their lengths (m) from each source to each target node.

    Returns two ``(len(sources), len(targets))`` arrays, ``inf`` where no path exists.
    ``routing`` is the graph driven: a road graph (nodes are the network's nodes; parallel
    edges count as their quickest one; default every street of the network) or a
    turn-aware one (nodes are ends of edges, :class:`~solver.network.TurnGraph`), or the junction
    nodes of one (:class:`~solver.matrix_chains.JunctionGraph`).
    ``backend``: ``scipy`` (the reference, exact), ``ch`` (:mod:`solver.matrix_ch`, times
    within milliseconds, lengths within metres) or ``auto`` (:func:`choose_backend`).
    """
    graph = routing or routing_graph(network)
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    n = graph.csr_time.shape[0]
    if choose_backend(backend, len(sources), n) == "ch":
        return matrix_ch.hierarchy(network, graph).node_matrices(sources, targets, chunk_bytes=chunk_bytes)
    return _scipy_node_matrices(graph, sources, targets, chunk_bytes)


def _scipy_node_matrices(graph: RoutingGraph | TurnGraph | JunctionGraph, sources: np.ndarray, targets: np.ndarray,
                         chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """scipy's Dijkstra in two passes over chunks of sources: exact float times, then a
    lexicographic pass (:func:`_lexicographic_csr`, one packing for all chunks, so the
    result does not depend on the chunking) whose packed sums give the length (m) of
    the quickest path, to well under a millimetre."""
    n = graph.csr_time.shape[0]
    times = np.empty((len(sources), len(targets)))
    lengths = np.empty_like(times)
    step = _rows_per_chunk(n, 1, chunk_bytes)
    for start in range(0, len(sources), step):
        chunk = sources[start:start + step]
        times[start:start + len(chunk)] = dijkstra(graph.csr_time, directed=True, indices=chunk)[:, targets]
    finite = np.isfinite(times)
    positive = graph.csr_time.data > 0
    max_speed = float((graph.csr_length.data[positive] / graph.csr_time.data[positive]).max()
                      if positive.any() else 1.0)
    lex, length_bits, length_unit = _lexicographic_csr(graph, float(np.max(times, where=finite, initial=0.0)),
                                                       max_speed, n)
    for start in range(0, len(sources), step):
        chunk = sources[start:start + step]
        rows = slice(start, start + len(chunk))
        packed = dijkstra(lex, directed=True, indices=chunk)[:, targets]
        packed[~finite[rows]] = 0.0
        d = np.fmod(packed, float(2**length_bits))
        d *= length_unit
        d[~finite[rows]] = np.inf
        lengths[rows] = d
    return times, lengths


def _lexicographic_csr(graph: RoutingGraph | TurnGraph | JunctionGraph, max_time_s: float, max_speed_mps: float,
                       n_nodes: int) -> tuple[sp.csr_array, int, float]:
    """The routing graph with each arc weighted ``round(t / 1 ms) * 2**bits + round(l / unit)``,
    exact integers in float64 for paths up to ``max_time_s``: its shortest path is the
    shortest of the quickest paths (at 1 ms per arc) and ``sum mod 2**bits`` times ``unit``
    its length (m). A simple path has fewer than ``n_nodes`` arcs, each rounded by at
    most half a unit, which the bit budget (53 bits) allows for. Returns the graph,
    ``bits`` and ``unit`` (m)."""
    slack = 0.5 * n_nodes
    time_q_max = max_time_s / _LEX_TIME_UNIT_S + slack + 1.0
    length_bits = 52 - math.ceil(math.log2(time_q_max + 1.0))
    max_length = max(max_speed_mps, 1.0) * (max_time_s + _LEX_TIME_UNIT_S * n_nodes) + 1.0
    length_unit = max_length / max(2.0**length_bits - 1.0 - slack, 1.0)
    weight = (np.rint(graph.csr_time.data / _LEX_TIME_UNIT_S) * 2.0**length_bits
              + np.rint(graph.csr_length.data / length_unit))
    lex = sp.csr_array((weight, graph.csr_time.indices, graph.csr_time.indptr), shape=graph.csr_time.shape)
    return lex, length_bits, length_unit


@dataclass(frozen=True)
class Legs:
    """How snapped points are joined: the data behind :class:`TravelMatrices`.

    Each point has two slots (ways of being on its street, each a direction of travel: the
    snapped edge and, on a two-way street, its twin; a one-way street repeats the first, and
    so does a point whose direction is fixed). ``slot_edge`` and ``slot_fraction`` are
    ``(n, 2)``; ``node_time``/``node_length`` are quickest drives on ``routing`` (the road
    graph of the access profile with key ``profile_key``; other profiles may drive the same
    streets) from every slot's exit (``src_index``) to every slot's entry (``dst_index``),
    float64 from the scipy backend, float32 from the CCH, kept in ``drives``
    (:class:`~solver.matrix_drives.NodeDrives`: on the turn-aware graph the small table between
    junction nodes they expand from, which :func:`travel_matrices` reads without expanding it).

    Without ``turns`` the exits and entries are nodes of the road graph (the end node of a
    slot's edge, its start node) and turning is free. With ``turns`` (the turn-aware graph,
    :class:`~solver.network.TurnGraph`) they are the slot edges themselves and the drives
    between them obey the turn rules (:mod:`solver.matrix_turns`): ``node_time[i, j]`` runs
    from the end of edge ``src_nodes[i]`` to the start of edge ``dst_nodes[j]``.

    Points the profile cannot use (not ``ok``, on a street closed to it, or cut off from the
    anchors in its graph) have ``valid`` False; ``cut_by_turns`` marks those among them that
    only the turn rules cut off (no slot reachable without a U-turn where a lorry cannot
    turn, or a banned turn).
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
    drives: NodeDrives
    turns: TurnGraph | None = None
    cut_by_turns: np.ndarray | None = None

    @property
    def node_time(self) -> np.ndarray:
        """Quickest times (s) from every slot's exit to every slot's entry (the whole table, expanded
        from ``drives`` on first use)."""
        return self.drives.times

    @property
    def node_length(self) -> np.ndarray:
        """The lengths (m) of the drives of :attr:`node_time`."""
        return self.drives.lengths

    def with_slots(self, chosen: np.ndarray) -> Legs:
        """These legs with the direction of some points fixed: ``chosen[i]`` is ``0`` or ``1``
        (point ``i`` is driven past in that slot's direction, arriving and leaving alike) or
        ``-1`` (both kept). No drive is recomputed."""
        return self.select(np.arange(self.valid.shape[0]), chosen)

    def select(self, points: np.ndarray, slots: np.ndarray) -> Legs:
        """Legs over ``points`` (indices, repeats allowed) in that order, point ``k`` driven past in
        slot ``slots[k]`` (``-1``: both kept). No drive is recomputed."""
        points = np.asarray(points, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64)
        arrays: dict[str, Any] = {"valid": self.valid[points]}
        if self.cut_by_turns is not None:
            arrays["cut_by_turns"] = self.cut_by_turns[points]
        fixed = np.flatnonzero(slots >= 0)
        for name in ("slot_edge", "slot_fraction", "src_index", "dst_index"):
            a = getattr(self, name)[points]
            a[fixed] = a[fixed, slots[fixed]][:, None]
            arrays[name] = a
        return replace(self, **arrays)

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
                node_t, node_l = self.drives.at(src, dst)
                t = out_t + node_t + fb * net.edge_time_s[eb]
                d = out_l + node_l + fb * net.edge_length_m[eb]
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
               anchors: Sequence[int] | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
               backend: str = AUTO, turns: TurnPolicy | None = LORRY_TURNS,
               approach: np.ndarray | None = None) -> Legs:
    """Slots of every snapped point and the quickest drives between them, on the streets open
    to ``profile`` (default: unrestricted, every street), obeying the turn rules of ``turns``
    (default: a UK lorry's; ``None`` routes on the road graph with free turns).

    ``anchors`` (point indices, normally the depots) restrict the valid points to the
    strongly connected parts of the profile's graph that hold an anchor; without them
    every ``ok`` point on an open street is valid. ``approach`` fixes the direction some
    points may be driven past (``0``: along the snapped edge, ``1``: along its twin, ``-1``:
    either; see :mod:`solver.nearside`). ``backend`` computes the drives (see
    :func:`node_matrices`; ``auto`` by default).
    """
    profile = profile or UNRESTRICTED
    routing = routing_graph(network, profile)
    valid = usable_by(network, snapped, routing, anchors)
    first = np.where(valid, snapped.edge, 0)
    twin = network.edge_twin[first]
    twin = np.where((twin >= 0) & routing.allowed[np.maximum(twin, 0)], twin, -1)  # a twin shares its tags
    second = np.where(twin >= 0, twin, first)
    slot_edge = np.column_stack([first, second])
    slot_fraction = np.column_stack([snapped.fraction, np.where(twin >= 0, 1.0 - snapped.fraction,
                                                                snapped.fraction)])
    usable = np.repeat(valid[:, None], 2, axis=1)
    if approach is not None:
        approach = np.asarray(approach, dtype=np.int64)
        usable[:, 0] &= approach != 1
        usable[:, 1] &= approach != 0
    graph = turn_graph(network, routing, turns) if turns is not None else None
    if graph is not None:
        usable &= slot_reachable(graph, slot_edge, valid, None if anchors is None else [int(a) for a in anchors])
    cut = valid & ~usable.any(axis=1)
    valid = valid & usable.any(axis=1)
    for keep, drop in ((0, 1), (1, 0)):  # a point with one usable slot is driven past in that direction only
        only = usable[:, keep] & ~usable[:, drop]
        slot_edge[only, drop] = slot_edge[only, keep]
        slot_fraction[only, drop] = slot_fraction[only, keep]
    if graph is not None:
        exit_nodes, entry_nodes = slot_edge, slot_edge
    else:
        exit_nodes, entry_nodes = network.edge_v[slot_edge], network.edge_u[slot_edge]
    src_nodes, src_index, dst_nodes, dst_index = _indexed(exit_nodes, entry_nodes, valid)
    if len(src_nodes):
        def query(on: RoutingGraph | JunctionGraph, sources: np.ndarray, targets: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
            return node_matrices(network, sources, targets, routing=on, chunk_bytes=chunk_bytes, backend=backend)

        if graph is not None:
            drives = end_to_start(network, graph, src_nodes, dst_nodes, _shared_edges(slot_edge[valid]), query)
        else:
            drives = NodeDrives.table(*query(routing, src_nodes, dst_nodes))
    else:
        drives = NodeDrives.table(np.full((1, 1), np.inf), np.full((1, 1), np.inf))
    return Legs(network=network, routing=routing, profile_key=profile.key, valid=valid,
                slot_edge=slot_edge, slot_fraction=slot_fraction,
                src_nodes=src_nodes, dst_nodes=dst_nodes, src_index=src_index, dst_index=dst_index,
                drives=drives, turns=graph, cut_by_turns=cut)


def _indexed(exits: np.ndarray, entries: np.ndarray, valid: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct exits and entries of the valid points' slots, and each slot's index into them
    (``(n, 2)``, 0 for invalid points)."""
    n = valid.shape[0]
    src_nodes, src_index = np.unique(exits[valid], return_inverse=True)
    dst_nodes, dst_index = np.unique(entries[valid], return_inverse=True)
    full_src = np.zeros((n, 2), dtype=np.int64)
    full_dst = np.zeros((n, 2), dtype=np.int64)
    full_src[valid] = src_index.reshape(-1, 2)
    full_dst[valid] = dst_index.reshape(-1, 2)
    return src_nodes, full_src, dst_nodes, full_dst


def _shared_edges(slot_edge: np.ndarray) -> np.ndarray:
    """Edges on which two or more points have a slot (a point's repeated slot counted once)."""
    edges = np.concatenate([slot_edge[:, 0], slot_edge[slot_edge[:, 1] != slot_edge[:, 0], 1]])
    unique, counts = np.unique(edges, return_counts=True)
    return unique[counts >= 2]


#: memory budget for one block of rows while :func:`travel_matrices` assembles (bytes).
ASSEMBLY_BLOCK_BYTES = 4 * 1024 * 1024


def travel_matrices(legs: Legs, *, block_bytes: int = ASSEMBLY_BLOCK_BYTES) -> TravelMatrices:
    """Duration (s) and distance (m) matrices between all points of ``legs``.

    Points that are not ``ok`` get ``inf`` rows and columns (0 on the diagonal). The
    same choice as :meth:`Legs.choose`, in bulk and in two stages per block of source
    points (rows, at most ``block_bytes`` of working arrays): first, from each source
    point to every entry node, the quicker of its two exit nodes; then, to each target
    point, the quicker of its two entry nodes. Each stage keeps
    the length of the way it chose, so the distance is that of the chosen drive. The
    node figures keep their own precision (float64 from scipy, float32 from the CCH).

    Turn-aware legs keep their drives factored on a table between junction nodes
    (:class:`~solver.matrix_drives.NodeDrives`): the stages then run on that table, each exit's
    and entry's sums added to the point's own part of its edge, so the table between the slots'
    edges (3,411 x 3,411 for 2,000 points on unsimplified Rutland) is never expanded; the point
    pairs that meet an excepted pair of edges (on one stretch of street, an edge to itself) are
    then chosen again from :meth:`NodeDrives.at`, as the stages on the whole table would.
    Then the few pairs on one street in driving order get their direct drive when it
    is quicker.
    """
    started = time.perf_counter()
    n = legs.valid.shape[0]
    ok = np.flatnonzero(legs.valid)
    every = len(ok) == n
    duration = np.empty((n, n)) if every else np.full((n, n), np.inf)
    distance = np.empty((n, n)) if every else np.full((n, n), np.inf)
    drives = legs.drives
    dtype = drives.dtype
    net = legs.network
    edge_t = net.edge_time_s[legs.slot_edge]
    edge_l = net.edge_length_m[legs.slot_edge]
    fraction = legs.slot_fraction
    out_t, out_l = ((1.0 - fraction) * edge_t).astype(dtype), ((1.0 - fraction) * edge_l).astype(dtype)
    in_t, in_l = (fraction * edge_t).astype(dtype), (fraction * edge_l).astype(dtype)
    exits, leave_t, leave_l = legs.src_index, out_t, out_l
    entries, arrive_t, arrive_l = legs.dst_index[ok], in_t[ok], in_l[ok]
    if not drives.plain:  # each slot's sums join its own part of its edge; the rows and columns are the core's
        exits = drives.row_of[legs.src_index]
        leave_t = out_t + drives.row_add[0][legs.src_index]
        leave_l = out_l + drives.row_add[1][legs.src_index]
        entries = drives.col_of[entries]
        arrive_t = arrive_t + drives.col_add[0][legs.dst_index[ok]]
        arrive_l = arrive_l + drives.col_add[1][legs.dst_index[ok]]
    width = drives.core_t.shape[1]
    per_row = (2 * width + 3 * len(ok)) * dtype.itemsize + width + len(ok)
    height = max(1, block_bytes // max(1, per_row))
    for start in range(0, len(ok), height):
        rows = ok[start:start + height]
        # stage 1: from each source point to each entry node, by the quicker of its exit nodes
        point_to_node = _quicker_of_two(drives.core_t, drives.core_l, exits[rows], leave_t[rows], leave_l[rows],
                                        axis=0)
        # stage 2: to each target point, by the quicker of its entry nodes
        t, d = _quicker_of_two(*point_to_node, entries, arrive_t, arrive_l, axis=1)
        if every:
            duration[rows] = t
            distance[rows] = d
        else:
            duration[np.ix_(rows, ok)] = t
            distance[np.ix_(rows, ok)] = d
    if not drives.plain:
        p, q = _meeting_excepted_pairs(legs)
        duration[p, q], distance[p, q] = _stages_at(legs, p, q, (out_t, out_l), (in_t, in_l))
    _direct_drives(legs, duration, distance)
    np.fill_diagonal(duration, 0.0)
    np.fill_diagonal(distance, 0.0)
    log.info("matrix %dx%d in %.3f s", n, n, time.perf_counter() - started)
    return TravelMatrices(duration_s=duration, distance_m=distance)


def _meeting_excepted_pairs(legs: Legs) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of valid points ``(p, q)`` (each once) with a slot of ``p`` leaving by the exit and a
    slot of ``q`` arriving by the entry of one of ``legs.drives``' excepted pairs."""
    ok = np.flatnonzero(legs.valid)
    i, j = legs.drives.pairs()
    point = np.repeat(ok, 2)
    k, a = equal_pairs(i, legs.src_index[ok].ravel())
    m, b = equal_pairs(j[k], legs.dst_index[ok].ravel())
    n = legs.valid.shape[0]
    key = np.unique(point[a[m]] * n + point[b])
    return np.divmod(key, n)


def _stages_at(legs: Legs, p: np.ndarray, q: np.ndarray, out: tuple[np.ndarray, np.ndarray],
               into: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Duration (s) and distance (m) from points ``p`` to points ``q`` as the two stages of
    :func:`travel_matrices` choose them on the whole table (the same sums in the same order, the
    same way on a tie), their figures from :meth:`NodeDrives.at`; ``out`` and ``into`` are the
    points' parts of their slot edges after and before them (s, m; ``(n, 2)``)."""
    by_entry: list[tuple[np.ndarray, np.ndarray]] = []
    for b in range(2):
        entry = legs.dst_index[q, b]
        best_t, best_l = legs.drives.at(legs.src_index[p, 0], entry)
        best_t = best_t + out[0][p, 0]
        best_l = best_l + out[1][p, 0]
        other_t, other_l = legs.drives.at(legs.src_index[p, 1], entry)
        other_t = other_t + out[0][p, 1]
        other_l = other_l + out[1][p, 1]
        second = other_t < best_t
        by_entry.append((np.minimum(best_t, other_t) + into[0][q, b],
                         np.where(second, other_l, best_l) + into[1][q, b]))
    (t0, l0), (t1, l1) = by_entry
    return np.minimum(t0, t1), np.where(t1 < t0, l1, l0)


def _quicker_of_two(times: np.ndarray, lengths: np.ndarray, index: np.ndarray, add_t: np.ndarray,
                    add_l: np.ndarray, *, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Along ``axis`` of ``times``/``lengths``, for each of the ``len(index)`` items the quicker of two
    ways: way ``k`` takes the slice ``index[:, k]`` plus ``add_t[:, k]`` (s) and ``add_l[:, k]`` (m).
    Returns the quicker times and the lengths of the same ways (the first way on a tie)."""
    shape = (1, -1) if axis == 1 else (-1, 1)
    best_t = np.take(times, index[:, 0], axis=axis)
    best_t += add_t[:, 0].reshape(shape)
    other_t = np.take(times, index[:, 1], axis=axis)
    other_t += add_t[:, 1].reshape(shape)
    second = other_t < best_t
    np.minimum(best_t, other_t, out=best_t)
    del other_t
    best_l = np.take(lengths, index[:, 0], axis=axis)
    best_l += add_l[:, 0].reshape(shape)
    other_l = np.take(lengths, index[:, 1], axis=axis)
    other_l += add_l[:, 1].reshape(shape)
    np.copyto(best_l, other_l, where=second)
    return best_t, best_l


def _direct_drives(legs: Legs, duration: np.ndarray, distance: np.ndarray) -> None:
    """Put the direct drive along one street into the matrices where it is quicker: for
    points ``p``, ``q`` with slots on the same edge, ``q`` no earlier than ``p``."""
    ok = np.flatnonzero(legs.valid)
    point = np.repeat(ok, 2)
    slot_edge = legs.slot_edge[ok].ravel()
    fraction = legs.slot_fraction[ok].ravel()
    keep = np.ones(len(point), dtype=bool)
    keep[1::2] = legs.slot_edge[ok, 1] != legs.slot_edge[ok, 0]  # a one-way street repeats its slot
    order = np.flatnonzero(keep)[np.argsort(slot_edge[keep], kind="stable")]
    point, slot_edge, fraction = point[order], slot_edge[order], fraction[order]
    # every ordered pair of slots on one edge: each slot k meets the slots of its group
    starts = np.flatnonzero(np.r_[True, slot_edge[1:] != slot_edge[:-1]])
    sizes = np.diff(np.r_[starts, len(slot_edge)])
    group_start = np.repeat(starts, sizes)
    group_size = np.repeat(sizes, sizes)
    shared = group_size > 1
    k = np.flatnonzero(shared)
    first = np.repeat(k, group_size[k])
    within = np.arange(len(first)) - np.repeat(np.cumsum(group_size[k]) - group_size[k], group_size[k])
    second = group_start[first] + within
    p, q = point[first], point[second]
    gap = fraction[second] - fraction[first]
    ahead = (gap >= 0) & (p != q)
    p, q, gap, edge = p[ahead], q[ahead], gap[ahead], slot_edge[first][ahead]
    t = gap * legs.network.edge_time_s[edge]
    use = t <= duration[p, q]
    duration[p[use], q[use]] = t[use]
    distance[p[use], q[use]] = gap[use] * legs.network.edge_length_m[edge[use]]


class _FleetVehicle(SizedVehicle, Protocol):
    @property
    def id(self) -> str: ...


def fleet_matrices(network: RoadNetwork, snapped: SnappedPoints, vehicles: Iterable[_FleetVehicle], *,
                   anchors: Sequence[int] | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                   backend: str = AUTO, turns: TurnPolicy | None = LORRY_TURNS,
                   approach: np.ndarray | None = None) -> tuple[FleetMatrices, dict[str, Legs]]:
    """Travel matrices for every vehicle, one build per set of streets the fleet may drive.

    Each vehicle drives the streets its :meth:`AccessProfile.of` profile allows.
    Vehicles whose profiles this network's tags do not tell apart (every lorry, where no
    street is tagged) share one build, one :class:`Legs` and one :class:`TravelMatrices`,
    under one key of ``FleetMatrices.profiles``: ``unrestricted`` when they may drive
    every street, else the :attr:`AccessProfile.key` of the first such vehicle in fleet
    order. ``anchors`` are the depots' point indices (see :func:`build_legs`), ``backend``
    the node-path backend (:func:`node_matrices`), ``turns`` and ``approach`` the turn rules and
    fixed directions (:func:`build_legs`). Returns
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
            legs[key] = build_legs(network, snapped, profile=profile, anchors=anchors, chunk_bytes=chunk_bytes,
                                   backend=backend, turns=turns, approach=approach)
            matrices[key] = travel_matrices(legs[key])
        vehicle_profile[vehicle.id] = key
    if not matrices:
        legs[UNRESTRICTED.key] = build_legs(network, snapped, anchors=anchors, chunk_bytes=chunk_bytes,
                                            backend=backend, turns=turns, approach=approach)
        matrices[UNRESTRICTED.key] = travel_matrices(legs[UNRESTRICTED.key])
    log.info("fleet matrices: %d vehicle(s) on %d set(s) of streets: %s", len(vehicle_profile), len(matrices),
             ", ".join(matrices))
    return FleetMatrices(profiles=matrices, vehicle_profile=vehicle_profile), legs
