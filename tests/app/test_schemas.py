"""Request models: defaults, per-field checks and checks between fields."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from app.schemas import OptimisationRequest, OptimisationResponse, reference_faults


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """pydantic's errors for ``body``, which must fail validation."""
    with pytest.raises(ValidationError) as caught:
        OptimisationRequest.model_validate(body)
    return [dict(e) for e in caught.value.errors()]


def _locs(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The locations of the errors for ``body``."""
    return [tuple(e["loc"]) for e in _errors(body)]


def test_minimal_request_gets_documented_defaults() -> None:
    """Only the required fields given: shift 06:00-14:00, 30 s service, default options."""
    request = OptimisationRequest.model_validate({
        "depots": [{"id": "d", "lon": 7.41, "lat": 43.73}],
        "vehicles": [{"id": "v", "depot": "d", "capacity_kg": 500}],
        "bins": [{"id": "b", "lon": 7.42, "lat": 43.735, "demand_kg": 10}],
    })
    vehicle, bin_ = request.vehicles[0], request.bins[0]
    assert vehicle.shift == ("06:00", "14:00")
    assert (vehicle.fixed_cost, vehicle.cost_per_km, vehicle.cost_per_hour) == (0.0, 1.0, 30.0)
    assert bin_.service_s == 30.0
    assert request.options.time_limit_s is None
    assert (request.options.seed, request.options.engine, request.options.objective) == (0, "ortools", "duration")


def test_negative_demand_is_rejected_at_its_field(problem: dict[str, Any]) -> None:
    """A negative ``demand_kg`` fails at ``bins[i].demand_kg``."""
    body = problem
    body["bins"][3]["demand_kg"] = -5
    assert _locs(body) == [("bins", 3, "demand_kg")]


def test_latitude_out_of_range_is_rejected(problem: dict[str, Any]) -> None:
    """A latitude beyond 90 degrees fails at ``bins[i].lat``."""
    body = problem
    body["bins"][0]["lat"] = 93.7
    assert _locs(body) == [("bins", 0, "lat")]


def test_longitude_out_of_range_is_rejected(problem: dict[str, Any]) -> None:
    """A longitude beyond -180 degrees fails at ``depots[i].lon``."""
    body = problem
    body["depots"][0]["lon"] = -181
    assert _locs(body) == [("depots", 0, "lon")]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected(problem: dict[str, Any], value: float) -> None:
    """NaN and infinities are refused with pydantic's ``finite_number`` error."""
    body = problem
    body["bins"][2]["service_s"] = value
    errors = _errors(body)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [(("bins", 2, "service_s"), "finite_number")]


def test_blank_id_is_rejected(problem: dict[str, Any]) -> None:
    """An id of spaces only is no id."""
    body = problem
    body["bins"][1]["id"] = "   "
    assert _locs(body) == [("bins", 1, "id")]


def test_empty_id_is_rejected(problem: dict[str, Any]) -> None:
    """An empty id is refused."""
    body = problem
    body["vehicles"][0]["id"] = ""
    assert _locs(body) == [("vehicles", 0, "id")]


def test_numeric_id_is_rejected(problem: dict[str, Any]) -> None:
    """Ids are strings; a number is not silently turned into one."""
    body = problem
    body["bins"][0]["id"] = 17
    assert _locs(body) == [("bins", 0, "id")]


def test_unknown_field_is_rejected_not_ignored(problem: dict[str, Any]) -> None:
    """A field this version does not support (a bin's time windows) is refused."""
    body = problem
    body["bins"][0]["time_windows"] = [["07:00", "10:00"]]
    errors = _errors(body)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [(("bins", 0, "time_windows"), "extra_forbidden")]


def test_shift_must_end_after_it_starts(problem: dict[str, Any]) -> None:
    """A shift from 14:00 to 06:00 fails at ``vehicles[i].shift``."""
    body = problem
    body["vehicles"][1]["shift"] = ["14:00", "06:00"]
    errors = _errors(body)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [(("vehicles", 1, "shift"), "shift_order")]


@pytest.mark.parametrize("clock", ["6:00", "24:00", "06:60", "0600", "06:00:00", ""])
def test_shift_times_must_be_hh_mm(problem: dict[str, Any], clock: str) -> None:
    """Clock times are "HH:MM" between 00:00 and 23:59."""
    body = problem
    body["vehicles"][0]["shift"] = [clock, "14:00"]
    errors = _errors(body)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [(("vehicles", 0, "shift", 0), "clock_format")]


def test_empty_fleet_is_rejected(problem: dict[str, Any]) -> None:
    """At least one vehicle is needed."""
    body = problem
    body["vehicles"] = []
    assert _locs(body) == [("vehicles",)]


def test_no_depot_is_rejected(problem: dict[str, Any]) -> None:
    """At least one depot is needed."""
    body = problem
    body["depots"] = []
    body["vehicles"] = [{"id": "v", "depot": "x", "capacity_kg": 1}]
    assert _locs(body) == [("depots",)]


def test_unknown_engine_is_rejected(problem: dict[str, Any]) -> None:
    """Only the engines the service has are accepted."""
    body = problem
    body["options"]["engine"] = "magic"
    assert _locs(body) == [("options", "engine")]


def test_non_positive_time_limit_is_rejected(problem: dict[str, Any]) -> None:
    """A search needs some time."""
    body = problem
    body["options"]["time_limit_s"] = 0
    assert _locs(body) == [("options", "time_limit_s")]


def test_id_shared_by_depot_and_bin_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """Depots and bins share one id namespace; the later repeat is reported with its place."""
    request = OptimisationRequest.model_validate(problem)
    bins = list(request.bins)
    bins[4] = bins[4].model_copy(update={"id": "depot"})
    faults = reference_faults(request.model_copy(update={"bins": bins}))
    assert [(f["loc"], f["id"], f["type"]) for f in faults] == [(("bins", 4, "id"), "depot", "duplicate_id")]


def test_duplicate_bin_ids_fail_validation(problem: dict[str, Any]) -> None:
    """Two bins with one id fail validation as one ``invalid_references`` error listing the fault."""
    body = problem
    body["bins"][5]["id"] = "b00002"
    errors = _errors(body)
    assert [e["type"] for e in errors] == ["invalid_references"]
    faults = errors[0]["ctx"]["faults"]
    assert [(f["loc"], f["id"]) for f in faults] == [(("bins", 5, "id"), "b00002")]


def test_duplicate_vehicle_ids_fail_validation(problem: dict[str, Any]) -> None:
    """Vehicle ids must be unique among vehicles."""
    body = problem
    body["vehicles"][1]["id"] = "rcv-1"
    faults = _errors(body)[0]["ctx"]["faults"]
    assert [(f["loc"], f["id"], f["type"]) for f in faults] == [(("vehicles", 1, "id"), "rcv-1", "duplicate_id")]


def test_vehicle_naming_unknown_depot_fails_validation(problem: dict[str, Any]) -> None:
    """A vehicle's depot must be one of the depots."""
    body = problem
    body["vehicles"][0]["depot"] = "nowhere"
    faults = _errors(body)[0]["ctx"]["faults"]
    assert [(f["loc"], f["id"], f["type"]) for f in faults] == [(("vehicles", 0, "depot"), "rcv-1", "unknown_depot")]


def test_every_reference_fault_is_reported_at_once(problem: dict[str, Any]) -> None:
    """A planner fixes all faults between fields in one go: each is listed."""
    body = problem
    body["bins"][1]["id"] = "b00001"
    body["vehicles"][1]["depot"] = "elsewhere"
    faults = _errors(body)[0]["ctx"]["faults"]
    assert {f["loc"] for f in faults} == {("bins", 1, "id"), ("vehicles", 1, "depot")}


def test_response_schema_is_a_feature_collection() -> None:
    """The response's JSON schema says FeatureCollection with ``summary`` and ``unassigned``."""
    schema = OptimisationResponse.model_json_schema(mode="serialization")
    assert schema["properties"]["type"]["const"] == "FeatureCollection"
    assert {"features", "summary", "unassigned"} <= set(schema["properties"])
