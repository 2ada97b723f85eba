"""A solver worker process killed mid-solve (SIGKILL): only its own work fails, with the reason; the
other worker's job is unharmed, and the pool starts a replacement that runs the next jobs. Real
started apps (in process, and a uvicorn server process) with real spawned workers, real OR-Tools
solves and real SQLite stores."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.jobs.pool import SolverPool
from app.main import create_app

from ..cli.test_server_process import Server
from ..conftest import JobWaiter

KILLED = "died (signal 9, SIGKILL)"
"""How a job's error names a worker killed with SIGKILL."""

pytestmark = pytest.mark.spawns  # kills and replaces real solver worker processes


def searching(attempt: int) -> Any:
    """A ``wait_for_job`` condition: the job is running its ``attempt``-th run, with progress reported."""
    return lambda job: job["status"] == "running" and job["attempts"] == attempt and job["progress"] > 0


def post_jobs(http: Any, problem: dict[str, Any], time_limits_s: tuple[float, ...]) -> list[str]:
    """Post one job per time limit (each its own seed); their ids."""
    ids = []
    for seed, limit in enumerate(time_limits_s):
        problem["options"].update(time_limit_s=limit, seed=seed)
        answer = http.post("/api/v1/jobs", json=problem)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


@pytest.fixture
def two_workers(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A started app with two solver workers, jobs run at most twice, on a store of its own."""
    own = settings.model_copy(update={"max_concurrent_solves": 2, "job_max_attempts": 2,
                                      "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})
    with TestClient(create_app(own)) as started:
        yield started


def pool_of(client: TestClient) -> SolverPool:
    """The app's solver pool."""
    pool: SolverPool = client.app.state.solver_pool  # type: ignore[attr-defined]
    return pool


def wait_for_workers(pool: SolverPool, count: int, *, timeout_s: float = 180.0) -> set[int]:
    """Wait until ``count`` workers are live and ready (a replacement loads the network first); their pids."""
    deadline = time.monotonic() + timeout_s
    while len(pool.worker_pids) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"only {pool.worker_pids} live after {timeout_s} s")
        time.sleep(0.1)
    return set(pool.worker_pids)


def kill_worker_of(pool: SolverPool, job_id: str) -> int:
    """SIGKILL the worker process running ``job_id``; its pid."""
    pid = pool.pid_of(f"job {job_id}")
    assert pid is not None, f"no worker runs job {job_id}: {pool.worker_pids}"
    os.kill(pid, signal.SIGKILL)
    return pid


def test_killed_workers_job_is_retried_then_failed_and_the_other_job_succeeds(
        two_workers: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """Two jobs run; the worker of one is killed on each of its two attempts: that job ends failed naming
    the signal and the attempts, the other job (in the other worker) succeeds untouched."""
    pool = pool_of(two_workers)
    doomed, other = post_jobs(two_workers, problem, (10, 5))
    wait_for_job(two_workers, other, until=searching(1))
    wait_for_job(two_workers, doomed, until=searching(1))
    first = kill_worker_of(pool, doomed)
    wait_for_job(two_workers, doomed, until=searching(2))
    second = kill_worker_of(pool, doomed)
    failed, succeeded = wait_for_job(two_workers, doomed), wait_for_job(two_workers, other)
    assert failed["status"] == "failed" and failed["attempts"] == 2 and failed["plan_id"] is None
    assert f"(pid {second}) {KILLED}" in failed["error"] and "attempt 2 of 2" in failed["error"]
    assert succeeded["status"] == "succeeded" and succeeded["attempts"] == 1 and succeeded["plan_id"]
    assert first != second


def test_pool_replaces_a_killed_worker_and_runs_the_next_job(
        two_workers: TestClient, problem: dict[str, Any], wait_for_job: JobWaiter) -> None:
    """After a worker is killed mid-job, the pool is back to two live workers (a new pid among them)
    and a job posted afterwards succeeds."""
    pool = pool_of(two_workers)
    before = set(pool.worker_pids)
    [job_id] = post_jobs(two_workers, problem, (10,))
    wait_for_job(two_workers, job_id, until=searching(1))
    killed = kill_worker_of(pool, job_id)
    retried = wait_for_job(two_workers, job_id)
    live = wait_for_workers(pool, 2)
    [after_id] = post_jobs(two_workers, problem, (1,))
    after = wait_for_job(two_workers, after_id)
    assert retried["status"] == "succeeded" and retried["attempts"] == 2
    assert after["status"] == "succeeded"
    assert killed not in live and live - before


def test_synchronous_solve_whose_worker_is_killed_answers_503(
        two_workers: TestClient, problem: dict[str, Any]) -> None:
    """A synchronous optimisation whose worker is killed answers 503 with Retry-After, naming the
    signal; the next synchronous optimisation is answered 200."""
    pool = pool_of(two_workers)
    problem["options"]["time_limit_s"] = 10
    answers: list[Any] = []  # the request blocks its thread: it is sent from another one
    request = threading.Thread(target=lambda: answers.append(
        two_workers.post("/api/v1/optimisations", json=problem)))
    request.start()
    pid = None
    while pid is None and request.is_alive():
        pid = pool.pid_of("solve")
        request.join(0.05)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    request.join(60)
    problem["options"]["time_limit_s"] = 1
    again = two_workers.post("/api/v1/optimisations", json=problem)
    [killed] = answers
    assert killed.status_code == 503 and int(killed.headers["retry-after"]) >= 1
    assert f"(pid {pid}) {KILLED}" in killed.json()["detail"]
    assert again.status_code == 200


def wait_until_dead(pid: int, *, timeout_s: float = 30.0) -> None:
    """Wait until process ``pid`` has ended (a zombie not yet reaped counts: its pipes are closed)."""
    deadline = time.monotonic() + timeout_s
    stat = Path(f"/proc/{pid}/stat")
    while stat.exists():
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return
        except OSError:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still alive after {timeout_s} s")
        time.sleep(0.05)


def test_workers_killed_while_idle_fail_no_request(two_workers: TestClient, problem: dict[str, Any]) -> None:
    """Both workers killed while idle: the next synchronous optimisation is still answered 200 (the dead
    workers are found before any work is handed to them, and replaced)."""
    pool = pool_of(two_workers)
    killed = pool.worker_pids
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
        wait_until_dead(pid)
    answer = two_workers.post("/api/v1/optimisations", json=problem)
    assert answer.status_code == 200, answer.text
    assert not set(killed) & set(wait_for_workers(pool, 2))


# --------------------------------------------------------------------------- a real server process


def worker_pids(server: Server) -> list[int]:
    """The server's solver worker processes: its children started by multiprocessing's ``spawn``."""
    assert server.process is not None
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == server.process.pid and b"spawn_main" in command:
            pids.append(int(entry.name))
    return sorted(pids)


@pytest.fixture(scope="module")
def single_attempt_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Server]:
    """A uvicorn server process with two solver workers whose jobs run once (no retry), shared by the
    module's server tests (a killed worker is replaced, and the test killing one checks that it is)."""
    running = Server(tmp_path_factory.mktemp("single-attempt"), settings.cache_dir,
                     env={"WASTEROUTE_JOB_MAX_ATTEMPTS": "1"}).start()
    yield running
    running.stop()


def test_server_worker_killed_fails_only_its_job(single_attempt_server: Server, problem: dict[str, Any],
                                                 wait_for_job: JobWaiter) -> None:
    """On a real server, SIGKILL one of the two workers while both run a job: with one attempt per job,
    exactly the job of the killed worker fails, naming that pid and the signal; the other succeeds, and a
    job posted afterwards succeeds on the replacement."""
    server = single_attempt_server
    ids = post_jobs(server.http, problem, (8, 8))
    for job_id in ids:
        wait_for_job(server.http, job_id, until=searching(1))
    pids = worker_pids(server)
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)
    jobs = {job["status"]: job for job in (wait_for_job(server.http, job_id) for job_id in ids)}
    [after_id] = post_jobs(server.http, problem, (1,))
    after = wait_for_job(server.http, after_id)
    assert set(jobs) == {"failed", "succeeded"}
    assert f"(pid {pids[0]}) {KILLED}" in jobs["failed"]["error"] and jobs["failed"]["attempts"] == 1
    assert after["status"] == "succeeded"
    assert pids[0] not in worker_pids(server) and len(worker_pids(server)) == 2


def test_server_large_answer_crosses_the_worker_pipe(single_attempt_server: Server) -> None:
    """On a real server (uvloop, which makes watched pipes non-blocking), an answer larger than the pipe's buffer
    comes back from the worker whole: the demo's 320 bins optimised synchronously answer 200 (over 300 kB)."""
    server = single_attempt_server
    problem = server.http.get("/api/v1/demo").json()
    problem.setdefault("options", {}).update(time_limit_s=1, seed=0)
    answer = server.http.post("/api/v1/optimisations", json=problem, timeout=120)
    assert answer.status_code == 200, answer.text[:500]
    assert len(answer.content) > 300_000
    assert answer.json()["summary"]["bins_served"] + answer.json()["summary"]["bins_unassigned"] == 320
