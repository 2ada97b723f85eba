"""The county case of issue 17 on Rutland, in British National Grid, end to end through the map, in real
headless Chromium against a real server set up as a council sets it up: started with
``WASTEROUTE_NETWORK_FILE`` on the Rutland extract, and no setting changed afterwards (no CRS named in the
upload options: the grid is recognised from the EASTING/NORTHING columns).

The council's files (:mod:`tests.web.rutland_county`): a gazetteer export of 300 Oakham households on real
streets in EPSG:27700 with columns the service does not use, a fleet file, a tip and an in-cab export of
Monday's and Tuesday's rounds. The planner uploads them on the map as it opens (the demo's depot is then
refused until the fleet gives the council's own), scores and stores Tuesday's rounds in a round set,
optimises (a job: the plan is stored in the round set), approves the plan under a name, opens its round
books and its savings report (whose yearly figures come from the gazetteer's FREQUENCY column, as it says),
and reopens the plan from the list after the demo was loaded again. Pictures of the report and of a round
book's first page are saved with the web artifacts, and into ``WASTEROUTE_DOCS_IMAGES`` when set
(``scripts/screenshot_county_case.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from solver.network import RoadNetwork

from ..conftest import RUTLAND_PBF, require_shared
from .conftest import Server, served, sign_in
from .rutland_county import HOUSEHOLDS, ROUNDS, county_files, metres_apart
from .test_county_case import (
    A4_HEIGHT_PX,
    A4_WIDTH_PX,
    open_savings_report,
    save_picture,
    score_todays_rounds,
)
from .test_map import SOLVE_TIMEOUT_MS, kinds, open_map, unexpected_console_errors

pytestmark = [pytest.mark.slow, pytest.mark.spawns, pytest.mark.shared]

ROUND_SET = "oakham/refuse/tuesday"
"""The round set the planner types: it names no frequency, so the gazetteer's FREQUENCY column says it."""
APPROVER = "Jo Fleet-Manager"
TIME_LIMIT_S = "5" if HOUSEHOLDS <= 300 else "60"
"""The search time the planner asks for (seconds): CI runs this case, so it is short."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace, network_cache_dir: Path,
           rutland: RoadNetwork) -> Iterator[Server]:
    """The service started on the Rutland extract (skipped, with the reason, without ``../shared``)."""
    network = require_shared(RUTLAND_PBF)
    # the network's built graph is read from the tests' shared cache, where ``rutland`` built it once for
    # every test of the run: the server starts in seconds instead of building it again
    with served(tmp_path_factory.mktemp("rutland-var"), tools, network_cache_dir,
                WASTEROUTE_NETWORK_FILE=str(network)) as running:
        yield running


def upload(page: Page, selector: str, name: str, content: bytes) -> list[str]:
    """Choose ``content`` as the file of the input ``selector``; once loaded, the page's messages about it."""
    page.set_input_files(selector, files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    page.wait_for_function("(n) => document.querySelector('#problem-status').textContent.startsWith(`Uploaded ${n}`)"
                           " || document.querySelector('#upload-errors').textContent.includes(`${n} was not`)",
                           arg=name)
    return page.locator("#upload-errors li").all_inner_texts()


def test_the_county_case_on_rutland_in_british_national_grid(page: Page, server: Server, page_log: Any,
                                                             artifacts: Path) -> None:
    """A fleet planner's day on the Rutland service: gazetteer (BNG, extra columns), fleet, tip and in-cab
    rounds uploaded; Tuesday's rounds scored and stored in the round set; the bins optimised into a stored
    plan of the round set, approved by name and listed with its round set, day, date, km, vehicles and
    approver; round books (a page per round, Oakham's streets in driving order) and the savings report
    (52 collections a year from the bins' FREQUENCY) opened; the plan reopened with its own problem,
    today's rounds and colours after the demo was loaded over it."""
    started = time.perf_counter()
    homes, files = county_files(RUTLAND_PBF)
    assert len(homes) == HOUSEHOLDS
    open_map(page, server)

    messages = upload(page, "#bins-file", "gazetteer.csv", files["gazetteer"])
    assert messages and all(m.startswith(("Tip ", "Depot ")) for m in messages), messages
    assert any(m.startswith("Depot depot is") for m in messages) and page.locator("#optimise").is_disabled()
    assert upload(page, "#vehicles-file", "fleet.csv", files["fleet"]) == []
    assert upload(page, "#sites-file", "tips.csv", files["tips"]) == []
    assert page.locator("#optimise").is_enabled()
    state = page.evaluate("window.wasteroute.state.problem")
    assert [d["id"] for d in state["depots"]] == ["pillings-road"]
    assert [v["id"] for v in state["vehicles"]] == list(ROUNDS)
    assert [s["id"] for s in state["disposal_sites"]] == ["cottesmore-hwrc"]
    assert len(state["bins"]) == HOUSEHOLDS == page.locator("path.bin-dot").count()
    first = state["bins"][0]
    assert first["id"] == str(homes[0].uprn) and metres_apart((first["lon"], first["lat"]),
                                                              (homes[0].lon, homes[0].lat)) < 0.05
    assert first["attributes"]["address"] == f"{homes[0].number} {homes[0].street}, Oakham"
    assert first["attributes"]["LPI_STATUS"] == "Approved" and first["attributes"]["frequency"] == "Weekly"
    assert page.locator("#upload-crs").input_value() == ""  # the grid was recognised, not named
    page.fill("#round-set", ROUND_SET)
    assert page.inner_text("#collections-note") == (
        f"Collections a year: 52 (the bins' FREQUENCY: {HOUSEHOLDS} weekly).")
    uploaded_s = time.perf_counter() - started

    baseline = score_todays_rounds(page, files["rounds"])
    assert baseline["summary"]["bins_served"] == HOUSEHOLDS and baseline["summary"]["violations"] == 0
    page.click("#store-today")
    page.locator("#store-today-status").get_by_text("Stored as plan").wait_for()
    baseline_id = page.evaluate("window.wasteroute.state.baselineId")
    today_s = time.perf_counter() - started

    page.fill("#time-limit", TIME_LIMIT_S)
    page.click("#optimise")
    page.wait_for_selector("body[data-plan='shown']", timeout=SOLVE_TIMEOUT_MS)
    optimised_s = time.perf_counter() - started
    plan = page.evaluate("window.wasteroute.state.plan")
    plan_id = page.evaluate("window.wasteroute.state.planId")
    assert plan_id and plan_id != baseline_id
    assert plan["summary"]["bins_served"] == HOUSEHOLDS and plan["unassigned"] == []
    stored = httpx.get(f"{server.base}/api/v1/plans/{plan_id}", headers=server.headers).json()
    assert stored["round_set"] == ROUND_SET

    sign_in(page, server.new_person(APPROVER, "approver"), APPROVER)
    page.click("#approve")
    page.locator("#approval-status").get_by_text(f"approved by {APPROVER}").wait_for()
    listed = page.locator("#plans-list li", has=page.locator(f"button[data-id='{plan_id}']"))
    listed.get_by_text(f"approved by {APPROVER} on").wait_for()
    entry = listed.inner_text()
    summary = plan["summary"]
    assert f" · optimised · round set {ROUND_SET} · Tuesday · made " in entry
    assert (f" · {summary['distance_m'] / 1000:.1f} km, {summary['vehicles_used']} vehicle"
            f"{'' if summary['vehicles_used'] == 1 else 's'}, {HOUSEHOLDS} bins · approved") in entry

    with page.expect_popup() as popup_info:
        page.click("button.round-book[data-format='html']")
    book = popup_info.value
    book.wait_for_selector("section.round")
    assert book.locator("section.round").count() == len(kinds(plan, "route")) > 0
    text = book.inner_text("body")
    streets = {h.street for h in homes}
    titles = book.locator("tr.street td.what").all_inner_texts()
    assert titles and all(any(street in title for street in streets) for title in titles), titles[:5]
    assert "Leave depot" in text and "Assisted:" in text
    book.set_viewport_size({"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})
    book.emulate_media(media="print")
    save_picture(book.screenshot(full_page=False), "county-round-book.png", artifacts)

    report, text = open_savings_report(page)
    assert "Savings report" in text and "Today's rounds, Tuesday, week 1" in text
    assert f"Plan approved by {APPROVER}" in text
    assert f"the bins' FREQUENCY: {HOUSEHOLDS} weekly (52 collections a year)" in text
    assert "warning:" not in text  # today's round is a crew's, not a straw man, and breaks no rule
    report.set_viewport_size({"width": 1200, "height": 900})
    save_picture(report.screenshot(full_page=True), "county-report.png", artifacts)
    reported_s = time.perf_counter() - started

    colours = page.evaluate("[...document.querySelectorAll('#rounds-table tr.round-row')]"
                            ".map((r) => [r.dataset.vehicle, r.querySelector('.swatch').style.background])")
    page.click("#load-demo")
    page.wait_for_function("window.wasteroute.state.problem.bins.length === 320")
    page.click(f"button.open-plan[data-id='{plan_id}']")
    page.wait_for_function(f"window.wasteroute.state.problem.bins.length === {HOUSEHOLDS}"
                           f" && window.wasteroute.state.planId === {plan_id!r}"
                           f" && window.wasteroute.state.baselineId === {baseline_id!r}")
    reopened = page.evaluate("window.wasteroute.state")
    assert len(reopened["problem"]["bins"]) == HOUSEHOLDS and reopened["problem"]["depots"][0]["id"] == "pillings-road"
    assert page.evaluate("[...document.querySelectorAll('#rounds-table tr.round-row')]"
                         ".map((r) => [r.dataset.vehicle, r.querySelector('.swatch').style.background])") == colours
    assert page.locator("#open-report").is_enabled() and page.input_value("#round-set") == ROUND_SET
    assert unexpected_console_errors(page_log, server) == []
    print(f"\nrutland county case: {HOUSEHOLDS} bins; uploads {uploaded_s:.1f} s, today's rounds stored "
          f"{today_s:.1f} s, optimised ({TIME_LIMIT_S} s search) {optimised_s:.1f} s, book and report "
          f"{reported_s:.1f} s, all {time.perf_counter() - started:.1f} s (after the server's start)")
