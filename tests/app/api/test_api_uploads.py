"""Councils' own files through ``POST /api/v1/uploads/...``: a gazetteer CSV in British National
Grid with extra columns, a GeoPackage, a zipped Shapefile, GeoJSON, today's rounds as an in-cab
system exports them, and every kind of bad input answered 422 once per problem, with counts."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from app import store
from app.core.config import Settings
from app.store import Store

# Ordnance Survey's worked example (A guide to coordinate systems in Great Britain, annex C):
# E 651409.903, N 313177.270 is 52°39'27.2531"N 1°43'4.5177"E on OSGB36; WGS84 lies within
# about 0.002° of it there, so the tolerance below catches a swapped axis or a wrong grid.
OS_EASTING, OS_NORTHING = 651409.903, 313177.270
OS_LAT, OS_LON = 52.657570, 1.717922
TOLERANCE_DEG = 0.003

GAZETTEER_CSV = (
    "UPRN,ADDRESS,STREET,EASTING,NORTHING,BIN_SIZE,STREAM,FREQUENCY,DAY,WEEK,ROUND,ASSISTED,NOTES,LPI_STATUS\n"
    f"100030001,\"2 Burley Road, Oakham\",Burley Road,{OS_EASTING},{OS_NORTHING},240L,Dry Recycling,"
    "Fortnightly,MON,1,R1,Y,gate code 1234,Approved\n"
    f"100030002,\"4 Burley Road, Oakham\",Burley Road,{OS_EASTING + 20},{OS_NORTHING + 5},1100,recycling,"
    "Fortnightly,MON,1,R1,N,,Approved\n"
).encode()


def post(client: TestClient, kind: str, name: str, content: bytes, **form: str) -> Any:
    """Upload ``content`` as ``name`` to ``/api/v1/uploads/{kind}`` with the form options ``form``."""
    return client.post(f"/api/v1/uploads/{kind}", files={"file": (name, content, "application/octet-stream")},
                       data=form)


def assert_near_os_example(bin_: dict[str, Any]) -> None:
    """The bin lies where the Ordnance Survey's example point lies, in WGS84 degrees."""
    assert abs(bin_["lat"] - OS_LAT) < TOLERANCE_DEG and abs(bin_["lon"] - OS_LON) < TOLERANCE_DEG


def test_gazetteer_csv_in_british_national_grid_with_extra_columns(app_client: TestClient) -> None:
    """A gazetteer export: UPRN is the id, eastings/northings become lon/lat, the bin size gives the
    volume, weight and lift time, 'Dry Recycling' is the recycling stream, and every other column
    (address, street, assisted, notes, an LPI status the service never heard of) is kept."""
    response = post(app_client, "bins", "gazetteer.csv", GAZETTEER_CSV)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["crs"] == "EPSG:27700" and body["coordinate_columns"] == ["EASTING", "NORTHING"]
    first, second = body["bins"]
    assert first["id"] == "100030001"
    assert_near_os_example(first)
    assert (first["volume_l"], first["demand_kg"], first["service_s"], first["stream"]) == (240, 17, 30, "recycling")
    assert (second["volume_l"], second["demand_kg"], second["service_s"]) == (1100, 75, 90)
    assert first["attributes"] == {
        "uprn": "100030001", "address": "2 Burley Road, Oakham", "street": "Burley Road", "bin_size": 240,
        "frequency": "Fortnightly", "day": "MON", "week": "1", "round": "R1", "assisted": True,
        "notes": "gate code 1234", "LPI_STATUS": "Approved"}
    assert second["attributes"]["assisted"] is False


def test_bin_size_table_overridden_by_the_request(app_client: TestClient) -> None:
    """The council's own figures replace the defaults, and a size of its own is added."""
    content = GAZETTEER_CSV.replace(b",1100,", b",200,")
    sizes = json.dumps({"240": {"demand_kg": 22.5}, "200": {"demand_kg": 15, "service_s": 28}})
    response = post(app_client, "bins", "gazetteer.csv", content, bin_sizes=sizes)
    assert response.status_code == 200, response.text
    first, second = response.json()["bins"]
    assert (first["volume_l"], first["demand_kg"], first["service_s"]) == (240, 22.5, 30)
    assert (second["volume_l"], second["demand_kg"], second["service_s"]) == (200, 15, 28)


def test_geopackage_in_british_national_grid(app_client: TestClient, tmp_path: Path) -> None:
    """A GeoPackage written by GDAL, its points in EPSG:27700 and its columns in capitals."""
    frame = gpd.GeoDataFrame({"UPRN": [100030001, 100030002], "Bin_Size": [240, 140], "Ward": ["Oakham N", "Oakham N"]},
                             geometry=[Point(OS_EASTING, OS_NORTHING), Point(OS_EASTING + 10, OS_NORTHING)],
                             crs="EPSG:27700")
    path = tmp_path / "bins.gpkg"
    frame.to_file(path, driver="GPKG")
    response = post(app_client, "bins", "bins.gpkg", path.read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["crs"] == "EPSG:27700" and body["coordinate_columns"] == []
    assert [b["id"] for b in body["bins"]] == ["100030001", "100030002"]
    assert_near_os_example(body["bins"][0])
    assert body["bins"][1]["volume_l"] == 140 and body["bins"][0]["attributes"]["Ward"] == "Oakham N"


def zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path) -> bytes:
    """``frame`` written as a Shapefile in a sub-folder and zipped, as a desktop GIS sends it."""
    (folder / "export").mkdir()
    frame.to_file(folder / "export" / "bins.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted((folder / "export").iterdir()):
            archive.write(part, f"export/{part.name}")
    return buffer.getvalue()


def test_zipped_shapefile_with_its_projection(app_client: TestClient, tmp_path: Path) -> None:
    """A zipped Shapefile (.shp, .shx, .dbf, .prj in a folder) is read in the CRS its .prj declares."""
    frame = gpd.GeoDataFrame({"UPRN": ["100030001"], "STREAM": ["Residual"], "KG": [12.0]},
                             geometry=[Point(OS_EASTING, OS_NORTHING)], crs="EPSG:27700")
    response = post(app_client, "bins", "bins.zip", zipped_shapefile(frame, tmp_path))
    assert response.status_code == 200, response.text
    (bin_,) = response.json()["bins"]
    assert (bin_["id"], bin_["stream"], bin_["demand_kg"]) == ("100030001", "refuse", 12.0)
    assert_near_os_example(bin_)


def test_geojson_naming_british_national_grid_and_plain_geojson(app_client: TestClient) -> None:
    """GeoJSON with a crs member (as QGIS writes it) is read in that CRS; without one, in degrees."""
    feature = {"type": "Feature", "properties": {"UPRN": "1", "demand_kg": 9},
               "geometry": {"type": "Point", "coordinates": [OS_EASTING, OS_NORTHING]}}
    named = {"type": "FeatureCollection", "features": [feature],
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}}
    response = post(app_client, "bins", "bins.geojson", json.dumps(named).encode())
    assert response.status_code == 200, response.text
    assert response.json()["crs"] == "EPSG:27700"
    assert_near_os_example(response.json()["bins"][0])
    plain = {"type": "FeatureCollection", "features": [
        {**feature, "geometry": {"type": "Point", "coordinates": [OS_LON, OS_LAT]}}]}
    response = post(app_client, "bins", "bins.geojson", json.dumps(plain).encode())
    assert response.json()["crs"] == "EPSG:4326" and response.json()["bins"][0]["lon"] == OS_LON


def test_the_request_names_the_crs_of_x_y_columns(app_client: TestClient) -> None:
    """Web Mercator metres in X/Y columns, with crs=EPSG:3857, land where they are."""
    content = b"id,x,y,demand_kg\nb1,191238.2,6919907.1,10\n"  # the OS example point in EPSG:3857
    response = post(app_client, "bins", "bins.csv", content, crs="EPSG:3857")
    assert response.status_code == 200, response.text
    assert response.json()["crs"] == "EPSG:3857"
    assert_near_os_example(response.json()["bins"][0])


def items(response: Any) -> list[dict[str, Any]]:
    """The 422 items of a refused upload (after checking it was refused)."""
    assert response.status_code == 422, response.text
    return list(response.json()["detail"])


def test_no_usable_coordinate_columns_is_one_message(app_client: TestClient) -> None:
    """A file without positions answers one whole-file item naming the columns it has and those accepted."""
    (item,) = items(post(app_client, "bins", "bins.csv", b"UPRN,ADDRESS,BIN_SIZE\n1,2 High St,240\n"))
    assert item["type"] == "no_coordinates" and item["row"] is None
    assert "easting/northing" in item["msg"] and item["msg"].endswith("the file has UPRN, ADDRESS, BIN_SIZE")


def test_eastings_read_as_longitudes_get_a_hint(app_client: TestClient) -> None:
    """Eastings under a 'lon' header are refused with the way out: name the columns or the crs."""
    content = f"id,lon,lat,demand_kg\nb1,{OS_EASTING},{OS_NORTHING},10\nb2,{OS_EASTING},{OS_NORTHING},10\n"
    detail = items(post(app_client, "bins", "bins.csv", content.encode()))
    summary = detail[0]
    assert (summary["row"], summary["column"], summary["count"]) == (None, "lon", 2)
    assert "crs=EPSG:27700" in summary["msg"]


def test_mixed_grids_name_the_rows_in_the_other_grid(app_client: TestClient) -> None:
    """X/Y columns holding mostly grid metres and one row of degrees: that row is named, nothing imported."""
    content = (f"id,X,Y,demand_kg\nb1,{OS_EASTING},{OS_NORTHING},1\nb2,{OS_EASTING},{OS_NORTHING + 9},1\n"
               f"b3,{OS_LON},{OS_LAT},1\n").encode()
    (item,) = items(post(app_client, "bins", "bins.csv", content))
    assert (item["row"], item["column"], item["id"], item["type"]) == (4, "X", "b3", "mixed_grids")


def test_eastings_outside_great_britain_are_refused(app_client: TestClient) -> None:
    """An easting beyond Great Britain's grid (a digit too many) is refused at its row."""
    content = f"UPRN,Easting,Northing,demand_kg\n1,{OS_EASTING},{OS_NORTHING},1\n2,1486731.68,307000,1\n".encode()
    (item,) = items(post(app_client, "bins", "bins.csv", content))
    assert (item["row"], item["column"], item["id"], item["type"]) == (3, "Easting", "2", "outside_great_britain")


def test_duplicate_uprns_unknown_sizes_and_streams_are_each_told_with_counts(app_client: TestClient) -> None:
    """Three kinds of fault on many rows: one summary per column with its count, then the rows."""
    rows = [f"{100 + i % 3},{OS_EASTING + i},{OS_NORTHING},{200 if i % 2 else 240},{'Purple' if i < 4 else 'Refuse'}"
            for i in range(10)]
    content = ("UPRN,EASTING,NORTHING,BIN_SIZE,STREAM\n" + "\n".join(rows) + "\n").encode()
    response = post(app_client, "bins", "bins.csv", content)
    detail = items(response)
    summaries = {(i["column"], i["type"]): i["count"] for i in detail if i["row"] is None}
    assert summaries == {("BIN_SIZE", "unknown_bin_size"): 5, ("STREAM", "unknown_stream"): 4,
                         ("UPRN", "duplicate_id"): 7}
    assert response.json()["fault_count"] == 16 and response.json()["truncated"] is False
    assert "duplicate UPRN '100'" in next(i["msg"] for i in detail if i["type"] == "duplicate_id")


def test_a_file_wrong_on_every_row_answers_a_short_capped_list(app_client: TestClient) -> None:
    """5,000 wrong rows: the answer summarises them in one item and lists only the first 100 rows."""
    content = ("id,lon,lat,demand_kg\n" + "".join(f"b{i},7.41,43.73,heavy\n" for i in range(5000))).encode()
    response = post(app_client, "bins", "bins.csv", content)
    detail = items(response)
    assert response.json()["fault_count"] == 5000 and response.json()["truncated"] is True
    assert len(detail) == 101 and detail[0]["count"] == 5000
    assert len(response.content) < 60_000


def test_bad_bin_sizes_option_is_refused_by_name(app_client: TestClient) -> None:
    """A bin_sizes option that is no table is refused, naming the option."""
    (item,) = items(post(app_client, "bins", "gazetteer.csv", GAZETTEER_CSV, bin_sizes='{"240": {"kg": 3}}'))
    assert item["column"] == "bin_sizes" and "240" in item["msg"]


def test_sites_in_british_national_grid(app_client: TestClient) -> None:
    """Tips in eastings/northings are read like bins."""
    content = f"Site_ID,Easting,Northing,Streams\ntip-1,{OS_EASTING},{OS_NORTHING},General Waste|glass\n".encode()
    response = post(app_client, "sites", "tips.csv", content)
    assert response.status_code == 200, response.text
    (site,) = response.json()["disposal_sites"]
    assert site["id"] == "tip-1" and site["streams"] == ["refuse", "glass"]
    assert_near_os_example(site)


def test_vehicles_with_their_depot_in_british_national_grid(app_client: TestClient) -> None:
    """A fleet list giving the depot in eastings/northings declares the depot in lon/lat; streams by name."""
    content = (b"id,depot,capacity_kg,streams,depot_easting,depot_northing\n"
               + f"rcv-1,oakham,10000,Residual,{OS_EASTING},{OS_NORTHING}\n".encode()
               + f"rcv-2,oakham,10000,Dry Recycling,{OS_EASTING},{OS_NORTHING}\n".encode())
    response = post(app_client, "vehicles", "fleet.csv", content)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [v["streams"] for v in body["vehicles"]] == [["refuse"], ["recycling"]]
    (depot,) = body["depots"]
    assert depot["id"] == "oakham"
    assert_near_os_example(depot)


def test_vehicles_from_a_geopackage_take_the_depot_from_the_point(app_client: TestClient, tmp_path: Path) -> None:
    """A GeoPackage of vehicles in EPSG:27700: each feature's Point is its depot."""
    frame = gpd.GeoDataFrame({"id": ["rcv-1"], "depot": ["oakham"], "capacity_kg": [10000.0]},
                             geometry=[Point(OS_EASTING, OS_NORTHING)], crs="EPSG:27700")
    frame.to_file(tmp_path / "fleet.gpkg", driver="GPKG")
    response = post(app_client, "vehicles", "fleet.gpkg", (tmp_path / "fleet.gpkg").read_bytes())
    assert response.status_code == 200, response.text
    assert_near_os_example(response.json()["depots"][0])


def test_a_vehicle_depot_outside_great_britain_is_refused(app_client: TestClient) -> None:
    """A depot easting beyond Great Britain's grid is refused at its row and column."""
    content = b"id,depot,capacity_kg,depot_easting,depot_northing\nrcv-1,d,100,7486731,307000\n"
    (item,) = items(post(app_client, "vehicles", "fleet.csv", content))
    assert (item["row"], item["column"], item["type"]) == (2, "depot_easting", "outside_great_britain")


IN_CAB_CSV = (b"ROUND,DAY,WEEK,SEQUENCE,UPRN,ADDRESS\n"
              b"R1,MON,1,2,100030002,4 Burley Road\nR1,MON,1,1,100030001,2 Burley Road\n"
              b"R1,TUE,1,1,100030003,1 High Street\nR2,Monday,Week 1,1,100030004,3 High Street\n")


def test_in_cab_rounds_for_one_day_checked_against_the_gazetteer(app_client: TestClient) -> None:
    """Today's rounds from an in-cab export: Monday's are chosen, stops sorted, the address column reported
    as not read, and every stop checked against the bins uploaded."""
    gazetteer = json.dumps(["100030001", "100030002", "100030003", "100030004"])
    response = post(app_client, "rounds", "incab.csv", IN_CAB_CSV, day="Monday", week="1", bin_ids=gazetteer)
    assert response.status_code == 200, response.text
    assert response.json() == {"routes": [{"vehicle_id": "R1", "stops": ["100030001", "100030002"]},
                                          {"vehicle_id": "R2", "stops": ["100030004"]}],
                               "ignored_columns": ["ADDRESS"]}


def test_rounds_of_several_days_need_a_day(app_client: TestClient) -> None:
    """A week's export without a day chosen is refused, naming the days it holds."""
    (item,) = items(post(app_client, "rounds", "incab.csv", IN_CAB_CSV))
    assert item["column"] == "day" and "Monday, Tuesday" in item["msg"]


def test_round_stops_not_in_the_gazetteer_are_refused(app_client: TestClient) -> None:
    """A round naming a bin that was not uploaded is refused at its row; nothing of the file is read."""
    detail = items(post(app_client, "rounds", "incab.csv", IN_CAB_CSV, day="MON",
                        bin_ids=json.dumps(["100030001"])))
    assert [(i["row"], i["column"], i["type"], i["count"]) for i in detail] == [
        (None, "UPRN", "unknown_bin", 2), (2, "UPRN", "unknown_bin", 1), (5, "UPRN", "unknown_bin", 1)]


@pytest.mark.parametrize("name", ["bins.gpkg", "bins.zip"])
def test_a_broken_binary_file_is_a_422_not_a_500(app_client: TestClient, name: str) -> None:
    """Bytes that are no GeoPackage or no zip are refused with a message."""
    (item,) = items(post(app_client, "bins", name, b"not a file of that kind"))
    assert item["type"] == "format"


def test_uploaded_bins_and_rounds_are_stored_with_their_addresses(client: TestClient, settings: Settings,
                                                                  problem: dict[str, Any]) -> None:
    """A council's bins (with address, street and a column of its own) and today's rounds go from the
    uploads into a stored plan, scored on the real Monaco network; the stored problem keeps the attributes."""
    lines = ["Property Ref,Longitude,Latitude,Full Address,Street Name,Bin Size,Crew Notes"]
    lines += [f"{b['id']},{b['lon']},{b['lat']},{n} Rue Grimaldi,Rue Grimaldi,240,side gate"
              for n, b in enumerate(problem["bins"], start=1)]
    bins = post(client, "bins", "bins.csv", "\n".join(lines).encode()).json()["bins"]
    rounds = "Round,Seq,UPRN\n" + "".join(f"rcv-{1 + i // 4},{i % 4 + 1},{b['id']}\n" for i, b in enumerate(bins))
    answer = post(client, "rounds", "today.csv", rounds.encode(), bin_ids=json.dumps([b["id"] for b in bins]))
    assert answer.status_code == 200, answer.text
    stored = client.post("/api/v1/plans", json={**problem, "bins": bins, "routes": answer.json()["routes"]})
    assert stored.status_code == 201, stored.text
    assert stored.json()["summary"]["bins_served"] == 8
    db = Store(settings.database_url)
    with db.transaction() as session:
        record = store.get_plan(session, "default", stored.json()["id"])
        assert record is not None
        problem_record = store.get_problem(session, "default", record.problem_id)
        assert problem_record is not None
        kept = problem_record.body["bins"][0]["attributes"]
    db.dispose()
    assert kept == {"address": "1 Rue Grimaldi", "street": "Rue Grimaldi", "bin_size": 240,
                    "notes": "side gate"}


def test_a_geopackage_table_without_geometry_is_read_by_its_columns(app_client: TestClient, tmp_path: Path) -> None:
    """A gazetteer kept as a plain GeoPackage table (no geometry) is read from its easting/northing columns."""
    table = pd.DataFrame({"UPRN": ["100030001"], "EASTING": [OS_EASTING], "NORTHING": [OS_NORTHING], "KG": [9.0]})
    pyogrio.write_dataframe(table, tmp_path / "gazetteer.gpkg", driver="GPKG")
    response = post(app_client, "bins", "gazetteer.gpkg", (tmp_path / "gazetteer.gpkg").read_bytes())
    assert response.status_code == 200, response.text
    assert response.json()["coordinate_columns"] == ["EASTING", "NORTHING"]
    assert_near_os_example(response.json()["bins"][0])
