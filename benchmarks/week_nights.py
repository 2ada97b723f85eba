"""An approved week's nights on the embedded Monaco network: approving a reviewed fortnight, placing new
properties on their cheapest day and round, and re-optimising one night's day.

Usage::

    .venv/bin/python benchmarks/week_nights.py [--properties N] [--new M] [--review-limit-s T] [--night-limit-s S]

The fortnight is ``benchmarks/round_review.py``'s (weekly refuse for every property, fortnightly
recycling for every other one, three 2 t lorries, current days Monday to Friday in turn), reviewed
through the API (a TestClient, its own worker and store) and approved with week A starting Monday
4 January 2027. Then ``M`` new properties (weekly refuse, 12 kg, any day, synthetic kerbside points of
another seed) are placed (:func:`app.batch.new_properties.place_new_properties`) and the night of
Monday 4 January (Monday A) is run (:func:`app.batch.nightly.run_batch`, local process pool). Printed:
one row of figures. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time
from collections import Counter
from datetime import date

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from fastapi.testclient import TestClient  # noqa: E402
from round_review import review_body  # noqa: E402

from app.batch.new_properties import place_new_properties  # noqa: E402
from app.batch.nightly import BatchOptions, run_batch  # noqa: E402
from app.core.config import Settings, default_network_file  # noqa: E402
from app.core.json_types import JSONObject  # noqa: E402
from app.main import create_app  # noqa: E402
from app.store import Store  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402

MONDAY_A = date(2027, 1, 4)


def main() -> None:
    """Print the row."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, default=300)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--review-limit-s", type=float, default=20.0)
    parser.add_argument("--night-limit-s", type=float, default=10.0)
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="wasteroute-week-nights-"))
    settings = Settings(network_file=default_network_file(), data_dir=folder, cache_dir=folder / "cache",
                        default_time_limit_s=1, max_time_limit_s=3600, auth_required=False, max_concurrent_solves=1)
    network = load_network(default_network_file(), cache_dir=folder / "cache")
    body = review_body(network, args.properties, args.review_limit_s, "duration")
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        review_id = client.post("/api/v1/round-reviews", json=body).json()["id"]
        while (job := client.get(f"/api/v1/jobs/{review_id}").json())["status"] not in ("succeeded", "failed",
                                                                                       "cancelled"):
            time.sleep(0.2)
        review_s = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise SystemExit(f"the review ended {job['status']}: {job.get('error')}")
        started = time.perf_counter()
        approved = client.post(f"/api/v1/round-reviews/{review_id}/approve",
                               json={"by": "Benchmark", "week_a_starts": MONDAY_A.isoformat()})
        approve_s = time.perf_counter() - started
        if approved.status_code != 200:
            raise SystemExit(f"the approval was refused: {approved.status_code} {approved.text[:300]}")
    new: list[JSONObject] = [{"id": f"new{i}", "lon": b.lon, "lat": b.lat, "demand_kg": 12, "service_s": 25,
                              "stream": "refuse", "property": f"new-p{i}", "frequency": "weekly"}
                             for i, b in enumerate(kerbside_bins(network, args.new, seed=7, prefix="n"))]
    store = Store(settings.database_url)
    started = time.perf_counter()
    placed = place_new_properties(store, settings, network, {(settings.default_tenant, None): new}, MONDAY_A)
    place_s = time.perf_counter() - started
    started = time.perf_counter()
    report = run_batch(settings, BatchOptions(night=MONDAY_A, report_dir=folder / "reports",
                                              time_limit_s=args.night_limit_s, show_progress=False), store=store)
    night_s = time.perf_counter() - started
    store.dispose()
    days = Counter(p.days() for p in placed if p.status == "placed")
    added = [v.added_s for p in placed for v in p.visits if v.added_s is not None]
    row = {"properties": args.properties, "bins": len(body["bins"]), "review_s": round(review_s, 1),
           "approve_s": round(approve_s, 2), "round_sets": len(approved.json()["approval"]["round_sets"]),
           "new": args.new, "placed": sum(p.status == "placed" for p in placed), "place_s": round(place_s, 1),
           "days_of_new": dict(days), "mean_added_s": round(sum(added) / len(added), 1) if added else None,
           "night_round_sets": [f"{r.round_set} {r.status}" for r in report.round_sets],
           "night_s": round(night_s, 1), "night_limit_s": args.night_limit_s}
    for key, value in row.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
