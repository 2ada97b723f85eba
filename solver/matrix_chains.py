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

Both figures ride along: ``W`` and ``V`` are kept in seconds (time, the turn included) and
metres (length), and the single arcs are part of every drive through them, so the length of
the quickest drive stays that of the same drive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from solver.network import RoadNetwork, TurnGraph


class Query(Protocol):
    """Times (s) and lengths (m) of the quickest drives between two lists of graph nodes."""

    def __call__(self, sources: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


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


def chains(network: RoadNetwork, graph: TurnGraph) -> tuple[Chains, Chains]:
    """The forward and backward :class:`Chains` of ``graph`` (a turn graph of ``network``), built
    once (about 0.05 s on unsimplified Rutland) and cached on the network."""
    key = ("turn-chains", id(graph))
    cached = network._cached.get(key)
    if cached is not None and cached[0] is graph:
        return cached[1]
    csr_t, csr_l = graph.csr_time, graph.csr_length
    n = graph.n_nodes
    tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr_t.indptr))
    head = np.asarray(csr_t.indices, dtype=np.int64)
    arc_out = np.minimum(csr_t.indptr[:-1], max(len(head) - 1, 0))
    single_out = np.diff(csr_t.indptr) == 1
    forward = single_arc_runs(n, single_out, head[arc_out] if len(head) else np.zeros(n, dtype=np.int64),
                    np.asarray(csr_t.data, dtype=float)[arc_out] if len(head) else np.zeros(n),
                    np.asarray(csr_l.data, dtype=float)[arc_out] if len(head) else np.zeros(n))
    arc_in = np.zeros(n, dtype=np.int64)
    arc_in[head] = np.arange(len(head))  # for a node with one way in, its arc
    single_in = np.bincount(head, minlength=n) == 1
    backward = single_arc_runs(n, single_in, tail[arc_in] if len(head) else np.zeros(n, dtype=np.int64),
                     np.asarray(csr_t.data, dtype=float)[arc_in] if len(head) else np.zeros(n),
                     np.asarray(csr_l.data, dtype=float)[arc_in] if len(head) else np.zeros(n))
    network._cached[key] = (graph, (forward, backward))
    return forward, backward


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(i, j)`` with ``a[i] == b[j]``."""
    order = np.argsort(b, kind="stable")
    lo = np.searchsorted(b[order], a, side="left")
    hi = np.searchsorted(b[order], a, side="right")
    count = hi - lo
    i = np.repeat(np.arange(len(a)), count)
    start = np.repeat(lo - (np.cumsum(count) - count), count)
    j = order[start + np.arange(len(i))]
    return i, j


def junction_query(network: RoadNetwork, graph: TurnGraph, sources: np.ndarray, targets: np.ndarray,
                   query: Query) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and lengths (m) of the quickest drives from each of ``sources`` to each of
    ``targets`` (nodes of ``graph``), as ``query`` would answer them, with ``query`` asked only
    between the exits of the sources and the entries of the targets (see the module's docstring).
    An entry of a node to itself is ``inf``; so is every pair without a drive."""
    forward, backward = chains(network, graph)
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    exits, exit_of = np.unique(forward.end[sources], return_inverse=True)
    entries, entry_of = np.unique(backward.end[targets], return_inverse=True)
    core_t, core_l = query(exits, entries)
    times = np.take(np.take(core_t, exit_of, axis=0), entry_of, axis=1)
    lengths = np.take(np.take(core_l, exit_of, axis=0), entry_of, axis=1)
    dtype = times.dtype
    times += forward.time_s[sources].astype(dtype)[:, None]
    times += backward.time_s[targets].astype(dtype)[None, :]
    lengths += forward.length_m[sources].astype(dtype)[:, None]
    lengths += backward.length_m[targets].astype(dtype)[None, :]
    # the exit lies on the way into the target: from the exit along that way only
    exit_node = forward.end[sources]
    i, j = _pairs(backward.end[exit_node], backward.end[targets])
    on = backward.on_run(targets[j], exit_node[i])
    i, j = i[on], j[on]
    times[i, j] = forward.time_s[sources[i]] + backward.time_s[targets[j]] - backward.time_s[exit_node[i]]
    lengths[i, j] = (forward.length_m[sources[i]] + backward.length_m[targets[j]]
                     - backward.length_m[exit_node[i]])
    # the target lies on the way from the source to its exit: along that way only
    i, j = _pairs(exit_node, forward.end[targets])
    on = forward.on_run(sources[i], targets[j])
    i, j = i[on], j[on]
    times[i, j] = forward.time_s[sources[i]] - forward.time_s[targets[j]]
    lengths[i, j] = forward.length_m[sources[i]] - forward.length_m[targets[j]]
    same = sources[i] == targets[j]
    times[i[same], j[same]] = np.inf
    lengths[i[same], j[same]] = np.inf
    return times, lengths
