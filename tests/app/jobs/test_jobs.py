"""``/api/v1/jobs`` on a real started app: real solver workers, a real SQLite store, real solves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter


def running_with_progress(job: dict[str, Any]) -> bool:
    """The job is running and has reported progress with a cost."""
    return job["status"] == "running" and job["progress"] > 0 and job["best_cost"] is not None


@pytest.fixture(scope="module")
def one_worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app with one solver worker and room for one queued job, on its own store."""
    data_dir = tmp_path_factory.mktemp("one-worker")
    narrow = settings.model_copy(update={"max_concurrent_solves": 1, "job_queue_size": 1,
                                         "database_url": f"sqlite:///{data_dir / 'store.sqlite3'}"})
    with TestClient(create_app(narrow)) as started:
        yield started


def post_job(client: TestClient, body: dict[str, Any]) -> str:
    """Post a job and return its id (asserting the 202)."""
    answer = client.post("/api/v1/jobs", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_post_answers_202_with_id_status_and_location(client: TestClient, problem: dict[str, Any],
                                                      wait_for_job: JobWaiter) -> None:
    """A posted job answers 202 ``{"id", "status": "queued"}`` and a Location to poll."""
    answer = client.post("/api/v1/jobs", json=problem)
    assert answer.status_code == 202
    body = answer.json()
    assert set(body) == {"id", "status"} and body["status"] == "queued"
    assert answer.headers["location"] == f"/api/v1/jobs/{body['id']}"
    wait_for_job(client, body["id"])


def test_job_succeeds_with_the_answer_and_a_stored_draft_plan(client: TestClient, problem: dict[str, Any],
                                                              wait_for_job: JobWaiter) -> None:
    """A job runs to ``succeeded``; its result is the optimisation answer with the id of a stored draft."""
    job = wait_for_job(client, post_job(client, problem))
    assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["error"] is None
    result = job["result"]
    assert result["type"] == "FeatureCollection" and result["summary"]["bins_served"] == len(problem["bins"])
    assert result["plan_id"] == job["plan_id"]
    plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert plan["status"] == "draft" and plan["source"] == "optimised"
    assert plan["summary"] == result["summary"] and plan["features"] == result["features"]


@pytest.mark.slow
def test_a_job_stores_its_plan_in_the_round_set_and_under_the_name_asked(
        client: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """``round_set`` and ``name`` on the job go to the stored plan, as they do for a person's plan."""
    answer = client.post("/api/v1/jobs?round_set=depot%2Frefuse%2Ftue&name=Tuesday%20proposed", json=problem)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"])
    plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert (plan["round_set"], plan["name"], plan["version"]) == ("depot/refuse/tue", "Tuesday proposed", 1)


def test_running_job_reports_progress_and_best_cost(client: TestClient, problem: dict[str, Any],
                                                    wait_for_job: JobWaiter) -> None:
    """While it runs, a job shows the share of its time budget used and the best cost so far."""
    problem["options"]["time_limit_s"] = 3
    job_id = post_job(client, problem)
    seen = wait_for_job(client, job_id, until=lambda j: running_with_progress(j) or (j["status"] != "running"
                        and j["status"] != "queued"))
    assert seen["status"] == "running", seen
    assert 0 < seen["progress"] < 1 and seen["best_cost"] > 0
    assert seen["result"] is None
    assert wait_for_job(client, job_id)["status"] == "succeeded"


def test_running_job_cancelled_stops_and_stores_no_plan(client: TestClient, problem: dict[str, Any],
                                                        wait_for_job: JobWaiter) -> None:
    """``DELETE`` of a running job stops its search long before its time limit; no plan is stored."""
    problem["options"]["time_limit_s"] = 30
    job_id = post_job(client, problem)
    wait_for_job(client, job_id, until=running_with_progress)
    answer = client.delete(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200 and answer.json()["cancel_requested"]
    job = wait_for_job(client, job_id, timeout_s=10)
    assert job["status"] == "cancelled" and job["plan_id"] is None and job["result"] is None
    assert job["progress"] < 0.5


def test_cancelling_a_finished_job_is_a_conflict(client: TestClient, problem: dict[str, Any],
                                                 wait_for_job: JobWaiter) -> None:
    """A succeeded job cannot be cancelled: 409 naming the job."""
    job_id = post_job(client, problem)
    wait_for_job(client, job_id)
    answer = client.delete(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 409 and job_id in answer.json()["detail"]


def test_problem_fault_found_while_solving_fails_the_job_with_the_reason(
        client: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """A depot far from every street fails the job with a reason naming the field and the id."""
    problem["depots"][0].update(lon=7.43, lat=43.70)
    job = wait_for_job(client, post_job(client, problem))
    assert job["status"] == "failed" and job["plan_id"] is None
    assert "depots[0]" in job["error"] and "'depot'" in job["error"]


def test_malformed_job_answers_422_naming_field_and_id(client: TestClient, problem: dict[str, Any]) -> None:
    """A malformed body is refused at once with 422 naming the field and the id; no job is made."""
    problem["bins"][2]["demand_kg"] = -1
    answer = client.post("/api/v1/jobs", json=problem)
    assert answer.status_code == 422
    [item] = answer.json()["detail"]
    assert item["field"] == "bins[2].demand_kg" and item["id"] == "b00003"


def test_time_limit_above_the_maximum_answers_422(client: TestClient, problem: dict[str, Any],
                                                  settings: Settings) -> None:
    """A job asking for more search time than the service allows is refused with 422 at once."""
    problem["options"]["time_limit_s"] = settings.max_time_limit_s + 1
    answer = client.post("/api/v1/jobs", json=problem)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "options.time_limit_s"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_unknown_job_answers_404(client: TestClient, method: str) -> None:
    """An unknown job id answers 404 naming it."""
    answer = getattr(client, method)("/api/v1/jobs/no-such-job")
    assert answer.status_code == 404 and "no-such-job" in answer.json()["detail"]


def test_jobs_are_listed_newest_first(client: TestClient, problem: dict[str, Any],
                                      wait_for_job: JobWaiter) -> None:
    """``GET /api/v1/jobs`` lists the tenant's jobs, the newest first."""
    first = post_job(client, problem)
    problem["options"]["seed"] = 1
    second = post_job(client, problem)
    for job_id in (first, second):
        wait_for_job(client, job_id)
    ids = [job["id"] for job in client.get("/api/v1/jobs").json()["jobs"]]
    assert ids.index(second) < ids.index(first)


def busy_and_waiting(client: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> tuple[str, str]:
    """A 30 s job searching in the only worker and a second job waiting behind it: their ids."""
    problem["options"]["time_limit_s"] = 30
    busy = post_job(client, problem)
    wait_for_job(client, busy, until=running_with_progress)
    return busy, post_job(client, problem)


def test_queued_job_cancelled_never_runs(one_worker: TestClient, problem: dict[str, Any],
                                         wait_for_job: JobWaiter) -> None:
    """A job still waiting for the worker is cancelled at once and never starts."""
    busy, waiting = busy_and_waiting(one_worker, problem, wait_for_job)
    answer = one_worker.delete(f"/api/v1/jobs/{waiting}")
    one_worker.delete(f"/api/v1/jobs/{busy}")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    wait_for_job(one_worker, busy)
    job = one_worker.get(f"/api/v1/jobs/{waiting}").json()
    assert job["status"] == "cancelled" and job["attempts"] == 0 and job["started_at"] is None


def test_full_queue_answers_429_with_retry_after(one_worker: TestClient, problem: dict[str, Any],
                                                 wait_for_job: JobWaiter) -> None:
    """With the worker busy and the queue holding its one job, a further job gets 429 and Retry-After."""
    busy, waiting = busy_and_waiting(one_worker, problem, wait_for_job)
    refused = one_worker.post("/api/v1/jobs", json=problem)
    for job_id in (waiting, busy):
        one_worker.delete(f"/api/v1/jobs/{job_id}")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1 and "queue is full" in refused.json()["detail"]
    assert wait_for_job(one_worker, busy)["status"] == "cancelled"


def test_another_tenants_job_answers_404(client: TestClient, settings: Settings, problem: dict[str, Any],
                                         wait_for_job: JobWaiter) -> None:
    """A job of one tenant is not found (404) by an app acting for another tenant on the same store."""
    job_id = post_job(client, problem)
    wait_for_job(client, job_id)
    other = TestClient(create_app(settings.model_copy(update={"default_tenant": "another-council"})))
    assert other.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert other.delete(f"/api/v1/jobs/{job_id}").status_code == 404
    assert job_id not in [j["id"] for j in other.get("/api/v1/jobs").json()["jobs"]]


