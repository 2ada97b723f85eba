"""POST /api/v1/optimisations: bad input answers 422 naming field and id; good input
answers optimised rounds as GeoJSON on the real Monaco network."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

URL = "/api/v1/optimisations"


def _only_fault(response: Any) -> dict[str, Any]:
    """The single fault of a 422 answer, checked to name its field and id in the message."""
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["field"] in item["msg"]
    if item["id"] is not None:
        assert repr(item["id"]) in item["msg"]
    return dict(item)


# --------------------------------------------------------------------------- 422: field and id


def test_duplicate_bin_id_answers_422_naming_field_and_id(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A bin repeating another bin's id is reported at ``bins[i].id`` with that id."""
    problem["bins"][3]["id"] = "b00001"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["loc"], fault["id"], fault["type"]) == (["body", "bins", 3, "id"], "b00001", "duplicate_id")


def test_bin_reusing_depot_id_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Depots and bins share one id namespace."""
    problem["bins"][0]["id"] = "depot"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("bins[0].id", "depot")


def test_duplicate_vehicle_id_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Two vehicles with one id are reported at the second."""
    problem["vehicles"][1]["id"] = "rcv-1"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("vehicles[1].id", "rcv-1")


def test_unknown_depot_answers_422_naming_vehicle(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A vehicle naming a depot that does not exist is reported at its ``depot`` with its id."""
    problem["vehicles"][1]["depot"] = "nowhere"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("vehicles[1].depot", "rcv-2", "unknown_depot")
    assert "nowhere" in fault["msg"]


def test_negative_demand_answers_422_naming_field_and_id(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A negative demand is reported at ``bins[3].demand_kg`` for bin ``b00004``."""
    problem["bins"][3]["demand_kg"] = -4
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["loc"], fault["id"]) == (["body", "bins", 3, "demand_kg"], "b00004")


def test_latitude_out_of_range_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A latitude of 143.7 (a typo) is reported at ``bins[1].lat`` for ``b00002``."""
    problem["bins"][1]["lat"] = 143.7
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("bins[1].lat", "b00002")


def test_nan_in_raw_json_answers_422_naming_field_and_id(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A bare ``NaN`` in the JSON text is refused at its field, never a 500."""
    text = json.dumps(problem).replace('"demand_kg": 20', '"demand_kg": NaN', 1)
    assert "NaN" in text
    response = app_client.post(URL, content=text.encode(), headers={"content-type": "application/json"})
    fault = _only_fault(response)
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[2].demand_kg", "b00003", "finite_number")


def test_infinity_in_raw_json_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A bare ``Infinity`` in the JSON text is refused at its field."""
    text = json.dumps(problem).replace('"lon": 7.4149', '"lon": -Infinity', 1)
    response = app_client.post(URL, content=text.encode(), headers={"content-type": "application/json"})
    fault = _only_fault(response)
    assert (fault["field"], fault["id"]) == ("depots[0].lon", "depot")


def test_empty_fleet_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """No vehicles at all is reported at ``vehicles``."""
    problem["vehicles"] = []
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["loc"], fault["id"]) == (["body", "vehicles"], None)


def test_missing_required_field_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A bin without ``demand_kg`` is reported at that field with the bin's id."""
    del problem["bins"][6]["demand_kg"]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[6].demand_kg", "b00007", "missing")


def test_unknown_field_answers_422_naming_it(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A field the service does not know is refused by name rather than silently ignored."""
    problem["bins"][2]["colour"] = "green"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[2].colour", "b00003", "extra_forbidden")


def test_time_window_ending_before_it_starts_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A window 10:00 to 07:00 is reported at ``bins[i].time_windows[k]`` with the bin's id."""
    problem["bins"][4]["time_windows"] = [["10:00", "07:00"]]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[4].time_windows[0]", "b00005", "window_order")


def test_break_window_ending_before_it_starts_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A break window 13:00 to 11:00 is reported at ``vehicles[i].break.window`` with the vehicle's id."""
    problem["vehicles"][1]["break"] = {"duration_s": 1800, "window": ["13:00", "11:00"]}
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("vehicles[1].break.window", "rcv-2", "window_order")


def test_site_opening_ending_before_it_opens_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Opening hours 18:00 to 06:00 are reported at ``disposal_sites[i].opening`` with the site's id."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "opening": ["18:00", "06:00"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("disposal_sites[0].opening", "tip-0", "window_order")


def test_vehicle_without_streams_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A vehicle carrying no stream is reported at ``vehicles[i].streams`` with its id."""
    problem["vehicles"][0]["streams"] = []
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("vehicles[0].streams", "rcv-1")


def test_pin_to_unknown_vehicle_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A bin pinned to "rcv-9" is reported at ``bins[i].vehicle`` with the bin's id, naming rcv-9."""
    problem["bins"][6]["vehicle"] = "rcv-9"
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[6].vehicle", "b00007", "unknown_vehicle")
    assert "rcv-9" in fault["msg"]


def test_optional_bin_without_penalty_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """An optional bin must say what leaving it out costs."""
    problem["bins"][0]["required"] = False
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("bins[0].penalty", "b00001", "missing_penalty")


def test_initial_route_of_unknown_vehicle_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A warm start for vehicle "rcv-5" is reported at ``options.initial_routes[i].vehicle_id``."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-5", "stops": ["b00001"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("options.initial_routes[0].vehicle_id", "rcv-5",
                                                            "unknown_vehicle")


def test_initial_route_with_unknown_stop_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A warm start naming stop "b99999" is reported at its place with that id."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-1", "stops": ["b99999"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("options.initial_routes[0].stops[0]", "b99999",
                                                            "unknown_stop")


def test_time_limit_above_service_maximum_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A time limit beyond ``max_time_limit_s`` is refused at ``options.time_limit_s``."""
    problem["options"]["time_limit_s"] = 3600
    fault = _only_fault(app_client.post(URL, json=problem))
    assert fault["loc"] == ["body", "options", "time_limit_s"]


def test_several_faults_are_all_reported(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Each faulty field gets its own item, with its own id."""
    problem["bins"][0]["demand_kg"] = -1
    problem["bins"][5]["lon"] = 500
    response = app_client.post(URL, json=problem)
    assert response.status_code == 422
    assert {(i["field"], i["id"]) for i in response.json()["detail"]} == {
        ("bins[0].demand_kg", "b00001"), ("bins[5].lon", "b00006")}


# --------------------------------------------------------------------------- 200: optimised rounds


@pytest.fixture(scope="module")
def answer(client: TestClient, make_problem: Callable[[], dict[str, Any]],
           off_network_bin: dict[str, Any]) -> dict[str, Any]:
    """The answer to the base problem plus a bin in the sea, solved once for this module."""
    body = make_problem()
    body["bins"].append(off_network_bin)
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _routes(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The route features of an answer."""
    return [f for f in answer["features"] if f["properties"]["kind"] == "route"]


def _visits(answer: dict[str, Any], vehicle_id: str) -> list[dict[str, Any]]:
    """The visit features of one vehicle, in answer order."""
    return [f for f in answer["features"]
            if f["properties"]["kind"] == "visit" and f["properties"]["vehicle_id"] == vehicle_id]


def test_answer_is_a_feature_collection_with_summary_and_unassigned(answer: dict[str, Any]) -> None:
    """RFC 7946 FeatureCollection with the foreign members of API.md and the data's attribution."""
    assert answer["type"] == "FeatureCollection"
    assert set(answer) == {"type", "features", "summary", "unassigned", "attribution"}
    assert "OpenStreetMap" in answer["attribution"]
    assert set(answer["summary"]) == {"distance_m", "duration_s", "vehicles_used", "bins_served",
                                      "bins_unassigned", "cost", "violations", "balance", "compactness",
                                      "manoeuvres", "relaxed", "timings"}


def test_every_bin_is_served_once_or_unassigned(answer: dict[str, Any], off_network_bin: dict[str, Any]) -> None:
    """Each bin appears on exactly one route or in ``unassigned``, never both."""
    served = [f["properties"]["bin_id"] for f in answer["features"]
              if f["properties"]["kind"] == "visit" and f["properties"]["type"] == "bin"]
    unassigned = [u["bin_id"] for u in answer["unassigned"]]
    assert len(served) == len(set(served))
    assert sorted(served + unassigned) == sorted(["b00001", "b00002", "b00003", "b00004", "b00005", "b00006",
                                                  "b00007", "b00008", off_network_bin["id"]])


def test_bin_far_from_any_street_is_unassigned_off_network(answer: dict[str, Any],
                                                           off_network_bin: dict[str, Any]) -> None:
    """A bin kilometres from the network is reported ``off_network``, not silently moved."""
    assert {u["bin_id"]: u["reason"] for u in answer["unassigned"]} == {off_network_bin["id"]: "off_network"}


def test_route_features_carry_the_contract_properties(answer: dict[str, Any]) -> None:
    """Each route has a LineString of [lon, lat] positions and the figures API.md names."""
    routes = _routes(answer)
    assert routes
    for route in routes:
        assert route["type"] == "Feature" and route["geometry"]["type"] == "LineString"
        assert {"kind", "vehicle_id", "distance_m", "duration_s", "load_kg", "load_l", "n_bins", "lifts", "trips",
                "violations"} <= set(route["properties"])
        for lon, lat in route["geometry"]["coordinates"]:
            assert 7.3 < lon < 7.6 and 43.6 < lat < 43.8


def test_visits_run_from_depot_to_depot_in_sequence(answer: dict[str, Any]) -> None:
    """A route's visits are numbered 0, 1, ... and start and end at its depot."""
    for route in _routes(answer):
        visits = [v["properties"] for v in _visits(answer, route["properties"]["vehicle_id"])]
        assert [v["sequence"] for v in visits] == list(range(len(visits)))
        assert visits[0]["type"] == visits[-1]["type"] == "depot"
        assert visits[0]["depot_id"] == "depot"
        assert [v["type"] for v in visits[1:-1]] == ["bin"] * route["properties"]["n_bins"]


def test_bin_visits_carry_bin_id_and_depot_visits_do_not(answer: dict[str, Any]) -> None:
    """``bin_id`` is on bin visits only; absent ids are left out rather than null."""
    for feature in answer["features"]:
        properties = feature["properties"]
        if properties["kind"] == "visit":
            assert ("bin_id" in properties) == (properties["type"] == "bin")
            assert None not in properties.values()


def test_visit_arrivals_do_not_decrease_and_read_as_clock(answer: dict[str, Any]) -> None:
    """Arrival times grow along a route and ``arrival`` is ``arrival_s`` as "HH:MM"."""
    for route in _routes(answer):
        visits = [v["properties"] for v in _visits(answer, route["properties"]["vehicle_id"])]
        arrivals = [v["arrival_s"] for v in visits]
        assert arrivals == sorted(arrivals)
        assert arrivals[0] >= 6 * 3600
        for visit in visits:
            minutes = round(visit["arrival_s"] / 60)
            assert visit["arrival"] == f"{minutes // 60:02d}:{minutes % 60:02d}"


def test_loads_accumulate_to_the_route_load(answer: dict[str, Any]) -> None:
    """The load after the last bin is the route's ``load_kg``, within the vehicle's capacity."""
    for route in _routes(answer):
        visits = [v["properties"] for v in _visits(answer, route["properties"]["vehicle_id"])]
        last_bin = [v for v in visits if v["type"] == "bin"][-1]
        assert last_bin["load_kg"] == pytest.approx(route["properties"]["load_kg"])
        assert route["properties"]["load_kg"] <= 100


def test_optimised_rounds_show_no_violations(answer: dict[str, Any]) -> None:
    """Every route's ``violations`` is empty and the summary counts none."""
    assert answer["summary"]["violations"] == 0
    assert all(r["properties"]["violations"] == [] for r in _routes(answer))


def test_visits_carry_litres_and_start_times(answer: dict[str, Any]) -> None:
    """Each visit has ``load_l`` and a ``start_s`` no earlier than its arrival."""
    for feature in answer["features"]:
        properties = feature["properties"]
        if properties["kind"] == "visit":
            assert properties["load_l"] == 0.0  # the base problem gives no volumes
            assert properties["start_s"] >= properties["arrival_s"]


def test_summary_totals_the_routes(answer: dict[str, Any]) -> None:
    """The summary adds up the routes' figures and counts the bins."""
    routes = [r["properties"] for r in _routes(answer)]
    summary = answer["summary"]
    assert summary["distance_m"] == pytest.approx(sum(r["distance_m"] for r in routes))
    assert summary["vehicles_used"] == len(routes)
    assert summary["bins_served"] == sum(r["n_bins"] for r in routes)
    assert summary["bins_unassigned"] == len(answer["unassigned"])


def test_depot_off_the_network_answers_422_naming_it(client: TestClient, problem: dict[str, Any]) -> None:
    """A depot in the sea cannot be planned from: 422 naming the depot, never 500."""
    problem["depots"][0].update({"lon": 7.43, "lat": 43.70})
    response = client.post(URL, json=problem)
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["id"] == "depot" and item["field"].startswith("depots[0]")


def test_time_limit_defaults_to_the_service_setting(client: TestClient, problem: dict[str, Any]) -> None:
    """Without ``options`` the request solves with the service's default limit (1 s in tests)."""
    del problem["options"]
    response = client.post(URL, json=problem)
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["bins_served"] == len(problem["bins"])


def test_optimisation_with_a_tip_answers_disposal_visits(client: TestClient, problem: dict[str, Any]) -> None:
    """With 60 kg vehicles and a tip, loads drop to 0 at ``disposal`` visits naming the site, and
    no load between tips exceeds the capacity."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "unload_s": 300}]
    for vehicle in problem["vehicles"]:
        vehicle["capacity_kg"] = 60
    response = client.post(URL, json=problem)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["summary"]["violations"] == 0
    tips = 0
    for route in _routes(answer):
        visits = [v["properties"] for v in _visits(answer, route["properties"]["vehicle_id"])]
        for visit in visits:
            assert visit["load_kg"] <= 60
            if visit["type"] == "disposal":
                tips += 1
                assert (visit["site_id"], visit["load_kg"]) == ("tip-0", 0)
        assert visits[-2]["type"] == "disposal"  # tip before return
        assert route["properties"]["trips"] == sum(v["type"] == "disposal" for v in visits)
    assert tips >= 3  # 136 kg in 60 kg loads


def test_answer_reports_balance_and_compactness(answer: dict[str, Any]) -> None:
    """The summary carries the rounds' balance (durations and loads against their mean) and
    compactness, and each route its own compactness, all from the evaluated plan."""
    routes = [r["properties"] for r in _routes(answer)]
    balance = answer["summary"]["balance"]
    durations = [r["duration_s"] for r in routes]
    loads = [r["load_kg"] for r in routes]
    assert balance["duration_max_s"] == pytest.approx(max(durations))
    assert balance["duration_mean_s"] == pytest.approx(sum(durations) / len(durations))
    assert balance["duration_spread"] == pytest.approx(max(durations) / (sum(durations) / len(durations)) - 1)
    assert balance["load_min_kg"] == pytest.approx(min(loads))
    assert balance["load_spread"] == pytest.approx(max(loads) / (sum(loads) / len(loads)) - 1)
    compactness = answer["summary"]["compactness"]
    assert compactness["streets"] >= 1 and compactness["buffer_m"] > 0
    assert compactness["shared_streets"] == len(compactness["shared_street_ids"])
    assert 0.0 <= compactness["mean_overlap_share"] <= 1.0
    for route in routes:
        figures = route["compactness"]
        assert figures["streets"] >= 1 and figures["street_length_m"] > 0 and figures["area_m2"] > 0
        assert 0.0 <= figures["shared_street_share"] <= 1.0 and 0.0 <= figures["overlap_share"] <= 1.0
    assert compactness["streets"] <= sum(r["compactness"]["streets"] for r in routes)


def test_rounds_report_manoeuvres_with_no_banned_turn(answer: dict[str, Any]) -> None:
    """Each round and the summary count U-turns, reversing manoeuvres and banned turns; none is banned,
    none turns back at a junction or in the street, and the summary adds the rounds up."""
    routes = _routes(answer)
    names = {"u_turns", "turning_place_u_turns", "reversing", "banned_turns"}
    total = dict.fromkeys(names, 0)
    for route in routes:
        m = route["properties"]["manoeuvres"]
        assert set(m) == names
        assert m["banned_turns"] == 0
        for name in names:
            total[name] += m[name]
    assert answer["summary"]["manoeuvres"] == total


def test_each_rounds_area_is_a_polygon_around_its_stops(answer: dict[str, Any]) -> None:
    """Each route's ``compactness.area`` is a GeoJSON Polygon or MultiPolygon of [lon, lat]
    positions with closed rings that holds every bin stop of the round (the map draws it on
    demand)."""
    visits = [f for f in answer["features"] if f["properties"]["kind"] == "visit"]
    for route in _routes(answer):
        area = route["properties"]["compactness"]["area"]
        assert area["type"] in ("Polygon", "MultiPolygon")
        polygons = [area["coordinates"]] if area["type"] == "Polygon" else area["coordinates"]
        lonlat = shapely.MultiPolygon([(rings[0], rings[1:]) for rings in polygons])
        for rings in polygons:
            assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in rings)
        vehicle = route["properties"]["vehicle_id"]
        stops = [shapely.Point(v["geometry"]["coordinates"]) for v in visits
                 if v["properties"]["vehicle_id"] == vehicle and v["properties"]["type"] == "bin"]
        assert stops and all(lonlat.covers(stop) for stop in stops), vehicle


def test_summary_reports_the_wall_clock_and_where_it_went(answer: dict[str, Any]) -> None:
    """``summary.timings`` gives the search's time limit asked (1 s), each stage's seconds and the wall
    clock up to the answer, which is at least the stages' sum and covers the search."""
    timings = answer["summary"]["timings"]
    assert timings["time_limit_s"] == 1
    assert {"snapping", "matrix", "solve", "evaluate"} <= set(timings["stages_s"])
    assert timings["wall_s"] >= sum(timings["stages_s"].values()) >= timings["stages_s"]["solve"] > 0
