"""The road graph one access profile may drive, as CSR arrays ready for Dijkstra."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from solver.network.access import UNRESTRICTED, AccessProfile, allowed_edges

if TYPE_CHECKING:
    from solver.network.build import RoadNetwork


def quickest_csr(n: int, edge_u: np.ndarray, edge_v: np.ndarray, edge_time: np.ndarray,
                  edge_length: np.ndarray, edges: np.ndarray
                  ) -> tuple[sp.csr_array, sp.csr_array, np.ndarray, np.ndarray]:
    """CSR time and length of ``edges`` (indices) on ``n`` nodes, one entry per node pair (the
    quickest of parallel edges, never their sum), the edge index of each entry, and the
    strongly-connected-component label of each node."""
    edges = np.asarray(edges, dtype=np.int64)
    order = edges[np.lexsort((edge_time[edges], edge_v[edges], edge_u[edges]))]
    pair = edge_u[order] * n + edge_v[order]
    first = np.concatenate(([True], pair[1:] != pair[:-1])) if order.size else np.zeros(0, dtype=bool)
    best = order[first]
    indptr = np.searchsorted(edge_u[best], np.arange(n + 1)).astype(np.int64)
    csr_time = sp.csr_array((edge_time[best], edge_v[best], indptr), shape=(n, n))
    csr_length = sp.csr_array((edge_length[best], edge_v[best], indptr), shape=(n, n))
    _, component = connected_components(csr_time, directed=True, connection="strong")
    return csr_time, csr_length, best.astype(np.int64), component.astype(np.int64)


@dataclass(frozen=True)
class RoutingGraph:
    """The streets one access profile may drive, ready for Dijkstra.

    ``allowed`` marks the network's edges this graph keeps; ``csr_time`` (s),
    ``csr_length`` (m) and ``csr_edge`` (edge index) hold one entry per node pair (the
    quickest allowed parallel edge) and ``node_component`` labels the strongly
    connected parts of this graph. For a profile every street is open to, these are the
    network's own arrays.
    """

    allowed: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    csr_edge: np.ndarray
    node_component: np.ndarray

    @property
    def restricted(self) -> bool:
        """Whether some edge of the network is left out."""
        return not bool(self.allowed.all())


def routing_graph(network: RoadNetwork, profile: AccessProfile | None = None) -> RoutingGraph:
    """The road graph a vehicle of ``profile`` drives (default: unrestricted, every street).

    Built once per distinct set of allowed edges and cached on the network, so profiles
    that the network's tags do not tell apart share one graph.
    """
    profile = profile or UNRESTRICTED
    key = ("routing", profile.key)
    cached = network._cached.get(key)
    if cached is not None:
        return cached
    allowed = allowed_edges(network, profile)
    restricted = not bool(allowed.all())
    mask_key = ("routing-mask", hashlib.sha256(np.packbits(allowed).tobytes()).hexdigest() if restricted else "all")
    graph = network._cached.get(mask_key)
    if graph is None:
        if restricted:
            csr_time, csr_length, csr_edge, component = quickest_csr(
                network.n_nodes, network.edge_u, network.edge_v, network.edge_time_s, network.edge_length_m,
                np.flatnonzero(allowed))
            graph = RoutingGraph(allowed=allowed, csr_time=csr_time, csr_length=csr_length, csr_edge=csr_edge,
                                 node_component=component)
        else:
            graph = RoutingGraph(allowed=allowed, csr_time=network.csr_time, csr_length=network.csr_length,
                                 csr_edge=network.csr_edge, node_component=network.node_component)
        network._cached[mask_key] = graph
    network._cached[key] = graph
    return graph
