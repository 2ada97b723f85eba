"""Every size through the same door (app.api.job_door): an evaluation, a stored plan or a savings
report over the synchronous bin limit answers 202 with a job whose result is the synchronous answer,
on a real started app (real solver worker, real SQLite store, the Monaco network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter

MAX_SYNC_BINS = 8
"""The base problem has exactly 8 bins: one more goes through a job."""


@pytest.fixture(scope="module")
def small_door(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app taking 8 bins per synchronous request, with one solver worker and its own store."""
    data_dir = tmp_path_factory.mktemp("job-door")
    narrow = settings.model_copy(update={"max_sync_bins": MAX_SYNC_BINS, "max_concurrent_solves": 1,
                                         "database_url": f"sqlite:///{data_dir / 'store.sqlite3'}"})
    with TestClient(create_app(narrow)) as started:
        yield started


def _over_limit(problem: dict[str, Any]) -> dict[str, Any]:
    """``problem`` with one bin more than the limit and today's rounds over every bin."""
    extra = dict(problem["bins"][1], id="b-extra")
    problem["bins"] = [*problem["bins"], extra]
    ids = [b["id"] for b in problem["bins"]]
    problem["routes"] = [{"vehicle_id": "rcv-1", "stops": ids[:5]}, {"vehicle_id": "rcv-2", "stops": ids[5:]}]
    return problem


def _accepted(response: Any) -> str:
    """The job id of a 202 answer, after checking its shape and Location."""
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"id", "status"} and body["status"] == "queued"
    assert response.headers["location"] == f"/api/v1/jobs/{body['id']}"
    return str(body["id"])


@pytest.mark.slow
def test_evaluation_over_the_limit_is_a_job_with_the_same_answer(small_door: TestClient, client: TestClient,
                                                                  problem: dict[str, Any],
                                                                  wait_for_job: JobWaiter) -> None:
    """An evaluation of 9 bins (limit 8) answers 202; its job succeeds with the very answer the
    synchronous evaluation gives on a service whose limit is higher."""
    body = _over_limit(problem)
    job = wait_for_job(small_door, _accepted(small_door.post("/api/v1/evaluations", json=body)))
    assert (job["status"], job["kind"], job["plan_id"]) == ("succeeded", "evaluation", None), job
    direct = client.post("/api/v1/evaluations", json=body)
    assert direct.status_code == 200, direct.text
    answers = [job["result"], direct.json()]
    for answer in answers:  # the wall clock of each run is its own
        assert answer["summary"].pop("timings")["wall_s"] > 0
    assert answers[0] == answers[1]
    assert job["result"]["summary"]["bins_served"] == 9


@pytest.mark.slow
def test_plan_over_the_limit_is_stored_by_a_job_with_its_name(small_door: TestClient, problem: dict[str, Any],
                                                              wait_for_job: JobWaiter) -> None:
    """Storing today's rounds over the limit answers 202; the job stores the draft plan, named and in
    its round set, and its result is the plan's answer with ``plan_id``."""
    body = _over_limit(problem)
    response = small_door.post("/api/v1/plans", json=body,
                               params={"round_set": "depot/refuse/tuesday", "name": "Today's rounds, Tuesday"})
    job = wait_for_job(small_door, _accepted(response))
    assert (job["status"], job["kind"]) == ("succeeded", "plan"), job
    plan = small_door.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert (plan["name"], plan["round_set"], plan["source"], plan["status"]) == (
        "Today's rounds, Tuesday", "depot/refuse/tuesday", "manual", "draft")
    assert job["result"]["plan_id"] == plan["id"] and job["result"]["features"] == plan["features"]
    assert plan["parameters"]["routes"] == body["routes"]
    listed = small_door.get("/api/v1/plans", params={"round_set": "depot/refuse/tuesday"}).json()["plans"]
    assert [(p["id"], p["name"]) for p in listed] == [(plan["id"], "Today's rounds, Tuesday")]


def test_malformed_evaluation_over_the_limit_is_a_422_not_a_job(small_door: TestClient,
                                                                 problem: dict[str, Any]) -> None:
    """A body over the limit that names an unknown bin in a route is refused at once (422 naming the
    route stop and the id), no job queued."""
    body = _over_limit(problem)
    body["routes"][0]["stops"].append("b-nowhere")
    before = len(small_door.get("/api/v1/jobs").json()["jobs"])
    response = small_door.post("/api/v1/evaluations", json=body)
    assert response.status_code == 422, response.text
    assert any("b-nowhere" in str(item["id"]) + item["msg"] for item in response.json()["detail"])
    assert len(small_door.get("/api/v1/jobs").json()["jobs"]) == before


@pytest.mark.slow
def test_report_over_the_limit_is_a_job_in_every_format(small_door: TestClient, problem: dict[str, Any],
                                                        wait_for_job: JobWaiter) -> None:
    """A report of plans over the limit answers 202; the report job's result is the report JSON, whose
    figures are the two stored plans' summaries, and its HTML and CSV are at /jobs/{id}/report."""
    body = _over_limit(problem)
    baseline_job = wait_for_job(small_door, _accepted(small_door.post("/api/v1/plans", json=body)))
    swapped = {**body, "routes": [{"vehicle_id": "rcv-1", "stops": body["routes"][1]["stops"]},
                                  {"vehicle_id": "rcv-2", "stops": body["routes"][0]["stops"]}]}
    plan_job = wait_for_job(small_door, _accepted(small_door.post("/api/v1/plans", json=swapped)))
    plan_id, baseline_id = plan_job["plan_id"], baseline_job["plan_id"]
    job = wait_for_job(small_door, _accepted(small_door.get(f"/api/v1/plans/{plan_id}/report",
                                                            params={"baseline": baseline_id, "format": "json"})))
    assert (job["status"], job["kind"]) == ("succeeded", "report"), job
    report = job["result"]
    for name, stored in (("plan", plan_job), ("baseline", baseline_job)):
        summary = stored["result"]["summary"]
        assert report[name]["distance_m"] == pytest.approx(summary["distance_m"])
        assert report[name]["bins_served"] == summary["bins_served"] == 9
    assert small_door.get(f"/api/v1/jobs/{job['id']}/report", params={"format": "json"}).json() == report
    html = small_door.get(f"/api/v1/jobs/{job['id']}/report")
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    table = small_door.get(f"/api/v1/jobs/{job['id']}/report", params={"format": "csv"})
    assert table.text.startswith("scope,vehicle_id,figure") and plan_id in table.headers["content-disposition"]
    other = small_door.get(f"/api/v1/jobs/{plan_job['id']}/report")
    assert other.status_code == 409 and "not a report job" in other.json()["detail"]


def test_report_of_an_unknown_baseline_is_404_before_any_job(small_door: TestClient) -> None:
    """A report naming a plan that does not exist answers 404 naming it, whatever the sizes."""
    response = small_door.get("/api/v1/plans/nope/report", params={"baseline": "nada"})
    assert response.status_code == 404 and "nope" in response.json()["detail"]
