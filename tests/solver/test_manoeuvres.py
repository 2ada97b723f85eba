"""Tests of solver.manoeuvres on the streets fixture (tests/conftest.py, ``STREETS_*``): U-turns
mid-street and at junctions, turns at a turning circle, reversing into a dead end, banned turns
and via-way sequences, counted from hand-written piece lists; and the audit of drawn lines for
reversals far from any dead end or turning place."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from solver.manoeuvres import Manoeuvres, count_manoeuvres, plan_manoeuvres, reversals_in_line
from solver.network import RoadNetwork, build_network


@pytest.fixture
def streets(streets_osm: Path) -> RoadNetwork:
    """The streets fixture, unsimplified (an edge per OSM segment)."""
    return build_network(streets_osm, simplify=False)


def _drive(network: RoadNetwork, tools: SimpleNamespace, *nodes: int) -> list[tuple[int, float, float]]:
    """Whole-edge pieces along the OSM node path ``nodes``."""
    return [(tools.edge_index(network, a, b), 0.0, 1.0) for a, b in itertools.pairwise(nodes)]


def test_a_plain_drive_makes_no_manoeuvre(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """Along the primary and up round the block with left and right turns, nothing is counted."""
    assert count_manoeuvres(streets, _drive(streets, tools, 1, 2, 3, 4, 23, 22)) == Manoeuvres()
    assert count_manoeuvres(streets, _drive(streets, tools, 2, 31, 32, 3, 2)) == Manoeuvres()
    assert count_manoeuvres(streets, []) == Manoeuvres()


def test_turning_back_at_a_stop_is_a_mid_street_u_turn(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """Halfway along 1-2 the route turns back onto 2-1: one U-turn; a stop splitting the edge
    before that (two pieces of one edge) is no manoeuvre."""
    east, west = tools.edge_index(streets, 1, 2), tools.edge_index(streets, 2, 1)
    assert count_manoeuvres(streets, [(east, 0.0, 0.5), (west, 0.5, 1.0)]) == Manoeuvres(u_turns=1)
    split = [(east, 0.0, 0.3), (east, 0.3, 0.5), (west, 0.5, 0.8), (west, 0.8, 1.0)]
    assert count_manoeuvres(streets, split) == Manoeuvres(u_turns=1)


def test_turning_back_at_a_junction_is_a_u_turn(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """1-2 then 2-1 turns back at the junction 2: one U-turn (2 is neither dead end nor turning place)."""
    assert count_manoeuvres(streets, _drive(streets, tools, 1, 2, 1)) == Manoeuvres(u_turns=1)


def test_turning_circle_and_dead_end(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """Down Circle Close and back turns at the turning circle 34; down Blind Lane and back
    reverses at its end 35, which has no turning head."""
    assert count_manoeuvres(streets, _drive(streets, tools, 32, 33, 34, 33, 32)) == \
        Manoeuvres(turning_place_u_turns=1)
    assert count_manoeuvres(streets, _drive(streets, tools, 31, 35, 31)) == Manoeuvres(reversing=1)


def test_turning_back_by_angle_without_a_twin(tmp_path: Path, tools: SimpleNamespace) -> None:
    """Two one-way ways meeting at the junction 2 at about 177 degrees (a dual road's
    carriageways, a street 2-4 going on) have no twin between them; the turn from one into the
    other is still turning back: a U-turn. Without the street 2-4 it is a hairpin bend, the only
    way on: no manoeuvre."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.00005, 9.0), 4: (0.0, 9.002)}
    ways = [(1, [1, 2], {"highway": "residential", "oneway": "yes"}),
            (2, [2, 3], {"highway": "residential", "oneway": "yes"}),
            (3, [2, 4], {"highway": "residential"})]
    network = build_network(tools.write_osm_xml(tmp_path / "dual.osm", nodes, ways), simplify=False)
    assert count_manoeuvres(network, _drive(network, tools, 1, 2, 3)) == Manoeuvres(u_turns=1)
    bend = build_network(tools.write_osm_xml(tmp_path / "bend.osm", nodes, ways[:2]), simplify=False)
    assert count_manoeuvres(bend, _drive(bend, tools, 1, 2, 3)) == Manoeuvres()


def test_banned_turns(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """The no_right_turn 1-2 -> 2-21 counts once; turning left into 2-21 from 3-2 is allowed.
    After 31-2 only 2-21 is allowed: 2-3 is banned, and turning back to 31 is banned and a U-turn."""
    assert count_manoeuvres(streets, _drive(streets, tools, 1, 2, 21)) == Manoeuvres(banned_turns=1)
    assert count_manoeuvres(streets, _drive(streets, tools, 3, 2, 21)) == Manoeuvres()
    assert count_manoeuvres(streets, _drive(streets, tools, 31, 2, 3)) == Manoeuvres(banned_turns=1)
    assert count_manoeuvres(streets, _drive(streets, tools, 31, 2, 21)) == Manoeuvres()
    assert count_manoeuvres(streets, _drive(streets, tools, 31, 2, 31)) == Manoeuvres(u_turns=1, banned_turns=1)


def test_via_way_sequence(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """21-2, 2-3, 3-32 is the banned sequence, also with a stop splitting 2-3; going on to 4
    instead, or turning back mid-way along 2-3, is not it."""
    assert count_manoeuvres(streets, _drive(streets, tools, 21, 2, 3, 32)) == Manoeuvres(banned_turns=1)
    middle = tools.edge_index(streets, 2, 3)
    split = [(tools.edge_index(streets, 21, 2), 0.0, 1.0), (middle, 0.0, 0.4), (middle, 0.4, 1.0),
             (tools.edge_index(streets, 3, 32), 0.0, 1.0)]
    assert count_manoeuvres(streets, split) == Manoeuvres(banned_turns=1)
    assert count_manoeuvres(streets, _drive(streets, tools, 21, 2, 3, 4)) == Manoeuvres()
    back = [(tools.edge_index(streets, 21, 2), 0.0, 1.0), (middle, 0.0, 0.5),
            (tools.edge_index(streets, 3, 2), 0.5, 1.0), *_drive(streets, tools, 2, 3, 32)]
    # turning back mid-way and again at 2: two U-turns, and 2-3 is entered afresh from 3-2
    assert count_manoeuvres(streets, back) == Manoeuvres(u_turns=2)


def test_simplified_network(streets_osm: Path, tools: SimpleNamespace) -> None:
    """Simplified, Circle Close is one edge 32-34: turning back at its middle (where 33 was) is a
    mid-street U-turn, at 34 a turning-place one; the no_right_turn comes in along 31-11-1-2."""
    network = build_network(streets_osm, simplify=True)
    close, back = tools.edge_index(network, 32, 34), tools.edge_index(network, 34, 32)
    assert count_manoeuvres(network, [(close, 0.0, 0.5), (back, 0.5, 1.0)]) == Manoeuvres(u_turns=1)
    assert count_manoeuvres(network, [(close, 0.0, 1.0), (back, 0.0, 1.0)]) == Manoeuvres(turning_place_u_turns=1)
    long_way = [e for e in np.flatnonzero(network.edge_length_m > 300).tolist()
                if network.node_osmid[network.edge_u[e]] == 31 and network.node_osmid[network.edge_v[e]] == 2]
    pieces = [(long_way[0], 0.0, 1.0), (tools.edge_index(network, 2, 21), 0.0, 1.0)]
    assert count_manoeuvres(network, pieces) == Manoeuvres(banned_turns=1)


def test_plan_manoeuvres_sums_routes(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """A plan of three routes counts each route's manoeuvres once."""
    routes = [_drive(streets, tools, 31, 35, 31), _drive(streets, tools, 1, 2, 21), _drive(streets, tools, 1, 2, 1)]
    assert plan_manoeuvres(streets, routes) == Manoeuvres(u_turns=1, reversing=1, banned_turns=1)


def test_pieces_that_do_not_join_are_refused(streets: RoadNetwork, tools: SimpleNamespace) -> None:
    """Pieces with a gap, fractions out of order or out of range, or an edge the network lacks
    are refused with an error naming the piece."""
    east = tools.edge_index(streets, 1, 2)
    with pytest.raises(ValueError, match=r"piece 1 .* does not join piece 0"):
        count_manoeuvres(streets, [(east, 0.0, 0.5), (east, 0.7, 1.0)])
    with pytest.raises(ValueError, match=r"piece 1 .* does not join"):
        count_manoeuvres(streets, _drive(streets, tools, 1, 2) + _drive(streets, tools, 3, 4))
    with pytest.raises(ValueError, match=r"piece 0 .* 0 <= start <= end <= 1"):
        count_manoeuvres(streets, [(east, 0.6, 0.2)])
    with pytest.raises(ValueError, match="piece 0: edge 999"):
        count_manoeuvres(streets, [(999, 0.0, 1.0)])
    with pytest.raises(ValueError, match="piece 0 must be"):
        count_manoeuvres(streets, [(east, 0.0)])  # type: ignore[list-item]


def _lonlat(network: RoadNetwork, *osm_ids: int) -> np.ndarray:
    """WGS84 lon/lat of OSM nodes."""
    return np.array([network.node_lonlat[int(np.flatnonzero(network.node_osmid == n)[0])] for n in osm_ids])


def test_reversals_in_lines(streets: RoadNetwork) -> None:
    """A line turning back halfway between 1 and 2 reverses once, far (> 30 m) from any dead end
    or turning place; one turning back at Blind Lane's end 35 reverses next to it; square corners
    and a stop drawn twice are no reversal."""
    one, two = _lonlat(streets, 1, 2)
    mid = (one + two) / 2
    back = reversals_in_line(streets, shapely.LineString(np.array([one, mid, mid, one])))
    assert (back.count, back.far_count) == (1, 1) and back.vertex.tolist() == [1]
    assert back.nearest_m[0] > 200
    blind = reversals_in_line(streets, _lonlat(streets, 2, 31, 35, 31, 32))
    assert (blind.count, blind.far_count, blind.vertex.tolist()) == (1, 0, [2])
    assert blind.nearest_m[0] == pytest.approx(0.0, abs=0.01)
    corners = reversals_in_line(streets, _lonlat(streets, 1, 2, 31, 32, 3, 4))
    assert corners.count == 0


def test_reversal_near_a_dead_end_depends_on_near_m(streets: RoadNetwork) -> None:
    """Turning back 20 m short of Blind Lane's end is near it with the default 30 m, far with 10 m."""
    start, end = _lonlat(streets, 31, 35)
    short = end + (start - end) * (20.0 / 111.2)
    line = np.array([start, short, start])
    assert reversals_in_line(streets, line).far_count == 0
    ten = reversals_in_line(streets, line, near_m=10.0)
    assert ten.far_count == 1 and ten.nearest_m[0] == pytest.approx(20.0, abs=0.5)
    with pytest.raises(ValueError, match="near_m"):
        reversals_in_line(streets, line, near_m=-1.0)
