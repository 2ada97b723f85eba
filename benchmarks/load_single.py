"""Load test on loopback: many async clients post small optimisations (and, where the
service has them, jobs they then poll) to a real uvicorn server for a fixed time.

One server on SQLite; benchmarks/load.py is the scaled-out test (two replicas on PostgreSQL,
several tenants, a replica killed).

Usage::

    .venv/bin/python benchmarks/load_single.py [--clients 16] [--duration-s 30] [--bins 5]
        [--time-limit-s 0.2] [--job-share 0.25] [--workers 2] [--url URL]
        [--header NAME:VALUE ...] [--json]

Without ``--url`` it starts ``uvicorn --factory app.main:create_app`` on a free
loopback port (the embedded Monaco network, ``--workers`` solver processes, a
temporary data folder) and stops it at the end. Each client loops: build a small
problem (``--bins`` kerbside bins of Monaco from :mod:`solver.synthetic`, two
vehicles, ``--time-limit-s`` of search), then either ``POST /api/v1/optimisations``
or, for a ``--job-share`` of its turns when ``/api/v1/jobs`` exists, ``POST
/api/v1/jobs`` and poll ``GET /api/v1/jobs/{id}`` until the job is finished. One more
client asks ``GET /api/v1/health`` every 0.2 s throughout.

Prints one row per kind of request: count, answers by class (2xx, 4xx, 5xx) and
transport errors, requests per second, latency p50/p95/p99 in milliseconds; then the
jobs submitted, finished by status, and lost (submitted and never finished within
``--grace-s`` after the end). The started server asks for API keys as it does by
default: the script makes one with ``wasteroute keys create`` and sends it; against
``--url``, give one with ``--header "X-API-Key: KEY"``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from solver.network import load_network
from solver.synthetic import kerbside_bins

ROOT = Path(__file__).resolve().parent.parent
MONACO = ROOT / "data" / "monaco.osm.pbf"
DEPOT = {"id": "depot", "lon": 7.4149, "lat": 43.7302}
FINAL_JOB_STATES = frozenset({"succeeded", "failed", "cancelled"})
HEALTH_PERIOD_S = 0.2
JOB_POLL_S = 0.25
STARTUP_TIMEOUT_S = 180.0
API_KEY_HEADER = "X-API-Key"


@dataclass
class Tally:
    """What the clients saw: latencies (s) and status classes per kind of request, jobs."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answers: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    jobs_submitted: set[str] = field(default_factory=set)
    jobs_finished: dict[str, str] = field(default_factory=dict)
    transport_errors: Counter[str] = field(default_factory=Counter)

    def record(self, kind: str, started: float, response: httpx.Response | httpx.TransportError) -> None:
        """Count one request of ``kind`` begun at ``started``: its answer or its transport error."""
        self.latencies[kind].append(time.perf_counter() - started)
        if isinstance(response, httpx.TransportError):
            self.answers[kind]["transport"] += 1
            self.transport_errors[f"{kind}: {type(response).__name__}: {response}"] += 1
        else:
            self.answers[kind][f"{response.status_code // 100}xx"] += 1


def _free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served(workers: int, log_path: Path) -> Iterator[tuple[str, str]]:
    """A uvicorn server of the service on loopback for the duration of the block: its URL
    and an API key of the tenant ``load-test``, made with ``wasteroute keys create``."""
    port = _free_port()
    env = {**os.environ, "WASTEROUTE_NETWORK_FILE": str(MONACO), "WASTEROUTE_DATA_DIR": str(log_path.parent),
           "WASTEROUTE_MAX_CONCURRENT_SOLVES": str(workers), "WASTEROUTE_LOG_LEVEL": "warning"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process)
            yield url, _create_key(env)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server gracefully (SIGTERM); kill it if it has not ended after 30 s."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    if process.poll() is None:
        process.kill()
        process.wait()


def _create_key(env: dict[str, str]) -> str:
    """A new API key for the tenant ``load-test`` of the server's store (the last line printed)."""
    made = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--tenant", "load-test"],
                          env=env, capture_output=True, text=True, check=True)
    return made.stdout.strip().splitlines()[-1]


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Block until the health check answers 200; raise if the server dies or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} while starting")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT_S:.0f} s")


def bin_pool(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` kerbside bins on Monaco's streets as request items."""
    network = load_network(MONACO)
    return [{"id": b.id, "lon": round(b.lon, 7), "lat": round(b.lat, 7), "demand_kg": round(b.demand_kg, 1)}
            for b in kerbside_bins(network, n, seed=seed)]


def problem(pool: list[dict[str, Any]], rng: random.Random, n_bins: int, time_limit_s: float) -> dict[str, Any]:
    """A small optimisation body: ``n_bins`` bins drawn from ``pool``, two vehicles, the depot."""
    return {"depots": [DEPOT],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 2000},
                         {"id": "rcv-2", "depot": "depot", "capacity_kg": 2000}],
            "bins": rng.sample(pool, n_bins),
            "options": {"time_limit_s": time_limit_s, "seed": rng.randrange(1000)}}


async def _send(client: httpx.AsyncClient, tally: Tally, kind: str, method: str, path: str,
                body: dict[str, Any] | None = None) -> httpx.Response | None:
    """One request, counted under ``kind``; ``None`` on a transport error."""
    started = time.perf_counter()
    try:
        response = await client.request(method, path, json=body)
    except httpx.TransportError as exc:
        tally.record(kind, started, exc)
        return None
    tally.record(kind, started, response)
    return response


async def _run_job(client: httpx.AsyncClient, tally: Tally, body: dict[str, Any], stop_polling_at: float) -> None:
    """Submit a job and poll it until it finishes (or polling time is up)."""
    response = await _send(client, tally, "POST /jobs", "POST", "/api/v1/jobs", body)
    if response is None or response.status_code != 202:
        return
    job_id = str(response.json()["id"])
    tally.jobs_submitted.add(job_id)
    while time.monotonic() < stop_polling_at:
        await asyncio.sleep(JOB_POLL_S)
        polled = await _send(client, tally, "GET /jobs/{id}", "GET", f"/api/v1/jobs/{job_id}")
        if polled is not None and polled.status_code == 200 and polled.json()["status"] in FINAL_JOB_STATES:
            tally.jobs_finished[job_id] = polled.json()["status"]
            return


async def _client(index: int, client: httpx.AsyncClient, tally: Tally, pool: list[dict[str, Any]],
                  args: argparse.Namespace, with_jobs: bool, stop_at: float) -> None:
    """One simulated planner: small optimisations (and jobs) until ``stop_at``."""
    rng = random.Random(args.seed * 1000 + index)
    while time.monotonic() < stop_at:
        body = problem(pool, rng, args.bins, args.time_limit_s)
        if with_jobs and rng.random() < args.job_share:
            await _run_job(client, tally, body, stop_at + args.grace_s)
        else:
            await _send(client, tally, "POST /optimisations", "POST", "/api/v1/optimisations", body)


async def _health(client: httpx.AsyncClient, tally: Tally, stop_at: float) -> None:
    """Ask the health check every :data:`HEALTH_PERIOD_S` until ``stop_at``."""
    while time.monotonic() < stop_at:
        await _send(client, tally, "GET /health", "GET", "/api/v1/health")
        await asyncio.sleep(HEALTH_PERIOD_S)


async def load(url: str, args: argparse.Namespace, headers: dict[str, str]) -> tuple[Tally, float, bool]:
    """Run the clients against ``url``; the tally, the seconds they ran, and whether jobs were used."""
    pool = bin_pool(max(200, args.bins * 4), args.seed)
    limits = httpx.Limits(max_connections=args.clients + 2)
    timeout = httpx.Timeout(args.duration_s + args.grace_s + 60)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout) as client:
        paths = (await client.get("/openapi.json")).json().get("paths", {})
        with_jobs = args.job_share > 0 and "/api/v1/jobs" in paths
        tally = Tally()
        started = time.monotonic()
        stop_at = started + args.duration_s
        await asyncio.gather(_health(client, tally, stop_at),
                             *(_client(i, client, tally, pool, args, with_jobs, stop_at)
                               for i in range(args.clients)))
        return tally, time.monotonic() - started, with_jobs


def report(tally: Tally, elapsed_s: float, with_jobs: bool) -> dict[str, Any]:
    """Figures per kind of request, and the jobs' fate."""
    rows = {}
    for kind, latencies in sorted(tally.latencies.items()):
        ms = np.asarray(latencies) * 1000
        answers = tally.answers[kind]
        rows[kind] = {"requests": len(latencies), "2xx": answers["2xx"], "4xx": answers["4xx"],
                      "5xx": answers["5xx"], "transport_errors": answers["transport"],
                      "per_s": round(len(latencies) / elapsed_s, 2),
                      "p50_ms": round(float(np.percentile(ms, 50)), 1),
                      "p95_ms": round(float(np.percentile(ms, 95)), 1),
                      "p99_ms": round(float(np.percentile(ms, 99)), 1)}
    jobs = None
    if with_jobs:
        finished = Counter(tally.jobs_finished.values())
        jobs = {"submitted": len(tally.jobs_submitted), **{s: finished[s] for s in sorted(FINAL_JOB_STATES)},
                "lost": len(tally.jobs_submitted - set(tally.jobs_finished))}
    return {"seconds": round(elapsed_s, 1), "requests": rows, "jobs": jobs,
            "transport_errors": dict(tally.transport_errors)}


def print_table(result: dict[str, Any], args: argparse.Namespace) -> None:
    """The report as a Markdown table."""
    print(f"{args.clients} clients, {result['seconds']} s, {args.bins} bins per problem, "
          f"{args.time_limit_s} s solver limit, {args.workers} solver workers")
    print()
    print("| request | count | 2xx | 4xx | 5xx | transport errors | per s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, row in result["requests"].items():
        print(f"| {kind} | {row['requests']} | {row['2xx']} | {row['4xx']} | {row['5xx']} | "
              f"{row['transport_errors']} | {row['per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} |")
    jobs = result["jobs"]
    print()
    print("jobs: not offered by this service" if jobs is None else
          "jobs: " + ", ".join(f"{k} {v}" for k, v in jobs.items()))
    for error, count in result["transport_errors"].items():
        print(f"transport error x{count}: {error}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start a server unless ``--url`` is given, run the load, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients posting problems")
    parser.add_argument("--duration-s", type=float, default=30.0, help="seconds the clients keep posting")
    parser.add_argument("--bins", type=int, default=5, help="bins per problem")
    parser.add_argument("--time-limit-s", type=float, default=0.2, help="solver time limit per problem")
    parser.add_argument("--job-share", type=float, default=0.25,
                        help="share of turns that submit a job and poll it (when the service has jobs)")
    parser.add_argument("--grace-s", type=float, default=60.0,
                        help="seconds after the end that submitted jobs may still finish before they count lost")
    parser.add_argument("--workers", type=int, default=2, help="solver workers of the started server")
    parser.add_argument("--url", help="load this running server instead of starting one")
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                        help="a header for every request (repeatable)")
    parser.add_argument("--data-dir", help="data folder of the started server, kept with its server.log "
                                           "(default: a temporary folder, removed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if args.url:
        tally, elapsed, with_jobs = asyncio.run(load(args.url, args, headers))
    else:
        with tempfile.TemporaryDirectory(prefix="wasteroute-load-") as tmp:
            data_dir = Path(args.data_dir or tmp)
            data_dir.mkdir(parents=True, exist_ok=True)
            with served(args.workers, data_dir / "server.log") as (url, key):
                tally, elapsed, with_jobs = asyncio.run(load(url, args, {API_KEY_HEADER: key, **headers}))
    result = report(tally, elapsed, with_jobs)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result, args)
    failures = sum(r["5xx"] + r["transport_errors"] for r in result["requests"].values())
    lost = result["jobs"]["lost"] if result["jobs"] else 0
    return 1 if failures or lost else 0


if __name__ == "__main__":
    sys.exit(main())
