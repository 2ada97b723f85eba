"""The per-tenant bound on queued jobs (``max_queued_jobs_per_tenant``): a tenant at its limit gets 429
with ``Retry-After`` and a message naming the limit, while another tenant can still queue. A real
started app with one solver worker and a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.jobs.runner import JobRunner
from app.main import create_app
from app.store import Store

from ..conftest import JobWaiter


@pytest.fixture
def one_queued_per_tenant(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A started app with one worker, room for ten queued jobs in all but one per tenant."""
    narrow = settings.model_copy(update={"max_concurrent_solves": 1, "job_queue_size": 10,
                                         "max_queued_jobs_per_tenant": 1,
                                         "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})
    with TestClient(create_app(narrow)) as started:
        yield started


def test_tenant_at_its_queued_jobs_limit_gets_429_naming_the_limit(
        one_queued_per_tenant: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """With the worker busy and one job of the tenant waiting, its next job answers 429 with Retry-After and
    a message naming ``max_queued_jobs_per_tenant``; another tenant's job is still queued (the global
    queue has room)."""
    client = one_queued_per_tenant
    problem["options"]["time_limit_s"] = 30
    busy = client.post("/api/v1/jobs", json=problem).json()["id"]
    wait_for_job(client, busy, until=lambda j: j["status"] == "running")
    waiting = client.post("/api/v1/jobs", json=problem)
    refused = client.post("/api/v1/jobs", json=problem)
    runner: JobRunner = client.app.state.job_runner  # type: ignore[attr-defined]
    other = client.portal.call(runner.submit, "another-council", problem)  # type: ignore[union-attr]
    db: Store = client.app.state.store  # type: ignore[attr-defined]
    with db.transaction() as session:
        for tenant, job_id in (("default", waiting.json()["id"]), ("another-council", other.id), ("default", busy)):
            store.request_cancel(session, tenant, job_id)
    assert waiting.status_code == 202
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    detail = refused.json()["detail"]
    assert "max_queued_jobs_per_tenant = 1" in detail and "'default'" in detail
    assert other.status == "queued" and other.tenant_id == "another-council"
