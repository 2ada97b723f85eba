"""A database that is locked or unreachable: requests answer 503 with ``Retry-After`` (never a 500),
nothing is half written, and no job is lost; once the database is back, everything works again.
Real SQLite files locked by a real second connection, and a real PostgreSQL server stopped and
started again under a real uvicorn server process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.main import create_app
from app.store import Store

from ..cli.test_server_process import Server
from ..conftest import JobWaiter, _postgres_bin_dir, free_port

SHORT_TIMEOUT_S = 0.2
"""The database timeout of these tests (SQLite's busy timeout): a lock held longer makes a write fail."""


def assert_unavailable(answer: Any) -> None:
    """``answer`` is the 503 of an unavailable database: ``Retry-After`` and the error shape's ``detail``."""
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert "database is unavailable" in answer.json()["detail"]


# --------------------------------------------------------------------------- a locked SQLite file


@pytest.fixture
def short_timeout(settings: Settings, tmp_path: Path) -> Settings:
    """Settings with a store of this test and a 0.2 s busy timeout."""
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
                                       "database_timeout_s": SHORT_TIMEOUT_S, "database_retry_s": 120.0})


class WriteLock:
    """A second connection to a SQLite file holding its write lock (``BEGIN EXCLUSIVE``) until released."""

    def __init__(self, database_url: str) -> None:
        self.connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        """End the transaction (nothing was written) and close the connection."""
        self.connection.execute("ROLLBACK")
        self.connection.close()


def job_count(database_url: str) -> int:
    """How many jobs the store holds for the default tenant."""
    db = Store(database_url)
    with db.transaction() as session:
        count = len(store.list_jobs(session, "default", limit=1000))
    db.dispose()
    return count


@pytest.mark.slow
def test_locked_sqlite_answers_503_with_retry_after_and_stores_nothing(
        short_timeout: Settings, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """While another connection holds the write lock beyond the busy timeout, posting a job answers 503
    with Retry-After and stores nothing; once the lock is released the same post is accepted and runs."""
    with TestClient(create_app(short_timeout)) as client:
        lock = WriteLock(short_timeout.database_url)
        try:
            refused = client.post("/api/v1/jobs", json=problem)
            listed = client.get("/api/v1/jobs")
        finally:
            lock.release()
        accepted = client.post("/api/v1/jobs", json=problem)
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(client, accepted.json()["id"])
    assert_unavailable(refused)
    assert listed.status_code == 200 and listed.json()["jobs"] == []
    assert job["status"] == "succeeded"
    assert job_count(short_timeout.database_url) == 1


@pytest.mark.slow
def test_job_outlives_a_lock_held_across_the_end_of_its_search(
        short_timeout: Settings, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """A job whose search ends while the database is locked waits for the lock (its worker retries the
    write with back-off) and then succeeds with its plan stored: it is not lost or failed."""
    problem["options"]["time_limit_s"] = 2
    with TestClient(create_app(short_timeout)) as client:
        job_id = client.post("/api/v1/jobs", json=problem).json()["id"]
        wait_for_job(client, job_id, until=lambda j: j["status"] == "running" and j["progress"] > 0)
        lock = WriteLock(short_timeout.database_url)
        try:
            time.sleep(5)  # the 2 s search ends meanwhile; its outcome cannot be written yet
            during = client.get(f"/api/v1/jobs/{job_id}").json()
        finally:
            lock.release()
        job = wait_for_job(client, job_id)
        plan = client.get(f"/api/v1/plans/{job['plan_id']}")
    assert during["status"] == "running"
    assert job["status"] == "succeeded" and job["attempts"] == 1 and plan.status_code == 200


# --------------------------------------------------------------------------- a PostgreSQL server stopped


class PostgresServer:
    """A throwaway PostgreSQL server (Debian's ``initdb`` and ``pg_ctl``) that a test can stop and start."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin_dir()
        if bin_dir is None:
            if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
                pytest.fail("PostgreSQL is not installed; CI must run the PostgreSQL tests", pytrace=False)
            pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; run `make system`)")
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="wasteroute-pg-faults-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.folder, user="postgres", group="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://wasteroute@127.0.0.1:{self.port}/postgres"
        self._pg(["initdb", "-D", str(self.data), "-U", "wasteroute", "--auth=trust", "-E", "UTF8", "--no-locale"])

    def _pg(self, command: list[str], *, check: bool = True) -> None:
        """Run one of PostgreSQL's programs (as the ``postgres`` user when the tests run as root)."""
        subprocess.run([*self.as_user, str(self.bin_dir / command[0]), *command[1:]], check=check,
                       capture_output=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"])

    def stop(self) -> None:
        """Stop the server at once, ending its connections (``-m fast``)."""
        self._pg(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL server of this test's own, removed afterwards."""
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


def test_postgres_stopped_answers_503_then_recovers_without_losing_a_job(
        postgres: PostgresServer, tmp_path: Path, settings: Settings, problem: dict[str, Any],
        wait_for_job: JobWaiter) -> None:
    """A server on PostgreSQL: with the database stopped mid-job, reads and writes answer 503 with
    Retry-After (no 500); once it is started again, requests succeed, the job that was running ends
    succeeded with its plan, and a new job runs."""
    server = Server(tmp_path, settings.cache_dir, env={"WASTEROUTE_DATABASE_URL": postgres.url,
                                                       "WASTEROUTE_DATABASE_TIMEOUT_S": "2"}).start()
    try:
        problem["options"]["time_limit_s"] = 3
        running = server.post_job(problem)
        wait_for_job(server.http, running, until=lambda j: j["status"] == "running" and j["progress"] > 0)
        postgres.stop()
        try:
            read = server.http.get(f"/api/v1/jobs/{running}")
            listed = server.http.get("/api/v1/plans")
            posted = server.http.post("/api/v1/jobs", json=problem)
            time.sleep(4)  # the 3 s search ends while the database is away
        finally:
            postgres.start()
        job = wait_for_job(server.http, running)
        problem["options"]["time_limit_s"] = 1
        after = wait_for_job(server.http, server.post_job(problem))
        jobs = server.http.get("/api/v1/jobs").json()["jobs"]
        plans = server.http.get("/api/v1/plans")
    finally:
        server.stop()
    for answer in (read, listed, posted):
        assert_unavailable(answer)
    assert job["status"] == "succeeded" and job["attempts"] == 1
    assert after["status"] == "succeeded"
    assert [j["id"] for j in jobs] == [after["id"], running]
    assert plans.status_code == 200 and {job["plan_id"], after["plan_id"]} <= {p["id"] for p in plans.json()["plans"]}
