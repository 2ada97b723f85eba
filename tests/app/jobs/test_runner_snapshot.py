"""What a replica's job runner tells health checks and metrics (``JobRunner.snapshot``), and what it writes
on the jobs it claims (its replica id as the lease owner, a live lease, the priority set at submit). A real
started app with one solver worker on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.jobs.runner import JobRunner
from app.main import create_app
from app.store import Store
from app.store.models import utc_now

from ..conftest import JobWaiter


@pytest.mark.slow
def test_snapshot_counts_jobs_by_tenant_and_state_and_names_the_replica(
        settings: Settings, tmp_path: Path, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """With one worker busy on a job and a second job waiting: the snapshot names the replica, says it claims,
    lists the running job as its own, counts one running and one queued, and dates the oldest queued job;
    the running job carries the replica id and a lease ending in the future, both the priority 0 of a
    synchronous-sized problem."""
    own = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
                                      "max_concurrent_solves": 1, "replica_id": "replica-test"})
    problem["options"]["time_limit_s"] = 30
    with TestClient(create_app(own)) as client:
        runner: JobRunner = client.app.state.job_runner  # type: ignore[attr-defined]
        running = client.post("/api/v1/jobs", json=problem).json()["id"]
        wait_for_job(client, running, until=lambda j: j["status"] == "running")
        problem["options"]["seed"] = 1
        waiting = client.post("/api/v1/jobs", json=problem).json()["id"]
        snapshot = runner.snapshot()
        db: Store = client.app.state.store  # type: ignore[attr-defined]
        with db.transaction() as session:
            jobs = [store.get_job(session, "default", i) for i in (running, waiting)]
            for job_id in (waiting, running):
                store.request_cancel(session, "default", job_id)
    first, second = jobs
    assert first is not None and second is not None
    assert (snapshot.replica_id, snapshot.claiming, snapshot.running_here) == ("replica-test", True, (running,))
    assert snapshot.counts == {("default", "running"): 1, ("default", "queued"): 1}
    assert set(snapshot.oldest_queued) == {"default"} and snapshot.oldest_queued["default"] <= utc_now()
    assert first.lease_owner == "replica-test" and first.lease_expires_at is not None
    assert first.lease_expires_at > utc_now()
    assert (first.priority, second.priority, second.lease_owner) == (0, 0, None)
