"""The planners' web map in real headless Chromium against a real server: it loads with
no console errors and no request leaving the machine, draws the demo plan's rounds,
names the row and column of a bad upload, compares with today's rounds, and exports."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import gpxpy
import httpx
import pytest
from playwright.sync_api import Page

from .conftest import sign_in

REPO = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOT = REPO / "docs" / "images" / "map-demo.png"
TIME_LIMIT_S = "2"
SOLVE_TIMEOUT_MS = 120_000
OSM_CREDIT = "© OpenStreetMap contributors"

pytestmark = [pytest.mark.slow, pytest.mark.spawns]


def open_map(page: Page, server: Any) -> None:
    """Open the map and wait until it has started (demo problem loaded)."""
    page.goto(f"{server.base}/")
    page.wait_for_selector("body[data-ready='true']")


def optimise(page: Page, seconds: str = TIME_LIMIT_S) -> dict[str, Any]:
    """Optimise the loaded problem with a short search (``seconds``); the plan the page drew."""
    page.fill("#time-limit", seconds)
    page.click("#optimise")
    page.wait_for_selector("body[data-plan='shown']", timeout=SOLVE_TIMEOUT_MS)
    plan: dict[str, Any] = page.evaluate("window.wasteroute.state.plan")
    return plan


def kinds(plan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The plan's features of ``kind`` (``route`` or ``visit``)."""
    return [f for f in plan["features"] if f["properties"]["kind"] == kind]


def unexpected_console_errors(log: Any, server: Any) -> list[str]:
    """Console errors other than the failed loads of the (deliberately unreachable) tiles."""
    tile_prefix = server.tile_url.split("{")[0]
    return [f"{m.text} @ {m.location.get('url')}" for m in log.console_errors
            if not (m.location.get("url") or "").startswith(tile_prefix)]


def test_page_loads_without_console_errors_or_outside_requests(page: Page, server: Any, page_log: Any) -> None:
    """With tiles unreachable the page draws the road network from the service, shows the
    OpenStreetMap credit and the 320 demo bins, logs no console error (beyond the failed
    tiles) and sends no request off the machine."""
    open_map(page, server)
    page.wait_for_selector("path.network-line")
    assert page.locator("path.bin-dot").count() == 320
    assert OSM_CREDIT in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator("#basemap-status").is_visible()
    assert any(url.startswith(server.tile_url.split("{")[0]) for url in page_log.failed_requests), \
        "the tiles should have been tried (and failed)"
    assert page_log.outside_requests == []
    assert page_log.page_errors == []
    assert unexpected_console_errors(page_log, server) == []


def test_leaflet_is_served_by_the_service_itself(page: Page, server: Any, page_log: Any) -> None:
    """Leaflet's script and style sheet come from the service (the xstatic package), not a CDN."""
    loaded: list[str] = []
    page.on("response", lambda response: loaded.append(response.url))
    open_map(page, server)
    assert f"{server.base}/static/leaflet/leaflet.js" in loaded
    assert f"{server.base}/static/leaflet/leaflet.css" in loaded
    assert page.evaluate("typeof L.map") == "function"


def stops_shown(page: Page) -> dict[str, Any]:
    """How the page draws the optimised plan's bin stops now: ``mode`` (``dots`` or
    ``numbered``) and how many dots and numbered markers are drawn."""
    shown: dict[str, Any] = page.evaluate("window.wasteroute.stopsShown().plan")
    return shown


def bin_visits(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's visits to bins (the stops drawn as dots or numbered markers)."""
    return [v for v in kinds(plan, "visit") if v["properties"]["type"] == "bin"]


def test_demo_plan_draws_one_path_per_round_and_every_stop(page: Page, server: Any, page_log: Any,
                                                           artifacts: Path) -> None:
    """After optimising the demo, each round is one path on the map, every stop is drawn (at
    the whole plan's zoom the 320 bin stops as dots, depot and tips as markers) and the panel
    has a row per round; a screenshot is saved."""
    open_map(page, server)
    plan = optimise(page)
    routes, visits = kinds(plan, "route"), kinds(plan, "visit")
    assert routes and len(visits) >= 320
    assert page.locator("path.optimised-route").count() == len(routes)
    n_bins = len(bin_visits(plan))
    assert stops_shown(page) == {"mode": "dots", "dots": n_bins, "numbered": 0}
    assert page.locator(".stop-marker.optimised").count() == len(visits) - n_bins
    assert page.locator(".direction-arrow").count() >= len(routes)
    assert page.locator("#rounds-table tbody tr").count() == len(routes)
    page.wait_for_selector("path.network-line")
    path = artifacts / "map-demo.png"
    page.screenshot(path=str(path))
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SCREENSHOT)
    assert page_log.outside_requests == []
    assert unexpected_console_errors(page_log, server) == []


def test_round_toggle_hides_and_shows_its_path(page: Page, server: Any) -> None:
    """Unticking a round in the panel removes its path from the map; ticking it brings it back."""
    open_map(page, server)
    plan = optimise(page)
    n_routes = len(kinds(plan, "route"))
    toggle = page.locator("#rounds-table tbody tr").first.locator("input.toggle-round")
    toggle.uncheck()
    assert page.locator("path.optimised-route").count() == n_routes - 1
    toggle.check()
    assert page.locator("path.optimised-route").count() == n_routes


def test_bad_csv_upload_names_the_row_and_column(page: Page, server: Any, artifacts: Path) -> None:
    """A bins CSV with a word for a weight in its third row is refused with a message
    naming row 3 and the column demand_kg; the problem keeps its bins."""
    open_map(page, server)
    content = b"id,lon,lat,demand_kg\nb1,7.4174,43.7361,16\nb2,7.4166,43.7336,heavy\n"
    page.set_input_files("#bins-file", files=[{"name": "bins.csv", "mimeType": "text/csv", "buffer": content}])
    errors = page.locator("#upload-errors")
    errors.get_by_text("row 3").wait_for()
    text = errors.inner_text()
    assert "row 3" in text and "'demand_kg'" in text and "'heavy'" in text
    assert page.locator("path.bin-dot").count() == 320
    page.screenshot(path=str(artifacts / "upload-error.png"))


def test_good_csv_upload_replaces_the_bins(page: Page, server: Any) -> None:
    """A valid bins CSV replaces the problem's bins on the map."""
    open_map(page, server)
    content = b"id,lon,lat,demand_kg\nb1,7.4174,43.7361,16\nb2,7.4166,43.7336,20\n"
    page.set_input_files("#bins-file", files=[{"name": "bins.csv", "mimeType": "text/csv", "buffer": content}])
    page.wait_for_function("document.querySelectorAll('path.bin-dot').length === 2")
    assert page.locator("#upload-errors li").count() == 0


def todays_rounds_csv(problem: dict[str, Any]) -> bytes:
    """A plausible hand-made plan: bins west to east, cut into one block per vehicle."""
    bins = sorted(problem["bins"], key=lambda b: (b["lon"], b["lat"]))
    vehicles = [v["id"] for v in problem["vehicles"]]
    size = -(-len(bins) // len(vehicles))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["round", "sequence", "bin_id"])
    for i, b in enumerate(bins):
        writer.writerow([vehicles[i // size], i % size + 1, b["id"]])
    return out.getvalue().encode()


def upload_todays_rounds(page: Page, server: Any) -> dict[str, Any]:
    """Upload today's rounds of the demo (see :func:`todays_rounds_csv`); the evaluated plan the page drew."""
    problem = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    page.set_input_files("#rounds-file", files=[{"name": "today.csv", "mimeType": "text/csv",
                                                 "buffer": todays_rounds_csv(problem)}])
    page.wait_for_selector("#today-table tbody tr, #compare-errors li")
    assert page.locator("#compare-errors li").count() == 0, page.locator("#compare-errors").inner_text()
    baseline: dict[str, Any] = page.evaluate("window.wasteroute.state.baseline")
    return baseline


def test_comparison_with_todays_rounds_shows_the_kpi_deltas(page: Page, server: Any, artifacts: Path) -> None:
    """Today's rounds uploaded beside the optimised plan are drawn dashed, and the deltas
    table gives distance, time, vehicles and trips as optimised minus today, each marked
    better or worse by its sign."""
    open_map(page, server)
    plan = optimise(page)
    baseline = upload_todays_rounds(page, server)
    assert page.locator("path.baseline-route").count() == len(kinds(baseline, "route"))
    rows = {row.get_attribute("data-kpi"): row for row in page.locator("#deltas tbody tr").all()}
    assert set(rows) == {"distance_m", "duration_s", "vehicles", "trips"}
    expected = {
        "distance_m": plan["summary"]["distance_m"] - baseline["summary"]["distance_m"],
        "duration_s": plan["summary"]["duration_s"] - baseline["summary"]["duration_s"],
        "vehicles": plan["summary"]["vehicles_used"] - baseline["summary"]["vehicles_used"],
        "trips": (sum(r["properties"]["trips"] for r in kinds(plan, "route"))
                  - sum(r["properties"]["trips"] for r in kinds(baseline, "route"))),
    }
    for key, change in expected.items():
        verdict = rows[key].locator("td.verdict").inner_text()
        tolerance = 1 if key in ("distance_m", "duration_s") else 0
        assert verdict == ("better" if change < -tolerance else "worse" if change > tolerance else "same"), key
    km_text = rows["distance_m"].locator("td.change").inner_text()
    assert f"{abs(expected['distance_m']) / 1000:.1f}" in km_text
    page.locator("#deltas").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "comparison.png"))


def test_todays_rounds_and_the_plan_can_be_toggled_or_shown_together(page: Page, server: Any) -> None:
    """After the upload today's rounds are shown alone; the view choice shows the optimised
    plan alone, or both side by side on one map."""
    open_map(page, server)
    plan = optimise(page)
    n_today = len(kinds(upload_todays_rounds(page, server), "route"))
    n_plan = len(kinds(plan, "route"))
    counts = lambda: (page.locator("path.optimised-route").count(),  # noqa: E731
                      page.locator("path.baseline-route").count())
    assert counts() == (0, n_today)
    page.check("input[name='view'][value='optimised']")
    assert counts() == (n_plan, 0)
    page.check("input[name='view'][value='both']")
    assert counts() == (n_plan, n_today)


def test_exports_download_a_valid_geojson_and_gpx(page: Page, server: Any, tmp_path: Path) -> None:
    """The export buttons download the drawn plan as a GeoJSON FeatureCollection with the
    same features, a GPX with one track per round, and CSV run sheets with a line per stop."""
    open_map(page, server)
    plan = optimise(page)
    routes, visits = kinds(plan, "route"), kinds(plan, "visit")
    files = {}
    for fmt in ("geojson", "gpx", "csv"):
        with page.expect_download() as info:
            page.click(f"button.export[data-format='{fmt}']")
        files[fmt] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[fmt])
    geojson = json.loads(files["geojson"].read_text(encoding="utf-8"))
    assert geojson["type"] == "FeatureCollection"
    assert len(geojson["features"]) == len(plan["features"])
    assert geojson["summary"] == plan["summary"]
    gpx = gpxpy.parse(files["gpx"].read_text(encoding="utf-8"))
    assert [t.name for t in gpx.tracks] == [r["properties"]["vehicle_id"] for r in routes]
    assert all(len(t.segments[0].points) == len(r["geometry"]["coordinates"])
               for t, r in zip(gpx.tracks, routes, strict=True))
    assert sum(len(r.points) for r in gpx.routes) == len(visits)
    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8"))))
    assert len(rows) == len(visits)


def test_round_books_open_for_the_stored_plan_and_in_cab_csv_downloads(page: Page, server: Any,
                                                                       tmp_path: Path) -> None:
    """For the stored plan on show, "Print (HTML)" opens its round books in a new tab (fetched with
    the API key): a page per round with its map, the attribution and streets named from the map;
    "In-cab CSV" downloads one line per bin with its street."""
    open_map(page, server)
    plan = optimise(page)
    routes, visits = kinds(plan, "route"), kinds(plan, "visit")
    with page.expect_popup() as popup_info:
        page.click("button.round-book[data-format='html']")
    book = popup_info.value
    book.wait_for_selector("section.round")
    assert book.locator("section.round").count() == len(routes)
    assert book.locator("section.round svg polyline.route").count() == len(routes)
    assert OSM_CREDIT in book.content()
    assert book.locator("tr.street").count() > 0
    assert "Leave depot" in book.inner_text("body")
    with page.expect_download() as info:
        page.click("button.export[data-format='incab']")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == sum(1 for v in visits if v["properties"]["type"] == "bin")
    assert all(r["street"] for r in rows)


def test_job_progress_bar_follows_the_job_to_its_result(page: Page, server: Any) -> None:
    """Optimising starts a job; the progress bar follows its polls (queued/running, never
    going back) and reaches 100% when the job succeeds with a stored plan."""
    open_map(page, server)
    plan = optimise(page)
    history = page.evaluate("window.wasteroute.state.jobHistory")
    assert history[-1]["status"] == "succeeded"
    assert {h["status"] for h in history[:-1]} <= {"queued", "running"} and len(history) >= 2
    progress = [h["progress"] for h in history]
    assert progress == sorted(progress)
    assert page.evaluate("document.querySelector('#job-progress').value") == 100
    plan_id = page.evaluate("window.wasteroute.state.planId")
    assert plan_id and plan["id"] == plan_id
    stored = httpx.get(f"{server.base}/api/v1/plans/{plan_id}", headers=server.headers).json()
    assert stored["summary"] == plan["summary"]


def test_approver_approves_the_plan_under_their_name(page: Page, server: Any, artifacts: Path) -> None:
    """The council key plans but has no approve button; signed in as an approver (no name typed: the key names
    the person) the plan is approved under their name; the page says so, and the list of stored plans shows it."""
    open_map(page, server)
    optimise(page)
    plan_id = page.evaluate("window.wasteroute.state.planId")
    assert page.locator("#approve").is_hidden() and "Only an approver" in page.locator("#approve-note").inner_text()
    sign_in(page, server.new_person("Alex Approver", "approver"), "Alex Approver")
    page.click("#approve")
    page.locator("#approval-status.approved").wait_for()
    assert f"Plan {plan_id} approved by Alex Approver on" in page.locator("#approval-status").inner_text()
    stored = httpx.get(f"{server.base}/api/v1/plans/{plan_id}", headers=server.headers).json()
    assert (stored["status"], stored["approved_by"]) == ("approved", "Alex Approver") and stored["approved_at"]
    entry = page.locator("#plans-list li", has=page.locator(f"button[data-id='{plan_id}']"))
    entry.get_by_text("approved by Alex Approver").wait_for()
    page.screenshot(path=str(artifacts / "approved.png"))


def test_stored_plan_opens_on_the_map(page: Page, server: Any) -> None:
    """A plan stored through the API is listed on the page and drawn when opened."""
    problem = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    rows = list(csv.DictReader(io.StringIO(todays_rounds_csv(problem).decode())))
    routes = [{"vehicle_id": v["id"], "stops": [r["bin_id"] for r in rows if r["round"] == v["id"]]}
              for v in problem["vehicles"]]
    response = httpx.post(f"{server.base}/api/v1/plans", json={**problem, "routes": routes}, headers=server.headers,
                          timeout=120)
    assert response.status_code == 201, response.text
    plan_id = response.json()["id"]
    open_map(page, server)
    page.click(f"button.open-plan[data-id='{plan_id}']")
    page.wait_for_selector("body[data-plan='shown']")
    assert page.evaluate("window.wasteroute.state.planId") == plan_id
    assert page.locator("path.optimised-route").count() == len(routes)
    stored = response.json()
    n_bins = len(bin_visits(stored))
    assert stops_shown(page) == {"mode": "dots", "dots": n_bins, "numbered": 0}
    assert page.locator(".stop-marker.optimised").count() == len(kinds(stored, "visit")) - n_bins


def test_tips_and_breaks_are_marked_on_the_rounds(page: Page, server: Any, artifacts: Path) -> None:
    """With small vehicles that take a break and a tip uploaded, the optimised rounds show a
    'T' marker at every unload and a 'B' marker at every break."""
    open_map(page, server)
    vehicles = ("id,depot,capacity_kg,shift_start,shift_end,break_duration_s,break_start,break_end\n"
                + "".join(f"rcv-{i},depot,600,06:00,14:00,1800,09:00,11:00\n" for i in range(1, 5)))
    page.set_input_files("#vehicles-file", files=[{"name": "vehicles.csv", "mimeType": "text/csv",
                                                   "buffer": vehicles.encode()}])
    page.wait_for_function("window.wasteroute.state.problem.vehicles[0].capacity_kg === 600")
    sites = b"id,lon,lat,unload_s\ntip-0,7.4651,43.7673,600\n"
    page.set_input_files("#sites-file", files=[{"name": "tips.csv", "mimeType": "text/csv", "buffer": sites}])
    page.wait_for_selector(".site-dot")
    plan = optimise(page, seconds="3")
    visits = kinds(plan, "visit")
    tips = [v for v in visits if v["properties"]["type"] == "disposal"]
    breaks = [v for v in visits if v["properties"]["type"] == "break"]
    assert tips and breaks
    assert page.locator(".stop-marker.optimised.stop-disposal").count() == len(tips)
    assert page.locator(".stop-marker.optimised.stop-break").count() == len(breaks)
    assert page.locator("#rounds-table tfoot").inner_text().split()[-1] == str(len(tips))
    page.screenshot(path=str(artifacts / "tips-and-breaks.png"))


SMALL_BINS_CSV = (b"id,lon,lat,demand_kg\n"
                  b"b00001,7.41745,43.73619,16\nb00002,7.41595,43.73639,12\nb00003,7.41670,43.73362,20\n"
                  b"b00004,7.41847,43.73464,8\nb-sea,7.4300,43.7000,10\n")
"""Four bins by the streets of Monaco and one in the sea, kilometres from any street."""


def optimise_small_problem(page: Page, server: Any) -> dict[str, Any]:
    """Open the map, upload :data:`SMALL_BINS_CSV` and optimise; the plan drawn."""
    open_map(page, server)
    page.set_input_files("#bins-file", files=[{"name": "bins.csv", "mimeType": "text/csv",
                                               "buffer": SMALL_BINS_CSV}])
    page.wait_for_function("window.wasteroute.state.problem.bins.length === 5")
    return optimise(page)


def test_stop_popup_gives_bin_arrival_and_load(page: Page, server: Any) -> None:
    """Clicking a bin's numbered marker opens a popup with the bin id, its arrival time and the load."""
    plan = optimise_small_problem(page, server)
    visit = next(v for v in kinds(plan, "visit") if v["properties"]["type"] == "bin")
    props = visit["properties"]
    page.locator(f".stop-marker.optimised[title='{props['bin_id']}']").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert f"Bin {props['bin_id']}" in text
    assert f"Arrival {props['arrival']}" in text
    assert f"{round(props['load_kg'])} kg" in text


def test_unassigned_bin_is_marked_with_its_reason(page: Page, server: Any) -> None:
    """A bin in the sea is left out: it is marked on the map (in view), its popup and the panel
    give the reason."""
    plan = optimise_small_problem(page, server)
    (left_out,) = plan["unassigned"]
    assert left_out["bin_id"] == "b-sea"
    marker = page.locator("path.unassigned-marker.optimised")
    assert marker.count() == 1
    page.locator("#unassigned").get_by_text(left_out["reason"]).wait_for()
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "b-sea" in popup.inner_text() and left_out["reason"] in popup.inner_text()


def test_page_asks_for_an_api_key_when_it_has_none(browser: Any, server: Any) -> None:
    """Without a key the page asks for one; with the key given it loads the demo problem."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{server.base}/")
        tab.locator("#key-form").wait_for()
        assert "API key" in tab.locator("#problem-status").inner_text()
        tab.fill("#api-key", server.key)
        tab.click("#key-form button[type='submit']")
        tab.wait_for_selector("body[data-ready='true']")
        assert tab.locator("path.bin-dot").count() == 320
    finally:
        context.close()


DOT_COLOURS_JS = """() => {
  // the colour at the centre of each bin stop's dot on the plan's canvas, and its round's colour
  const canvas = document.querySelector('.leaflet-planStops-pane canvas');
  const box = canvas.getBoundingClientRect();
  const mapBox = document.querySelector('#map').getBoundingClientRect();
  const context = canvas.getContext('2d');
  const { map, state } = window.wasteroute;
  const hex = (v) => v.toString(16).padStart(2, '0');
  const rows = [];
  for (const f of state.plan.features) {
    const p = f.properties;
    if (p.kind !== 'visit' || p.type !== 'bin') continue;
    const at = map.latLngToContainerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
    const x = Math.round((mapBox.left + at.x - box.left) * (canvas.width / box.width));
    const y = Math.round((mapBox.top + at.y - box.top) * (canvas.height / box.height));
    if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) continue;
    const [r, g, b] = context.getImageData(x, y, 1, 1).data;
    rows.push({ vehicle: p.vehicle_id, colour: `#${hex(r)}${hex(g)}${hex(b)}`.toUpperCase() });
  }
  return rows;
}"""


def test_stops_are_coloured_dots_at_town_zoom_and_numbered_zoomed_in(page: Page, server: Any,
                                                                    artifacts: Path) -> None:
    """With the 320-stop demo plan in view the stops are dots in their round's colour on one
    canvas, with no numbered bin marker in the page; zoomed in on a stop they are numbered
    markers (only those near the view, each showing its sequence), the dots are gone and the
    direction arrows closer together; zoomed out again, dots once more."""
    open_map(page, server)
    plan = optimise(page)
    n_bins = len(bin_visits(plan))
    assert n_bins >= 300
    assert stops_shown(page)["mode"] == "dots"
    assert page.locator(".stop-marker.stop-bin").count() == 0
    assert page.locator(".leaflet-planStops-pane canvas").count() == 1
    colours = {r["properties"]["vehicle_id"]: r for r in kinds(plan, "route")}
    round_colour = {vid: page.locator(f"#rounds-table tr[data-vehicle='{vid}'] .swatch")
                    .evaluate("e => getComputedStyle(e).backgroundColor") for vid in colours}
    to_hex = {vid: "#" + "".join(f"{int(c):02X}" for c in rgb.strip("rgb()").split(","))
              for vid, rgb in round_colour.items()}
    dots = page.evaluate(DOT_COLOURS_JS)
    assert len(dots) >= 0.9 * n_bins
    own = sum(d["colour"] == to_hex[d["vehicle"]] for d in dots)
    # a dot drawn later may cover a neighbour's centre; nearly all show their own round's colour
    assert own >= 0.8 * len(dots), (own, len(dots))
    page.screenshot(path=str(artifacts / "stops-as-dots.png"))
    arrows_out = page.locator(".direction-arrow").count()

    visit = bin_visits(plan)[len(bin_visits(plan)) // 2]
    lon, lat = visit["geometry"]["coordinates"]
    page.evaluate(f"window.wasteroute.map.setView([{lat}, {lon}], 18, {{animate: false}})")
    page.wait_for_function("window.wasteroute.stopsShown().plan.mode === 'numbered'")
    shown = stops_shown(page)
    markers = page.locator(".stop-marker.optimised.stop-bin")
    assert shown["dots"] == 0 and 0 < shown["numbered"] == markers.count() < n_bins
    marker = page.locator(f".stop-marker.optimised.stop-bin[title='{visit['properties']['bin_id']}']")
    assert marker.inner_text() == str(visit["properties"]["sequence"])
    page.screenshot(path=str(artifacts / "stops-numbered.png"))
    # zoomed in the arrows are 350 m apart again: more of them than at the whole plan's zoom
    assert page.locator(".direction-arrow").count() > arrows_out

    page.evaluate("""() => { const { map, state } = window.wasteroute;
      const points = state.plan.features.filter((f) => f.properties.kind === 'visit')
        .map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
      map.fitBounds(points, { animate: false }); }""")
    page.wait_for_function("window.wasteroute.stopsShown().plan.mode === 'dots'")
    assert page.locator(".stop-marker.stop-bin").count() == 0


def test_area_button_draws_a_polygon_per_round_and_removes_it(page: Page, server: Any, artifacts: Path) -> None:
    """"Show round areas" draws one shaded polygon per round (the area the answer gives), a
    hidden round's area goes with it, and the button pressed again removes them all; today's
    rounds, once uploaded, have theirs drawn by the same button."""
    open_map(page, server)
    plan = optimise(page)
    routes = kinds(plan, "route")
    assert all(r["properties"]["compactness"]["area"]["type"] in ("Polygon", "MultiPolygon") for r in routes)
    areas = page.locator("path.round-area.optimised")
    assert areas.count() == 0
    page.click("#toggle-areas")
    assert areas.count() == len(routes)
    assert page.locator("#toggle-areas").inner_text() == "Hide round areas"
    page.screenshot(path=str(artifacts / "round-areas.png"))
    toggle = page.locator("#rounds-table tbody tr").first.locator("input.toggle-round")
    toggle.uncheck()
    assert areas.count() == len(routes) - 1
    toggle.check()
    assert areas.count() == len(routes)
    page.click("#toggle-areas")
    assert areas.count() == 0
    assert page.locator("#toggle-areas").inner_text() == "Show round areas"
    baseline = upload_todays_rounds(page, server)
    page.click("#toggle-areas")
    assert page.locator("path.round-area.baseline").count() == len(kinds(baseline, "route"))
    assert OSM_CREDIT in page.locator(".leaflet-control-attribution").inner_text()
