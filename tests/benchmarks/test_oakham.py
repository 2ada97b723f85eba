"""Tests of benchmarks/oakham.py's geometry audit: reversals in a drawn line, and the places
(dead ends, turning circles) that make a reversal not a mid-street one."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
import shapely
from pydantic import ValidationError

from solver.network import RoadNetwork, build_network

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "oakham.py"


@pytest.fixture(scope="module")
def script(tools: SimpleNamespace) -> ModuleType:
    """The benchmark script, imported as a module."""
    return tools.import_script(SCRIPT)


def test_an_out_and_back_line_reverses_once_mid_street(script: ModuleType) -> None:
    """Driving 100 m east and back is one reversal, mid-street with no turning place near."""
    line = np.array([[0.0, 0.0], [50.0, 0.0], [100.0, 0.0], [50.0, 0.0], [0.0, 0.0]])
    assert script.reversals_in_line(line, np.empty((0, 2))) == (1, 1)


def test_a_reversal_near_a_turning_place_is_not_mid_street(script: ModuleType) -> None:
    """The same reversal with a dead end 20 m away counts, but not as mid-street; 40 m away
    (beyond the 30 m clearance) it is mid-street again."""
    line = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 0.0]])
    assert script.reversals_in_line(line, np.array([[120.0, 0.0]])) == (1, 0)
    assert script.reversals_in_line(line, np.array([[140.0, 0.0]])) == (1, 1)


def _hairpin(turn_deg: float) -> np.ndarray:
    """50 m east, then 50 m on a heading ``turn_deg`` degrees round from east."""
    back = np.array([np.cos(np.radians(turn_deg)), np.sin(np.radians(turn_deg))]) * 50.0
    return np.array([[0.0, 0.0], [50.0, 0.0], np.array([50.0, 0.0]) + back])


def test_turns_short_of_the_threshold_are_not_reversals(script: ModuleType) -> None:
    """A right-angle turn and a 160-degree hairpin are not reversals; a 170-degree one is
    (165 degrees or more)."""
    none = np.empty((0, 2))
    assert script.reversals_in_line(_hairpin(90.0), none) == (0, 0)
    assert script.reversals_in_line(_hairpin(160.0), none) == (0, 0)
    assert script.reversals_in_line(_hairpin(170.0), none) == (1, 1)


def test_vertices_a_few_centimetres_apart_are_one(script: ModuleType) -> None:
    """A vertex repeated 5 cm on (snapping noise) neither hides the reversal nor adds one."""
    line = np.array([[0.0, 0.0], [100.0, 0.0], [100.05, 0.0], [0.0, 0.0]])
    assert script.reversals_in_line(line, np.empty((0, 2))) == (1, 1)


def test_turn_places_are_the_dead_ends_and_turning_circles(script: ModuleType, tmp_path: Path,
                                                           tools: SimpleNamespace) -> None:
    """On a street with a side street ending in a turning circle, the places to turn round are
    the street's two dead ends and the circle, not the junction."""
    nodes = {1: (52.67, -0.73), 2: (52.67, -0.727), 3: (52.67, -0.724), 4: (52.672, -0.727)}
    ways = [(10, [1, 2, 3], {"highway": "residential"}), (11, [2, 4], {"highway": "residential"})]
    osm = tools.write_osm_xml(tmp_path / "street.osm", nodes, ways,
                              node_tags={4: {"highway": "turning_circle"}})
    network = build_network(osm, simplify=False)
    places = script.turn_places_xy(network)
    x, y = network.to_xy().transform(np.array([-0.73, -0.724, -0.727]), np.array([52.67, 52.67, 52.672]))
    expected = sorted(zip(np.round(x, 1).tolist(), np.round(y, 1).tolist(), strict=True))
    assert sorted(map(tuple, np.round(places, 1).tolist())) == expected


def test_near_finds_points_within_the_distance(script: ModuleType) -> None:
    """A point 0.9 m from another is near it within 1 m; one 1.1 m away is not; with nothing
    to be near, no point is."""
    points = np.array([[0.0, 0.0], [10.0, 0.0]])
    others = np.array([[0.9, 0.0], [11.1, 0.0]])
    assert script.near(points, others, 1.0).tolist() == [True, False]
    assert script.near(points, np.empty((0, 2)), 1.0).tolist() == [False, False]


def _drive(network: RoadNetwork, tools: SimpleNamespace, *osm_nodes: int) -> np.ndarray:
    """The metric line of driving whole edges through ``osm_nodes`` in turn."""
    edges = [tools.edge_index(network, a, b) for a, b in itertools.pairwise(osm_nodes)]
    parts = [shapely.get_coordinates(network.edge_xy[e]) for e in edges]
    return np.concatenate([parts[0], *(part[1:] for part in parts[1:])])


def test_banned_turns_and_sequences_are_counted_in_a_line(script: ModuleType, turns_osm: Path,
                                                          tools: SimpleNamespace) -> None:
    """On the crossroads fixture, the left turn 10-11-20 (relation 901) and the U-turn by way of
    the one-way street 11-12-22-31-30 (relation 903, a via-way sequence) count once each;
    straight on 10-11-12 and the allowed right turn 10-11-21 count nothing."""
    network = build_network(turns_osm, simplify=False)
    index = script.TurnIndex.of(network)
    assert script.banned_turns_in_line(_drive(network, tools, 10, 11, 20), index) == 1
    assert script.banned_turns_in_line(_drive(network, tools, 11, 12, 22, 31, 30), index) == 1
    assert script.banned_turns_in_line(_drive(network, tools, 10, 11, 12), index) == 0
    assert script.banned_turns_in_line(_drive(network, tools, 10, 11, 21), index) == 0


def test_a_turn_from_a_part_driven_edge_is_judged(script: ModuleType, turns_osm: Path,
                                                  tools: SimpleNamespace) -> None:
    """Leaving a stop halfway along 10-11 and turning left to 20 is the banned turn. Driving
    12-11 to a stop halfway to 10, turning round there and going back by 11 to 12 judges two
    turns at 11 (12-11 into 11-10, 10-11 into 11-12), in two runs: the turn at the stop ends
    the first; no U-turn at 11 is made up."""
    network = build_network(turns_osm, simplify=False)
    index = script.TurnIndex.of(network)

    def edge(a: int, b: int) -> int:
        return int(tools.edge_index(network, a, b))

    whole = _drive(network, tools, 10, 11, 20)
    stop = (whole[0] + whole[1]) / 2
    from_stop = np.concatenate([[stop], whole[1:]])
    assert script.driven_turns(from_stop, index) == [[edge(10, 11), edge(11, 20)]]
    assert script.banned_turns_in_line(from_stop, index) == 1
    there_and_back = np.concatenate([_drive(network, tools, 12, 11), [stop], _drive(network, tools, 11, 12)])
    assert script.driven_turns(there_and_back, index) == [[edge(12, 11), edge(11, 10)], [edge(10, 11), edge(11, 12)]]
    assert script.banned_turns_in_line(there_and_back, index) == 0


def test_saved_routes_are_read_from_either_form(script: ModuleType) -> None:
    """An evaluation's routes list gives the rounds as they stand; the before rounds committed
    beside the script hold every bin of the case once, in four rounds."""
    routes = script.plan_routes([{"vehicle_id": "rcv-1", "stops": ["h2", "break", "tip", "h1"]},
                                 {"vehicle_id": "rcv-2", "stops": []}])
    assert [(r.vehicle_id, r.stops) for r in routes] == [("rcv-1", ("h2", "break", "tip", "h1")), ("rcv-2", ())]
    before = script.plan_routes(json.loads((SCRIPT.parent / "oakham_before_routes.json").read_text()))
    bins = [stop for r in before for stop in r.stops if stop.startswith("h")]
    assert [r.vehicle_id for r in before] == ["rcv-1", "rcv-2", "rcv-3", "rcv-4"]
    assert len(bins) == len(set(bins)) == 2603


def test_a_saved_plan_that_is_neither_form_is_refused(script: ModuleType) -> None:
    """A list of rounds without stops is refused naming the field; so is a number."""
    with pytest.raises(ValidationError, match="stops"):
        script.plan_routes([{"vehicle_id": "rcv-1"}])
    with pytest.raises(ValidationError):
        script.plan_routes(42)


def test_turning_back_at_a_tip_is_not_mid_street_but_at_a_bin_is(script: ModuleType, streets_osm: Path) -> None:
    """On the streets fixture, a round out to a tip on Blind Lane and back turns round at the tip,
    in its yard: no mid-street reversal; a bin at the same place with directions free (the lorry
    turns back at it) is one, at a stop."""
    from solver.pipeline import evaluate_plan
    from solver.problem import Bin, Depot, DisposalSite, Problem, SolveOptions, Vehicle
    from solver.solution import RoutePlan

    network = build_network(streets_osm, simplify=False)
    depot, lane = Depot("depot", 9.00002, 0.0005), (9.00102, 0.0015)  # near node 1; on Blind Lane 31-35
    tip = Problem(depots=(depot,), vehicles=(Vehicle("rcv", "depot", 1000.0),),
                  bins=(Bin("b", 9.00002, 0.0009, demand_kg=10.0),), disposal_sites=(DisposalSite("tip", *lane),))
    measured = script.measure(evaluate_plan(tip, network, [RoutePlan("rcv", ("b", "tip"))],
                                            options=SolveOptions()), network)
    assert (measured["plan"]["mid_street_reversals"], measured["plan"]["mid_street_at_stops"]) == (0, 0)
    as_bin = Problem(depots=(depot,), vehicles=(Vehicle("rcv", "depot", 1000.0),),
                     bins=(Bin("b", 9.00002, 0.0009, demand_kg=10.0), Bin("lane", *lane, demand_kg=10.0)))
    measured = script.measure(evaluate_plan(as_bin, network, [RoutePlan("rcv", ("b", "lane"))],
                                            options=SolveOptions(fix_directions=False)), network)
    assert measured["plan"]["mid_street_at_stops"] == 1
