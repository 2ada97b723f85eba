"""Turn-aware node figures for :mod:`solver.matrix`: quickest drives between the *ends of
edges* on a :class:`~solver.network.TurnGraph`, so that every leg obeys the turn rules.

A leg leaves a point by driving the rest of its slot edge ``e`` and arrives at the next by
driving the start of its slot edge ``g``; between them it drives from the end of ``e`` to the
start of ``g``. In the turn graph a node is the end of an edge and an arc into ``g`` includes
driving all of ``g``, so::

    end of e -> start of g  =  D(e, g) - time of g          (e != g)

and for ``e == g`` (the next point lies behind on the same edge) the drive goes round and comes
back into ``e``: the least ``D(e, p) + turn(p, e)`` over the turns ``p -> e`` into it, a
*cycle*, computed only for the edges where two points meet (:func:`end_to_start`).
"""

from __future__ import annotations

import numpy as np

from solver.matrix_chains import Query, junction_table
from solver.matrix_drives import NodeDrives
from solver.network import RoadNetwork, TurnGraph

__all__ = ["Query", "end_to_start", "slot_reachable"]


def slot_reachable(graph: TurnGraph, slot_edge: np.ndarray, valid: np.ndarray,
                   anchors: list[int] | None) -> np.ndarray:
    """``(n, 2)`` mask of the slots a lorry can use: its edge lies in a strongly connected part
    of ``graph`` that holds a slot of an anchor (every slot of a valid point without anchors)."""
    component = graph.node_component[slot_edge]
    usable = np.repeat(valid[:, None], 2, axis=1)
    if anchors is None:
        return usable
    held = [int(a) for a in anchors if valid[int(a)]]
    reachable = np.unique(component[held]) if held else np.zeros(0, dtype=np.int64)
    return usable & np.isin(component, reachable)


def end_to_start(network: RoadNetwork, graph: TurnGraph, src_edges: np.ndarray, dst_edges: np.ndarray,
                 shared: np.ndarray, query: Query) -> NodeDrives:
    """Times (s) and lengths (m) from the end of each of ``src_edges`` to the start of each of
    ``dst_edges`` (both sorted), by ``query`` on ``graph``, asked between junction nodes only
    (:mod:`solver.matrix_chains`), kept factored on that query's table
    (:class:`~solver.matrix_drives.NodeDrives`; its ``times`` and ``lengths`` expand it).

    The cycle of each edge of ``shared`` (edges where two points meet, so that one may lie
    behind the other) comes from the same query: the turns into such an edge start at its
    predecessors, whose entries join the query's targets (a few hundred columns of a table
    between junction nodes). Other entries of an edge to itself are ``inf`` (no leg uses them).
    """
    into = graph.csr_into
    shared = np.intersect1d(np.intersect1d(shared, src_edges), dst_edges)
    arc_count = into.indptr[shared + 1] - into.indptr[shared]
    arc_pos = np.concatenate([np.arange(into.indptr[e], into.indptr[e + 1]) for e in shared.tolist()] or
                             [np.zeros(0, dtype=np.int64)])
    before, col = np.unique(into.indices[arc_pos], return_inverse=True)
    table = junction_table(network, graph, src_edges, np.concatenate([dst_edges, before]), query)
    drives = table.factored(src_edges, dst_edges, target_offset_s=-network.edge_time_s[dst_edges],
                            target_offset_m=-network.edge_length_m[dst_edges]).floored()
    if len(arc_pos):
        edge = np.repeat(shared, arc_count)
        row = np.repeat(np.arange(len(shared)), arc_count)
        times, lengths = table.factored(shared, before).at(row, col)  # only the entries the turns need
        # an arc into the edge is the turn plus the edge itself; the cycle ends at the edge's start
        total = times + into.data[arc_pos] - network.edge_time_s[edge]
        order = np.lexsort((total, edge))
        first = np.concatenate(([True], edge[order][1:] != edge[order][:-1]))
        best = order[first]
        e_row, e_col = np.searchsorted(src_edges, edge[best]), np.searchsorted(dst_edges, edge[best])
        drives = drives.with_pairs(e_row, e_col, np.maximum(total[best], 0), lengths[best])
    return drives
