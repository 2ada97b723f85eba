"""Tests of solver.network: building directed drive graphs from OSM files and GraphML,
edge speeds and travel times per vehicle profile, the array views (twins, CSR of the
quickest parallel edge, components), the memory and disk caches, source parsing, and
access restrictions (tag parsing, per-edge limits, access profiles, allowed edges and
per-profile road graphs)."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import scipy.sparse as sp
import shapely

import solver.cache_file as cache_format
import solver.network as netmod
import solver.network.cache as netcache
from solver.network import (
    CAR,
    REFUSE_TRUCK,
    NetworkSource,
    RoadNetwork,
    SpeedProfile,
    cache_key,
    load_network,
    utm_crs,
)
from solver.osm_filter import write_drivable_xml

NetworkFactory = Callable[..., RoadNetwork]
MPH_TO_KPH = 1.60934  # osmnx's conversion factor

#: a straight east-west street of four 0.001-degree (~111 m) blocks on the equator:
#: 1-2 residential untagged (two-way), 2-3 residential 30 mph one-way,
#: 3-4 motorway 130 km/h, 4-5 residential 20 km/h.
LINE_NODES = {i: (0.0, 9.0 + 0.001 * (i - 1)) for i in range(1, 6)}
LINE_WAYS = [
    (10, [1, 2], {"highway": "residential"}),
    (11, [2, 3], {"highway": "residential", "oneway": "yes", "maxspeed": "30 mph"}),
    (12, [3, 4], {"highway": "motorway", "maxspeed": "130"}),
    (13, [4, 5], {"highway": "residential", "maxspeed": "20"}),
]

#: two ways between nodes 1 and 2: a straight slow one (20 km/h, ~111 m) and a detour via
#: node 3 (60 km/h, ~157 m) that is longer but quicker; spurs 7-1 and 2-8 keep 1 and 2
#: as intersections when the graph is simplified (node 3 is then dropped).
PARALLEL_NODES = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0005, 9.0005), 7: (0.0, 8.999), 8: (0.0, 9.002)}
PARALLEL_WAYS = [
    (10, [1, 2], {"highway": "residential", "maxspeed": "20"}),
    (11, [1, 3, 2], {"highway": "residential", "maxspeed": "60"}),
    (12, [7, 1], {"highway": "residential"}),
    (13, [2, 8], {"highway": "residential"}),
]


@pytest.fixture
def line(osm_network: NetworkFactory) -> RoadNetwork:
    """The hand-made straight street (refuse-truck speeds, unsimplified)."""
    return osm_network(LINE_NODES, LINE_WAYS)


@pytest.fixture
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> dict[str, RoadNetwork]:
    """An empty in-memory network cache for one test (the session's is restored after)."""
    memory: dict[str, RoadNetwork] = {}
    monkeypatch.setattr(netcache, "_MEMORY", memory)
    return memory


def _edge_data(network: RoadNetwork, u: int, v: int) -> dict:
    """Attributes of the only graph edge between OSM nodes ``u`` and ``v``."""
    edges = network.graph.get_edge_data(u, v)
    assert edges is not None and len(edges) == 1
    return next(iter(edges.values()))


def _edge_table(network: RoadNetwork) -> dict[tuple[int, int, int], tuple[float, float]]:
    """(u osmid, v osmid, key) -> (length m, time s) of every edge."""
    osm = network.node_osmid
    return {(int(osm[u]), int(osm[v]), int(k)): (float(length), float(t))
            for u, v, k, length, t in zip(network.edge_u, network.edge_v, network.edge_key,
                                          network.edge_length_m, network.edge_time_s, strict=True)}


# --- Monaco: size, directions, components --------------------------------------------------


def osmnx_largest_part(network: RoadNetwork, tmp_path: Path) -> int:
    """The size of the largest strongly connected part of osmnx's own simplified drive graph of
    ``network``'s OSM file (no node kept for a side way), after checking that ``network`` keeps every
    node osmnx keeps and only side-way nodes besides."""
    xml = tmp_path / "drive.osm"
    write_drivable_xml(Path(network.source.value), xml)
    reference = ox.graph_from_xml(xml, simplify=True, retain_all=True)
    ours = {int(n) for n in network.node_osmid}
    extra = ours - set(reference.nodes)
    assert set(reference.nodes) <= ours
    assert extra and extra <= {int(n) for n in network.node_osmid[network.node_side_way]}
    return max(len(part) for part in nx.strongly_connected_components(reference))


def test_monaco_largest_strongly_connected_component(monaco: RoadNetwork, tmp_path: Path) -> None:
    """Monaco's largest strongly connected part has 1,258 nodes, as measured with osmnx's drive filter,
    and ours more: the same streets, with the nodes where side ways join (solver.network.turns.side_ways)."""
    sizes = np.bincount(monaco.node_component)
    assert osmnx_largest_part(monaco, tmp_path) == 1258
    assert sizes.max() == sizes[monaco.largest_component()] > 1258


def test_monaco_keeps_every_weak_component(monaco: RoadNetwork) -> None:
    """All islands of the extract are kept (retain_all): more nodes than the 1,274 of the
    largest weakly connected part, which alone matches osmnx's default."""
    assert monaco.n_nodes > 1274
    assert monaco.n_nodes == monaco.graph.number_of_nodes()
    assert monaco.n_edges == monaco.graph.number_of_edges()


def test_monaco_is_projected_to_utm_32n(monaco: RoadNetwork) -> None:
    """Monaco (7.4 E, 43.7 N) is drawn in UTM zone 32N and its edges start and end at their nodes."""
    assert monaco.crs == "EPSG:32632"
    x, y = monaco.to_xy().transform(monaco.node_lonlat[:, 0], monaco.node_lonlat[:, 1])
    node_xy = np.column_stack([x, y])
    first = shapely.get_coordinates(shapely.get_point(monaco.edge_xy, 0))
    last = shapely.get_coordinates(shapely.get_point(monaco.edge_xy, -1))
    np.testing.assert_allclose(first, node_xy[monaco.edge_u], atol=0.01)
    np.testing.assert_allclose(last, node_xy[monaco.edge_v], atol=0.01)


def test_monaco_twins_are_mutual_reverses(monaco: RoadNetwork) -> None:
    """Every twin runs v -> u of its edge and is twinned back (twin of twin is the edge)."""
    has = np.flatnonzero(monaco.edge_twin >= 0)
    twin = monaco.edge_twin[has]
    assert has.size > 1000
    np.testing.assert_array_equal(monaco.edge_u[twin], monaco.edge_v[has])
    np.testing.assert_array_equal(monaco.edge_v[twin], monaco.edge_u[has])
    np.testing.assert_array_equal(monaco.edge_twin[twin], has)


def test_monaco_one_way_edges_have_no_twin(monaco: RoadNetwork) -> None:
    """Edges osmnx marks one-way are never twinned, and there are many of them."""
    oneway = np.array([bool(d["oneway"]) for _, _, d in monaco.graph.edges(data=True)])
    assert oneway.sum() > 100
    assert (monaco.edge_twin[oneway] == -1).all()


def test_monaco_two_way_edges_have_twins(monaco: RoadNetwork) -> None:
    """Every two-way edge that is not a loop has its twin."""
    oneway = np.array([bool(d["oneway"]) for _, _, d in monaco.graph.edges(data=True)])
    two_way = ~oneway & (monaco.edge_u != monaco.edge_v)
    assert (monaco.edge_twin[two_way] >= 0).all()


# --- hand-made: one-way and two-way ---------------------------------------------------------


def test_one_way_street_has_no_reverse_edge(line: RoadNetwork, tools: SimpleNamespace) -> None:
    """The one-way block 2 -> 3 has an edge forward only, and no twin."""
    assert line.graph.has_edge(2, 3)
    assert not line.graph.has_edge(3, 2)
    assert line.edge_twin[tools.edge_index(line, 2, 3)] == -1


def test_two_way_street_has_a_twin(line: RoadNetwork, tools: SimpleNamespace) -> None:
    """The two-way block 1 - 2 has one edge each way, each the other's twin."""
    forward, backward = tools.edge_index(line, 1, 2), tools.edge_index(line, 2, 1)
    assert line.edge_twin[forward] == backward
    assert line.edge_twin[backward] == forward


# --- speeds and travel times ----------------------------------------------------------------


def test_lengths_are_great_circle_metres(line: RoadNetwork, tools: SimpleNamespace) -> None:
    """Each ~0.001-degree block is as long as the great circle between its nodes (~111.2 m)."""
    for (u, v), expected in {(1, 2): tools.great_circle_m(0, 9.0, 0, 9.001),
                             (3, 4): tools.great_circle_m(0, 9.002, 0, 9.003)}.items():
        assert line.edge_length_m[tools.edge_index(line, u, v)] == pytest.approx(expected, rel=1e-6)
    assert tools.great_circle_m(0, 9.0, 0, 9.001) == pytest.approx(111.195, abs=0.001)


def test_untagged_residential_gets_profile_highway_speed(line: RoadNetwork) -> None:
    """An untagged residential street is posted at the profile's 48 km/h; the truck drives 80 %."""
    data = _edge_data(line, 1, 2)
    assert data["posted_speed_kph"] == pytest.approx(48.0)
    assert data["speed_kph"] == pytest.approx(48.0 * 0.8)


def test_maxspeed_in_mph_is_converted_and_scaled(line: RoadNetwork) -> None:
    """``maxspeed=30 mph`` is 48.28 km/h posted, 80 % of it for the refuse truck."""
    data = _edge_data(line, 2, 3)
    assert data["posted_speed_kph"] == pytest.approx(30 * MPH_TO_KPH)
    assert data["speed_kph"] == pytest.approx(30 * MPH_TO_KPH * 0.8)


def test_maxspeed_is_capped_at_profile_max(line: RoadNetwork) -> None:
    """A 130 km/h motorway is driven at the truck's 80 km/h cap, not at 0.8 * 130 = 104."""
    data = _edge_data(line, 3, 4)
    assert data["posted_speed_kph"] == pytest.approx(130.0)
    assert data["speed_kph"] == pytest.approx(REFUSE_TRUCK.max_speed_kph)


def test_travel_time_is_length_over_speed_by_hand(line: RoadNetwork, tools: SimpleNamespace) -> None:
    """The 20 km/h block (16 km/h for the truck) of ~111.2 m takes 111.2 / (16 / 3.6) ~ 25.0 s."""
    expected = tools.great_circle_m(0, 9.003, 0, 9.004) / (20 * 0.8 / 3.6)
    assert line.edge_time_s[tools.edge_index(line, 4, 5)] == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(25.02, abs=0.01)


def test_car_profile_drives_posted_speed(osm_network: NetworkFactory) -> None:
    """The car drives the posted speed, including 130 km/h on the motorway (under its 200 cap)."""
    car = osm_network(LINE_NODES, LINE_WAYS, profile=CAR)
    assert _edge_data(car, 3, 4)["speed_kph"] == pytest.approx(130.0)
    assert _edge_data(car, 1, 2)["speed_kph"] == pytest.approx(48.0)


def test_monaco_tagged_maxspeed_scaled_and_capped(monaco: RoadNetwork) -> None:
    """On Monaco, every edge with a plain numeric maxspeed drives min(0.8 * maxspeed, 80)."""
    checked = 0
    for _, _, data in monaco.graph.edges(data=True):
        tag = data.get("maxspeed")
        if isinstance(tag, str) and tag.isdigit():
            assert data["speed_kph"] == pytest.approx(min(0.8 * float(tag), 80.0))
            checked += 1
    assert checked > 100


def test_monaco_untagged_residential_speed(monaco: RoadNetwork) -> None:
    """On Monaco, untagged residential edges are driven at 0.8 * 48 = 38.4 km/h."""
    speeds = [d["speed_kph"] for _, _, d in monaco.graph.edges(data=True)
              if d.get("highway") == "residential" and "maxspeed" not in d]
    assert len(speeds) > 500
    np.testing.assert_allclose(speeds, 38.4)


def test_monaco_travel_time_is_length_over_speed(monaco: RoadNetwork) -> None:
    """Every edge's time (s) is its length (m) over its speed (m/s), and the arrays agree (an edge of no
    length, between two OSM nodes at one place, takes a microsecond: routing reads 0 as no edge)."""
    data = [d for _, _, d in monaco.graph.edges(data=True)]
    length = np.array([d["length"] for d in data])
    speed = np.array([d["speed_kph"] for d in data])
    np.testing.assert_allclose([d["travel_time"] for d in data], length / (speed / 3.6), rtol=1e-12)
    np.testing.assert_allclose(monaco.edge_time_s, np.maximum(length / (speed / 3.6), 1e-6), rtol=1e-12)
    np.testing.assert_allclose(monaco.edge_length_m, length, rtol=1e-12)


def test_refuse_truck_never_faster_than_car(monaco: RoadNetwork, network_cache_dir: Path,
                                            tools: SimpleNamespace) -> None:
    """On every Monaco edge the truck takes at least as long as the car, and somewhere longer."""
    car = load_network(tools.monaco_pbf, profile=CAR, cache_dir=network_cache_dir)
    truck_t, car_t = _edge_table(monaco), _edge_table(car)
    assert truck_t.keys() == car_t.keys()
    slower = [truck_t[e][1] >= car_t[e][1] * (1 - 1e-12) for e in truck_t]
    assert all(slower)
    assert sum(truck_t[e][1] > car_t[e][1] for e in truck_t) > 0.9 * len(truck_t)


# --- the CSR of quickest parallel edges -------------------------------------------------------


def test_parallel_edges_keep_the_quickest_not_the_sum(osm_network: NetworkFactory,
                                                      tools: SimpleNamespace) -> None:
    """Between 1 and 2 the CSR holds the quick 60 km/h detour (~11.8 s, ~157 m), not the
    slow straight way (~25.0 s, ~111 m) nor their sum."""
    network = osm_network(PARALLEL_NODES, PARALLEL_WAYS, simplify=True)
    a, b = tools.node_index(network, 1), tools.node_index(network, 2)
    assert network.graph.number_of_edges(1, 2) == 2
    detour_m = 2 * tools.great_circle_m(0.0, 9.0, 0.0005, 9.0005)
    straight_m = tools.great_circle_m(0.0, 9.0, 0.0, 9.001)
    quick_s, slow_s = detour_m / (48 / 3.6), straight_m / (16 / 3.6)
    for u, v in ((a, b), (b, a)):
        assert network.csr_time[u, v] == pytest.approx(quick_s, rel=1e-6)
        assert network.csr_time[u, v] != pytest.approx(quick_s + slow_s, rel=1e-3)
        assert network.csr_length[u, v] == pytest.approx(detour_m, rel=1e-6)
    assert quick_s == pytest.approx(11.79, abs=0.01) and slow_s == pytest.approx(25.02, abs=0.01)


def test_parallel_edges_csr_edge_names_the_quickest(osm_network: NetworkFactory,
                                                    tools: SimpleNamespace) -> None:
    """The CSR entry 1 -> 2 points (csr_edge) at the edge of the detour way, which has a twin."""
    network = osm_network(PARALLEL_NODES, PARALLEL_WAYS, simplify=True)
    a, b = tools.node_index(network, 1), tools.node_index(network, 2)
    row = slice(network.csr_time.indptr[a], network.csr_time.indptr[a + 1])
    pos = row.start + int(np.flatnonzero(network.csr_time.indices[row] == b)[0])
    edge = int(network.csr_edge[pos])
    u, v, k = int(network.edge_u[edge]), int(network.edge_v[edge]), int(network.edge_key[edge])
    assert (u, v) == (a, b)
    assert network.graph.edges[1, 2, k]["osmid"] == 11
    twin = int(network.edge_twin[edge])
    assert network.graph.edges[2, 1, int(network.edge_key[twin])]["osmid"] == 11


def test_monaco_csr_is_the_minimum_over_parallel_edges(monaco: RoadNetwork) -> None:
    """For every connected node pair, the CSR time is the least edge time, its length that
    same edge's length, and csr_edge that edge."""
    best: dict[tuple[int, int], float] = {}
    for u, v, t in zip(monaco.edge_u.tolist(), monaco.edge_v.tolist(), monaco.edge_time_s.tolist(),
                       strict=True):
        best[(u, v)] = min(t, best.get((u, v), np.inf))
    coo = sp.coo_array(monaco.csr_time)
    assert coo.nnz == len(best)
    got = dict(zip(zip(coo.row.tolist(), coo.col.tolist(), strict=True), coo.data.tolist(), strict=True))
    assert got == best
    e = monaco.csr_edge
    np.testing.assert_array_equal(monaco.csr_time.data, monaco.edge_time_s[e])
    np.testing.assert_array_equal(monaco.csr_length.data, monaco.edge_length_m[e])


# --- errors while building ------------------------------------------------------------------


def test_file_without_drivable_street_raises(osm_network: NetworkFactory) -> None:
    """A file holding only a footway is a clear ValueError naming the lack of drivable streets."""
    with pytest.raises(ValueError, match="no drivable street"):
        osm_network({1: (0.0, 9.0), 2: (0.0, 9.001)}, [(10, [1, 2], {"highway": "footway"})])


def test_speed_profile_rejects_bad_factor() -> None:
    """A speed factor outside (0, 2] is refused, naming the profile."""
    with pytest.raises(ValueError, match="lorry"):
        SpeedProfile(name="lorry", speed_factor=0.0)


def test_utm_crs_by_hemisphere() -> None:
    """UTM zones: Monaco 32N, Rutland 30N, and a southern point gets a 327xx code."""
    assert utm_crs(7.42, 43.73) == "EPSG:32632"
    assert utm_crs(-0.7, 52.65) == "EPSG:32630"
    assert utm_crs(151.2, -33.9) == "EPSG:32756"


# --- caches ---------------------------------------------------------------------------------


def test_second_load_returns_same_object(monaco: RoadNetwork, network_cache_dir: Path,
                                         tools: SimpleNamespace) -> None:
    """Loading the same source and settings again returns the very same object from memory."""
    assert load_network(tools.monaco_pbf, cache_dir=network_cache_dir) is monaco


@pytest.fixture(scope="module")
def monaco_on_disk(tmp_path_factory: pytest.TempPathFactory,
                   tools: SimpleNamespace) -> SimpleNamespace:
    """Monaco built into an empty cache folder (memory cache empty), then loaded again
    with the memory cache cleared: ``folder``, ``built``, ``reloaded``. The session's
    memory cache is restored before any test runs."""
    folder = tmp_path_factory.mktemp("disk-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netcache, "_MEMORY", {})
        built = load_network(tools.monaco_pbf, cache_dir=folder)
        mp.setattr(netcache, "_MEMORY", {})
        reloaded = load_network(tools.monaco_pbf, cache_dir=folder)
    return SimpleNamespace(folder=folder, built=built, reloaded=reloaded)


def test_disk_cache_file_is_written(monaco_on_disk: SimpleNamespace, tools: SimpleNamespace) -> None:
    """Building writes one pickle named after the source and the cache key, and no temp file."""
    key = cache_key(NetworkSource.parse(tools.monaco_pbf), REFUSE_TRUCK, True)
    files = sorted(p.name for p in monaco_on_disk.folder.iterdir())
    assert files == [f"monaco.osm.pbf-{key[:20]}.pkl"]


def test_fresh_load_comes_from_disk(monaco_on_disk: SimpleNamespace) -> None:
    """With memory cleared, the network is read from the file, not rebuilt: a new object
    carrying the build time recorded when it was built."""
    assert monaco_on_disk.reloaded is not monaco_on_disk.built
    assert monaco_on_disk.reloaded.build_seconds == monaco_on_disk.built.build_seconds


def test_fresh_load_from_disk_has_identical_arrays(monaco_on_disk: SimpleNamespace) -> None:
    """Every array, sparse matrix and setting read back from disk equals the built one."""
    built, reloaded = monaco_on_disk.built, monaco_on_disk.reloaded
    for name in ("node_osmid", "node_lonlat", "edge_u", "edge_v", "edge_key", "edge_length_m",
                 "edge_time_s", "edge_twin", "node_component", "csr_edge", "edge_maxweight_kg",
                 "edge_maxweight_hgv_kg", "edge_maxwidth_m", "edge_maxheight_m", "edge_maxlength_m",
                 "edge_hgv_forbidden"):
        np.testing.assert_array_equal(getattr(reloaded, name), getattr(built, name), err_msg=name)
    assert shapely.equals_exact(reloaded.edge_xy, built.edge_xy, tolerance=0).all()
    for name in ("csr_time", "csr_length"):
        assert (getattr(reloaded, name) != getattr(built, name)).nnz == 0, name
    assert (reloaded.crs, reloaded.name, reloaded.profile, reloaded.simplify, reloaded.source) == (
        built.crs, built.name, built.profile, built.simplify, built.source)
    assert reloaded.graph.number_of_edges() == built.graph.number_of_edges()


def _load_tiny(tools: SimpleNamespace, folder: Path) -> RoadNetwork:
    """Load the hand-made straight street from ``folder/line.osm`` with a disk cache in ``folder``."""
    path = folder / "line.osm"
    if not path.exists():
        tools.write_osm_xml(path, LINE_NODES, LINE_WAYS)
    return load_network(path, cache_dir=folder / "cache")


def test_corrupt_cache_file_is_rebuilt(tmp_path: Path, tools: SimpleNamespace,
                                       fresh_memory: dict[str, RoadNetwork],
                                       caplog: pytest.LogCaptureFixture) -> None:
    """A cache file holding garbage is ignored with a warning, rebuilt and replaced by a good one."""
    first = _load_tiny(tools, tmp_path)
    (cache_file,) = (tmp_path / "cache").glob("*.pkl")
    cache_file.write_bytes(b"\x80\x05 this is not a pickle")
    fresh_memory.clear()
    with caplog.at_level(logging.WARNING, logger="solver.network"):
        again = _load_tiny(tools, tmp_path)
    assert "unreadable network cache" in caplog.text
    np.testing.assert_array_equal(again.edge_time_s, first.edge_time_s)
    key = cache_key(NetworkSource.parse(tmp_path / "line.osm"), REFUSE_TRUCK, True)
    assert isinstance(cache_format.read(cache_file, key, format_version=netmod.CACHE_FORMAT), RoadNetwork)


def test_foreign_cache_file_is_rebuilt(tmp_path: Path, tools: SimpleNamespace,
                                       fresh_memory: dict[str, RoadNetwork]) -> None:
    """A cache file holding a valid pickle of something else is not trusted: the network is rebuilt."""
    first = _load_tiny(tools, tmp_path)
    (cache_file,) = (tmp_path / "cache").glob("*.pkl")
    cache_file.write_bytes(pickle.dumps({"not": "a network"}))
    fresh_memory.clear()
    again = _load_tiny(tools, tmp_path)
    assert isinstance(again, RoadNetwork)
    np.testing.assert_array_equal(again.edge_u, first.edge_u)


def test_cache_file_lacking_fields_is_rebuilt(tmp_path: Path, tools: SimpleNamespace,
                                              fresh_memory: dict[str, RoadNetwork],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A pickled network without the access arrays (written by an older layout under the
    same key) is not trusted: the network is rebuilt with them."""
    first = _load_tiny(tools, tmp_path)
    (cache_file,) = (tmp_path / "cache").glob("*.pkl")
    full_state = RoadNetwork.__getstate__
    with monkeypatch.context() as mp:
        mp.setattr(RoadNetwork, "__getstate__",
                   lambda self: {k: v for k, v in full_state(self).items() if k != "edge_maxweight_kg"})
        key = cache_key(NetworkSource.parse(tmp_path / "line.osm"), REFUSE_TRUCK, True)
        cache_file.write_bytes(cache_format.encode(first, key, format_version=netmod.CACHE_FORMAT))
    fresh_memory.clear()
    again = _load_tiny(tools, tmp_path)
    assert again is not first
    assert (again.edge_maxweight_kg == np.inf).all()


def test_load_without_cache_dir_writes_nothing(tmp_path: Path, tools: SimpleNamespace,
                                               fresh_memory: dict[str, RoadNetwork]) -> None:
    """Without cache_dir the network is kept in memory only."""
    path = tools.write_osm_xml(tmp_path / "line.osm", LINE_NODES, LINE_WAYS)
    network = load_network(path)
    assert load_network(path) is network
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.osm"]


# --- GraphML ----------------------------------------------------------------------------------


def test_graphml_round_trip(monaco: RoadNetwork, tmp_path: Path,
                            fresh_memory: dict[str, RoadNetwork]) -> None:
    """A graph saved with osmnx.save_graphml loads back with the same nodes, edges, lengths and times."""
    path = tmp_path / "monaco.graphml"
    ox.save_graphml(monaco.graph, path)
    loaded = load_network(path)
    assert loaded.source.kind == "graphml"
    assert set(loaded.node_osmid.tolist()) == set(monaco.node_osmid.tolist())
    original, again = _edge_table(monaco), _edge_table(loaded)
    assert again.keys() == original.keys()
    for edge, (length, t) in original.items():
        assert again[edge][0] == pytest.approx(length, rel=1e-9)
        assert again[edge][1] == pytest.approx(t, rel=1e-9)


def test_graphml_round_trip_keeps_components(monaco: RoadNetwork, tmp_path: Path,
                                             fresh_memory: dict[str, RoadNetwork]) -> None:
    """The reloaded GraphML network has the same largest strongly connected part and the same side ways."""
    path = tmp_path / "monaco.graphml"
    ox.save_graphml(monaco.graph, path)
    loaded = load_network(path)
    assert np.bincount(loaded.node_component).max() == np.bincount(monaco.node_component).max()
    np.testing.assert_array_equal(loaded.node_side_way, monaco.node_side_way)


def test_graphml_round_trip_keeps_access_limits(monaco: RoadNetwork, tmp_path: Path,
                                                fresh_memory: dict[str, RoadNetwork]) -> None:
    """Access tags saved to GraphML (lists as text) give the same limits per edge back."""
    path = tmp_path / "monaco.graphml"
    ox.save_graphml(monaco.graph, path)
    loaded = load_network(path)
    original, again = _edge_limits_table(monaco), _edge_limits_table(loaded)
    assert again == original
    assert netmod.access_counts(loaded) == netmod.access_counts(monaco)


def _edge_limits_table(network: RoadNetwork) -> dict[tuple[int, int, int], tuple[float, ...]]:
    """(u osmid, v osmid, key) -> the edge's limits (NaN as -1 so that tuples compare)."""
    osm = network.node_osmid
    limits = np.column_stack([network.edge_maxweight_kg, network.edge_maxweight_hgv_kg, network.edge_maxwidth_m,
                              network.edge_maxheight_m, network.edge_maxlength_m, network.edge_hgv_forbidden])
    limits = np.where(np.isnan(limits), -1.0, limits)
    return {(int(osm[u]), int(osm[v]), int(k)): tuple(row.tolist())
            for u, v, k, row in zip(network.edge_u, network.edge_v, network.edge_key, limits, strict=True)}


# --- NetworkSource.parse and cache_key --------------------------------------------------------


def test_parse_place() -> None:
    """``place:`` text becomes a place source, its name stripped of surrounding blanks."""
    assert NetworkSource.parse("place:  Rutland, England ") == NetworkSource("place", "Rutland, England")


def test_parse_bbox() -> None:
    """``bbox:W,S,E,N`` in degrees becomes a bbox source."""
    assert NetworkSource.parse("bbox:-0.82,52.52,-0.43,52.76") == NetworkSource(
        "bbox", "-0.82,52.52,-0.43,52.76")


def test_parse_polygon() -> None:
    """``polygon:FILE`` becomes a polygon source naming the file."""
    assert NetworkSource.parse("polygon:areas/oakham.geojson") == NetworkSource(
        "polygon", "areas/oakham.geojson")


def test_parse_osm_file_and_graphml_paths(tmp_path: Path) -> None:
    """Paths are kinds ``file`` (OSM suffixes) or ``graphml``, made absolute."""
    assert NetworkSource.parse(tmp_path / "x.osm.pbf") == NetworkSource("file", str(tmp_path / "x.osm.pbf"))
    assert NetworkSource.parse(tmp_path / "x.graphml") == NetworkSource("graphml", str(tmp_path / "x.graphml"))


@pytest.mark.parametrize("text", [
    "bbox:-0.82,52.52,-0.43",
    "bbox:-0.43,52.52,-0.82,52.76",
    "bbox:-0.82,52.76,-0.43,52.52",
    "bbox:-0.82,52.52,-0.43,95",
    "bbox:west,south,east,north",
], ids=["three-numbers", "west-east-swapped", "south-north-swapped", "north-beyond-pole", "not-numbers"])
def test_parse_bad_bbox_raises(text: str) -> None:
    """A malformed or inverted box is a ValueError that names the bbox."""
    with pytest.raises(ValueError, match="bbox"):
        NetworkSource.parse(text)


@pytest.mark.parametrize("text", ["place:", "place:   ", "polygon:", "bbox:"])
def test_parse_empty_query_raises(text: str) -> None:
    """A prefix with nothing after it is a ValueError saying so."""
    with pytest.raises(ValueError, match="names no"):
        NetworkSource.parse(text)


def test_parse_unknown_suffix_raises() -> None:
    """A path that is neither OSM data nor GraphML is a ValueError listing what is accepted."""
    with pytest.raises(ValueError, match=r"neither an OSM file .*graphml"):
        NetworkSource.parse("streets.shp")


def test_fingerprint_of_missing_file_raises(tmp_path: Path) -> None:
    """A file source that does not exist cannot be fingerprinted (nor cached)."""
    with pytest.raises(FileNotFoundError):
        NetworkSource.parse(tmp_path / "absent.osm.pbf").fingerprint()


def test_cache_key_differs_by_profile_and_simplify(tools: SimpleNamespace) -> None:
    """The key changes with the profile and with simplification, and is stable otherwise."""
    src = NetworkSource.parse(tools.monaco_pbf)
    keys = {cache_key(src, REFUSE_TRUCK, True), cache_key(src, CAR, True), cache_key(src, REFUSE_TRUCK, False)}
    assert len(keys) == 3
    assert cache_key(src, REFUSE_TRUCK, True) == cache_key(NetworkSource.parse(tools.monaco_pbf),
                                                           REFUSE_TRUCK, True)


def test_cache_key_of_query_needs_no_network() -> None:
    """Online sources are keyed by their query text, offline, and differ by query."""
    a = cache_key(NetworkSource.parse("place:Oakham, England"), REFUSE_TRUCK, True)
    b = cache_key(NetworkSource.parse("place:Uppingham, England"), REFUSE_TRUCK, True)
    assert a != b and len(a) == 64


def test_cache_key_follows_file_content(tmp_path: Path, tools: SimpleNamespace) -> None:
    """Editing an OSM file changes its key even though its path is the same."""
    path = tools.write_osm_xml(tmp_path / "line.osm", LINE_NODES, LINE_WAYS)
    before = cache_key(NetworkSource.parse(path), REFUSE_TRUCK, True)
    tools.write_osm_xml(path, LINE_NODES, LINE_WAYS[:2])
    assert cache_key(NetworkSource.parse(path), REFUSE_TRUCK, True) != before


# --- Rutland -----------------------------------------------------------------------------------


@pytest.mark.shared
def test_rutland_largest_strongly_connected_component(rutland: RoadNetwork, tmp_path: Path) -> None:
    """Rutland's largest strongly connected part has 2,661 nodes, as measured with osmnx's drive filter
    (ours has more: the nodes where side ways join)."""
    assert osmnx_largest_part(rutland, tmp_path) == 2661
    assert np.bincount(rutland.node_component).max() > 2661
    assert rutland.crs == "EPSG:32630"


@pytest.mark.shared
def test_rutland_uk_speeds(rutland: RoadNetwork) -> None:
    """Rutland's untagged residential streets get the UK 30 mph-ish 48 km/h, truck 38.4 km/h,
    and no edge exceeds the truck's 80 km/h cap."""
    data = [d for _, _, d in rutland.graph.edges(data=True)]
    speeds = [d["speed_kph"] for d in data if d.get("highway") == "residential" and "maxspeed" not in d]
    assert len(speeds) > 50
    np.testing.assert_allclose(speeds, 38.4)
    assert max(d["speed_kph"] for d in data) <= 80.0


# --- access restrictions: tag parsing ---------------------------------------------------------

FT, IN = 0.3048, 0.0254


@pytest.mark.parametrize(("value", "kg"), [
    ("7.5", 7500.0),               # bare numbers are tonnes
    ("7.5 t", 7500.0),
    ("3.5t", 3500.0),
    ("7,5", 7500.0),               # decimal comma
    ("3500 kg", 3500.0),
    ("5 st", 5 * 907.18474),       # short tons
    ("11000 lbs", 11000 * 0.45359237),
    ("2 lt", 2 * 1016.0469088),    # long tons
    ("7.5 T", 7500.0),
    ("7.5;3", 3000.0),             # a list counts its tightest limit
    (["7.5", "3"], 3000.0),        # osmnx's list on an edge merged from two ways
    ("['7.5', '18']", 7500.0),     # the same list read back from GraphML
    (10, 10000.0),
])
def test_weight_values_in_kg(value: object, kg: float) -> None:
    """maxweight values in every unit OSM uses become kilograms."""
    assert netmod.parse_weight_kg(value) == pytest.approx(kg)


@pytest.mark.parametrize("value", [None, "none", "no", "default", "unsigned", "fixme", "", float("nan"), []])
def test_weight_values_without_a_limit(value: object) -> None:
    """Absent, none, default and unreadable maxweight values set no limit (inf)."""
    assert netmod.parse_weight_kg(value) == np.inf


@pytest.mark.parametrize("value", ["below_default", "7.5;below_default", ["below_default", "20"]])
def test_below_default_is_an_unknown_limit(value: object) -> None:
    """below_default means a limit of unknown value: NaN, which wins over any known limit."""
    assert np.isnan(netmod.parse_weight_kg(value))
    assert np.isnan(netmod.parse_length_m(value))


@pytest.mark.parametrize(("value", "metres"), [
    ("2.1", 2.1),
    ("2.1 m", 2.1),
    ("2.1m", 2.1),
    ("210 cm", 2.1),
    ("2,1", 2.1),
    ("6'6\"", 6 * FT + 6 * IN),
    ("6' 6\"", 6 * FT + 6 * IN),
    ("6'6''", 6 * FT + 6 * IN),
    ("6'6", 6 * FT + 6 * IN),      # inch mark left out
    ("6′6″", 6 * FT + 6 * IN),     # primes
    ("6 ft 6 in", 6 * FT + 6 * IN),
    ("13'", 13 * FT),
    ("78\"", 78 * IN),
    ("4.3;3.9", 3.9),
    (["4.5", "14'"], 14 * FT),
])
def test_length_values_in_metres(value: object, metres: float) -> None:
    """maxwidth/maxheight/maxlength values in metres, centimetres, feet and inches become metres."""
    assert netmod.parse_length_m(value) == pytest.approx(metres)


@pytest.mark.parametrize("value", [None, "none", "default", "no", "physical", ""])
def test_length_values_without_a_limit(value: object) -> None:
    """Absent, none, default and unreadable size values set no limit (inf)."""
    assert netmod.parse_length_m(value) == np.inf


@pytest.mark.parametrize(("value", "forbidden"), [
    ("no", True), ("private", True), ("agricultural;forestry", True), ("emergency", True),
    ("destination", False), ("delivery", False), ("local", False), ("unsuitable", False),
    ("discouraged", False), ("yes", False), ("designated", False), (None, False),
    ("no;destination", False),                 # a ';' list closes only when every part does
    (["destination", "no"], True),             # a merged edge closes when any of its ways does
    ("['yes', 'no']", True),
])
def test_hgv_values(value: object, forbidden: bool) -> None:
    """hgv=no/private/... close a street to heavy goods vehicles; destination and delivery
    do not (a refuse lorry serves those streets)."""
    assert netmod.hgv_forbidden(value) is forbidden


@pytest.mark.parametrize(("value", "exempt"), [
    ("none @ destination", True), ("none @ (delivery)", True), ("no @ (access)", True),
    ("none @ (Mo-Fr 07:00-19:00); none @ destination", True),
    ("none @ (Mo-Fr 07:00-19:00)", False), ("3.5 @ destination", False), (None, False),
    (["none @ destination", "none @ delivery"], False),  # merged ways: cannot tell which stretch
])
def test_weight_exemptions_for_access(value: object, exempt: bool) -> None:
    """maxweight:conditional 'none @ destination' (UK "except for access") exempts a vehicle
    with business on the street; time conditions do not."""
    assert netmod.exempts_service_vehicles(value) is exempt


def test_edge_limits_combine_tags() -> None:
    """Each edge's limits: the tightest of maxweight and maxweightrating for any vehicle,
    maxweight:hgv on top for a heavy goods vehicle, legal and physical sizes."""
    limits = netmod.edge_limits({"maxweight": "18", "maxweightrating": "7.5 t", "maxweight:hgv": "3",
                                 "maxwidth": "2.5", "maxwidth:physical": "6'6\"", "maxheight": "4.3",
                                 "maxlength": "10", "hgv": "destination", "osmid": 5})
    assert limits.maxweight_kg == pytest.approx(7500)
    assert limits.maxweight_hgv_kg == pytest.approx(3000)
    assert limits.maxwidth_m == pytest.approx(6 * FT + 6 * IN)
    assert (limits.maxheight_m, limits.maxlength_m, limits.hgv_forbidden) == (pytest.approx(4.3), 10.0, False)


def test_edge_limits_exemption_only_on_one_way() -> None:
    """'none @ destination' lifts the weight limit of an edge drawn from one way, not of an
    edge merged from several (the exemption may cover only part of it)."""
    tags = {"maxweight": "7.5", "maxweight:conditional": "none @ destination"}
    assert netmod.edge_limits({**tags, "osmid": 7}).maxweight_kg == np.inf
    assert netmod.edge_limits({**tags, "osmid": [7, 8]}).maxweight_kg == pytest.approx(7500)


# --- access restrictions: per-edge arrays, profiles, allowed edges --------------------------

TAGGED_NODES = {i: (0.0, 9.0 + 0.001 * i) for i in range(8)}
TAGGED_WAYS = [
    (20, [0, 1], {"highway": "residential", "maxweight": "7.5 t"}),
    (21, [1, 2], {"highway": "residential", "maxwidth": "6'6\""}),
    (22, [2, 3], {"highway": "residential", "maxheight": "below_default"}),
    (23, [3, 4], {"highway": "residential", "maxheight": "default", "maxlength": "10 m"}),
    (24, [4, 5], {"highway": "residential", "hgv": "no"}),
    (25, [5, 6], {"highway": "residential", "hgv": "destination", "maxweight": "26"}),
    (26, [6, 7], {"highway": "residential", "maxweight:hgv": "3.5", "oneway": "yes"}),
]
TRUCK = netmod.AccessProfile(gross_weight_kg=26_000, width_m=2.55, height_m=3.7, length_m=10.5, hgv=True)
VAN = netmod.AccessProfile(gross_weight_kg=3_500, width_m=1.98, height_m=2.6, length_m=6.0)


@pytest.fixture
def tagged(osm_network: NetworkFactory) -> RoadNetwork:
    """A straight street of seven blocks, each tagged with one kind of restriction."""
    return osm_network(TAGGED_NODES, TAGGED_WAYS, name="tagged.osm")


def _block(network: RoadNetwork, tools: SimpleNamespace, u: int, v: int) -> list[int]:
    """The edges of the block between OSM nodes u and v (both directions when two-way)."""
    edges = [tools.edge_index(network, u, v)]
    if network.graph.has_edge(v, u):
        edges.append(tools.edge_index(network, v, u))
    return edges


def test_tags_are_kept_on_edges(tagged: RoadNetwork) -> None:
    """The access tags survive osmnx onto the graph's edges."""
    assert _edge_data(tagged, 0, 1)["maxweight"] == "7.5 t"
    assert _edge_data(tagged, 1, 2)["maxwidth"] == "6'6\""
    assert _edge_data(tagged, 4, 5)["hgv"] == "no"


def test_edge_arrays_hold_si_limits(tagged: RoadNetwork, tools: SimpleNamespace) -> None:
    """Each block's limit lands on both its edges in kg or metres; other edges have none."""
    weight, width = _block(tagged, tools, 0, 1), _block(tagged, tools, 1, 2)
    np.testing.assert_allclose(tagged.edge_maxweight_kg[weight], 7500)
    np.testing.assert_allclose(tagged.edge_maxwidth_m[width], 6 * FT + 6 * IN)
    assert np.isnan(tagged.edge_maxheight_m[_block(tagged, tools, 2, 3)]).all()
    assert (tagged.edge_maxheight_m[_block(tagged, tools, 3, 4)] == np.inf).all()
    np.testing.assert_allclose(tagged.edge_maxlength_m[_block(tagged, tools, 3, 4)], 10.0)
    assert tagged.edge_hgv_forbidden[_block(tagged, tools, 4, 5)].all()
    assert tagged.edge_hgv_forbidden.sum() == 2
    np.testing.assert_allclose(tagged.edge_maxweight_hgv_kg[_block(tagged, tools, 6, 7)], 3500)
    assert tagged.edge_maxweight_kg[_block(tagged, tools, 6, 7)] == np.inf
    others = np.ones(tagged.n_edges, dtype=bool)
    others[weight + _block(tagged, tools, 5, 6)] = False
    assert (tagged.edge_maxweight_kg[others] == np.inf).all()


def test_truck_is_kept_off_every_restricted_block(tagged: RoadNetwork, tools: SimpleNamespace) -> None:
    """A 26 t, 2.55 m wide, 3.7 m high, 10.5 m long lorry may drive none of the blocks but
    5-6 (hgv=destination, maxweight 26 t: a vehicle of exactly the limit passes)."""
    allowed = netmod.allowed_edges(tagged, TRUCK)
    for u in range(7):
        assert allowed[_block(tagged, tools, u, u + 1)].all() == (u == 5), u


def test_van_is_kept_off_only_the_unknown_height(tagged: RoadNetwork, tools: SimpleNamespace) -> None:
    """A 3.5 t van 1.98 m wide (exactly 6'6") is not a heavy goods vehicle: only the
    below_default height, whose value is unknown, closes a street to it."""
    allowed = netmod.allowed_edges(tagged, VAN)
    closed = np.flatnonzero(~allowed)
    assert sorted(closed) == sorted(_block(tagged, tools, 2, 3))


def test_size_left_unknown_meets_no_limit(tagged: RoadNetwork, tools: SimpleNamespace) -> None:
    """A heavy goods vehicle with no sizes given is kept off hgv=no only."""
    allowed = netmod.allowed_edges(tagged, netmod.AccessProfile(hgv=True))
    assert sorted(np.flatnonzero(~allowed)) == sorted(_block(tagged, tools, 4, 5))


def test_unrestricted_profile_drives_everything(tagged: RoadNetwork) -> None:
    """The profile with no size is allowed every edge and its graph is the network's own."""
    assert netmod.allowed_edges(tagged, netmod.UNRESTRICTED).all()
    graph = netmod.routing_graph(tagged)
    assert graph.csr_time is tagged.csr_time and graph.node_component is tagged.node_component
    assert not graph.restricted


def test_allowed_edges_are_cached_and_read_only(tagged: RoadNetwork) -> None:
    """The mask is computed once per profile and cannot be changed by a caller."""
    first = netmod.allowed_edges(tagged, TRUCK)
    assert netmod.allowed_edges(tagged, TRUCK) is first
    with pytest.raises(ValueError, match="read-only"):
        first[0] = True


def test_profile_keys_are_stable_text() -> None:
    """A profile's key names its sizes in SI units; equal sizes give equal keys."""
    assert TRUCK.key == "hgv,weight=26000kg,width=2.55m,height=3.7m,length=10.5m"
    assert netmod.AccessProfile().key == "unrestricted"
    assert netmod.AccessProfile(width_m=2.5).key == netmod.AccessProfile(width_m=2.50000001).key


def test_profile_of_vehicle_reads_its_sizes() -> None:
    """A vehicle's profile: its sizes; heavy goods vehicle by weight when the weight is given
    (over 3.5 t), else by its hgv flag."""
    from solver.problem import Vehicle

    lorry = Vehicle(id="rcv", depot_id="d", capacity_kg=9000, gross_weight_kg=26000, width_m=2.55, hgv=False)
    van = Vehicle(id="van", depot_id="d", capacity_kg=900, gross_weight_kg=3500)
    unknown = Vehicle(id="x", depot_id="d", capacity_kg=900)
    assert netmod.AccessProfile.of(lorry) == netmod.AccessProfile(gross_weight_kg=26000, width_m=2.55, hgv=True)
    assert netmod.AccessProfile.of(van).hgv is False
    assert netmod.AccessProfile.of(unknown) == netmod.AccessProfile(hgv=True)


def test_restricted_graph_leaves_out_closed_streets(tagged: RoadNetwork, tools: SimpleNamespace) -> None:
    """The lorry's road graph has no entry for a closed block and splits the street into parts."""
    graph = netmod.routing_graph(tagged, TRUCK)
    n0, n1 = tools.node_index(tagged, 0), tools.node_index(tagged, 1)
    n5, n6 = tools.node_index(tagged, 5), tools.node_index(tagged, 6)
    assert graph.csr_time[n0, n1] == 0 and graph.csr_time[n5, n6] > 0
    assert graph.node_component[n0] != graph.node_component[n1]
    assert graph.node_component[n5] == graph.node_component[n6]
    assert graph.restricted


def test_profiles_with_same_streets_share_a_graph(tagged: RoadNetwork) -> None:
    """Two profiles the tags do not tell apart (27 t and 30 t lorries: both over every weight
    limit) share one graph; a 26 t lorry, allowed on the 26 t block, gets its own."""
    heavier = netmod.AccessProfile(gross_weight_kg=27_000, width_m=2.55, height_m=3.7, length_m=10.5, hgv=True)
    heaviest = netmod.AccessProfile(gross_weight_kg=30_000, width_m=2.55, height_m=3.7, length_m=10.5, hgv=True)
    assert heavier.key != heaviest.key
    assert netmod.routing_graph(tagged, heaviest) is netmod.routing_graph(tagged, heavier)
    assert netmod.routing_graph(tagged, heavier) is not netmod.routing_graph(tagged, TRUCK)


def test_monaco_access_counts(monaco: RoadNetwork) -> None:
    """Monaco's tags, as measured: maxweight on 10 directed edges (3.5 t, 10 t, 26 t ways),
    maxheight 4.3 m on 2, maxlength 8 m on 6, no maxwidth and no hgv ban."""
    assert netmod.access_counts(monaco) == {"maxweight": 10, "maxweight_hgv": 10, "maxwidth": 0, "maxheight": 2,
                                            "maxlength": 6, "hgv_forbidden": 0}


def test_monaco_lorry_loses_eight_edges(monaco: RoadNetwork) -> None:
    """A 26 t, 10.5 m lorry may not drive 8 of Monaco's edges (the 3.5 t and 10 t limits and
    the 8 m length limit overlap); the 26 t street stays open to it."""
    assert int((~netmod.allowed_edges(monaco, TRUCK)).sum()) == 8


@pytest.mark.shared
def test_rutland_access_counts(rutland: RoadNetwork) -> None:
    """Rutland's tags, as measured: six 7.5 t ways on 24 directed edges, one hgv=no way
    (Steadfold Lane) on 14 (its edges split where side ways join); maxheight=default (4 ways) is no limit."""
    assert netmod.access_counts(rutland) == {"maxweight": 24, "maxweight_hgv": 24, "maxwidth": 0,
                                             "maxheight": 0, "maxlength": 0, "hgv_forbidden": 14}
    assert int((~netmod.allowed_edges(rutland, TRUCK)).sum()) == 38


MONACO_PBF = Path(__file__).resolve().parents[2] / "data" / "monaco.osm.pbf"

_BUILD_DIGEST = """
import hashlib, sys
from solver.network import CAR, build_network
network = build_network(sys.argv[1], profile=CAR)
print(hashlib.sha256(network.edge_time_s.tobytes()).hexdigest())
"""


@pytest.mark.spawns
def test_build_is_the_same_whatever_the_string_hashing() -> None:
    """The same file gives the same edge times in processes with different ``PYTHONHASHSEED``s (osmnx joins
    the tags of merged ways in a set's order; before they were sorted, an edge of Monaco took 16.5 s in one
    process and 49.4 s in another)."""
    digests = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", _BUILD_DIGEST, str(MONACO_PBF)], env=env, capture_output=True,
                             text=True, check=True, timeout=300)
        digests.add(run.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
