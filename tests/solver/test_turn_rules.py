"""Routes on the hand-made streets fixture (tests/conftest.py, ``STREETS_*``) obey each turn rule:
the banned right turn, the one-way street, the cul-de-sac with a turning circle and the one
without (a reversing manoeuvre), the nearside on the busy High Road, and a bin only a U-turn
reaches (unreachable, with the reason, unless the request allows U-turns)."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.geometry import route_pieces
from solver.matrix import build_legs
from solver.nearside import approach_slots, busy_edges, point_sides
from solver.network import RoadNetwork, TurnPolicy, build_network
from solver.pipeline import evaluate_plan, optimise
from solver.problem import Bin, Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.snapping import snap_points
from solver.solution import RoutePlan

#: lat, lon of the points used below (the fixture lies on the equator: 0.001 degree ~ 111 m)
DEPOT = (0.0005, 9.00002)            # on 1-11-31, near node 1
HIGH_ROAD_NORTH = (0.00005, 9.0015)  # High Road 2-3, on its north side
TO_21 = (-0.0005, 9.00102)           # on 2-21
BLIND_LANE = (0.0015, 9.00102)       # on Blind Lane 31-35 (no turning head at 35)
CIRCLE_CLOSE = (0.001, 9.0035)       # on Circle Close 32-33-34 (turning circle at 34)


@pytest.fixture
def streets(streets_osm: Path) -> RoadNetwork:
    """The streets fixture, unsimplified."""
    return build_network(streets_osm, simplify=False)


def _lonlat(*points: tuple[float, float]) -> np.ndarray:
    return np.array([[lon, lat] for lat, lon in points])


def _pieces(network: RoadNetwork, points: tuple[tuple[float, float], ...], order: list[int], *,
            drives_on: str = "left") -> list[tuple[int, float, float]]:
    """The drawn pieces of the route visiting ``points`` in ``order`` (turn-aware, nearside on busy roads)."""
    lonlat = _lonlat(*points)
    snapped = snap_points(network, lonlat)
    side = approach_slots(network, snapped, point_sides(network, lonlat, snapped), busy_edges(network), drives_on)
    legs = build_legs(network, snapped, anchors=[0], approach=side, turns=TurnPolicy(drives_on=drives_on),
                      backend="scipy")
    return route_pieces(legs, {"r": order})["r"]


def _node_path(network: RoadNetwork, pieces: list[tuple[int, float, float]]) -> list[tuple[int, int]]:
    """The (from, to) OSM node ids of each piece's edge."""
    osm = network.node_osmid
    return [(int(osm[network.edge_u[e]]), int(osm[network.edge_v[e]])) for e, _, _ in pieces]


def test_banned_right_turn_is_never_taken(streets: RoadNetwork) -> None:
    """From High Road eastbound (1 -> 2) to the street 2 -> 21 the lorry does not turn right at 2 (relation 701)."""
    pieces = _pieces(streets, (DEPOT, (0.00005, 9.0005), TO_21), [0, 1, 2, 0])
    turns = [(a, b) for a, b in itertools.pairwise(_node_path(streets, pieces)) if a[1] == b[0]]
    assert ((1, 2), (2, 21)) not in turns
    assert any(edge == (2, 21) for edge in _node_path(streets, pieces))


def test_one_way_street_is_driven_one_way(streets: RoadNetwork) -> None:
    """No drawn piece runs 22 -> 21 against the one-way street."""
    pieces = _pieces(streets, (DEPOT, TO_21, (-0.001, 9.0015), BLIND_LANE), [0, 1, 2, 3, 0])
    assert (22, 21) not in _node_path(streets, pieces)
    assert (21, 22) in _node_path(streets, pieces)


def test_busy_road_bin_is_collected_from_the_nearside(streets: RoadNetwork) -> None:
    """A bin north of the primary High Road: where traffic keeps left the lorry passes it eastbound
    (2 -> 3, the bin on its left); where it keeps right, westbound (3 -> 2)."""
    for drives_on, edge in (("left", (2, 3)), ("right", (3, 2))):
        pieces = _pieces(streets, (DEPOT, HIGH_ROAD_NORTH), [0, 1, 0], drives_on=drives_on)
        stop = next(k for k, (_, f0, f1) in enumerate(pieces) if 0.0 < f1 < 1.0)
        assert _node_path(streets, pieces)[stop] == edge, drives_on


def _one_bin_plan(network: RoadNetwork, where: tuple[float, float], **options: object) -> object:
    problem = Problem(depots=(Depot("depot", DEPOT[1], DEPOT[0]),),
                      vehicles=(Vehicle("rcv", "depot", 1000.0),),
                      bins=(Bin("b", where[1], where[0], demand_kg=10.0),))
    return optimise(problem, network, SolveOptions(time_limit_s=1.0, fix_directions=True, **options))  # type: ignore[arg-type]


def test_dead_end_without_a_turning_head_means_reversing(streets: RoadNetwork) -> None:
    """Serving Blind Lane (no turning head at 35) takes one reversing manoeuvre and no U-turn in the street."""
    planned = _one_bin_plan(streets, BLIND_LANE)
    (m,) = planned.manoeuvres.values()  # type: ignore[attr-defined]
    assert (m.reversing, m.u_turns, m.banned_turns) == (1, 0, 0)


def test_dead_end_with_a_turning_circle_turns_there(streets: RoadNetwork) -> None:
    """Serving Circle Close turns round at the turning circle (34): no reversing, no U-turn in the street."""
    planned = _one_bin_plan(streets, CIRCLE_CLOSE)
    (m,) = planned.manoeuvres.values()  # type: ignore[attr-defined]
    assert (m.turning_place_u_turns, m.reversing, m.u_turns) == (1, 0, 0)


def test_bin_only_a_u_turn_reaches_is_unreachable_unless_allowed(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A street 5-6 whose both ways on at 6 are banned (straight on, both directions) is a trap: 6 is no dead
    end, so a lorry may not turn back there. Its bin is unreachable with the reason; allowing U-turns serves it."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.001, 9.001), 4: (0.001, 9.0), 5: (0.0, 9.002), 6: (0.0, 9.003),
             7: (0.0, 9.004), 8: (0.001, 9.004), 9: (0.001, 9.003)}
    ways = [(1, [1, 2, 3, 4, 1], {"highway": "residential"}), (2, [2, 5], {"highway": "residential"}),
            (3, [5, 6], {"highway": "residential"}), (4, [6, 7], {"highway": "residential"}),
            (5, [7, 8, 9, 7], {"highway": "residential"})]
    relations = [(801, [("way", 3, "from"), ("node", 6, "via"), ("way", 4, "to")],
                  {"type": "restriction", "restriction": "no_straight_on"}),
                 (802, [("way", 4, "from"), ("node", 6, "via"), ("way", 3, "to")],
                  {"type": "restriction", "restriction": "no_straight_on"})]
    network = build_network(tools.write_osm_xml(tmp_path / "trap.osm", nodes, ways, relations=relations),
                            simplify=False)
    problem = Problem(depots=(Depot("depot", 9.0005, 0.0),), vehicles=(Vehicle("rcv", "depot", 1000.0),),
                      bins=(Bin("trapped", 9.0025, 0.00001, demand_kg=10.0), Bin("free", 9.0, 0.0005, demand_kg=10.0)))
    strict = optimise(problem, network, SolveOptions(time_limit_s=1.0))
    (left,) = strict.evaluation.unassigned
    assert (left.bin_id, left.reason) == ("trapped", "unreachable") and "allow_u_turns" in left.detail
    relaxed = optimise(problem, network, SolveOptions(time_limit_s=1.0, allow_u_turns=True))
    assert relaxed.evaluation.unassigned == () and relaxed.evaluation.summary.bins_served == 2


def test_leaving_a_tip_the_way_the_lorry_came_is_no_manoeuvre(streets: RoadNetwork) -> None:
    """A tip on Blind Lane: the lorry turns round in its yard and drives back out the way it came,
    counted as no U-turn (a bin at the same place, passed one way, takes the lorry on to reverse at
    the lane's end, 35)."""
    depot, tip_at = Depot("depot", DEPOT[1], DEPOT[0]), BLIND_LANE
    tip = Problem(depots=(depot,), vehicles=(Vehicle("rcv", "depot", 1000.0),),
                  bins=(Bin("b", CIRCLE_CLOSE[1], CIRCLE_CLOSE[0], demand_kg=10.0),),
                  disposal_sites=(DisposalSite("tip", tip_at[1], tip_at[0]),))
    planned = evaluate_plan(tip, streets, [RoutePlan("rcv", ("b", "tip"))], options=SolveOptions())
    (m,) = planned.manoeuvres.values()
    assert (m.u_turns, m.reversing, m.turning_place_u_turns, m.banned_turns) == (0, 0, 1, 0)
    as_bin = Problem(depots=(depot,), vehicles=(Vehicle("rcv", "depot", 1000.0),),
                     bins=(Bin("b", CIRCLE_CLOSE[1], CIRCLE_CLOSE[0], demand_kg=10.0),
                           Bin("lane", tip_at[1], tip_at[0], demand_kg=10.0)))
    planned = evaluate_plan(as_bin, streets, [RoutePlan("rcv", ("b", "lane"))], options=SolveOptions())
    (m,) = planned.manoeuvres.values()
    assert (m.u_turns, m.reversing) == (0, 1)
