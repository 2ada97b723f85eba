"""Fixtures of the app tests: settings in a temporary data folder, real apps, a small
real problem on the embedded Monaco network."""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.core.config import Settings, default_network_file
from app.main import create_app

DEPOT = {"id": "depot", "lon": 7.4149, "lat": 43.7302}
"""Fontvieille, on the street network."""

BINS = [
    {"id": "b00001", "lon": 7.41745, "lat": 43.73619, "demand_kg": 16},
    {"id": "b00002", "lon": 7.41595, "lat": 43.73639, "demand_kg": 12},
    {"id": "b00003", "lon": 7.41670, "lat": 43.73362, "demand_kg": 20},
    {"id": "b00004", "lon": 7.41847, "lat": 43.73464, "demand_kg": 8},
    {"id": "b00005", "lon": 7.42256, "lat": 43.73748, "demand_kg": 25, "service_s": 45},
    {"id": "b00006", "lon": 7.42353, "lat": 43.73857, "demand_kg": 14},
    {"id": "b00007", "lon": 7.42694, "lat": 43.73813, "demand_kg": 30},
    {"id": "b00008", "lon": 7.41293, "lat": 43.73081, "demand_kg": 11},
]
"""Bins near streets around lon 7.42, lat 43.735 (within a few metres of a road)."""

OFF_NETWORK_BIN = {"id": "b-sea", "lon": 7.4300, "lat": 43.7000, "demand_kg": 10}
"""In the sea south of Monaco, kilometres from any street of the network."""


def base_problem() -> dict[str, Any]:
    """A fresh, valid optimisation body: one depot, two vehicles, eight bins, 1 s search."""
    return copy.deepcopy({
        "depots": [DEPOT],
        "vehicles": [
            {"id": "rcv-1", "depot": "depot", "capacity_kg": 100, "shift": ["06:00", "14:00"]},
            {"id": "rcv-2", "depot": "depot", "capacity_kg": 100},
        ],
        "bins": BINS,
        "options": {"time_limit_s": 1, "seed": 0},
    })


@pytest.fixture(scope="session")
def make_problem() -> Callable[[], dict[str, Any]]:
    """A factory of fresh, valid optimisation bodies (for fixtures wider than a test)."""
    return base_problem


@pytest.fixture(scope="session")
def off_network_bin() -> dict[str, Any]:
    """A bin in the sea, far beyond the snap limit from any street."""
    return dict(OFF_NETWORK_BIN)


@pytest.fixture
def problem() -> dict[str, Any]:
    """A valid optimisation body that a test may change."""
    return base_problem()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working data folder shared by the session (its cache keeps the built network)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """Settings for tests, independent of any WASTEROUTE_* variables of the machine.

    API keys are off (``auth_required=False``: every request is the default tenant), so
    that tests about anything but authentication call the API without a key;
    tests/app/api/test_auth.py turns them on.
    """
    return Settings(network_file=default_network_file(), data_dir=data_dir, cache_dir=data_dir / "cache",
                    snap_limit_m=200, default_time_limit_s=1, max_time_limit_s=30, auth_required=False)


@pytest.fixture
def app_client(settings: Settings) -> TestClient:
    """A client of a real app that has not started up: no road network is loaded.

    Validation and the documentation do not need the network, so their tests run on
    this client.
    """
    return TestClient(create_app(settings))


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a real app that has started up and loaded the Monaco network."""
    with TestClient(create_app(settings)) as started:
        yield started


# --------------------------------------------------------------------------- the store's databases


def _postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``, if any."""
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()]
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, default=None)


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the storage tests (its ``postgres`` database).

    ``WASTEROUTE_TEST_DATABASE_URL`` when set; otherwise a throwaway server from the
    Debian packages (``initdb`` + ``pg_ctl`` in a temporary folder, on a free loopback
    port, run as the ``postgres`` user when the tests run as root), stopped at the end.
    Without PostgreSQL installed the tests skip, except in CI, where they fail.
    """
    given = os.environ.get("WASTEROUTE_TEST_DATABASE_URL")
    if given:
        yield given
        return
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; run `make system`)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="wasteroute-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(folder, user="postgres", group="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "wasteroute", "--auth=trust",
                    "-E", "UTF8", "--no-locale"], check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://wasteroute@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_url``, dropped afterwards; yields its URL."""
    name = f"wasteroute_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The PostgreSQL runs start a server (once per xdist worker that runs one).
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.spawns)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one test: a SQLite file, then (second run) a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    with _fresh_postgres_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


# --------------------------------------------------------------------------- jobs


FINAL_JOB_STATUSES = ("succeeded", "failed", "cancelled")

JobWaiter = Callable[..., dict[str, Any]]


def _wait_for_job(http: Any, job_id: str, *, until: Callable[[dict[str, Any]], bool] | None = None,
                  timeout_s: float = 60.0, every_s: float = 0.1) -> dict[str, Any]:
    """Poll ``GET /api/v1/jobs/{job_id}`` through ``http`` (a TestClient or an httpx client) until
    ``until(job)`` holds (default: the job has finished); the job's last answer. Fails after
    ``timeout_s`` seconds."""
    done = until or (lambda job: job["status"] in FINAL_JOB_STATUSES)
    deadline = time.monotonic() + timeout_s
    while True:
        answer = http.get(f"/api/v1/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if done(job):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {job['status']} after {timeout_s} s: {job}")
        time.sleep(every_s)


@pytest.fixture(scope="session")
def wait_for_job() -> JobWaiter:
    """``wait_for_job(http, job_id, *, until=None, timeout_s=60)``: poll a job until ``until(job)``
    holds (default: it has finished) and return its last answer."""
    return _wait_for_job
