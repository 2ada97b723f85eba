"""Fixtures shared by all tests: the real Monaco and Rutland road networks, and tiny
hand-made OSM files whose lengths and travel times can be worked out by hand.

Monaco is embedded in the project (``data/monaco.osm.pbf``). Rutland lives outside
it, in ``<repo>/../shared/data/osm/``; without that folder the tests needing it are
skipped, except in CI (``CI`` set), where they fail: shared data must never be
skipped silently there.

Tests that start processes, servers, browsers or databases of their own are marked ``spawns``
(``make quick`` leaves them out): by hand where the test starts them itself, and here, by
:func:`pytest_collection_modifyitems`, for every test using one of :data:`SPAWNING_FIXTURES`.
Under pytest-xdist each worker starts the session's and module's servers, clusters and browser
it needs; tests are handed out one by one (``--dist load``), not grouped: schemathesis gives its
22 API operations one node id, which xdist's grouping modes would run only once.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from xml.sax.saxutils import quoteattr

import httpx
import numpy as np
import pytest
import shapely

from solver.network import REFUSE_TRUCK, RoadNetwork, SpeedProfile, build_network, load_network

REPO = Path(__file__).resolve().parents[1]
MONACO_PBF = REPO / "data" / "monaco.osm.pbf"
SHARED = REPO.parent / "shared"
RUTLAND_PBF = SHARED / "data" / "osm" / "rutland-latest.osm.pbf"

#: osmnx's mean Earth radius (metres), used by its great-circle edge lengths.
EARTH_RADIUS_M = 6_371_009.0

OsmNodes = Mapping[int, tuple[float, float]]
"""Node id -> (lat, lon) in degrees."""
OsmWays = Sequence[tuple[int, Sequence[int], Mapping[str, str]]]
"""(way id, node ids, tags) for each way."""


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set to anything but empty, 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def import_script(path: Path) -> ModuleType:
    """A script outside the packages (``scripts/``, ``benchmarks/``) imported as a module named
    after its folder and file (``benchmarks_oakham``), registered in ``sys.modules`` as an
    import would be (dataclasses look their module up there)."""
    name = f"{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def require_shared(path: Path) -> Path:
    """``path`` if it exists; otherwise skip the test, or fail it in CI."""
    if path.is_file():
        return path
    reason = (f"shared data {path} is absent (expected the shared folder at {SHARED}, "
              "next to the repository)")
    if in_ci():
        pytest.fail(f"{reason}; CI must never skip tests that need shared data", pytrace=False)
    pytest.skip(reason)


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres on osmnx's sphere (how osmnx measures edge lengths)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


OsmRelations = Sequence[tuple[int, Sequence[tuple[str, int, str]], Mapping[str, str]]]
"""(relation id, members as (type ``node``/``way``, ref, role), tags) for each relation."""


def write_osm_xml(path: Path, nodes: OsmNodes, ways: OsmWays, *,
                  node_tags: Mapping[int, Mapping[str, str]] | None = None,
                  relations: OsmRelations = ()) -> Path:
    """Write a minimal OSM XML file with ``nodes`` (tagged by ``node_tags``), ``ways`` and
    ``relations`` to ``path``.

    Ways may reference node ids absent from ``nodes`` (to imitate clipped extracts).
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="wasteroute-tests">']
    for nid, (lat, lon) in sorted(nodes.items()):
        tags = (node_tags or {}).get(nid, {})
        node = f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        lines += ([node + "/>"] if not tags else
                  [node + ">", *(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()), "</node>"])
    for way_id, refs, tags in ways:
        lines.append(f'<way id="{way_id}" version="1">')
        lines += [f'<nd ref="{ref}"/>' for ref in refs]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</way>")
    for rel_id, members, tags in relations:
        lines.append(f'<relation id="{rel_id}" version="1">')
        lines += [f'<member type="{kind}" ref="{ref}" role={quoteattr(role)}/>' for kind, ref, role in members]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</relation>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Fixtures that start a server, browser, database or cluster, by name wherever they are
#: defined (a conftest or a test module). Name here any new fixture that starts a process.
SPAWNING_FIXTURES = frozenset({
    "server",  # uvicorn or `wasteroute serve` (tests/web, test_api_health, test_server_process)
    "live_server",  # uvicorn for schemathesis
    "playwright", "browser",  # Playwright's driver and headless Chromium
    "postgres_server_url", "postgres",  # throwaway PostgreSQL servers
    "local_cluster", "cluster",  # Dask LocalCluster; the compose file's scheduler and worker
    "served",  # the Dockerfile's CMD
    "identity_provider",  # the local OpenID Connect provider (tests/identity_provider.py), a thread's HTTP server
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``spawns`` each test that uses a fixture of :data:`SPAWNING_FIXTURES` (directly or through
    another fixture)."""
    for item in items:
        if SPAWNING_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.spawns)


NetworkFactory = Callable[..., RoadNetwork]


@pytest.fixture
def osm_network(tmp_path: Path) -> NetworkFactory:
    """Factory: ``osm_network(nodes, ways, *, profile=REFUSE_TRUCK, simplify=False,
    name="tiny.osm")`` writes a hand-made OSM XML file into ``tmp_path`` and builds
    its RoadNetwork with :func:`solver.network.build_network` (no cache)."""

    def make(nodes: OsmNodes, ways: OsmWays, *, profile: SpeedProfile = REFUSE_TRUCK,
             simplify: bool = False, name: str = "tiny.osm") -> RoadNetwork:
        path = write_osm_xml(tmp_path / name, nodes, ways)
        return build_network(path, profile=profile, simplify=simplify)

    return make


#: A weight-limited shortcut, its detour and a narrow lane, on the equator (0.001 degree
#: is ~111.2 m), for access tests::
#:
#:      6 ----- 7                 1-6: maxwidth=2 lane to a street 6-7 reached only by it
#:      |
#:  0 - 1 ===== 2 - 5             1-2: maxweight=7.5 (t) shortcut, ~111 m
#:      |       |
#:      3 ----- 4                 1-3-4-2: untagged detour, ~334 m
#:
#: All two-way residential streets (truck 38.4 km/h). Node ids are OSM ids; (lat, lon).
RESTRICTED_NODES = {0: (0.0, 8.999), 1: (0.0, 9.0), 2: (0.0, 9.001), 5: (0.0, 9.002), 3: (-0.001, 9.0),
                    4: (-0.001, 9.001), 6: (0.001, 9.0), 7: (0.001, 9.001)}
RESTRICTED_WAYS = [
    (100, [0, 1], {"highway": "residential"}),
    (101, [1, 2], {"highway": "residential", "maxweight": "7.5"}),
    (102, [1, 3, 4, 2], {"highway": "residential"}),
    (103, [2, 5], {"highway": "residential"}),
    (104, [1, 6], {"highway": "residential", "maxwidth": "2"}),
    (105, [6, 7], {"highway": "residential"}),
]


#: A grid of four east-west residential streets (rows 0..3, 0.001 degree, ~111 m apart, on the
#: equator) of six ~111 m stretches each (columns 0..6), joined by north-south streets at both
#: ends. Node ``(row, col)`` has OSM id :func:`grid_node` ``(row, col)``.
GRID_ROWS, GRID_COLS, GRID_STEP_DEG = 4, 7, 0.001


def grid_node(row: int, col: int) -> int:
    """OSM id of the grid's node at ``(row, col)``: ``100 + 10 * row + col``."""
    return 100 + 10 * row + col


@pytest.fixture
def street_grid(osm_network: NetworkFactory) -> RoadNetwork:
    """The grid above, unsimplified (one street per stretch), for tests of rounds' shapes."""
    nodes = {grid_node(r, c): (r * GRID_STEP_DEG, 9.0 + c * GRID_STEP_DEG)
             for r in range(GRID_ROWS) for c in range(GRID_COLS)}
    ways = [(1000 + r, [grid_node(r, c) for c in range(GRID_COLS)], {"highway": "residential"})
            for r in range(GRID_ROWS)]
    ways += [(2000 + c, [grid_node(r, c) for r in range(GRID_ROWS)], {"highway": "residential"})
             for c in (0, GRID_COLS - 1)]
    return osm_network(nodes, ways, name="grid.osm")


@pytest.fixture
def restricted_network(osm_network: NetworkFactory) -> RoadNetwork:
    """The hand-made network of :data:`RESTRICTED_NODES` / :data:`RESTRICTED_WAYS`
    (refuse-truck speeds, unsimplified)."""
    return osm_network(RESTRICTED_NODES, RESTRICTED_WAYS, name="restricted.osm")


#: Streets with turn restrictions, on the equator (0.001 degree is ~111.2 m), for turn tests::
#:
#:            20
#:            |
#:      10 -- 11 -- 12 -- 13 (turning circle)
#:            |     v
#:            21    22          12 -> 22 -> 31: one-way
#:            |     v
#:            30 -- 31 -- 32 (dead end, no turning circle)
#:
#: Relations: 901 no_left_turn 10-11 -> 11-20 (via node 11); 902 only_straight_on 20-11 ->
#: 11-21; 903 no_u_turn from 11-12 via the one-way 12-22-31 to 31-30 (via way); 904
#: malformed (via node 12 is not on its from way 10-11); 905 no_right_turn except=hgv
#: (exempts a lorry); 906 ``restriction:hgv=no_left_turn`` 21-11 -> 11-10.
TURNS_NODES = {10: (0.0, 8.999), 11: (0.0, 9.0), 12: (0.0, 9.001), 13: (0.0, 9.002), 20: (0.001, 9.0),
               21: (-0.0005, 9.0), 30: (-0.001, 9.0), 22: (-0.0005, 9.001), 31: (-0.001, 9.001),
               32: (-0.001, 9.002)}
TURNS_NODE_TAGS = {13: {"highway": "turning_circle"}, 11: {"highway": "traffic_signals"}}
TURNS_WAYS = [
    (501, [10, 11], {"highway": "residential"}),
    (502, [11, 12], {"highway": "residential"}),
    (503, [12, 13], {"highway": "residential"}),
    (504, [20, 11], {"highway": "residential"}),
    (505, [11, 21, 30], {"highway": "residential"}),
    (506, [12, 22, 31], {"highway": "residential", "oneway": "yes"}),
    (507, [30, 31], {"highway": "residential"}),
    (508, [31, 32], {"highway": "residential"}),
]
TURNS_RELATIONS = [
    (901, [("way", 501, "from"), ("node", 11, "via"), ("way", 504, "to")],
     {"type": "restriction", "restriction": "no_left_turn"}),
    (902, [("way", 504, "from"), ("node", 11, "via"), ("way", 505, "to")],
     {"type": "restriction", "restriction": "only_straight_on"}),
    (903, [("way", 502, "from"), ("way", 506, "via"), ("way", 507, "to")],
     {"type": "restriction", "restriction": "no_u_turn"}),
    (904, [("way", 501, "from"), ("node", 12, "via"), ("way", 503, "to")],
     {"type": "restriction", "restriction": "no_straight_on"}),
    (905, [("way", 503, "from"), ("node", 12, "via"), ("way", 506, "to")],
     {"type": "restriction", "restriction": "no_left_turn", "except": "bicycle;hgv"}),
    (906, [("way", 505, "from"), ("node", 11, "via"), ("way", 501, "to")],
     {"type": "restriction", "restriction:hgv": "no_left_turn"}),
]


@pytest.fixture
def turns_osm(tmp_path: Path) -> Path:
    """The OSM XML file of :data:`TURNS_NODES`, :data:`TURNS_WAYS` and :data:`TURNS_RELATIONS`."""
    return write_osm_xml(tmp_path / "turns.osm", TURNS_NODES, TURNS_WAYS, node_tags=TURNS_NODE_TAGS,
                         relations=TURNS_RELATIONS)


#: A few streets crossing a busy road, for the rules a crew drives by (manoeuvres, nearside
#: collection), on the equator (0.001 degree is ~111.2 m)::
#:
#:                    35 (dead end, no turning head)
#:                    |
#:      11 --------- 31 ------- 32 -- 33 -- 34 (turning circle)
#:      |             |          |
#:      1 =========== 2 ======== 3 ========= 4      1-2-3-4: highway=primary (three ways)
#:                    |                      |
#:                   21 -------> 22 -- 23 -- +      21 -> 22: one-way
#:
#: Relations: 701 no_right_turn 1-2 -> 2-21 (via node 2); 702 only_straight_on 31-2 -> 2-21;
#: 703 no_left_turn from 21-2 via the way 2-3 to 3-32 (via way); 704 malformed (its from
#: way 699 is not in the file). Simplified, 11, 33 and 23 are merged away.
STREETS_NODES = {1: (0.0, 9.0), 2: (0.0, 9.001), 3: (0.0, 9.002), 4: (0.0, 9.003), 11: (0.001, 9.0),
                 31: (0.001, 9.001), 32: (0.001, 9.002), 33: (0.001, 9.003), 34: (0.001, 9.004),
                 35: (0.002, 9.001), 21: (-0.001, 9.001), 22: (-0.001, 9.002), 23: (-0.001, 9.003)}
STREETS_NODE_TAGS = {34: {"highway": "turning_circle"}, 2: {"highway": "traffic_signals"}}
STREETS_WAYS = [
    (601, [1, 2], {"highway": "primary", "name": "High Road"}),
    (602, [2, 3], {"highway": "primary", "name": "High Road"}),
    (603, [3, 4], {"highway": "primary", "name": "High Road"}),
    (604, [1, 11, 31], {"highway": "residential"}),
    (605, [31, 32], {"highway": "residential"}),
    (606, [2, 31], {"highway": "residential"}),
    (607, [3, 32], {"highway": "residential"}),
    (608, [32, 33, 34], {"highway": "residential", "name": "Circle Close"}),
    (609, [31, 35], {"highway": "residential", "name": "Blind Lane"}),
    (610, [2, 21], {"highway": "residential"}),
    (611, [21, 22], {"highway": "residential", "oneway": "yes"}),
    (612, [22, 23, 4], {"highway": "residential"}),
]
STREETS_RELATIONS = [
    (701, [("way", 601, "from"), ("node", 2, "via"), ("way", 610, "to")],
     {"type": "restriction", "restriction": "no_right_turn"}),
    (702, [("way", 606, "from"), ("node", 2, "via"), ("way", 610, "to")],
     {"type": "restriction", "restriction": "only_straight_on"}),
    (703, [("way", 610, "from"), ("way", 602, "via"), ("way", 607, "to")],
     {"type": "restriction", "restriction": "no_left_turn"}),
    (704, [("way", 699, "from"), ("node", 3, "via"), ("way", 607, "to")],
     {"type": "restriction", "restriction": "no_right_turn"}),
]


@pytest.fixture
def streets_osm(tmp_path: Path) -> Path:
    """The OSM XML file of :data:`STREETS_NODES`, :data:`STREETS_WAYS` and :data:`STREETS_RELATIONS`."""
    return write_osm_xml(tmp_path / "streets.osm", STREETS_NODES, STREETS_WAYS, node_tags=STREETS_NODE_TAGS,
                         relations=STREETS_RELATIONS)


def node_index(network: RoadNetwork, osmid: int) -> int:
    """Index (0..n_nodes-1) of the node with OSM id ``osmid``."""
    hits = np.flatnonzero(network.node_osmid == osmid)
    assert hits.size == 1, f"node {osmid} not in network"
    return int(hits[0])


def edge_index(network: RoadNetwork, u_osmid: int, v_osmid: int) -> int:
    """Index of the only edge from OSM node ``u_osmid`` to OSM node ``v_osmid``."""
    u, v = node_index(network, u_osmid), node_index(network, v_osmid)
    hits = np.flatnonzero((network.edge_u == u) & (network.edge_v == v))
    assert hits.size == 1, f"expected one edge {u_osmid}->{v_osmid}, found {hits.size}"
    return int(hits[0])


def lonlat_on_edges(network: RoadNetwork, edges: Sequence[int] | np.ndarray,
                    fractions: Sequence[float] | np.ndarray) -> np.ndarray:
    """WGS84 lon/lat of the points at ``fractions`` (by length) along ``edges``."""
    lines = network.edge_xy[np.asarray(edges, dtype=np.int64)]
    xy = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.asarray(fractions, dtype=float),
                                                                normalized=True))
    lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(command: Sequence[str], *, base: str, env: Mapping[str, str], cwd: Path,
                   log_path: Path, startup_s: float = 120.0) -> Iterator[str]:
    """Run ``command`` (a server of the service listening at ``base``) as a subprocess, wait
    until ``GET {base}/api/v1/health`` answers 200 (failing the test with the server's log
    if it exits or does not answer within ``startup_s`` seconds), yield ``base``, then stop it."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(command), env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def tools() -> SimpleNamespace:
    """The helper functions of this module, for test modules (which cannot import a
    conftest): ``great_circle_m``, ``write_osm_xml``, ``node_index``, ``edge_index``,
    ``lonlat_on_edges``, ``require_shared``, ``free_port``, ``running_server``, ``import_script``;
    and the paths ``monaco_pbf``, ``rutland_pbf``."""
    return SimpleNamespace(monaco_pbf=MONACO_PBF, rutland_pbf=RUTLAND_PBF,
                           great_circle_m=great_circle_m, write_osm_xml=write_osm_xml,
                           node_index=node_index, edge_index=edge_index,
                           lonlat_on_edges=lonlat_on_edges, require_shared=require_shared,
                           free_port=free_port, running_server=running_server, import_script=import_script)


NETWORK_BUILD_CODE = ("solver/network", "solver/osm_filter.py", "solver/osm_restrictions.py",
                      "solver/cache_file.py")
"""The code a built network depends on: its cache is kept between runs only while this code is unchanged."""


def _network_code_digest() -> str:
    """A digest of the code that builds networks (:data:`NETWORK_BUILD_CODE`), 16 hex digits."""
    digest = hashlib.sha256()
    for entry in NETWORK_BUILD_CODE:
        path = REPO / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(REPO).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def network_cache_dir() -> Path:
    """On-disk network cache shared by every test, every xdist worker and every run on this checkout
    (``var/test-network-cache/<digest>``, git-ignored), so that Monaco and Rutland are built once, not
    once per run: the loop stays quick. The folder is named by a digest of the code that builds networks,
    so a change to that code builds afresh instead of reading a network the old code built; the cache's
    own key covers the source file's content and the build settings. A fresh clone (CI) builds once."""
    shared = REPO / "var" / "test-network-cache" / _network_code_digest()
    shared.mkdir(parents=True, exist_ok=True)
    return shared


def load_network_once(source: Path, cache_dir: Path) -> RoadNetwork:
    """:func:`load_network` with ``cache_dir``, holding a lock on ``source`` in that folder meanwhile:
    a second xdist worker waits for the first to build and cache the network, then reads its file."""
    with (cache_dir / f".{source.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return load_network(source, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def monaco(network_cache_dir: Path) -> RoadNetwork:
    """The embedded Monaco network (refuse-truck speeds, simplified), loaded once."""
    return load_network_once(MONACO_PBF, network_cache_dir)


@pytest.fixture(scope="session")
def rutland(network_cache_dir: Path) -> RoadNetwork:
    """The shared Rutland network (refuse-truck speeds, simplified), loaded once."""
    return load_network_once(require_shared(RUTLAND_PBF), network_cache_dir)
