"""The Oakham case of issue 15: household refuse bins in and around Oakham, Rutland, four lorries, one tip.

Built from a real OpenStreetMap extract of Rutland (``rutland-latest.osm.pbf``) read in
place, and deterministic: the same file always gives the same problem, byte for byte.

**Where.** The settlements of :data:`SETTLEMENTS`: Oakham within 1.5 km of its
``place=town`` node, Barleythorpe (which has grown into it) and eight villages within a
few hundred metres of their ``place=village`` node, all within 5 km of Oakham. Distances
are metres in the extract's UTM zone.

**Households.** The extract maps few homes (under 300 in these settlements, against some
thousands of dwellings on the ground), so the case takes two kinds, both stated in each
:class:`Household`'s ``source``:

- ``building``: every closed way tagged ``building`` of :data:`HOME_BUILDINGS`, or a
  building with ``addr:housenumber`` whose type is ``yes`` (untyped), at its centroid;
- ``address``: every node with ``addr:housenumber`` and no business tag
  (:data:`BUSINESS_KEYS`) that lies inside no such building;
- ``frontage``: along every street of :data:`FRONTAGE_STREETS` (residential streets and the
  through roads of a town or village, where homes front the road too), one home every
  :data:`FRONTAGE_SPACING_M` metres of street, on alternate sides, set back
  :data:`SETBACK_M` metres from the centre line (where a wheelie bin stands at the kerb),
  unless a mapped home lies within :data:`CLEAR_M` metres: streets whose homes are mapped
  get no invented ones. The spacing is chosen so that the case has about the issue's
  2,603 households; it is a stated assumption, not a survey.

Building relations (multipolygons, 16 in all Rutland) and flats' shared bins are left
out: each household is one 240-litre bin.

**Bins.** One 240-litre household refuse bin per household: ``volume_l`` 240, a weight
drawn (seeded) as :mod:`solver.synthetic` draws it (mean 15 kg, sd 5 kg, clipped to
3-40 kg), ``service_s`` 30 (the API's default lift time). Ids ``h00001``... in order of
position, so they reveal no route.

**Fleet and places.** Four 26 t refuse collection vehicles as docs/api.md's example
vehicle (``rcv-1``) describes one: 10,000 kg payload, shift 06:00-15:00, a 30-minute break
starting between 11:00 and 13:00. (The schema's default shift, 06:00-14:00, would leave
this fleet under 5 % slack on the case: no plan could then trade any time for balanced or
compact rounds.) Body volume is left unlimited: the body compacts, and a lorry on
household refuse reaches its payload first. The depot is :data:`DEPOT`, the tip
:data:`TIP` (why each: their ``why``), with the API's default unload time (15 minutes).

The output is the JSON body of ``POST /api/v1/optimisations`` (docs/api.md), so it can
be posted to the service, loaded on the map or turned into a :class:`~solver.problem.Problem`
by the service's own translation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pyproj
import shapely

from solver.network.build import utm_crs


@dataclass(frozen=True, slots=True)
class Settlement:
    """A town or village of the case: every home within ``radius_m`` metres of its OSM
    ``place`` node (``lon``/``lat``, WGS84) belongs to it."""

    name: str
    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Place:
    """A real place the case puts a depot or a tip at: ``osm`` names the OSM object whose
    centroid (``lon``/``lat``) it is, ``why`` says why this place."""

    id: str
    name: str
    lon: float
    lat: float
    osm: str
    why: str


@dataclass(frozen=True, slots=True)
class Household:
    """One household (one bin) at ``lon``/``lat``; ``source`` is ``building``, ``address``
    or ``frontage`` (see the module docstring)."""

    lon: float
    lat: float
    source: str


#: The settlements of the case, at their OSM ``place`` nodes (radii in metres).
SETTLEMENTS: tuple[Settlement, ...] = (
    Settlement("Oakham", -0.7285, 52.6699, 1500.0),
    Settlement("Barleythorpe", -0.7457, 52.6787, 500.0),
    Settlement("Langham", -0.7536, 52.6911, 800.0),
    Settlement("Egleton", -0.7065, 52.6573, 400.0),
    Settlement("Braunston in Rutland", -0.7693, 52.6520, 500.0),
    Settlement("Brooke", -0.7475, 52.6427, 300.0),
    Settlement("Manton", -0.7001, 52.6320, 500.0),
    Settlement("Ashwell", -0.7183, 52.7135, 500.0),
    Settlement("Upper Hambleton", -0.6701, 52.6586, 500.0),
    Settlement("Burley", -0.6968, 52.6861, 400.0),
)

DEPOT = Place(
    id="depot", name="Pillings Road Industrial Estate, Oakham", lon=-0.734218, lat=52.67909,
    osm="way 553629700 (landuse=industrial)",
    why="OSM maps no council depot near Oakham; this is the town's industrial estate, 1 km "
        "north-north-west of the centre (it snaps onto Pillings Road), where a contractor's depot "
        "would stand")
TIP = Place(
    id="tip", name="Cottesmore Household Waste Recycling Centre", lon=-0.677778, lat=52.705095,
    osm="way 980474153 (amenity=recycling, recycling_type=centre)",
    why="the waste site in OSM nearest to Oakham (5 km north-east, on Burley Road, the B668; the "
        "other, North Luffenham Civic Amenity Site, is 9 km away); its public opening hours are "
        "not a lorry's, so no opening window is set")

HOME_BUILDINGS = frozenset({"house", "detached", "semidetached_house", "terrace", "residential",
                            "bungalow", "apartments", "cottage", "farmhouse"})
"""``building`` values that are homes."""

BUSINESS_KEYS = ("shop", "amenity", "office", "craft", "tourism", "leisure", "healthcare", "company")
"""Tags that make an addressed node a business rather than a home."""

FRONTAGE_STREETS = frozenset({"residential", "living_street", "unclassified", "tertiary", "secondary"})
"""``highway`` values along which unmapped homes are placed (primary roads and above are left out)."""

FRONTAGE_SPACING_M = 31.0
"""Metres of street per placed home (alternate sides); chosen to give the issue's 2,603 households."""

SETBACK_M = 5.0
"""Metres from a street's centre line to its kerb, where a placed home's bin stands."""

CLEAR_M = 25.0
"""A placed home is left out within this many metres of a mapped one."""

BIN_VOLUME_L = 240.0
BIN_SERVICE_S = 30.0
N_VEHICLES = 4
VEHICLE_CAPACITY_KG = 10_000.0
SHIFT = ("06:00", "15:00")
BREAK = {"duration_s": 1800, "window": ["11:00", "13:00"]}
TIP_UNLOAD_S = 900


class _Reader(osmium.SimpleHandler):
    """One pass over the file: homes' buildings and addresses, and residential streets (lon/lat)."""

    def __init__(self) -> None:
        super().__init__()
        self.buildings: list[list[tuple[float, float]]] = []
        self.addresses: list[tuple[float, float]] = []
        self.streets: list[list[tuple[float, float]]] = []

    def node(self, n: Any) -> None:
        tags = n.tags
        if "addr:housenumber" in tags and not any(k in tags for k in BUSINESS_KEYS) and "building" not in tags:
            self.addresses.append((n.location.lon, n.location.lat))

    def way(self, w: Any) -> None:
        tags = w.tags
        highway = tags.get("highway")
        building = tags.get("building")
        if highway in FRONTAGE_STREETS:
            self.streets.append(_coords(w))
        elif building is not None and w.is_closed() and (
                building in HOME_BUILDINGS or (building == "yes" and "addr:housenumber" in tags)):
            ring = _coords(w)
            if len(ring) >= 4:
                self.buildings.append(ring)


def _coords(way: Any) -> list[tuple[float, float]]:
    """A way's node positions, lon/lat (every node of the extract has a location)."""
    return [(node.lon, node.lat) for node in way.nodes]


def _inside(settlements: tuple[Settlement, ...], xy: np.ndarray, to_xy: pyproj.Transformer) -> np.ndarray:
    """Per point of ``xy`` (metres), whether it lies within some settlement's radius."""
    inside = np.zeros(len(xy), dtype=bool)
    for s in settlements:
        cx, cy = to_xy.transform(s.lon, s.lat)
        inside |= np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) <= s.radius_m
    return inside


def _frontage(street: np.ndarray, spacing_m: float, setback_m: float) -> Iterator[tuple[float, float, float, float]]:
    """Placed homes along one street line (metres): ``(x, y)`` of the kerb point and of the
    point on the centre line opposite it, every ``spacing_m`` from half a spacing in,
    alternating left and right."""
    line = shapely.LineString(street)
    k = 0
    at = spacing_m / 2
    while at < line.length:
        here = line.interpolate(at)
        ahead = line.interpolate(min(at + 1.0, line.length))
        behind = line.interpolate(max(at - 1.0, 0.0))
        dx, dy = ahead.x - behind.x, ahead.y - behind.y
        norm = math.hypot(dx, dy) or 1.0
        side = 1.0 if k % 2 == 0 else -1.0
        yield (here.x - dy / norm * setback_m * side, here.y + dx / norm * setback_m * side, here.x, here.y)
        k += 1
        at += spacing_m


def households(osm_file: str | Path, *, settlements: tuple[Settlement, ...] = SETTLEMENTS,
               spacing_m: float = FRONTAGE_SPACING_M) -> list[Household]:
    """Every household of the case in ``osm_file``, in order of position (lon, then lat).

    Raises :class:`FileNotFoundError` naming the file when it is absent.
    """
    path = Path(osm_file)
    if not path.is_file():
        raise FileNotFoundError(f"OSM file {path} not found")
    reader = _Reader()
    reader.apply_file(str(path), locations=True)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", utm_crs(settlements[0].lon, settlements[0].lat),
                                        always_xy=True)
    to_lonlat = pyproj.Transformer.from_crs(to_xy.target_crs, "EPSG:4326", always_xy=True)

    def metric(points: list[tuple[float, float]]) -> np.ndarray:
        if not points:
            return np.empty((0, 2))
        lonlat = np.asarray(points, dtype=float)
        return np.column_stack(to_xy.transform(lonlat[:, 0], lonlat[:, 1]))

    polygons = np.array([shapely.Polygon(metric(ring)) for ring in reader.buildings], dtype=object)
    centroids = shapely.get_coordinates(shapely.centroid(polygons)) if len(polygons) else np.empty((0, 2))
    keep_building = _inside(settlements, centroids, to_xy)
    polygons, centroids = polygons[keep_building], centroids[keep_building]

    addresses = metric(reader.addresses)
    keep_address = _inside(settlements, addresses, to_xy)
    if len(polygons):
        # An address node inside a mapped home is the same household.
        in_building = shapely.STRtree(polygons).query(shapely.points(addresses), predicate="within")[0]
        keep_address[in_building] = False
    addresses = addresses[keep_address]

    mapped = np.concatenate([centroids, addresses])
    mapped_tree = shapely.STRtree(shapely.points(mapped)) if len(mapped) else None
    placed = []
    for street in reader.streets:
        for kx, ky, cx, cy in _frontage(metric(street), spacing_m, SETBACK_M):
            placed.append((kx, ky, cx, cy))
    frontage = np.asarray(placed, dtype=float).reshape(-1, 4)
    keep_frontage = _inside(settlements, frontage[:, 2:], to_xy)
    if mapped_tree is not None:
        near = mapped_tree.query(shapely.points(frontage[:, :2]), predicate="dwithin", distance=CLEAR_M)[0]
        keep_frontage[near] = False
    frontage = frontage[keep_frontage, :2]

    xy = np.concatenate([centroids, addresses, frontage])
    sources = ["building"] * len(centroids) + ["address"] * len(addresses) + ["frontage"] * len(frontage)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    order = np.lexsort((lat, lon))
    return [Household(lon=float(lon[i]), lat=float(lat[i]), source=sources[i]) for i in order]


def oakham_request(osm_file: str | Path, *, time_limit_s: float = 60.0, seed: int = 0,
                   spacing_m: float = FRONTAGE_SPACING_M) -> dict[str, Any]:
    """The case as the JSON body of ``POST /api/v1/optimisations`` (docs/api.md), with
    ``options`` ``{"time_limit_s", "seed"}`` (the rest at the API's defaults)."""
    homes = households(osm_file, spacing_m=spacing_m)
    rng = np.random.default_rng(seed)
    demand = np.clip(rng.normal(15.0, 5.0, size=len(homes)), 3.0, 40.0)
    return {
        "depots": [{"id": DEPOT.id, "lon": DEPOT.lon, "lat": DEPOT.lat}],
        "disposal_sites": [{"id": TIP.id, "lon": TIP.lon, "lat": TIP.lat, "unload_s": TIP_UNLOAD_S}],
        "vehicles": [{"id": f"rcv-{k + 1}", "depot": DEPOT.id, "capacity_kg": VEHICLE_CAPACITY_KG,
                      "shift": list(SHIFT), "break": dict(BREAK)} for k in range(N_VEHICLES)],
        "bins": [{"id": f"h{k + 1:05d}", "lon": h.lon, "lat": h.lat, "demand_kg": round(float(demand[k]), 1),
                  "volume_l": BIN_VOLUME_L, "service_s": BIN_SERVICE_S}
                 for k, h in enumerate(homes)],
        "options": {"time_limit_s": time_limit_s, "seed": seed},
    }
