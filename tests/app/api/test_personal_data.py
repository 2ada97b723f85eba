"""Assisted-collection details through the API: a plan's problem as a viewer reads it (the flag, not the
reason), as a planner reads it (everything), and the round book and in-cab export that crews read, which
say "assisted" and never the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.principal import Principal, get_principal

from .test_auth import TODAYS_ROUNDS

REASON = "resident uses a wheelchair, carer Mrs Example on 07700 900123"
"""Health and contact detail typed into a bin's notes."""


@pytest.fixture(scope="module")
def assisted_plan(client: TestClient, make_problem: Any) -> str:
    """A person's plan of the eight test bins, the first an assisted collection with a reason in its notes."""
    problem = make_problem()
    problem["bins"] = [dict(b) for b in problem["bins"]]
    problem["bins"][0]["attributes"] = {"assisted": True, "notes": REASON, "assisted_reason": "wheelchair",
                                        "address": "12 Boulevard Albert 1er", "uprn": "100099990001"}
    answer = client.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS})
    assert answer.status_code == 201, answer.text
    plan_id: str = answer.json()["id"]
    return plan_id


@pytest.fixture
def as_viewer(client: TestClient) -> Iterator[None]:
    """Requests of the block act as a viewer of the default tenant (FastAPI's dependency override of who
    the request is; the rest of the app runs as it is)."""
    app: Any = client.app
    tenant = app.state.settings.default_tenant
    viewer = Principal(tenant=tenant, user_id="u-crew", name="Crew Tablet", roles=frozenset({"viewer"}), via="api_key")
    app.dependency_overrides[get_principal] = lambda: viewer
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_principal, None)


def test_a_planner_reads_the_reason(client: TestClient, assisted_plan: str) -> None:
    """With every role (keys off: the open principal), the plan's problem carries the notes as posted."""
    bins = client.get(f"/api/v1/plans/{assisted_plan}/problem").json()["bins"]
    assert bins[0]["attributes"]["notes"] == REASON


def test_a_viewer_reads_the_flag_without_the_reason(client: TestClient, assisted_plan: str, as_viewer: None) -> None:
    """A viewer's copy of the problem: assisted true, address and UPRN kept, no notes, reason or number."""
    answer = client.get(f"/api/v1/plans/{assisted_plan}/problem")
    assert answer.status_code == 200, answer.text
    first = answer.json()["bins"][0]
    assert first["attributes"] == {"assisted": True, "address": "12 Boulevard Albert 1er", "uprn": "100099990001"}
    assert "wheelchair" not in answer.text and "07700" not in answer.text


@pytest.mark.parametrize("path", ["/api/v1/plans/{id}/book", "/api/v1/plans/{id}/export?format=incab",
                                  "/api/v1/plans/{id}/export?format=geojson", "/api/v1/plans/{id}"])
def test_what_crews_read_says_assisted_and_never_why(client: TestClient, assisted_plan: str, path: str) -> None:
    """The round book, in-cab CSV, GeoJSON and plan carry no note, reason or phone number (for anyone); the
    round book marks the assisted collection."""
    answer = client.get(path.format(id=assisted_plan))
    assert answer.status_code == 200, answer.text
    assert not any(text in answer.text for text in ("wheelchair", "07700", "Mrs Example"))
    if path.endswith("/book"):
        assert "Assisted" in answer.text
