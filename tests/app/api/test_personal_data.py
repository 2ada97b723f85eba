"""Assisted-collection details through the API: a plan's problem as a viewer reads it (the flag, not the
reason), as a planner reads it (everything), and the round book and in-cab export that crews read, which
say "assisted" and never the reason; and no address, UPRN or reason in any log."""

from __future__ import annotations

import logging
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


GAZETTEER_ADDRESSES = ("17 Quai Sentinelle-Albert", "4 Impasse Sentinelle-Grimaldi")
GAZETTEER_UPRNS = ("999000111222", "999000111333")
"""Addresses and UPRNs no log record may carry (made up, so that a hit can only come from this test)."""


def gazetteer_csv(*, broken: bool = False) -> bytes:
    """Two households as an LLPG extract: UPRN, address, position, size, assisted and notes (a second row
    with a demand that is no number when ``broken``)."""
    second = "not-a-number" if broken else "240"
    return (f"UPRN,ADDRESS,lon,lat,bin_size,assisted,notes\n"
            f"{GAZETTEER_UPRNS[0]},{GAZETTEER_ADDRESSES[0]},7.41745,43.73619,240,yes,\"{REASON}\"\n"
            f"{GAZETTEER_UPRNS[1]},{GAZETTEER_ADDRESSES[1]},7.41595,43.73639,{second},no,\n").encode()


def test_no_address_uprn_or_reason_reaches_the_logs(client: TestClient, make_problem: Any,
                                                    wait_for_job: Any, caplog: pytest.LogCaptureFixture) -> None:
    """With every logger at DEBUG and SQL statements logged (as an operator chasing a fault might set it): an
    upload of the gazetteer, a refused upload, an optimisation, a stored plan and a job of those households
    leave no address, UPRN or assisted reason in any log record."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    uploaded = client.post("/api/v1/uploads/bins", files={"file": ("llpg.csv", gazetteer_csv(), "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    refused = client.post("/api/v1/uploads/bins", files={"file": ("llpg.csv", gazetteer_csv(broken=True), "text/csv")})
    assert refused.status_code == 422
    problem = make_problem()
    problem["bins"] = [*uploaded.json()["bins"], *problem["bins"][2:]]
    assert client.post("/api/v1/optimisations", json=problem).status_code == 200
    stored = client.post("/api/v1/plans", json={**problem, "routes": [
        {"vehicle_id": "rcv-1", "stops": [b["id"] for b in problem["bins"][:4]]},
        {"vehicle_id": "rcv-2", "stops": [b["id"] for b in problem["bins"][4:]]}]})
    assert stored.status_code == 201, stored.text
    job = wait_for_job(client, client.post("/api/v1/jobs", json=problem).json()["id"])
    assert job["status"] == "succeeded", job
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records), "SQL was not logged: no test"
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    leaks = [text for text in (*GAZETTEER_ADDRESSES, *GAZETTEER_UPRNS, "wheelchair") if text in logged]
    assert not leaks, f"personal data in the logs: {leaks}"
