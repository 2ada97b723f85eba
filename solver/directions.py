"""Plain-language directions for a drawn round: the streets it drives, in order, and the turn
onto each ("left onto High Street").

A round's drive is a list of pieces of edges (:data:`solver.geometry.Pieces`): either the pieces
:func:`solver.geometry.route_pieces` gives when the legs are at hand, or those
:func:`match_line` recovers from the drawn line of a stored plan (every line the service draws
is made of its network's edge shapes, so each of its segments lies on one edge). Consecutive
pieces on streets of one name make one :class:`Step`; the turn onto a street is the angle
between the last edge driven before it and its first edge (:mod:`solver.network.turn_angles`,
the thresholds the manoeuvre counts use), or ``turn round`` when the drive comes back along its
own street (the edge's twin).

A street's name is the edge's OSM ``name`` (an edge simplification merged from ways of several
names carries all of them, joined by " / "), else its ``ref`` (``A6003``), else
:data:`UNNAMED`. Lengths in metres, positions in metres along the drive from its start, in the
network's projected CRS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import substring

from solver.geometry import Pieces
from solver.network import RoadNetwork
from solver.network.turn_angles import TURN_KINDS, turn_angle_deg, turn_kind

UNNAMED = "unnamed road"
"""The name of a street with neither ``name`` nor ``ref``."""

MATCH_TOLERANCE_M = 1.0
"""How far (metres) a drawn segment's middle may lie from an edge and still be on it: the
service rounds coordinates to 7 decimals (1 cm), so a drawn segment lies within
centimetres of the edge it was drawn from."""

TURN_WORDS = {"straight": "straight on", "left": "left", "right": "right", "sharp_left": "sharp left",
              "sharp_right": "sharp right", "u_turn": "turn round"}
"""How each turn kind of :data:`solver.network.turn_angles.TURN_KINDS` is said to a crew."""


@dataclass(frozen=True, slots=True)
class Step:
    """One street of the drive: its ``street`` name, the ``turn`` onto it (a value of
    :data:`TURN_WORDS`, or ``"start"`` for the first), where it starts along the drive
    (``start_m``) and how far it is driven (``length_m``), metres."""

    street: str
    turn: str
    start_m: float
    length_m: float

    @property
    def end_m(self) -> float:
        """Where the street is left, metres along the drive."""
        return self.start_m + self.length_m

    def instruction(self) -> str:
        """The step as a crew reads it: ``"left onto High Street"``, ``"straight on along Mill Lane"``,
        ``"turn round on Burley Road"``, ``"start on Church Street"``."""
        if self.turn == "start":
            return f"start on {self.street}"
        if self.turn == TURN_WORDS["straight"]:
            return f"straight on along {self.street}"
        if self.turn == TURN_WORDS["u_turn"]:
            return f"turn round on {self.street}"
        return f"{self.turn} onto {self.street}"


def _tag_text(value: object) -> str | None:
    """A tag's value as text; a merged edge's list of values joined by " / "."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value if v is not None and str(v)]
        return " / ".join(dict.fromkeys(parts)) or None
    return str(value) or None


def edge_names(network: RoadNetwork) -> np.ndarray:
    """The street name of every edge (by edge index): its ``name``, else its ``ref``, else :data:`UNNAMED`."""
    cached = network._cached.get("edge_names")
    if cached is None:
        names = []
        for u, v, k in zip(network.edge_u, network.edge_v, network.edge_key, strict=True):
            data = network.graph.edges[int(network.node_osmid[u]), int(network.node_osmid[v]), int(k)]
            names.append(_tag_text(data.get("name")) or _tag_text(data.get("ref")) or UNNAMED)
        cached = np.asarray(names, dtype=object)
        network._cached["edge_names"] = cached
    return cached


def _all_edges_tree(network: RoadNetwork) -> shapely.STRtree:
    """An STRtree over every edge (twins included), by edge index."""
    tree = network._cached.get("all_edges_tree")
    if tree is None:
        tree = shapely.STRtree(network.edge_xy)
        network._cached["all_edges_tree"] = tree
    return tree


def to_xy(network: RoadNetwork, lonlat: np.ndarray) -> np.ndarray:
    """WGS84 ``(n, 2)`` lon/lat -> the network's projected metres."""
    points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    x, y = network.to_xy().transform(points[:, 0], points[:, 1])
    return np.column_stack([x, y])


def match_line(network: RoadNetwork, xy: np.ndarray, *, tolerance_m: float = MATCH_TOLERANCE_M) -> Pieces:
    """The pieces of edges a drawn line (``(n, 2)`` projected metres, in driving order) runs along.

    Each segment goes to the edge nearest its middle, among those within ``tolerance_m`` that
    run the same way (so a two-way street's twin is told apart by direction); a segment on no
    edge is left out. Consecutive segments on one edge make one piece ``(edge, start fraction,
    end fraction)``.
    """
    coords = np.asarray(xy, dtype=float).reshape(-1, 2)
    if coords.shape[0] < 2:
        return []
    keep = np.concatenate(([True], np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)))
    coords = coords[keep]
    if coords.shape[0] < 2:
        return []
    starts, ends = shapely.points(coords[:-1]), shapely.points(coords[1:])
    middles = shapely.points((coords[:-1] + coords[1:]) / 2.0)
    seg_idx, edge_idx = _all_edges_tree(network).query(middles, predicate="dwithin", distance=tolerance_m)
    lines = network.edge_xy[edge_idx]
    f0 = shapely.line_locate_point(lines, starts[seg_idx], normalized=True)
    f1 = shapely.line_locate_point(lines, ends[seg_idx], normalized=True)
    dist = shapely.distance(lines, middles[seg_idx])
    # the wrong way along an edge costs more than any distance within the tolerance
    score = dist + np.where(f1 >= f0, 0.0, 10.0 * tolerance_m)
    best: dict[int, tuple[float, int, float, float]] = {}
    for s, e, sc, a, b in zip(seg_idx.tolist(), edge_idx.tolist(), score.tolist(), f0.tolist(), f1.tolist(),
                              strict=True):
        if s not in best or sc < best[s][0]:
            best[s] = (sc, e, a, b)
    pieces: Pieces = []
    for s in range(coords.shape[0] - 1):
        if s not in best:
            continue
        _, e, a, b = best[s]
        if pieces and pieces[-1][0] == e and abs(pieces[-1][2] - a) < 1e-6:
            pieces[-1] = (e, pieces[-1][1], b)
        else:
            pieces.append((e, a, b))
    return pieces


def _turn(network: RoadNetwork, before: int, after: int) -> str:
    """The words for the turn from edge ``before`` onto edge ``after``."""
    if int(network.edge_twin[before]) == after:
        return TURN_WORDS["u_turn"]
    angle = turn_angle_deg(network, np.array([before]), np.array([after]))
    return TURN_WORDS[TURN_KINDS[int(turn_kind(angle)[0])]]


def _names(name: str) -> dict[str, str]:
    """The names of an edge (a merged edge's " / "-joined names apart), keyed by their letters and
    digits in lower case: "Lands End Way" and "Lands' End Way", one street mapped twice, are one."""
    return {re.sub(r"[^0-9a-z]", "", part.casefold()) or part: part for part in name.split(" / ")}


def steps(network: RoadNetwork, pieces: Pieces) -> list[Step]:
    """The drive of ``pieces`` street by street: a :class:`Step` each time the street changes, and
    each time the drive turns round (a street driven back is a new step on the same street).

    An edge that simplification merged from ways of several names continues the step of any of
    them, and the step keeps the names common to its edges: driving from "Mill Lane" onto an edge
    named "Mill Lane / Station Road" is no new street. Names that differ only in case, spaces or
    punctuation are one street, named as first met.
    """
    names = edge_names(network)
    lengths = _edge_lengths(network)
    out: list[Step] = []
    current: dict[str, str] = {}
    position = 0.0
    previous: int | None = None
    for edge, f0, f1 in pieces:
        length = abs(f1 - f0) * float(lengths[edge])
        here = _names(str(names[edge]))
        turned = previous is not None and int(network.edge_twin[previous]) == edge and previous != edge
        common = {key: name for key, name in current.items() if key in here}
        if out and common and not turned:
            current = common
            last = out[-1]
            out[-1] = Step(" / ".join(sorted(current.values())), last.turn, last.start_m, last.length_m + length)
        else:
            turn = "start" if previous is None else _turn(network, previous, edge)
            current = here
            out.append(Step(str(names[edge]), turn, position, length))
        position += length
        previous = edge
    return out


def _edge_lengths(network: RoadNetwork) -> np.ndarray:
    """Every edge's length in the projected CRS, metres: the measure of the drawn line, so that
    positions along the steps and along the line agree."""
    cached = network._cached.get("edge_xy_lengths")
    if cached is None:
        cached = shapely.length(network.edge_xy)
        network._cached["edge_xy_lengths"] = cached
    return cached


def pieces_xy(network: RoadNetwork, pieces: Pieces) -> np.ndarray:
    """The projected coordinates (``(n, 2)`` metres) of the line the pieces draw."""
    if not pieces:
        return np.empty((0, 2))
    parts = []
    for edge, f0, f1 in pieces:
        line = network.edge_xy[edge]
        part = substring(line, f0, f1, normalized=True) if (f0 > 0.0 or f1 < 1.0) else line
        parts.append(shapely.get_coordinates(part))
    return np.vstack(parts)


def positions_along(xy: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """How far along the line ``xy`` (metres from its start) each of ``points_xy`` is passed, the points
    taken in order: each is looked for only from the previous one's position on, so a line that comes
    back past a point finds it where the round reaches it in its order."""
    coords = np.asarray(xy, dtype=float).reshape(-1, 2)
    points = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    out = np.zeros(points.shape[0])
    if coords.shape[0] < 2 or points.shape[0] == 0:
        return out
    seg_start, seg_end = coords[:-1], coords[1:]
    seg_vec = seg_end - seg_start
    seg_len = np.hypot(seg_vec[:, 0], seg_vec[:, 1])
    cum = np.concatenate(([0.0], np.cumsum(seg_len)))
    safe = np.where(seg_len > 0, seg_len, 1.0)
    first, since = 0, 0.0  # the segment and the fraction of it the previous point was found at
    for i, p in enumerate(points):
        rel = p - seg_start[first:]
        t = np.einsum("ij,ij->i", rel, seg_vec[first:]) / safe[first:] ** 2
        t = np.clip(t, np.concatenate(([since], np.zeros(t.size - 1))), 1.0)
        near = seg_start[first:] + t[:, None] * seg_vec[first:]
        d = np.hypot(near[:, 0] - p[0], near[:, 1] - p[1])
        if not np.isfinite(d).any():  # a point or line with no finite position: left where the last one was
            out[i] = cum[first] + since * seg_len[first]
            continue
        # the first segment as near as the nearest (within 1 m): the round's first pass by the point
        k = int(np.flatnonzero(d <= np.nanmin(d) + 1.0)[0])
        out[i] = cum[first + k] + t[k] * seg_len[first + k]
        first, since = first + k, float(t[k])
    return out
