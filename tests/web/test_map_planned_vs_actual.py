"""Planned against actual on the map (issue 18), in real headless Chromium against a real server: a day
of traces simulated from a stored plan (the crew skipping a street and driving a stretch in reverse),
posted to ``POST /api/v1/actuals`` naming that plan, then the day as driven opened from the plan list:
each round's planned line (dashed), its line as driven and the stretches off the plan (red) are drawn,
with a legend; a screenshot goes to docs/images/planned-vs-actual.png."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from app.schemas import OptimisationRequest
from app.services.optimisation import to_problem
from solver.network import RoadNetwork
from solver.pipeline.stages import prepare
from solver.traces.simulate import Departures, TraceOptions, simulate_round

from .conftest import REPO, Server
from .test_map import open_map, unexpected_console_errors

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

DOCS_SCREENSHOT = REPO / "docs" / "images" / "planned-vs-actual.png"
MIDNIGHT = datetime(2026, 12, 8, tzinfo=UTC)


def _problem(server: Server) -> dict[str, Any]:
    """The demo's first 30 bins on its first two vehicles."""
    demo = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    return {**demo, "vehicles": demo["vehicles"][:2], "bins": demo["bins"][:30]}


def _day_as_driven(server: Server, monaco: RoadNetwork) -> tuple[str, str, dict[str, Any]]:
    """A plan stored, its rounds driven by the simulator with departures and posted as a day's traces
    naming it; the planned and the actual plan's ids and the actual plan's parameters."""
    problem = _problem(server)
    vehicles = [v["id"] for v in problem["vehicles"]]
    bins = [b["id"] for b in problem["bins"]]
    routes = [{"vehicle_id": v, "stops": bins[i::2]} for i, v in enumerate(vehicles)]
    planned = httpx.post(f"{server.base}/api/v1/plans", json={**problem, "routes": routes}, headers=server.headers,
                         params={"name": "Tuesday's plan"}, timeout=120)
    assert planned.status_code == 201, planned.text
    prepared = prepare(to_problem(OptimisationRequest.model_validate(problem)), monaco)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["vehicle", "time", "lon", "lat"])
    for k, route in enumerate(routes):
        sim = simulate_round(prepared, route["vehicle_id"], route["stops"], TraceOptions(seed=5 + k),
                             Departures(skip_street=True, reorder=True))
        for fix in sim.fixes:
            writer.writerow([fix.vehicle_id, (MIDNIGHT + timedelta(seconds=fix.time_s)).isoformat(), fix.lon, fix.lat])
    answer = httpx.post(f"{server.base}/api/v1/actuals", headers=server.headers, timeout=120,
                        files=[("traces", ("tracker.csv", out.getvalue().encode(), "text/csv"))],
                        data={"plan": planned.json()["id"], "round_set": "pva/tuesday"})
    assert answer.status_code == 202, answer.text
    for _ in range(600):
        job = httpx.get(f"{server.base}/api/v1/jobs/{answer.json()['id']}", headers=server.headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
    assert job["status"] == "succeeded", job
    actual_id = job["result"]["plan_id"]
    stored = httpx.get(f"{server.base}/api/v1/plans/{actual_id}", headers=server.headers).json()
    return planned.json()["id"], actual_id, stored["parameters"]


def test_a_day_as_driven_is_drawn_beside_its_plan(page: Page, server: Server, page_log: Any,
                                                 monaco: RoadNetwork, artifacts: Any) -> None:
    """Opening the day as driven draws, for both rounds, the planned line (dashed), the line driven
    and each stretch driven off the plan as the day stored them, and the legend names the plan."""
    planned_id, actual_id, parameters = _day_as_driven(server, monaco)
    off_plan = sum(len(r["off_plan"]) for r in parameters["driven_lines"].values())
    assert parameters["planned_plan_id"] == planned_id and off_plan >= 1
    open_map(page, server)
    page.click("#refresh-plans")
    page.click(f"button.open-plan[data-id='{actual_id}']")
    page.wait_for_selector("body[data-actual='shown']")
    assert page.locator("path.driven-line").count() == 2
    assert page.locator("path.planned-line").count() >= 2
    assert page.locator("path.off-plan-line").count() == off_plan
    legend = page.locator("#planned-vs-actual")
    assert legend.is_visible() and planned_id in legend.inner_text()
    legend.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "planned-vs-actual.png"))
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT))
    page.click("#refresh-plans")
    page.click(f"button.open-plan[data-id='{planned_id}']")  # another plan: the day's lines go
    page.wait_for_function("!document.body.dataset.actual")
    assert page.locator("path.driven-line").count() == 0
    assert unexpected_console_errors(page_log, server) == []
