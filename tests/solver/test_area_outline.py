"""A round's area as GeoJSON in lon/lat, on a hand-made grid of streets near the equator
(three east-west residential streets ~111 m apart, five stretches of ~111 m each, joined
at both ends; node ``(row, col)`` has OSM id ``100 + 10 * row + col``)."""

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

ROWS, COLS = 3, 6
STEP_DEG = 0.001


def _node(row: int, col: int) -> int:
    return 100 + 10 * row + col


@pytest.fixture
def grid(osm_network: SimpleNamespace) -> RoadNetwork:
    """The grid of the module docstring, unsimplified."""
    nodes = {_node(r, c): (r * STEP_DEG, 9.0 + c * STEP_DEG) for r in range(ROWS) for c in range(COLS)}
    ways = [(1000 + r, [_node(r, c) for c in range(COLS)], {"highway": "residential"}) for r in range(ROWS)]
    ways += [(2000 + c, [_node(r, c) for r in range(ROWS)], {"highway": "residential"}) for c in (0, COLS - 1)]
    return osm_network(nodes, ways, name="outline.osm")  # type: ignore[operator]


def _metric(grid: RoadNetwork, geojson: dict[str, object]) -> shapely.Geometry:
    """A lon/lat GeoJSON geometry back in the network's metric CRS."""
    to_xy = grid.to_xy()

    def turn(lonlat: np.ndarray) -> np.ndarray:
        x, y = to_xy.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shapely.geometry.shape(geojson), turn)


def test_a_rounds_area_comes_back_in_lon_lat_holding_its_bins(grid: RoadNetwork, tools: SimpleNamespace) -> None:
    """Through the compactness figures of an evaluated plan, each round carries its area as a
    closed GeoJSON Polygon in lon/lat (exterior counter-clockwise) that holds its bins, lies
    around its own streets and measures the reported ``area_m2`` to within 1 %."""
    bins, routes = [], []
    for vehicle, cols in (("west", (0, 1)), ("east", (3, 4))):
        ids = []
        for row in range(ROWS):
            for col in cols:
                edge = tools.edge_index(grid, _node(row, col), _node(row, col + 1))
                lon, lat = tools.lonlat_on_edges(grid, [edge], [0.5])[0]
                ids.append(f"{vehicle}-{row}-{col}")
                bins.append(Bin(ids[-1], float(lon), float(lat), demand_kg=10.0))
        routes.append(RoutePlan(vehicle, tuple(ids)))
    problem = Problem(depots=(Depot("d", 9.0, 0.0005),), bins=tuple(bins),
                      vehicles=(Vehicle("west", "d", 10_000.0), Vehicle("east", "d", 10_000.0)))
    figures = evaluate_plan(problem, grid, routes).compactness
    assert figures is not None
    for rnd in figures.rounds:
        area = rnd.area
        assert area is not None and area["type"] == "Polygon"
        exterior = area["coordinates"][0]
        assert exterior[0] == exterior[-1] and len(exterior) >= 4
        assert shapely.LinearRing(exterior).is_ccw
        lons = [p[0] for p in exterior]
        # west serves columns 0-2 (9.000-9.002), east columns 3-5 (9.003-9.005), each widened by 15 m
        low, high = (9.0, 9.002) if rnd.vehicle_id == "west" else (9.003, 9.005)
        assert low - 0.0002 < min(lons) < low and high < max(lons) < high + 0.0002
        lonlat = shapely.geometry.shape(area)
        own = [b for b in bins if b.id.startswith(rnd.vehicle_id)]
        assert all(lonlat.contains(shapely.Point(b.lon, b.lat)) for b in own)
        assert _metric(grid, area).area == pytest.approx(rnd.area_m2, rel=0.01)


def test_positions_are_rounded_to_a_tenth_of_a_metre(grid: RoadNetwork) -> None:
    """Every position carries at most DECIMALS decimal places of a degree."""
    x, y = grid.to_xy().transform(9.0012345678, 0.0012345678)
    area = area_outline(grid, shapely.Point(x, y).buffer(40.0))
    assert area is not None
    for lon, lat in area["coordinates"][0]:
        assert round(lon, DECIMALS) == lon and round(lat, DECIMALS) == lat


def test_two_separate_pieces_make_a_multipolygon(grid: RoadNetwork) -> None:
    """An area in two pieces (two circles 500 m apart) is a MultiPolygon of two polygons."""
    x, y = grid.to_xy().transform(9.0, 0.0)
    area = area_outline(grid, shapely.union(shapely.Point(x, y).buffer(50.0),
                                            shapely.Point(x + 500, y).buffer(50.0)))
    assert area is not None and area["type"] == "MultiPolygon" and len(area["coordinates"]) == 2


@pytest.mark.parametrize("geometry", [shapely.Polygon(), shapely.LineString([(0, 0), (100, 0)]),
                                      shapely.Point(0, 0)], ids=["empty", "line", "point"])
def test_an_area_without_surface_has_no_outline(grid: RoadNetwork, geometry: shapely.Geometry) -> None:
    """A round serving no street (empty area) or a hull with no buffer that is only a line or a
    point gives ``None``: there is nothing to draw."""
    assert area_outline(grid, geometry) is None
