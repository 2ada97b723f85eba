"""The county case of issue 17 end to end, as a council's fleet planner does it in the map, in real
headless Chromium against a real server left as it starts (no setting changed for the case).

The council's files are written by the test from real points of the embedded Monaco network (the
demo's bins and depot), projected with pyproj: a gazetteer export with the columns councils hold and
some the service does not use, a fleet list with its depot, a tip, and an in-cab export of two days of
today's rounds. The planner uploads them, scores today's rounds, stores them, optimises (a job, so the
plan is stored), approves the plan under a name, and opens the round books and the savings report from
the plan. Pictures of the report and of a round book's first page are saved with the other web
artifacts, and also into ``WASTEROUTE_DOCS_IMAGES`` when set (``scripts/screenshot_county_case.py``).

Why not British National Grid: Monaco lies outside Great Britain's grid, which the upload refuses
by design (``outside_great_britain``), so the files are in the grid of the place, UTM zone 32N
(EPSG:32632), named in the map's upload options as a council names a CRS other than the grid's.
The case in British National Grid, on Rutland, is ``test_county_case_rutland.py``; this one needs
no ``../shared`` and covers a CRS named by the planner.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from pyproj import Transformer

from .conftest import sign_in
from .test_map import SOLVE_TIMEOUT_MS, kinds, open_map, unexpected_console_errors

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

CRS = "EPSG:32632"
"""UTM zone 32N, the metric grid of Monaco (the files' easting/northing)."""
HOUSEHOLDS = 36
VEHICLES = ("tue-ref-1", "tue-ref-2")
HOUSE_NAMES = [f"Villa {flower} {side}" for side in ("Nord", "Sud", "Est")
               for flower in ("Acacia", "Bougainvillier", "Camelia", "Dahlia", "Glycine", "Hibiscus", "Iris",
                              "Jasmin", "Laurier", "Mimosa", "Olivier", "Rose")]
"""Addresses by house name alone: the round book then names each bin's street from the map (the
test has no street names of its points to write)."""
APPROVER = "Alex Planner"
A4_WIDTH_PX, A4_HEIGHT_PX = 794, 1123
"""An A4 page at CSS's 96 pixels per inch."""


def _to_grid(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 degrees to UTM 32N metres (easting, northing), to the centimetre as gazetteers give them."""
    easting, northing = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    return round(easting, 2), round(northing, 2)


def write_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """A CSV file's bytes (CRLF lines, as spreadsheets export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def county_files(problem: dict[str, Any]) -> dict[str, bytes]:
    """The council's four files, from the demo ``problem``'s depot and the bins nearest it.

    ``gazetteer``: UPRN, address, postcode, easting/northing, bin size (mostly 240 L, some
    140 and 1100), stream, frequency, day, week, round, assisted, notes, and three columns the service
    does not read (ward, parish, LPI status). ``fleet``: two lorries on one depot. ``tips``: one tip.
    ``rounds``: the in-cab export, Monday's and Tuesday's rounds (the bins alternately on each).
    """
    depot = problem["depots"][0]
    near = sorted(problem["bins"], key=lambda b: math.dist((b["lon"], b["lat"]), (depot["lon"], depot["lat"])))
    households, tip = near[:HOUSEHOLDS], near[HOUSEHOLDS + 4]
    gazetteer = []
    for i, house in enumerate(households):
        uprn = 100_090_000_001 + i
        size = 1100 if i % 12 == 5 else (140 if i % 9 == 2 else 240)
        easting, northing = _to_grid(house["lon"], house["lat"])
        gazetteer.append([uprn, f"{HOUSE_NAMES[i]}, Monaco", "MC 98000", easting, northing,
                          size, "General Waste", "Weekly", "Tuesday", 1, VEHICLES[i % 2], "Y" if i == 7 else "N",
                          "gate code 1234" if i == 3 else "", f"Ward {1 + i // 12}", "Monaco", "Approved"])
    rounds = []
    for day in ("MON", "TUE"):
        for v, vehicle in enumerate(VEHICLES):
            stops = [row for j, row in enumerate(gazetteer) if j % 2 == v]
            if day == "MON":
                stops = stops[::-1]
            rounds += [[vehicle, day, 1, s + 1, row[0], row[1]] for s, row in enumerate(stops)]
    depot_e, depot_n = _to_grid(depot["lon"], depot["lat"])
    tip_e, tip_n = _to_grid(tip["lon"], tip["lat"])
    return {
        "gazetteer": write_csv(["UPRN", "ADDRESS", "POSTCODE", "EASTING", "NORTHING", "BIN_SIZE", "STREAM",
                                 "FREQUENCY", "DAY", "WEEK", "ROUND", "ASSISTED", "NOTES", "WARD", "PARISH",
                                 "LPI_STATUS"], gazetteer),
        "fleet": write_csv(["id", "depot", "capacity_kg", "shift_start", "shift_end", "depot_easting",
                             "depot_northing"],
                            [[v, "county-depot", 1200, "06:00", "14:00", depot_e, depot_n] for v in VEHICLES]),
        "tips": write_csv(["id", "easting", "northing", "opening"], [["county-tip", tip_e, tip_n, "06:00-18:00"]]),
        "rounds": write_csv(["ROUND", "DAY", "WEEK", "SEQUENCE", "UPRN", "ADDRESS"], rounds),
    }


def upload(page: Page, selector: str, name: str, content: bytes) -> None:
    """Choose ``content`` as the file of the input ``selector`` and wait until no upload is pending."""
    page.set_input_files(selector, files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    page.wait_for_function("(n) => document.querySelector('#problem-status').textContent.startsWith(`Uploaded ${n}`)"
                           " || document.querySelectorAll('#upload-errors li').length > 0", arg=name)
    errors = page.locator("#upload-errors li")
    assert errors.count() == 0, page.locator("#upload-errors").inner_text()


def score_todays_rounds(page: Page, content: bytes, *, day: str = "Tuesday", week: str = "1") -> dict[str, Any]:
    """Choose ``day`` and ``week``, upload the in-cab export ``content`` as today's rounds and wait until
    they are scored (no error asserted); today's rounds as the page scored them."""
    page.select_option("#rounds-day", day)
    page.fill("#rounds-week", week)
    page.set_input_files("#rounds-file", files=[{"name": "incab.csv", "mimeType": "text/csv", "buffer": content}])
    page.wait_for_selector("#today-table tbody tr, #compare-errors li")
    assert page.locator("#compare-errors li").count() == 0, page.locator("#compare-errors").inner_text()
    baseline: dict[str, Any] = page.evaluate("window.wasteroute.state.baseline")
    return baseline


def open_savings_report(page: Page) -> tuple[Page, str]:
    """Open the savings report of the plan on show from the map; its tab, once drawn, and its text."""
    with page.expect_popup() as popup_info:
        page.click("#open-report")
    report = popup_info.value
    report.wait_for_selector("h1")
    return report, report.inner_text("body")


def save_picture(picture: bytes, name: str, artifacts: Path) -> None:
    """Save a screenshot with the web artifacts, and into ``WASTEROUTE_DOCS_IMAGES`` when it is set."""
    (artifacts / name).write_bytes(picture)
    docs_images = os.environ.get("WASTEROUTE_DOCS_IMAGES")
    if docs_images:
        Path(docs_images).mkdir(parents=True, exist_ok=True)
        (Path(docs_images) / name).write_bytes(picture)


def test_the_county_case_from_uploads_to_approved_plan_round_books_and_report(
        page: Page, server: Any, page_log: Any, artifacts: Path) -> None:
    """A planner's day on the service as it starts: the council's gazetteer (UTM metres, extra columns),
    fleet, tip and in-cab rounds uploaded through the map; today's (Tuesday's) rounds scored and stored;
    the bins optimised into a stored plan, approved by name and listed with its km, vehicles and bins;
    the plan's round books (a page per round,
    streets and directions) and its savings report against today's rounds (named, approved) opened."""
    problem = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    files = county_files(problem)
    open_map(page, server)
    page.click("#upload-options summary")
    page.fill("#upload-crs", CRS)
    upload(page, "#sites-file", "tips.csv", files["tips"])
    upload(page, "#vehicles-file", "fleet.csv", files["fleet"])
    upload(page, "#bins-file", "gazetteer.csv", files["gazetteer"])
    state = page.evaluate("window.wasteroute.state.problem")
    assert [d["id"] for d in state["depots"]] == ["county-depot"]
    assert [v["id"] for v in state["vehicles"]] == list(VEHICLES)
    assert [s["id"] for s in state["disposal_sites"]] == ["county-tip"]
    assert len(state["bins"]) == HOUSEHOLDS == page.locator("path.bin-dot").count()
    assert state["bins"][0]["id"] == "100090000001" and state["bins"][0]["attributes"]["WARD"] == "Ward 1"
    assert state["bins"][5]["volume_l"] == 1100 and page.locator("#optimise").is_enabled()

    baseline = score_todays_rounds(page, files["rounds"])
    assert baseline["summary"]["bins_served"] == HOUSEHOLDS
    first_stops = [f["properties"]["bin_id"] for f in kinds(baseline, "visit")
                   if f["properties"]["vehicle_id"] == VEHICLES[0] and f["properties"]["type"] == "bin"][:2]
    assert first_stops == ["100090000001", "100090000003"]  # Tuesday's order, not Monday's reversed one
    assert page.locator("#open-report").is_disabled()
    page.click("#store-today")
    page.locator("#store-today-status").get_by_text("Stored as plan").wait_for()
    baseline_id = page.evaluate("window.wasteroute.state.baselineId")

    page.fill("#time-limit", "2")
    page.click("#optimise")
    page.wait_for_selector("body[data-plan='shown']", timeout=SOLVE_TIMEOUT_MS)
    plan = page.evaluate("window.wasteroute.state.plan")
    plan_id = page.evaluate("window.wasteroute.state.planId")
    assert plan_id and plan_id != baseline_id
    assert plan["summary"]["bins_served"] == HOUSEHOLDS and plan["unassigned"] == []

    sign_in(page, server.new_person(APPROVER, "approver"), APPROVER)
    page.click("#approve")
    page.locator("#approval-status").get_by_text(f"approved by {APPROVER}").wait_for()
    plans_list = page.locator("#plans-list")
    listed = plans_list.locator("li", has=page.locator(f"button[data-id='{plan_id}']"))
    listed.get_by_text(f"approved by {APPROVER}").wait_for()  # the list is refreshed after the approval
    assert "Today's rounds, Tuesday, week 1" in plans_list.inner_text()
    entry = listed.inner_text()
    summary = plan["summary"]
    assert " · optimised · made " in entry and f" · {summary['distance_m'] / 1000:.1f} km, " in entry
    assert f"km, {summary['vehicles_used']} vehicle" in entry and f"{HOUSEHOLDS} bins · approved" in entry
    stored = httpx.get(f"{server.base}/api/v1/plans/{plan_id}", headers=server.headers).json()
    assert stored["status"] == "approved" and stored["approved_by"] == APPROVER

    with page.expect_popup() as popup_info:
        page.click("button.round-book[data-format='html']")
    book = popup_info.value
    book.wait_for_selector("section.round")
    routes = kinds(plan, "route")
    assert book.locator("section.round").count() == len(routes) > 0
    assert book.locator("tr.street").count() > 0 and "Leave depot" in book.inner_text("body")
    book.set_viewport_size({"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})
    book.emulate_media(media="print")
    save_picture(book.screenshot(full_page=False), "county-round-book.png", artifacts)

    assert page.locator("#open-report").is_enabled()
    report, text = open_savings_report(page)
    assert "Savings report" in text and "Today's rounds, Tuesday, week 1" in text
    assert f"Plan approved by {APPROVER}" in text
    report.set_viewport_size({"width": 1200, "height": 900})
    save_picture(report.screenshot(full_page=True), "county-report.png", artifacts)
    assert unexpected_console_errors(page_log, server) == []
