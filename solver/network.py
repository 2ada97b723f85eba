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

Built networks are cached on disk (a checked pickle, see :mod:`solver.cache_file`, keyed
by the source's content and the settings) and in memory, so a request never rebuilds
one. A truncated, damaged or foreign cache file is refused with a warning and rebuilt.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString

from solver import cache_file
from solver.osm_filter import is_osm_file, write_drivable_xml

log = logging.getLogger(__name__)

#: bump when RoadNetwork's layout changes, so old cache files are not read.
CACHE_FORMAT = 6

#: tags kept on edges beyond osmnx's defaults: access restrictions for lorries (see
#: :func:`edge_access_arrays` for which of them decide a vehicle's streets).
EXTRA_WAY_TAGS = ("maxweight", "maxweight:hgv", "maxweightrating", "maxweightrating:hgv",
                  "maxweight:conditional", "maxweightrating:conditional", "maxwidth", "maxwidth:physical",
                  "maxheight", "maxheight:physical", "maxlength", "hgv", "motor_vehicle", "goods",
                  "access")

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


# --- access restrictions: OSM tags -> limits in SI units ------------------------------------
#
# Decisions (docs/architecture.md, "Access"):
# * A limit tag gives the largest vehicle allowed: a vehicle *equal* to it may pass.
#   Bare numbers are tonnes (weights) and metres (sizes), as OSM defines them.
#   ``maxweightrating`` (a limit on the plated weight) is compared with the vehicle's
#   gross weight like ``maxweight``; ``maxweight:hgv`` binds heavy goods vehicles only;
#   ``maxwidth:physical``/``maxheight:physical`` (a real gap or bridge) bind as the legal
#   limits do.
# * ``none``, ``no``, ``default`` (the legal default, which every road-legal vehicle
#   meets) and values that cannot be read mean no limit; ``below_default`` means a limit
#   whose value is unknown (NaN), which closes the street to any vehicle whose size in
#   that dimension is given.
# * A ``;`` list or an osmnx list (a simplified edge merged from several ways) counts
#   its tightest limit: the edge as a whole contains that stretch.
# * ``maxweight:conditional`` / ``maxweightrating:conditional`` of ``none @ destination``
#   (or ``delivery``, ``access``: the UK "except for access") lift the weight limit: a
#   refuse lorry has business on every street it collects from. Only on an edge drawn
#   from one way; on a merged edge we cannot tell which stretch the exemption covers.
# * ``hgv`` closes a street to a heavy goods vehicle when it is ``no``, ``private``,
#   ``agricultural``, ``forestry``, ``emergency`` or ``military`` (a ``;`` list only when
#   every part does; a merged edge when any of its ways does). ``destination``,
#   ``delivery``, ``local``, ``unsuitable``, ``discouraged`` and the rest leave it open:
#   a refuse lorry serves those streets.
# * ``access``, ``vehicle``, ``motor_vehicle`` (and ``motorcar``) apply to every vehicle
#   alike and are osmnx's ``drive`` filter's business (it drops ``access=private``,
#   ``motor_vehicle=no``...), so every profile, unrestricted included, sees the same
#   streets there; ``goods`` (OSM: light goods vehicles up to 3.5 t) is kept on edges
#   but decides nothing, as no vehicle is described as a light goods vehicle.

#: no limit on an edge.
NO_LIMIT = math.inf
#: a limit OSM says exists but does not give (``below_default``).
UNKNOWN_LIMIT = math.nan
#: the weight above which a vehicle is a heavy goods vehicle (kg).
HGV_THRESHOLD_KG = 3500.0

_KG_PER_UNIT = {"": 1000.0, "t": 1000.0, "to": 1000.0, "tonne": 1000.0, "tonnes": 1000.0, "kg": 1.0,
                "kgs": 1.0, "lb": 0.45359237, "lbs": 0.45359237, "st": 907.18474, "lt": 1016.0469088,
                "cwt": 50.80234544}
_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_WEIGHT = re.compile(rf"^{_NUMBER}\s*([a-z]*)\.?$")
_METRES = re.compile(rf"^{_NUMBER}\s*(m|metres?|meters?|cm)?$")
_FEET_INCHES = re.compile(rf"^(?:{_NUMBER}\s*(?:'|ft|feet|foot)\s*)?(?:{_NUMBER}\s*(?:\"|in|inch|inches)?)?$")
_UNKNOWN_WORDS = frozenset({"below_default"})
_HGV_FORBIDDING = frozenset({"no", "private", "agricultural", "forestry", "emergency", "military"})
_EXEMPT_CONDITIONS = frozenset({"destination", "delivery", "access", "except for access", "access only"})
_LIFTED_VALUES = frozenset({"none", "no"})


def _ways(value: object) -> list[str]:
    """The values of one edge's tag, one per OSM way: a plain value, or osmnx's list for
    an edge merged from several ways (also as GraphML text, ``"['7.5', '3']"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    items: list[object]
    if isinstance(value, list | tuple | set):
        items = list(value)
    else:
        text = str(value).strip()
        items = [text]
        if text.startswith("[") and text.endswith("]"):
            with contextlib.suppress(ValueError, SyntaxError):
                parsed = ast.literal_eval(text)
                if isinstance(parsed, list):
                    items = parsed
    return [str(item).strip() for item in items
            if item is not None and not (isinstance(item, float) and math.isnan(item)) and str(item).strip()]


def _parts(way_value: str) -> list[str]:
    """The parts of one way's ``;``-separated value, lower-cased."""
    return [part.strip().lower() for part in way_value.split(";") if part.strip()]


def _tightest(limits: Iterable[float]) -> float:
    """The smallest limit; unknown (NaN) if any is unknown; no limit if there is none."""
    values = list(limits)
    if any(math.isnan(v) for v in values):
        return UNKNOWN_LIMIT
    return min(values, default=NO_LIMIT)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _one_weight_kg(text: str) -> float:
    if text in _UNKNOWN_WORDS:
        return UNKNOWN_LIMIT
    match = _WEIGHT.match(text)
    factor = _KG_PER_UNIT.get(match.group(2)) if match else None
    if match is None or factor is None:
        return NO_LIMIT  # none, default, and text that names no weight
    return _number(match.group(1)) * factor


def _one_length_m(text: str) -> float:
    if text in _UNKNOWN_WORDS:
        return UNKNOWN_LIMIT
    text = (text.replace("’", "'").replace("′", "'").replace("″", '"').replace("”", '"')
            .replace("''", '"'))
    match = _METRES.match(text)
    if match:
        return _number(match.group(1)) * (0.01 if match.group(2) == "cm" else 1.0)
    match = _FEET_INCHES.match(text)
    if match and (match.group(1) or match.group(2)):
        feet = _number(match.group(1)) if match.group(1) else 0.0
        inches = _number(match.group(2)) if match.group(2) else 0.0
        return feet * 0.3048 + inches * 0.0254
    return NO_LIMIT  # none, default, and text that names no length


def parse_weight_kg(value: object) -> float:
    """A ``maxweight``-style tag value as kilograms: ``"7.5"`` (tonnes), ``"7.5 t"``,
    ``"3500 kg"``, ``"5 st"`` (short tons), ``"11000 lbs"``, lists (tightest).

    ``inf`` for no limit (absent, ``none``, ``default``, unreadable), NaN for
    ``below_default`` (a limit of unknown value).
    """
    return _tightest(_one_weight_kg(part) for way in _ways(value) for part in _parts(way))


def parse_length_m(value: object) -> float:
    """A ``maxwidth``/``maxheight``/``maxlength`` tag value as metres: ``"2.1"``,
    ``"2.1 m"``, ``"210 cm"``, ``"6'6\\""``, ``"6 ft 6 in"``, ``"13'"``, lists (tightest).

    ``inf`` for no limit (absent, ``none``, ``default``, unreadable), NaN for
    ``below_default`` (a limit of unknown value).
    """
    return _tightest(_one_length_m(part) for way in _ways(value) for part in _parts(way))


def hgv_forbidden(value: object) -> bool:
    """Whether an ``hgv`` tag value closes the street to heavy goods vehicles (see the
    decisions above: ``no``, ``private``..., not ``destination`` or ``delivery``)."""
    return any(parts and all(part in _HGV_FORBIDDING for part in parts)
               for parts in (_parts(way) for way in _ways(value)))


def _split_top_level(text: str) -> list[str]:
    """``a @ (x; y); b @ z`` -> ``["a @ (x; y)", "b @ z"]``: split at ``;`` outside brackets."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ";" and depth <= 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def exempts_service_vehicles(conditional: object) -> bool:
    """Whether a ``maxweight:conditional`` value lifts the limit for vehicles with
    business on the street (``none @ destination``, ``none @ (delivery)``...)."""
    ways = _ways(conditional)
    if len(ways) != 1:
        return False
    for rule in _split_top_level(ways[0]):
        value, at, condition = rule.partition("@")
        if at and value.strip().lower() in _LIFTED_VALUES \
                and condition.strip().strip("()").strip().lower() in _EXEMPT_CONDITIONS:
            return True
    return False


class EdgeLimits(NamedTuple):
    """One edge's access limits: kg for any vehicle and for a heavy goods vehicle (which
    ``maxweight:hgv`` also binds), metres of width, height and length (``inf`` none, NaN
    unknown), and whether ``hgv`` closes it to heavy goods vehicles."""

    maxweight_kg: float
    maxweight_hgv_kg: float
    maxwidth_m: float
    maxheight_m: float
    maxlength_m: float
    hgv_forbidden: bool


def edge_limits(tags: Mapping[str, Any]) -> EdgeLimits:
    """The access limits of an edge from its OSM tags (an osmnx edge's attributes)."""
    single_way = len(_ways(tags.get("osmid"))) <= 1  # osmid is a list on an edge merged from ways

    def weight(key: str) -> float:
        kg = parse_weight_kg(tags.get(key))
        if single_way and math.isfinite(kg) and exempts_service_vehicles(tags.get(f"{key}:conditional")):
            return NO_LIMIT
        return kg

    any_vehicle = _tightest([weight("maxweight"), weight("maxweightrating")])
    return EdgeLimits(
        maxweight_kg=any_vehicle,
        maxweight_hgv_kg=_tightest([any_vehicle, parse_weight_kg(tags.get("maxweight:hgv")),
                                    parse_weight_kg(tags.get("maxweightrating:hgv"))]),
        maxwidth_m=_tightest([parse_length_m(tags.get("maxwidth")), parse_length_m(tags.get("maxwidth:physical"))]),
        maxheight_m=_tightest([parse_length_m(tags.get("maxheight")),
                               parse_length_m(tags.get("maxheight:physical"))]),
        maxlength_m=parse_length_m(tags.get("maxlength")),
        hgv_forbidden=hgv_forbidden(tags.get("hgv")),
    )


class SizedVehicle(Protocol):
    """What :meth:`AccessProfile.of` reads of a vehicle (a :class:`solver.problem.Vehicle`)."""

    @property
    def gross_weight_kg(self) -> float | None: ...
    @property
    def width_m(self) -> float | None: ...
    @property
    def height_m(self) -> float | None: ...
    @property
    def length_m(self) -> float | None: ...
    @property
    def hgv(self) -> bool: ...


#: key of the profile with no size: it drives every street of the network.
UNRESTRICTED_KEY = "unrestricted"


def _fmt(value: float) -> str:
    return format(round(float(value), 3), "g")


@dataclass(frozen=True, slots=True)
class AccessProfile:
    """What decides which streets a vehicle may drive: its laden weight (kg), width,
    height and length (m), ``None`` where unknown (no limit of that kind applies), and
    whether it is a heavy goods vehicle (``hgv=no`` streets, ``maxweight:hgv``).

    Vehicles with equal profiles share one road graph and one set of matrices;
    :attr:`key` is a stable text naming the profile.
    """

    gross_weight_kg: float | None = None
    width_m: float | None = None
    height_m: float | None = None
    length_m: float | None = None
    hgv: bool = False

    @classmethod
    def of(cls, vehicle: SizedVehicle) -> AccessProfile:
        """A vehicle's profile. A vehicle whose weight is given is a heavy goods vehicle
        when it weighs more than 3.5 t (whatever its ``hgv`` flag says); without a
        weight its ``hgv`` flag decides."""
        weight = vehicle.gross_weight_kg
        hgv = bool(vehicle.hgv) if weight is None else float(weight) > HGV_THRESHOLD_KG
        return cls(gross_weight_kg=weight, width_m=vehicle.width_m, height_m=vehicle.height_m,
                   length_m=vehicle.length_m, hgv=hgv)

    @property
    def key(self) -> str:
        """``unrestricted``, or e.g. ``hgv,weight=26000kg,width=2.55m,height=3.7m``."""
        parts = ["hgv"] if self.hgv else []
        for label, value, unit in (("weight", self.gross_weight_kg, "kg"), ("width", self.width_m, "m"),
                                   ("height", self.height_m, "m"), ("length", self.length_m, "m")):
            if value is not None:
                parts.append(f"{label}={_fmt(value)}{unit}")
        return ",".join(parts) or UNRESTRICTED_KEY

    @property
    def unrestricted(self) -> bool:
        """Whether no access rule can apply to this profile."""
        return self.key == UNRESTRICTED_KEY


#: the profile of a vehicle of unknown size, which drives every street.
UNRESTRICTED = AccessProfile()


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

    Access limits per edge, from its OSM tags (:func:`edge_limits`):
    ``edge_maxweight_kg`` binds every vehicle and ``edge_maxweight_hgv_kg`` a heavy
    goods vehicle (kg); ``edge_maxwidth_m``, ``edge_maxheight_m``, ``edge_maxlength_m``
    (m); ``inf`` where there is no limit, NaN where the limit is unknown;
    ``edge_hgv_forbidden`` where ``hgv`` closes the street to heavy goods vehicles.
    The arrays above are the unrestricted road graph; :func:`routing_graph` gives the
    one a vehicle of a given :class:`AccessProfile` may drive.
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
    edge_maxweight_kg: np.ndarray
    edge_maxweight_hgv_kg: np.ndarray
    edge_maxwidth_m: np.ndarray
    edge_maxheight_m: np.ndarray
    edge_maxlength_m: np.ndarray
    edge_hgv_forbidden: np.ndarray
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
    log.info("built network %s (%d nodes, %d edges) in %.2f s; edges with access limits: %s", network.name,
             network.n_nodes, network.n_edges, network.build_seconds, access_counts(network))
    return network


def _arrays_from_graph(graph: nx.MultiDiGraph, src: NetworkSource, profile: SpeedProfile,
                       simplify: bool) -> RoadNetwork:
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lonlat = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=float)
    crs = utm_crs(float(np.median(lonlat[:, 0])), float(np.median(lonlat[:, 1])))
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    us, vs, keys, lengths, times, geoms, limits = [], [], [], [], [], [], []
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
        limits.append(edge_limits(data))
    edge_u = np.asarray(us, dtype=np.int64)
    edge_v = np.asarray(vs, dtype=np.int64)
    edge_xy = shapely.transform(np.asarray(geoms, dtype=object),
                                lambda c: np.column_stack(to_xy.transform(c[:, 0], c[:, 1])))
    edge_time = np.maximum(np.asarray(times), 1e-6)
    edge_length = np.asarray(lengths)
    limit = np.asarray(limits, dtype=float).reshape(-1, len(EdgeLimits._fields))
    csr_time, csr_length, csr_edge, component = _quickest_csr(
        len(nodes), edge_u, edge_v, edge_time, edge_length, np.arange(len(edge_u)))

    return RoadNetwork(
        name=Path(src.value).name if src.kind in ("file", "graphml") else src.value,
        source=src, profile=profile, simplify=simplify, graph=graph, crs=crs,
        node_osmid=np.asarray(nodes, dtype=np.int64), node_lonlat=lonlat,
        edge_u=edge_u, edge_v=edge_v, edge_key=np.asarray(keys, dtype=np.int64),
        edge_length_m=edge_length, edge_time_s=edge_time, edge_xy=edge_xy,
        edge_twin=_twins(edge_u, edge_v, edge_xy), node_component=component,
        csr_time=csr_time, csr_length=csr_length, csr_edge=csr_edge,
        edge_maxweight_kg=limit[:, 0], edge_maxweight_hgv_kg=limit[:, 1], edge_maxwidth_m=limit[:, 2],
        edge_maxheight_m=limit[:, 3], edge_maxlength_m=limit[:, 4], edge_hgv_forbidden=limit[:, 5] > 0,
    )


def _quickest_csr(n: int, edge_u: np.ndarray, edge_v: np.ndarray, edge_time: np.ndarray,
                  edge_length: np.ndarray, edges: np.ndarray
                  ) -> tuple[sp.csr_array, sp.csr_array, np.ndarray, np.ndarray]:
    """CSR time and length of ``edges`` (indices) on ``n`` nodes, one entry per node pair (the
    quickest of parallel edges, never their sum), the edge index of each entry, and the
    strongly-connected-component label of each node."""
    edges = np.asarray(edges, dtype=np.int64)
    order = edges[np.lexsort((edge_time[edges], edge_v[edges], edge_u[edges]))]
    pair = edge_u[order] * n + edge_v[order]
    first = np.concatenate(([True], pair[1:] != pair[:-1])) if order.size else np.zeros(0, dtype=bool)
    best = order[first]
    indptr = np.searchsorted(edge_u[best], np.arange(n + 1)).astype(np.int64)
    csr_time = sp.csr_array((edge_time[best], edge_v[best], indptr), shape=(n, n))
    csr_length = sp.csr_array((edge_length[best], edge_v[best], indptr), shape=(n, n))
    _, component = connected_components(csr_time, directed=True, connection="strong")
    return csr_time, csr_length, best.astype(np.int64), component.astype(np.int64)


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


@dataclass(frozen=True)
class RoutingGraph:
    """The streets one access profile may drive, ready for Dijkstra.

    ``allowed`` marks the network's edges this graph keeps; ``csr_time`` (s),
    ``csr_length`` (m) and ``csr_edge`` (edge index) hold one entry per node pair (the
    quickest allowed parallel edge) and ``node_component`` labels the strongly
    connected parts of this graph. For a profile every street is open to, these are the
    network's own arrays.
    """

    allowed: np.ndarray
    csr_time: sp.csr_array
    csr_length: sp.csr_array
    csr_edge: np.ndarray
    node_component: np.ndarray

    @property
    def restricted(self) -> bool:
        """Whether some edge of the network is left out."""
        return not bool(self.allowed.all())


def _within(size: float | None, limit: np.ndarray) -> np.ndarray:
    """Edges whose ``limit`` lets a vehicle of ``size`` pass (an unknown limit does not)."""
    if size is None:
        return np.ones(limit.shape[0], dtype=bool)
    return ~np.isnan(limit) & (float(size) <= limit + 1e-9)


def allowed_edges(network: RoadNetwork, profile: AccessProfile) -> np.ndarray:
    """Read-only bool array over the edges: those a vehicle of ``profile`` may drive.

    A street is closed when a limit (``maxweight``/``maxweightrating``, ``maxweight:hgv``
    for a heavy goods vehicle, ``maxwidth``, ``maxheight``, ``maxlength``) is below the
    vehicle's size or unknown (``below_default``), or when ``hgv`` closes it to a heavy
    goods vehicle. Cached on the network per profile.
    """
    key = ("allowed", profile.key)
    cached = network._cached.get(key)
    if cached is None:
        weight_limit = network.edge_maxweight_hgv_kg if profile.hgv else network.edge_maxweight_kg
        cached = (_within(profile.gross_weight_kg, weight_limit) & _within(profile.width_m, network.edge_maxwidth_m)
                  & _within(profile.height_m, network.edge_maxheight_m)
                  & _within(profile.length_m, network.edge_maxlength_m))
        if profile.hgv:
            cached &= ~network.edge_hgv_forbidden
        cached.setflags(write=False)
        network._cached[key] = cached
    return cached


def routing_graph(network: RoadNetwork, profile: AccessProfile | None = None) -> RoutingGraph:
    """The road graph a vehicle of ``profile`` drives (default: unrestricted, every street).

    Built once per distinct set of allowed edges and cached on the network, so profiles
    that the network's tags do not tell apart share one graph.
    """
    profile = profile or UNRESTRICTED
    key = ("routing", profile.key)
    cached = network._cached.get(key)
    if cached is not None:
        return cached
    allowed = allowed_edges(network, profile)
    restricted = not bool(allowed.all())
    mask_key = ("routing-mask", hashlib.sha256(np.packbits(allowed).tobytes()).hexdigest() if restricted else "all")
    graph = network._cached.get(mask_key)
    if graph is None:
        if restricted:
            csr_time, csr_length, csr_edge, component = _quickest_csr(
                network.n_nodes, network.edge_u, network.edge_v, network.edge_time_s, network.edge_length_m,
                np.flatnonzero(allowed))
            graph = RoutingGraph(allowed=allowed, csr_time=csr_time, csr_length=csr_length, csr_edge=csr_edge,
                                 node_component=component)
        else:
            graph = RoutingGraph(allowed=allowed, csr_time=network.csr_time, csr_length=network.csr_length,
                                 csr_edge=network.csr_edge, node_component=network.node_component)
        network._cached[mask_key] = graph
    network._cached[key] = graph
    return graph


def access_counts(network: RoadNetwork) -> dict[str, int]:
    """How many directed edges carry each kind of access limit (a two-way street counts twice)."""
    def limited(limit: np.ndarray) -> int:  # a finite or unknown (NaN) limit
        return int(np.count_nonzero(limit != NO_LIMIT))

    return {"maxweight": limited(network.edge_maxweight_kg), "maxweight_hgv": limited(network.edge_maxweight_hgv_kg),
            "maxwidth": limited(network.edge_maxwidth_m), "maxheight": limited(network.edge_maxheight_m),
            "maxlength": limited(network.edge_maxlength_m), "hgv_forbidden": int(network.edge_hgv_forbidden.sum())}


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
    network = _read_cache(path, key) if path else None
    if network is None:
        network = build_network(src, profile=profile, simplify=simplify)
        if path:
            cache_file.write(path, network, key, format_version=CACHE_FORMAT)
    _MEMORY[key] = network
    return network


def _read_cache(path: Path, key: str) -> RoadNetwork | None:
    """The network cached in ``path`` for ``key``, or ``None`` (with a warning when the file
    exists but fails a check of :mod:`solver.cache_file` or holds no complete network)."""
    if not path.is_file():
        return None
    started = time.perf_counter()
    try:
        network = cache_file.read(path, key, format_version=CACHE_FORMAT)
        if not isinstance(network, RoadNetwork):
            raise TypeError(f"cache file holds {type(network).__name__}")
        missing = sorted(set(RoadNetwork.__dataclass_fields__) - set(vars(network)))
        if missing:
            raise TypeError(f"cache file lacks {', '.join(missing)}")
    except (OSError, ValueError, TypeError) as exc:  # a corrupt or foreign cache file is rebuilt, not trusted
        log.warning("ignoring unreadable network cache %s: %s; rebuilding it", path, exc)
        return None
    log.info("loaded network %s from cache in %.2f s", network.name, time.perf_counter() - started)
    return network
