"""``/api/v1/plans`` on a real started app: plans stored from jobs and from people, listed,
fetched as GeoJSON, approved by the person signed in (audit-logged) and compared."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.main import create_app
from app.store import Store

from ..conftest import JobWaiter

TODAYS_ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
                 {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]
"""A person's plan of the eight test bins: four per vehicle, in id order."""


def todays_plan(client: TestClient, problem: dict[str, Any]) -> dict[str, Any]:
    """Store :data:`TODAYS_ROUNDS` as a person's plan; the 201 answer."""
    answer = client.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def optimised_plan(client: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> dict[str, Any]:
    """Optimise ``problem`` as a job; the stored plan."""
    job_id = client.post("/api/v1/jobs", json=problem).json()["id"]
    job = wait_for_job(client, job_id)
    assert job["status"] == "succeeded", job
    plan: dict[str, Any] = client.get(f"/api/v1/plans/{job['plan_id']}").json()
    return plan


def test_persons_plan_is_stored_as_an_evaluated_draft(client: TestClient, problem: dict[str, Any]) -> None:
    """``POST /api/v1/plans`` answers 201 with the evaluated plan, its id, status draft and source manual."""
    plan = todays_plan(client, problem)
    assert plan["type"] == "FeatureCollection" and plan["summary"]["bins_served"] == 8
    assert plan["status"] == "draft" and plan["source"] == "manual" and plan["approved_by"] is None
    assert plan["parameters"]["routes"] == TODAYS_ROUNDS
    routes = [f for f in plan["features"] if f["properties"]["kind"] == "route"]
    assert [r["properties"]["vehicle_id"] for r in routes] == ["rcv-1", "rcv-2"]


def test_plan_is_fetched_as_geojson_with_its_status(client: TestClient, problem: dict[str, Any]) -> None:
    """``GET /api/v1/plans/{id}`` gives the stored answer plus id, status, approved_by and approved_at."""
    stored = todays_plan(client, problem)
    fetched = client.get(f"/api/v1/plans/{stored['id']}").json()
    assert fetched == stored
    assert {"id", "status", "approved_by", "approved_at", "features", "summary", "unassigned"} <= set(fetched)


def test_plans_are_listed_with_their_figures(client: TestClient, problem: dict[str, Any]) -> None:
    """``GET /api/v1/plans`` lists stored plans, newest first, with their summaries."""
    first, second = todays_plan(client, problem), todays_plan(client, problem)
    listed = client.get("/api/v1/plans").json()["plans"]
    ids = [p["id"] for p in listed]
    assert ids.index(second["id"]) < ids.index(first["id"])
    assert listed[ids.index(first["id"])]["summary"] == first["summary"]


def test_plans_of_one_problem_are_numbered_versions(client: TestClient, problem: dict[str, Any]) -> None:
    """Two plans of the same problem are consecutive versions of it."""
    first, second = todays_plan(client, problem), todays_plan(client, problem)
    assert first["problem_id"] == second["problem_id"]
    assert second["version"] == first["version"] + 1


def test_a_plan_can_be_stored_as_a_version_of_a_round_set(client: TestClient, problem: dict[str, Any]) -> None:
    """Posted with ``round_set``, a person's plan is listed under that round set, versions counting
    within it, which is how today's rounds enter the nightly batch."""
    body = {**problem, "routes": [{"vehicle_id": problem["vehicles"][0]["id"], "stops": [problem["bins"][0]["id"]]}]}
    first = client.post("/api/v1/plans?round_set=depot/refuse/monday", json=body)
    second = client.post("/api/v1/plans?round_set=depot/refuse/monday", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json()["round_set"] == "depot/refuse/monday"
    assert second.json()["version"] == first.json()["version"] + 1
    listed = client.get("/api/v1/plans", params={"round_set": "depot/refuse/monday"}).json()["plans"]
    assert {p["id"] for p in listed} == {first.json()["id"], second.json()["id"]}


def test_approval_records_who_and_when_and_is_audited(client: TestClient, settings: Settings,
                                                       problem: dict[str, Any]) -> None:
    """Approving names the person signed in and the time (without keys: "anonymous", the only caller there is;
    people and keys: tests/app/api/test_roles.py); the audit log keeps them with the plan's figures and hash."""
    plan = todays_plan(client, problem)
    answer = client.post(f"/api/v1/plans/{plan['id']}/approve")
    assert answer.status_code == 200
    approved = answer.json()
    assert approved["status"] == "approved" and approved["approved_by"] == "anonymous"
    assert approved["approved_at"] is not None and len(approved["approved_hash"]) == 64
    db = Store(settings.database_url)
    with db.transaction() as session:
        [entry] = store.list_audit(session, "default", subject_id=plan["id"], actions=["plan.approve"])
    db.dispose()
    assert entry.actor == "anonymous" and entry.details["kpis"] == plan["summary"]
    assert entry.details["plan_hash"] == approved["approved_hash"]


def test_approving_twice_is_a_conflict(client: TestClient, problem: dict[str, Any]) -> None:
    """A plan approved already answers 409 naming who approved it."""
    plan = todays_plan(client, problem)
    client.post(f"/api/v1/plans/{plan['id']}/approve")
    answer = client.post(f"/api/v1/plans/{plan['id']}/approve", json={})
    assert answer.status_code == 409 and "'anonymous'" in answer.json()["detail"]


@pytest.mark.parametrize("body", [{"by": "Ann Planner"}, {"by": "  "}])
def test_approval_refuses_a_typed_name(client: TestClient, problem: dict[str, Any], body: dict[str, Any]) -> None:
    """An approval naming someone (``by``) answers 422 naming the field ``by``: the approver is the person signed
    in, never a name typed in."""
    plan = todays_plan(client, problem)
    answer = client.post(f"/api/v1/plans/{plan['id']}/approve", json=body)
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "by"


def test_compare_lists_moved_bins_and_kpi_deltas(client: TestClient, problem: dict[str, Any],
                                                 wait_for_job: JobWaiter) -> None:
    """Comparing an optimised plan with today's rounds names each moved bin and each figure's change."""
    today, optimised = todays_plan(client, problem), optimised_plan(client, problem, wait_for_job)
    answer = client.get(f"/api/v1/plans/{optimised['id']}/compare", params={"other": today["id"]})
    assert answer.status_code == 200
    comparison = answer.json()
    vehicle_of = {f["properties"]["bin_id"]: f["properties"]["vehicle_id"] for f in optimised["features"]
                  if f["properties"].get("type") == "bin"}
    today_of = {b: r["vehicle_id"] for r in TODAYS_ROUNDS for b in r["stops"]}
    expected = sorted(b for b in today_of if vehicle_of[b] != today_of[b])
    assert [m["bin_id"] for m in comparison["moved"]] == expected
    assert comparison["bins_moved"] == len(expected) and comparison["bins_compared"] == 8
    assert comparison["share_unchanged"] == pytest.approx((8 - len(expected)) / 8)
    assert comparison["delta"]["cost"] == pytest.approx(optimised["summary"]["cost"] - today["summary"]["cost"])


def test_a_plan_compared_with_itself_changes_nothing(client: TestClient, problem: dict[str, Any]) -> None:
    """A plan compared with itself moves no bin and has every delta zero."""
    plan = todays_plan(client, problem)
    comparison = client.get(f"/api/v1/plans/{plan['id']}/compare", params={"other": plan["id"]}).json()
    assert comparison["moved"] == [] and comparison["share_unchanged"] == 1.0
    assert set(comparison["delta"].values()) == {0.0}


def test_compare_reports_bins_added_and_removed(client: TestClient, problem: dict[str, Any]) -> None:
    """Bins only in one plan's problem are listed as added or removed, not as moved."""
    before = todays_plan(client, problem)
    problem["bins"] = [b for b in problem["bins"] if b["id"] != "b00008"]
    problem["bins"].append({"id": "b00009", "lon": 7.41745, "lat": 43.73619, "demand_kg": 5})
    rounds = [TODAYS_ROUNDS[0], {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00009"]}]
    after = client.post("/api/v1/plans", json={**problem, "routes": rounds}).json()
    comparison = client.get(f"/api/v1/plans/{after['id']}/compare", params={"other": before["id"]}).json()
    assert comparison["bins_added"] == ["b00009"] and comparison["bins_removed"] == ["b00008"]
    assert comparison["moved"] == []


@pytest.mark.parametrize("path", ["/api/v1/plans/no-such-plan", "/api/v1/plans/no-such-plan/compare?other=x"])
def test_unknown_plan_answers_404(client: TestClient, path: str) -> None:
    """An unknown plan id answers 404 naming it."""
    answer = client.get(path)
    assert answer.status_code == 404 and "no-such-plan" in answer.json()["detail"]


def test_another_tenants_plan_answers_404(client: TestClient, settings: Settings, problem: dict[str, Any]) -> None:
    """Another tenant cannot fetch, approve, compare or list a plan: 404 and an empty list."""
    plan = todays_plan(client, problem)
    other = TestClient(create_app(settings.model_copy(update={"default_tenant": "another-council"})))
    assert other.get(f"/api/v1/plans/{plan['id']}").status_code == 404
    assert other.post(f"/api/v1/plans/{plan['id']}/approve").status_code == 404
    assert other.get(f"/api/v1/plans/{plan['id']}/compare", params={"other": plan["id"]}).status_code == 404
    assert plan["id"] not in [p["id"] for p in other.get("/api/v1/plans").json()["plans"]]
    assert client.get(f"/api/v1/plans/{plan['id']}").json()["status"] == "draft"


def test_a_list_offset_past_what_the_database_counts_is_refused(client: TestClient) -> None:
    """An offset too large for the database's integers (schemathesis found one) is a 422 naming it, not a 500."""
    response = client.get("/api/v1/plans", params={"offset": 40963882263166836736})
    assert response.status_code == 422
    assert "offset" in response.text
    assert client.get("/api/v1/plans", params={"offset": 2**31 - 1}).status_code == 200
