"""A run that lost its job writes nothing more: its lease expired and another replica claimed the job again,
so the stale run stops its search at its next progress report and stores no plan, leaving the job to the
new run. A real OR-Tools search on Monaco in a thread, a real SQLite store."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from app import store
from app.core.config import Settings
from app.jobs.execute import SUPERSEDED, execute_job
from app.store import Store, job_queue
from app.store.models import utc_now
from solver.network import RoadNetwork


def test_stale_run_stops_and_stores_nothing_once_its_job_is_claimed_again(
        settings: Settings, tmp_path: Path, problem: dict[str, Any], monaco: RoadNetwork) -> None:
    """Replica A's run of a 20 s search loses its lease and replica B claims the job (attempt 2): A's run ends
    ``superseded`` within seconds, no plan is stored, and the job is B's, running, untouched."""
    own = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
                                      "job_progress_interval_s": 0.2})
    db = Store(own.database_url)
    db.migrate()
    problem["options"]["time_limit_s"] = 20
    with db.transaction() as session:
        job_id = store.create_job(session, "default", store.save_problem(session, "default", problem)).id
    with db.transaction() as session:
        claimed = job_queue.claim_job(session, owner="replica-a", lease_s=30, max_running_per_tenant=4)
        assert claimed is not None and claimed.id == job_id
    outcome: list[str] = []
    run = threading.Thread(target=lambda: outcome.append(execute_job(db, own, "default", job_id, monaco)))
    run.start()
    deadline = time.monotonic() + 30
    while True:
        with db.transaction() as session:
            job = store.get_job(session, "default", job_id)
            assert job is not None
            if job.progress > 0:
                job.lease_expires_at = utc_now() - timedelta(seconds=1)
                break
        assert time.monotonic() < deadline, "the search never reported progress"
        time.sleep(0.1)
    with db.transaction() as session:
        job_queue.release_expired_leases(session)
    with db.transaction() as session:
        again = job_queue.claim_job(session, owner="replica-b", lease_s=30, max_running_per_tenant=4)
        assert again is not None and again.id == job_id
    taken_over = time.monotonic()
    run.join(timeout=30)
    stopped_after = time.monotonic() - taken_over
    with db.transaction() as session:
        job = store.get_job(session, "default", job_id)
        plans = store.list_plans(session, "default")
        assert job is not None
        final = (job.status, job.attempts, job.lease_owner, job.plan_id)
    db.dispose()
    assert outcome == [SUPERSEDED]
    assert stopped_after < 5
    assert final == ("running", 2, "replica-b", None)
    assert plans == []
