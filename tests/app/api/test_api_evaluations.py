"""POST /api/v1/evaluations: a plan made by a person, scored by the one evaluator on the
real Monaco network; every violation named, answered in the shape of an optimisation.

The bins of the base problem weigh 16, 12, 20, 8, 25, 14, 30 and 11 kg (b00001 to b00008).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

URL = "/api/v1/evaluations"
TIP = {"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "unload_s": 300}
"""A tip on a street in Fontvieille, near the depot."""

SEVEN = ["b00001", "b00002", "b00003", "b00004", "b00005", "b00006", "b00007"]


def _evaluate(client: TestClient, body: dict[str, Any], *routes: tuple[str, list[str]]) -> dict[str, Any]:
    """The 200 answer to ``body`` with ``routes``."""
    body["routes"] = [{"vehicle_id": v, "stops": stops} for v, stops in routes]
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _route(answer: dict[str, Any], vehicle_id: str = "rcv-1") -> dict[str, Any]:
    """The properties of one vehicle's route feature."""
    [route] = [f["properties"] for f in answer["features"]
               if f["properties"]["kind"] == "route" and f["properties"]["vehicle_id"] == vehicle_id]
    return dict(route)


def _visits(answer: dict[str, Any], vehicle_id: str = "rcv-1") -> list[dict[str, Any]]:
    """The visit features of one vehicle, in order."""
    return [f for f in answer["features"]
            if f["properties"]["kind"] == "visit" and f["properties"]["vehicle_id"] == vehicle_id]


def _kinds(answer: dict[str, Any], vehicle_id: str = "rcv-1") -> list[tuple[str, str]]:
    """(type, stop) of a route's violations."""
    return [(v["type"], v["stop"]) for v in _route(answer, vehicle_id)["violations"]]


def _only_fault(response: Any) -> dict[str, Any]:
    """The single fault of a 422 answer, checked to name its field and id in the message."""
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["field"] in item["msg"]
    if item["id"] is not None:
        assert repr(item["id"]) in item["msg"]
    return dict(item)


def test_overloaded_hand_made_plan_is_flagged_overload(client: TestClient, problem: dict[str, Any]) -> None:
    """125 kg on a 50 kg vehicle with no tip: overload at b00004, where the load reaches 56 kg."""
    problem["vehicles"][0]["capacity_kg"] = 50
    answer = _evaluate(client, problem, ("rcv-1", SEVEN))
    assert _kinds(answer) == [("overload", "b00004")]
    assert answer["summary"]["violations"] == 1


def test_plan_with_tips_empties_the_vehicle_at_each_tip(client: TestClient, problem: dict[str, Any]) -> None:
    """Loads of 48, 47 and 30 kg on a 50 kg vehicle, each tipped: no violation, three trips, load 0 after tips."""
    problem["disposal_sites"] = [TIP]
    problem["vehicles"][0]["capacity_kg"] = 50
    stops = ["b00001", "b00002", "b00003", "tip-0", "b00004", "b00005", "b00006", "tip-0", "b00007", "tip-0"]
    answer = _evaluate(client, problem, ("rcv-1", stops))
    route = _route(answer)
    assert (route["violations"], route["trips"], route["load_kg"]) == ([], 3, 125)
    tips = [v["properties"] for v in _visits(answer) if v["properties"]["type"] == "disposal"]
    assert [(t["site_id"], t["load_kg"]) for t in tips] == [("tip-0", 0)] * 3
    assert max(v["properties"]["load_kg"] for v in _visits(answer)) == 48


def test_coming_back_loaded_when_a_tip_exists_is_not_tipped(client: TestClient, problem: dict[str, Any]) -> None:
    """With a tip in the problem, returning with 48 kg on board is not_tipped at the depot."""
    problem["disposal_sites"] = [TIP]
    answer = _evaluate(client, problem, ("rcv-1", ["b00001", "b00002", "b00003"]))
    assert _kinds(answer) == [("not_tipped", "depot")]


def test_break_is_shown_where_the_vehicle_is(client: TestClient, problem: dict[str, Any]) -> None:
    """A break after b00002 is a ``break`` visit at b00002's point, starting when its window opens."""
    problem["vehicles"][0]["break"] = {"duration_s": 1800, "window": ["06:10", "07:00"]}
    answer = _evaluate(client, problem, ("rcv-1", ["b00001", "b00002", "break", "b00003"]))
    visits = _visits(answer)
    brk = visits[3]
    assert brk["properties"]["type"] == "break"
    assert brk["geometry"]["coordinates"] == visits[2]["geometry"]["coordinates"]
    assert brk["properties"]["start_s"] == 6 * 3600 + 600
    assert brk["properties"]["departure_s"] == brk["properties"]["start_s"] + 1800
    assert _route(answer)["violations"] == []


def test_route_out_when_the_break_is_due_without_one_is_missing_break(client: TestClient,
                                                                      problem: dict[str, Any]) -> None:
    """In a plan that records breaks (rcv-2 takes one), the break window of rcv-1 opens at 06:01
    while it is still out and it takes none: missing_break."""
    for vehicle in problem["vehicles"]:
        vehicle["break"] = {"duration_s": 1800, "window": ["06:01", "07:00"]}
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]), ("rcv-2", ["b00008", "break"]))
    assert _kinds(answer) == [("missing_break", "depot")]


def test_plan_recording_no_breaks_takes_each_break_where_it_fits(client: TestClient,
                                                                 problem: dict[str, Any]) -> None:
    """Today's rounds as an in-cab system exports them name no break: each vehicle's break is taken
    after the first stop left once its window has opened (rcv-1, out at 06:01), or before the drive
    back when that would end inside the window (rcv-2), never reported missing."""
    problem["vehicles"][0]["break"] = {"duration_s": 1800, "window": ["06:01", "07:00"]}
    problem["vehicles"][1]["break"] = {"duration_s": 900, "window": ["06:00", "08:00"]}
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]), ("rcv-2", ["b00008"]))
    assert _kinds(answer) == [] and _kinds(answer, "rcv-2") == []
    visits = [v["properties"] for v in _visits(answer)]
    [at] = [i for i, v in enumerate(visits) if v["type"] == "break"]
    assert visits[at - 1]["departure_s"] >= 6 * 3600 + 60 > visits[at - 2]["departure_s"]
    assert visits[at]["start_s"] == visits[at - 1]["departure_s"]
    assert visits[at]["departure_s"] == visits[at]["start_s"] + 1800
    assert [v["properties"]["type"] for v in _visits(answer, "rcv-2")] == ["depot", "bin", "break", "depot"]


def test_bin_after_its_window_closed_is_late(client: TestClient, problem: dict[str, Any]) -> None:
    """b00001 may only start at 06:00 sharp; the vehicle gets there later: late."""
    problem["bins"][0]["time_windows"] = [["06:00", "06:00"]]
    answer = _evaluate(client, problem, ("rcv-1", ["b00001", "b00002"]))
    assert _kinds(answer) == [("late", "b00001")]


def test_recycling_on_a_refuse_truck_is_incompatible_stream(client: TestClient, problem: dict[str, Any]) -> None:
    """b00002 holds recycling; rcv-1 carries refuse only."""
    problem["bins"][1]["stream"] = "recycling"
    answer = _evaluate(client, problem, ("rcv-1", ["b00001", "b00002"]))
    assert _kinds(answer) == [("incompatible_stream", "b00002")]


def test_tip_closed_on_arrival_is_closed_site(client: TestClient, problem: dict[str, Any]) -> None:
    """The tip closes at 06:00; unloading after collecting starts later: closed_site."""
    problem["disposal_sites"] = [dict(TIP, opening=["05:00", "06:00"])]
    answer = _evaluate(client, problem, ("rcv-1", ["b00001", "tip-0"]))
    assert _kinds(answer) == [("closed_site", "tip-0")]


def test_back_after_the_shift_ends_is_shift_overrun(client: TestClient, problem: dict[str, Any]) -> None:
    """A 06:00-06:05 shift cannot drive four bins: shift_overrun at the depot."""
    problem["vehicles"][0]["shift"] = ["06:00", "06:05"]
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]))
    assert _kinds(answer) == [("shift_overrun", "depot")]


def test_bins_on_no_route_are_unassigned_not_in_plan(client: TestClient, problem: dict[str, Any]) -> None:
    """The plan leaves out b00008: unassigned with reason not_in_plan."""
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]), ("rcv-2", SEVEN[4:]))
    assert [(u["bin_id"], u["reason"]) for u in answer["unassigned"]] == [("b00008", "not_in_plan")]
    assert answer["summary"]["bins_unassigned"] == 1


def test_answer_has_the_shape_of_an_optimisation(client: TestClient, problem: dict[str, Any]) -> None:
    """A FeatureCollection: per route a street LineString with its figures, per stop a Point, and the summary."""
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]), ("rcv-2", SEVEN[4:]))
    assert answer["type"] == "FeatureCollection"
    assert set(answer["summary"]) == {"distance_m", "duration_s", "vehicles_used", "bins_served",
                                      "bins_unassigned", "cost", "violations", "balance", "compactness",
                                      "manoeuvres", "timings"}
    routes = [f for f in answer["features"] if f["properties"]["kind"] == "route"]
    assert [r["geometry"]["type"] for r in routes] == ["LineString", "LineString"]
    assert answer["summary"]["distance_m"] == pytest.approx(sum(r["properties"]["distance_m"] for r in routes))
    assert answer["summary"]["bins_served"] == 7
    assert [v["properties"]["type"] for v in _visits(answer, "rcv-2")] == ["depot", "bin", "bin", "bin", "depot"]


def test_rounds_alternating_bin_by_bin_are_reported_not_compact(client: TestClient,
                                                                problem: dict[str, Any]) -> None:
    """Two rounds taking turns along the same streets (each bin has a twin at the same kerb, served
    by the other lorry): every street is served by both, listed by id, both rounds' shares are 1
    and their areas cross (the very same area, given as a Polygon to draw); the two equal rounds have
    a load spread of 0."""
    for vehicle in problem["vehicles"]:
        vehicle["capacity_kg"] = 1000
    twins = [{**b, "id": f"{b['id']}-twin"} for b in problem["bins"]]
    problem["bins"] = problem["bins"] + twins
    ids = [b["id"] for b in problem["bins"][:8]]
    answer = _evaluate(client, problem, ("rcv-1", ids), ("rcv-2", [f"{i}-twin" for i in ids]))
    compactness = answer["summary"]["compactness"]
    assert compactness["shared_streets"] == compactness["streets"] >= 1
    assert len(compactness["shared_street_ids"]) == compactness["shared_streets"]
    assert compactness["max_rounds_per_street"] == 2 and compactness["crossing_pairs"] == 1
    assert compactness["mean_shared_street_share"] == pytest.approx(1.0)
    for vehicle_id in ("rcv-1", "rcv-2"):
        figures = _route(answer, vehicle_id)["compactness"]
        assert figures["shared_street_share"] == pytest.approx(1.0)
        assert figures["overlap_share"] > 0.9 and figures["crossing_rounds"] == 1
    assert answer["summary"]["balance"]["load_spread"] == pytest.approx(0.0)
    # serving the same streets, the two rounds have the same area to draw
    area = _route(answer, "rcv-1")["compactness"]["area"]
    assert area["type"] == "Polygon" and area == _route(answer, "rcv-2")["compactness"]["area"]


def test_summary_counts_every_routes_violations(client: TestClient, problem: dict[str, Any]) -> None:
    """Two overloaded routes: the summary counts both violations."""
    for vehicle in problem["vehicles"]:
        vehicle["capacity_kg"] = 20
    answer = _evaluate(client, problem, ("rcv-1", SEVEN[:4]), ("rcv-2", SEVEN[4:]))
    assert answer["summary"]["violations"] == 2
    assert _kinds(answer, "rcv-1") == [("overload", "b00002")]
    assert _kinds(answer, "rcv-2") == [("overload", "b00005")]


def test_unknown_stop_answers_422_naming_its_place_and_id(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Stop "b99999" is reported at ``routes[0].stops[1]`` with that id."""
    problem["routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b99999"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("routes[0].stops[1]", "b99999", "unknown_stop")


def test_unknown_vehicle_answers_422_naming_it(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A route of "rcv-9" is reported at ``routes[0].vehicle_id``."""
    problem["routes"] = [{"vehicle_id": "rcv-9", "stops": ["b00001"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("routes[0].vehicle_id", "rcv-9", "unknown_vehicle")


def test_depot_among_the_stops_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """Depot start and end are implied: naming the depot is reported at its place."""
    problem["routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001", "depot"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("routes[0].stops[1]", "depot", "depot_stop")


def test_break_on_a_vehicle_without_one_answers_422(app_client: TestClient, problem: dict[str, Any]) -> None:
    """"break" for a vehicle with no break is reported at its place."""
    problem["routes"] = [{"vehicle_id": "rcv-2", "stops": ["break", "b00001"]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"], fault["type"]) == ("routes[0].stops[0]", "break", "no_break")


def test_malformed_stop_answers_422_with_the_routes_vehicle(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A stop that is not a string is reported at its place; the route's vehicle is its id."""
    problem["routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001", 7]}]
    fault = _only_fault(app_client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("routes[0].stops[1]", "rcv-1")
