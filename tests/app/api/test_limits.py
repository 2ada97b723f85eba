"""Limits (app.api.limits): a body over the byte limit and a synchronous request over the bin
limit answer 413 in the error shape of the contract, naming the field, the limit and
what to do instead; a time limit over the cap answers 422 at options.time_limit_s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

OPTIMISATIONS = "/api/v1/optimisations"
EVALUATIONS = "/api/v1/evaluations"
MAX_BODY_BYTES = 4000
MAX_SYNC_BINS = 8
"""The base problem has exactly 8 bins and is about 1 kB as JSON."""


@pytest.fixture(scope="module")
def limited_settings(settings: Settings) -> Settings:
    """The test settings with a 4000-byte body limit, 8 bins per synchronous request, 1 worker."""
    return settings.model_copy(update={"max_body_bytes": MAX_BODY_BYTES, "max_sync_bins": MAX_SYNC_BINS,
                                       "max_concurrent_solves": 1})


@pytest.fixture(scope="module")
def limited(limited_settings: Settings) -> Iterator[TestClient]:
    """A started app (Monaco loaded, one solver worker) with the small limits."""
    with TestClient(create_app(limited_settings)) as started:
        yield started


def _one_fault(response: Any, status: int) -> dict[str, Any]:
    """The single item of an error answer in the contract's shape, with ``status``."""
    assert response.status_code == status, response.text
    [item] = response.json()["detail"]
    assert set(item) == {"loc", "field", "id", "msg", "type"}
    assert item["field"] in item["msg"]
    return dict(item)


def _padded(problem: dict[str, Any], size: int) -> bytes:
    """``problem`` as JSON padded with spaces to ``size`` bytes (still the same problem)."""
    text = json.dumps(problem).encode()
    return text + b" " * (size - len(text))


def _with_bins(problem: dict[str, Any], n: int) -> dict[str, Any]:
    """``problem`` with ``n`` bins: its own, then copies of the first under new ids."""
    extra = [dict(problem["bins"][0], id=f"extra-{i}") for i in range(n - len(problem["bins"]))]
    problem["bins"] = problem["bins"][:n] + extra
    return problem


# --------------------------------------------------------------------------- body size


def test_declared_body_over_limit_answers_413_naming_body(limited: TestClient, problem: dict[str, Any]) -> None:
    """A body whose Content-Length passes the limit is refused with 413 at field ``body``,
    its size and the limit in the message."""
    body = _padded(problem, MAX_BODY_BYTES + 1)
    fault = _one_fault(limited.post(OPTIMISATIONS, content=body, headers={"content-type": "application/json"}),
                       413)
    assert (fault["loc"], fault["field"], fault["id"], fault["type"]) == (["body"], "body", None, "body_too_large")
    assert str(MAX_BODY_BYTES) in fault["msg"] and str(MAX_BODY_BYTES + 1) in fault["msg"]


def test_chunked_body_over_limit_answers_413(limited: TestClient, problem: dict[str, Any]) -> None:
    """A body sent in chunks without a Content-Length is refused once the bytes received
    pass the limit."""
    body = _padded(problem, MAX_BODY_BYTES * 3)
    chunks = iter([body[i:i + 1000] for i in range(0, len(body), 1000)])
    response = limited.post(OPTIMISATIONS, content=chunks, headers={"content-type": "application/json"})
    assert _one_fault(response, 413)["type"] == "body_too_large"


@pytest.mark.slow
def test_body_at_the_limit_is_solved(limited: TestClient, problem: dict[str, Any]) -> None:
    """A body of exactly the limit passes and is solved."""
    response = limited.post(OPTIMISATIONS, content=_padded(problem, MAX_BODY_BYTES),
                            headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_body_limit_guards_evaluations_too(limited: TestClient, problem: dict[str, Any]) -> None:
    """The body limit holds for every route that takes a body, evaluations included."""
    problem["routes"] = []
    body = _padded(problem, MAX_BODY_BYTES + 10)
    response = limited.post(EVALUATIONS, content=body, headers={"content-type": "application/json"})
    assert _one_fault(response, 413)["type"] == "body_too_large"


def test_service_answers_after_refusing_a_body(limited: TestClient, problem: dict[str, Any]) -> None:
    """After a refused body the service still answers: the health check says ok."""
    limited.post(OPTIMISATIONS, content=_padded(problem, MAX_BODY_BYTES * 2),
                 headers={"content-type": "application/json"})
    assert limited.get("/api/v1/health").json()["status"] == "ok"


# --------------------------------------------------------------------------- bins per synchronous request


def test_too_many_bins_answers_413_pointing_to_jobs(limited: TestClient, problem: dict[str, Any]) -> None:
    """An optimisation with more bins than the synchronous limit answers 413 at ``bins``,
    naming the count, the limit and POST /api/v1/jobs."""
    fault = _one_fault(limited.post(OPTIMISATIONS, json=_with_bins(problem, MAX_SYNC_BINS + 1)), 413)
    assert (fault["loc"], fault["field"], fault["type"]) == (["body", "bins"], "bins", "too_many_bins")
    assert f"{MAX_SYNC_BINS + 1} bins" in fault["msg"] and str(MAX_SYNC_BINS) in fault["msg"]
    assert "/api/v1/jobs" in fault["msg"]


@pytest.mark.slow
def test_bins_at_the_limit_are_solved(limited: TestClient, problem: dict[str, Any]) -> None:
    """Exactly the limit of bins is solved synchronously, every bin served."""
    response = limited.post(OPTIMISATIONS, json=_with_bins(problem, MAX_SYNC_BINS))
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["bins_served"] == MAX_SYNC_BINS


def test_bin_limit_is_checked_after_validation(limited: TestClient, problem: dict[str, Any]) -> None:
    """A too-large problem that is also malformed gets the 422 of its faults first."""
    body = _with_bins(problem, MAX_SYNC_BINS + 1)
    body["bins"][2]["demand_kg"] = -1
    assert limited.post(OPTIMISATIONS, json=body).status_code == 422


# --------------------------------------------------------------------------- time limit cap


def test_time_limit_over_cap_answers_422_naming_field_and_cap(limited: TestClient, problem: dict[str, Any],
                                                              limited_settings: Settings) -> None:
    """A time limit over ``max_time_limit_s`` answers 422 at ``options.time_limit_s``,
    naming the cap and the value asked for."""
    problem["options"]["time_limit_s"] = limited_settings.max_time_limit_s + 1
    fault = _one_fault(limited.post(OPTIMISATIONS, json=problem), 422)
    assert fault["field"] == "options.time_limit_s"
    assert f"{limited_settings.max_time_limit_s:g}" in fault["msg"]
    assert f"{limited_settings.max_time_limit_s + 1:g}" in fault["msg"]


# --------------------------------------------------------------------------- documentation


@pytest.mark.parametrize("path", [OPTIMISATIONS, EVALUATIONS])
def test_openapi_documents_the_413(app_client: TestClient, path: str) -> None:
    """The OpenAPI document lists the 413 answer of both synchronous endpoints, with the error shape."""
    responses = app_client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
    assert responses["413"]["content"]["application/json"]["schema"]["$ref"].endswith("ValidationErrorResponse")


def test_settings_read_limits_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``WASTEROUTE_MAX_BODY_BYTES`` and ``WASTEROUTE_MAX_SYNC_BINS`` set the limits."""
    monkeypatch.setenv("WASTEROUTE_MAX_BODY_BYTES", "12345")
    monkeypatch.setenv("WASTEROUTE_MAX_SYNC_BINS", "77")
    settings = Settings()
    assert (settings.max_body_bytes, settings.max_sync_bins) == (12345, 77)
