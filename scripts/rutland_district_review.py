"""The Rutland district's week reviewed end to end through the real service and the map: time, memory, figures,
and a picture of one day (docs/images/district-week-day.png).

Usage::

    .venv/bin/python scripts/rutland_district_review.py [--properties N] [--time-limit-s T] [--workers W]
        [--day tue-A] [--out docs/images/district-week-day.png] [--keep DIR] [--no-picture]
        [--district-from-bins B]

Steps:

1. the week of :mod:`solver.instances.rutland_week` (``N`` properties, 40,000 by default: about 60,000 bins
   a fortnight, 12 lorries) written as the body of ``POST /api/v1/round-reviews`` (the shared API's "round
   reviews"), every refuse bin with today's day, week and round (each (day, week) cut into a round per refuse
   lorry, :func:`today_rounds`);
2. ``uvicorn app.main:create_app`` started on ``../shared``'s Rutland extract (its own data folder and
   SQLite store; keys off, since the service listens on loopback only) with
   ``WASTEROUTE_DISTRICT_REVIEW_WORKERS=W``, its network built into ``var/network-cache``;
3. the review posted as a job and polled to its end, while the resident memory of the server's whole process
   tree (server, solver workers, the review's pool) is sampled every second with psutil: ``peak_gb`` is the
   largest sum seen at one moment (not the sum of each process's peak);
4. the map opened in headless Chromium on that review's day (``--day``, else the busiest), its rounds and
   areas drawn, and the window saved (``scripts/screenshot_week_day.py --server``).

Printed (and kept in ``DIR/figures.json`` with ``--keep``): properties, bins, clusters, the job's wall
seconds, the peak memory, vehicles on the busiest day and per day, km, hours, the worst duration spread of a
day, compactness (mean share of a round's street length inside other rounds' areas, worst day), households
moved, bins left out and why, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.instances.oakham import BREAK, SHIFT  # noqa: E402
from solver.instances.rutland_week import district_week  # noqa: E402
from solver.week import WeekProblem  # noqa: E402

NETWORK = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
STARTUP_S = 900.0
"""Seconds the service may take to start (building Rutland's network the first time)."""


def review_body(week: WeekProblem, *, time_limit_s: float, seed: int) -> dict[str, Any]:
    """The request of ``week`` (see the module docstring), lorries and tip as the week has them."""
    problem = week.problem
    by_id = {b.id: b for b in week.bins}
    rounds = today_rounds(week)
    bins = []
    for b in problem.bins:
        w = by_id[b.id]
        entry: dict[str, Any] = {"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": b.demand_kg,
                                 "volume_l": b.volume_l, "service_s": b.service_s, "stream": b.stream,
                                 "property": w.property, "frequency": w.frequency.kind}
        if w.current is not None:
            entry["current"] = {"day": w.current.day, "week": w.current.week, "round": rounds[b.id]}
        bins.append(entry)
    return {
        "calendar": {"days": list(week.calendar.days), "weeks": list(week.calendar.weeks)},
        "depots": [{"id": d.id, "lon": d.lon, "lat": d.lat} for d in problem.depots],
        "disposal_sites": [{"id": s.id, "lon": s.lon, "lat": s.lat, "unload_s": s.unload_s,
                            "days": list(week.tip_days.get(s.id, week.calendar.days))} for s in problem.disposal_sites],
        "vehicles": [{"id": v.id, "depot": v.depot_id, "capacity_kg": v.capacity_kg, "shift": list(SHIFT),
                      "break": BREAK, "streams": list(v.streams),
                      "days": list(week.vehicle_days.get(v.id, week.calendar.days))} for v in problem.vehicles],
        "bins": bins,
        "options": {"time_limit_s": time_limit_s, "seed": seed, "day_change_cost": week.options.day_change_cost},
    }


def today_rounds(week: WeekProblem) -> dict[str, str]:
    """Today's round of each bin with a current day: the instance names one round a (day, week) (``mon-A``),
    thousands of bins no lorry drives alone; here each (day, week)'s bins are cut by angle around the depot
    into as many rounds as lorries of their stream, ``mon-A-1``..., as a council's rounds are cut."""
    problem = week.problem
    depot = problem.depots[0]
    groups: dict[tuple[str, str | None, str], list[Any]] = {}
    for w in week.bins:
        if w.current is not None:
            b = problem.bin(w.id)
            groups.setdefault((w.current.day, w.current.week, b.stream), []).append(b)
    names = {}
    for (day, label, stream), members in groups.items():
        lorries = max(1, sum(1 for v in problem.vehicles if v.carries(stream)))
        members.sort(key=lambda b: math.atan2(b.lat - depot.lat, b.lon - depot.lon))
        for i, b in enumerate(members):
            names[b.id] = f"{day}-{label}-{i * lorries // len(members) + 1}"
    return names


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TreeMemory(threading.Thread):
    """Samples the resident memory of a process and all its descendants every ``every_s`` seconds."""

    def __init__(self, pid: int, every_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.root, self.every_s = psutil.Process(pid), every_s
        self.peak_bytes, self.peak_processes = 0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_processes = total, len(tree)
            self.stopping.wait(self.every_s)


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``GET /api/v1/health`` names the road network (loaded), or fail naming the log."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited ({process.returncode}); see {log}")
        try:
            answer = httpx.get(f"{base}/api/v1/health", timeout=5)
            if answer.status_code == 200 and answer.json().get("network"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise SystemExit(f"the service was not ready within {STARTUP_S:.0f} s; see {log}")


def figures(result: dict[str, Any], body: dict[str, Any], properties: int) -> dict[str, Any]:
    """The review's figures for docs/performance.md."""
    summary, days = result["summary"], result["days"]
    spreads = [(d.get("balance") or {}).get("duration_spread") for d in days]
    overlap = [(d.get("compactness") or {}).get("mean_overlap_share") for d in days]
    return {
        "properties": properties, "bins": len(body["bins"]), "clusters": summary.get("clusters"),
        "method": summary.get("method"),
        "busiest_day_vehicles": summary["max_vehicles_per_day"],
        "vehicles_per_day": " ".join(str(d["vehicles_used"]) for d in days),
        "km": round(summary["distance_m"] / 1000, 1), "hours": round(summary["duration_s"] / 3600, 1),
        "worst_duration_spread": round(max((s for s in spreads if s is not None), default=0.0), 3),
        "duration_spread_per_day": " ".join("-" if s is None else f"{s:.2f}" for s in spreads),
        "worst_overlap_share": round(max((s for s in overlap if s is not None), default=0.0), 3),
        "households_moved": summary["properties_changing_day"],
        "bins_left_out": summary["bins_unassigned"],
        "left_out_why": dict(Counter(u["reason"] for u in result["unassigned"])),
        "review_wall_s": round(summary["wall_s"], 1),
        "today_km": round(result["today"]["summary"]["distance_m"] / 1000, 1) if result.get("today") else None,
        "today_busiest_day_vehicles": result["today"]["summary"]["max_vehicles_per_day"] if result.get("today")
        else None,
    }


def main() -> None:
    """Build, serve, review, measure, picture; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--properties", type=int, default=40_000)
    parser.add_argument("--time-limit-s", type=float, default=1500.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--day", default=None, help='the day pictured, "tue-A" (default: the busiest)')
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "district-week-day.png")
    parser.add_argument("--keep", type=Path, default=None, help="keep the service's folder (log, store) here")
    parser.add_argument("--no-picture", action="store_true")
    parser.add_argument("--district-from-bins", type=int, default=None,
                        help="WASTEROUTE_DISTRICT_REVIEW_FROM_BINS for the service (a smaller week down the district "
                             "path; default: the service's)")
    args = parser.parse_args()
    # a kill of this script ends the service it started too (the finally below runs)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()[0]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="district-review-"))
    folder.mkdir(parents=True, exist_ok=True)
    built = time.perf_counter()
    body = review_body(district_week(NETWORK, args.properties, seed=args.seed).week, time_limit_s=args.time_limit_s,
                       seed=args.seed)
    print(f"week of {args.properties} properties, {len(body['bins'])} bins built in "
          f"{time.perf_counter() - built:.1f} s", flush=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WASTEROUTE_NETWORK_FILE": str(NETWORK), "WASTEROUTE_CACHE_DIR": str(CACHE_DIR),
           "WASTEROUTE_DATA_DIR": str(folder), "WASTEROUTE_DATABASE_URL": f"sqlite:///{folder / 'store.db'}",
           "WASTEROUTE_AUTH_REQUIRED": "false", "WASTEROUTE_MAX_CONCURRENT_SOLVES": "1",
           "WASTEROUTE_DISTRICT_REVIEW_WORKERS": str(args.workers),
           **({"WASTEROUTE_DISTRICT_REVIEW_FROM_BINS": str(args.district_from_bins)}
              if args.district_from_bins else {}),
           "WASTEROUTE_MAX_TIME_LIMIT_S": str(max(args.time_limit_s, 300.0)),
           "WASTEROUTE_MAX_BODY_BYTES": str(200 * 1024 * 1024), "WASTEROUTE_LOG_LEVEL": "info",
           "WASTEROUTE_TILE_URL": f"http://127.0.0.1:{free_port()}/tiles/{{z}}/{{x}}/{{y}}.png"}
    log = folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host",
                                   "127.0.0.1", "--port", str(port)], cwd=REPO, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_ready(base, server, log)
        print(f"service ready at {base} (log {log})", flush=True)
        memory = TreeMemory(server.pid)
        memory.start()
        started = time.perf_counter()
        with httpx.Client(base_url=base, timeout=600) as http:
            posted = http.post("/api/v1/round-reviews", json=body)
            if posted.status_code != 202:
                raise SystemExit(f"the review was refused: {posted.status_code} {posted.text[:2000]}")
            job_id = posted.json()["id"]
            last = -1.0
            while True:
                job = http.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    break
                if job.get("progress", 0) - last >= 0.05:
                    last = job.get("progress", 0)
                    print(f"{time.perf_counter() - started:7.1f} s: {job['status']} {last:.2f}", flush=True)
                time.sleep(2)
            wall = time.perf_counter() - started
            memory.stopping.set()
            memory.join()
            if job["status"] != "succeeded":
                raise SystemExit(f"the review {job_id} {job['status']}: {job.get('error')}")
            row = figures(job["result"], body, args.properties)
        row.update(review_id=job_id, job_wall_s=round(wall, 1), peak_gb=round(memory.peak_bytes / 1024 ** 3, 2),
                   processes_at_peak=memory.peak_processes, limit_s=args.time_limit_s, workers=args.workers,
                   load_avg=f"{load_before:.1f}->{os.getloadavg()[0]:.1f}")
        print(json.dumps(row), flush=True)
        (folder / "figures.json").write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
        if not args.no_picture:
            picture = [sys.executable, str(REPO / "scripts" / "screenshot_week_day.py"), "--server", base, "--review",
                       job_id, "--out", str(args.out), *(["--day", args.day] if args.day else [])]
            subprocess.run(picture, check=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
