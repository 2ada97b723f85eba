"""Property-based tests (hypothesis) of the request schemas and their error answers:
arbitrary JSON, and valid bodies with one part replaced by arbitrary JSON, never give
a server error; every refusal names its field; whatever the schemas accept translates
into the solver's types or a ProblemError, nothing else."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.core.config import Settings, default_network_file
from app.core.faults import validation_error_items
from app.main import create_app
from app.schemas import EvaluationRequest, OptimisationRequest
from app.services import evaluation as evaluation_service
from app.services import optimisation as optimisation_service
from solver.problem import ProblemError

VALID_BODY: dict[str, Any] = {
    "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
    "disposal_sites": [{"id": "tip", "lon": 7.4186, "lat": 43.7318, "opening": ["06:00", "18:00"]}],
    "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100, "capacity_l": 2000,
                  "shift": ["06:00", "14:00"], "break": {"duration_s": 600, "window": ["10:00", "11:00"]}},
                 {"id": "rcv-2", "depot": "depot", "capacity_kg": 80, "streams": ["refuse", "glass"]}],
    "bins": [{"id": "b1", "lon": 7.41745, "lat": 43.73619, "demand_kg": 16, "time_windows": [["07:00", "09:00"]]},
             {"id": "b2", "lon": 7.41595, "lat": 43.73639, "demand_kg": 12, "required": False, "penalty": 50},
             {"id": "b3", "lon": 7.41670, "lat": 43.73362, "demand_kg": 20, "stream": "glass", "vehicle": "rcv-2"}],
    "options": {"time_limit_s": 1, "seed": 0,
                "initial_routes": [{"vehicle_id": "rcv-1", "stops": ["b1", "tip"], "locked": 1}]},
}
"""A valid body touching most fields, for mutation."""

VALID_ROUTES = [{"vehicle_id": "rcv-1", "stops": ["b1", "tip", "break"]}, {"vehicle_id": "rcv-2", "stops": ["b3"]}]

SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["", " ", "break", "depot", "b1", "rcv-1", "06:00", "25:00", "tip"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=15)
"""Any JSON value, NaN and infinity included (written as Python's json writes them)."""


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``node`` (dict keys and list indices)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated_bodies(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one value replaced by arbitrary JSON, one key deleted, or one key added."""
    body = copy.deepcopy(base)
    path = draw(st.sampled_from([p for p in _paths(body) if p]))
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    else:
        parent[path[-1]] = draw(json_values)
    return body


@pytest.fixture(scope="module")
def service_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an app that never starts (validation needs no network); API keys off, so
    that generated bodies reach validation."""
    data_dir: Path = tmp_path_factory.mktemp("property-var")
    return Settings(network_file=default_network_file(), data_dir=data_dir, default_time_limit_s=1,
                    max_time_limit_s=30, auth_required=False)


@pytest.fixture(scope="module")
def unstarted(service_settings: Settings) -> TestClient:
    """A client of a real app that has not started: a valid body answers 503, never 500."""
    return TestClient(create_app(service_settings), raise_server_exceptions=False)


def _post(client: TestClient, path: str, body: Any) -> Any:
    """POST ``body`` as JSON text the way Python writes it (NaN and Infinity as bare tokens)."""
    return client.post(path, content=json.dumps(body, allow_nan=True).encode(),
                       headers={"content-type": "application/json"})


def _check_answer(response: Any) -> None:
    """Refused (422 with every item naming its field) or valid (503: not started), never 5xx else."""
    assert response.status_code in (422, 503), response.text
    if response.status_code == 422:
        for item in response.json()["detail"]:
            assert isinstance(item["field"], str) and item["field"] in item["msg"]
            assert item["id"] is None or isinstance(item["id"], str)


def test_valid_body_is_valid() -> None:
    """The base of the mutations is itself valid for both request models."""
    OptimisationRequest.model_validate(VALID_BODY)
    EvaluationRequest.model_validate({**VALID_BODY, "routes": VALID_ROUTES})


@SETTINGS
@given(body=json_values)
def test_arbitrary_json_never_gives_a_server_error(unstarted: TestClient, body: Any) -> None:
    """Any JSON value posted as an optimisation is refused with 422, every fault naming its field."""
    _check_answer(_post(unstarted, "/api/v1/optimisations", body))


@SETTINGS
@given(body=mutated_bodies(VALID_BODY))
def test_mutated_optimisation_never_gives_a_server_error(unstarted: TestClient, body: dict[str, Any]) -> None:
    """A valid optimisation with one part replaced, deleted or added answers 422 or is accepted."""
    _check_answer(_post(unstarted, "/api/v1/optimisations", body))


@SETTINGS
@given(body=mutated_bodies({**VALID_BODY, "routes": VALID_ROUTES}))
def test_mutated_evaluation_never_gives_a_server_error(unstarted: TestClient, body: dict[str, Any]) -> None:
    """A valid evaluation with one part replaced, deleted or added answers 422 or is accepted."""
    _check_answer(_post(unstarted, "/api/v1/evaluations", body))


@SETTINGS
@given(body=mutated_bodies({**VALID_BODY, "routes": VALID_ROUTES}))
def test_accepted_body_translates_or_raises_problem_error(service_settings: Settings, body: dict[str, Any]) -> None:
    """Whatever the schema accepts becomes the solver's problem, options and routes, or a
    ProblemError naming a field; whatever it refuses is shaped into error items."""
    raw = json.loads(json.dumps(body, allow_nan=True))
    for model, service in ((OptimisationRequest, optimisation_service), (EvaluationRequest, evaluation_service)):
        try:
            request = model.model_validate(raw)
        except ValidationError as exc:
            items = validation_error_items(exc.errors(), raw, loc_prefix=("body",))
            assert items and all(item["field"] in item["msg"] for item in items)
            continue
        try:
            service.prepare(request, settings=service_settings)
        except ProblemError as exc:
            assert exc.field
