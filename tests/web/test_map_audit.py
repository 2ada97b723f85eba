"""The audit trail on the map (app/web/js/audit.js), in real headless Chromium against a real server: the
newest lines with who did what to which record, filtered by action and period, a refused filter's
message, and the same lines downloaded as the service's CSV (fetched with the key)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import Server, sign_in
from .test_map import open_map, unexpected_console_errors

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

APPROVER = "Ann Auditor-Approver"


def _stored_and_approved(server: Server, approver_key: str) -> str:
    """A person's plan of the demo's first bins stored (with the tenant's key) and approved through the API
    by the approver; its id."""
    demo = httpx.get(f"{server.base}/api/v1/demo", headers=server.headers).json()
    bins = demo["bins"][:6]
    body = {**demo, "bins": bins, "vehicles": demo["vehicles"][:1],
            "routes": [{"vehicle_id": demo["vehicles"][0]["id"], "stops": [b["id"] for b in bins]}]}
    stored = httpx.post(f"{server.base}/api/v1/plans", json=body, headers=server.headers, timeout=120)
    assert stored.status_code == 201, stored.text
    plan_id: str = stored.json()["id"]
    approved = httpx.post(f"{server.base}/api/v1/plans/{plan_id}/approve",
                          headers={"X-API-Key": approver_key}, timeout=60)
    assert approved.status_code == 200, approved.text
    return plan_id


def _rows(page: Page) -> list[list[str]]:
    """The panel's lines as their cells' text."""
    return page.eval_on_selector_all("#audit-lines tbody tr",
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def test_the_panel_lists_filters_and_downloads_the_trail(page: Page, server: Server, page_log: Any,
                                                         tmp_path: Path, artifacts: Path) -> None:
    """Hidden from the tenant's key; once the approver signs in, the panel opens with the newest lines (the
    plan's approval by name, its creation by the key); the
    action filter leaves the approval alone; a period ending before the first line shows none; a period
    backwards shows the service's message naming ``to``; Download CSV saves the service's CSV of the
    filtered lines, and the download is itself a line."""
    approver_key = server.new_person(APPROVER, "approver")
    plan_id = _stored_and_approved(server, approver_key)
    open_map(page, server)
    assert page.locator("#audit-section").is_hidden(), "the tenant's key (no person, no approver) may not read it"
    sign_in(page, approver_key, APPROVER)
    page.wait_for_selector("#audit-section:not([hidden]) #audit-lines tbody tr")
    rows = _rows(page)
    assert [APPROVER, "plan.approve", f"plan:{plan_id}"] in [r[1:] for r in rows]
    assert [f"key {server.key[:8]}", "plan.create", f"plan:{plan_id}"] in [r[1:] for r in rows]

    page.fill("#audit-action", "plan.approve")
    page.fill("#audit-id", plan_id)
    page.click("#audit-show")
    page.wait_for_function("document.querySelectorAll('#audit-lines tbody tr').length === 1")
    [only] = _rows(page)
    assert only[1:] == [APPROVER, "plan.approve", f"plan:{plan_id}"]
    page.locator("#audit-section").screenshot(path=str(artifacts / "audit-panel.png"))

    with page.expect_download() as download_info:
        page.click("#audit-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("audit-") and download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    table = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert table[0] == ["time", "user", "action", "object", "details"]
    assert [r[1:4] for r in table[1:]] == [[APPROVER, "plan.approve", f"plan:{plan_id}"]]

    page.fill("#audit-action", "export.audit")
    page.fill("#audit-id", "")
    page.click("#audit-show")
    page.wait_for_function("[...document.querySelectorAll('#audit-lines tbody tr')]"
                           ".some(r => r.cells[2].textContent === 'export.audit')")

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    page.fill("#audit-action", "")
    page.fill("#audit-from", "2000-01-01")
    page.fill("#audit-to", "2000-01-02")
    page.click("#audit-show")
    page.wait_for_function("document.querySelectorAll('#audit-lines tbody tr').length === 0")
    assert "No line matches" in page.inner_text("#audit-count")
    page.fill("#audit-from", yesterday)
    page.fill("#audit-to", "2000-01-01")
    page.click("#audit-show")
    page.wait_for_selector("#audit-errors li")
    assert "to:" in page.inner_text("#audit-errors")
    assert page_log.page_errors == []
    assert all("422" in error for error in unexpected_console_errors(page_log, server))  # the refused period only
