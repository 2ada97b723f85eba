"""Tests of solver.osm_filter: Overpass tag rules, osmnx's drive rules, and the offline
OSM -> drivable OSM XML step (including ways clipped at the edge of an extract)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import networkx as nx
import pytest
from osmnx import _overpass

from solver.network import RoadNetwork
from solver.osm_filter import (
    TagRule,
    drive_filter,
    is_osm_file,
    parse_overpass_filter,
    write_drivable_xml,
)

RESIDENTIAL = {"highway": "residential"}
NetworkFactory = Callable[..., RoadNetwork]


def drives(tags: dict[str, str]) -> bool:
    """Whether a way with ``tags`` passes every rule of the drive filter."""
    return all(rule.accepts(tags) for rule in drive_filter())


# --- Overpass filter parsing and semantics ------------------------------------------------


def test_parse_reads_every_operator() -> None:
    """Each clause becomes one TagRule with its key, operator and value, in order."""
    rules = parse_overpass_filter('["highway"]["area"!~"yes"]["service"="alley"]'
                                  '["access"!="no"]["name"~"^Rue"]')
    assert rules == (
        TagRule("highway", "exists"),
        TagRule("area", "!~", "yes"),
        TagRule("service", "=", "alley"),
        TagRule("access", "!=", "no"),
        TagRule("name", "~", "^Rue"),
    )


def test_parse_without_clause_raises() -> None:
    """Text holding no ``["key"...]`` clause is an error, not an empty (accept-all) filter."""
    with pytest.raises(ValueError, match="no tag clause"):
        parse_overpass_filter("highway=residential")


def test_not_match_passes_when_key_absent() -> None:
    """``!~`` accepts a way that lacks the key altogether (Overpass semantics)."""
    assert TagRule("area", "!~", "yes").accepts({"highway": "residential"})


def test_not_match_rejects_matching_value() -> None:
    """``!~`` rejects a way whose value matches the pattern and accepts one that does not."""
    rule = TagRule("area", "!~", "yes")
    assert not rule.accepts({"area": "yes"})
    assert rule.accepts({"area": "no"})


def test_not_match_is_an_unanchored_search() -> None:
    """Like Overpass, the regex may match anywhere in the value (``path`` hits ``footpath``)."""
    assert not TagRule("highway", "!~", "path").accepts({"highway": "footpath"})


def test_match_requires_the_key() -> None:
    """``~`` rejects a way without the key, and accepts a matching value."""
    rule = TagRule("name", "~", "^Rue")
    assert not rule.accepts({})
    assert rule.accepts({"name": "Rue Grimaldi"})


def test_exists_requires_the_key() -> None:
    """A bare ``["key"]`` clause accepts any value but not a missing key."""
    rule = TagRule("highway", "exists")
    assert rule.accepts({"highway": "anything"})
    assert not rule.accepts({"name": "x"})


def test_not_equal_passes_when_key_absent() -> None:
    """``!=`` accepts a missing key and rejects the exact value only."""
    rule = TagRule("access", "!=", "no")
    assert rule.accepts({})
    assert rule.accepts({"access": "no;destination"})
    assert not rule.accepts({"access": "no"})


# --- osmnx's drive rules -------------------------------------------------------------------


def test_drive_filter_is_osmnx_drive_filter() -> None:
    """The rules are read from the installed osmnx, so both keep the same ways."""
    assert drive_filter() == parse_overpass_filter(_overpass._get_network_filter("drive"))


def test_drive_keeps_residential() -> None:
    """A plain residential street is drivable."""
    assert drives(RESIDENTIAL)


def test_drive_keeps_residential_with_unrelated_tags() -> None:
    """Tags the filter does not mention (name, oneway, maxspeed) do not exclude a street."""
    assert drives({**RESIDENTIAL, "name": "Rue Grimaldi", "oneway": "yes", "maxspeed": "30 mph"})


@pytest.mark.parametrize("tags", [
    {"highway": "footway"},
    {"highway": "service", "service": "driveway"},
    {"highway": "residential", "service": "driveway"},
    {"highway": "residential", "access": "private"},
    {"highway": "pedestrian", "area": "yes"},
    {"highway": "residential", "motor_vehicle": "no"},
    {"name": "no highway tag"},
], ids=["footway", "service-driveway", "driveway-on-residential", "access-private", "area",
        "motor_vehicle-no", "no-highway"])
def test_drive_drops_non_drivable_ways(tags: dict[str, str]) -> None:
    """Footways, driveways, private access, areas, motor-vehicle bans and non-highways are dropped."""
    assert not drives(tags)


def test_is_osm_file_by_suffix() -> None:
    """OSM XML/PBF/compressed names are recognised whatever their case; others are not."""
    for name in ("a.osm", "a.osm.pbf", "A.OSM.PBF", "a.osm.bz2", "a.osm.gz", "a.xml"):
        assert is_osm_file(Path(name)), name
    for name in ("a.graphml", "a.shp", "a.geojson", "osm"):
        assert not is_osm_file(Path(name)), name


# --- write_drivable_xml on hand-made files ------------------------------------------------


def test_write_keeps_only_drivable_ways_and_their_nodes(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A footway and its own nodes are left out; the residential street and its nodes stay."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.001, 9.0), 4: (0.001, 9.001)}
    ways = [(10, [1, 2], RESIDENTIAL), (11, [3, 4], {"highway": "footway"})]
    source = tools.write_osm_xml(tmp_path / "in.osm", nodes, ways)
    stats = write_drivable_xml(source, tmp_path / "out.osm")
    root = ElementTree.parse(tmp_path / "out.osm").getroot()
    assert (stats.ways_read, stats.ways_kept, stats.ways_split, stats.nodes_written) == (2, 1, 0, 2)
    assert [w.get("id") for w in root.iter("way")] == ["10"]
    assert sorted(int(n.get("id")) for n in root.iter("node")) == [1, 2]


def test_write_keeps_the_highway_tag_of_used_nodes(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A used node's ``highway`` tag (a turning circle) is written, and only that tag; an unused
    tagged node is left out."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.001, 9.0)}
    node_tags = {2: {"highway": "turning_circle", "name": "The Close"}, 3: {"highway": "turning_circle"}}
    source = tools.write_osm_xml(tmp_path / "in.osm", nodes, [(10, [1, 2], RESIDENTIAL)], node_tags=node_tags)
    write_drivable_xml(source, tmp_path / "out.osm")
    root = ElementTree.parse(tmp_path / "out.osm").getroot()
    tags = {int(n.get("id")): {t.get("k"): t.get("v") for t in n.iter("tag")} for n in root.iter("node")}
    assert tags == {1: {}, 2: {"highway": "turning_circle"}}


def test_write_escapes_tag_values(osm_network: NetworkFactory) -> None:
    """Tag values with quotes, ampersands and angle brackets survive into the graph intact."""
    name = 'Rue "A" & <B> l\'Église'
    network = osm_network({1: (0.0, 9.0), 2: (0.0, 9.001)}, [(10, [1, 2], {**RESIDENTIAL, "name": name})])
    assert {data["name"] for _, _, data in network.graph.edges(data=True)} == {name}


def test_way_with_missing_node_is_split(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A way through a node absent from the file becomes two ways, one each side of the gap."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.002), 5: (0.0, 9.004), 6: (0.0, 9.005)}
    source = tools.write_osm_xml(tmp_path / "in.osm", nodes, [(10, [1, 2, 3, 4, 5, 6], RESIDENTIAL)])
    stats = write_drivable_xml(source, tmp_path / "out.osm")
    root = ElementTree.parse(tmp_path / "out.osm").getroot()
    runs = [[int(nd.get("ref")) for nd in way.iter("nd")] for way in root.iter("way")]
    assert (stats.ways_kept, stats.ways_split) == (2, 1)
    assert sorted(runs) == [[1, 2, 3], [5, 6]]
    assert len({way.get("id") for way in root.iter("way")}) == 2


def test_no_edge_crosses_a_missing_node(osm_network: NetworkFactory) -> None:
    """The built network has no edge from one side of the gap to the other, nor the missing node."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.002), 5: (0.0, 9.004), 6: (0.0, 9.005)}
    network = osm_network(nodes, [(10, [1, 2, 3, 4, 5, 6], RESIDENTIAL)])
    graph = network.graph
    assert 4 not in graph
    assert not graph.has_edge(3, 5) and not graph.has_edge(5, 3)
    parts = sorted(sorted(c) for c in nx.weakly_connected_components(graph))
    assert parts == [[1, 2, 3], [5, 6]]
    # no edge is longer than one 0.001-degree step (~111 m): nothing spans the 222 m gap
    assert network.edge_length_m.max() < 112.0


def test_way_whose_only_present_node_is_one_is_dropped(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A run of a single present node cannot form an edge and is not written."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 7: (0.002, 9.0)}
    ways = [(10, [1, 2], RESIDENTIAL), (11, [7, 8, 9], RESIDENTIAL)]
    source = tools.write_osm_xml(tmp_path / "in.osm", nodes, ways)
    stats = write_drivable_xml(source, tmp_path / "out.osm")
    root = ElementTree.parse(tmp_path / "out.osm").getroot()
    assert stats.ways_kept == 1
    assert sorted(int(n.get("id")) for n in root.iter("node")) == [1, 2]
