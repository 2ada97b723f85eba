"""A round review of a synthetic fortnight on the embedded Monaco network, through the API: how long
the job takes against its time limit, and what the week comes to.

Usage::

    .venv/bin/python benchmarks/round_review.py [--properties N ...] [--time-limit-s T] [--objective O]

Each property gets weekly refuse (12 kg) on a current weekday (Monday to Friday in turn) and every
second one fortnightly recycling (8 kg) on the same day; three 2 t lorries work every day of weeks A
and B from the demo depot; a day change costs 5. The body goes to ``POST /api/v1/round-reviews`` of a
real app (a TestClient, its own worker and store) and the job is polled to its end. Printed: one row per
size (properties, bins, limit, the job's wall seconds and the review's own, the busiest day's vehicles,
km, hours, households moving, bins left out). With ``--report`` each recycling bin also carries its
current day and week (A for every other household with recycling, B for the rest), and the row adds
today's week (its busiest day's vehicles, km, hours, bins it leaves out) and the seconds the week's
savings report (``GET /api/v1/round-reviews/{id}/report?format=json``) takes (``--html FILE`` keeps its
printable HTML). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402

from app.core.config import Settings, default_network_file  # noqa: E402
from app.main import create_app  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402

DAYS = ["mon", "tue", "wed", "thu", "fri"]


def review_body(network: Any, properties: int, time_limit_s: float, objective: str, *,
                recycling_today: bool = False) -> dict[str, Any]:
    """The request of a fortnight of ``properties`` households on ``network`` (recycling bins with a current
    day and week when ``recycling_today``)."""
    bins: list[dict[str, Any]] = []
    for i, b in enumerate(kerbside_bins(network, properties, seed=1)):
        bins.append({"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": 12, "service_s": 25, "stream": "refuse",
                     "property": f"p{i}", "frequency": "weekly", "current": {"day": DAYS[i % 5], "round": "R1"}})
        if i % 2 == 0:
            bins.append({"id": b.id + "r", "lon": b.lon, "lat": b.lat, "demand_kg": 8, "service_s": 20,
                         "stream": "recycling", "property": f"p{i}", "frequency": "fortnightly"})
            if recycling_today:
                bins[-1]["current"] = {"day": DAYS[i % 5], "week": "AB"[(i // 2) % 2], "round": "R2"}
    return {"calendar": {"days": DAYS, "weeks": ["A", "B"]},
            "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
            "vehicles": [{"id": f"rcv-{k}", "depot": "depot", "capacity_kg": 2000, "shift": ["06:00", "14:00"],
                          "streams": ["refuse", "recycling"]} for k in range(3)],
            "bins": bins,
            "options": {"time_limit_s": time_limit_s, "day_change_cost": 5.0, "objective": objective}}


def _finished(client: TestClient, job_id: str) -> dict[str, Any]:
    """Poll a job until it ends; its last answer."""
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)


def run(client: TestClient, body: dict[str, Any], *, report: bool = False,
        html: pathlib.Path | None = None) -> dict[str, Any]:
    """Post the review, poll its job to the end (and time its report when ``report``, saving its HTML to
    ``html`` when given); the row of figures."""
    started = time.perf_counter()
    posted = client.post("/api/v1/round-reviews", json=body)
    if posted.status_code != 202:
        raise SystemExit(f"the review was refused: {posted.status_code} {posted.text[:500]}")
    job_id = posted.json()["id"]
    job = _finished(client, job_id)
    wall = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise SystemExit(f"the review job ended {job['status']}: {job.get('error')}")
    summary = job["result"]["summary"]
    extra: dict[str, Any] = {}
    if report:
        today = job["result"]["today"]["summary"]
        asked = time.perf_counter()
        answer = client.get(f"/api/v1/round-reviews/{job_id}/report", params={"format": "json"})
        if answer.status_code == 202:  # over WASTEROUTE_MAX_SYNC_BINS: a report job
            made = _finished(client, answer.json()["id"])
            answer = client.get(f"/api/v1/jobs/{made['id']}/report", params={"format": "json"})
        if answer.status_code != 200:
            raise SystemExit(f"the report answered {answer.status_code}: {answer.text[:500]}")
        figures = answer.json()
        if html is not None:
            page = client.get(f"/api/v1/round-reviews/{job_id}/report")
            if page.status_code == 202:
                page = client.get(f"/api/v1/jobs/{_finished(client, page.json()['id'])['id']}/report")
            html.write_text(page.text, encoding="utf-8")
        extra = {"today_busiest_day_vehicles": today["max_vehicles_per_day"],
                 "today_km": round(today["distance_m"] / 1000, 1), "today_hours": round(today["duration_s"] / 3600, 1),
                 "today_bins_left_out": today["bins_unassigned"], "report_s": round(time.perf_counter() - asked, 1),
                 "cost_per_year_delta_gbp": round(figures["per_year"]["delta"]["cost_gbp"])}
    return {"properties": sum(1 for b in body["bins"] if b["frequency"] == "weekly"), "bins": len(body["bins"]),
            "limit_s": body["options"]["time_limit_s"], "job_wall_s": round(wall, 1),
            "review_wall_s": round(summary["wall_s"], 1), "busiest_day_vehicles": summary["max_vehicles_per_day"],
            "km": round(summary["distance_m"] / 1000, 1), "hours": round(summary["duration_s"] / 3600, 1),
            "households_moving": summary["properties_changing_day"],
            "bins_left_out": len(job["result"]["unassigned"]), **extra}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, nargs="+", default=[300])
    parser.add_argument("--time-limit-s", type=float, default=20.0)
    parser.add_argument("--objective", default="duration")
    parser.add_argument("--report", action="store_true", help="also today's week and the week's report")
    parser.add_argument("--html", type=pathlib.Path, help="with --report: save the last week's report HTML here")
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="wasteroute-review-"))
    settings = Settings(network_file=default_network_file(), data_dir=folder, cache_dir=folder / "cache",
                        default_time_limit_s=1, max_time_limit_s=3600, auth_required=False, max_concurrent_solves=1)
    network = load_network(default_network_file(), cache_dir=folder / "cache")
    rows = []
    with TestClient(create_app(settings)) as client:
        for n in args.properties:
            rows.append(run(client, review_body(network, n, args.time_limit_s, args.objective,
                                                recycling_today=args.report), report=args.report,
                                html=args.html))
            print(rows[-1], file=sys.stderr)
    head = list(rows[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in head) + " |")


if __name__ == "__main__":
    main()
