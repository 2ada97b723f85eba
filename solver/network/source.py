"""Where a network comes from (an OSM or GraphML file, an osmnx place, bbox or polygon
query) and reading its raw drive graph, before speeds."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import osmnx as ox
import shapely

from solver.network.tags import EXTRA_WAY_TAGS
from solver.osm_filter import SIDE_WAY_TAG, is_osm_file, write_drivable_xml


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


@contextlib.contextmanager
def _osmnx_settings() -> Iterator[None]:
    """Keep lorry-relevant way tags and silence osmnx's console log, restoring after."""
    saved = (ox.settings.useful_tags_way, ox.settings.useful_tags_node, ox.settings.log_console)
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved[0], *EXTRA_WAY_TAGS]))
    ox.settings.useful_tags_node = list(dict.fromkeys([*saved[1], SIDE_WAY_TAG]))
    ox.settings.log_console = False
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node, ox.settings.log_console = saved


def raw_graph(source: NetworkSource, *, simplify: bool) -> nx.MultiDiGraph:
    """Fetch or read the unprojected drive graph, before speeds."""
    with _osmnx_settings():
        if source.kind == "file":
            with tempfile.TemporaryDirectory(prefix="wasteroute-osm-") as tmp:
                xml = Path(tmp) / "drive.osm"
                if write_drivable_xml(Path(source.value), xml).ways_kept == 0:
                    # osmnx would fail with a misleading "no data elements in server response"
                    raise ValueError(f"network source {source.value!r} holds no drivable street")
                graph = ox.graph_from_xml(xml, simplify=False, retain_all=True)
                # a node where a side way joins stays a node: a lorry can turn round there
                return ox.simplify_graph(graph, node_attrs_include=[SIDE_WAY_TAG]) if simplify else graph
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


def sort_merged_tags(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Sort every list-valued edge attribute of ``graph`` in place; ``graph``.

    When osmnx simplifies a graph it joins the differing tags of the ways one edge is
    merged from into a list built from a set, so the list's order follows Python's string
    hashing, which changes with every process (``PYTHONHASHSEED``). osmnx's speeds take the
    first ``highway`` of such a list, so without a fixed order the same file gave an edge
    16.5 s in one process and 49.4 s in another. Sorted, a build is the same everywhere.
    """
    for _, _, data in graph.edges(data=True):
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = sorted(value, key=str)
    return graph
