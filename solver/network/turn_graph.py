"""The turn-aware (edge-based) road graph a lorry drives: banned turns left out, U-turns only
where a lorry can turn round, and time added for turning.

Each node of this graph stands for *being at the end of a directed edge of the road network,
having driven it*; an arc ``e -> s`` is the turn from edge ``e`` into edge ``s`` at the node
between them, weighted with the turn's time (:class:`TurnCosts`) plus the time to drive ``s``
(seconds), and its length is ``s``'s (metres). So a quickest path in this graph is a drive
that obeys every turn rule, and its time includes the turns.

Which turns exist (:func:`turn_graph`):

* a turn between two edges the access profile may drive (:class:`~solver.network.RoutingGraph`);
* not a banned turn (OSM ``restriction`` relations, :mod:`solver.network.turns`); a banned
  *sequence* (a via-way restriction ``in, via..., out``) is honoured by splitting: the turn
  from ``in`` leads into copies of the via edges whose last one has no turn into ``out``
  (a point on a via edge is then reached as if that turn into it did not exist);
* turning back (the kind ``u_turn`` of :mod:`solver.network.turn_angles`: onto the street's
  own other direction, or by 165 degrees or more) only at a node OSM marks as a turning place
  (``turning_circle``, ``turning_loop``, ``mini_roundabout``), at a dead end (the lorry
  reverses: a *reversing manoeuvre*, costed high so that a route avoids it where it can), where
  a side way joins the road (a driveway, yard or farm track the lorry reverses into, costed and
  counted as reversing; :attr:`TurnPolicy.turn_in_side_ways`, on by default: without it a lorry
  that collects one farm on a long country road must drive on to the next junction and round),
  or anywhere when the policy allows U-turns (:attr:`TurnPolicy.allow_u_turns`).

Turn costs apply at junctions only (a node where three or more streets meet): the bends of
a street drawn with many vertices are not turns. A turn across the oncoming traffic (a right
turn where traffic keeps left, ``drives_on="left"`` as in the UK) costs more than one that is
not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from solver.network.turn_angles import TURN_KINDS, all_turns

if TYPE_CHECKING:
    from solver.network.build import RoadNetwork
    from solver.network.routing import RoutingGraph

_U_TURN = TURN_KINDS.index("u_turn")
_STRAIGHT = TURN_KINDS.index("straight")
#: the least time (s) an arc takes: scipy's graph routines read a stored 0 as a missing arc.
MIN_ARC_S = 1e-3


@dataclass(frozen=True)
class TurnCosts:
    """Seconds a turn adds to the drive, by what the lorry does.

    Defaults for a 26-tonne refuse lorry: slowing for a turn that does not cross the
    oncoming traffic (``turn_s``), waiting for a gap to cross it (``crossing_s``), turning
    round at a turning circle or loop (``turning_place_s``), reversing out of a dead end
    without a turning head, with a banksman (``reversing_s``), and a three-point turn in the
    street where the request allows one (``u_turn_s``).
    """

    straight_s: float = 0.0
    turn_s: float = 3.0
    crossing_s: float = 10.0
    turning_place_s: float = 20.0
    reversing_s: float = 60.0
    u_turn_s: float = 60.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ValueError(f"turn cost {name} must be a finite number of seconds >= 0, got {value!r}")


@dataclass(frozen=True)
class TurnPolicy:
    """How a lorry may turn: the side of the road traffic keeps to (``left`` in the UK),
    whether it may turn back anywhere (``allow_u_turns``), whether it may turn round by
    reversing into a side way (``turn_in_side_ways``: a driveway, yard or farm track joining
    the road, :attr:`~solver.network.RoadNetwork.node_side_way`), and what turns cost."""

    drives_on: str = "left"
    allow_u_turns: bool = False
    turn_in_side_ways: bool = True
    costs: TurnCosts = field(default_factory=TurnCosts)

    def __post_init__(self) -> None:
        if self.drives_on not in ("left", "right"):
            raise ValueError(f"drives_on must be 'left' or 'right', not {self.drives_on!r}")

    @property
    def key(self) -> str:
        """A short text that tells policies apart (for caches)."""
        c = self.costs
        return (f"{self.drives_on}-{int(self.allow_u_turns)}{int(self.turn_in_side_ways)}-{c.straight_s:g}-"
                f"{c.turn_s:g}-{c.crossing_s:g}-{c.turning_place_s:g}-{c.reversing_s:g}-{c.u_turn_s:g}")


@dataclass(frozen=True)
class TurnGraph:
    """The turn-aware graph of one access profile's road graph under one :class:`TurnPolicy`.

    Node ``i < n_edges`` is the network's edge ``i`` (a node of an edge the profile may not
    drive has no arc); nodes from ``n_edges`` on are copies made for banned sequences, and
    ``node_edge`` gives every node's edge. ``csr_time`` (s: turn plus the next edge) and
    ``csr_length`` (m: the next edge) hold the arcs, ``csr_into`` the same arcs' times by head
    (row ``g``: the turns into ``g``, for drives round the block); ``node_component`` labels
    the strongly connected parts.
    """

    routing: RoutingGraph
    policy: TurnPolicy
    n_edges: int
    node_edge: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    csr_into: sp.csr_array
    node_component: np.ndarray
    counts: dict[str, int]

    @property
    def n_nodes(self) -> int:
        """Nodes: one per edge of the network, then the copies."""
        return int(self.node_edge.shape[0])


def junction_nodes(network: RoadNetwork) -> np.ndarray:
    """Per node of ``network``, whether three or more streets meet there (a street is an edge
    with its twin counted once)."""
    edges = np.arange(network.n_edges)
    one = (network.edge_twin < 0) | (edges < network.edge_twin)
    ends = np.bincount(np.concatenate([network.edge_u[one], network.edge_v[one]]), minlength=network.n_nodes)
    return np.asarray(ends >= 3)


def _turn_arcs(network: RoadNetwork, routing: RoutingGraph, policy: TurnPolicy
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """The allowed turns ``(in_edge, out_edge)`` and their times (s), with counts of what was left out."""
    turns = all_turns(network, drives_on=policy.drives_on)
    c = policy.costs
    allowed = routing.allowed[turns.in_edge] & routing.allowed[turns.out_edge]
    banned = np.zeros(len(turns.in_edge), dtype=bool)
    if network.banned_turn_in.size:
        pair = turns.in_edge.astype(np.int64) * network.n_edges + turns.out_edge
        banned = np.isin(pair, network.banned_turn_in * network.n_edges + network.banned_turn_out)
    back = turns.kind == _U_TURN
    node = turns.node
    place = network.node_turning_place[node] if network.node_turning_place.size else np.zeros_like(back)
    dead = network.node_dead_end[node] if network.node_dead_end.size else np.zeros_like(back)
    side = network.node_side_way[node] if network.node_side_way.size else np.zeros_like(back)
    side &= policy.turn_in_side_ways
    back_ok = place | dead | side | policy.allow_u_turns
    junction = junction_nodes(network)[node]
    cost = np.where(turns.crosses_traffic, c.crossing_s, c.turn_s)
    cost = np.where(turns.kind == _STRAIGHT, c.straight_s, cost)
    cost = np.where(junction, cost, c.straight_s)
    cost = np.where(back, np.where(place, c.turning_place_s, np.where(dead | side, c.reversing_s, c.u_turn_s)), cost)
    keep = allowed & ~banned & (~back | back_ok)
    counts = {"turns": int(allowed.sum()), "banned": int((allowed & banned).sum()),
              "u_turns_forbidden": int((allowed & ~banned & back & ~back_ok).sum())}
    return turns.in_edge[keep], turns.out_edge[keep], cost[keep], counts


def _split_sequences(network: RoadNetwork, tail: np.ndarray, head: np.ndarray, turn: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arcs with the banned sequences honoured by copying their via edges (see the module's
    docstring); returns the arcs and every node's edge."""
    n = network.n_edges
    offsets = network.banned_seq_offsets
    sequences = [tuple(network.banned_seq_edges[offsets[j]:offsets[j + 1]].tolist()) for j in range(len(offsets) - 1)]
    node_edge = list(range(n))
    if not sequences:
        return tail, head, turn, np.arange(n, dtype=np.int64)
    copy_of: dict[tuple[int, ...], int] = {}
    banned_after: dict[tuple[int, ...], set[int]] = {}
    for seq in sequences:
        for k in range(2, len(seq)):
            prefix = seq[:k]
            if prefix not in copy_of:
                copy_of[prefix] = len(node_edge)
                node_edge.append(prefix[-1])
        banned_after.setdefault(seq[:-1], set()).add(seq[-1])
    out: dict[int, list[tuple[int, float]]] = {}
    for a, b, w in zip(tail.tolist(), head.tolist(), turn.tolist(), strict=True):
        out.setdefault(a, []).append((b, w))
    arcs: list[tuple[int, int, float]] = []
    redirected = {(p[0], p[1]) for p in copy_of if len(p) == 2}
    for a, b, w in zip(tail.tolist(), head.tolist(), turn.tolist(), strict=True):
        arcs.append((a, copy_of[(a, b)] if (a, b) in redirected else b, w))
    for prefix, node in copy_of.items():
        last = prefix[-1]
        for b, w in out.get(last, []):
            if b in banned_after.get(prefix, ()):
                continue
            longer = (*prefix, b)
            arcs.append((node, copy_of.get(longer, b), w))
    return (np.array([x[0] for x in arcs], dtype=np.int64), np.array([x[1] for x in arcs], dtype=np.int64),
            np.array([x[2] for x in arcs], dtype=float), np.array(node_edge, dtype=np.int64))


def turn_graph(network: RoadNetwork, routing: RoutingGraph, policy: TurnPolicy | None = None) -> TurnGraph:
    """The turn-aware graph of ``routing`` (a road graph of ``network``) under ``policy``
    (default: UK lorry), built once and cached on the network."""
    policy = policy or TurnPolicy()
    key = ("turn-graph", hashlib.sha256(np.packbits(routing.allowed).tobytes()).hexdigest(), policy.key)
    cached = network._cached.get(key)
    if cached is not None:
        return cached
    tail, head, turn, counts = _turn_arcs(network, routing, policy)
    tail, head, turn, node_edge = _split_sequences(network, tail, head, turn)
    n = len(node_edge)
    out_edge = node_edge[head]
    time_w = np.maximum(turn + network.edge_time_s[out_edge], MIN_ARC_S)
    length_w = np.maximum(network.edge_length_m[out_edge], MIN_ARC_S)
    order = np.lexsort((head, tail))
    tail, head, time_w, length_w = tail[order], head[order], time_w[order], length_w[order]
    indptr = np.searchsorted(tail, np.arange(n + 1)).astype(np.int64)
    csr_time = sp.csr_array((time_w, head, indptr), shape=(n, n))
    csr_length = sp.csr_array((length_w, head, indptr), shape=(n, n))
    _, component = connected_components(csr_time, directed=True, connection="strong")
    counts.update(arcs=len(tail), copies=int(n - network.n_edges))
    graph = TurnGraph(routing=routing, policy=policy, n_edges=network.n_edges, node_edge=node_edge,
                      csr_time=csr_time, csr_length=csr_length, csr_into=csr_time.T.tocsr(),
                      node_component=component.astype(np.int64), counts=counts)
    network._cached[key] = graph
    return graph
