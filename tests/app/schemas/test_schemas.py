"""Request models: defaults, per-field checks and checks between fields."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from app.schemas import EvaluationRequest, OptimisationRequest, OptimisationResponse, reference_faults
from app.services.optimisation import to_problem, to_solve_options
from solver.problem import ALWAYS_OPEN


def _errors(body: dict[str, Any], model: type[OptimisationRequest] = OptimisationRequest) -> list[dict[str, Any]]:
    """pydantic's errors for ``body``, which must fail validation."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [dict(e) for e in caught.value.errors()]


def _faults(body: dict[str, Any], model: type[OptimisationRequest] = OptimisationRequest) -> list[tuple[Any, ...]]:
    """(loc, id, type) of each fault between fields of ``body``, which must fail validation on them alone."""
    [error] = _errors(body, model)
    assert error["type"] == "invalid_references"
    return [(f["loc"], f["id"], f["type"]) for f in error["ctx"]["faults"]]


def _types(body: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(loc, type) of each per-field error of ``body``."""
    return [(tuple(e["loc"]), e["type"]) for e in _errors(body)]


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
    """A field the service does not know (a bin's colour) is refused, never silently ignored."""
    body = problem
    body["bins"][0]["colour"] = "green"
    assert _types(body) == [(("bins", 0, "colour"), "extra_forbidden")]


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


def test_every_engine_and_objective_of_the_contract_is_accepted(problem: dict[str, Any]) -> None:
    """Engines ortools, pyvrp and auto; objectives duration, distance and cost."""
    for engine, objective in (("ortools", "duration"), ("pyvrp", "distance"), ("auto", "cost")):
        problem["options"].update({"engine": engine, "objective": objective})
        options = OptimisationRequest.model_validate(problem).options
        assert (options.engine, options.objective) == (engine, objective)


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


# --------------------------------------------------------------------------- the waste fields


def _full_body(problem: dict[str, Any]) -> dict[str, Any]:
    """``problem`` with every field of API.md's optimisation body set to something other than its default."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "unload_s": 600,
                                  "opening": ["06:30", "17:00"], "streams": ["refuse"]}]
    problem["vehicles"][0].update({
        "capacity_l": 20000, "shift": ["06:00", "15:00"], "streams": ["refuse", "recycling"],
        "break": {"duration_s": 1800, "window": ["11:00", "13:00"]}, "fixed_cost": 50, "cost_per_km": 1.5,
        "cost_per_hour": 32, "max_lifts": 900, "max_collected_kg": 12000, "tip_before_return": False,
        "gross_weight_kg": 26000, "width_m": 2.55, "height_m": 3.6, "length_m": 10.2, "hgv": True})
    problem["bins"][0].update({
        "volume_l": 240, "service_s": 40, "stream": "recycling",
        "time_windows": [["07:00", "10:00"], ["13:00", "14:00"]], "required": False, "penalty": 25,
        "vehicle": "rcv-1", "max_vehicle_weight_kg": 32000, "max_vehicle_width_m": 2.6})
    problem["options"].update({"engine": "auto", "objective": "cost", "move_penalty": 5,
                               "initial_routes": [{"vehicle_id": "rcv-1", "stops": ["b00001", "tip-0"], "locked": 1}]})
    return problem


def test_every_field_of_the_contract_reaches_the_solver_problem(problem: dict[str, Any]) -> None:
    """A body using every field becomes a Problem with those values, in the solver's units."""
    request = OptimisationRequest.model_validate(_full_body(problem))
    solved = to_problem(request)
    [site] = solved.disposal_sites
    assert (site.id, site.unload_s, site.opening, site.streams) == ("tip-0", 600.0, (23400, 61200), ("refuse",))
    v = solved.vehicle("rcv-1")
    assert (v.capacity_l, v.shift_start_s, v.shift_end_s, v.streams) == (20000.0, 21600, 54000,
                                                                         ("refuse", "recycling"))
    assert [(b.duration_s, b.window) for b in v.breaks] == [(1800.0, (39600, 46800))]
    assert (v.fixed_cost, v.cost_per_km, v.cost_per_hour, v.max_lifts, v.max_collected_kg) == (50, 1.5, 32, 900, 12000)
    assert (v.tip_before_return, v.gross_weight_kg, v.width_m, v.height_m, v.length_m, v.hgv) == (
        False, 26000, 2.55, 3.6, 10.2, True)
    b = solved.bin("b00001")
    assert (b.volume_l, b.service_s, b.stream, b.time_windows) == (240, 40, "recycling",
                                                                  ((25200, 36000), (46800, 50400)))
    assert (b.required, b.penalty, b.vehicle_id, b.max_vehicle_weight_kg, b.max_vehicle_width_m) == (
        False, 25, "rcv-1", 32000, 2.6)


def test_options_reach_the_solver_with_initial_routes_and_move_penalty(problem: dict[str, Any]) -> None:
    """Engine, objective, warm start (with its lock) and move penalty become SolveOptions."""
    request = OptimisationRequest.model_validate(_full_body(problem))
    options = to_solve_options(request.options, default_time_limit_s=1, max_time_limit_s=30)
    assert (options.engine, options.objective, options.move_penalty) == ("auto", "cost", 5)
    [route] = options.initial_routes
    assert (route.vehicle_id, route.stops, route.locked) == ("rcv-1", ("b00001", "tip-0"), 1)


def test_road_rules_reach_the_solver(problem: dict[str, Any]) -> None:
    """``options.drives_on`` and ``options.busy_highways`` become SolveOptions; absent, traffic keeps
    left and the busy roads are motorways, trunk and primary roads with their links."""
    request = OptimisationRequest.model_validate(problem)
    options = to_solve_options(request.options, default_time_limit_s=1, max_time_limit_s=30)
    assert options.drives_on == "left"
    assert set(options.busy_highways) == {"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                                          "primary_link"}
    problem["options"].update({"drives_on": "right", "busy_highways": ["primary", "secondary"]})
    request = OptimisationRequest.model_validate(problem)
    options = to_solve_options(request.options, default_time_limit_s=1, max_time_limit_s=30)
    assert (options.drives_on, options.busy_highways) == ("right", ("primary", "secondary"))


def test_bad_road_rules_are_rejected_at_their_fields(problem: dict[str, Any]) -> None:
    """A side of the road other than left or right, a lone string or a blank highway value is
    refused at its field."""
    problem["options"]["drives_on"] = "middle"
    assert _types(problem) == [(("options", "drives_on"), "literal_error")]
    problem["options"].update({"drives_on": "left", "busy_highways": "primary"})
    assert _types(problem) == [(("options", "busy_highways"), "list_type")]
    problem["options"]["busy_highways"] = ["primary", " "]
    assert _locs(problem) == [("options", "busy_highways", 1)]


def test_waste_fields_default_as_documented(problem: dict[str, Any]) -> None:
    """Absent fields: no tips, always-open sites, one refuse stream, no windows, required bins."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318}]
    solved = to_problem(OptimisationRequest.model_validate(problem))
    site, v, b = solved.disposal_sites[0], solved.vehicles[0], solved.bins[0]
    assert (site.unload_s, site.opening, site.streams) == (900.0, ALWAYS_OPEN, None)
    assert (v.streams, v.breaks, v.capacity_l, v.max_lifts, v.tip_before_return) == (("refuse",), (), None, None, True)
    assert (b.stream, b.time_windows, b.required, b.volume_l, b.vehicle_id) == ("refuse", (), True, 0.0, None)


def test_time_window_ending_before_it_starts_is_rejected(problem: dict[str, Any]) -> None:
    """A bin window 10:00 to 07:00 fails at ``bins[i].time_windows[k]``."""
    problem["bins"][2]["time_windows"] = [["06:00", "07:00"], ["10:00", "07:00"]]
    assert _types(problem) == [(("bins", 2, "time_windows", 1), "window_order")]


def test_time_window_clock_must_be_hh_mm(problem: dict[str, Any]) -> None:
    """A window of "7:00" is not a clock time."""
    problem["bins"][2]["time_windows"] = [["7:00", "10:00"]]
    assert _types(problem) == [(("bins", 2, "time_windows", 0, 0), "clock_format")]


def test_break_window_ending_before_it_starts_is_rejected(problem: dict[str, Any]) -> None:
    """A break window 13:00 to 11:00 fails at ``vehicles[i].break.window``."""
    problem["vehicles"][1]["break"] = {"duration_s": 1800, "window": ["13:00", "11:00"]}
    assert _types(problem) == [(("vehicles", 1, "break", "window"), "window_order")]


def test_negative_break_duration_is_rejected(problem: dict[str, Any]) -> None:
    """A break of -10 s fails at ``vehicles[i].break.duration_s``."""
    problem["vehicles"][0]["break"] = {"duration_s": -10, "window": ["11:00", "13:00"]}
    assert _types(problem) == [(("vehicles", 0, "break", "duration_s"), "greater_than_equal")]


def test_site_opening_ending_before_it_opens_is_rejected(problem: dict[str, Any]) -> None:
    """Opening 18:00 to 06:00 fails at ``disposal_sites[i].opening``."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "opening": ["18:00", "06:00"]}]
    assert _types(problem) == [(("disposal_sites", 0, "opening"), "window_order")]


def test_negative_unload_time_is_rejected(problem: dict[str, Any]) -> None:
    """``unload_s`` of -1 fails at its field."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "unload_s": -1}]
    assert _types(problem) == [(("disposal_sites", 0, "unload_s"), "greater_than_equal")]


def test_site_accepting_no_stream_is_rejected(problem: dict[str, Any]) -> None:
    """``streams: []`` on a site would accept nothing: refused (leave it out to accept every stream)."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "streams": []}]
    assert _types(problem) == [(("disposal_sites", 0, "streams"), "too_short")]


def test_vehicle_without_streams_is_rejected(problem: dict[str, Any]) -> None:
    """A stream-less vehicle (``streams: []``) could collect nothing: refused at ``vehicles[i].streams``."""
    problem["vehicles"][0]["streams"] = []
    assert _types(problem) == [(("vehicles", 0, "streams"), "too_short")]


@pytest.mark.parametrize("field", ["capacity_l", "max_collected_kg", "gross_weight_kg", "width_m", "height_m",
                                   "length_m", "fixed_cost", "cost_per_km", "cost_per_hour", "max_lifts"])
def test_negative_vehicle_amounts_are_rejected(problem: dict[str, Any], field: str) -> None:
    """Every amount of a vehicle is 0 or more."""
    problem["vehicles"][1][field] = -1
    assert _types(problem) == [(("vehicles", 1, field), "greater_than_equal")]


@pytest.mark.parametrize("field", ["volume_l", "penalty", "max_vehicle_weight_kg", "max_vehicle_width_m"])
def test_negative_bin_amounts_are_rejected(problem: dict[str, Any], field: str) -> None:
    """Every amount of a bin is 0 or more."""
    problem["bins"][4][field] = -1
    assert _types(problem) == [(("bins", 4, field), "greater_than_equal")]


@pytest.mark.parametrize(("group", "field"), [("vehicles", "tip_before_return"), ("vehicles", "hgv"),
                                              ("bins", "required")])
def test_yes_no_fields_must_be_booleans(problem: dict[str, Any], group: str, field: str) -> None:
    """``tip_before_return``, ``hgv`` and ``required`` take true or false, nothing else."""
    problem[group][1][field] = "maybe"
    assert _types(problem) == [((group, 1, field), "bool_parsing")]


def test_break_is_spelt_break(problem: dict[str, Any]) -> None:
    """The vehicle's break comes as ``break``; the Python name ``break_`` is no field of the body."""
    problem["vehicles"][0]["break_"] = {"duration_s": 1800, "window": ["11:00", "13:00"]}
    assert _types(problem) == [(("vehicles", 0, "break_"), "extra_forbidden")]


def test_negative_lock_is_rejected(problem: dict[str, Any]) -> None:
    """``locked`` counts stops: 0 or more."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001"], "locked": -1}]
    assert _types(problem) == [(("options", "initial_routes", 0, "locked"), "greater_than_equal")]


def test_blank_stream_is_rejected(problem: dict[str, Any]) -> None:
    """A stream named by spaces only is no stream."""
    problem["bins"][1]["stream"] = "  "
    assert _types(problem) == [(("bins", 1, "stream"), "blank_id")]


def test_negative_move_penalty_is_rejected(problem: dict[str, Any]) -> None:
    """``options.move_penalty`` is 0 or more."""
    problem["options"]["move_penalty"] = -3
    assert _types(problem) == [(("options", "move_penalty"), "greater_than_equal")]


def test_unknown_objective_is_rejected(problem: dict[str, Any]) -> None:
    """Only duration, distance and cost can be minimised."""
    problem["options"]["objective"] = "happiness"
    assert _types(problem) == [(("options", "objective"), "literal_error")]


def test_bin_pinned_to_unknown_vehicle_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """``vehicle: "rcv-9"`` names no vehicle: fault at ``bins[i].vehicle`` with the bin's id."""
    problem["bins"][3]["vehicle"] = "rcv-9"
    assert _faults(problem) == [(("bins", 3, "vehicle"), "b00004", "unknown_vehicle")]


def test_optional_bin_without_penalty_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """``required: false`` needs a penalty: fault at ``bins[i].penalty``."""
    problem["bins"][5]["required"] = False
    assert _faults(problem) == [(("bins", 5, "penalty"), "b00006", "missing_penalty")]


def test_site_sharing_an_id_with_a_bin_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """Depots, sites and bins share one id namespace."""
    problem["disposal_sites"] = [{"id": "b00003", "lon": 7.4186, "lat": 43.7318}]
    assert _faults(problem) == [(("bins", 2, "id"), "b00003", "duplicate_id")]


def test_id_break_is_reserved(problem: dict[str, Any]) -> None:
    """A bin called "break" would be confused with the crew's break in stop lists."""
    problem["bins"][0]["id"] = "break"
    assert _faults(problem) == [(("bins", 0, "id"), "break", "reserved_id")]


def test_initial_route_of_unknown_vehicle_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """A warm start naming vehicle "rcv-7" fails at ``options.initial_routes[i].vehicle_id``."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-7", "stops": ["b00001"]}]
    assert _faults(problem) == [(("options", "initial_routes", 0, "vehicle_id"), "rcv-7", "unknown_vehicle")]


def test_initial_route_with_unknown_stop_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """A warm start naming stop "b99999" fails at its place in the stop list, with that id."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b99999"]}]
    assert _faults(problem) == [(("options", "initial_routes", 0, "stops", 1), "b99999", "unknown_stop")]


def test_initial_routes_sharing_a_bin_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """A bin can be in one initial route only."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001"]},
                                            {"vehicle_id": "rcv-2", "stops": ["b00001"]}]
    assert _faults(problem) == [(("options", "initial_routes", 1, "stops", 0), "b00001", "duplicate_stop")]


def test_locking_more_stops_than_a_route_has_is_a_reference_fault(problem: dict[str, Any]) -> None:
    """``locked: 3`` on a route of two stops fails at ``locked``."""
    problem["options"]["initial_routes"] = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002"], "locked": 3}]
    assert _faults(problem) == [(("options", "initial_routes", 0, "locked"), "rcv-1", "locked_too_long")]


# --------------------------------------------------------------------------- evaluation bodies


def _evaluation(problem: dict[str, Any], *routes: tuple[str, list[str]]) -> dict[str, Any]:
    problem["routes"] = [{"vehicle_id": v, "stops": stops} for v, stops in routes]
    return problem


def test_evaluation_body_is_an_optimisation_body_plus_routes(problem: dict[str, Any]) -> None:
    """Routes with bin ids, site ids and "break" are accepted as given."""
    problem["disposal_sites"] = [{"id": "tip-0", "lon": 7.4186, "lat": 43.7318}]
    problem["vehicles"][0]["break"] = {"duration_s": 1800, "window": ["11:00", "13:00"]}
    body = _evaluation(problem, ("rcv-1", ["b00001", "tip-0", "break", "b00002"]), ("rcv-2", []))
    request = EvaluationRequest.model_validate(body)
    assert [(r.vehicle_id, r.stops) for r in request.routes] == [("rcv-1", ["b00001", "tip-0", "break", "b00002"]),
                                                                ("rcv-2", [])]


def test_evaluation_needs_routes(problem: dict[str, Any]) -> None:
    """An evaluation without ``routes`` is refused at ``routes``."""
    assert [(tuple(e["loc"]), e["type"]) for e in _errors(problem, EvaluationRequest)] == [(("routes",), "missing")]


def test_evaluation_route_of_unknown_vehicle_is_a_fault(problem: dict[str, Any]) -> None:
    """A route of vehicle "rcv-9" fails at ``routes[i].vehicle_id``."""
    body = _evaluation(problem, ("rcv-9", ["b00001"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 0, "vehicle_id"), "rcv-9", "unknown_vehicle")]


def test_evaluation_with_two_routes_for_one_vehicle_is_a_fault(problem: dict[str, Any]) -> None:
    """One route per vehicle."""
    body = _evaluation(problem, ("rcv-1", ["b00001"]), ("rcv-1", ["b00002"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 1, "vehicle_id"), "rcv-1", "duplicate_route")]


def test_evaluation_stop_of_unknown_id_is_a_fault_naming_it(problem: dict[str, Any]) -> None:
    """Stop "b77777" fails at ``routes[i].stops[j]`` with that id."""
    body = _evaluation(problem, ("rcv-1", ["b00001"]), ("rcv-2", ["b00002", "b77777"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 1, "stops", 1), "b77777", "unknown_stop")]


def test_evaluation_stop_naming_the_depot_is_a_fault(problem: dict[str, Any]) -> None:
    """Depot start and end are implied; naming the depot is a fault."""
    body = _evaluation(problem, ("rcv-1", ["depot", "b00001"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 0, "stops", 0), "depot", "depot_stop")]


def test_evaluation_break_on_a_vehicle_without_one_is_a_fault(problem: dict[str, Any]) -> None:
    """"break" on a vehicle with no break is a fault at its place."""
    body = _evaluation(problem, ("rcv-1", ["b00001", "break"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 0, "stops", 1), "break", "no_break")]


def test_evaluation_second_break_is_a_fault(problem: dict[str, Any]) -> None:
    """A vehicle has one break: a second "break" is a fault."""
    problem["vehicles"][0]["break"] = {"duration_s": 1800, "window": ["11:00", "13:00"]}
    body = _evaluation(problem, ("rcv-1", ["break", "b00001", "break"]))
    assert _faults(body, EvaluationRequest) == [(("routes", 0, "stops", 2), "break", "extra_break")]


def test_a_request_without_a_time_limit_gets_time_in_proportion_to_its_bins(problem: dict[str, Any]) -> None:
    """Without ``options.time_limit_s`` the search gets the larger of the service's default and a
    share of time per bin, up to the service's maximum; a limit the request gives is kept."""
    problem["options"].pop("time_limit_s", None)
    request = OptimisationRequest.model_validate(problem)
    given = {"default_time_limit_s": 5, "max_time_limit_s": 300, "time_per_bin_s": 0.05}
    assert to_solve_options(request.options, n_bins=40, **given).time_limit_s == 5
    assert to_solve_options(request.options, n_bins=2603, **given).time_limit_s == pytest.approx(130.15)
    assert to_solve_options(request.options, n_bins=40_000, **given).time_limit_s == 300
    problem["options"]["time_limit_s"] = 2
    request = OptimisationRequest.model_validate(problem)
    assert to_solve_options(request.options, n_bins=2603, **given).time_limit_s == 2
