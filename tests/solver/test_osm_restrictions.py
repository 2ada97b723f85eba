"""Tests of reading OSM turn restrictions (solver.osm_restrictions) from hand-made OSM XML:
what binds a refuse lorry is read as node paths, exemptions are counted, malformed
relations are skipped with a warning naming them."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from solver.osm_restrictions import read_turn_restrictions

#: a crossroads 1-2-3 (west-east) and 4-2-5 (north-south), plus a footway 2-6.
CROSS_NODES = {1: (0.0, 8.999), 2: (0.0, 9.0), 3: (0.0, 9.001), 4: (0.001, 9.0), 5: (-0.001, 9.0),
               6: (0.0005, 9.0005)}
CROSS_WAYS = [(1, [1, 2], {"highway": "residential"}), (2, [2, 3], {"highway": "residential"}),
              (3, [4, 2, 5], {"highway": "residential"}), (4, [2, 6], {"highway": "footway"})]


def test_fixture_restrictions_read_as_node_paths(turns_osm: Path) -> None:
    """The turn fixture's via-node and via-way restrictions come out as OSM node paths
    (before, via..., after); the hgv-only one is read as the lorry's restriction."""
    read = read_turn_restrictions(turns_osm)
    by_id = {r.relation_id: r for r in read.restrictions}
    assert set(by_id) == {901, 902, 903, 906}
    assert by_id[901].paths == ((10, 11, 20),) and by_id[901].forbids
    assert by_id[902].paths == ((20, 11, 21),) and not by_id[902].forbids
    assert by_id[903].paths == ((11, 12, 22, 31, 30),) and by_id[903].via_ways == (506,)
    assert by_id[906].restriction == "no_left_turn"
    assert set(read.node_lonlat) == {10, 11, 12, 20, 21, 22, 30, 31}


def test_fixture_counts_exempt_and_skipped(turns_osm: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Of six relations one is exempt (``except=bicycle;hgv``) and one skipped, with one warning
    naming relation 904 and its via node."""
    with caplog.at_level(logging.WARNING, logger="solver.osm_restrictions"):
        read = read_turn_restrictions(turns_osm)
    assert (read.relations, read.exempt, len(read.restrictions)) == (6, 1, 4)
    assert [rid for rid, _ in read.skipped] == [904]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "904" in warnings[0] and "via node 12" in warnings[0]


@pytest.mark.parametrize(("members", "tags", "why"), [
    ([("node", 2, "via"), ("way", 2, "to")], {"restriction": "no_left_turn"}, "no 'from' way"),
    ([("way", 1, "from"), ("node", 2, "via")], {"restriction": "no_left_turn"}, "no 'to' way"),
    ([("way", 1, "from"), ("way", 3, "from"), ("node", 2, "via"), ("way", 2, "to")],
     {"restriction": "no_straight_on"}, "2 'from' ways"),
    ([("way", 1, "from"), ("node", 2, "via"), ("way", 4, "to")], {"restriction": "no_left_turn"},
     "way 4 is not a drivable street"),
    ([("way", 1, "from"), ("node", 2, "via"), ("way", 99, "to")], {"restriction": "no_left_turn"},
     "way 99 is not in the file"),
    ([("way", 1, "from"), ("node", 2, "via"), ("way", 2, "to")], {"restriction": "no_turn_at_all"},
     "unknown restriction value"),
    ([("way", 1, "from"), ("way", 2, "to")], {"restriction": "no_straight_on"}, "exactly one via"),
    ([("way", 1, "from"), ("node", 2, "via"), ("way", 1, "to")], {"restriction": "no_straight_on"},
     "do not form the turn"),
])
def test_malformed_relation_is_skipped_with_its_reason(
        tmp_path: Path, tools: SimpleNamespace, caplog: pytest.LogCaptureFixture,
        members: list[tuple[str, int, str]], tags: dict[str, str], why: str) -> None:
    """Each kind of malformed relation is skipped with a warning naming relation 77 and why."""
    path = tools.write_osm_xml(tmp_path / "cross.osm", CROSS_NODES, CROSS_WAYS,
                               relations=[(77, members, {"type": "restriction", **tags})])
    with caplog.at_level(logging.WARNING, logger="solver.osm_restrictions"):
        read = read_turn_restrictions(path)
    assert read.restrictions == () and [rid for rid, _ in read.skipped] == [77]
    assert why in read.skipped[0][1]
    assert any("77" in r.getMessage() and why in r.getMessage() for r in caplog.records)


def test_from_way_through_the_via_is_read_from_both_sides(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A no_entry with two from ways and a from way running through the via node: every way
    in is read, the through way from both of its sides."""
    path = tools.write_osm_xml(tmp_path / "cross.osm", CROSS_NODES, CROSS_WAYS, relations=[
        (78, [("way", 3, "from"), ("way", 1, "from"), ("node", 2, "via"), ("way", 2, "to")],
         {"type": "restriction", "restriction": "no_entry"})])
    (restriction,) = read_turn_restrictions(path).restrictions
    assert set(restriction.paths) == {(4, 2, 3), (5, 2, 3), (1, 2, 3)}


def test_goods_restriction_binds_and_car_only_relation_does_not(tmp_path: Path, tools: SimpleNamespace) -> None:
    """``restriction:goods`` binds a lorry; a relation with only ``restriction:bus`` does not
    (it counts as exempt)."""
    path = tools.write_osm_xml(tmp_path / "cross.osm", CROSS_NODES, CROSS_WAYS, relations=[
        (79, [("way", 1, "from"), ("node", 2, "via"), ("way", 2, "to")],
         {"type": "restriction", "restriction:goods": "no_straight_on"}),
        (80, [("way", 1, "from"), ("node", 2, "via"), ("way", 3, "to")],
         {"type": "restriction", "restriction:bus": "no_left_turn"})])
    read = read_turn_restrictions(path)
    assert [r.relation_id for r in read.restrictions] == [79] and read.exempt == 1


def test_u_turn_between_two_one_ways_is_read(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A no_u_turn from one carriageway onto the other (two ways meeting at the via node) is
    read; on a single way a U-turn comes back to the node it came from."""
    nodes = {1: (0.0, 8.999), 2: (0.0, 9.0), 3: (0.0001, 8.999)}
    ways = [(1, [1, 2], {"highway": "residential", "oneway": "yes"}),
            (2, [2, 3], {"highway": "residential", "oneway": "yes"})]
    path = tools.write_osm_xml(tmp_path / "dual.osm", nodes, ways, relations=[
        (81, [("way", 1, "from"), ("node", 2, "via"), ("way", 2, "to")],
         {"type": "restriction", "restriction": "no_u_turn"}),
        (82, [("way", 1, "from"), ("node", 2, "via"), ("way", 1, "to")],
         {"type": "restriction", "restriction": "no_u_turn"})])
    by_id = {r.relation_id: r.paths for r in read_turn_restrictions(path).restrictions}
    assert by_id == {81: ((1, 2, 3),), 82: ((1, 2, 1),)}
