"""The bad inputs named by the reliability issue, each answered as API.md says, on both
synchronous endpoints: NaN and infinite numbers (sent as raw ``NaN``/``Infinity``
tokens, which Python's json and many clients write), coordinates out of range or far
from the network, duplicate or unknown ids, empty fleets, a demand larger than every
vehicle, a window that ends before it starts, and a huge body.

Malformed input answers 422 naming the field and the id; a bin that cannot be served
is no error but ``unassigned`` with its reason; a body over the limit answers 413.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings

OPTIMISATIONS = "/api/v1/optimisations"
EVALUATIONS = "/api/v1/evaluations"
ENDPOINTS = [OPTIMISATIONS, EVALUATIONS]
BAD = "__bad_number__"
"""Placeholder put where a raw token goes, replaced in the JSON text."""

Body = dict[str, Any]


def _as(endpoint: str, problem: Body) -> Body:
    """``problem`` as a body of ``endpoint``: an evaluation adds a hand-made route."""
    if endpoint == EVALUATIONS:
        problem["routes"] = [{"vehicle_id": "rcv-1", "stops": [b["id"] for b in problem["bins"][:3]]}]
    return problem


def _post_raw(client: TestClient, endpoint: str, body: Body, token: str) -> Any:
    """POST ``body`` with the placeholder replaced by ``token`` in the JSON text."""
    text = json.dumps(body)
    assert text.count(f'"{BAD}"') == 1
    return client.post(endpoint, content=text.replace(f'"{BAD}"', token).encode(),
                       headers={"content-type": "application/json"})


def _faults(response: Any) -> list[dict[str, Any]]:
    """The items of a 422, each checked to name its field (and its id, when it has one)."""
    assert response.status_code == 422, response.text
    items = response.json()["detail"]
    for item in items:
        assert item["field"] in item["msg"]
        assert item["id"] is None or repr(item["id"]) in item["msg"]
    return list(items)


def _fault(response: Any) -> tuple[str, str | None, str]:
    """(field, id, type) of the only fault of a 422."""
    [item] = _faults(response)
    return item["field"], item["id"], item["type"]


def _unassigned(response: Any) -> dict[str, dict[str, Any]]:
    """The unassigned bins of a 200 answer, by bin id."""
    assert response.status_code == 200, response.text
    return {u["bin_id"]: u for u in response.json()["unassigned"]}


# --------------------------------------------------------------------------- NaN and infinity

NUMBER_PLACES: list[tuple[str, Callable[[Body], None], str, str | None]] = [
    ("depot-lon", lambda p: p["depots"][0].update(lon=BAD), "depots[0].lon", "depot"),
    ("bin-lat", lambda p: p["bins"][4].update(lat=BAD), "bins[4].lat", "b00005"),
    ("capacity", lambda p: p["vehicles"][1].update(capacity_kg=BAD), "vehicles[1].capacity_kg", "rcv-2"),
    ("demand", lambda p: p["bins"][2].update(demand_kg=BAD), "bins[2].demand_kg", "b00003"),
    ("break", lambda p: p["vehicles"][0].update({"break": {"duration_s": BAD, "window": ["10:00", "12:00"]}}),
     "vehicles[0].break.duration_s", "rcv-1"),
    ("time-limit", lambda p: p["options"].update(time_limit_s=BAD), "options.time_limit_s", None),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(("place", "put", "field", "item_id"), NUMBER_PLACES, ids=[p[0] for p in NUMBER_PLACES])
def test_non_finite_number_answers_422_at_its_field(app_client: TestClient, problem: Body, endpoint: str,
                                                     token: str, place: str, put: Callable[[Body], None],
                                                     field: str, item_id: str | None) -> None:
    """A raw NaN, Infinity, -Infinity or overflowing number anywhere a number goes is
    refused at that field with the item's id, never a 500."""
    put(problem)
    assert _fault(_post_raw(app_client, endpoint, _as(endpoint, problem), token)) == (field, item_id,
                                                                                      "finite_number")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_nan_where_an_id_goes_answers_422(app_client: TestClient, problem: Body, endpoint: str) -> None:
    """A NaN as a bin's id is refused at ``bins[1].id`` (no id to name: it has none)."""
    problem["bins"][1]["id"] = BAD
    if endpoint == EVALUATIONS:
        problem["routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001"]}]
    assert _fault(_post_raw(app_client, endpoint, problem, "NaN"))[:2] == ("bins[1].id", None)


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("group", "index", "key", "value", "item_id"), [
    ("depots", 0, "lon", 180.5, "depot"), ("depots", 0, "lat", -90.01, "depot"),
    ("bins", 3, "lon", -181.0, "b00004"), ("bins", 6, "lat", 91.0, "b00007"),
])
def test_coordinate_out_of_range_answers_422(app_client: TestClient, problem: Body, endpoint: str, group: str,
                                             index: int, key: str, value: float, item_id: str) -> None:
    """A longitude beyond ±180 or a latitude beyond ±90 is refused at its field with the id."""
    problem[group][index][key] = value
    field, found_id, _ = _fault(app_client.post(endpoint, json=_as(endpoint, problem)))
    assert (field, found_id) == (f"{group}[{index}].{key}", item_id)


def test_bin_far_from_the_network_is_unassigned_off_network(client: TestClient, problem: Body) -> None:
    """A bin kilometres from any street is no error: it is unassigned with reason
    ``off_network`` and a detail giving the distance."""
    problem["bins"][1].update(lon=7.43, lat=43.70)
    unassigned = _unassigned(client.post(OPTIMISATIONS, json=problem))
    assert unassigned["b00002"]["reason"] == "off_network"
    assert " m " in unassigned["b00002"]["detail"]


def test_planned_bin_far_from_the_network_is_a_no_path_violation(client: TestClient, problem: Body) -> None:
    """In a person's plan, a bin kilometres from any street is scored, not refused: its
    route shows a ``no_path`` violation at that bin."""
    problem["bins"][1].update(lon=7.43, lat=43.70)
    response = client.post(EVALUATIONS, json=_as(EVALUATIONS, problem))
    assert response.status_code == 200, response.text
    route = next(f for f in response.json()["features"] if f["properties"]["kind"] == "route")
    assert ("no_path", "b00002") in {(v["type"], v["stop"]) for v in route["properties"]["violations"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_disposal_site_far_from_the_network_answers_422(client: TestClient, problem: Body, endpoint: str) -> None:
    """A disposal site in the sea cannot be planned with: 422 naming the site."""
    problem["disposal_sites"] = [{"id": "tip-sea", "lon": 7.43, "lat": 43.70}]
    field, item_id, _ = _fault(client.post(endpoint, json=_as(endpoint, problem)))
    assert (field.startswith("disposal_sites[0]"), item_id) == (True, "tip-sea")


def test_evaluation_with_depot_far_from_the_network_answers_422(client: TestClient, problem: Body) -> None:
    """A depot on another continent is refused at ``depots[0]`` for an evaluation too."""
    problem["depots"][0].update(lon=0.0, lat=0.0)
    field, item_id, _ = _fault(client.post(EVALUATIONS, json=_as(EVALUATIONS, problem)))
    assert (field, item_id) == ("depots[0]", "depot")


# --------------------------------------------------------------------------- duplicate and unknown ids

ID_FAULTS: list[tuple[str, Callable[[Body], None], str, str, str]] = [
    ("bin-twice", lambda p: p["bins"][5].update(id="b00002"), "bins[5].id", "b00002", "duplicate_id"),
    ("site-as-bin", lambda p: p.update(disposal_sites=[{"id": "b00003", "lon": 7.4186, "lat": 43.7318}]),
     "bins[2].id", "b00003", "duplicate_id"),
    ("vehicle-twice", lambda p: p["vehicles"][1].update(id="rcv-1"), "vehicles[1].id", "rcv-1", "duplicate_id"),
    ("reserved-break", lambda p: p["bins"][7].update(id="break"), "bins[7].id", "break", "reserved_id"),
    ("unknown-depot", lambda p: p["vehicles"][0].update(depot="depot-9"), "vehicles[0].depot", "rcv-1",
     "unknown_depot"),
    ("unknown-pin", lambda p: p["bins"][3].update(vehicle="rcv-9"), "bins[3].vehicle", "b00004",
     "unknown_vehicle"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("case", "put", "field", "item_id", "kind"), ID_FAULTS, ids=[c[0] for c in ID_FAULTS])
def test_duplicate_or_unknown_id_answers_422(app_client: TestClient, problem: Body, endpoint: str, case: str,
                                             put: Callable[[Body], None], field: str, item_id: str,
                                             kind: str) -> None:
    """Ids repeated or referring to nothing are refused at the field, naming the id."""
    body = _as(endpoint, problem)
    put(body)
    assert _fault(app_client.post(endpoint, json=body)) == (field, item_id, kind)


@pytest.mark.parametrize(("routes", "field", "item_id", "kind"), [
    ([{"vehicle_id": "rcv-7", "stops": ["b00001"]}], "routes[0].vehicle_id", "rcv-7", "unknown_vehicle"),
    ([{"vehicle_id": "rcv-1", "stops": ["b00001", "nope"]}], "routes[0].stops[1]", "nope", "unknown_stop"),
    ([{"vehicle_id": "rcv-1", "stops": []}, {"vehicle_id": "rcv-1", "stops": []}], "routes[1].vehicle_id",
     "rcv-1", "duplicate_route"),
])
def test_evaluation_route_with_unknown_or_repeated_ids_answers_422(app_client: TestClient, problem: Body,
                                                                   routes: list[Body], field: str, item_id: str,
                                                                   kind: str) -> None:
    """A hand-made route naming an unknown vehicle or stop, or a vehicle twice, is refused there."""
    problem["routes"] = routes
    assert _fault(app_client.post(EVALUATIONS, json=problem)) == (field, item_id, kind)


# --------------------------------------------------------------------------- empty fleets


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("group", ["vehicles", "depots"])
def test_empty_fleet_or_depots_answers_422(app_client: TestClient, problem: Body, endpoint: str, group: str) -> None:
    """No vehicle or no depot at all is refused at that list."""
    body = _as(endpoint, problem)
    body[group] = []
    if group == "depots":
        body["vehicles"] = problem["vehicles"]
    faults = _faults(app_client.post(endpoint, json=body))
    assert group in {f["field"] for f in faults}


def test_fleet_with_no_vehicle_for_the_stream_leaves_bins_unassigned(client: TestClient, problem: Body) -> None:
    """A bin of a stream no vehicle collects is unassigned ``no_compatible_vehicle``, not an error."""
    problem["bins"][2]["stream"] = "glass"
    assert _unassigned(client.post(OPTIMISATIONS, json=problem))["b00003"]["reason"] == "no_compatible_vehicle"


def test_problem_without_bins_answers_an_empty_plan(client: TestClient, problem: Body) -> None:
    """No bins at all is a valid (empty) problem: 200 with no route and nothing unassigned."""
    problem["bins"] = []
    response = client.post(OPTIMISATIONS, json=problem)
    assert response.status_code == 200, response.text
    assert (response.json()["features"], response.json()["summary"]["vehicles_used"]) == ([], 0)


# --------------------------------------------------------------------------- demand larger than every vehicle


def test_demand_larger_than_every_vehicle_is_unassigned_capacity(client: TestClient, problem: Body) -> None:
    """A bin heavier than every vehicle's capacity is unassigned with reason ``capacity``,
    the other bins still planned."""
    problem["bins"][4]["demand_kg"] = 5000
    response = client.post(OPTIMISATIONS, json=problem)
    unassigned = _unassigned(response)
    assert list(unassigned) == ["b00005"] and unassigned["b00005"]["reason"] == "capacity"
    assert response.json()["summary"]["bins_served"] == len(problem["bins"]) - 1


def test_volume_larger_than_every_body_is_unassigned_capacity(client: TestClient, problem: Body) -> None:
    """A bin bulkier (litres) than every vehicle's body is unassigned ``capacity`` too."""
    for vehicle in problem["vehicles"]:
        vehicle["capacity_l"] = 1000
    problem["bins"][0]["volume_l"] = 1100
    assert _unassigned(client.post(OPTIMISATIONS, json=problem))["b00001"]["reason"] == "capacity"


def test_evaluated_plan_with_an_overweight_bin_shows_overload(client: TestClient, problem: Body) -> None:
    """A person's plan carrying a bin heavier than the vehicle is scored, with an
    ``overload`` violation at that bin, not refused."""
    problem["bins"][1]["demand_kg"] = 5000
    response = client.post(EVALUATIONS, json=_as(EVALUATIONS, problem))
    assert response.status_code == 200, response.text
    route = next(f for f in response.json()["features"] if f["properties"]["kind"] == "route")
    assert any(v["type"] == "overload" for v in route["properties"]["violations"])


# --------------------------------------------------------------------------- windows ending before they start

WINDOW_FAULTS: list[tuple[str, Callable[[Body], None], str, str, str]] = [
    ("bin-window", lambda p: p["bins"][0].update(time_windows=[["08:00", "09:00"], ["12:00", "11:59"]]),
     "bins[0].time_windows[1]", "b00001", "window_order"),
    ("break-window", lambda p: p["vehicles"][0].update({"break": {"duration_s": 600, "window": ["12:00", "10:00"]}}),
     "vehicles[0].break.window", "rcv-1", "window_order"),
    ("opening", lambda p: p.update(disposal_sites=[{"id": "tip", "lon": 7.4186, "lat": 43.7318,
                                                     "opening": ["17:00", "07:00"]}]),
     "disposal_sites[0].opening", "tip", "window_order"),
    ("shift", lambda p: p["vehicles"][1].update(shift=["14:00", "06:00"]), "vehicles[1].shift", "rcv-2",
     "shift_order"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("case", "put", "field", "item_id", "kind"), WINDOW_FAULTS,
                         ids=[c[0] for c in WINDOW_FAULTS])
def test_window_ending_before_it_starts_answers_422(app_client: TestClient, problem: Body, endpoint: str,
                                                    case: str, put: Callable[[Body], None], field: str,
                                                    item_id: str, kind: str) -> None:
    """Every window (bin, break, opening hours, shift) that ends before it starts is refused there."""
    body = _as(endpoint, problem)
    put(body)
    assert _fault(app_client.post(endpoint, json=body)) == (field, item_id, kind)


# --------------------------------------------------------------------------- huge body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_huge_body_answers_413(app_client: TestClient, problem: Body, endpoint: str, settings: Settings) -> None:
    """A body over the service's default limit (150 000 bins, about 10 MB) is refused with
    413 at ``body`` before it is parsed."""
    body = _as(endpoint, problem)
    body["bins"] = [dict(problem["bins"][0], id=f"b{i:06d}") for i in range(150_000)]
    data = json.dumps(body).encode()
    assert len(data) > settings.max_body_bytes
    response = app_client.post(endpoint, content=data, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    [item] = response.json()["detail"]
    assert (item["field"], item["type"]) == ("body", "body_too_large")


# --------------------------------------------------------------------------- bodies that are no JSON at all


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("raw", "why"), [
    (b"\xd0\x8f\x95j\x9a5I", "not UTF-8 text"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"depots": [{"id": "depot", "lon": 7.4149', "Expecting"),
])
def test_body_that_is_no_json_answers_422_json_invalid(app_client: TestClient, endpoint: str, raw: bytes,
                                                       why: str) -> None:
    """Bytes that are no UTF-8, JSON nested beyond what the parser takes, or cut-off JSON
    answer 422 ``json_invalid`` at ``body`` (not a 400 or a 500)."""
    response = app_client.post(endpoint, content=raw, headers={"content-type": "application/json"})
    assert _fault(response)[::2] == ("body", "json_invalid")
    assert why in response.json()["detail"][0]["msg"]
