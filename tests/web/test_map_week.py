"""The week on the map (issue 16), in real headless Chromium against a real server: a planner uploads
a small council week on the embedded Monaco network (households with weekly refuse, every other one
with alternate-weekly recycling, today's days and weeks written as a gazetteer writes them), reviews
it over a fortnight, follows the job, picks days and weeks, sees each day's rounds and their areas in
the same colours from day to day, the week's summary, and downloads the day changes for the letters.

The households are the demo's bins spread over the town (every ninth), so that the days' areas lie
apart on the map; their collection today is Tuesday or Thursday, recycling in week 1 or 2. The
picture of a day is saved with the web artifacts, and into ``WASTEROUTE_DOCS_IMAGES`` when set
(``scripts/screenshot_week_day.py``).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import REPO
from .test_county_case import save_picture, upload, write_csv
from .test_map import kinds, open_map, unexpected_console_errors

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

HOUSEHOLDS = 36
REVIEW_TIME_LIMIT_S = "8"
REVIEW_TIMEOUT_MS = 240_000
FLEET = (("ref-1", "Residual"), ("ref-2", "Residual"), ("rec-1", "Dry recycling"))
DAYS = ("mon", "tue", "wed", "thu", "fri")




def week_files(problem: dict[str, Any]) -> dict[str, bytes]:
    """The council's bins and fleet: ``HOUSEHOLDS`` households (UPRN, address) of the demo's bins, each
    with a weekly refuse bin collected on Tuesday or Thursday every week and, every other one, an
    alternate-weekly recycling bin on the same day in week 1 or 2; two refuse lorries and a recycling
    lorry at the demo's depot."""
    depot = problem["depots"][0]
    rows = []
    for i, house in enumerate(problem["bins"][::9][:HOUSEHOLDS]):
        uprn, day = 100_070_000_001 + i, ("Tuesday", "Thursday")[i % 2]
        address = f"{i + 1} Rue des Essais, Monaco"
        rows.append([f"{uprn}-R", uprn, house["lon"], house["lat"], 17, 30, "General Waste", "Weekly", day, "",
                     f"{day[:3].upper()}-REF", address])
        if i % 2 == 0:
            rows.append([f"{uprn}-C", uprn, house["lon"], house["lat"], 9, 30, "Dry recycling", "Alternate weekly",
                         day, 1 + (i // 2) % 2, f"{day[:3].upper()}-REC", address])
    return {
        "bins": write_csv(["id", "uprn", "lon", "lat", "demand_kg", "service_s", "stream", "frequency", "day",
                            "week", "round", "address"], rows),
        "fleet": write_csv(["id", "depot", "capacity_kg", "shift_start", "shift_end", "streams", "depot_lon",
                             "depot_lat"],
                            [[v, "depot", 1200, "06:00", "14:00", stream, depot["lon"], depot["lat"]]
                             for v, stream in FLEET]),
    }




def load_week(page: Page, server: Any) -> None:
    """Open the map and upload the week's fleet and bins (see :func:`week_files`)."""
    problem = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    files = week_files(problem)
    open_map(page, server)
    upload(page, "#vehicles-file", "fleet.csv", files["fleet"])
    upload(page, "#bins-file", "gazetteer.csv", files["bins"])




def swatches(page: Page, selector: str) -> dict[str, str]:
    """Each round's colour as a table ``selector`` shows it (its rows' ``data-vehicle`` and swatch)."""
    colours: dict[str, str] = page.evaluate("""(selector) => Object.fromEntries(
        [...document.querySelectorAll(`${selector} tr[data-vehicle]`)]
            .map((row) => [row.dataset.vehicle, row.querySelector('.swatch').style.background]))""", selector)
    return colours


def pick_day(page: Page, day: str) -> dict[str, Any]:
    """Click ``day`` ("tue B") in the day selector; the stored plan drawn for it."""
    page.click(f"#week-days button[data-day='{day}']")
    page.wait_for_selector(f"body[data-week='{day}']")
    plan: dict[str, Any] = page.evaluate("window.wasteroute.week.plan")
    return plan


def test_a_fortnight_reviewed_on_the_map_shows_each_days_rounds_areas_summary_and_letters(
        page: Page, server: Any, page_log: Any, artifacts: Path, tmp_path: Path) -> None:
    """The planner reviews a fortnight of the uploaded week from the map: the job is followed to its
    end; every household's bins share a weekday (recycling in one week of two, refuse in both); the
    selector shows each day of weeks A and B with its vehicles; a day's stored rounds are drawn with
    one area per round (until the planner hides them), a round keeping its colour on another day; the
    summary has a row per day and the week's totals; the letters' CSV downloads as the service gives
    it; the day opens again from the page's address, and the script pictures it from there. No
    console errors."""
    load_week(page, server)
    page.select_option("#week-weeks", "A,B")
    page.fill("#week-time-limit", REVIEW_TIME_LIMIT_S)
    page.fill("#week-day-change-cost", "5")
    page.click("#start-review")
    page.wait_for_selector("body[data-week]", timeout=REVIEW_TIMEOUT_MS)
    week = page.evaluate("window.wasteroute.week")
    review, review_id = week["review"], week["reviewId"]
    statuses = [h["status"] for h in week["jobHistory"]]
    assert statuses[-1] == "succeeded" and "running" in statuses[:-1]
    assert page.locator("#review-status").inner_text() == f"Review {review_id}: succeeded"
    assert page.locator("#cancel-review").is_hidden()
    assert page.locator(f"#review-ids option[value='{review_id}']").count() == 1  # offered to open again

    # the gazetteer's words were read: one weekday per household, recycling fortnightly, refuse weekly
    assignments = defaultdict(list)
    for a in review["assignments"]:
        assignments[a["bin_id"]].append((a["day"], a["week"]))
    assert review["unassigned"] == []
    for bin_id, visits in assignments.items():
        assert len(visits) == (2 if bin_id.endswith("-R") else 1), bin_id
        assert len({day for day, _ in visits}) == 1, bin_id
        recycling = assignments.get(bin_id.replace("-R", "-C"))
        if bin_id.endswith("-R") and recycling:
            assert recycling[0][0] == visits[0][0], bin_id

    # the selector: a row per week, a button per day giving its vehicles
    buttons = page.locator("#week-days button.week-day")
    assert buttons.count() == 10
    for d in review["days"]:
        button = page.locator(f"#week-days button[data-day='{d['day']} {d['week']}']")
        assert button.is_enabled() == bool(d["plan_id"])
        if d["plan_id"]:
            assert button.inner_text() == str(d["vehicles_used"])
    busiest = max((d for d in review["days"] if d["plan_id"]), key=lambda d: d["vehicles_used"])
    shown = f"{busiest['day']} {busiest['week']}"
    assert week["day"] == shown
    assert page.locator(f"#week-days button[data-day='{shown}']").get_attribute("aria-pressed") == "true"

    # a day's rounds: its stored plan in the plan section and on the map, an area per round
    days_with_rounds = [f"{d['day']} {d['week']}" for d in review["days"] if d["plan_id"]]
    colours: dict[str, set[str]] = defaultdict(set)
    for day in days_with_rounds[:4]:
        plan = pick_day(page, day)
        entry = next(d for d in review["days"] if f"{d['day']} {d['week']}" == day)
        assert page.evaluate("window.wasteroute.state.planId") == entry["plan_id"]
        routes = kinds(plan, "route")
        assert len(routes) == entry["vehicles_used"] > 0
        assert page.locator("path.route-line.optimised-route").count() == len(routes)
        assert page.locator("path.round-area.optimised").count() == len(routes)
        assert page.locator("#toggle-areas").inner_text() == "Hide round areas"
        collected = {v["properties"]["bin_id"] for v in kinds(plan, "visit") if v["properties"]["type"] == "bin"}
        d, w = day.split()
        assert collected == {bin_id for bin_id, visits in assignments.items() if (d, w) in visits}
        day_colours = swatches(page, "#week-day-rounds")
        assert day_colours == swatches(page, "#rounds-table")  # the plan section agrees
        assert set(day_colours) == {r["properties"]["vehicle_id"] for r in routes}
        for vehicle, colour in day_colours.items():
            colours[vehicle].add(colour)
        assert f"week {w}" in page.locator("#plan-meta").inner_text()
    assert all(len(c) == 1 for c in colours.values()), colours  # a round's colour is the same every day
    assert len({c for (c,) in colours.values()}) == len(colours)  # and no two rounds share one
    page.click("#toggle-areas")  # the planner hides the areas: another day keeps them hidden
    pick_day(page, days_with_rounds[0])
    assert page.locator("path.round-area.optimised").count() == 0
    page.click("#toggle-areas")
    pick_day(page, shown)
    page.evaluate("document.querySelector('#week-meta').scrollIntoView({block: 'start'})")
    save_picture(page.screenshot(), "week-day.png", artifacts)

    # the week's summary: a row per day, the totals below
    rows = page.locator("#week-summary tbody tr")
    assert rows.count() == len(review["days"])
    first = review["days"][0]
    assert rows.first.locator("td").nth(1).inner_text() == str(first["vehicles_used"])
    assert rows.first.locator("td").nth(2).inner_text() == f"{first['distance_m'] / 1000:.1f}"
    footer = page.locator("#week-summary tfoot td")
    summary = review["summary"]
    assert footer.nth(1).inner_text() == str(summary["max_vehicles_per_day"])
    assert footer.nth(2).inner_text() == f"{summary['distance_m'] / 1000:.1f}"
    assert footer.nth(6).inner_text() == str(summary["properties_changing_day"]) == str(len(review["day_changes"]))
    moved = sum(int(rows.nth(i).locator("td").nth(6).inner_text()) for i in range(rows.count()))
    weekly_moves = sum(1 for c in review["day_changes"] if c["to"]["week"] is None)
    assert moved == len(review["day_changes"]) + weekly_moves  # a move onto a day of every week counts in each

    empty = [f"{d['day']} {d['week']}" for d in review["days"] if not d["plan_id"]]
    assert page.locator("#week-summary button.show-day").count() == len(days_with_rounds)
    page.locator(f"#week-summary tr[data-day='{days_with_rounds[1]}'] button.show-day").click()
    page.wait_for_selector(f"body[data-week='{days_with_rounds[1]}']")  # a summary row draws its day too
    assert all(page.locator(f"#week-summary tr[data-day='{d}'] button").count() == 0 for d in empty)

    # the letters: the link downloads the service's CSV
    with page.expect_download() as download_info:
        page.click("#week-letters")
    download = download_info.value
    assert download.suggested_filename == f"day-changes-{review_id}.csv"
    saved = tmp_path / "letters.csv"
    download.save_as(saved)
    served = httpx.get(f"{server.base}/api/v1/round-reviews/{review_id}/day-changes?format=csv",
                       headers=server.headers)
    assert saved.read_text() == served.text
    lines = list(csv.DictReader(io.StringIO(served.text)))
    assert len(lines) == len(review["day_changes"])
    assert all(line["address"].endswith("Rue des Essais, Monaco") for line in lines)

    # the page's address names the review and the day: opened again, it shows that day
    other = days_with_rounds[-1]
    pick_day(page, other)
    assert f"review={review_id}" in page.url and f"day={other.replace(' ', '-')}" in page.url
    page.goto(page.url)
    page.wait_for_selector(f"body[data-week='{other}']")
    assert page.locator("path.round-area.optimised").count() == len(kinds(page.evaluate(
        "window.wasteroute.week.plan"), "route"))
    assert unexpected_console_errors(page_log, server) == []
    assert page_log.page_errors == []

    # the picture of a day, made again from the running service by the script, as the lead would
    picture = tmp_path / "day.png"
    made = subprocess.run([sys.executable, "scripts/screenshot_week_day.py", "--server", server.base, "--review",
                           review_id, "--day", other.replace(" ", "-"), "--api-key", server.key, "--out", str(picture),
                           "--width", "1000", "--height", "700"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    assert f"({other} of review {review_id}; page opened to the day drawn in " in made.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(picture.read_bytes()[16:20], "big") == 1000  # the PNG header's width


def test_a_review_opens_by_its_id_and_a_running_one_can_be_cancelled(page: Page, server: Any, page_log: Any) -> None:
    """A review started with a long search is cancelled from the map (nothing stored, the job
    cancelled); a review of the same week made through the API opens on the map by its id."""
    load_week(page, server)
    page.select_option("#week-weeks", "A,B")
    page.fill("#week-time-limit", "120")
    page.click("#start-review")
    page.wait_for_function("(window.wasteroute.week.jobHistory || []).some((h) => h.status === 'running')",
                           timeout=REVIEW_TIMEOUT_MS)
    job_id = page.evaluate("window.wasteroute.week.jobId")
    page.click("#cancel-review")
    page.locator("#review-status").get_by_text("cancelled").wait_for(timeout=REVIEW_TIMEOUT_MS)
    job = httpx.get(f"{server.base}/api/v1/jobs/{job_id}", headers=server.headers).json()
    assert job["status"] == "cancelled"
    assert page.locator("#week-result").is_hidden()

    problem = page.evaluate("window.wasteroute.state.problem")
    body = {**problem, "calendar": {"days": list(DAYS), "weeks": ["A"]},
            "bins": [{k: v for k, v in b.items() if k != "attributes"} | {"property": b["attributes"]["uprn"]}
                     for b in problem["bins"] if b["id"].endswith("-R")],
            "options": {"time_limit_s": 3, "seed": 0}}
    posted = httpx.post(f"{server.base}/api/v1/round-reviews", json=body, headers=server.headers)
    assert posted.status_code == 202, posted.text
    review_id = posted.json()["id"]
    page.fill("#review-id", review_id)
    page.click("#open-review-form button[type='submit']")
    page.wait_for_selector("body[data-week]", timeout=REVIEW_TIMEOUT_MS)
    review = page.evaluate("window.wasteroute.week.review")
    assert page.locator("#week-days button.week-day").count() == len(DAYS)
    assert Counter(a["bin_id"] for a in review["assignments"]) == Counter(b["id"] for b in body["bins"])
    assert unexpected_console_errors(page_log, server) == []


def test_a_week_the_calendar_cannot_hold_is_refused_naming_the_field_and_the_bin(page: Page, server: Any) -> None:
    """A lorry left with no working day, then alternate-weekly recycling reviewed over one week, are
    refused before any search: the map lists the service's 422, naming the vehicle's days and the
    vehicle, then the frequency field and the bin, and starts no job. The vehicles' working days go as
    ticked: a lorry working some days carries them, one working every day none."""
    load_week(page, server)
    page.select_option("#week-weeks", "A,B")
    page.click("#week-vehicles summary")
    for day in DAYS:
        page.uncheck(f"#week-vehicle-days tr[data-vehicle='ref-2'] input[value='{day}']")
    for day in ("mon", "wed", "fri"):
        page.uncheck(f"#week-vehicle-days tr[data-vehicle='rec-1'] input[value='{day}']")
    with page.expect_request("**/api/v1/round-reviews") as posted:
        page.click("#start-review")
    vehicles = posted.value.post_data_json["vehicles"]
    assert [v.get("days") for v in vehicles] == [None, [], ["tue", "thu"]]
    page.wait_for_selector("#review-errors li")
    errors = page.locator("#review-errors").inner_text()
    assert "vehicles[1].days" in errors and "ref-2" in errors, errors

    page.check("#week-vehicle-days tr[data-vehicle='ref-2'] input[value='mon']")
    page.select_option("#week-weeks", "A")
    page.click("#start-review")
    page.locator("#review-errors").get_by_text("frequency").wait_for()
    errors = page.locator("#review-errors").inner_text()
    assert "bins[1].frequency" in errors and "100070000001-C" in errors, errors
    assert page.locator("#review-status").inner_text() == "failed"
    assert page.evaluate("window.wasteroute.week.jobId") is None

READ_GAZETTEER_JS = """async () => {
    const m = await import('/static/web/js/week-request.js');
    const weeks = ['A', 'B'];
    return {
        frequencies: ['Weekly', 'FORTNIGHTLY', 'Alternate Weekly', 'alternate-weekly', 'AWC', 'every other week',
                      'Twice weekly', 'monthly', ''].map((f) => m.frequencyOf(f) ?? null),
        days: ['Monday', 'TUE', 'wednesday', 'Thurs', 'fri', 'Sat', 'Sun', 'Funday'].map(m.weekdayOf),
        weeks: ['A', 'b', '1', '2', 'Week 2', 'week B', '3', '', null].map((w) => m.weekOf(w, weeks)),
        body: m.reviewBody({
            depots: [{id: 'd', lon: 7.4, lat: 43.7}],
            vehicles: [{id: 'v', depot: 'd', capacity_kg: 1000}],
            bins: [{id: 'x', lon: 7.41, lat: 43.73, demand_kg: 10,
                    attributes: {uprn: 42, frequency: 'Alternate weekly', day: 'Thursday', week: '2', round: 'R7',
                                 address: '1 Rue X'}},
                   {id: 'y', lon: 7.41, lat: 43.73, demand_kg: 10, frequency: {visits: 3}, property: 'p',
                    current: {day: 'mon', week: 'A'}, attributes: {day: 'Friday'}}],
            options: {time_limit_s: 5, initial_routes: [], territories_plan_id: 'old'},
        }, {days: ['mon', 'thu', 'fri'], weeks}, {time_limit_s: 9, day_change_cost: 2, keep_current_days: true}),
    };
}"""


def test_the_gazetteers_words_are_read_into_the_reviews(page: Page, server: Any) -> None:
    """The map's reading of a gazetteer's frequency, day and week (js/week-request.js, in the page):
    councils' spellings become the review's words, a week number the calendar's label, anything else is
    passed on as written (for the service's 422 to name); a bin's own review fields win over its
    attributes, and one day's options (initial routes, territories) are left out of a week."""
    open_map(page, server)
    read = page.evaluate(READ_GAZETTEER_JS)
    assert read["frequencies"] == ["weekly", "fortnightly", "fortnightly", "fortnightly", "fortnightly",
                                   "fortnightly", "twice_weekly", "monthly", None]
    assert read["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "Funday"]
    assert read["weeks"] == ["A", "B", "A", "B", "B", "B", "3", None, None]
    body = read["body"]
    assert body["calendar"] == {"days": ["mon", "thu", "fri"], "weeks": ["A", "B"]}
    assert body["options"] == {"time_limit_s": 9, "day_change_cost": 2, "keep_current_days": True}
    x, y = body["bins"]
    assert (x["frequency"], x["property"], x["address"]) == ("fortnightly", "42", "1 Rue X")
    assert x["current"] == {"day": "thu", "week": "B", "round": "R7"}
    assert (y["frequency"], y["property"], y["current"]) == ({"visits": 3}, "p", {"day": "mon", "week": "A"})
