"""Turn angles and kinds for every pair of consecutive directed edges of a road network.

A turn ``in -> out`` at node ``v`` (``in`` ends at ``v``, ``out`` starts there) has the
angle, in degrees in ``(-180, 180]``, from the heading of ``in``'s last segment to that
of ``out``'s first segment, measured in the network's metric UTM projection (a conformal
projection: its grid convergence shifts both headings alike, so their difference is the
true one). Positive angles turn left (anticlockwise), negative right.

Kinds, by the angle's size (thresholds in degrees, :data:`STRAIGHT_MAX_DEG` ...):

* ``straight``: up to 30;
* ``left`` / ``right``: over 30, up to 120;
* ``sharp_left`` / ``sharp_right``: over 120, under 165;
* ``u_turn``: 165 or more, or ``out`` is ``in``'s own street drawn back (its twin).

Which turns cross the oncoming traffic depends on the side of the road a country drives
on: with ``drives_on="left"`` (the UK) right turns, sharp right turns and U-turns do; with
``"right"`` left ones and U-turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    from solver.network.build import RoadNetwork

STRAIGHT_MAX_DEG = 30.0
TURN_MAX_DEG = 120.0
U_TURN_MIN_DEG = 165.0
#: the kinds, indexed by the codes in :attr:`Turns.kind`.
TURN_KINDS = ("straight", "left", "right", "sharp_left", "sharp_right", "u_turn")
_CROSSING = {"left": ("right", "sharp_right", "u_turn"), "right": ("left", "sharp_left", "u_turn")}


@dataclass(frozen=True, slots=True)
class Turns:
    """Every turn ``in_edge[i] -> out_edge[i]`` at ``node[i]``: its ``angle_deg`` (positive
    left), ``kind`` (an index into :data:`TURN_KINDS`) and whether it ``crosses_traffic``."""

    in_edge: np.ndarray
    out_edge: np.ndarray
    node: np.ndarray
    angle_deg: np.ndarray
    kind: np.ndarray
    crosses_traffic: np.ndarray

    def kind_names(self) -> np.ndarray:
        """The kinds as text."""
        return np.asarray(TURN_KINDS, dtype=object)[self.kind]


def turn_kind(angle_deg: np.ndarray) -> np.ndarray:
    """Kind codes (indices into :data:`TURN_KINDS`) of turn angles in degrees (positive left)."""
    angle = np.asarray(angle_deg, dtype=float)
    size = np.abs(angle)
    left = angle > 0
    kind = np.where(left, 1, 2)
    kind = np.where(size > TURN_MAX_DEG, np.where(left, 3, 4), kind)
    kind = np.where(size <= STRAIGHT_MAX_DEG, 0, kind)
    kind = np.where(size >= U_TURN_MIN_DEG, 5, kind)
    return kind.astype(np.int8)


def crossing_kinds(drives_on: str) -> tuple[str, ...]:
    """The kinds that cross oncoming traffic where traffic keeps to ``drives_on`` (``left`` or ``right``)."""
    if drives_on not in _CROSSING:
        raise ValueError(f"drives_on must be 'left' or 'right', not {drives_on!r}")
    return _CROSSING[drives_on]


def all_turns(network: RoadNetwork, *, drives_on: str = "left") -> Turns:
    """Every pair of consecutive directed edges of ``network``, with angle and kind."""
    crossing = np.isin(np.arange(len(TURN_KINDS)), [TURN_KINDS.index(k) for k in crossing_kinds(drives_on)])
    n_nodes, edge_u, edge_v = network.n_nodes, network.edge_u, network.edge_v
    out_order = np.argsort(edge_u, kind="stable")
    out_degree = np.bincount(edge_u, minlength=n_nodes)
    out_start = np.concatenate([[0], np.cumsum(out_degree)[:-1]])
    per_in = out_degree[edge_v]
    in_edge = np.repeat(np.arange(network.n_edges), per_in)
    first_of_in = np.repeat(np.cumsum(per_in) - per_in, per_in)
    within = np.arange(in_edge.size) - first_of_in
    out_edge = out_order[np.repeat(out_start[edge_v], per_in) + within]

    angle = turn_angle_deg(network, in_edge, out_edge)
    kind = turn_kind(angle)
    kind = np.where(network.edge_twin[in_edge] == out_edge, TURN_KINDS.index("u_turn"), kind).astype(np.int8)
    return Turns(in_edge=in_edge, out_edge=out_edge, node=edge_v[in_edge], angle_deg=angle, kind=kind,
                 crosses_traffic=crossing[kind])


def turn_angle_deg(network: RoadNetwork, in_edge: np.ndarray, out_edge: np.ndarray) -> np.ndarray:
    """The angles (degrees in ``(-180, 180]``, positive left) of the turns ``in_edge[i] -> out_edge[i]``
    (each ``in_edge`` ending where its ``out_edge`` starts; not checked)."""
    if "end_headings" not in network._cached:
        network._cached["end_headings"] = _end_headings(network.edge_xy)
    head_in, head_out = network._cached["end_headings"]
    a = head_in[np.asarray(in_edge, dtype=np.int64)].reshape(-1, 2)
    b = head_out[np.asarray(out_edge, dtype=np.int64)].reshape(-1, 2)
    angle = np.degrees(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.einsum("ij,ij->i", a, b)))
    return np.where(angle <= -180.0, 180.0, angle)


def _end_headings(edge_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per edge, the direction (metres) of its last segment and of its first."""
    lines = shapely.remove_repeated_points(edge_xy)
    coords = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    first = np.cumsum(counts) - counts
    last = first + counts - 1
    # an edge whose vertices all coincide has no heading: its turns come out straight
    second = np.minimum(first + 1, last)
    return coords[last] - coords[np.maximum(last - 1, first)], coords[second] - coords[first]
