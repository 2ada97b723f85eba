"""A plan exported as GeoJSON, CSV run sheets and GPX: each file parses and carries the
plan's rounds and stops (a real optimisation on the Monaco network)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import gpxpy
import pytest
from fastapi.testclient import TestClient

from app.schemas import OptimisationResponse
from app.services import exports


@pytest.fixture(scope="module")
def plan(client: TestClient, make_problem: Any) -> dict[str, Any]:
    """A real optimised plan of the small Monaco problem."""
    response = client.post("/api/v1/optimisations", json=make_problem())
    assert response.status_code == 200
    return dict(response.json())


def routes_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's route features."""
    return [f for f in plan["features"] if f["properties"]["kind"] == "route"]


def visits_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's visit features."""
    return [f for f in plan["features"] if f["properties"]["kind"] == "visit"]


def test_geojson_export_is_the_plan_as_a_feature_collection(client: TestClient, plan: dict[str, Any]) -> None:
    """The GeoJSON download is the plan itself, served as application/geo+json attachment."""
    response = client.post("/api/v1/exports/geojson", json=plan)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    assert 'filename="plan.geojson"' in response.headers["content-disposition"]
    assert response.json() == plan


def test_csv_run_sheet_has_a_line_per_stop_in_driving_order(client: TestClient, plan: dict[str, Any]) -> None:
    """One line per stop with its round, in sequence order within each round, with arrival and load."""
    response = client.post("/api/v1/exports/csv", json=plan)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(visits_of(plan))
    assert tuple(rows[0]) == exports.RUN_SHEET_COLUMNS
    for route in routes_of(plan):
        mine = [r for r in rows if r["round"] == route["properties"]["vehicle_id"]]
        assert [int(r["sequence"]) for r in mine] == list(range(len(mine)))
        assert mine[0]["type"] == mine[-1]["type"] == "depot"
    bins = {r["stop_id"] for r in rows if r["type"] == "bin"}
    assert bins == {v["properties"]["bin_id"] for v in visits_of(plan) if v["properties"]["type"] == "bin"}


def test_csv_run_sheet_of_one_round(client: TestClient, plan: dict[str, Any]) -> None:
    """?round=ID gives that round's sheet alone, named after it."""
    vehicle_id = routes_of(plan)[0]["properties"]["vehicle_id"]
    response = client.post("/api/v1/exports/csv", params={"round": vehicle_id}, json=plan)
    assert response.status_code == 200
    assert {r["round"] for r in csv.DictReader(io.StringIO(response.text))} == {vehicle_id}
    assert f'filename="plan-{vehicle_id}.csv"' in response.headers["content-disposition"]


def test_csv_run_sheet_of_an_unknown_round_is_404(client: TestClient, plan: dict[str, Any]) -> None:
    """Asking for a round the plan does not have answers 404 naming it."""
    response = client.post("/api/v1/exports/csv", params={"round": "no-such-rcv"}, json=plan)
    assert response.status_code == 404
    assert "no-such-rcv" in response.json()["detail"]


def test_gpx_has_a_track_and_a_route_per_round(client: TestClient, plan: dict[str, Any]) -> None:
    """GPX 1.1 parses; each round is a track following its line and a route of its stops."""
    response = client.post("/api/v1/exports/gpx", json=plan)
    assert response.status_code == 200
    gpx = gpxpy.parse(response.text)
    routes = routes_of(plan)
    assert [t.name for t in gpx.tracks] == [r["properties"]["vehicle_id"] for r in routes]
    for track, route in zip(gpx.tracks, routes, strict=True):
        points = [(p.longitude, p.latitude) for p in track.segments[0].points]
        assert points == [tuple(c) for c in route["geometry"]["coordinates"]]
    assert sum(len(r.points) for r in gpx.routes) == len(visits_of(plan))
    assert gpx.routes[0].points[0].name.startswith(f"{routes[0]['properties']['vehicle_id']} #0")


def test_export_refuses_a_body_that_is_not_a_plan(app_client: TestClient) -> None:
    """A body that is no optimisation answer answers 422 naming the missing field."""
    response = app_client.post("/api/v1/exports/gpx", json={"type": "FeatureCollection", "features": []})
    assert response.status_code == 422
    assert any(item["field"] == "summary" for item in response.json()["detail"])


def test_unknown_export_format_is_422(app_client: TestClient, plan: dict[str, Any]) -> None:
    """Only geojson, csv and gpx exist."""
    assert app_client.post("/api/v1/exports/kml", json=plan).status_code == 422


def test_service_export_matches_the_route(plan: dict[str, Any]) -> None:
    """The service function gives the same GeoJSON as posted, for callers without HTTP."""
    model = OptimisationResponse.model_validate(plan)
    assert json.loads(exports.export(model, "geojson")) == plan


@pytest.fixture(scope="module")
def stored_plan_id(client: TestClient, make_problem: Any) -> str:
    """Id of a person's plan stored through POST /api/v1/plans (two rounds of the small problem)."""
    body = make_problem()
    bins = [b["id"] for b in body["bins"]]
    body["routes"] = [{"vehicle_id": "rcv-1", "stops": bins[:4]}, {"vehicle_id": "rcv-2", "stops": bins[4:]}]
    response = client.post("/api/v1/plans", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_stored_plan_exports_as_gpx(client: TestClient, stored_plan_id: str) -> None:
    """GET /api/v1/plans/{id}/export?format=gpx gives the stored plan's rounds as GPX, named after the plan."""
    response = client.get(f"/api/v1/plans/{stored_plan_id}/export", params={"format": "gpx"})
    assert response.status_code == 200
    assert f'filename="plan-{stored_plan_id}.gpx"' in response.headers["content-disposition"]
    gpx = gpxpy.parse(response.text)
    assert [t.name for t in gpx.tracks] == ["rcv-1", "rcv-2"]
    assert [len(r.points) for r in gpx.routes] == [4 + 2, 4 + 2]  # bins plus depot start and end


def test_stored_plan_exports_as_geojson_by_default(client: TestClient, stored_plan_id: str) -> None:
    """Without a format the export is the stored plan's GeoJSON, the same features as GET /plans/{id}."""
    response = client.get(f"/api/v1/plans/{stored_plan_id}/export")
    assert response.status_code == 200
    stored = client.get(f"/api/v1/plans/{stored_plan_id}").json()
    assert response.json()["features"] == stored["features"]


def test_export_of_an_unknown_plan_is_404(client: TestClient) -> None:
    """An id no plan has answers 404 naming it."""
    response = client.get("/api/v1/plans/no-such-plan/export", params={"format": "csv"})
    assert response.status_code == 404
    assert "no-such-plan" in response.json()["detail"]


# --------------------------------------------------------------------------- stops named by their streets


def test_csv_run_sheet_names_streets_and_gives_each_bins_volume(square_client: TestClient,
                                                               stored: dict[str, Any]) -> None:
    """On the square: each stop's street from the map, each bin's own 240 L in ``volume_l`` while
    ``load_l`` is the load on board (growing bin by bin, emptied at the tip)."""
    response = square_client.post("/api/v1/exports/csv", json=stored)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == exports.RUN_SHEET_COLUMNS
    bins = [r for r in rows if r["type"] == "bin"]
    assert [r["street"] for r in bins] == ["Church Lane"] * 4 + ["Park Road"] * 2 + ["Mill Lane"] * 3
    assert [float(r["volume_l"]) for r in bins] == [240.0] * 9
    assert [float(r["load_l"]) for r in bins] == [240.0 * n for n in range(1, 10)]
    tip = next(r for r in rows if r["type"] == "disposal")
    assert (tip["street"], float(tip["volume_l"]), float(tip["load_l"])) == ("High Street", 0.0, 0.0)
    assert all(r["address"] == "" for r in rows)  # the request carried no addresses


def test_in_cab_csv_lists_bins_in_collection_order(square_client: TestClient, stored: dict[str, Any]) -> None:
    """format incab: one line per bin, numbered 1.. in the round, UPRN (here the bin id), street; a posted
    plan does not say the bins' streams."""
    response = square_client.post("/api/v1/exports/incab", params={"round": "rcv-1"}, json=stored)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="plan-incab-rcv-1.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == exports.IN_CAB_COLUMNS
    assert [int(r["sequence"]) for r in rows] == list(range(1, 10))
    assert [r["uprn"] for r in rows] == ["c0", "c1", "c2", "c3", "p0", "p1", "m0", "m1", "m2"]
    assert {r["stream"] for r in rows} == {""} and rows[4]["street"] == "Park Road"


def test_in_cab_csv_carries_addresses_uprns_and_bin_sizes(stored: dict[str, Any]) -> None:
    """The bins' details (as a gazetteer upload stores them) fill UPRN, address, stream and bin size."""
    from app.services.addresses import problem_bins

    names = exports.StopNames(streets={}, bins=problem_bins({"bins": [
        {"id": "c0", "stream": "recycling", "address": "2 Church Lane",
         "attributes": {"UPRN": "100012345", "BIN_SIZE": "240"}}]}))
    rows = list(csv.DictReader(io.StringIO(exports.to_in_cab(OptimisationResponse.model_validate(stored),
                                                             names=names))))
    assert rows[0] == {"round": "rcv-1", "sequence": "1", "uprn": "100012345", "address": "2 Church Lane",
                       "street": "Church Lane", "stream": "recycling", "bin_size_l": "240"}


def test_gpx_stops_carry_streets_and_planned_times(square_client: TestClient, stored: dict[str, Any]) -> None:
    """GPX parses; each stop is named by its street and carries its planned arrival and departure."""
    response = square_client.post("/api/v1/exports/gpx", json=stored)
    assert response.status_code == 200
    gpx = gpxpy.parse(response.text)
    points = gpx.routes[0].points
    visits = [v for v in visits_of(stored)]
    assert [p.name for p in points[1:5]] == [f"rcv-1 #{n} Church Lane" for n in range(1, 5)]
    for point, visit in zip(points, visits, strict=True):
        assert f"arrival {visit['properties']['arrival']}" in point.comment
        assert f"arrival {visit['properties']['arrival']}" in point.description


def test_stored_plan_exports_in_cab_csv(square_client: TestClient, stored: dict[str, Any]) -> None:
    """GET /api/v1/plans/{id}/export?format=incab names the bins' streets from the map, their stream from
    the stored problem (the default stream, as the request named none)."""
    response = square_client.get(f"/api/v1/plans/{stored['id']}/export", params={"format": "incab"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["street"] for r in rows] == ["Church Lane"] * 4 + ["Park Road"] * 2 + ["Mill Lane"] * 3
    assert {r["stream"] for r in rows} == {"refuse"}
