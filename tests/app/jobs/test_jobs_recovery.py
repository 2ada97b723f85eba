"""Jobs survive a restart of the service: queued jobs run after it, a job left ``running`` by a
crash is retried once or failed with the reason, and a graceful stop hands running jobs back
to the queue. Real started apps on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.main import create_app
from app.store import Store

from ..conftest import JobWaiter


@pytest.fixture
def own_store(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose store is a fresh SQLite file of this test."""
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})


@pytest.fixture
def db(own_store: Settings) -> Iterator[Store]:
    """The migrated store of :func:`own_store`, as a crashed service would have left it."""
    migrated = Store(own_store.database_url)
    migrated.migrate()
    yield migrated
    migrated.dispose()


def job_left_by_a_crash(db: Store, body: dict[str, Any], *, attempts: int) -> str:
    """A job stored as ``running`` after ``attempts`` runs, as a killed service leaves it; its id."""
    with db.transaction() as session:
        job = store.create_job(session, "default", store.save_problem(session, "default", body), max_attempts=2)
    with db.transaction() as session:
        store.start_job(session, "default", job.id)
        reread = store.get_job(session, "default", job.id)
        assert reread is not None
        reread.attempts = attempts
    return job.id


@pytest.mark.slow
def test_restart_retries_a_job_found_running_once(own_store: Settings, db: Store, problem: dict[str, Any],
                                                  wait_for_job: JobWaiter) -> None:
    """A job found running after its first attempt is queued again and runs to success on the second."""
    job_id = job_left_by_a_crash(db, problem, attempts=1)
    with TestClient(create_app(own_store)) as client:
        job = wait_for_job(client, job_id)
    assert job["status"] == "succeeded" and job["attempts"] == 2 and job["plan_id"] is not None
    with db.transaction() as session:
        actions = [e.action for e in store.list_audit(session, "default", subject_id=job_id)]
    assert "job.retry" in actions


@pytest.mark.slow
def test_restart_fails_a_job_that_used_its_attempts(own_store: Settings, db: Store, problem: dict[str, Any],
                                                    wait_for_job: JobWaiter) -> None:
    """A job found running after its last attempt is failed with the reason, not run a third time."""
    job_id = job_left_by_a_crash(db, problem, attempts=2)
    with TestClient(create_app(own_store)) as client:
        job = wait_for_job(client, job_id)
    assert job["status"] == "failed" and job["attempts"] == 2
    assert "service stopped while the job was running" in job["error"]


@pytest.mark.slow
def test_restart_runs_the_queued_jobs(own_store: Settings, db: Store, problem: dict[str, Any],
                                      wait_for_job: JobWaiter) -> None:
    """Jobs queued before a restart run after it, in the order they came."""
    ids = []
    for seed in (1, 2):
        problem["options"]["seed"] = seed
        with db.transaction() as session:
            ids.append(store.create_job(session, "default", store.save_problem(session, "default", problem)).id)
    with TestClient(create_app(own_store)) as client:
        jobs = [wait_for_job(client, job_id) for job_id in ids]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
    assert jobs[0]["started_at"] <= jobs[1]["started_at"]


@pytest.mark.slow
def test_graceful_stop_hands_a_running_job_back_without_using_an_attempt(
        own_store: Settings, db: Store, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """Stopping the service mid-job leaves the job queued with no attempt spent; the next start runs it."""
    problem["options"]["time_limit_s"] = 30
    with TestClient(create_app(own_store)) as client:
        job_id = client.post("/api/v1/jobs", json=problem).json()["id"]
        wait_for_job(client, job_id, until=lambda j: j["status"] == "running")
    with db.transaction() as session:
        job = store.get_job(session, "default", job_id)
        assert job is not None and (job.status, job.attempts) == ("queued", 0)
    with TestClient(create_app(own_store)) as client:
        wait_for_job(client, job_id, until=lambda j: j["status"] == "running")
        client.delete(f"/api/v1/jobs/{job_id}")
        job_after = wait_for_job(client, job_id)
    assert job_after["status"] == "cancelled" and job_after["attempts"] == 1
