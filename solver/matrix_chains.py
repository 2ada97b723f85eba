"""Quickest drives on a turn graph between many nodes, asked of the graph's *junction* nodes only.

Most nodes of a turn graph (:class:`~solver.network.TurnGraph`, a node per directed edge) have
one way on: along a street drawn with many vertices, or into a dead end, the only allowed turn
out of an edge is into the next edge of the street (about 85% of the 33,827 edge-nodes of
unsimplified Rutland). From such a node ``e`` every drive starts with that one arc, so::

    D(e, g) = w(e -> s) + D(s, g)          for every g != e

and following the single arcs from ``e`` ends at its *exit* ``x(e)`` (the first node with zero
or several ways on), ``W(e)`` seconds (and metres) later. Likewise every drive into a node
with one way in ends with that arc, back to the *entry* ``y(g)``, ``V(g)`` later. Hence

    D(e, g) = W(e) + D(x(e), y(g)) + V(g)

except for the pairs on one stretch of street, which this module puts right:

* ``g`` lies on the way from ``e`` to its exit: ``D(e, g) = W(e) - W(g)`` (``e == g``: the
  drive round the block, left ``inf`` for the caller);
* else the exit ``x(e)`` lies on the way into ``g`` from its entry:
  ``D(e, g) = W(e) + V(g) - V(x(e))``.

So a matrix between thousands of points' edges is one query between a few hundred to a
couple of thousand junction nodes (1,465 x 1,466 for the 3,411 edges of 2,000 random points
on unsimplified Rutland), expanded with numpy: the same drives, exactly, for either backend.
The query runs on the :class:`JunctionGraph`, the turn graph with its nodes of one way in
and one way on folded into arcs (a quarter of the nodes), which a CCH answers quicker.

Both figures ride along: ``W`` and ``V`` are kept in seconds (time, the turn included) and
metres (length), and the single arcs are part of every drive through them, so the length of
the quickest drive stays that of the same drive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from solver.matrix_drives import NodeDrives, equal_pairs
from solver.network import RoadNetwork, TurnGraph


class Query(Protocol):
    """Times (s) and lengths (m) of the quickest drives between two lists of nodes of ``graph``."""

    def __call__(self, graph: JunctionGraph, sources: np.ndarray, targets: np.ndarray, /
                 ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class Chains:
    """The single-arc runs of a graph in one direction (forward: the one way on; backward: the one
    way in). Per node: ``end`` (the exit, or entry, where its run stops; itself when it has zero
    or several), ``steps`` (arcs to it), ``time_s`` and ``length_m`` (along them), and ``jumps``:
    ``jumps[k][v]`` the node ``2**k`` arcs on from ``v`` (``end[v]`` if fewer remain)."""

    end: np.ndarray
    steps: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    jumps: tuple[np.ndarray, ...]

    def ahead(self, nodes: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """The node ``steps`` arcs on from each of ``nodes`` along its run (``steps`` >= 0)."""
        nodes = nodes.copy()
        for k, jump in enumerate(self.jumps):
            bit = (steps >> k) & 1 == 1
            nodes[bit] = jump[nodes[bit]]
        return nodes

    def on_run(self, start: np.ndarray, node: np.ndarray) -> np.ndarray:
        """Whether each ``node`` lies on the run from the matching ``start`` to its end (``start``
        and the end included)."""
        gap = self.steps[start] - self.steps[node]
        ok = (self.end[start] == self.end[node]) & (gap >= 0)
        ok[ok] = self.ahead(start[ok], gap[ok]) == node[ok]
        return ok


def single_arc_runs(n: int, single: np.ndarray, nxt: np.ndarray, time_s: np.ndarray, length_m: np.ndarray) -> Chains:
    """:class:`Chains` where node ``v`` with ``single[v]`` goes on to ``nxt[v]`` over ``time_s[v]``
    seconds and ``length_m[v]`` metres. A run that never stops (a loop of single arcs, or the way
    into one) is cut: its nodes become ends, which keeps every formula of the module true."""
    rounds = max(1, int(np.ceil(np.log2(max(n, 2)))) + 1)
    nodes = np.arange(n, dtype=np.int64)
    while True:
        step = np.where(single, nxt, nodes)
        t = np.where(single, time_s, 0.0)
        m = np.where(single, length_m, 0.0)
        count = single.astype(np.int64)
        jumps = [step]
        for _ in range(rounds):
            t = t + t[step]
            m = m + m[step]
            count = count + count[step]
            step = step[step]
            jumps.append(step)
        endless = single[step]
        if not endless.any():
            return Chains(end=step, steps=count, time_s=t, length_m=m, jumps=tuple(jumps))
        single = single & ~endless


@dataclass(frozen=True)
class JunctionGraph:
    """A turn graph with the nodes of one way in and one way on folded into the arcs between the
    others (its *junction nodes*: every exit and entry of :func:`chains`): an arc per pair of
    junction nodes joined by a run of such nodes, with the quickest run's time (s) and length (m).
    Drives between junction nodes are the turn graph's, on a graph a quarter of its size (9,147
    nodes of 33,827 on unsimplified Rutland). ``node[k]`` is junction node ``k``'s node of
    ``turns``, ``index`` the reverse (-1 where folded)."""

    turns: TurnGraph
    node: np.ndarray
    index: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    node_component: np.ndarray

    @property
    def node_edge(self) -> np.ndarray:
        """The road network's edge of each junction node."""
        return np.asarray(self.turns.node_edge[self.node])


@dataclass(frozen=True)
class _Arcs:
    """A turn graph's arcs: ``tail``, ``head``, ``time_s``, ``length_m``, and per node its one arc
    out (``one_out``, valid where ``single_out``) and in (``one_in``, where ``single_in``)."""

    tail: np.ndarray
    head: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    single_out: np.ndarray
    one_out: np.ndarray
    single_in: np.ndarray
    one_in: np.ndarray


def _arcs(graph: TurnGraph) -> _Arcs:
    csr_t = graph.csr_time
    n = graph.n_nodes
    tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr_t.indptr))
    head = np.asarray(csr_t.indices, dtype=np.int64)
    one_in = np.zeros(n, dtype=np.int64)
    one_in[head] = np.arange(len(head))  # for a node with one way in, its arc
    return _Arcs(tail=tail, head=head, time_s=np.asarray(csr_t.data, dtype=float),
                 length_m=np.asarray(graph.csr_length.data, dtype=float),
                 single_out=np.diff(csr_t.indptr) == 1, one_out=np.minimum(csr_t.indptr[:-1], max(len(head) - 1, 0)),
                 single_in=np.bincount(head, minlength=n) == 1, one_in=one_in)


def _along(arcs: _Arcs, arc: np.ndarray, to: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node, the arc ``arc`` (its node at the other end ``to``), its time and length; zeros when
    the graph has no arc."""
    if not len(arcs.head):
        return np.zeros(len(arc), dtype=np.int64), np.zeros(len(arc)), np.zeros(len(arc))
    return to[arc], arcs.time_s[arc], arcs.length_m[arc]


def chains(network: RoadNetwork, graph: TurnGraph) -> tuple[Chains, Chains]:
    """The forward and backward :class:`Chains` of ``graph`` (a turn graph of ``network``), built
    once (about 0.05 s on unsimplified Rutland) and cached on the network."""
    return _cached(network, graph)[0]


def junction_graph(network: RoadNetwork, graph: TurnGraph) -> JunctionGraph:
    """The :class:`JunctionGraph` of ``graph`` (a turn graph of ``network``), cached on the network."""
    return _cached(network, graph)[1]


def _cached(network: RoadNetwork, graph: TurnGraph) -> tuple[tuple[Chains, Chains], JunctionGraph]:
    key = ("turn-chains", id(graph))
    cached = network._cached.get(key)
    if cached is not None and cached[0] is graph:
        return cached[1]
    arcs = _arcs(graph)
    n = graph.n_nodes
    forward = single_arc_runs(n, arcs.single_out, *_along(arcs, arcs.one_out, arcs.head))
    backward = single_arc_runs(n, arcs.single_in, *_along(arcs, arcs.one_in, arcs.tail))
    built = ((forward, backward), _junctions(graph, arcs, forward, backward))
    network._cached[key] = (graph, built)
    return built


def _junctions(graph: TurnGraph, arcs: _Arcs, forward: Chains, backward: Chains) -> JunctionGraph:
    """The :class:`JunctionGraph` of ``graph``: every arc out of a junction node followed along the
    folded nodes to the next junction node."""
    n = graph.n_nodes
    kept = np.zeros(n, dtype=bool)
    kept[forward.end] = True
    kept[backward.end] = True
    fold = single_arc_runs(n, arcs.single_out & ~kept, *_along(arcs, arcs.one_out, arcs.head))
    out = kept[arcs.tail]
    tail, head = arcs.tail[out], fold.end[arcs.head[out]]
    time_s = arcs.time_s[out] + fold.time_s[arcs.head[out]]
    length_m = arcs.length_m[out] + fold.length_m[arcs.head[out]]
    # a run from a junction node ends at one (a folded node has one way in, so no run reaches a
    # loop of them); a loop back to its own node is never part of a quickest drive
    keep = kept[head] & (head != tail)
    index = np.full(n, -1, dtype=np.int64)
    node = np.flatnonzero(kept)
    index[node] = np.arange(len(node))
    tail, head, time_s, length_m = index[tail[keep]], index[head[keep]], time_s[keep], length_m[keep]
    order = np.lexsort((length_m, time_s, head, tail))  # of parallel arcs, the quickest (then shortest)
    tail, head, time_s, length_m = tail[order], head[order], time_s[order], length_m[order]
    first = np.r_[True, (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])] if len(tail) else np.zeros(0, bool)
    tail, head, time_s, length_m = tail[first], head[first], time_s[first], length_m[first]
    k = len(node)
    indptr = np.searchsorted(tail, np.arange(k + 1)).astype(np.int64)
    return JunctionGraph(turns=graph, node=node, index=index,
                         csr_time=sp.csr_array((time_s, head, indptr), shape=(k, k)),
                         csr_length=sp.csr_array((length_m, head, indptr), shape=(k, k)),
                         node_component=graph.node_component[node])


@dataclass(frozen=True)
class JunctionTable:
    """Quickest drives between the exits of some sources and the entries of some targets of a turn
    graph (``times`` s, ``lengths`` m, rows ``exits``, columns ``entries``, both sorted nodes of the
    turn graph), from which :meth:`drives` expands the drives between any of those sources and
    targets: one query serves several tables (a matrix and its drives round the block)."""

    forward: Chains
    backward: Chains
    exits: np.ndarray
    entries: np.ndarray
    times: np.ndarray
    lengths: np.ndarray

    def drives(self, sources: np.ndarray, targets: np.ndarray, *, target_offset_s: np.ndarray | None = None,
               target_offset_m: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and lengths (m) of the quickest drives from each of ``sources`` to each of
        ``targets`` (among those the table was made for). ``target_offset_s`` and ``target_offset_m``
        (per target) are added to each column as it is filled (cheaper than another pass over the
        result). An entry of a node to itself is ``inf``; so is every pair without a drive."""
        factored = self.factored(sources, targets, target_offset_s=target_offset_s, target_offset_m=target_offset_m)
        return factored.times, factored.lengths

    def factored(self, sources: np.ndarray, targets: np.ndarray, *, target_offset_s: np.ndarray | None = None,
                 target_offset_m: np.ndarray | None = None) -> NodeDrives:
        """What :meth:`drives` returns, not yet expanded: this table with the sums along the runs, and
        the pairs on one stretch of street as excepted pairs (:class:`~solver.matrix_drives.NodeDrives`)."""
        forward, backward = self.forward, self.backward
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        exit_node = forward.end[sources]
        exit_of = np.searchsorted(self.exits, exit_node)
        entry_of = np.searchsorted(self.entries, backward.end[targets])
        if not (np.array_equal(self.exits[np.minimum(exit_of, len(self.exits) - 1)], exit_node)
                and np.array_equal(self.entries[np.minimum(entry_of, len(self.entries) - 1)],
                                   backward.end[targets])):
            raise ValueError("drives asked of a source or target the junction table was not made for")
        column_t = backward.time_s[targets] + (0.0 if target_offset_s is None else target_offset_s)
        column_l = backward.length_m[targets] + (0.0 if target_offset_m is None else target_offset_m)
        drives = NodeDrives.factored(self.times, self.lengths, exit_of, entry_of,
                                     (forward.time_s[sources], forward.length_m[sources]), (column_t, column_l))
        # the exit lies on the way into the target: from the exit along that way only
        i, j = equal_pairs(backward.end[exit_node], backward.end[targets])
        on = backward.on_run(targets[j], exit_node[i])
        i, j = i[on], j[on]
        drives = drives.with_pairs(
            i, j, forward.time_s[sources[i]] + column_t[j] - backward.time_s[exit_node[i]],
            forward.length_m[sources[i]] + column_l[j] - backward.length_m[exit_node[i]])
        # the target lies on the way from the source to its exit: along that way only
        i, j = equal_pairs(exit_node, forward.end[targets])
        on = forward.on_run(sources[i], targets[j])
        i, j = i[on], j[on]
        times = (forward.time_s[sources[i]] - forward.time_s[targets[j]] + column_t[j]
                 - backward.time_s[targets[j]])
        lengths = (forward.length_m[sources[i]] - forward.length_m[targets[j]] + column_l[j]
                   - backward.length_m[targets[j]])
        same = sources[i] == targets[j]
        times[same] = np.inf
        lengths[same] = np.inf
        return drives.with_pairs(i, j, times, lengths)


def junction_table(network: RoadNetwork, graph: TurnGraph, sources: np.ndarray, targets: np.ndarray,
                   query: Query) -> JunctionTable:
    """The :class:`JunctionTable` for ``sources`` and ``targets`` (nodes of ``graph``): ``query``
    asked once, on the :class:`JunctionGraph`, between their exits and entries."""
    forward, backward = chains(network, graph)
    junctions = junction_graph(network, graph)
    exits = np.unique(forward.end[np.asarray(sources, dtype=np.int64)])
    entries = np.unique(backward.end[np.asarray(targets, dtype=np.int64)])
    times, lengths = query(junctions, junctions.index[exits], junctions.index[entries])
    return JunctionTable(forward=forward, backward=backward, exits=exits, entries=entries, times=times,
                         lengths=lengths)


def junction_query(network: RoadNetwork, graph: TurnGraph, sources: np.ndarray, targets: np.ndarray,
                   query: Query, *, target_offset_s: np.ndarray | None = None,
                   target_offset_m: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and lengths (m) of the quickest drives from each of ``sources`` to each of
    ``targets`` (nodes of ``graph``), as ``query`` would answer them, with ``query`` asked only
    between the exits of the sources and the entries of the targets (see the module's docstring):
    :meth:`JunctionTable.drives` of :func:`junction_table`."""
    return junction_table(network, graph, sources, targets, query).drives(
        sources, targets, target_offset_s=target_offset_s, target_offset_m=target_offset_m)
