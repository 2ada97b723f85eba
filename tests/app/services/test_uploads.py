"""Bins, vehicles and today's rounds read from planners' CSV and GeoJSON files: what a
good file gives, and every wrong cell named by its row and column."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services.uploads import UploadError, read_bins, read_bins_file, read_rounds, read_sites, read_vehicles

BINS_CSV = (b"id,lon,lat,demand_kg,service_s,time_windows\n"
            b"b1,7.4174,43.7361,16,45,07:00-10:00\n"
            b"b2,7.4166,43.7336,20,,07:00-09:00|13:00-15:00\n")


def faults_of(error: UploadError) -> list[tuple[int | None, str | None]]:
    """(row, column) of each fault."""
    return [(f.row, f.column) for f in error.faults]


def test_bins_csv_gives_bins_with_defaults_for_empty_cells() -> None:
    """Each row is a bin; an empty cell takes the API's default; windows split on '|'."""
    bins = read_bins(BINS_CSV, filename="bins.csv")
    assert [b.id for b in bins] == ["b1", "b2"]
    assert bins[0].service_s == 45 and bins[1].service_s == 30
    assert bins[1].time_windows == [("07:00", "09:00"), ("13:00", "15:00")]


def test_bins_csv_separated_by_semicolons_is_read() -> None:
    """Spreadsheets set to European conventions write semicolons; those files are read too."""
    bins = read_bins(b"id;lon;lat;demand_kg\nb1;7.41;43.73;16\n", filename="bins.csv")
    assert bins[0].demand_kg == 16


def test_bad_number_is_reported_with_row_column_id_and_value() -> None:
    """A word where a weight should be is reported at its row (header = row 1), column and bin."""
    with pytest.raises(UploadError) as caught:
        read_bins(b"id,lon,lat,demand_kg\nb1,7.41,43.73,16\nb2,7.41,43.73,heavy\n", filename="bins.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"], item["id"]) == (3, "demand_kg", "b2")
    assert item["msg"].startswith("row 3, column 'demand_kg' (id 'b2'):") and "'heavy'" in item["msg"]


def test_every_wrong_cell_of_a_file_is_reported_at_once() -> None:
    """A missing coordinate, a negative weight and a malformed window are all reported."""
    content = b"id,lon,lat,demand_kg,time_windows\nb1,,43.73,16,\nb2,7.41,43.73,-4,\nb3,7.41,43.73,1,7-10am\n"
    with pytest.raises(UploadError) as caught:
        read_bins(content, filename="bins.csv")
    assert set(faults_of(caught.value)) == {(2, "lon"), (3, "demand_kg"), (4, "time_windows")}


def test_duplicate_bin_id_names_both_rows() -> None:
    """A bin id repeated in a later row is reported there, naming the first row."""
    with pytest.raises(UploadError) as caught:
        read_bins(b"id,lon,lat,demand_kg\nb1,7.41,43.73,16\nb1,7.42,43.73,3\n", filename="bins.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"]) == (3, "id") and "row 2" in item["msg"]


def test_unknown_column_is_kept_and_a_missing_weight_is_named() -> None:
    """A column the upload does not read (here a typo) is kept as an attribute, never refused;
    the weight it was meant to give is then missing, and that is named."""
    with pytest.raises(UploadError) as caught:
        read_bins(b"id,lon,lat,demand_kgs\nb1,7.41,43.73,16\n", filename="bins.csv")
    assert faults_of(caught.value) == [(2, "demand_kg")]
    (bin_,) = read_bins(b"id,lon,lat,demand_kg,Colour\nb1,7.41,43.73,16,green\n", filename="bins.csv")
    assert bin_.attributes == {"Colour": "green"}


def test_bins_geojson_takes_position_from_the_point() -> None:
    """GeoJSON bins are Point features; lon/lat come from the geometry."""
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.4174, 43.7361]},
         "properties": {"id": "b1", "demand_kg": 16, "time_windows": [["07:00", "10:00"]]}}]}
    (bin_,) = read_bins(json.dumps(document).encode(), filename="bins.geojson")
    assert (bin_.lon, bin_.lat, bin_.time_windows) == (7.4174, 43.7361, [("07:00", "10:00")])


def test_bad_geojson_feature_is_reported_by_its_number() -> None:
    """In GeoJSON the row is the feature's number, counted from 1, and the message says 'feature'."""
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.41, 43.73]},
         "properties": {"id": "b1", "demand_kg": 1}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.41, 43.73]},
         "properties": {"id": "b2", "demand_kg": -1}}]}
    with pytest.raises(UploadError) as caught:
        read_bins(json.dumps(document).encode(), filename="bins.geojson")
    (item,) = caught.value.items()
    assert (item["row"], item["column"]) == (2, "demand_kg")
    assert item["msg"].startswith("feature 2, column 'demand_kg'")


def test_vehicles_csv_gives_shift_break_streams_and_depot() -> None:
    """Shift and break columns become the API's shift and break; depot_lon/lat declare the depot."""
    content = (b"id,depot,capacity_kg,shift_start,shift_end,break_duration_s,break_start,break_end,streams,"
               b"depot_lon,depot_lat\nrcv-1,north,1800,06:00,14:00,1800,11:00,13:00,refuse|glass,7.4149,43.7302\n"
               b"rcv-2,north,1200,07:00,15:00,,,,,7.4149,43.7302\n")
    vehicles, depots = read_vehicles(content, filename="vehicles.csv")
    assert vehicles[0].shift == ("06:00", "14:00") and vehicles[0].streams == ["refuse", "glass"]
    assert vehicles[0].break_ is not None and vehicles[0].break_.window == ("11:00", "13:00")
    assert vehicles[1].break_ is None
    assert [(d.id, d.lon, d.lat) for d in depots] == [("north", 7.4149, 43.7302)]


def test_vehicle_shift_ending_before_it_starts_names_the_shift_column() -> None:
    """A shift that ends before it starts is reported at the vehicle's row and shift column."""
    content = b"id,depot,capacity_kg,shift_start,shift_end\nrcv-1,d,100,14:00,06:00\n"
    with pytest.raises(UploadError) as caught:
        read_vehicles(content, filename="vehicles.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"], item["id"]) == (2, "shift_start", "rcv-1")


def test_fleet_list_columns_the_plan_does_not_read_are_kept_as_attributes() -> None:
    """A fleet list's own columns (registration, make) are kept with the vehicle, by the names the
    file writes, and are no fault; an empty cell adds nothing."""
    content = (b"id,depot,capacity_kg,Registration,Make\nrcv-1,d,100,RU21 ABC,Dennis Eagle\n"
               b"rcv-2,d,100,RU21 ABD,\n")
    vehicles, _ = read_vehicles(content, filename="vehicles.csv")
    assert [v.attributes for v in vehicles] == [{"Registration": "RU21 ABC", "Make": "Dennis Eagle"},
                                                {"Registration": "RU21 ABD"}]


def test_a_column_named_nearly_as_a_field_is_taken_for_a_typo() -> None:
    """``capacty_kg`` is refused naming the field meant, not kept: kept, the vehicle would silently
    plan with no capacity figure of its own."""
    content = b"id,depot,capacity_kg,shift_strat\nrcv-1,d,100,07:00\n"
    with pytest.raises(UploadError) as caught:
        read_vehicles(content, filename="vehicles.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"], item["id"], item["type"]) == (2, "shift_strat", "rcv-1", "misspelt_column")
    assert "did you mean 'shift_start'" in item["msg"]


def test_one_depot_in_two_places_is_refused() -> None:
    """Two vehicles placing the same depot at different positions are refused at the second row."""
    content = (b"id,depot,capacity_kg,depot_lon,depot_lat\nrcv-1,d,100,7.41,43.73\n"
               b"rcv-2,d,100,7.42,43.74\n")
    with pytest.raises(UploadError) as caught:
        read_vehicles(content, filename="vehicles.csv")
    assert faults_of(caught.value) == [(3, "depot_lon")]


def test_sites_csv_gives_tips_with_opening_and_streams() -> None:
    """Tips: opening as 06:00-18:00 and streams joined by '|' become the API's fields."""
    (site,) = read_sites(b"id,lon,lat,unload_s,opening,streams\ntip-0,7.4651,43.7673,600,06:00-18:00,refuse|glass\n",
                         filename="tips.csv")
    assert (site.id, site.unload_s, site.opening, site.streams) == ("tip-0", 600, ("06:00", "18:00"),
                                                                    ["refuse", "glass"])


def test_tips_file_columns_the_plan_does_not_read_are_kept_as_attributes() -> None:
    """A tip's operator and permit number stay with the tip as attributes."""
    (site,) = read_sites(b"id,lon,lat,Operator,Permit\ntip-0,7.4651,43.7673,Biffa,EPR/AB1234\n", filename="tips.csv")
    assert site.attributes == {"Operator": "Biffa", "Permit": "EPR/AB1234"}


def test_sites_csv_bad_opening_names_row_and_column() -> None:
    """An opening that is no window is reported at its row and the opening column."""
    with pytest.raises(UploadError) as caught:
        read_sites(b"id,lon,lat,opening\ntip-0,7.46,43.76,all day\n", filename="tips.csv")
    assert faults_of(caught.value) == [(2, "opening")]


def test_rounds_csv_gives_routes_in_sequence_order() -> None:
    """Today's rounds: rows in any order become each round's stops sorted by sequence."""
    routes = read_rounds(b"round,sequence,bin_id\nA,2,b2\nA,1,b1\nB,1,b3\nA,3,break\n", filename="today.csv")
    assert [(r.vehicle_id, r.stops) for r in routes] == [("A", ["b1", "b2", "break"]), ("B", ["b3"])]


def test_rounds_csv_repeated_sequence_is_refused() -> None:
    """Two stops with the same sequence in one round are refused, naming the earlier row."""
    with pytest.raises(UploadError) as caught:
        read_rounds(b"round,sequence,bin_id\nA,1,b1\nA,1,b2\n", filename="today.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"]) == (3, "sequence") and "row 2" in item["msg"]


def test_file_that_is_not_utf8_is_refused() -> None:
    """Bytes that are not UTF-8 are refused with a message, not a crash."""
    with pytest.raises(UploadError, match="not UTF-8"):
        read_bins(b"id,lon,lat,demand_kg\n\xff\xfe,1,2,3\n", filename="bins.csv")


def post(client: TestClient, kind: str, name: str, content: bytes) -> Any:
    """Upload ``content`` as ``name`` to ``/api/v1/uploads/{kind}``."""
    return client.post(f"/api/v1/uploads/{kind}", files={"file": (name, content, "text/csv")})


def test_upload_endpoint_answers_bins_ready_for_an_optimisation(app_client: TestClient) -> None:
    """POST /api/v1/uploads/bins answers the bins in the API's shape."""
    response = post(app_client, "bins", "bins.csv", BINS_CSV)
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["bins"]] == ["b1", "b2"]
    assert response.json()["bins"][1]["time_windows"] == [["07:00", "09:00"], ["13:00", "15:00"]]


def test_upload_endpoint_answers_422_naming_row_and_column(app_client: TestClient) -> None:
    """A wrong cell answers 422 in the API's error shape plus row and column."""
    response = post(app_client, "bins", "bins.csv", b"id,lon,lat,demand_kg\nb1,7.41,95,16\n")
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert (item["row"], item["column"], item["id"], item["loc"]) == (2, "lat", "b1", ["file", 2, "lat"])
    assert {"field", "msg", "type"} <= set(item)


def test_vehicles_upload_keeps_the_break_alias(app_client: TestClient) -> None:
    """The vehicles answer writes the break under "break", as an optimisation body takes it."""
    content = b"id,depot,capacity_kg,break_duration_s,break_start,break_end\nrcv-1,d,100,1800,11:00,13:00\n"
    response = post(app_client, "vehicles", "vehicles.csv", content)
    assert response.status_code == 200
    assert response.json()["vehicles"][0]["break"] == {"duration_s": 1800.0, "window": ["11:00", "13:00"]}


def test_geojson_without_a_crs_holding_grid_metres_is_read_as_british_national_grid() -> None:
    """A GeoJSON exported without its crs member but with eastings/northings lands in Great Britain."""
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [486101.2, 308945.7]},
         "properties": {"UPRN": 100030001, "BIN_SIZE": "240L"}}]}
    read = read_bins_file(json.dumps(document).encode(), filename="bins.geojson")
    (bin_,) = read.bins
    assert read.crs == "EPSG:27700" and bin_.id == "100030001" and -0.75 < bin_.lon < -0.70


def test_an_attribute_too_long_is_named_by_its_column() -> None:
    """A note longer than an attribute may be is refused at its row and column, not cut."""
    content = f"id,lon,lat,demand_kg,Notes\nb1,7.41,43.73,16,{'x' * 2001}\n".encode()
    with pytest.raises(UploadError) as caught:
        read_bins(content, filename="bins.csv")
    (item,) = caught.value.items()
    assert (item["row"], item["column"]) == (2, "Notes") and "at most 2000 characters" in item["msg"]


def test_rounds_sequences_written_as_reals_and_stops_as_uprns() -> None:
    """'1.0' is sequence 1 (spreadsheets write whole numbers so); a UPRN column names the stops."""
    routes = read_rounds(b"Round,Seq,UPRN\nA,2.0,u2\nA,1.0,u1\n", filename="today.csv")
    assert [(r.vehicle_id, r.stops) for r in routes] == [("A", ["u1", "u2"])]
