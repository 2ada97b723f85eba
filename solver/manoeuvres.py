"""The manoeuvres a route makes: U-turns, turns at turning places, reversing into dead ends,
and banned turns, counted from the pieces of street it drives; and a check of a drawn
route line for the places where its heading reverses.

A route's *pieces* are ``(edge, start, end)``: a directed edge index of the
:class:`~solver.network.RoadNetwork` and the fractions (0..1, by length, from the edge's
start node) between which the route drives along it, in driving order. Two pieces join

* along one edge, where the second starts where the first ended (a stop in the middle of
  a street splits its edge into two pieces);
* at a node, where the first ends at its edge's end node (fraction 1) and the second
  starts there (fraction 0) on an edge leaving that node;
* mid-street, where the second runs on the first's twin (the other direction of the same
  street) from the point where the first ended: the route turned back there.

"Where" is judged within :data:`JOIN_TOLERANCE_M` metres; pieces that do not join are
refused (``ValueError`` naming the piece).

Turning back is driving onto the twin of the edge just driven, or a turn at a node whose
angle is a U-turn's (:data:`~solver.network.turn_angles.U_TURN_MIN_DEG` or more, e.g.
between the carriageways of a dual road) where the node offers another way on: a hairpin
bend, where the street's only way on turns that sharply, is the road's shape, not a
manoeuvre. It counts as

* a *turning-place U-turn* at a node OSM marks as a turning place (``node_turning_place``);
* *reversing* at a dead end without a turning head (``node_dead_end``), or into a side way
  (``node_side_way``: a driveway, yard or farm track joining the road): a refuse lorry
  reverses there, which guidance on reversing wants avoided;
* a *U-turn* anywhere else: in the middle of a street (at a stop, or anywhere along an
  edge) or at a junction.

A *banned turn* is a turn at a node from ``banned_turn_in[i]`` into ``banned_turn_out[i]``,
or a run of edges joined at nodes equal to a banned sequence (a via-way restriction).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree

from solver.network import RoadNetwork, turn_angle_deg
from solver.network.turn_angles import U_TURN_MIN_DEG

#: how far apart (m) two pieces' ends may lie and still join.
JOIN_TOLERANCE_M = 0.5
#: consecutive vertices of a drawn line closer than this (m) count as one.
SAME_VERTEX_M = 0.001

Piece = tuple[int, float, float]


@dataclass(frozen=True)
class Manoeuvres:
    """Manoeuvres of a route (or a plan's routes summed); see the module docstring.

    ``u_turns``: turning back not at a dead end or turning place: mid-street (at a stop, or
    anywhere along an edge) or at a junction. ``turning_place_u_turns``: turning back at a
    node OSM marks as a turning place. ``reversing``: turning back at a dead end without a
    turning head. ``banned_turns``: turns (or via-way sequences) the network bans.
    """

    u_turns: int = 0
    turning_place_u_turns: int = 0
    reversing: int = 0
    banned_turns: int = 0

    def __add__(self, other: Manoeuvres) -> Manoeuvres:
        return Manoeuvres(self.u_turns + other.u_turns, self.turning_place_u_turns + other.turning_place_u_turns,
                          self.reversing + other.reversing, self.banned_turns + other.banned_turns)


def count_manoeuvres(network: RoadNetwork, pieces: Sequence[tuple[int, float, float]]) -> Manoeuvres:
    """The manoeuvres of the route driving ``pieces`` (``(edge, start fraction, end fraction)``
    in driving order) on ``network``. ``ValueError`` names a piece that is malformed or does
    not join the one before it."""
    checked = [_checked(network, k, piece) for k, piece in enumerate(pieces)]
    counts = {"u_turns": 0, "turning_place_u_turns": 0, "reversing": 0}
    banned = _banned_pairs(network)
    n_banned = 0
    runs: list[list[int]] = []  # edges joined at nodes, cut where the route turns mid-street
    for k, (edge, start, _) in enumerate(checked):
        if k == 0:
            runs.append([edge])
            continue
        before, _, before_end = checked[k - 1]
        gap_m = JOIN_TOLERANCE_M
        if edge == before and abs(start - before_end) * network.edge_length_m[edge] <= gap_m:
            continue
        at_node = ((1.0 - before_end) * network.edge_length_m[before] <= gap_m
                   and start * network.edge_length_m[edge] <= gap_m)
        if at_node and network.edge_v[before] == network.edge_u[edge]:
            if network.edge_twin[before] == edge or _sharp_by_choice(network, before, edge):
                counts[_turning_back_at(network, int(network.edge_v[before]))] += 1
            n_banned += (before, edge) in banned
            runs[-1].append(edge)
        elif (network.edge_twin[before] == edge
              and abs((1.0 - start) - before_end) * network.edge_length_m[edge] <= gap_m):
            counts["u_turns"] += 1
            runs.append([edge])
        else:
            raise ValueError(f"piece {k} (edge {edge} from fraction {start:g}) does not join piece {k - 1} "
                             f"(edge {before} ending at fraction {before_end:g})")
    n_banned += sum(_occurrences(run, _banned_sequences(network)) for run in runs)
    return Manoeuvres(banned_turns=n_banned, **counts)


def plan_manoeuvres(network: RoadNetwork, routes: Iterable[Sequence[tuple[int, float, float]]]) -> Manoeuvres:
    """The manoeuvres of every route of a plan (each given by its pieces), summed."""
    total = Manoeuvres()
    for pieces in routes:
        total += count_manoeuvres(network, pieces)
    return total


def _checked(network: RoadNetwork, k: int, piece: Any) -> Piece:
    """Piece ``k`` as ``(edge, start, end)``, or ``ValueError`` saying what is wrong with it."""
    try:
        edge, start, end = piece
        edge_i, start_f, end_f = int(edge), float(start), float(end)
    except (TypeError, ValueError):
        raise ValueError(f"piece {k} must be (edge index, start fraction, end fraction), got {piece!r}") from None
    if edge_i != edge or not 0 <= edge_i < network.n_edges:
        raise ValueError(f"piece {k}: edge {edge!r} is not an edge index of the network (0..{network.n_edges - 1})")
    if not (0.0 <= start_f <= end_f <= 1.0):
        raise ValueError(f"piece {k} (edge {edge_i}): fractions must satisfy 0 <= start <= end <= 1, "
                         f"got {start_f:g}, {end_f:g}")
    return edge_i, start_f, end_f


def _sharp_by_choice(network: RoadNetwork, before: int, edge: int) -> bool:
    """Whether the turn ``before -> edge`` has a U-turn's angle and its node another way on
    (an edge out of it other than ``edge`` and ``before``'s twin)."""
    if abs(float(turn_angle_deg(network, np.array([before]), np.array([edge]))[0])) < U_TURN_MIN_DEG:
        return False
    node = network.edge_v[before]
    others = np.flatnonzero(network.edge_u == node)
    return bool(np.any((others != edge) & (others != network.edge_twin[before])))


def _turning_back_at(network: RoadNetwork, node: int) -> str:
    """Which count turning back at ``node`` goes to."""
    if network.node_turning_place[node]:
        return "turning_place_u_turns"
    if network.node_dead_end[node] or (network.node_side_way.size and network.node_side_way[node]):
        return "reversing"
    return "u_turns"


def _banned_pairs(network: RoadNetwork) -> frozenset[tuple[int, int]]:
    return frozenset(zip(network.banned_turn_in.tolist(), network.banned_turn_out.tolist(), strict=True))


def _banned_sequences(network: RoadNetwork) -> dict[int, list[tuple[int, ...]]]:
    """The banned sequences, by their first edge."""
    edges, offsets = network.banned_seq_edges.tolist(), network.banned_seq_offsets.tolist()
    by_first: dict[int, list[tuple[int, ...]]] = {}
    for a, b in itertools.pairwise(offsets):
        by_first.setdefault(edges[a], []).append(tuple(edges[a:b]))
    return by_first


def _occurrences(run: list[int], sequences: dict[int, list[tuple[int, ...]]]) -> int:
    """How many times a sequence of ``sequences`` appears in ``run`` as consecutive edges."""
    return sum(tuple(run[i:i + len(seq)]) == seq for i, edge in enumerate(run) for seq in sequences.get(edge, ()))


@dataclass(frozen=True)
class Reversals:
    """Where a drawn line's heading reverses: ``vertex`` (indices into the line's vertices),
    their ``lonlat`` (WGS84 degrees), ``nearest_m`` (metres to the nearest dead-end or
    turning-place node; ``inf`` if the network has none) and ``far`` (farther than the
    audit's ``near_m``)."""

    vertex: np.ndarray
    lonlat: np.ndarray
    nearest_m: np.ndarray
    far: np.ndarray

    @property
    def count(self) -> int:
        """Number of reversals."""
        return int(self.vertex.size)

    @property
    def far_count(self) -> int:
        """Number of reversals far from any dead end or turning place."""
        return int(self.far.sum())


def reversals_in_line(network: RoadNetwork, line_lonlat: shapely.LineString | np.ndarray | Sequence[Any], *,
                      near_m: float = 30.0) -> Reversals:
    """The vertices of the route line ``line_lonlat`` (a LineString or ``(n, 2)`` coordinates,
    WGS84 lon/lat) where its heading turns by :data:`U_TURN_MIN_DEG` degrees or more, measured
    in the network's metric projection, and which of them lie more than ``near_m`` metres from
    every node of ``network`` that is a dead end or a turning place.

    Independent of the pieces a route was built from: it audits what is drawn."""
    if not (np.isfinite(near_m) and near_m >= 0):
        raise ValueError(f"near_m must be a finite number of metres >= 0, got {near_m}")
    lonlat = (shapely.get_coordinates(line_lonlat) if isinstance(line_lonlat, shapely.Geometry)
              else np.asarray(line_lonlat, dtype=float).reshape(-1, 2))
    xy = _projected(network.to_xy(), lonlat)
    # repeated points (a stop drawn twice) have no heading: skip them, keeping their indices
    keep = np.concatenate([[True], np.hypot(*np.diff(xy, axis=0).T) > SAME_VERTEX_M]) if len(xy) else \
        np.zeros(0, dtype=bool)
    index = np.flatnonzero(keep)
    points = xy[index]
    if len(points) < 3:
        vertex = np.empty(0, dtype=np.int64)
    else:
        a, b = points[1:-1] - points[:-2], points[2:] - points[1:-1]
        angle = np.degrees(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.einsum("ij,ij->i", a, b)))
        vertex = index[1:-1][np.abs(angle) >= U_TURN_MIN_DEG]
    ends = network.node_dead_end | network.node_turning_place | _side_ways(network)
    if vertex.size and ends.any():
        nearest, _ = cKDTree(_projected(network.to_xy(), network.node_lonlat[ends])).query(xy[vertex])
        nearest = np.asarray(nearest, dtype=float)
    else:
        nearest = np.full(vertex.size, np.inf)
    return Reversals(vertex=vertex, lonlat=lonlat[vertex], nearest_m=nearest, far=nearest > near_m)


def _side_ways(network: RoadNetwork) -> np.ndarray:
    """Per node, whether a side way joins there (all False for a network built without them)."""
    return network.node_side_way if network.node_side_way.size else np.zeros(network.n_nodes, dtype=bool)


def _projected(to_xy: pyproj.Transformer, lonlat: np.ndarray) -> np.ndarray:
    x, y = to_xy.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y]).reshape(-1, 2)
