"""The map follows a job when the service queues its work (every size through the same door), in
real headless Chromium against a real server whose synchronous limit is smaller than the demo:
today's rounds are scored by an evaluation job the page polls, then drawn as usual."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import Server, served
from .test_map import kinds, open_map, upload_todays_rounds

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

MAX_SYNC_BINS = "10"
"""Fewer bins than the demo problem has: every evaluation of it goes through a job."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace) -> Iterator[Server]:
    """The web tests' server (see tests/web/conftest.py), taking only 10 bins per synchronous request."""
    with served(tmp_path_factory.mktemp("web-door-var"), tools, WASTEROUTE_MAX_SYNC_BINS=MAX_SYNC_BINS) as running:
        yield running


def test_todays_rounds_over_the_limit_are_scored_by_a_job_the_map_follows(page: Page, server: Server) -> None:
    """Uploading today's rounds of the demo (more bins than the limit) queues an evaluation job; the
    page polls it and draws the rounds it answers, the same answer as the job's result."""
    open_map(page, server)
    baseline = upload_todays_rounds(page, server)
    jobs = httpx.get(f"{server.base}/api/v1/jobs", headers=server.headers).json()["jobs"]
    evaluations = [j for j in jobs if j["kind"] == "evaluation"]
    assert [j["status"] for j in evaluations] == ["succeeded"]
    job = httpx.get(f"{server.base}/api/v1/jobs/{evaluations[0]['id']}", headers=server.headers).json()
    assert job["result"] == baseline
    assert page.locator("path.baseline-route").count() == len(kinds(baseline, "route")) > 0
    assert baseline["summary"]["bins_served"] > int(MAX_SYNC_BINS)
