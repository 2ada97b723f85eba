"""Planned against actual on the map (issue 18), in real headless Chromium against a real server: a day
of traces simulated from a stored plan (the crew skipping a street and driving a stretch in reverse),
posted to ``POST /api/v1/actuals`` naming that plan, then the day as driven opened from the plan list:
each round's planned line (dashed), its line as driven, the stretches off the plan (red) and those no
fix shows (filled in, white dots) are drawn, with a legend; a screenshot goes to
docs/images/planned-vs-actual.png."""

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
    naming it, the second lorry's tracker silent for 25 minutes mid-round (the simulator's tunnel; its
    default two minutes the match drives through between two fixes, filling in nothing); the planned
    and the actual plan's ids and the actual plan's parameters."""
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
        sim = simulate_round(prepared, route["vehicle_id"], route["stops"],
                             TraceOptions(seed=5 + k, tunnel_s=1500.0 if k == 1 else 120.0),
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
    """Opening the day as driven draws, for both rounds, the planned line (dashed), the line driven,
    each stretch driven off the plan and each stretch filled in where no fix shows the way (the silent
    tracker's) as the day stored them, and the legend names the plan and the stretches filled in."""
    planned_id, actual_id, parameters = _day_as_driven(server, monaco)
    off_plan = sum(len(r["off_plan"]) for r in parameters["driven_lines"].values())
    filled_in = sum(len(r["filled_in"]) for r in parameters["driven_lines"].values())
    assert parameters["planned_plan_id"] == planned_id and off_plan >= 1 and filled_in >= 1
    open_map(page, server)
    page.click("#refresh-plans")
    page.click(f"button.open-plan[data-id='{actual_id}']")
    page.wait_for_selector("body[data-actual='shown']")
    assert page.locator("path.driven-line").count() == 2
    assert page.locator("path.planned-line").count() >= 2
    assert page.locator("path.off-plan-line").count() == off_plan
    assert page.locator("path.filled-in-line").count() == filled_in
    legend = page.locator("#planned-vs-actual")
    assert legend.is_visible() and planned_id in legend.inner_text() and "filled in" in legend.inner_text()
    legend.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "planned-vs-actual.png"))
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT))
    page.click("#refresh-plans")
    page.click(f"button.open-plan[data-id='{planned_id}']")  # another plan: the day's lines go
    page.wait_for_function("!document.body.dataset.actual")
    assert page.locator("path.driven-line").count() == 0
    assert page.locator("path.filled-in-line").count() == 0
    assert unexpected_console_errors(page_log, server) == []


def test_the_filled_in_stretches_say_why_and_older_days_still_draw(page: Page, server: Server, page_log: Any) -> None:
    """Each stretch filled in is drawn with a tooltip in a planner's words for its reason (laid through
    a bin; no fixes, a tunnel or dropout; the fixes fit no street); a day stored before ``filled_in``
    was kept draws its line driven and nothing filled in, without an error."""
    open_map(page, server)
    line = [[7.420, 43.730], [7.421, 43.731], [7.422, 43.731]]
    drawn = page.evaluate("""async (line) => {
      const m = await import('/static/web/js/planned-vs-actual.js');
      const map = window.wasteroute.map;
      const actual = (rounds) => ({ parameters: { driven_lines: rounds } });
      const none = { features: [] };
      const reasons = ['bin', 'gap', 'jump', 'no_match'];
      const now = m.drawPlannedVsActual(map, actual({ v: { line, off_plan: [],
        filled_in: reasons.map((reason) => ({ reason, line })) } }), none);
      const paths = [...document.querySelectorAll('path.filled-in-line')];
      const tips = [];
      for (const path of paths) {
        path.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: 10, clientY: 10 }));
        tips.push([...document.querySelectorAll('.leaflet-tooltip')].map((tip) => tip.textContent).pop());
        path.dispatchEvent(new MouseEvent('mouseout', { bubbles: true }));
      }
      now.group.remove();
      const older = m.drawPlannedVsActual(map, actual({ v: { line, off_plan: [] } }), none);
      const result = { tips, filledIn: now.rounds.get('v').filledIn, olderDriven: older.rounds.get('v').driven,
                       olderFilledIn: older.rounds.get('v').filledIn,
                       olderPaths: document.querySelectorAll('path.filled-in-line').length };
      older.group.remove();
      return result;
    }""", line)
    assert drawn["filledIn"] == 4 and drawn["olderDriven"] == 3
    assert drawn["olderFilledIn"] == 0 and drawn["olderPaths"] == 0
    assert drawn["tips"] == ["Round v: filled in: laid through a bin the crew collected, no fix shows it",
                             "Round v: filled in: no fixes (tunnel or dropout)",
                             "Round v: filled in: no fixes (tunnel or dropout)",
                             "Round v: filled in: the fixes fit no street"]
    assert unexpected_console_errors(page_log, server) == []
