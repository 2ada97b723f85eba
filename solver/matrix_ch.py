"""Node-to-node quickest times and their lengths by Customizable Contraction Hierarchies.

The fast backend of :mod:`solver.matrix`, on ``pyroutingkit`` (RoutingKit's CCH). A CCH
is built once per road graph (nested dissection, about 0.25 s for the 17,000 nodes of
unsimplified Rutland) and kept on the network; a *metric* (arc weights) is customised
onto it in about a millisecond, and a many-to-many query then answers a whole table.

The library takes one ``uint32`` weight per arc (sums must stay below ``2**31 - 1``)
and answers with the sum of one metric, so the two figures come from two metrics:

* **time**: each arc's time in milliseconds (rounded), so the rounding error of an
  entry is at most half a millisecond per arc of its path (far below 0.01 s on real
  paths) and sums reach 596 hours before the library's limit;
* **length along the quickest path**: a *lexicographic* metric packing a coarse time
  above a length, ``weight = round(t / time_unit) << length_bits | round(l / length_unit)``.
  Its minimum is the shortest of the quickest paths at ``time_unit`` resolution, and
  its low bits are that path's length. The units are chosen per query from the
  largest time the time metric found, so that the packed sums cannot overflow (see
  :func:`lexicographic_units`); on unsimplified Rutland they come out near 0.09 s and
  2 m per arc, so a length is that of a path within about a second of the quickest,
  measured to a few metres (the scipy backend, the reference, is exact).

Query tables are computed in chunks of sources so memory stays within a budget.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from solver.matrix_chains import JunctionGraph
from solver.network import RoadNetwork, RoutingGraph, TurnGraph

try:  # optional: the scipy backend works without it
    import pyroutingkit as _prk
except ImportError:  # pragma: no cover - depends on the installation
    _prk = None

#: the library's "no path" answer; every real sum stays below it.
WEIGHT_LIMIT = 2**31 - 1
#: rounding slack of the lexicographic metric: arcs per path assumed at most (half a unit each).
PATH_ARCS_SLACK = 4096
#: bytes per table entry while a chunk is queried (uint32 tables and masks).
_BYTES_PER_ENTRY = 16
#: the most memory (bytes) one chunk's tables take, whatever budget the caller allows.
CHUNK_BYTES_CAP = 48 * 1024 * 1024


def available() -> bool:
    """Whether ``pyroutingkit`` is installed."""
    return _prk is not None


@dataclass(frozen=True)
class LexicographicUnits:
    """How the length metric packs an arc: ``round(t / time_unit_s) << length_bits | round(l / length_unit_m)``."""

    length_bits: int
    time_unit_s: float
    length_unit_m: float


def lexicographic_units(max_time_s: float, max_speed_mps: float, slack_arcs: int = PATH_ARCS_SLACK
                        ) -> LexicographicUnits:
    """Units of the length metric for paths up to ``max_time_s`` on arcs no faster than ``max_speed_mps``.

    Budget: a path's packed time stays below ``2**(31 - length_bits) - 1`` and its packed
    length below ``2**length_bits`` (so the two never mix), each with half a unit of
    rounding per arc for up to ``slack_arcs`` arcs; the length bound is twice the
    fastest speed times the longest time (the lexicographic path may be slightly slower
    than the quickest). Of the splits of the 31 bits, the one with the finest units
    relative to 0.1 s and 1 m is chosen.
    """
    max_time_s = max(max_time_s, 1.0)
    max_length_m = 2.0 * max(max_speed_mps, 1.0) * max_time_s
    slack = 0.5 * slack_arcs
    best: LexicographicUnits | None = None
    best_score = math.inf
    for length_bits in range(8, 28):
        time_room = 2 ** (31 - length_bits) - 2 - slack
        length_room = 2**length_bits - 1 - slack
        if time_room <= 0 or length_room <= 0:
            continue
        units = LexicographicUnits(length_bits, max_time_s / time_room, max_length_m / length_room)
        score = max(units.time_unit_s / 0.1, units.length_unit_m / 1.0)
        if score < best_score:
            best, best_score = units, score
    if best is None:  # pragma: no cover - only for absurd slack values
        raise ValueError("no split of 31 bits fits the lexicographic metric")
    return best


class ArcGraph(Protocol):
    """A graph the hierarchy is built on: arcs with time (s) and length (m), one per node pair, and
    the strongly connected part of each node (a :class:`~solver.network.RoutingGraph` or a
    :class:`~solver.network.TurnGraph`)."""

    @property
    def csr_time(self) -> sp.csr_array: ...

    @property
    def csr_length(self) -> sp.csr_array: ...

    @property
    def node_component(self) -> np.ndarray: ...


class ContractionHierarchy:
    """A CCH of one graph with its time metric customised.

    Queries from several threads take turns (the length metric is customised per query).
    ``routing`` gives the arcs (one per connected node pair) with their time (s) and
    length (m); ``node_lonlat`` (degrees, one row per node) guides the nested dissection.
    Use :func:`hierarchy` to get the one cached on a network.
    """

    def __init__(self, routing: ArcGraph, node_lonlat: np.ndarray) -> None:
        if _prk is None:
            raise RuntimeError("pyroutingkit is not installed: use the scipy matrix backend")
        csr = routing.csr_time
        n = csr.shape[0]
        tail = np.repeat(np.arange(n, dtype=np.uint32), np.diff(csr.indptr))
        head = np.asarray(csr.indices, dtype=np.uint32)
        self.arc_time_s = np.asarray(csr.data, dtype=np.float64)
        self.arc_length_m = np.asarray(routing.csr_length.data, dtype=np.float64)
        positive = self.arc_time_s > 0
        self.max_speed_mps = float((self.arc_length_m[positive] / self.arc_time_s[positive]).max()
                                   if positive.any() else 1.0)
        self.source_key = z_order(node_lonlat)
        self.topology = _prk.CCHTopology()
        self.topology.build(tail, head, node_lonlat[:, 1].astype(np.float32),
                            node_lonlat[:, 0].astype(np.float32), n)
        self.time_metric = _prk.CCHMetric(self.topology)
        self.time_metric.customize(np.rint(self.arc_time_s * 1000.0).astype(np.uint32))
        self.length_metric = _prk.CCHMetric(self.topology)
        self._lock = threading.Lock()  # the length metric may be re-customised by a query
        self._length_units = self._customise_length(time_bound_s(routing, node_lonlat))

    def _customise_length(self, max_time_s: float) -> LexicographicUnits:
        """Customise the length metric for paths up to ``max_time_s``; returns its units."""
        units = lexicographic_units(max_time_s, self.max_speed_mps)
        time_q = np.rint(self.arc_time_s / units.time_unit_s).astype(np.int64)
        length_q = np.rint(self.arc_length_m / units.length_unit_m).astype(np.int64)
        self.length_metric.customize(((time_q << units.length_bits) | length_q).astype(np.uint32))
        return units

    def _covering_units(self, max_time_s: float) -> LexicographicUnits:
        """The length metric's units when they cover paths up to ``max_time_s``, else re-customised ones."""
        needed = lexicographic_units(max_time_s, self.max_speed_mps)
        if self._length_units.time_unit_s < needed.time_unit_s:
            self._length_units = self._customise_length(max_time_s)
        return self._length_units

    def node_matrices(self, sources: np.ndarray, targets: np.ndarray, *, chunk_bytes: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Quickest times (s) and their lengths (m), ``(len(sources), len(targets))`` float32 arrays
        (the metrics' precision: milliseconds and metres fit), ``inf`` where no path. Sources
        are queried in chunks of at most ``min(chunk_bytes, CHUNK_BYTES_CAP)`` bytes of tables,
        nearby sources one after the other (in :func:`z_order`): a source's search climbs much the
        same part of the hierarchy as its neighbour's, which the cache then still holds (a fifth
        less CPU for the 2,029 x 2,145 junction table of 2,000 points on unsimplified Rutland than
        in the order of the nodes' numbers, a third less than in a random order)."""
        sources = np.asarray(sources, dtype=np.uint32)
        targets = np.asarray(targets, dtype=np.uint32)
        order = np.argsort(self.source_key[sources], kind="stable")
        times = np.empty((len(sources), len(targets)), dtype=np.float32)
        lengths = np.empty_like(times)
        budget = min(chunk_bytes, CHUNK_BYTES_CAP)
        step = max(1, budget // max(1, len(targets) * _BYTES_PER_ENTRY))
        with self._lock, ThreadPoolExecutor(max_workers=1, thread_name_prefix="cch-length") as pool:
            self._query(sources[order], targets, step, times, lengths, pool)
        if np.array_equal(order, np.arange(len(order))):
            return times, lengths
        in_order_t, in_order_l = np.empty_like(times), np.empty_like(lengths)
        in_order_t[order] = times
        in_order_l[order] = lengths
        return in_order_t, in_order_l

    def _query(self, sources: np.ndarray, targets: np.ndarray, step: int, times: np.ndarray,
               lengths: np.ndarray, pool: ThreadPoolExecutor) -> None:
        """Fill ``times`` and ``lengths`` chunk by chunk of ``step`` sources: the lengths are queried and
        unpacked on ``pool`` while this thread queries and converts the times (the library and numpy
        release the GIL), and queried again, re-customised, in the rare chunk whose times the length
        metric's units do not cover."""
        for start in range(0, len(sources), step):
            chunk = sources[start:start + step]
            rows = slice(start, start + len(chunk))
            units = self._length_units
            d = lengths[rows]
            pending = pool.submit(self._lengths_into, chunk, targets, units, d)
            t_ms = self.time_metric.distances_many_to_many(chunk, targets)
            t = times[rows]
            np.multiply(t_ms, np.float32(0.001), out=t, casting="unsafe")
            longest = int(t_ms.max(initial=0))
            none = None
            if longest >= WEIGHT_LIMIT:  # some pairs have no path
                none = t_ms >= WEIGHT_LIMIT
                t[none] = np.inf
                longest = int(np.max(t_ms, where=~none, initial=0))
            pending.result()
            covering = self._covering_units(0.001 * longest)
            if covering is not units:
                self._lengths_into(chunk, targets, covering, d)
            if none is not None:
                d[none] = np.inf

    def _lengths_into(self, sources: np.ndarray, targets: np.ndarray, units: LexicographicUnits,
                      out: np.ndarray) -> None:
        """Query the length metric (customised with ``units``) and write its lengths (m) into ``out``."""
        packed = self.length_metric.distances_many_to_many(sources, targets)
        np.bitwise_and(packed, np.uint32(2**units.length_bits - 1), out=packed)
        np.multiply(packed, np.float32(units.length_unit_m), out=out, casting="unsafe")


def z_order(lonlat: np.ndarray) -> np.ndarray:
    """Each point's place on a Z-order (Morton) curve over the box of ``lonlat`` (degrees, a row per
    point): points near each other mostly come near each other in the order of these keys."""
    if not len(lonlat):
        return np.zeros(0, dtype=np.uint64)
    low, span = lonlat.min(axis=0), np.ptp(lonlat, axis=0)
    grid = ((lonlat - low) / np.where(span > 0, span, 1.0) * 65535).astype(np.uint64)
    key = np.zeros(len(lonlat), dtype=np.uint64)
    for bit in range(16):
        for axis in range(2):
            key |= ((grid[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + axis)
    return key


def time_bound_s(routing: ArcGraph, node_lonlat: np.ndarray) -> float:
    """An upper bound (s) on the quickest time between any two nodes of the largest strongly connected
    part of ``routing``: through its node ``c`` nearest the median of ``node_lonlat`` (degrees), the
    longest quickest time to ``c`` plus the longest from it, by two Dijkstra searches. Pairs outside
    that part may exceed it, so :class:`ContractionHierarchy` checks every query's times against the
    units it customised."""
    csr = routing.csr_time
    if csr.shape[0] == 0:
        return 1.0
    labels, sizes = np.unique(routing.node_component, return_counts=True)
    main = np.flatnonzero(routing.node_component == labels[np.argmax(sizes)])
    offset = np.abs(node_lonlat[main] - np.median(node_lonlat[main], axis=0)).sum(axis=1)
    centre = int(main[np.argmin(offset)])
    out = dijkstra(csr, directed=True, indices=centre)
    back = dijkstra(csr.T.tocsr(), directed=True, indices=centre)
    return float(np.max(out[np.isfinite(out)], initial=0.0) + np.max(back[np.isfinite(back)], initial=0.0))


def hierarchy(network: RoadNetwork, routing: RoutingGraph | TurnGraph | JunctionGraph) -> ContractionHierarchy:
    """The CCH of ``routing`` (a road graph of ``network``, its turn-aware graph, or that graph's
    junction nodes), built on first use and cached on the network. A turn-aware graph's node is
    placed at the middle of its edge."""
    key = ("cch", id(routing))
    cached = network._cached.get(key)
    if cached is None or cached[0] is not routing:
        if isinstance(routing, TurnGraph | JunctionGraph):
            edge = routing.node_edge
            lonlat = 0.5 * (network.node_lonlat[network.edge_u[edge]] + network.node_lonlat[network.edge_v[edge]])
        else:
            lonlat = network.node_lonlat
        cached = (routing, ContractionHierarchy(routing, lonlat))
        network._cached[key] = cached
    return cached[1]
