"""The map follows a job when the service queues its work (every size through the same door), in
real headless Chromium against a real server whose synchronous limit is smaller than the demo:
today's rounds are scored by an evaluation job the page polls, then drawn as usual."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from playwright.sync_api import Page

from .conftest import STARTUP_S, Server, create_api_key
from .test_map import kinds, open_map, upload_todays_rounds

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

MAX_SYNC_BINS = "10"
"""Fewer bins than the demo problem has: every evaluation of it goes through a job."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace) -> Iterator[Server]:
    """The web tests' server (see tests/web/conftest.py), taking only 10 bins per synchronous request."""
    data_dir = tmp_path_factory.mktemp("web-door-var")
    port, dead_port = tools.free_port(), tools.free_port()
    tile_url = f"http://127.0.0.1:{dead_port}/tiles/{{z}}/{{x}}/{{y}}.png"
    env = {**os.environ, "WASTEROUTE_DATA_DIR": str(data_dir), "WASTEROUTE_CACHE_DIR": str(data_dir / "cache"),
           "WASTEROUTE_LOG_LEVEL": "warning", "WASTEROUTE_MAX_CONCURRENT_SOLVES": "1",
           "WASTEROUTE_TILE_URL": tile_url, "WASTEROUTE_DEFAULT_TIME_LIMIT_S": "2",
           "WASTEROUTE_AUTH_REQUIRED": "true", "WASTEROUTE_MAX_SYNC_BINS": MAX_SYNC_BINS}
    env.pop("WASTEROUTE_NETWORK_FILE", None)
    env.pop("WASTEROUTE_DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
               "--port", str(port)]
    with tools.running_server(command, base=f"http://127.0.0.1:{port}", env=env, cwd=data_dir,
                              log_path=data_dir / "server.log", startup_s=STARTUP_S) as base:
        yield Server(base=base, tile_url=tile_url, key=create_api_key(env, data_dir))


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
