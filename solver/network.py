"""Drivable road networks: load, time and cache them.

A :class:`RoadNetwork` is built from

* a local OpenStreetMap file (``.osm``, ``.osm.pbf``, ``.osm.bz2``), offline, with
  osmnx's ``drive`` semantics (see :mod:`solver.osm_filter`);
* an osmnx GraphML file;
* for users with internet, an osmnx query: ``place:Rutland, England``,
  ``bbox:WEST,SOUTH,EAST,NORTH`` (degrees) or ``polygon:FILE`` (a GeoJSON or WKT
  file holding the area's boundary in WGS84).

The graph is directed: one-way streets have one edge, two-way streets two. Edge
speeds (``speed_kph``) come from ``maxspeed`` where tagged and otherwise from the
:class:`SpeedProfile`'s per-highway-type speeds, then scaled and capped for the
vehicle; ``travel_time`` is in seconds and ``length`` in metres.

Built networks are cached on disk (pickle, keyed by the source's content and the
settings) and in memory, so a request never rebuilds one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString

from solver.osm_filter import is_osm_file, write_drivable_xml

log = logging.getLogger(__name__)

#: bump when RoadNetwork's layout changes, so old cache files are not read.
CACHE_FORMAT = 3

#: tags kept on edges beyond osmnx's defaults: access restrictions for lorries.
EXTRA_WAY_TAGS = ("maxweight", "maxwidth", "maxheight", "maxlength", "hgv", "motor_vehicle",
                  "goods", "access")

#: typical posted speeds (km/h) by OSM highway type, for edges without ``maxspeed``
#: (UK national limits where they apply).
UK_HIGHWAY_SPEEDS_KPH: dict[str, float] = {
    "motorway": 112.0, "motorway_link": 64.0, "trunk": 96.0, "trunk_link": 56.0,
    "primary": 80.0, "primary_link": 48.0, "secondary": 64.0, "secondary_link": 48.0,
    "tertiary": 48.0, "tertiary_link": 40.0, "unclassified": 48.0, "residential": 48.0,
    "living_street": 16.0, "road": 40.0, "busway": 32.0,
}


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    """How fast a vehicle drives each street, in km/h.

    The posted speed of an edge is its ``maxspeed``; if untagged,
    ``highway_speeds_kph[highway]``; for a highway type not in that table, osmnx's
    mean of the tagged edges of that type, else ``fallback_kph`` (all posted speeds).
    The vehicle then drives ``posted * speed_factor``, capped at ``max_speed_kph``.
    """

    name: str
    speed_factor: float = 1.0
    max_speed_kph: float = 200.0
    fallback_kph: float = 40.0
    highway_speeds_kph: tuple[tuple[str, float], ...] = tuple(UK_HIGHWAY_SPEEDS_KPH.items())

    def __post_init__(self) -> None:
        if not 0 < self.speed_factor <= 2:
            raise ValueError(f"speed_factor of profile {self.name!r} must be in (0, 2]")
        if self.max_speed_kph <= 0 or self.fallback_kph <= 0:
            raise ValueError(f"speeds of profile {self.name!r} must be positive")


#: a car at the posted speed.
CAR = SpeedProfile(name="car")
#: a loaded refuse collection vehicle: 80 % of the posted speed, at most 80 km/h
#: (a 26 t rigid lorry's practical top speed on UK roads is 50 mph).
REFUSE_TRUCK = SpeedProfile(name="refuse_truck", speed_factor=0.8, max_speed_kph=80.0,
                            fallback_kph=32.0)
PROFILES = {p.name: p for p in (CAR, REFUSE_TRUCK)}


@dataclass(frozen=True, slots=True)
class NetworkSource:
    """Where a network comes from: ``kind`` is ``file``, ``graphml``, ``place``, ``bbox``
    or ``polygon``; ``value`` the path or query."""

    kind: str
    value: str

    @classmethod
    def parse(cls, source: str | os.PathLike[str]) -> NetworkSource:
        """Read a source given as a path or as ``place:``, ``bbox:`` or ``polygon:`` text."""
        text = os.fspath(source)
        for prefix in ("place", "bbox", "polygon"):
            if text.startswith(prefix + ":"):
                value = text[len(prefix) + 1:].strip()
                if not value:
                    raise ValueError(f"network source {text!r} names no {prefix}")
                if prefix == "bbox":
                    _parse_bbox(value)
                return cls(kind=prefix, value=value)
        path = Path(text).expanduser()
        if path.name.lower().endswith(".graphml"):
            return cls(kind="graphml", value=str(path.resolve()))
        if is_osm_file(path):
            return cls(kind="file", value=str(path.resolve()))
        raise ValueError(f"network source {text!r} is neither an OSM file (.osm, .osm.pbf, .osm.bz2), "
                         "a .graphml file, nor 'place:', 'bbox:' or 'polygon:' text")

    def fingerprint(self) -> str:
        """What identifies the source's content: file hash for files, the query otherwise."""
        if self.kind in ("file", "graphml"):
            path = Path(self.value)
            if not path.is_file():
                raise FileNotFoundError(f"network file {path} does not exist")
            return f"{self.kind}:{_sha256(path)}"
        if self.kind == "polygon":
            return f"polygon:{_sha256(Path(self.value))}"
        return f"{self.kind}:{self.value}"


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``WEST,SOUTH,EAST,NORTH`` in degrees, checked."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError(f"bbox {text!r} must be WEST,SOUTH,EAST,NORTH")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:  # float() alone would not say which field is wrong
        raise ValueError(f"bbox {text!r} must be four numbers WEST,SOUTH,EAST,NORTH (degrees)") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"bbox {text!r} is not a valid WEST,SOUTH,EAST,NORTH box")
    return west, south, east, north


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RoadNetwork:
    """A drivable directed road graph with array views for fast snapping and routing.

    Nodes are numbered ``0..n_nodes-1`` (``node_osmid`` gives their OSM ids); edges
    ``0..n_edges-1`` go ``edge_u -> edge_v``. Lengths are metres, times seconds.
    ``edge_xy`` holds edge geometries in ``crs`` (a metric UTM projection), drawn from
    ``u`` to ``v``; ``edge_twin`` is the index of the same street drawn the other way
    (the opposite direction of a two-way street), or -1. ``node_component`` labels the
    strongly connected parts. ``csr_time``/``csr_length`` hold one entry per
    connected node pair, the quickest of any parallel edges, whose index is in
    ``csr_edge``.
    """

    name: str
    source: NetworkSource
    profile: SpeedProfile
    simplify: bool
    graph: nx.MultiDiGraph
    crs: str
    node_osmid: np.ndarray
    node_lonlat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_length_m: np.ndarray
    edge_time_s: np.ndarray
    edge_xy: np.ndarray
    edge_twin: np.ndarray
    node_component: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    csr_edge: np.ndarray
    build_seconds: float = 0.0
    _cached: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_osmid.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    def to_lonlat(self) -> pyproj.Transformer:
        """Transformer from ``crs`` to WGS84 lon/lat."""
        if "to_lonlat" not in self._cached:
            self._cached["to_lonlat"] = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return self._cached["to_lonlat"]

    def to_xy(self) -> pyproj.Transformer:
        """Transformer from WGS84 lon/lat to ``crs`` (metres)."""
        if "to_xy" not in self._cached:
            self._cached["to_xy"] = pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        return self._cached["to_xy"]

    def largest_component(self) -> int:
        """Label of the largest strongly connected part."""
        labels, counts = np.unique(self.node_component, return_counts=True)
        return int(labels[np.argmax(counts)])

    def __getstate__(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["_cached"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


def utm_crs(lon: float, lat: float) -> str:
    """The EPSG code of the UTM zone (WGS84) containing ``lon``/``lat``."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@contextlib.contextmanager
def _osmnx_settings() -> Iterator[None]:
    """Keep lorry-relevant way tags and silence osmnx's console log, restoring after."""
    saved = (ox.settings.useful_tags_way, ox.settings.log_console)
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved[0], *EXTRA_WAY_TAGS]))
    ox.settings.log_console = False
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.log_console = saved


def _raw_graph(source: NetworkSource, *, simplify: bool) -> nx.MultiDiGraph:
    """Fetch or read the unprojected drive graph, before speeds."""
    with _osmnx_settings():
        if source.kind == "file":
            with tempfile.TemporaryDirectory(prefix="wasteroute-osm-") as tmp:
                xml = Path(tmp) / "drive.osm"
                if write_drivable_xml(Path(source.value), xml).ways_kept == 0:
                    # osmnx would fail with a misleading "no data elements in server response"
                    raise ValueError(f"network source {source.value!r} holds no drivable street")
                return ox.graph_from_xml(xml, simplify=simplify, retain_all=True)
        if source.kind == "graphml":
            graph = ox.load_graphml(source.value)
            if ox.projection.is_projected(graph.graph.get("crs", "EPSG:4326")):
                graph = ox.project_graph(graph, to_latlong=True)
            return graph
        if source.kind == "place":
            return ox.graph_from_place(source.value, network_type="drive", simplify=simplify,
                                       retain_all=True)
        if source.kind == "bbox":
            return ox.graph_from_bbox(_parse_bbox(source.value), network_type="drive",
                                      simplify=simplify, retain_all=True)
        if source.kind == "polygon":
            polygon = _read_polygon(Path(source.value))
            return ox.graph_from_polygon(polygon, network_type="drive", simplify=simplify,
                                         retain_all=True)
    raise ValueError(f"unknown network source kind {source.kind!r}")


def _read_polygon(path: Path) -> shapely.Geometry:
    """A boundary polygon (WGS84) from a GeoJSON or WKT file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".geojson", ".json"):
        import geopandas as gpd

        return gpd.read_file(path).to_crs("EPSG:4326").union_all()
    return shapely.from_wkt(text)


def add_speeds(graph: nx.MultiDiGraph, profile: SpeedProfile) -> nx.MultiDiGraph:
    """Set each edge's ``speed_kph`` (vehicle speed) and ``travel_time`` (s) for ``profile``."""
    ox.add_edge_speeds(graph, hwy_speeds=dict(profile.highway_speeds_kph), fallback=profile.fallback_kph)
    for _, _, data in graph.edges(data=True):
        posted = float(data["speed_kph"])
        data["posted_speed_kph"] = posted
        speed = min(posted * profile.speed_factor, profile.max_speed_kph)
        data["speed_kph"] = speed
        data["travel_time"] = float(data["length"]) / (speed / 3.6)
    return graph


def build_network(source: str | os.PathLike[str] | NetworkSource, *,
                  profile: SpeedProfile = REFUSE_TRUCK, simplify: bool = True) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from ``source`` without any cache."""
    src = source if isinstance(source, NetworkSource) else NetworkSource.parse(source)
    started = time.perf_counter()
    graph = _raw_graph(src, simplify=simplify)
    if graph.number_of_edges() == 0:
        raise ValueError(f"network source {src.value!r} holds no drivable street")
    add_speeds(graph, profile)
    network = _arrays_from_graph(graph, src, profile, simplify)
    network.build_seconds = time.perf_counter() - started
    log.info("built network %s (%d nodes, %d edges) in %.2f s", network.name, network.n_nodes,
             network.n_edges, network.build_seconds)
    return network


def _arrays_from_graph(graph: nx.MultiDiGraph, src: NetworkSource, profile: SpeedProfile,
                       simplify: bool) -> RoadNetwork:
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lonlat = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=float)
    crs = utm_crs(float(np.median(lonlat[:, 0])), float(np.median(lonlat[:, 1])))
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    us, vs, keys, lengths, times, geoms = [], [], [], [], [], []
    for u, v, k, data in graph.edges(keys=True, data=True):
        us.append(index[u])
        vs.append(index[v])
        keys.append(k)
        lengths.append(float(data["length"]))
        times.append(float(data["travel_time"]))
        geom = data.get("geometry")
        if geom is None:
            geom = LineString([lonlat[index[u]], lonlat[index[v]]])
        geoms.append(geom)
    edge_u = np.asarray(us, dtype=np.int64)
    edge_v = np.asarray(vs, dtype=np.int64)
    edge_xy = shapely.transform(np.asarray(geoms, dtype=object),
                                lambda c: np.column_stack(to_xy.transform(c[:, 0], c[:, 1])))
    edge_time = np.maximum(np.asarray(times), 1e-6)
    edge_length = np.asarray(lengths)

    # one CSR entry per (u, v): the quickest of parallel edges, never their sum
    order = np.lexsort((edge_time, edge_v, edge_u))
    pair = edge_u[order] * len(nodes) + edge_v[order]
    first = np.concatenate(([True], pair[1:] != pair[:-1]))
    best = order[first]
    n = len(nodes)
    indptr = np.searchsorted(edge_u[best], np.arange(n + 1)).astype(np.int64)
    csr_time = sp.csr_array((edge_time[best], edge_v[best], indptr), shape=(n, n))
    csr_length = sp.csr_array((edge_length[best], edge_v[best], indptr), shape=(n, n))
    _, component = connected_components(csr_time, directed=True, connection="strong")

    return RoadNetwork(
        name=Path(src.value).name if src.kind in ("file", "graphml") else src.value,
        source=src, profile=profile, simplify=simplify, graph=graph, crs=crs,
        node_osmid=np.asarray(nodes, dtype=np.int64), node_lonlat=lonlat,
        edge_u=edge_u, edge_v=edge_v, edge_key=np.asarray(keys, dtype=np.int64),
        edge_length_m=edge_length, edge_time_s=edge_time, edge_xy=edge_xy,
        edge_twin=_twins(edge_u, edge_v, edge_xy), node_component=component.astype(np.int64),
        csr_time=csr_time, csr_length=csr_length, csr_edge=best.astype(np.int64),
    )


def _twins(edge_u: np.ndarray, edge_v: np.ndarray, edge_xy: np.ndarray) -> np.ndarray:
    """For each edge, the edge drawing the same street the opposite way, else -1."""
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        by_pair.setdefault((u, v), []).append(i)
    twin = np.full(len(edge_u), -1, dtype=np.int64)
    for i, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        if twin[i] >= 0:
            continue
        mine = shapely.get_coordinates(edge_xy[i])
        for j in by_pair.get((v, u), ()):
            if twin[j] >= 0 or j == i:  # a loop street (u == v) is its own pair key
                continue
            theirs = shapely.get_coordinates(edge_xy[j])[::-1]
            if theirs.shape == mine.shape and np.allclose(theirs, mine, atol=0.01):
                twin[i], twin[j] = j, i
                break
    return twin


def cache_key(source: NetworkSource, profile: SpeedProfile, simplify: bool) -> str:
    """Hex key identifying a built network: source content, profile, simplification, format."""
    payload = json.dumps({"source": source.fingerprint(), "profile": asdict(profile),
                          "simplify": simplify, "format": CACHE_FORMAT,
                          "osmnx": ox.__version__}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


_MEMORY: dict[str, RoadNetwork] = {}


def load_network(source: str | os.PathLike[str], *, profile: SpeedProfile = REFUSE_TRUCK,
                 simplify: bool = True, cache_dir: str | os.PathLike[str] | None = None) -> RoadNetwork:
    """The network for ``source``, from memory, the disk cache in ``cache_dir``, or built.

    A cache file that cannot be read is rebuilt and replaced. Without ``cache_dir``
    only the in-memory cache is used.
    """
    src = NetworkSource.parse(source)
    key = cache_key(src, profile, simplify)
    if key in _MEMORY:
        return _MEMORY[key]
    path = Path(cache_dir) / f"{Path(src.value).name[:40]}-{key[:20]}.pkl" if cache_dir else None
    network = _read_cache(path) if path else None
    if network is None:
        network = build_network(src, profile=profile, simplify=simplify)
        if path:
            _write_cache(path, network)
    _MEMORY[key] = network
    return network


def _read_cache(path: Path) -> RoadNetwork | None:
    if not path.is_file():
        return None
    started = time.perf_counter()
    try:
        with path.open("rb") as f:
            network = pickle.load(f)
        if not isinstance(network, RoadNetwork):
            raise TypeError(f"cache file holds {type(network).__name__}")
    except Exception as exc:  # a corrupt or foreign cache file is rebuilt, not trusted
        log.warning("ignoring unreadable network cache %s: %s", path, exc)
        return None
    log.info("loaded network %s from cache in %.2f s", network.name, time.perf_counter() - started)
    return network


def _write_cache(path: Path, network: RoadNetwork) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(network, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
