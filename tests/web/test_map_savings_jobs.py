"""The map's savings report when the service queues the work (every size through the same door), in
real headless Chromium against a real server whose synchronous limit is smaller than the demo: storing
today's rounds follows a ``plan`` job, and the report of the optimised plan against them a ``report``
job whose HTML opens in the report's tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import Server
from .test_map import SOLVE_TIMEOUT_MS, open_map, optimise, upload_todays_rounds
from .test_map_jobs import jobs_of

pytestmark = [pytest.mark.slow, pytest.mark.spawns]


@pytest.fixture(scope="module")
def server(small_limit_server: Server) -> Server:
    """The web tests' server taking only 10 bins per synchronous request (see tests/web/conftest.py)."""
    return small_limit_server


def test_todays_rounds_stored_and_the_report_over_the_limit_go_through_jobs(page: Page, server: Server) -> None:
    """Over the limit, "Store today's rounds" stores them through a plan job and "Savings report against
    today's rounds" opens the report job's HTML in the new tab: the plan against the stored rounds."""
    earlier = {j["id"] for j in jobs_of(server)}  # the server is shared: other tests' jobs are not this one's
    open_map(page, server)
    upload_todays_rounds(page, server)
    page.click("#store-today")
    page.locator("#store-today-status").get_by_text("Stored as plan").wait_for()
    baseline_id = page.evaluate("window.wasteroute.state.baselineId")
    optimise(page)
    plan_id = page.evaluate("window.wasteroute.state.planId")
    with page.expect_popup() as popup_info:
        page.click("#open-report")
    report = popup_info.value
    report.wait_for_selector("h1", timeout=SOLVE_TIMEOUT_MS)
    text = report.inner_text("body")
    assert f": {plan_id} (v1, optimised) against baseline Today's rounds: {baseline_id} (v1, manual)" in text
    assert "Plan Optimised " in text  # a plan stored without a name is named after how and when it was made
    jobs = [j for j in jobs_of(server) if j["id"] not in earlier]
    assert {(j["kind"], j["status"]) for j in jobs} >= {("plan", "succeeded"), ("report", "succeeded")}
    assert page.locator("#optimise-errors li").count() == 0
