"""The map follows a job when the service queues its work (every size through the same door), in
real headless Chromium against a real server whose synchronous limit is smaller than the demo:
today's rounds are scored by an evaluation job the page polls, then drawn as usual."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import MAX_SYNC_BINS, Server
from .test_map import kinds, open_map, upload_todays_rounds

pytestmark = [pytest.mark.slow, pytest.mark.spawns]


@pytest.fixture(scope="module")
def server(small_limit_server: Server) -> Server:
    """The web tests' server taking only 10 bins per synchronous request (see tests/web/conftest.py)."""
    return small_limit_server


def jobs_of(server: Server) -> list[dict[str, Any]]:
    """Every job of the web tests' tenant on ``server``."""
    return list(httpx.get(f"{server.base}/api/v1/jobs", headers=server.headers).json()["jobs"])


def test_todays_rounds_over_the_limit_are_scored_by_a_job_the_map_follows(page: Page, server: Server) -> None:
    """Uploading today's rounds of the demo (more bins than the limit) queues an evaluation job; the
    page polls it and draws the rounds it answers, the same answer as the job's result."""
    earlier = {j["id"] for j in jobs_of(server)}  # the server is shared: other tests' jobs are not this one's
    open_map(page, server)
    baseline = upload_todays_rounds(page, server)
    evaluations = [j for j in jobs_of(server) if j["kind"] == "evaluation" and j["id"] not in earlier]
    assert [j["status"] for j in evaluations] == ["succeeded"]
    job = httpx.get(f"{server.base}/api/v1/jobs/{evaluations[0]['id']}", headers=server.headers).json()
    assert job["result"] == baseline
    assert page.locator("path.baseline-route").count() == len(kinds(baseline, "route")) > 0
    assert baseline["summary"]["bins_served"] > int(MAX_SYNC_BINS)
