"""The Oakham case (issue 15): households from OSM homes and street frontage, and the problem
body built from them, on a hand-made OSM file and on the real Rutland extract."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.schemas import OptimisationRequest
from app.services.optimisation import to_problem
from solver.instances.oakham import (
    CLEAR_M,
    DEPOT,
    SETBACK_M,
    TIP,
    Settlement,
    households,
    oakham_request,
)
from solver.network import RoadNetwork
from solver.snapping import DEFAULT_SNAP_LIMIT_M, snap_points

#: A village of the hand-made file: its ``place`` point and radius.
VILLAGE = (Settlement("Testby", lon=-0.7000, lat=52.6700, radius_m=400.0),)
#: Metres per degree at the village, near enough for distances of a few hundred metres.
M_PER_DEG_LAT = 111_250.0
M_PER_DEG_LON = 67_600.0


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point ``east_m``/``north_m`` metres from the village's place point."""
    return (VILLAGE[0].lat + north_m / M_PER_DEG_LAT, VILLAGE[0].lon + east_m / M_PER_DEG_LON)


def _metres(lon: float, lat: float) -> tuple[float, float]:
    """(east, north) metres from the village's place point."""
    return ((lon - VILLAGE[0].lon) * M_PER_DEG_LON, (lat - VILLAGE[0].lat) * M_PER_DEG_LAT)


@pytest.fixture
def village_file(tmp_path: Path, tools: SimpleNamespace) -> Path:
    """A street 300 m long running east from the place point, a house building 6 m north of it
    at its east end, an addressed node inside that building (the same home), an addressed
    shop, a church, and a farm track and a street far outside the village."""
    nodes = {1: _at(0, 0), 2: _at(300, 0),
             10: _at(276, 6), 11: _at(284, 6), 12: _at(284, 14), 13: _at(276, 14),
             20: _at(280, 10), 21: _at(150, -20),
             30: _at(100, 40), 31: _at(110, 40), 32: _at(110, 50), 33: _at(100, 50),
             40: _at(0, 100), 41: _at(0, 300),
             50: _at(2000, 0), 51: _at(2300, 0)}
    ways = [(100, [1, 2], {"highway": "residential", "name": "Main Street"}),
            (101, [10, 11, 12, 13, 10], {"building": "house"}),
            (102, [30, 31, 32, 33, 30], {"building": "church"}),
            (103, [40, 41], {"highway": "track"}),
            (104, [50, 51], {"highway": "residential", "name": "Far Lane"})]
    node_tags = {20: {"addr:housenumber": "7"}, 21: {"addr:housenumber": "1", "shop": "bakery"}}
    return tools.write_osm_xml(tmp_path / "village.osm", nodes, ways, node_tags=node_tags)


def test_homes_are_mapped_buildings_and_frontage_along_streets(village_file: Path) -> None:
    """The house is one home (its address node inside it is the same one); the shop, the church,
    the farm track and the street outside the village give none; the street gives one home every
    spacing, alternating sides at the kerb, none within the clear distance of the house."""
    homes = households(village_file, settlements=VILLAGE, spacing_m=50.0)
    sources = Counter(h.source for h in homes)
    assert sources == {"building": 1, "frontage": 5}
    frontage = sorted(_metres(h.lon, h.lat) for h in homes if h.source == "frontage")
    # Stations 25, 75, ..., 275 m along; the one at 275 m is within CLEAR_M of the house.
    assert [round(x) for x, _ in frontage] == [25, 75, 125, 175, 225]
    assert [round(y, 1) for _, y in frontage] == [SETBACK_M, -SETBACK_M, SETBACK_M, -SETBACK_M, SETBACK_M]
    house = next(_metres(h.lon, h.lat) for h in homes if h.source == "building")
    assert house == pytest.approx((280.0, 10.0), abs=0.5)
    assert all(np.hypot(x - house[0], y - house[1]) > CLEAR_M for x, y in frontage)


def test_homes_come_in_order_of_position(village_file: Path) -> None:
    """Households are listed by longitude, then latitude, so bin ids say nothing of a route."""
    homes = households(village_file, settlements=VILLAGE, spacing_m=50.0)
    assert [(h.lon, h.lat) for h in homes] == sorted((h.lon, h.lat) for h in homes)


def test_missing_file_is_named(tmp_path: Path) -> None:
    """An absent OSM file raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match=r"nowhere\.osm\.pbf"):
        households(tmp_path / "nowhere.osm.pbf")


@pytest.fixture(scope="module")
def oakham_body(tools: SimpleNamespace) -> dict[str, object]:
    """The case's request body, built from the shared Rutland extract."""
    return oakham_request(tools.require_shared(tools.rutland_pbf), time_limit_s=60.0, seed=0)


@pytest.mark.shared
def test_the_case_is_deterministic_with_about_2600_bins(oakham_body: dict, tools: SimpleNamespace) -> None:
    """Built twice, the case is the same JSON byte for byte: about 2,600 uniquely named 240-litre
    bins, four vehicles from one depot, one tip."""
    again = oakham_request(tools.rutland_pbf, time_limit_s=60.0, seed=0)
    assert json.dumps(again) == json.dumps(oakham_body)
    bins = oakham_body["bins"]
    assert 2500 <= len(bins) <= 2700
    assert len({b["id"] for b in bins}) == len(bins)
    assert {b["volume_l"] for b in bins} == {240.0}
    assert all(3.0 <= b["demand_kg"] <= 40.0 for b in bins)
    assert [v["depot"] for v in oakham_body["vehicles"]] == [DEPOT.id] * 4
    assert [s["id"] for s in oakham_body["disposal_sites"]] == [TIP.id]


@pytest.mark.shared
def test_every_bin_depot_and_tip_snap_within_the_limit(oakham_body: dict, rutland: RoadNetwork) -> None:
    """On the Rutland network the service plans on, every bin, the depot and the tip snap onto a
    street of the depot's part of the network within the service's snap limit (200 m)."""
    points = [(DEPOT.lon, DEPOT.lat), (TIP.lon, TIP.lat)] + [(b["lon"], b["lat"]) for b in oakham_body["bins"]]
    depot_only = snap_points(rutland, np.asarray(points[:1]), limit_m=DEFAULT_SNAP_LIMIT_M)
    depot_part = [int(rutland.node_component[rutland.edge_u[depot_only.edge[0]]])]
    snapped = snap_points(rutland, np.asarray(points), limit_m=DEFAULT_SNAP_LIMIT_M,
                          reachable_components=depot_part)
    bad = [(i, str(snapped.status[i]), float(snapped.distance_m[i])) for i in np.flatnonzero(~snapped.ok)]
    assert bad == []
    assert float(snapped.distance_m.max()) <= DEFAULT_SNAP_LIMIT_M


@pytest.mark.shared
def test_the_case_is_a_valid_optimisation_request(oakham_body: dict) -> None:
    """The body passes the API's own validation and translation: every bin, the four lorries
    with their 06:00-15:00 shift and 30-minute break, and the tip reach the solver's Problem."""
    problem = to_problem(OptimisationRequest.model_validate(oakham_body))
    assert len(problem.bins) == len(oakham_body["bins"])
    assert [(v.shift_start_s, v.shift_end_s) for v in problem.vehicles] == [(6 * 3600, 15 * 3600)] * 4
    assert [[b.duration_s for b in v.breaks] for v in problem.vehicles] == [[1800]] * 4
    assert [s.id for s in problem.disposal_sites] == [TIP.id]
