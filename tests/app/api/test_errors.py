"""Errors become HTTP answers in one place: 422 naming field and id, 503, generic 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.faults import field_path, find_item_id, parse_field_path, problem_error_items, validation_error_items
from app.main import create_app
from solver.problem import ProblemError


def test_field_path_writes_indices_in_brackets() -> None:
    """``("body", "bins", 3, "demand_kg")`` reads ``bins[3].demand_kg``."""
    assert field_path(("body", "bins", 3, "demand_kg")) == "bins[3].demand_kg"


def test_field_path_of_the_whole_body_is_body() -> None:
    """An error about the body as a whole names ``body``."""
    assert field_path(("body",)) == "body"


def test_parse_field_path_inverts_field_path() -> None:
    """The solver's field names turn back into locations."""
    assert parse_field_path("vehicles[12].shift") == ("vehicles", 12, "shift")


def test_find_item_id_takes_the_innermost_list_item() -> None:
    """The id comes from the list item the field belongs to."""
    body = {"bins": [{"id": "a"}, {"id": "b", "demand_kg": -1}]}
    assert find_item_id(body, ("body", "bins", 1, "demand_kg")) == "b"


def test_find_item_id_is_none_outside_items() -> None:
    """Fields of no list item (options, the lists themselves) have no id."""
    assert find_item_id({"options": {"seed": -1}}, ("body", "options", "seed")) is None


def test_find_item_id_of_a_route_is_its_vehicle() -> None:
    """A route has no ``id``; it is known by its ``vehicle_id``."""
    body = {"routes": [{"vehicle_id": "rcv-1", "stops": []}, {"vehicle_id": "rcv-2", "stops": 3}]}
    assert find_item_id(body, ("body", "routes", 1, "stops")) == "rcv-2"


def test_find_item_id_of_a_stop_is_the_stop_id() -> None:
    """A stop of a route is known by the stop id itself."""
    body = {"routes": [{"vehicle_id": "rcv-1", "stops": ["b1", "b2"]}]}
    assert find_item_id(body, ("body", "routes", 0, "stops", 1)) == "b2"


def test_find_item_id_of_a_stream_is_its_vehicle() -> None:
    """Strings in lists other than stops (a vehicle's streams) are not ids: the vehicle's id is."""
    body = {"vehicles": [{"id": "rcv-1", "streams": ["refuse", " "]}]}
    assert find_item_id(body, ("body", "vehicles", 0, "streams", 1)) == "rcv-1"


def test_find_item_id_survives_a_path_the_body_lacks() -> None:
    """A location that does not exist in the body gives no id rather than an error."""
    assert find_item_id([1, 2], ("body", "bins", 7, "id")) is None


def test_validation_items_carry_field_id_and_a_message_naming_both() -> None:
    """A pydantic error is shaped with ``field``, ``id`` and a message that names both."""
    errors = [{"type": "greater_than_equal", "loc": ("body", "bins", 0, "demand_kg"),
               "msg": "Input should be greater than or equal to 0", "input": -1}]
    [item] = validation_error_items(errors, {"bins": [{"id": "b7", "demand_kg": -1}]})
    assert item["loc"] == ["body", "bins", 0, "demand_kg"]
    assert (item["field"], item["id"], item["type"]) == ("bins[0].demand_kg", "b7", "greater_than_equal")
    assert "bins[0].demand_kg" in item["msg"] and "'b7'" in item["msg"]


def test_validation_items_never_echo_the_input() -> None:
    """The offending value is not sent back (it may be NaN, which JSON cannot carry)."""
    errors = [{"type": "finite_number", "loc": ("body", "bins", 0, "lat"), "msg": "x", "input": float("nan")}]
    [item] = validation_error_items(errors, {"bins": [{"id": "b1"}]})
    assert "input" not in item


def test_problem_error_is_shaped_like_a_validation_error() -> None:
    """A ``ProblemError`` gives the same item shape, its field turned into a location."""
    exc = ProblemError("bins[2].demand_kg of 'b3' must not be negative, got -1",
                       field="bins[2].demand_kg", item_id="b3")
    assert problem_error_items(exc) == [{
        "loc": ["body", "bins", 2, "demand_kg"], "field": "bins[2].demand_kg", "id": "b3",
        "msg": "bins[2].demand_kg of 'b3' must not be negative, got -1", "type": "problem",
    }]


def test_problem_error_message_gains_field_and_id_when_missing() -> None:
    """A terse ``ProblemError`` message is prefixed with the field and the id."""
    [item] = problem_error_items(ProblemError("too far from any street", field="depots[0]", item_id="d1"))
    assert item["msg"] == "depots[0] of 'd1': too far from any street"


def _app_with_route(settings: Settings, exc: Exception) -> FastAPI:
    """The real application plus one route that raises ``exc``."""
    app = create_app(settings)

    @app.get("/raise")
    async def raise_it() -> dict[str, Any]:
        """Raise the exception under test."""
        raise exc

    return app


def test_problem_error_anywhere_answers_422(settings: Settings) -> None:
    """A ``ProblemError`` raised by any handler answers 422 with the field and the id."""
    app = _app_with_route(settings, ProblemError("depot 'd' is off the network", field="depots[0]", item_id="d"))
    response = TestClient(app).get("/raise")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "depots", 0]
    assert response.json()["detail"][0]["id"] == "d"


def test_unexpected_error_answers_generic_500_and_is_logged(settings: Settings,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected exception answers 500 without its text, and the traceback is logged."""
    app = _app_with_route(settings, RuntimeError("secret internals"))
    with caplog.at_level(logging.ERROR, logger="app.api.errors"):
        response = TestClient(app, raise_server_exceptions=False).get("/raise")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.json()["detail"].startswith("internal error")
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


def test_body_that_is_not_json_answers_422(app_client: TestClient) -> None:
    """Broken JSON is the client's fault: 422 naming the body, never 500."""
    response = app_client.post("/api/v1/optimisations", content=b'{"depots": [',
                               headers={"content-type": "application/json"})
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["field"], item["type"]) == ("body", "json_invalid")


def test_body_that_is_a_list_answers_422(app_client: TestClient) -> None:
    """A JSON array where an object belongs answers 422."""
    response = app_client.post("/api/v1/optimisations", json=[1, 2, 3])
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"


def test_solve_before_startup_answers_503(app_client: TestClient, problem: dict[str, Any]) -> None:
    """A valid request before the service has started its solver workers answers 503, not 500."""
    response = app_client.post("/api/v1/optimisations", json=problem)
    assert response.status_code == 503
    assert "starting" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"
