"""The worked example of realised savings (issue 18), end to end through the API, on the embedded
Monaco demo data: nothing here is a real council's, and the traces are simulated, so that anyone can
run it again and get the same files.

1. starts the service (uvicorn, a fresh store in ``--out``) unless ``--base`` and ``--key`` name one;
2. "today's rounds": the demo's bins in plain nearest-bin rounds (:func:`solver.plain_rounds.nearest_bin_rounds`),
   stored as a person's plan; the optimised rounds: those an OR-Tools job of the demo problem found
   once, kept in ``scripts/worked_example_optimised_routes.json`` and stored as a plan (a 5 s search
   on a busy machine is not the same plan from run to run), or with ``--optimise`` a job run afresh
   (its rounds written to ``optimised-routes.json`` in ``--out``);
3. for ``--days`` Tuesdays on today's rounds and as many on the optimised ones, each vehicle's round
   driven by the trace simulator (:mod:`solver.traces.simulate`; a fix every ``--interval-s``, 10 m of
   noise, a day's seed each; on today's rounds, a crew on one day in three skips a street and drives a
   stretch in reverse, as crews do), posted as that day's telematics CSV, with the in-cab lift records
   (``--no-lifts``: without; the bins are then read from where the lorries stood), to
   ``POST /api/v1/actuals`` naming the plan the crews followed;
4. the realised-savings report (``GET /api/v1/actuals/report``, JSON and HTML) and the case study
   (``GET /api/v1/actuals/case-study``, JSON and HTML), the optimised plan's modelled saving beside.

Usage::

    .venv/bin/python scripts/worked_example_actuals.py [--days 3] [--interval-s 5] [--no-lifts] \
        [--optimise] [--out var/worked-example]

Writes into ``--out``: ``report.json``, ``report.html``, ``case-study.json``, ``case-study.html`` and
``days.json`` (each day's job result: km, bins, order followed, notes); prints a summary.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.schemas import OptimisationRequest  # noqa: E402
from app.services.optimisation import to_problem  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline.stages import PreparedProblem, prepare  # noqa: E402
from solver.plain_rounds import nearest_bin_rounds  # noqa: E402
from solver.problem import BREAK_STOP  # noqa: E402
from solver.traces.simulate import Departures, TraceOptions, simulate_round  # noqa: E402

ROUND_SET = "monaco/worked-example/tuesday"
OPTIMISED_ROUTES = Path(__file__).resolve().with_name("worked_example_optimised_routes.json")
FIRST_BEFORE = date(2026, 10, 6)
"""The first Tuesday on today's rounds; the optimised rounds start eight weeks later."""
COUNCIL = "Monaco demo (simulated traces; not a real council)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _service(data_dir: Path) -> Iterator[tuple[str, str]]:
    """The service started on a free loopback port with its store in ``data_dir``: its URL and an API key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEROUTE_")}
    env.update(WASTEROUTE_DATA_DIR=str(data_dir), WASTEROUTE_CACHE_DIR=str(REPO / "var" / "network-cache"),
               WASTEROUTE_LOG_LEVEL="warning", WASTEROUTE_AUTH_REQUIRED="true",
               WASTEROUTE_MAX_CONCURRENT_SOLVES="1")  # one job at a time: one solver worker to start
    made = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--tenant", "worked-example"],
                          env=env, cwd=REPO, capture_output=True, text=True, check=True, timeout=300)
    key = made.stdout.strip().splitlines()[-1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (data_dir / "server.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host",
                                   "127.0.0.1", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=log)
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None:
                    raise RuntimeError(f"the service stopped: see {data_dir / 'server.log'}")
                time.sleep(0.5)
            yield base, key
        finally:
            server.terminate()
            server.wait(timeout=60)


class Api:
    """The service's API with a key."""

    def __init__(self, base: str, key: str) -> None:
        self.client = httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=600)

    def ok(self, response: httpx.Response) -> Any:
        if not response.is_success:
            raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} "
                               f"{response.text[:2000]}")
        return response.json() if "json" in response.headers.get("content-type", "") else response.text

    def job(self, job_id: str) -> dict[str, Any]:
        """The job once finished (succeeded asserted)."""
        while True:
            job = self.ok(self.client.get(f"/api/v1/jobs/{job_id}"))
            if job["status"] in ("succeeded", "failed", "cancelled"):
                if job["status"] != "succeeded":
                    raise RuntimeError(f"job {job_id} {job['status']}: {job.get('error')}")
                return dict(job)
            time.sleep(0.5)


def _stops(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Each round's stops in driving order (bins, tips, breaks; depots left out) from a plan's answer."""
    visits = [f["properties"] for f in plan["features"] if f["properties"]["kind"] == "visit"]
    out: dict[str, list[str]] = {}
    for v in sorted(visits, key=lambda v: (v["vehicle_id"], v["sequence"])):
        stop = {"bin": v.get("bin_id"), "disposal": v.get("site_id"), "break": BREAK_STOP}.get(v["type"])
        if stop:
            out.setdefault(v["vehicle_id"], []).append(stop)
    return out


def _day_files(prepared: PreparedProblem, rounds: dict[str, list[str]], day: date, seed: int,
               interval_s: float, departures: Departures) -> tuple[bytes, bytes, dict[str, float]]:
    """The day's telematics export (every round driven by the simulator), its in-cab lift records, and
    the metres each round truly drove (the simulator's truth, to check the matched metres against)."""
    traces, lifts = io.StringIO(), io.StringIO()
    fixes_out, lifts_out = csv.writer(traces), csv.writer(lifts)
    fixes_out.writerow(["vehicle", "time", "lon", "lat"])
    lifts_out.writerow(["vehicle", "time", "bin_id"])
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    true_m: dict[str, float] = {}
    for k, (vehicle_id, stops) in enumerate(sorted(rounds.items())):
        sim = simulate_round(prepared, vehicle_id, stops, TraceOptions(seed=seed * 10 + k, interval_s=interval_s),
                             departures)
        true_m[vehicle_id] = sim.truth.distance_m
        for fix in sim.fixes:
            fixes_out.writerow([vehicle_id, (midnight + timedelta(seconds=fix.time_s)).isoformat(), fix.lon, fix.lat])
        for lift in sim.lifts:
            lifts_out.writerow([vehicle_id, (midnight + timedelta(seconds=lift.time_s)).isoformat(), lift.bin_id])
    return traces.getvalue().encode(), lifts.getvalue().encode(), true_m


def run(api: Api, out: Path, days: int, interval_s: float, lifts: bool, optimise: bool) -> dict[str, Any]:
    """The worked example against a running service (with the in-cab ``lifts`` or not; the optimised
    rounds kept, or found afresh when ``optimise``); what it wrote, summed up."""
    body = json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))
    problem = to_problem(OptimisationRequest.model_validate(body))
    network = load_network(REPO / "data" / "monaco.osm.pbf", cache_dir=REPO / "var" / "network-cache")
    prepared = prepare(problem, network)

    today_routes = [{"vehicle_id": r.vehicle_id, "stops": list(r.stops)} for r in nearest_bin_rounds(problem)]
    today = api.ok(api.client.post("/api/v1/plans", json={**body, "routes": today_routes},
                                   params={"name": "Today's rounds, Tuesday", "round_set": ROUND_SET}))
    if optimise:
        accepted = api.ok(api.client.post("/api/v1/jobs", json=body, params={"round_set": ROUND_SET}))
        optimised_id = api.job(accepted["id"])["plan_id"]
    else:
        kept = json.loads(OPTIMISED_ROUTES.read_text(encoding="utf-8"))
        optimised_id = api.ok(api.client.post("/api/v1/plans", json={**body, "routes": kept},
                                              params={"name": "Optimised rounds, Tuesday",
                                                      "round_set": ROUND_SET}))["id"]
    optimised_stops = _stops(api.ok(api.client.get(f"/api/v1/plans/{optimised_id}")))
    (out / "optimised-routes.json").write_text(json.dumps(
        [{"vehicle_id": v, "stops": stops} for v, stops in sorted(optimised_stops.items())], indent=1) + "\n")
    rounds = {"before": (today["id"], _stops(api.ok(api.client.get(f"/api/v1/plans/{today['id']}")))),
              "after": (optimised_id, optimised_stops)}

    results = []
    first_after = FIRST_BEFORE + timedelta(weeks=8)
    for period, first in (("before", FIRST_BEFORE), ("after", first_after)):
        plan_id, stops = rounds[period]
        for k in range(days):
            day = first + timedelta(weeks=k)
            departs = Departures(skip_street=True, reorder=True) if period == "before" and k % 3 == 2 else Departures()
            traces, lifted, true_m = _day_files(prepared, stops, day, seed=day.toordinal(), interval_s=interval_s,
                                        departures=departs)
            files = [("traces", (f"tracker-{day}.csv", traces, "text/csv"))]
            if lifts:
                files.append(("lifts", (f"lifts-{day}.csv", lifted, "text/csv")))
            answer = api.ok(api.client.post("/api/v1/actuals", files=files,
                                            data={"plan": plan_id, "round_set": ROUND_SET, "day": day.isoformat()}))
            result = api.job(answer["id"])["result"]
            results.append({"period": period, "day": day.isoformat(), "departures": departs != Departures(),
                            "rounds": [{k2: r[k2] for k2 in ("vehicle_id", "distance_m", "duration_s",
                                                             "order_followed", "streets_not_in_plan")}
                                       | {"bins_collected": len(r["bins_collected"]),
                                          "true_distance_m": round(true_m[r["vehicle_id"]], 1)}
                                       for r in result["rounds"]],
                            "summary": result["summary"]})
            print(f"{period} {day}: {sum(r['distance_m'] for r in result['rounds']) / 1000:.1f} km matched "
                  f"({sum(true_m.values()) / 1000:.1f} km truly driven), "
                  f"{sum(len(r['bins_collected']) for r in result['rounds'])} bins", flush=True)

    last = {p: (f + timedelta(weeks=days - 1)).isoformat() for p, f in (("before", FIRST_BEFORE),
                                                                         ("after", first_after))}
    query = {"round_set": ROUND_SET, "before": f"{FIRST_BEFORE}/{last['before']}",
             "after": f"{first_after}/{last['after']}", "plan": optimised_id, "baseline": today["id"]}
    report = api.ok(api.client.get("/api/v1/actuals/report", params=query))
    (out / "report.html").write_text(api.ok(api.client.get("/api/v1/actuals/report", params={**query,
                                                                                             "format": "html"})))
    study_query = {**query, "council": COUNCIL, "title": "Optimised rounds (worked example)"}
    study = api.ok(api.client.get("/api/v1/actuals/case-study", params=study_query))
    (out / "case-study.html").write_text(api.ok(api.client.get("/api/v1/actuals/case-study",
                                                               params={**study_query, "format": "html"})))
    for name, document in (("report.json", report), ("case-study.json", study), ("days.json", results)):
        (out / name).write_text(json.dumps(document, indent=2) + "\n")
    return {"report": report, "days": results, "today_id": today["id"], "optimised_id": optimised_id}


def _summary(done: dict[str, Any]) -> str:
    """The report's figures as a Markdown table, and each round's order followed."""
    report = done["report"]
    lines = ["| figure | before, a day | after, a day | change | 95 % interval | modelled | verdict |",
             "|---|---|---|---|---|---|---|"]
    for f in report["figures"]:
        span = (f"{f['delta_interval']['low']:,.1f} to {f['delta_interval']['high']:,.1f}"
                if f["delta_interval"] else "—")
        modelled = "—" if f["modelled"] is None else f"{f['modelled']:,.1f}"
        lines.append(f"| {f['label']} ({f['unit']}) | {f['before']:,.1f} | {f['after']:,.1f} | {f['delta']:+,.1f} "
                     f"| {span} | {modelled} | {f['verdict']} |")
    lines += ["", "| round | order followed before | after |", "|---|---|---|"]
    for r in report["order_followed"]:
        def pct(x: float | None) -> str:
            return "—" if x is None else f"{100 * x:.0f} %"
        lines.append(f"| {r['vehicle_id']} | {pct(r['before'])} | {pct(r['after'])} |")
    lines += ["", "worse: " + (", ".join(report["worse"]) or "nothing"), "notes:"]
    lines += [f"- {n}" for n in report["notes"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="Tuesdays on each set of rounds")
    parser.add_argument("--interval-s", type=float, default=5.0, help="seconds between two fixes")
    parser.add_argument("--out", type=Path, default=REPO / "var" / "worked-example")
    parser.add_argument("--no-lifts", action="store_true",
                        help="send no in-cab lift records: the bins are read from where the lorries stood")
    parser.add_argument("--optimise", action="store_true",
                        help="optimise the demo afresh (a job) instead of the rounds kept in the script's folder")
    parser.add_argument("--base", help="a running service's URL (with --key); absent: one is started")
    parser.add_argument("--key", help="its API key")
    args = parser.parse_args()
    if args.days < 2:
        parser.error("--days must be at least 2: the day-to-day spread needs two days a period")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.base and args.key:
        done = run(Api(args.base, args.key), args.out, args.days, args.interval_s, not args.no_lifts, args.optimise)
    else:
        with tempfile.TemporaryDirectory(prefix="worked-example-") as data, _service(Path(data)) as (base, key):
            done = run(Api(base, key), args.out, args.days, args.interval_s, not args.no_lifts, args.optimise)
    print(_summary(done))
    print(f"\nwritten to {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
