"""Tests of the turn facts laid onto a network (solver.network.turns): banned turns and
sequences from OSM relations on unsimplified and simplified graphs, turning places and dead
ends, the disk cache, the GraphML source, and the figures on Rutland."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import osmnx as ox
import pytest

import solver.network.cache as netmod
from solver.network import RoadNetwork, build_network, load_network


def _pairs(network: RoadNetwork) -> set[tuple[tuple[int, int], tuple[int, int]]]:
    """The banned turns as ((u, v), (u, v)) of OSM node ids."""
    osm = network.node_osmid
    return {((int(osm[network.edge_u[i]]), int(osm[network.edge_v[i]])),
             (int(osm[network.edge_u[o]]), int(osm[network.edge_v[o]])))
            for i, o in zip(network.banned_turn_in.tolist(), network.banned_turn_out.tolist(), strict=True)}


def _sequences(network: RoadNetwork) -> list[list[int]]:
    """The banned sequences as OSM node ids along them (start of each edge, then the last end)."""
    osm, offsets = network.node_osmid, network.banned_seq_offsets
    out = []
    for j in range(len(offsets) - 1):
        edges = network.banned_seq_edges[offsets[j]:offsets[j + 1]]
        out.append([int(osm[network.edge_u[e]]) for e in edges] + [int(osm[network.edge_v[edges[-1]]])])
    return out


def test_unsimplified_banned_turns(turns_osm: Path, tools: SimpleNamespace) -> None:
    """On the unsimplified turn fixture: the no_left_turn bans 10-11 -> 11-20; the
    only_straight_on bans every exit from 20-11 but 11-21 (the U-turn included); the hgv-only
    no_left_turn bans 21-11 -> 11-10; each pair names its relation."""
    network = build_network(turns_osm, simplify=False)
    assert _pairs(network) == {
        ((10, 11), (11, 20)),
        ((20, 11), (11, 10)), ((20, 11), (11, 12)), ((20, 11), (11, 20)),
        ((21, 11), (11, 10)),
    }
    first = tools.edge_index(network, 10, 11)
    assert network.banned_turn_relation[network.banned_turn_in == first].tolist() == [901]


def test_via_way_u_turn_is_a_banned_sequence(turns_osm: Path) -> None:
    """The via-way no_u_turn 11-12, down the one-way 12-22-31, back along 31-30 is one banned
    sequence: of four edges unsimplified, of three simplified (22 is merged away, and the
    out-edge runs on from 31 through 30 and 21 to 11, as 30 and 21 are no junctions)."""
    assert _sequences(build_network(turns_osm, simplify=False)) == [[11, 12, 22, 31, 30]]
    simplified = build_network(turns_osm, simplify=True)
    assert _sequences(simplified) == [[11, 12, 31, 11]]
    assert simplified.banned_seq_relation.tolist() == [903]


def test_simplified_only_straight_on_follows_merged_edges(turns_osm: Path, tools: SimpleNamespace) -> None:
    """Simplified, 31-30-21-11 and back are single edges: the only_straight_on still leaves
    11-21-30-31 as the only exit from 20-11, and the hgv no_left_turn comes in along 31-...-11."""
    network = build_network(turns_osm, simplify=True)
    assert _pairs(network) == {
        ((10, 11), (11, 20)),
        ((20, 11), (11, 10)), ((20, 11), (11, 12)), ((20, 11), (11, 20)),
        ((31, 11), (11, 10)),
    }
    assert network.turn_restriction_counts == {
        "relations": 6, "exempt": 1, "skipped": 1, "read": 4, "mapped": 4, "unmapped": 0,
        "banned_turns": 5, "banned_sequences": 1}


def test_one_way_street_has_one_direction(turns_osm: Path, tools: SimpleNamespace) -> None:
    """The one-way 12-22-31 has edges only along it, so no banned turn uses it backwards."""
    network = build_network(turns_osm, simplify=False)
    tools.edge_index(network, 12, 22)
    with pytest.raises(AssertionError):
        tools.edge_index(network, 22, 12)


def test_turning_places_and_dead_ends(turns_osm: Path) -> None:
    """Node 13 (a turning circle) is the only turning place (11's traffic signals are none);
    the dead ends are 10, 13, 20 and 32, with or without a turning circle."""
    for simplify in (False, True):
        network = build_network(turns_osm, simplify=simplify)
        osm = network.node_osmid
        assert set(osm[network.node_turning_place].tolist()) == {13}
        assert set(osm[network.node_dead_end].tolist()) == {10, 13, 20, 32}


def test_restrictions_survive_the_disk_cache(turns_osm: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """A network read back from its cache file holds the same banned turns, sequences,
    counts, turning places and dead ends."""
    monkeypatch.setattr(netmod, "_MEMORY", {})
    built = load_network(turns_osm, cache_dir=tmp_path / "cache")
    netmod._MEMORY.clear()
    with caplog.at_level(logging.INFO, logger="solver.network.cache"):
        cached = load_network(turns_osm, cache_dir=tmp_path / "cache")
    assert cached is not built and any("from cache" in r.getMessage() for r in caplog.records)
    for name in ("banned_turn_in", "banned_turn_out", "banned_turn_relation", "banned_seq_edges",
                 "banned_seq_offsets", "banned_seq_relation", "node_turning_place", "node_dead_end"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(built, name), err_msg=name)
    assert cached.turn_restriction_counts == built.turn_restriction_counts
    assert cached.banned_turn_in.size == 5


def test_graphml_source_has_no_restrictions(turns_osm: Path, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """A GraphML file carries no relations: no banned turn, and a log line says why; its
    turning circle (a node tag osmnx keeps) is still found."""
    graphml = tmp_path / "turns.graphml"
    ox.save_graphml(build_network(turns_osm, simplify=False).graph, graphml)
    with caplog.at_level(logging.INFO, logger="solver.network.turns"):
        network = build_network(graphml, simplify=False)
    assert network.banned_turn_in.size == 0 and network.banned_seq_offsets.tolist() == [0]
    assert any("holds no turn restrictions" in r.getMessage() for r in caplog.records)
    assert network.node_osmid[network.node_turning_place].tolist() == [13]


@pytest.mark.shared
def test_rutland_restrictions_figures(rutland: RoadNetwork) -> None:
    """Rutland's three turn restrictions (all via a node) are read and mapped, none skipped
    (figures in docs/architecture.md, "Turns")."""
    counts = rutland.turn_restriction_counts
    print(f"Rutland turn restrictions: {counts}; turning places {int(rutland.node_turning_place.sum())}, "
          f"dead ends {int(rutland.node_dead_end.sum())} of {rutland.n_nodes} nodes")
    assert counts["relations"] == 3 and counts["read"] == 3 and counts["mapped"] == 3
    assert counts["skipped"] == 0 and counts["banned_turns"] == 3 and counts["banned_sequences"] == 0
    osm = rutland.node_osmid
    assert set(osm[rutland.edge_v[rutland.banned_turn_in]].tolist()) == {8275227706, 8275227703}


def test_restriction_off_the_simplified_graph_is_warned_unmapped(tmp_path: Path, tools: SimpleNamespace,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A no_u_turn at node 2, where two ways of one street meet, binds the unsimplified graph;
    simplified, node 2 is merged away: one warning names relation 55 and it counts unmapped."""
    nodes = {1: (0.0, 8.999), 2: (0.0, 9.0), 3: (0.0, 9.001)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [2, 3], {"highway": "residential"})]
    relations = [(55, [("way", 1, "from"), ("node", 2, "via"), ("way", 1, "to")],
                  {"type": "restriction", "restriction": "no_u_turn"})]
    path = tools.write_osm_xml(tmp_path / "street.osm", nodes, ways, relations=relations)
    assert _pairs(build_network(path, simplify=False)) == {((1, 2), (2, 1))}
    with caplog.at_level(logging.WARNING, logger="solver.network.turns"):
        simplified = build_network(path, simplify=True)
    assert simplified.banned_turn_in.size == 0 and simplified.turn_restriction_counts["unmapped"] == 1
    assert [r.getMessage() for r in caplog.records if "55" in r.getMessage()]


def test_monaco_restrictions_all_mapped(monaco: RoadNetwork) -> None:
    """Monaco's 27 restriction relations (one a U-turn between two one-way carriageways) are
    all read and laid onto the simplified graph as 35 banned turns."""
    counts = monaco.turn_restriction_counts
    assert (counts["relations"], counts["read"], counts["mapped"], counts["skipped"]) == (27, 27, 27, 0)
    assert counts["banned_turns"] == 35 == monaco.banned_turn_in.size
    np.testing.assert_array_equal(monaco.edge_v[monaco.banned_turn_in], monaco.edge_u[monaco.banned_turn_out])


def test_loop_at_the_end_of_a_street_is_no_dead_end(tmp_path: Path, tools: SimpleNamespace) -> None:
    """A close 1-2 ending in a loop 2-3-4-2 has its dead end at 1 only: at 2 a lorry drives round
    the loop, which the simplified graph draws as one edge from 2 back to 2."""
    nodes = {1: (0.0, 8.999), 2: (0.0, 9.0), 3: (0.0005, 9.0005), 4: (-0.0005, 9.0005)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [2, 3, 4, 2], {"highway": "residential"})]
    path = tools.write_osm_xml(tmp_path / "close.osm", nodes, ways)
    for simplify in (False, True):
        network = build_network(path, simplify=simplify)
        assert network.node_osmid[network.node_dead_end].tolist() == [1], simplify


def test_streets_unsimplified_turn_facts(streets_osm: Path) -> None:
    """On the unsimplified streets fixture: the no_right_turn bans 1-2 -> 2-21; the
    only_straight_on bans every exit from 31-2 but 2-21 (the U-turn back to 31 included);
    the via-way no_left_turn is the one sequence 21-2, 2-3, 3-32; each names its relation."""
    network = build_network(streets_osm, simplify=False)
    assert _pairs(network) == {((1, 2), (2, 21)), ((31, 2), (2, 1)), ((31, 2), (2, 3)), ((31, 2), (2, 31))}
    assert _sequences(network) == [[21, 2, 3, 32]]
    assert network.banned_seq_relation.tolist() == [703]
    osm = network.node_osmid
    by_relation = {int(r): (int(osm[network.edge_u[i]]), int(osm[network.edge_v[i]]))
                   for i, r in zip(network.banned_turn_in.tolist(), network.banned_turn_relation.tolist(),
                                   strict=True)}
    assert by_relation == {701: (1, 2), 702: (31, 2)}


def test_streets_simplified_turn_facts(streets_osm: Path) -> None:
    """Simplified, 1, 11, 4 and 23 are merged away: the no_right_turn comes in along the one edge
    31-11-1-2, and the only_straight_on from 31-2 also bans the long way back 2-1-11-31 (a second
    edge from 2 to 31); the via-way sequence keeps its three edges."""
    network = build_network(streets_osm, simplify=True)
    assert set(network.node_osmid.tolist()) == {2, 3, 21, 22, 31, 32, 34, 35}
    assert _sequences(network) == [[21, 2, 3, 32]]
    assert sorted(network.banned_turn_relation.tolist()) == [701, 702, 702, 702]
    assert _pairs(network) == {((31, 2), (2, 21)), ((31, 2), (2, 3)), ((31, 2), (2, 31))}
    long_in = network.banned_turn_in[network.banned_turn_relation == 701]
    assert network.edge_length_m[long_in] == pytest.approx([333.6], abs=0.5)


def test_streets_malformed_relation_is_skipped_with_a_warning(streets_osm: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Relation 704 points at way 699, which the file lacks: it is skipped, with one warning
    naming the relation and the way, and counted; the other three relations still apply."""
    with caplog.at_level(logging.WARNING, logger="solver.osm_restrictions"):
        network = build_network(streets_osm, simplify=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["skipping turn restriction relation 704: member way 699 is not in the file"]
    counts = network.turn_restriction_counts
    assert (counts["relations"], counts["skipped"], counts["read"], counts["mapped"]) == (4, 1, 3, 3)


def test_streets_turning_places_dead_ends_and_one_way(streets_osm: Path, tools: SimpleNamespace) -> None:
    """Both ways of building: 34 (a turning circle closing Circle Close) is the one turning
    place, 34 and 35 (Blind Lane, no turning head) the dead ends; 2's traffic signals are no
    turning place; the one-way 21 -> 22 has no twin, the primary's edges all have one."""
    for simplify in (False, True):
        network = build_network(streets_osm, simplify=simplify)
        osm = network.node_osmid
        assert osm[network.node_turning_place].tolist() == [34], simplify
        assert sorted(osm[network.node_dead_end].tolist()) == [34, 35], simplify
        one_way = tools.edge_index(network, 21, 22)
        assert network.edge_twin[one_way] == -1
        with pytest.raises(AssertionError):
            tools.edge_index(network, 22, 21)
        assert network.edge_twin[tools.edge_index(network, 2, 3)] == tools.edge_index(network, 3, 2)


@pytest.mark.parametrize(("value", "to_way", "banned", "sequences"), [
    ("no_right_turn", 4, {((1, 3), (3, 5))}, [[1, 2, 3, 5]]),
    ("only_straight_on", 3, {((1, 3), (3, 5)), ((1, 3), (3, 1))}, [[1, 2, 3, 2], [1, 2, 3, 5]]),
])
def test_via_way_merged_into_the_in_edge(tmp_path: Path, tools: SimpleNamespace, value: str, to_way: int,
                                         banned: set[tuple[tuple[int, int], tuple[int, int]]],
                                         sequences: list[list[int]]) -> None:
    """From 1-2 via the way 2-3, where only those two ways meet at 2: simplified, they are one edge
    1-2-3 and the restriction binds the turns at 3 off that edge (unsimplified, a sequence of three
    edges); it used to be dropped as lying off the graph."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.002), 4: (0.0, 9.003), 5: (-0.001, 9.002)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [2, 3], {"highway": "residential"}),
            (3, [3, 4], {"highway": "residential"}), (4, [3, 5], {"highway": "residential"})]
    relations = [(801, [("way", 1, "from"), ("way", 2, "via"), ("way", to_way, "to")],
                  {"type": "restriction", "restriction": value})]
    path = tools.write_osm_xml(tmp_path / "merged.osm", nodes, ways, relations=relations)
    simplified = build_network(path, simplify=True)
    assert _pairs(simplified) == banned and simplified.banned_seq_offsets.tolist() == [0]
    assert simplified.turn_restriction_counts["unmapped"] == 0
    plain = build_network(path, simplify=False)
    assert sorted(_sequences(plain)) == sequences
