"""Two people, two browsers (issue 19's "Done when"): a planner signs in to the map, optimises and stores a plan,
and cannot approve it (no button, and the service refuses the call); an approver signs in in another browser and
approves it; the plan then says "approved by" the approver, and the audit CSV names both people."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from .conftest import Server
from .test_map import optimise

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

PLANNER, APPROVER = "Pat Planner", "Ann Approver"

APPROVE_JS = """async (planId) => {
  const key = sessionStorage.getItem('wasteroute.apiKey');
  const answer = await fetch(`/api/v1/plans/${planId}/approve`, {method: 'POST', headers: {'X-API-Key': key}});
  return {status: answer.status, body: await answer.json()};
}"""
"""The approval call made from the planner's own page, as a person bypassing the hidden button would."""


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Two separate browser contexts (two people's browsers: no storage shared), closed afterwards."""
    opened = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(2)]
    yield opened
    for context in opened:
        context.close()


def _signed_in(context: BrowserContext, server: Server, key: str, name: str) -> Page:
    """A page of ``context`` on the map, signed in through its Sign in form with ``key``, naming ``name``."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server.base}/")
    page.locator("#key-form").wait_for()
    page.fill("#api-key", key)
    page.click("#sign-in")
    page.wait_for_selector("body[data-ready='true']")
    page.locator("#who-name").get_by_text(name).wait_for()
    return page


def _audit_csv(page: Page, tmp_path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit trail as the approver downloads it from the map's Audit section (the CSV):
    (user, action, details) of each line."""
    page.locator("#audit-section").wait_for()
    with page.expect_download() as download_info:
        page.click("#audit-csv")
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    return [(row["user"], row["action"], json.loads(row["details"] or "{}")) for row in rows]


def test_planner_plans_and_another_person_approves(contexts: list[BrowserContext], server: Server,
                                                   tmp_path: Path) -> None:
    """The planner's plan is approved by the approver and not by the planner, and the audit CSV the approver
    downloads from the map shows both (and the planner's refused attempt); the planner has no Audit section."""
    planner = _signed_in(contexts[0], server, server.new_person(PLANNER, "planner"), PLANNER)
    assert "roles: planner" in planner.locator("#who-roles").inner_text()
    plan = optimise(planner)
    plan_id = planner.evaluate("window.wasteroute.state.planId")
    assert plan_id and plan["summary"]["bins_served"] > 0
    assert planner.locator("#approve").is_hidden()
    assert "Only an approver can approve" in planner.locator("#approve-note").inner_text()
    refused = planner.evaluate(APPROVE_JS, plan_id)
    assert refused["status"] == 403 and refused["body"]["detail"][0]["type"] == "role_required"

    approver = _signed_in(contexts[1], server, server.new_person(APPROVER, "approver"), APPROVER)
    approver.click(f"button.open-plan[data-id='{plan_id}']")
    approver.wait_for_selector("body[data-plan='shown']")
    assert approver.locator("#approver").count() == 0, "no name is typed in: the key names the person"
    approver.click("#approve")
    approver.locator("#approval-status.approved").wait_for()
    assert f"approved by {APPROVER}" in approver.locator("#approval-status").inner_text()

    planner.click("#refresh-plans")
    entry = planner.locator("#plans-list li", has=planner.locator(f"button[data-id='{plan_id}']"))
    entry.get_by_text(f"approved by {APPROVER}").wait_for()

    assert planner.locator("#audit-section").is_hidden(), "a planner may not read the audit trail"
    lines = _audit_csv(approver, tmp_path)
    about_plan = [(actor, action) for actor, action, details in lines
                  if action in ("plan.create", "plan.approve") and details.get("kpis") is not None]
    assert (PLANNER, "plan.create") in about_plan and (APPROVER, "plan.approve") in about_plan
    assert (PLANNER, "plan.approve") not in about_plan
    assert any(actor == PLANNER and action == "access.refused" and details["path"].endswith(f"{plan_id}/approve")
               for actor, action, details in lines)


def test_the_creator_is_refused_in_words(contexts: list[BrowserContext], server: Server) -> None:
    """Four eyes on the map: a person who plans and approves cannot approve their own plan; the page says why."""
    both = "Sam Both"
    page = _signed_in(contexts[0], server, server.new_person(both, "planner", "approver"), both)
    optimise(page)
    plan_id = page.evaluate("window.wasteroute.state.planId")
    page.click(f"button.open-plan[data-id='{plan_id}']")
    page.locator("#approve-note").get_by_text("another approver must approve it").wait_for()
    assert page.locator("#approve").is_hidden()
