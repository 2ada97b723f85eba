"""A lorry turns round by reversing into a side way (a driveway, yard or farm track joining the road).

The fixture: a 2.2 km country lane from a junction west (node 1) to a junction east (node 4), the
only other way between them a 4.4 km loop to the north; a farm driveway (``highway=service``) joins
the lane 555 m from the west end (node 2). A bin stands just before the driveway. A lorry that may
not turn in the lane collects it either by driving on and round the loop, or, with side ways, by
reversing into the driveway: a reversing manoeuvre, never a U-turn in the lane.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solver.network import RoadNetwork, build_network
from solver.pipeline import optimise
from solver.problem import Bin, Depot, Problem, SolveOptions, Vehicle
from tests.conftest import write_osm_xml

#: lat, lon (the fixture lies on the equator: 0.001 degree ~ 111 m)
NODES = {1: (0.0, 9.0), 2: (0.0, 9.005), 3: (0.0, 9.01), 4: (0.0, 9.02),
         5: (0.02, 9.02), 6: (0.02, 9.0), 7: (0.001, 9.0), 8: (-0.001, 9.0),
         9: (-0.0004, 9.005)}
WAYS = [
    (101, [7, 1, 2, 3, 4], {"highway": "unclassified", "name": "Long Lane"}),
    (102, [4, 5, 6, 7], {"highway": "unclassified", "name": "Top Road"}),
    (103, [1, 8], {"highway": "unclassified", "name": "South Road"}),
    (104, [2, 9], {"highway": "service", "service": "driveway"}),
]
DEPOT = (0.0012, 9.00002)  # on Top Road near node 7, north of the lane's west end
FARM_BIN = (0.00004, 9.0048)  # on Long Lane, just west of the driveway


@pytest.fixture
def lane(tmp_path: Path) -> RoadNetwork:
    """The country lane fixture, simplified as the service loads it."""
    return build_network(write_osm_xml(tmp_path / "lane.osm", NODES, WAYS), simplify=True)


def _plan(network: RoadNetwork, **options: object) -> tuple[float, dict[str, int]]:
    problem = Problem(depots=(Depot("depot", DEPOT[1], DEPOT[0]),),
                      bins=(Bin("farm", FARM_BIN[1], FARM_BIN[0], demand_kg=10.0),),
                      vehicles=(Vehicle("v", "depot", 1000.0),))
    planned = optimise(problem, network, SolveOptions(time_limit_s=1.0, fix_directions=True, **options))  # type: ignore[arg-type]
    assert planned.evaluation.summary.bins_served == 1
    manoeuvres = planned.manoeuvres["v"]
    return planned.evaluation.summary.distance_m, {"u_turns": manoeuvres.u_turns, "reversing": manoeuvres.reversing}


def test_the_node_where_a_side_way_joins_is_kept_and_marked(lane: RoadNetwork) -> None:
    """Simplifying the graph keeps node 2 (where only the driveway joins the lane) and marks it as a
    side way; no other node is marked, and the driveway itself is no street to route along."""
    marked = {int(n) for n in lane.node_osmid[lane.node_side_way]}
    assert marked == {2}
    assert 9 not in set(lane.node_osmid.tolist())


def test_the_lorry_reverses_into_the_driveway_rather_than_driving_round(lane: RoadNetwork) -> None:
    """With side ways (the default) the farm bin costs a drive to the driveway and back, reversing once;
    without them the lorry drives on and round the loop: several kilometres more, still no U-turn."""
    near, near_moves = _plan(lane)
    far, far_moves = _plan(lane, turn_in_side_ways=False)
    assert near_moves == {"u_turns": 0, "reversing": 1}
    assert far_moves["u_turns"] == 0 and far_moves["reversing"] == 0
    assert near < 2000.0 < 4000.0 < far


def test_side_ways_are_read_only_from_the_osm_file(tmp_path: Path) -> None:
    """A lane whose driveway is tagged as a footpath has no side way: a footpath is no place to reverse a lorry."""
    ways = [*WAYS[:3], (104, [2, 9], {"highway": "footway"})]
    network = build_network(write_osm_xml(tmp_path / "lane.osm", NODES, ways), simplify=True)
    assert not np.any(network.node_side_way)
