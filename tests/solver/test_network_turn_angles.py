"""Tests of turn angles and kinds (solver.network.turn_angles): the angles and kinds at the
turn fixture's crossroads, which turns cross traffic on either side of the road, the kind
thresholds, and the count of turns on Rutland."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.network import TURN_KINDS, RoadNetwork, Turns, all_turns, build_network, crossing_kinds, turn_kind


def _at(turns: Turns, network: RoadNetwork, tools: SimpleNamespace, a: int, b: int, c: int) -> int:
    """Index in ``turns`` of the turn a-b -> b-c (OSM node ids)."""
    into, out = tools.edge_index(network, a, b), tools.edge_index(network, b, c)
    (hit,) = np.flatnonzero((turns.in_edge == into) & (turns.out_edge == out))
    return int(hit)


def test_angles_and_kinds_at_the_crossroads(turns_osm: Path, tools: SimpleNamespace) -> None:
    """Coming east along 10-11 into 11: north to 20 is a left turn of +90 degrees, south to 21
    a right turn of -90 that crosses the oncoming traffic in the UK (drives on the left), on
    to 12 straight, back to 10 a U-turn (crossing too)."""
    network = build_network(turns_osm, simplify=False)
    turns = all_turns(network, drives_on="left")
    expected = {20: (90.0, "left", False), 21: (-90.0, "right", True), 12: (0.0, "straight", False),
                10: (180.0, "u_turn", True)}
    names = turns.kind_names()
    for to, (angle, kind, crosses) in expected.items():
        i = _at(turns, network, tools, 10, 11, to)
        assert turns.angle_deg[i] == pytest.approx(angle, abs=0.5), to
        assert (names[i], bool(turns.crosses_traffic[i])) == (kind, crosses), to
        assert network.node_osmid[turns.node[i]] == 11


def test_right_hand_traffic_crosses_on_left_turns(turns_osm: Path, tools: SimpleNamespace) -> None:
    """Where traffic keeps right, the left turn 10-11-20 crosses it and the right turn 10-11-21 not."""
    network = build_network(turns_osm, simplify=False)
    turns = all_turns(network, drives_on="right")
    assert turns.crosses_traffic[_at(turns, network, tools, 10, 11, 20)]
    assert not turns.crosses_traffic[_at(turns, network, tools, 10, 11, 21)]


def test_every_pair_of_consecutive_edges_is_a_turn(turns_osm: Path) -> None:
    """There is one turn per (in-edge, out-edge) at each node: the sum over nodes of in-degree
    times out-degree, and each turn's edges meet at its node."""
    network = build_network(turns_osm, simplify=False)
    turns = all_turns(network)
    indeg = np.bincount(network.edge_v, minlength=network.n_nodes)
    outdeg = np.bincount(network.edge_u, minlength=network.n_nodes)
    assert turns.in_edge.size == int((indeg * outdeg).sum())
    np.testing.assert_array_equal(network.edge_v[turns.in_edge], turns.node)
    np.testing.assert_array_equal(network.edge_u[turns.out_edge], turns.node)


def test_kind_thresholds() -> None:
    """Up to 30 degrees is straight, to 120 a turn, under 165 a sharp turn, from 165 a U-turn;
    positive angles turn left."""
    angles = [0, 30, -30.5, 31, 120, -121, 164.9, -165, 180]
    assert [TURN_KINDS[k] for k in turn_kind(np.array(angles))] == [
        "straight", "straight", "right", "left", "left", "sharp_right", "sharp_left", "u_turn", "u_turn"]


def test_unknown_side_of_the_road_is_refused() -> None:
    """``drives_on`` other than left or right is refused with an error naming the field."""
    with pytest.raises(ValueError, match="drives_on"):
        crossing_kinds("middle")


@pytest.mark.shared
def test_rutland_turn_count(rutland: RoadNetwork) -> None:
    """All turns of Rutland's simplified network are classified, each angle within (-180, 180]
    (figures in docs/architecture.md, "Turns")."""
    turns = all_turns(rutland)
    kinds = dict(zip(TURN_KINDS, np.bincount(turns.kind, minlength=len(TURN_KINDS)).tolist(), strict=True))
    print(f"Rutland turns: {turns.in_edge.size} over {rutland.n_nodes} nodes; {kinds}; "
          f"crossing traffic {int(turns.crosses_traffic.sum())}")
    assert turns.in_edge.size > rutland.n_edges
    assert np.all((turns.angle_deg > -180) & (turns.angle_deg <= 180))
