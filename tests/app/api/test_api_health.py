"""GET /api/v1/health and the documentation; health keeps answering during a solve."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings


def test_health_answers_ok(client: TestClient) -> None:
    """A started service answers ``{"status": "ok", ...}``."""
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_names_the_loaded_network(client: TestClient) -> None:
    """Health tells which road network the service plans on and its size."""
    network = client.get("/api/v1/health").json()["network"]
    assert network["source"] == "monaco.osm.pbf"
    assert network["nodes"] > 1000 and network["edges"] > network["nodes"]


def test_health_reports_solve_slots(client: TestClient, settings: Settings) -> None:
    """Health tells how many solves run and how many may run at once."""
    solves = client.get("/api/v1/health").json()["solves"]
    assert solves == {"running": 0, "queued": 0, "limit": settings.max_concurrent_solves}


def test_health_before_startup_reports_no_network(app_client: TestClient) -> None:
    """Before the network is loaded, health still answers, with ``network`` null."""
    body = app_client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["network"] is None


def test_docs_page_is_served(app_client: TestClient) -> None:
    """``/docs`` serves the interactive OpenAPI documentation."""
    response = app_client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_openapi_document_describes_the_optimisation(app_client: TestClient) -> None:
    """``/openapi.json`` documents the optimisation with its 422 shape naming field and id."""
    document = app_client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/optimisations"]["post"]
    assert {"200", "422"} <= set(operation["responses"])
    error_item = document["components"]["schemas"]["ErrorItem"]
    assert {"loc", "field", "id", "msg", "type"} <= set(error_item["properties"])


# --------------------------------------------------------------------------- a real server


@pytest.fixture
def server(data_dir: Path, tmp_path: Path, tools: SimpleNamespace) -> Iterator[str]:
    """``wasteroute serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = tools.free_port()
    env = {**os.environ, "WASTEROUTE_DATA_DIR": str(data_dir), "WASTEROUTE_CACHE_DIR": str(data_dir / "cache"),
           "WASTEROUTE_LOG_LEVEL": "warning", "WASTEROUTE_AUTH_REQUIRED": "false"}
    env.pop("WASTEROUTE_NETWORK_FILE", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tools.running_server(command, base=f"http://127.0.0.1:{port}", env=env, cwd=Path.cwd(),
                              log_path=tmp_path / "server.log") as base:
        yield base


@pytest.mark.slow
@pytest.mark.serial
def test_health_answers_quickly_while_a_solve_runs(server: str,
                                                   make_problem: Callable[[], dict[str, Any]]) -> None:
    """During a 4 s solve on a real server, health answers within a second every time and
    sees the solve running; the solve then succeeds."""
    body = make_problem()
    body["options"]["time_limit_s"] = 4
    outcome: dict[str, Any] = {}

    def post_solve() -> None:
        """Post the solve and keep its answer."""
        outcome["response"] = httpx.post(f"{server}/api/v1/optimisations", json=body, timeout=120)

    solver_thread = threading.Thread(target=post_solve)
    solver_thread.start()
    latencies: list[float] = []
    running_seen: list[int] = []
    while solver_thread.is_alive():
        started = time.perf_counter()
        health = httpx.get(f"{server}/api/v1/health", timeout=10)
        latencies.append(time.perf_counter() - started)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        running_seen.append(health.json()["solves"]["running"])
        time.sleep(0.1)
    solver_thread.join()
    assert outcome["response"].status_code == 200, outcome["response"].text
    assert running_seen.count(1) >= 10, running_seen
    assert max(latencies) < 1.0, latencies
