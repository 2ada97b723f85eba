"""SQLite is for one server process: a second process on the same file stores jobs but claims none, and its
log says why; once the first has gone, a process started on the file runs them, and recovers at once the
jobs a dead process left running. A real second process
holds the file's queue lock; a real started app on the same file."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.jobs.runner import JobRunner
from app.main import create_app
from app.store import Store, job_queue

from ..conftest import JobWaiter

pytestmark = pytest.mark.spawns


def hold_queue_lock(database: Path) -> subprocess.Popen[str]:
    """A process holding the job queue lock of the SQLite file ``database`` until its stdin closes."""
    script = textwrap.dedent(f"""
        import sys
        from app.jobs.replica import claim_sqlite_queue, sqlite_queue_lock_path
        claim = claim_sqlite_queue(sqlite_queue_lock_path({f"sqlite:///{database}"!r}))
        print("held" if claim.granted else "refused", flush=True)
        sys.stdin.read()
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.slow
def test_second_process_on_a_sqlite_file_claims_nothing_and_says_so(
        settings: Settings, tmp_path: Path, problem: dict[str, Any], wait_for_job: JobWaiter,
        caplog: pytest.LogCaptureFixture) -> None:
    """While another process holds the file's queue, the app accepts a job but leaves it queued, logging that
    the other process (by pid) runs them and that replicas need PostgreSQL; after that process ends, an app
    started on the file runs the job."""
    database = tmp_path / "store.sqlite3"
    own = settings.model_copy(update={"database_url": f"sqlite:///{database}", "job_poll_interval_s": 0.2})
    holder = hold_queue_lock(database)
    try:
        with caplog.at_level(logging.ERROR, logger="app.jobs.runner"), TestClient(create_app(own)) as client:
            runner: JobRunner = client.app.state.job_runner  # type: ignore[attr-defined]
            job_id = client.post("/api/v1/jobs", json=problem).json()["id"]
            time.sleep(1.0)
            waiting = client.get(f"/api/v1/jobs/{job_id}").json()
            claiming = runner.claiming
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    with TestClient(create_app(own)) as client:
        done = wait_for_job(client, job_id)
    assert claiming is False and waiting["status"] == "queued"
    message = " ".join(r.getMessage() for r in caplog.records if r.name == "app.jobs.runner")
    assert f"another server process (pid {holder.pid}) runs the job queue of this SQLite file" in message
    assert "claims none" in message and "PostgreSQL" in message
    assert done["status"] == "succeeded" and done["attempts"] == 1


@pytest.mark.slow
def test_first_process_on_a_sqlite_file_recovers_jobs_left_running_at_once(
        settings: Settings, tmp_path: Path, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """A job left running under a lease of five more minutes by a process that died is queued again as soon as
    a process takes the file's queue (no other can be running it) and runs to success on its second
    attempt, long before the lease would have ended."""
    own = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})
    db = Store(own.database_url)
    db.migrate()
    with db.transaction() as session:
        store.create_job(session, "default", store.save_problem(session, "default", problem))
    with db.transaction() as session:
        job = job_queue.claim_job(session, owner="dead-replica", lease_s=300, max_running_per_tenant=4)
        assert job is not None
    started = time.monotonic()
    with TestClient(create_app(own)) as client:
        done = wait_for_job(client, job.id)
    took = time.monotonic() - started
    with db.transaction() as session:
        retried = [e.details["reason"] for e in store.list_audit(session, "default", subject_id=job.id)
                   if e.action == "job.retry"]
    db.dispose()
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    assert retried == ["the service stopped while the job was running (attempt 1 of 2); it was queued again"]
    assert took < 120
