"""GET /api/v1/ready: "able to take work", apart from "up". A started service is ready; one that has
not started, whose schema is behind, whose queue is full or whose PostgreSQL server is stopped
answers 503 with the reasons, while health keeps answering 200. Real apps, real SQLite files, a
real PostgreSQL server, real solver workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.store.engine import alembic_config
from app.store.schema_state import script_heads

from ..conftest import JobWaiter
from . import test_database_faults
from .test_database_faults import PostgresServer

postgres = test_database_faults.postgres
"""A running PostgreSQL server of the test's own (test_database_faults' fixture)."""

CHECKS = ["store", "migrations", "job_queue", "solver_workers", "network"]


def failed(body: dict[str, Any]) -> set[str]:
    """The names of the checks that failed in a readiness answer."""
    return {check["name"] for check in body["checks"] if not check["ok"]}


def assert_not_ready(answer: Any, *checks: str) -> dict[str, Any]:
    """``answer`` is a 503 naming exactly ``checks`` as failed, with ``Retry-After``; its body."""
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    body: dict[str, Any] = answer.json()
    assert body["status"] == "not_ready" and failed(body) == set(checks), body
    assert [reason.split(":")[0] for reason in body["reasons"]] == [c for c in CHECKS if c in checks]
    return body


@pytest.fixture
def own_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The tests' settings with a SQLite store of this test's own."""
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})


def test_a_started_service_is_ready(client: TestClient) -> None:
    """After startup every check holds: 200, ``ready``, the five checks in order, no reasons."""
    answer = client.get("/api/v1/ready")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert [check["name"] for check in body["checks"]] == CHECKS
    assert all(check["ok"] for check in body["checks"])
    assert "monaco.osm.pbf loaded" in body["checks"][4]["detail"]


def test_a_service_that_has_not_started_is_up_but_not_ready(own_settings: Settings) -> None:
    """Before startup (no migrations, no workers, no network) health answers 200 and readiness 503
    naming those three, with the store itself reachable; no API key is asked for either."""
    closed = own_settings.model_copy(update={"auth_required": True})
    client = TestClient(create_app(closed))
    health, ready = client.get("/api/v1/health"), client.get("/api/v1/ready")
    assert health.status_code == 200
    body = assert_not_ready(ready, "migrations", "job_queue", "solver_workers", "network")
    assert "never migrated" in body["reasons"][0]
    assert body["checks"][0] == {"name": "store", "ok": True, "detail": "sqlite answers"}


@pytest.mark.slow
def test_a_schema_behind_the_code_is_not_ready(own_settings: Settings) -> None:
    """A started service whose database is taken one revision down answers 503 naming the migrations,
    both revisions in the reason; upgraded again, it is ready."""
    with TestClient(create_app(own_settings)) as client:
        db = client.app.state.store  # type: ignore[attr-defined]
        config = alembic_config(db.engine)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
        behind = client.get("/api/v1/ready")
        db.migrate()
        again = client.get("/api/v1/ready")
    body = assert_not_ready(behind, "migrations", "job_queue")
    assert all(head in body["reasons"][0] for head in script_heads())
    assert again.status_code == 200, again.text


@pytest.mark.slow
def test_a_full_queue_is_not_ready(own_settings: Settings, problem: dict[str, Any],
                                   wait_for_job: JobWaiter) -> None:
    """With one solver worker busy on a job and a queue of one place taken by a second job, readiness
    answers 503 naming the queue; once both have run it is ready again."""
    small = own_settings.model_copy(update={"max_concurrent_solves": 1, "job_queue_size": 1})
    problem["options"]["time_limit_s"] = 3
    with TestClient(create_app(small)) as client:
        first = client.post("/api/v1/jobs", json=problem).json()["id"]
        wait_for_job(client, first, until=lambda job: job["status"] == "running")
        second = client.post("/api/v1/jobs", json=problem).json()["id"]
        full = client.get("/api/v1/ready")
        wait_for_job(client, second)
        emptied = client.get("/api/v1/ready")
    body = assert_not_ready(full, "job_queue")
    assert body["reasons"] == ["job_queue: full: 1 job(s) waiting of the 1 the queue holds (job_queue_size)"]
    assert emptied.status_code == 200, emptied.text


@pytest.mark.slow
@pytest.mark.spawns
def test_a_store_that_cannot_be_reached_is_not_ready(postgres: PostgresServer, settings: Settings) -> None:
    """On PostgreSQL: with the server stopped, readiness answers 503 within its bound, naming the store
    (and the two checks that need it) while health answers 200; started again, it is ready."""
    on_postgres = settings.model_copy(update={"database_url": postgres.url, "database_timeout_s": 2})
    with TestClient(create_app(on_postgres)) as client:
        before = client.get("/api/v1/ready")
        postgres.stop()
        try:
            down, health = client.get("/api/v1/ready"), client.get("/api/v1/health")
        finally:
            postgres.start()
        after = client.get("/api/v1/ready")
    assert before.status_code == 200, before.text
    body = assert_not_ready(down, "store", "migrations", "job_queue")
    assert body["reasons"][0].startswith("store: the store ")  # cannot be reached, or did not answer in time
    assert health.status_code == 200
    assert after.status_code == 200, after.text
