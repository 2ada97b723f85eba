"""A round's area as GeoJSON in lon/lat, on a hand-made straight street on the equator: six
nodes 0.001 degree (~111 m) apart, OSM ids 0..5 from west to east."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from solver.area_outline import DECIMALS, area_outline
from solver.network import RoadNetwork
from solver.pipeline import evaluate_plan
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.solution import RoutePlan

STEP_DEG = 0.001


@pytest.fixture
def street(osm_network: SimpleNamespace) -> RoadNetwork:
    """The street of the module docstring, residential, two-way, unsimplified."""
    nodes = {i: (0.0, 9.0 + i * STEP_DEG) for i in range(6)}
    return osm_network(nodes, [(1, list(nodes), {"highway": "residential"})], name="street.osm")  # type: ignore[operator]


def _metric(network: RoadNetwork, geojson: dict[str, object]) -> shapely.Geometry:
    """A lon/lat GeoJSON geometry back in the network's metric CRS."""
    to_xy = network.to_xy()

    def turn(lonlat: np.ndarray) -> np.ndarray:
        x, y = to_xy.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shapely.geometry.shape(geojson), turn)


def test_a_rounds_area_comes_back_in_lon_lat_holding_its_bins(street: RoadNetwork, tools: SimpleNamespace) -> None:
    """Through the compactness figures of an evaluated plan, each round (the west one serving
    stretches 0-1 and 1-2, the east one 3-4 and 4-5) carries its area as a closed GeoJSON
    Polygon in lon/lat (exterior counter-clockwise) that holds its bins, reaches about 15 m
    beyond its own stretches and measures the reported ``area_m2`` to within 1 %."""
    bins, routes = [], []
    for vehicle, starts in (("west", (0, 1)), ("east", (3, 4))):
        ids = []
        for start in starts:
            for fraction in (0.25, 0.75):
                edge = tools.edge_index(street, start, start + 1)
                lon, lat = tools.lonlat_on_edges(street, [edge], [fraction])[0]
                ids.append(f"{vehicle}-{start}-{fraction}")
                bins.append(Bin(ids[-1], float(lon), float(lat), demand_kg=10.0))
        routes.append(RoutePlan(vehicle, tuple(ids)))
    problem = Problem(depots=(Depot("d", 9.0, 0.0005),), bins=tuple(bins),
                      vehicles=(Vehicle("west", "d", 10_000.0), Vehicle("east", "d", 10_000.0)))
    figures = evaluate_plan(problem, street, routes).compactness
    assert figures is not None
    for rnd in figures.rounds:
        area = rnd.area
        assert area is not None and area["type"] == "Polygon"
        exterior = area["coordinates"][0]
        assert exterior[0] == exterior[-1] and len(exterior) >= 4
        assert shapely.LinearRing(exterior).is_ccw
        lons = [p[0] for p in exterior]
        # west serves 9.000-9.002, east 9.003-9.005, each widened by 15 m (0.000135 degree)
        low, high = (9.0, 9.002) if rnd.vehicle_id == "west" else (9.003, 9.005)
        assert low - 0.0002 < min(lons) < low and high < max(lons) < high + 0.0002
        lonlat = shapely.geometry.shape(area)
        own = [b for b in bins if b.id.startswith(rnd.vehicle_id)]
        assert all(lonlat.contains(shapely.Point(b.lon, b.lat)) for b in own)
        assert _metric(street, area).area == pytest.approx(rnd.area_m2, rel=0.01)


def test_positions_are_rounded_to_a_tenth_of_a_metre(street: RoadNetwork) -> None:
    """Every position carries at most DECIMALS decimal places of a degree."""
    x, y = street.to_xy().transform(9.0012345678, 0.0012345678)
    area = area_outline(street, shapely.Point(x, y).buffer(40.0))
    assert area is not None
    for lon, lat in area["coordinates"][0]:
        assert round(lon, DECIMALS) == lon and round(lat, DECIMALS) == lat


def test_two_separate_pieces_make_a_multipolygon(street: RoadNetwork) -> None:
    """An area in two pieces (two circles 500 m apart) is a MultiPolygon of two polygons."""
    x, y = street.to_xy().transform(9.0, 0.0)
    area = area_outline(street, shapely.union(shapely.Point(x, y).buffer(50.0),
                                            shapely.Point(x + 500, y).buffer(50.0)))
    assert area is not None and area["type"] == "MultiPolygon" and len(area["coordinates"]) == 2


@pytest.mark.parametrize("geometry", [shapely.Polygon(), shapely.LineString([(0, 0), (100, 0)]),
                                      shapely.Point(0, 0)], ids=["empty", "line", "point"])
def test_an_area_without_surface_has_no_outline(street: RoadNetwork, geometry: shapely.Geometry) -> None:
    """A round serving no street (empty area) or a hull with no buffer that is only a line or a
    point gives ``None``: there is nothing to draw."""
    assert area_outline(street, geometry) is None
