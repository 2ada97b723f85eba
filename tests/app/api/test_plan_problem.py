"""A stored plan's own problem (``GET /api/v1/plans/{id}/problem``) and optimised plans stored in a round
set (``POST /api/v1/jobs?round_set=``), on a real started app: what the map reopens a plan with."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter

ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
          {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]


def test_a_persons_plan_gives_back_its_own_problem_without_the_routes(client: TestClient,
                                                                      problem: dict[str, Any]) -> None:
    """The problem a person's plan was stored with comes back as posted (bins with their attributes,
    depots, vehicles), the routes left in the plan; another problem posted since does not change it."""
    problem["bins"][0]["attributes"] = {"address": "1 Quai Antoine", "FREQUENCY": "Weekly"}
    stored = client.post("/api/v1/plans", json={**problem, "routes": ROUNDS}).json()
    client.post("/api/v1/plans", json={**problem, "bins": problem["bins"][:8], "routes": ROUNDS})
    answer = client.get(f"/api/v1/plans/{stored['id']}/problem")
    assert answer.status_code == 200, answer.text
    own = answer.json()
    assert "routes" not in own
    assert [b["id"] for b in own["bins"]] == [b["id"] for b in problem["bins"]]
    assert own["bins"][0]["attributes"] == {"address": "1 Quai Antoine", "FREQUENCY": "Weekly"}
    assert own["depots"] == problem["depots"] and [v["id"] for v in own["vehicles"]] == ["rcv-1", "rcv-2"]


def test_an_optimised_plan_is_stored_in_the_round_set_its_job_names(client: TestClient, problem: dict[str, Any],
                                                                    wait_for_job: JobWaiter) -> None:
    """``round_set`` on ``POST /api/v1/jobs`` makes the stored plan a version of that round set (listed
    under it), and its problem is the one optimised; without it the plan has none."""
    named = "tests/refuse/tuesday/weekly-plan-problem"
    job = wait_for_job(client, client.post("/api/v1/jobs", json=problem, params={"round_set": named}).json()["id"])
    assert job["status"] == "succeeded", job
    plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert plan["round_set"] == named and plan["version"] == 1
    assert [p["id"] for p in client.get("/api/v1/plans", params={"round_set": named}).json()["plans"]] == [plan["id"]]
    own = client.get(f"/api/v1/plans/{plan['id']}/problem").json()
    assert [b["id"] for b in own["bins"]] == [b["id"] for b in problem["bins"]]
    plain = wait_for_job(client, client.post("/api/v1/jobs", json=problem).json()["id"])
    assert client.get(f"/api/v1/plans/{plain['plan_id']}").json()["round_set"] is None


def test_a_round_set_name_too_long_is_refused_naming_the_field(client: TestClient, problem: dict[str, Any]) -> None:
    """A round set over 200 characters is a 422 naming ``round_set``, and no job is queued."""
    answer = client.post("/api/v1/jobs", json=problem, params={"round_set": "x" * 201})
    assert answer.status_code == 422 and "round_set" in answer.text


def test_the_problem_of_an_unknown_or_another_tenants_plan_answers_404(client: TestClient, settings: Settings,
                                                                       problem: dict[str, Any]) -> None:
    """No plan of that id for this tenant: 404 naming the id, never another council's bins."""
    missing = client.get("/api/v1/plans/no-such-plan/problem")
    assert missing.status_code == 404 and "no-such-plan" in missing.json()["detail"]
    stored = client.post("/api/v1/plans", json={**problem, "routes": ROUNDS}).json()
    other = TestClient(create_app(settings.model_copy(update={"default_tenant": "another-council"})))
    assert other.get(f"/api/v1/plans/{stored['id']}/problem").status_code == 404
