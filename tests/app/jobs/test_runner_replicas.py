"""Two real server processes (uvicorn, each with its solver workers) sharing one job queue on a real
PostgreSQL server: jobs of several councils run once each; a replica killed with SIGKILL mid-job loses
nothing, its jobs finished by the other within the lease; progress is seen and cancel reaches a job from
either replica; no council runs more jobs at once than its limit, over both replicas.

The leases are short here (4 s, renewed every second, the queue looked at every 0.5 s) to keep the
tests quick; the defaults are 30 s, 10 s and 1 s (docs/reliability.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import store
from app.core.config import Settings
from app.store import Store
from app.store.models import JobRecord, PlanRecord, utc_now

from ..cli.test_server_process import Server
from ..conftest import JobWaiter, _fresh_postgres_database

pytestmark = [pytest.mark.spawns, pytest.mark.slow]

LEASE_S = 4.0
HEARTBEAT_S = 1.0
POLL_S = 0.5
SLACK_S = 2.0
"""Allowance for the database and a loaded machine on top of the stated re-claim time."""

TENANTS = ("north", "south", "east")


@pytest.fixture
def shared_db(postgres_server_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database both replicas use; its URL."""
    with _fresh_postgres_database(postgres_server_url) as url:
        db = Store(url)
        db.migrate()
        db.dispose()
        yield url


def api_keys(database_url: str) -> dict[str, str]:
    """A new API key for each tenant of :data:`TENANTS`, stored in the database."""
    db = Store(database_url)
    with db.transaction() as session:
        keys = {tenant: store.create_api_key(session, tenant, name="replica test")[1] for tenant in TENANTS}
    db.dispose()
    return keys


def replica(folder: Path, settings: Settings, database_url: str, name: str, **extra: str) -> Server:
    """A server process (not yet started) named ``name`` on the shared database, with short leases."""
    folder.mkdir(parents=True, exist_ok=True)
    return Server(folder, settings.cache_dir, env={
        "WASTEROUTE_DATABASE_URL": database_url, "WASTEROUTE_REPLICA_ID": name,
        "WASTEROUTE_AUTH_REQUIRED": "true", "WASTEROUTE_SEARCH_PROCESSES": "1",
        "WASTEROUTE_JOB_LEASE_S": str(LEASE_S), "WASTEROUTE_JOB_HEARTBEAT_S": str(HEARTBEAT_S),
        "WASTEROUTE_JOB_POLL_INTERVAL_S": str(POLL_S), "WASTEROUTE_DATABASE_TIMEOUT_S": "5", **extra})


def started_together(a: Server, b: Server) -> tuple[Server, Server]:
    """Both replicas launched at once, then each waited for until ready (they start side by side, as
    replicas of a deployment do, not one after the other)."""
    a.launch()
    try:
        b.launch()
        return a.wait_ready(), b.wait_ready()
    except BaseException:
        a.stop()
        b.stop()
        raise


def as_tenant(server: Server, key: str) -> httpx.Client:
    """A client of ``server`` presenting ``key``."""
    return httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30.0)


def jobs_in(database_url: str) -> dict[str, JobRecord]:
    """Every job in the database, by id (detached copies)."""
    db = Store(database_url)
    with db.transaction() as session:
        jobs = {job.id: job for job in session.scalars(select(JobRecord))}
    db.dispose()
    return jobs


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``condition`` every 0.1 s until it holds; fail naming ``what`` after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s")
        time.sleep(0.1)


def logs(*servers: Server) -> str:
    """The servers' logs' last lines, for a failure's message."""
    return "\n".join(f"--- {s.log.name}\n{s.log.read_text()[-4000:]}" for s in servers if s.log.exists())


def test_replica_killed_mid_job_loses_nothing_and_no_job_runs_twice(
        tmp_path: Path, settings: Settings, shared_db: str, problem: dict[str, Any],
        wait_for_job: JobWaiter) -> None:
    """Six jobs of three councils posted to two replicas; SIGKILL one while it runs a job: its jobs are queued
    again between ``lease - heartbeat`` and ``lease + poll`` seconds after the kill, finished by the other
    replica with a second attempt; every job ends succeeded with exactly one plan, the others on their first
    attempt, and no job but the killed replica's was retried."""
    keys = api_keys(shared_db)
    a, b = started_together(replica(tmp_path / "a", settings, shared_db, "replica-a"),
                            replica(tmp_path / "b", settings, shared_db, "replica-b"))
    with ExitStack() as cleanup:
        cleanup.callback(a.stop)
        cleanup.callback(b.stop)
        clients = {(name, tenant): cleanup.enter_context(as_tenant(server, key))
                   for name, server in (("a", a), ("b", b)) for tenant, key in keys.items()}
        problem["options"]["time_limit_s"] = 3
        posted: dict[str, str] = {}
        for seed in range(6):
            tenant, name = TENANTS[seed % 3], "ab"[seed % 2]
            problem["options"]["seed"] = seed
            answer = clients[(name, tenant)].post("/api/v1/jobs", json=problem)
            assert answer.status_code == 202, answer.text
            posted[answer.json()["id"]] = tenant

        def a_is_solving() -> bool:
            return any(j.lease_owner == "replica-a" and j.status == "running" and j.progress > 0
                       for j in jobs_in(shared_db).values())

        wait_until(a_is_solving, timeout_s=60, what=f"replica-a solving a job\n{logs(a, b)}")
        killed_at = utc_now()
        a.kill()
        on_a = {i for i, j in jobs_in(shared_db).items() if j.status == "running" and j.lease_owner == "replica-a"}
        finished = {job_id: wait_for_job(clients[("b", tenant)], job_id, timeout_s=120)
                    for job_id, tenant in posted.items()}

    jobs = jobs_in(shared_db)
    db = Store(shared_db)
    with db.transaction() as session:
        plans_per_problem = dict(session.execute(select(PlanRecord.problem_id, func.count())
                                                 .group_by(PlanRecord.problem_id)).all())
        retries = {job_id: [e for e in store.list_audit(session, tenant, subject_id=job_id)
                            if e.action == "job.retry"] for job_id, tenant in posted.items()}
        unfinished = store.unfinished_jobs(session)
    db.dispose()
    print(f"killed replica-a with {len(on_a)} job(s) running on it; re-queued after "
          + ", ".join(f"{(r[0].at - killed_at).total_seconds():.1f} s" for i in on_a for r in [retries[i]] if r))

    assert on_a, "replica-a held no running job when killed"
    assert [f["status"] for f in finished.values()] == ["succeeded"] * 6, logs(a, b)
    assert unfinished == []
    for job_id, job in jobs.items():
        assert plans_per_problem.get(job.problem_id) == 1, (job_id, plans_per_problem.get(job.problem_id))
        assert finished[job_id]["plan_id"] == job.plan_id
    for job_id in on_a:
        assert (jobs[job_id].attempts, jobs[job_id].lease_owner) == (2, "replica-b")
        [retry] = retries[job_id]
        assert "replica replica-a stopped renewing its lease; attempt 1 of 2" in retry.details["reason"]
        waited = (retry.at - killed_at).total_seconds()
        assert LEASE_S - HEARTBEAT_S - SLACK_S <= waited <= LEASE_S + POLL_S + SLACK_S, waited
        assert _aware(jobs[job_id].started_at) >= retry.at
    for job_id in set(posted) - on_a:
        assert jobs[job_id].attempts == 1 and retries[job_id] == [], job_id


def _aware(value: datetime | None) -> datetime:
    """A stored time, present."""
    assert value is not None
    return value


def test_fair_shares_progress_and_cancel_across_replicas(
        tmp_path: Path, settings: Settings, shared_db: str, problem: dict[str, Any],
        wait_for_job: JobWaiter) -> None:
    """With one running job allowed per council, a council posting three long jobs runs one while another
    council's job runs beside it, though four workers could take them all; after two leases' time both still
    run their first attempt (the heartbeat renewed their leases); the running job's progress reads
    the same from both replicas; a cancel sent to the replica not running it stops it within seconds,
    storing no plan, and the council's next job is then claimed."""
    keys = api_keys(shared_db)
    extra = {"WASTEROUTE_MAX_RUNNING_JOBS_PER_TENANT": "1"}
    a, b = started_together(replica(tmp_path / "a", settings, shared_db, "replica-a", **extra),
                            replica(tmp_path / "b", settings, shared_db, "replica-b", **extra))
    with ExitStack() as cleanup:
        cleanup.callback(a.stop)
        cleanup.callback(b.stop)
        north = {"a": cleanup.enter_context(as_tenant(a, keys["north"])),
                 "b": cleanup.enter_context(as_tenant(b, keys["north"]))}
        south = cleanup.enter_context(as_tenant(b, keys["south"]))
        problem["options"]["time_limit_s"] = 30
        mine = []
        for seed in range(3):
            problem["options"]["seed"] = seed
            mine.append(north["ab"[seed % 2]].post("/api/v1/jobs", json=problem).json()["id"])
        problem["options"]["seed"] = 9
        theirs = south.post("/api/v1/jobs", json=problem).json()["id"]

        def both_solving() -> bool:
            jobs = jobs_in(shared_db)
            return jobs[theirs].progress > 0 and any(jobs[i].progress > 0 for i in mine)

        wait_until(both_solving, timeout_s=60, what=f"a job of each council solving\n{logs(a, b)}")
        time.sleep(2 * LEASE_S)  # past two leases: only the heartbeat keeps the jobs from being released
        jobs = jobs_in(shared_db)
        states = sorted(jobs[i].status for i in mine)
        [running] = [i for i in mine if jobs[i].status == "running"]
        runner = jobs[running].lease_owner
        other = "b" if runner == "replica-a" else "a"
        seen = {name: north[name].get(f"/api/v1/jobs/{running}").json() for name in ("a", "b")}
        started = time.monotonic()
        assert north[other].delete(f"/api/v1/jobs/{running}").status_code == 200
        cancelled = wait_for_job(north[other], running, timeout_s=15)
        took = time.monotonic() - started
        wait_until(lambda: sum(j.status == "running" for i, j in jobs_in(shared_db).items() if i in mine) == 1,
                   timeout_s=15, what="the council's next job claimed")
        for job_id in [*mine, theirs]:
            north["a"].delete(f"/api/v1/jobs/{job_id}") if job_id in mine else south.delete(f"/api/v1/jobs/{job_id}")
    print(f"cancel sent to the other replica took {took:.1f} s")

    assert states == ["queued", "queued", "running"]
    assert (jobs[running].attempts, jobs[theirs].attempts, jobs[theirs].status) == (1, 1, "running")
    assert runner in ("replica-a", "replica-b")
    assert seen["a"]["status"] == seen["b"]["status"] == "running"
    assert seen["a"]["progress"] > 0 and seen["b"]["progress"] > 0
    assert cancelled["status"] == "cancelled" and cancelled["plan_id"] is None
    assert took < 10
    assert jobs[running].started_at is not None and jobs[running].started_at > utc_now() - timedelta(minutes=5)
