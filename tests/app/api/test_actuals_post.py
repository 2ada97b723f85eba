"""``POST /api/v1/actuals`` on a real started app: the demo's rounds driven by the trace simulator on the
embedded Monaco network (known truth), sent as a telematics CSV naming the lorries by registration, read
in a job of kind ``actual`` (real matching, the real evaluator, a real store); and each bad input named;
the stretches of a day no fix shows stored for the map as filled in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.schemas import OptimisationRequest
from app.services.optimisation import to_problem
from solver.network import load_network
from solver.pipeline.stages import prepare
from solver.traces.simulate import TraceOptions, simulate_round
from tests.app.api.test_actuals_report import LONG_WAY, SHORT_WAY
from tests.app.conftest import JobWaiter, base_problem
from tests.conftest import REPO

pytestmark = pytest.mark.slow

MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)
"""The day driven (a Monday; in winter London's time is UTC)."""
REGISTRATIONS = {"rcv-1": "RU21 ABC", "rcv-2": "RU21 ABD"}


def fleet_problem() -> dict[str, Any]:
    """The demo problem with each lorry's registration, as a fleet list upload keeps it."""
    problem = base_problem()
    for vehicle in problem["vehicles"]:
        vehicle["attributes"] = {"Registration": REGISTRATIONS[vehicle["id"]]}
    return problem


@pytest.fixture(scope="module")
def driven(settings: Settings) -> dict[str, Any]:
    """The short-way rounds driven by the simulator (5 s fixes, 10 m noise, seeded): the CSV a tracker
    exports, naming each lorry by registration, and the truth."""
    network = load_network(settings.network_file, cache_dir=settings.cache_dir)
    problem = to_problem(OptimisationRequest.model_validate(fleet_problem()))
    prepared = prepare(problem, network)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Registration", "Timestamp", "Latitude", "Longitude"])
    truth = {}
    for k, route in enumerate(SHORT_WAY):
        sim = simulate_round(prepared, route["vehicle_id"], route["stops"], TraceOptions(seed=11 + k))
        truth[route["vehicle_id"]] = sim.truth
        for fix in sim.fixes:
            writer.writerow([REGISTRATIONS[fix.vehicle_id], (MIDNIGHT + timedelta(seconds=fix.time_s)).isoformat(),
                             fix.lat, fix.lon])
    return {"csv": out.getvalue().encode(), "truth": truth}


def post(client: TestClient, traces: list[tuple[str, bytes]], problem: dict[str, Any] | None, **form: str) -> Any:
    """``POST /api/v1/actuals`` with these trace files, the problem as a JSON part and form fields."""
    files = [("traces", (name, content, "text/csv")) for name, content in traces]
    if problem is not None:
        files.append(("problem", ("problem.json", json.dumps(problem).encode(), "application/json")))
    return client.post("/api/v1/actuals", files=files, data=form)


def test_a_day_of_traces_becomes_the_rounds_as_driven(client: TestClient, driven: dict[str, Any],
                                                      wait_for_job: JobWaiter) -> None:
    """Both lorries' traces, named by registration: a job whose result is each round as driven (the
    matched distance near the truth (within 25 %: the matcher's own accuracy is what benchmarks/traces.py
    and tests/solver/traces measure), the bins the lorry served found, none it did not) and a stored plan of
    source actual for the day, scored by the evaluator, with the file's SHA-256."""
    answer = post(client, [("tracker-2026-12-07.csv", driven["csv"])], fleet_problem(), round_set="actuals-post/mon",
                  time_zone="Europe/London")
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"])
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["day"] == "2026-12-07" and sorted(r["vehicle_id"] for r in result["rounds"]) == ["rcv-1", "rcv-2"]
    for r in result["rounds"]:
        truth = driven["truth"][r["vehicle_id"]]
        assert r["distance_m"] == pytest.approx(truth.distance_m, rel=0.25)
        served = {b for b, _ in truth.bins}
        assert set(r["bins_collected"]) <= served and len(set(r["bins_collected"])) >= len(served) - 1
        assert r["bins_from_plan"] == []  # no plan named: no bin read from its order
    plan = client.get(f"/api/v1/plans/{result['plan_id']}").json()
    assert (plan["source"], plan["round_set"], plan["parameters"]["day"]) == ("actual", "actuals-post/mon",
                                                                              "2026-12-07")
    assert list(plan["parameters"]["files"]) == ["tracker-2026-12-07.csv"]
    assert plan["summary"]["bins_served"] == sum(len(r["bins_collected"]) for r in result["rounds"])


def test_a_trace_of_no_known_lorry_is_a_note_and_none_at_all_a_422(client: TestClient, driven: dict[str, Any],
                                                                     wait_for_job: JobWaiter) -> None:
    """A second file of an unknown registration is noted in the result; traces of no lorry of the
    problem at all: 422 naming ``traces`` and what they name."""
    stranger = b"vehicle,time,lon,lat\nXX99 ZZZ,2026-12-07T07:00:00Z,7.4149,43.7302\n"
    answer = post(client, [("day.csv", driven["csv"]), ("other.csv", stranger)], fleet_problem())
    job = wait_for_job(client, answer.json()["id"])
    assert any(n["kind"] == "unknown_vehicle" and n["vehicle"] == "XX99 ZZZ" for n in job["result"]["notes"])
    refused = post(client, [("other.csv", stranger)], fleet_problem())
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "traces"
    assert "XX99 ZZZ" in refused.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("traces", "form", "field"), [
    ([("t.csv", b"vehicle,when,lon,lat\nrcv-1,07:00,7.41,43.73\n")], {}, None),
    ([("t.csv", b"vehicle,time,lon,lat\nrcv-1,2026-12-07T07:00:00Z,7.41,43.73\n")], {"time_zone": "Mars/Olympus"},
     "time_zone"),
])
def test_an_unreadable_file_or_an_unknown_zone_is_a_422(client: TestClient, traces: list[tuple[str, bytes]],
                                                       form: dict[str, str], field: str | None) -> None:
    """A trace file with no time column: 422 naming the file; an unknown time zone: 422 naming it."""
    answer = post(client, traces, fleet_problem(), **form)
    assert answer.status_code == 422, answer.text
    item = answer.json()["detail"][0]
    assert item["field"] == field if field else "file 't.csv'" in item["msg"]


def test_without_a_problem_or_plan_the_traces_cannot_be_read(client: TestClient, driven: dict[str, Any]) -> None:
    """No problem part and no plan: 422 naming ``problem``; a problem that is none: its fields named."""
    missing = post(client, [("day.csv", driven["csv"])], None)
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "problem"
    broken = post(client, [("day.csv", driven["csv"])], {"depots": []})
    assert broken.status_code == 422 and broken.json()["detail"][0]["loc"][0] == "problem"


def test_the_order_followed_against_the_plan_named(client: TestClient, driven: dict[str, Any],
                                                   wait_for_job: JobWaiter) -> None:
    """Traces of the short-way rounds against the plan they followed: each round collected its bins all
    in the planned order (1.0), in the result and in the stored day's parameters, and the bins read
    from the plan's order are among those collected; against a plan whose
    rcv-1 round runs back to front, rcv-1 kept at most one bin of its five in that order."""
    def day_against(routes: list[dict[str, Any]]) -> dict[str, Any]:
        meant = client.post("/api/v1/plans", json={**fleet_problem(), "routes": routes})
        assert meant.status_code == 201, meant.text
        answer = post(client, [("tracker.csv", driven["csv"])], None, plan=meant.json()["id"])
        assert answer.status_code == 202, answer.text
        job = wait_for_job(client, answer.json()["id"])
        assert job["status"] == "succeeded", job
        return dict(job["result"])

    followed = day_against(SHORT_WAY)
    assert {r["vehicle_id"]: r["order_followed"] for r in followed["rounds"]} == {"rcv-1": 1.0, "rcv-2": 1.0}
    assert all(set(r["bins_from_plan"]) <= set(r["bins_collected"]) for r in followed["rounds"])
    stored = client.get(f"/api/v1/plans/{followed['plan_id']}").json()
    assert stored["parameters"]["order_followed"] == {"rcv-1": 1.0, "rcv-2": 1.0}
    backwards = [{**SHORT_WAY[0], "stops": SHORT_WAY[0]["stops"][::-1]}, SHORT_WAY[1]]
    reversed_day = day_against(backwards)
    shares = {r["vehicle_id"]: r["order_followed"] for r in reversed_day["rounds"]}
    assert shares["rcv-1"] <= 0.25 and shares["rcv-2"] == 1.0


def test_the_lines_driven_and_off_the_plan_are_stored_for_the_map(client: TestClient, driven: dict[str, Any],
                                                                  wait_for_job: JobWaiter) -> None:
    """The day stores, for the map, the plan the crews were meant to follow and each round's line as
    driven (lon/lat) and its stretches on streets its planned round did not use: none to speak of
    against the plan they followed, some against the old rounds (other bins, other streets)."""
    def stored_against(routes: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        meant = client.post("/api/v1/plans", json={**fleet_problem(), "routes": routes}).json()["id"]
        job = wait_for_job(client, post(client, [("tracker.csv", driven["csv"])], None, plan=meant).json()["id"])
        assert job["status"] == "succeeded", job
        return meant, client.get(f"/api/v1/plans/{job['result']['plan_id']}").json()["parameters"]

    def off_plan_points(lines: dict[str, Any]) -> int:
        return sum(len(stretch) for stretch in lines["off_plan"])

    meant, followed = stored_against(SHORT_WAY)
    assert followed["planned_plan_id"] == meant
    for vehicle_id in ("rcv-1", "rcv-2"):
        line = followed["driven_lines"][vehicle_id]["line"]
        assert len(line) >= 10 and all(7.40 < lon < 7.44 and 43.72 < lat < 43.76 for lon, lat in line)
    _, old = stored_against(LONG_WAY)
    assert off_plan_points(old["driven_lines"]["rcv-2"]) > off_plan_points(followed["driven_lines"]["rcv-2"])
    assert all(len(stretch) >= 2 for stretch in old["driven_lines"]["rcv-2"]["off_plan"])


def _line_m(line: list[list[float]]) -> float:
    """Metres along a lon/lat line (flat: Monaco is small)."""
    xy = np.asarray(line, dtype=float) * [111_320.0 * np.cos(np.radians(43.73)), 111_320.0]
    return float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))


def test_a_stretch_no_fix_shows_is_stored_as_filled_in(client: TestClient, settings: Settings,
                                                       wait_for_job: JobWaiter) -> None:
    """A lorry's tracker silent for 25 minutes mid-round (the simulator's tunnel; its default two minutes
    the match drives through between two fixes, with no bridge): the day stores, for the map, the
    stretch the matcher filled in (reason ``gap``), lying on the line driven and as long as the round's
    ``bridged_m``."""
    demo = json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))
    problem = {**demo, "vehicles": demo["vehicles"][:1], "bins": demo["bins"][:16]}
    vehicle_id = problem["vehicles"][0]["id"]
    network = load_network(settings.network_file, cache_dir=settings.cache_dir)
    prepared = prepare(to_problem(OptimisationRequest.model_validate(problem)), network)
    sim = simulate_round(prepared, vehicle_id, [b["id"] for b in problem["bins"]],
                         TraceOptions(seed=3, tunnel_s=1500.0))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["vehicle", "time", "lon", "lat"])
    for fix in sim.fixes:
        writer.writerow([fix.vehicle_id, (MIDNIGHT + timedelta(seconds=fix.time_s)).isoformat(), fix.lon, fix.lat])
    answer = post(client, [("tunnel.csv", out.getvalue().encode())], problem)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=180)
    assert job["status"] == "succeeded", job
    (round_,) = job["result"]["rounds"]
    lines = client.get(f"/api/v1/plans/{job['result']['plan_id']}").json()["parameters"]["driven_lines"][vehicle_id]
    assert [stretch["reason"] for stretch in lines["filled_in"]] == ["gap"]
    filled = lines["filled_in"][0]["line"]
    assert _line_m(filled) == pytest.approx(round_["bridged_m"], rel=0.02) and round_["bridged_m"] > 1000.0
    driven_line = shapely.LineString(lines["line"])
    assert max(driven_line.distance(shapely.Point(p)) for p in filled) < 3e-5  # on the line driven, within ~3 m
