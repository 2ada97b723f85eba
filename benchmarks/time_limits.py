"""Where a solve's time goes beyond its time limit: the Oakham case as a job through the service.

Usage::

    .venv/bin/python benchmarks/time_limits.py [--time-limit-s 20] [--searches N] [--write-problem FILE]

Builds issue 15's Oakham case (:mod:`solver.instances.oakham`, 2,603 bins, four lorries; the
Rutland extract in ``../shared``) with ``--time-limit-s``, starts the service in this process
(real solver worker process, a SQLite store in ``var/time-limits``, the Rutland network) with
``--searches`` searches per solve (the service's default: the usable cores), posts the case to
``POST /api/v1/jobs`` and polls it to its end. Prints one JSON object: the seconds from posting
to the answer, the answer's ``summary.timings`` (wall clock of the pipeline and its stages) and
the bins served. ``--write-problem`` also writes the request body, for ``wasteroute solve``.
Nothing is asserted; the figures are in docs/performance.md ("Time limits").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from solver.instances.oakham import oakham_request  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
DATA_DIR = REPO / "var" / "time-limits"
FINAL = ("succeeded", "failed", "cancelled")


def run(body: dict[str, Any], searches: int | None) -> dict[str, Any]:
    """Start the service, run ``body`` as a job to its end; the figures."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    settings = Settings(network_file=RUTLAND, data_dir=DATA_DIR, cache_dir=DATA_DIR / "cache", auth_required=False,
                        max_concurrent_solves=1, max_time_limit_s=3600, search_processes=searches,
                        database_url=f"sqlite:///{DATA_DIR / 'store.sqlite3'}")
    begun = time.perf_counter()
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        job_id = client.post("/api/v1/jobs", json=body).json()["id"]
        while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] not in FINAL:
            time.sleep(0.2)
        waited = time.perf_counter() - started
    summary = (job["result"] or {}).get("summary", {})
    return {"time_limit_s": body["options"]["time_limit_s"], "searches": settings.searches_per_solve,
            "status": job["status"], "error": job["error"], "service_start_s": round(started - begun, 2),
            "posted_to_answer_s": round(waited, 2), "timings": summary.get("timings"),
            "bins_served": summary.get("bins_served")}


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit-s", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--searches", type=int, default=None, help="searches per solve (default: the service's)")
    parser.add_argument("--write-problem", type=Path, help="also write the request body (JSON) here")
    args = parser.parse_args()
    if not RUTLAND.is_file():
        parser.exit(2, f"{RUTLAND} not found: the Oakham case needs the Rutland extract in ../shared\n")
    body = oakham_request(RUTLAND, time_limit_s=args.time_limit_s, seed=args.seed)
    if args.write_problem:
        args.write_problem.write_text(json.dumps(body) + "\n", encoding="utf-8")
    print(json.dumps(run(body, args.searches), indent=1))


if __name__ == "__main__":
    main()
