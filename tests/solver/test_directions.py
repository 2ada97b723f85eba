"""Directions of a drive on a hand-made network of named streets whose turns are known: a
square of four streets, driven clockwise (left off High Street, then right, right, right)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from solver.directions import UNNAMED, edge_names, match_line, pieces_xy, positions_along, steps
from solver.geometry import Pieces
from solver.network import RoadNetwork, build_network

from ..conftest import edge_index, write_osm_xml

#: Four named streets round a block, on the equator (0.001 degree is ~111 m), and an unnamed spur;
#: Church Lane and Mill Lane go on north past the block, so that simplifying the network keeps
#: Park Road apart (a node where only two streets meet is merged away)::
#:
#:        E                     F
#:        |                     |
#:        N ---- Park Road ---- M
#:        |                     |
#:   Church Lane            Mill Lane
#:        |                     |
#:   A -- B ---- High Street -- C -- D
#:                              |
#:                              S (unnamed, ref B1234)
SQUARE_NODES = {1: (0.0, 9.000), 2: (0.0, 9.001), 3: (0.0, 9.002), 4: (0.0, 9.003),
                5: (0.001, 9.001), 6: (0.001, 9.002), 7: (-0.001, 9.002), 8: (0.002, 9.001), 9: (0.002, 9.002)}
SQUARE_WAYS = [
    (11, [1, 2, 3, 4], {"highway": "residential", "name": "High Street"}),
    (12, [2, 5, 8], {"highway": "residential", "name": "Church Lane"}),
    (13, [5, 6], {"highway": "residential", "name": "Park Road"}),
    (14, [9, 6, 3], {"highway": "residential", "name": "Mill Lane"}),
    (15, [3, 7], {"highway": "residential", "ref": "B1234"}),
]
A, B, C, D, N, M, S = 1, 2, 3, 4, 5, 6, 7


def write_square(path: Path) -> Path:
    """The OSM XML file of :data:`SQUARE_NODES` and :data:`SQUARE_WAYS`."""
    return write_osm_xml(path, SQUARE_NODES, SQUARE_WAYS)


@pytest.fixture(scope="module")
def square(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    """The square, unsimplified (one edge per stretch between two nodes)."""
    path = write_square(tmp_path_factory.mktemp("square") / "square.osm")
    return build_network(path, simplify=False)


def drive(network: RoadNetwork, *nodes: int) -> Pieces:
    """Whole edges along the OSM nodes given, in order."""
    return [(edge_index(network, u, v), 0.0, 1.0) for u, v in itertools.pairwise(nodes)]


def test_edges_are_named_by_name_else_ref(square: RoadNetwork) -> None:
    """An edge's street is its ``name``, else its ``ref``."""
    names = edge_names(square)
    assert names[edge_index(square, B, N)] == "Church Lane"
    assert names[edge_index(square, C, S)] == "B1234"
    assert UNNAMED not in set(names)


def test_clockwise_drive_turns_left_then_right_three_times(square: RoadNetwork) -> None:
    """East on High Street, left up Church Lane, right along Park Road, right down Mill Lane,
    right back west on High Street: one step per street, with the turns a driver makes."""
    said = [s.instruction() for s in steps(square, drive(square, A, B, N, M, C, B))]
    assert said == ["start on High Street", "left onto Church Lane", "right onto Park Road",
                    "right onto Mill Lane", "right onto High Street"]


def test_anticlockwise_drive_turns_the_other_way(square: RoadNetwork) -> None:
    """From the east end, west on High Street: right up Mill Lane, left along Park Road, left down
    Church Lane, right (heading south, turning west) onto High Street."""
    said = [s.instruction() for s in steps(square, drive(square, D, C, M, N, B, A))]
    assert said == ["start on High Street", "right onto Mill Lane", "left onto Park Road",
                    "left onto Church Lane", "right onto High Street"]


def test_straight_across_a_junction_stays_on_one_street(square: RoadNetwork) -> None:
    """Edges of one street driven on make one step, its length the sum of theirs."""
    (only,) = steps(square, drive(square, A, B, C, D))
    assert only.street == "High Street"
    assert only.length_m == pytest.approx(3 * 111.3, rel=0.01)


def test_turning_round_is_said_and_starts_a_new_step(square: RoadNetwork) -> None:
    """Up Church Lane and back down it (the twin edge): "turn round on Church Lane", then left
    (heading south, turning east) onto High Street."""
    said = [s.instruction() for s in steps(square, drive(square, B, N, B, C))]
    assert said == ["start on Church Lane", "turn round on Church Lane", "left onto High Street"]


def test_a_drawn_line_is_matched_back_to_its_edges(square: RoadNetwork) -> None:
    """The line the pieces draw (with partial pieces at both ends) gives the same pieces back,
    each two-way street driven the right way (not its twin)."""
    pieces = [(edge_index(square, A, B), 0.25, 1.0), *drive(square, B, N, M),
              (edge_index(square, M, C), 0.0, 0.6)]
    matched = match_line(square, pieces_xy(square, pieces))
    assert [e for e, _, _ in matched] == [e for e, _, _ in pieces]
    assert np.allclose([f for _, f0, f1 in matched for f in (f0, f1)],
                       [f for _, f0, f1 in pieces for f in (f0, f1)], atol=1e-6)


def test_positions_along_take_points_in_order(square: RoadNetwork) -> None:
    """A point passed twice (up and back down Church Lane) is found where the drive reaches it
    after the point before: the second pass for the second point."""
    xy = pieces_xy(square, drive(square, B, N, B))
    bottom, top = xy[0], pieces_xy(square, drive(square, B, N))[-1]
    middle = (bottom + top) / 2.0
    found = positions_along(xy, np.vstack([middle, top, middle]))
    leg = float(np.hypot(*(top - bottom)))
    assert found == pytest.approx([leg / 2, leg, 1.5 * leg], abs=0.5)


def test_a_street_mapped_under_two_spellings_is_one_step(tmp_path: Path) -> None:
    """"Lands End Way" running on as "Lands' End Way" (one street, two spellings in OSM) is one step,
    named as first met; a real change of name straight on is "straight on along"."""
    nodes = {1: (0.0, 9.000), 2: (0.0, 9.001), 3: (0.0, 9.002), 4: (0.0, 9.003)}
    ways = [(21, [1, 2], {"highway": "residential", "name": "Lands End Way"}),
            (22, [2, 3], {"highway": "residential", "name": "Lands' End Way"}),
            (23, [3, 4], {"highway": "residential", "name": "Cold Overton Road"})]
    network = build_network(write_osm_xml(tmp_path / "spellings.osm", nodes, ways), simplify=False)
    said = [s.instruction() for s in steps(network, drive(network, 1, 2, 3, 4))]
    assert said == ["start on Lands End Way", "straight on along Cold Overton Road"]
