"""Load test of the scaled-out service: two real replicas (uvicorn processes) on one real
PostgreSQL, several councils (tenants) posting jobs, one replica killed with SIGKILL mid-test.

Usage::

    .venv/bin/python benchmarks/load.py [--replicas 2] [--tenants 3] [--clients-per-tenant 2]
        [--duration-s 90] [--kill-at-s 30] [--bins 5] [--time-limit-s 0.5] [--evaluation-share 0.3]
        [--big-bins 400] [--big-time-limit-s 60] [--workers 2] [--grace-s 90] [--lease-s 30]
        [--database-url URL] [--data-dir DIR] [--quick] [--json]

It starts a throwaway PostgreSQL server (Debian's ``initdb``/``pg_ctl``, as the tests do)
unless ``--database-url`` names one, then ``--replicas`` uvicorn processes of the service on
loopback ports, each with ``--workers`` solver processes (the embedded Monaco network, one
graph cache), and makes an API key per tenant (``wasteroute keys create``). The first tenant
posts one big optimisation (``--big-bins`` kerbside bins, ``--big-time-limit-s``) at the start, to
the replica that will be killed.
Then each tenant's clients loop until ``--duration-s``: post a small optimisation job
(``--bins`` bins, two vehicles) or, for ``--evaluation-share`` of their turns, a planner's
plan of ``--bins + 1`` bins to ``POST /api/v1/evaluations``, which answers with a job because
the replicas run with ``WASTEROUTE_MAX_SYNC_BINS`` below that size; then poll the job (on any
live replica) until it ends or 20 s pass. Requests go to the live replicas in turn, as a proxy
would; a replica that fails to answer is taken out, as the proxy's probe would. One more task
per replica asks ``GET /api/v1/ready`` every 0.5 s.

At ``--kill-at-s`` the last replica's process group (uvicorn and its solver workers) is killed
with SIGKILL, as a container or machine dies. After the clients stop, the script waits up to
``--grace-s`` for every submitted job to end, then reads the jobs from the store and prints:
requests per kind (answers by class, per second, latency p50/p95), jobs per tenant (submitted,
ended by status, lost: not ended; retried: started more than once, from the store's attempts;
run twice: more than one run reached its end, counted from the solver workers' log lines in
every replica's log; queue wait p50/p95 from ``started_at - created_at``), job throughput, and
the jobs the killed replica had taken; and, per tenant, the jobs by state as the surviving
replica's ``GET /metrics`` reports them.

Exit status 1 when a job is lost or run twice, or an answer was a 5xx (a retry is no fault).

``--lease-s`` sets the replicas' job leases (``WASTEROUTE_JOB_LEASE_S``, renewed every quarter of
it; default: the service's own, 30 s and 10 s), hence how soon the killed replica's jobs are
claimed again.

``--quick`` is a short run for the tests: 24 s, the kill at 10 s, a big job of 60 bins and 15 s,
leases of 4 s (the killed replica's jobs claimed again about 4 s after the kill, so that they can
end within the grace instead of being waited for in vain), 30 s of grace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
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
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.store import JobRecord, Store
from solver.network import load_network
from solver.synthetic import kerbside_bins

ROOT = Path(__file__).resolve().parent.parent
MONACO = ROOT / "data" / "monaco.osm.pbf"
DEPOT = {"id": "depot", "lon": 7.4149, "lat": 43.7302}
ENDED = frozenset({"succeeded", "failed", "cancelled"})
STARTUP_TIMEOUT_S = 180.0
READY_PERIOD_S = 0.5
POLL_S = 0.25
JOB_PATIENCE_S = 20.0
"""Seconds a client polls one job before it moves on (the end of the run still counts it)."""
METRICS_TOKEN = "load-test-scrape-token"
"""The replicas' WASTEROUTE_METRICS_TOKEN: the script reads replica-1's /metrics at the end."""
QUICK = {"duration_s": 24.0, "kill_at_s": 10.0, "big_bins": 60, "big_time_limit_s": 15.0, "grace_s": 30.0,
         "lease_s": 4.0}
COMPLETED_RUN = re.compile(r"app\.jobs\.execute: job ([0-9a-f]{32})\b.*?\b(succeeded|failed|cancelled)\b")
"""A solver worker's log line at the end of a job's run (one per run that reaches its end)."""


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server in ``folder`` for the block (run as ``postgres`` when this is root); its URL."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): give --database-url")
    bin_dir, port = bins[-1].parent, free_port()
    runas: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, user="postgres", group="postgres")
        runas = ["runuser", "-u", "postgres", "--"]
    data = folder / "pgdata"

    def pg(*command: str) -> None:
        subprocess.run([*runas, str(bin_dir / command[0]), *command[1:]], check=True, capture_output=True)

    pg("initdb", "-D", str(data), "-U", "wasteroute", "--auth=trust", "-E", "UTF8", "--no-locale")
    pg("pg_ctl", "-D", str(data), "-l", str(folder / "postgres.log"), "-w", "start", "-o",
       f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200")
    try:
        yield f"postgresql+psycopg://wasteroute@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")


@dataclass
class Replica:
    """One uvicorn process of the service, in a process group of its own (with its solver workers)."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    killed_at: float | None = None

    def kill(self) -> None:
        """SIGKILL the whole group: the server and its solver workers die at once, as with a container."""
        self.killed_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after 30 s."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def replica_env(database_url: str, folder: Path, workers: int, max_sync_bins: int,
                lease_s: float | None = None) -> dict[str, str]:
    """The environment of a replica: the shared store and graph cache, its own data folder; leases of
    ``lease_s`` renewed every quarter of it (``None``: the service's defaults)."""
    leases = {} if lease_s is None else {"WASTEROUTE_JOB_LEASE_S": str(lease_s),
                                         "WASTEROUTE_JOB_HEARTBEAT_S": str(lease_s / 4)}
    return {**os.environ, **leases, "WASTEROUTE_NETWORK_FILE": str(MONACO), "WASTEROUTE_DATA_DIR": str(folder),
            "WASTEROUTE_CACHE_DIR": str(folder.parent / "cache"), "WASTEROUTE_DATABASE_URL": database_url,
            "WASTEROUTE_MAX_CONCURRENT_SOLVES": str(workers), "WASTEROUTE_MAX_SYNC_BINS": str(max_sync_bins),
            "WASTEROUTE_LOG_LEVEL": "info", "WASTEROUTE_METRICS_TOKEN": METRICS_TOKEN}


def start_replica(name: str, env: dict[str, str], folder: Path) -> Replica:
    """Start a replica and wait until its health check answers."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (folder / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    replica = Replica(name, f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {folder / 'server.log'}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{replica.url}/api/v1/health", timeout=2).status_code == 200:
                return replica
        time.sleep(0.3)
    replica.kill()
    raise RuntimeError(f"{name} did not answer within {STARTUP_TIMEOUT_S:.0f} s")


def create_key(env: dict[str, str], tenant: str) -> str:
    """A new API key of ``tenant`` in the replicas' store (the last word ``wasteroute keys create`` prints)."""
    made = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--tenant", tenant],
                          env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return made.stdout.split()[-1]


# --------------------------------------------------------------------------- requests


@dataclass
class Submitted:
    """A job a client submitted: whose, what, to which replica, when (s since the start)."""

    tenant: str
    kind: str
    replica: str
    at_s: float


@dataclass
class Tally:
    """What the clients saw: latencies (s) and answer classes per kind of request, and the jobs."""

    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answers: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    jobs: dict[str, Submitted] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    """Transport errors and 4xx answers (but 429) by kind and message."""

    def record(self, kind: str, began: float, answer: httpx.Response | Exception) -> None:
        """Count one request of ``kind`` begun at ``began``."""
        self.latencies[kind].append(time.perf_counter() - began)
        if isinstance(answer, Exception):
            self.answers[kind]["transport"] += 1
            self.errors[f"{kind}: {type(answer).__name__}"] += 1
        else:
            self.answers[kind][f"{answer.status_code // 100}xx"] += 1


class Cluster:
    """The live replicas, taken in turn (as a proxy would); one that fails to answer is taken out."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.down: set[str] = set()
        self._turn = 0

    def next(self) -> Replica:
        """The next live replica."""
        live = [r for r in self.replicas if r.name not in self.down]
        self._turn += 1
        return live[self._turn % len(live)]

    async def send(self, client: httpx.AsyncClient, tally: Tally, kind: str, method: str, path: str,
                   to: Replica | None = None, **kwargs: Any) -> tuple[Replica, httpx.Response | None]:
        """One request to ``to`` or the next live replica, counted; a transport error takes that replica
        out (unless it is the last) and the answer is ``None``."""
        replica = to or self.next()
        began = time.perf_counter()
        try:
            answer = await client.request(method, replica.url + path, **kwargs)
        except httpx.TransportError as exc:
            tally.record(kind, began, exc)
            if len(self.down) < len(self.replicas) - 1:
                self.down.add(replica.name)
            return replica, None
        tally.record(kind, began, answer)
        if 400 <= answer.status_code < 500 and answer.status_code != 429:  # 429: a full queue, expected
            tally.errors[f"{kind}: {answer.status_code} {answer.text[:300]}"] += 1
        return replica, answer


def bin_pool(n: int, seed: int, cache_dir: Path) -> list[dict[str, Any]]:
    """``n`` kerbside bins on Monaco's streets as request items."""
    network = load_network(MONACO, cache_dir=cache_dir)
    return [{"id": b.id, "lon": round(b.lon, 7), "lat": round(b.lat, 7), "demand_kg": round(b.demand_kg, 1)}
            for b in kerbside_bins(network, n, seed=seed)]


def optimisation(bins: list[dict[str, Any]], time_limit_s: float, seed: int) -> dict[str, Any]:
    """An optimisation body: ``bins``, two lorries at the depot."""
    return {"depots": [DEPOT],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 20000},
                         {"id": "rcv-2", "depot": "depot", "capacity_kg": 20000}],
            "bins": bins, "options": {"time_limit_s": time_limit_s, "seed": seed}}


def evaluation(bins: list[dict[str, Any]]) -> dict[str, Any]:
    """A planner's plan of ``bins``: all on the first lorry, in the order given."""
    body = optimisation(bins, 1.0, 0)
    body["routes"] = [{"vehicle_id": "rcv-1", "stops": [b["id"] for b in bins]}]
    return body


async def follow(client: httpx.AsyncClient, cluster: Cluster, tally: Tally, job_id: str, until: float) -> None:
    """Poll a job on the live replicas until it ends, :data:`JOB_PATIENCE_S` pass or ``until``."""
    give_up = min(until, time.monotonic() + JOB_PATIENCE_S)
    while time.monotonic() < give_up:
        await asyncio.sleep(POLL_S)
        _, answer = await cluster.send(client, tally, "GET /jobs/{id}", "GET", f"/api/v1/jobs/{job_id}")
        if answer is not None and answer.status_code == 200 and answer.json()["status"] in ENDED:
            return


async def submit(client: httpx.AsyncClient, cluster: Cluster, tally: Tally, tenant: str, kind: str,
                 body: dict[str, Any], to: Replica | None = None) -> str | None:
    """Post a job of ``kind`` (an optimisation to /jobs, an evaluation to /evaluations) to ``to`` or the
    next live replica; its id if accepted."""
    path = "/api/v1/evaluations" if kind == "evaluation" else "/api/v1/jobs"
    replica, answer = await cluster.send(client, tally, f"POST {path.removeprefix('/api/v1')}", "POST", path,
                                         to=to, json=body)
    if answer is None or answer.status_code != 202:
        if answer is not None and answer.status_code == 429:
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
        return None
    job_id = str(answer.json()["id"])
    tally.jobs[job_id] = Submitted(tenant, kind, replica.name, time.monotonic() - tally.started)
    return job_id


async def planner(client: httpx.AsyncClient, cluster: Cluster, tally: Tally, tenant: str, index: int,
                  pool: list[dict[str, Any]], args: argparse.Namespace, stop_at: float) -> None:
    """One council's planner: small optimisations and evaluations as jobs, each followed, until ``stop_at``."""
    rng = random.Random(args.seed * 1000 + index)
    while time.monotonic() < stop_at:
        if rng.random() < args.evaluation_share:
            kind, body = "evaluation", evaluation(rng.sample(pool, args.bins + 1))
        else:
            kind, body = "optimisation", optimisation(rng.sample(pool, args.bins), args.time_limit_s,
                                                      rng.randrange(1000))
        job_id = await submit(client, cluster, tally, tenant, kind, body)
        if job_id is not None:
            await follow(client, cluster, tally, job_id, stop_at)


async def watch_ready(client: httpx.AsyncClient, replica: Replica, tally: Tally, stop_at: float) -> None:
    """Ask one replica ``GET /api/v1/ready`` every :data:`READY_PERIOD_S` while it lives."""
    while time.monotonic() < stop_at and replica.killed_at is None:
        began = time.perf_counter()
        try:
            tally.record("GET /ready", began, await client.get(f"{replica.url}/api/v1/ready"))
        except httpx.TransportError as exc:
            if replica.killed_at is None:
                tally.record("GET /ready", began, exc)
        await asyncio.sleep(READY_PERIOD_S)


async def killer(replica: Replica, at: float) -> None:
    """SIGKILL ``replica`` at ``at`` (monotonic)."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    await asyncio.to_thread(replica.kill)


async def run_load(cluster: Cluster, keys: dict[str, str], pool: list[dict[str, Any]], big: dict[str, Any],
                   args: argparse.Namespace) -> Tally:
    """The big job, the planners, the readiness watchers and the kill, for ``--duration-s``."""
    tally = Tally()
    stop_at = tally.started + args.duration_s
    timeout = httpx.Timeout(30.0)
    clients = {tenant: httpx.AsyncClient(timeout=timeout, headers={"X-API-Key": key}) for tenant, key in keys.items()}
    try:
        first = next(iter(keys))
        # to the replica that will be killed: a job caught mid-run by the kill is what the test is about
        await submit(clients[first], cluster, tally, first, "big optimisation", big, to=cluster.replicas[-1])
        tasks = [watch_ready(clients[first], r, tally, stop_at) for r in cluster.replicas]
        if args.kill_at_s > 0:
            tasks.append(killer(cluster.replicas[-1], tally.started + args.kill_at_s))
        tasks += [planner(clients[tenant], cluster, tally, tenant, t * 100 + i, pool, args, stop_at)
                  for t, tenant in enumerate(keys) for i in range(args.clients_per_tenant)]
        await asyncio.gather(*tasks)
    finally:
        for client in clients.values():
            await client.aclose()
    return tally


# --------------------------------------------------------------------------- the jobs' fate


def read_jobs(database_url: str, ids: list[str]) -> dict[str, JobRecord]:
    """The stored records of the jobs ``ids`` (read straight from the store, as every replica would)."""
    db = Store(database_url)
    try:
        with db.transaction() as session:
            return {job.id: job for job in session.scalars(select(JobRecord).where(JobRecord.id.in_(ids)))}
    finally:
        db.dispose()


def wait_for_ends(database_url: str, ids: list[str], grace_s: float) -> dict[str, JobRecord]:
    """Poll the store until every job of ``ids`` has ended or ``grace_s`` pass; the last records read."""
    deadline = time.monotonic() + grace_s
    while True:
        jobs = read_jobs(database_url, ids)
        if all(job.status in ENDED for job in jobs.values()) or time.monotonic() > deadline:
            return jobs
        time.sleep(1.0)


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """p50 and p95 of ``values`` (``None`` when there are none)."""
    if not values:
        return None, None
    p50, p95 = np.percentile(np.asarray(values), [50, 95])
    return round(float(p50), 2), round(float(p95), 2)


def scrape_jobs(replica: Replica) -> dict[str, dict[str, float]]:
    """Per tenant, the jobs by state and the started jobs' count, as ``replica``'s /metrics reports them."""
    answer = httpx.get(f"{replica.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    answer.raise_for_status()
    figures: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "wasteroute_jobs":
                figures[sample.labels["tenant"]][sample.labels["state"]] = sample.value
            elif sample.name == "wasteroute_job_queue_wait_seconds_count":
                figures[sample.labels["tenant"]]["started"] = sample.value
    return dict(figures)


def completed_runs(logs: list[Path]) -> Counter[str]:
    """Runs that reached their end, per job id, from the replicas' logs (their solver workers log there)."""
    runs: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            match = COMPLETED_RUN.search(line)
            if match is not None:
                runs[match.group(1)] += 1
    return runs


def report(tally: Tally, jobs: dict[str, JobRecord], runs: Counter[str], elapsed_s: float,
           killed: Replica | None, args: argparse.Namespace) -> dict[str, Any]:
    """Requests per kind; jobs per tenant (ended, lost, run twice, queue wait); throughput; the kill."""
    requests: dict[str, dict[str, Any]] = {}
    for kind, latencies in sorted(tally.latencies.items()):
        answers, p50, p95 = tally.answers[kind], *percentiles([s * 1000 for s in latencies])
        requests[kind] = {"count": len(latencies), "2xx": answers["2xx"], "4xx": answers["4xx"],
                          "5xx": answers["5xx"], "transport": answers["transport"],
                          "per_s": round(len(latencies) / elapsed_s, 2), "p50_ms": p50, "p95_ms": p95}
    tenants: dict[str, dict[str, Any]] = {}
    lost, twice, retried = [], [], []
    for tenant in sorted({s.tenant for s in tally.jobs.values()}):
        own = [(job_id, jobs[job_id]) for job_id, s in tally.jobs.items() if s.tenant == tenant and job_id in jobs]
        statuses = Counter(job.status for _, job in own)
        waits = [(job.started_at - job.created_at).total_seconds() for _, job in own if job.started_at is not None]
        p50, p95 = percentiles(waits)
        tenant_lost = [job_id for job_id, job in own if job.status not in ENDED]
        tenant_twice = [job_id for job_id, _ in own if runs[job_id] > 1]
        tenant_retried = [job_id for job_id, job in own if job.attempts > 1]
        lost += tenant_lost
        twice += tenant_twice
        retried += tenant_retried
        tenants[tenant] = {"submitted": len(own), **{s: statuses[s] for s in sorted(ENDED)},
                           "lost": len(tenant_lost), "retried": len(tenant_retried), "run_twice": len(tenant_twice),
                           "still_queued": statuses["queued"], "still_running": statuses["running"],
                           "wait_p50_s": p50, "wait_p95_s": p95}
    ended = [job for job in jobs.values() if job.status in ENDED and job.finished_at is not None]
    kill = None
    if killed is not None and killed.killed_at is not None:
        kill_s = killed.killed_at - tally.started
        taken = [job_id for job_id, s in tally.jobs.items() if s.replica == killed.name and s.at_s < kill_s]
        kill = {"replica": killed.name, "at_s": round(kill_s, 1), "jobs_taken_before": len(taken),
                "of_them_lost": len(set(taken) & set(lost)), "of_them_retried": len(set(taken) & set(retried)),
                "of_them_run_twice": len(set(taken) & set(twice)),
                "big_job": next((jobs[j].status for j, sub in tally.jobs.items()
                                 if sub.kind == "big optimisation" and j in jobs), None)}
    total_requests = sum(row["count"] for row in requests.values())
    return {"replicas": args.replicas, "tenants": args.tenants, "clients_per_tenant": args.clients_per_tenant,
            "workers_per_replica": args.workers, "seconds": round(elapsed_s, 1), "requests": requests,
            "requests_per_s": round(total_requests / elapsed_s, 2), "jobs": tenants,
            "jobs_ended": len(ended), "jobs_per_min": round(60 * len(ended) / elapsed_s, 1),
            "lost": sorted(lost), "retried": sorted(retried), "run_twice": sorted(twice), "kill": kill,
            "errors": dict(tally.errors)}


def print_tables(result: dict[str, Any]) -> None:
    """The report as Markdown tables."""
    print(f"{result['replicas']} replicas x {result['workers_per_replica']} solver workers, {result['tenants']} "
          f"tenants x {result['clients_per_tenant']} clients, {result['seconds']} s: "
          f"{result['requests_per_s']} requests/s, {result['jobs_ended']} jobs ended ({result['jobs_per_min']}/min)")
    print()
    print("| request | count | 2xx | 4xx | 5xx | transport | per s | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, row in result["requests"].items():
        print(f"| {kind} | {row['count']} | {row['2xx']} | {row['4xx']} | {row['5xx']} | {row['transport']} | "
              f"{row['per_s']} | {row['p50_ms']} | {row['p95_ms']} |")
    print()
    print("| tenant | submitted | succeeded | failed | cancelled | lost (queued/running) | retried | run twice | "
          "wait p50 s | wait p95 s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tenant, row in result["jobs"].items():
        print(f"| {tenant} | {row['submitted']} | {row['succeeded']} | {row['failed']} | {row['cancelled']} | "
              f"{row['lost']} ({row['still_queued']}/{row['still_running']}) | {row['retried']} | {row['run_twice']} | "
              f"{row['wait_p50_s']} | {row['wait_p95_s']} |")
    kill = result["kill"]
    print()
    print("no replica killed" if kill is None else
          f"{kill['replica']} killed (SIGKILL) at {kill['at_s']} s: it had taken {kill['jobs_taken_before']} "
          f"job(s), of which {kill['of_them_lost']} lost, {kill['of_them_retried']} retried and "
          f"{kill['of_them_run_twice']} run twice; the big job is {kill['big_job']}")
    print()
    for tenant, figures in result["metrics"].items():
        print(f"{tenant} in replica-1's /metrics: " + ", ".join(f"{k} {v:g}" for k, v in sorted(figures.items())))
    for error, count in result["errors"].items():
        print(f"x{count}: {error}")


# --------------------------------------------------------------------------- main


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, ``--quick`` applied."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="uvicorn processes of the service")
    parser.add_argument("--tenants", type=int, default=3, help="councils, each with its own API key")
    parser.add_argument("--clients-per-tenant", type=int, default=2, help="planners of each council at once")
    parser.add_argument("--duration-s", type=float, default=90.0, help="seconds the planners keep posting")
    parser.add_argument("--kill-at-s", type=float, default=30.0, help="when the last replica is killed; 0: never")
    parser.add_argument("--bins", type=int, default=5, help="bins of a small optimisation (an evaluation: one more)")
    parser.add_argument("--time-limit-s", type=float, default=0.5, help="search time of a small optimisation")
    parser.add_argument("--evaluation-share", type=float, default=0.3, help="share of jobs that are evaluations")
    parser.add_argument("--big-bins", type=int, default=400, help="bins of the first tenant's big optimisation")
    parser.add_argument("--big-time-limit-s", type=float, default=60.0, help="search time of the big one")
    parser.add_argument("--workers", type=int, default=2, help="solver worker processes per replica")
    parser.add_argument("--grace-s", type=float, default=90.0, help="seconds after the end for jobs to end")
    parser.add_argument("--lease-s", type=float, default=None,
                        help="the replicas' job lease, renewed every quarter of it (default: the service's, 30 s)")
    parser.add_argument("--database-url", help="a PostgreSQL database to use (default: a throwaway server)")
    parser.add_argument("--data-dir", help="keep the replicas' logs and the graph cache here (default: removed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run: " + ", ".join(
        f"{k.replace('_', '-')} {v}" for k, v in QUICK.items()))
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.replicas < 1 or args.tenants < 1 or args.clients_per_tenant < 1:
        parser.error("--replicas, --tenants and --clients-per-tenant must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start PostgreSQL and the replicas, run the load, wait for the jobs, report; stop everything."""
    args = parse(argv)
    with contextlib.ExitStack() as stack:
        folder = Path(args.data_dir) if args.data_dir else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="wasteroute-load-")))
        folder.mkdir(parents=True, exist_ok=True)
        database_url = args.database_url
        if database_url is None:  # a folder of its own: the postgres user may not enter --data-dir's parents
            pg_folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wasteroute-load-pg-")))
            database_url = stack.enter_context(throwaway_postgres(pg_folder))
        env = replica_env(database_url, folder / "replica-1", args.workers, max_sync_bins=args.bins,
                          lease_s=args.lease_s)
        replicas: list[Replica] = []

        def stop_replicas() -> None:
            for replica in replicas:
                replica.stop()

        stack.callback(stop_replicas)
        for n in range(1, args.replicas + 1):  # one after the other: the first builds the graph cache
            name = f"replica-{n}"
            replicas.append(start_replica(name, replica_env(database_url, folder / name, args.workers,
                                                            max_sync_bins=args.bins, lease_s=args.lease_s),
                                          folder / name))
        keys = {f"council-{chr(ord('a') + t)}": create_key(env, f"council-{chr(ord('a') + t)}")
                for t in range(args.tenants)}
        pool = bin_pool(max(200, args.big_bins, 4 * args.bins), args.seed, folder / "cache")
        big = optimisation(pool[:args.big_bins], args.big_time_limit_s, args.seed)
        tally = asyncio.run(run_load(Cluster(replicas), keys, pool, big, args))
        elapsed = time.monotonic() - tally.started
        jobs = wait_for_ends(database_url, list(tally.jobs), args.grace_s)
        killed = replicas[-1] if args.kill_at_s > 0 and len(replicas) > 1 else None
        metrics = scrape_jobs(replicas[0])
        for replica in replicas:  # their logs are complete once they have stopped
            replica.stop()
        runs = completed_runs([folder / r.name / "server.log" for r in replicas])
        result = report(tally, jobs, runs, elapsed, killed, args) | {"metrics": metrics}
    if args.json:
        print(json.dumps(result))
    else:
        print_tables(result)
    server_errors = sum(row["5xx"] for row in result["requests"].values())
    return 1 if result["lost"] or result["run_twice"] or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
