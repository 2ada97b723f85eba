"""schemathesis against the service's own OpenAPI schema, on a real uvicorn server on
loopback (Monaco loaded, a real solver worker): generated requests, valid and invalid,
for every operation, with zero server errors and answers that match the schema.

The server runs with small limits (solver time limit at most 1 s, 50 bins per
synchronous request) so the run stays within a couple of minutes; the number of
examples per operation is bounded by ``MAX_EXAMPLES``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings, default_network_file
from app.main import create_app
from solver.network import RoadNetwork

MAX_EXAMPLES = 12
"""Generated requests per operation."""

STARTUP_TIMEOUT_S = 120.0
"""Longest wait for the server to load Monaco and start its worker."""

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
"""What every answer is held to. Left out: ``positive_data_acceptance`` (a body can
match the schema and still break a rule between fields, such as a duplicate id, which
rightly answers 422), ``negative_data_rejection`` (pydantic's lax mode accepts ``1``
for ``1.0`` and ``true`` where a number goes, harmlessly), and the ``Allow`` header of
405 answers (Starlette lists only the methods of the first route matching a path)."""

KNOWN_GAPS: dict[tuple[str, Any], str] = {}
"""(operation, check) pairs left out until the route's documentation is mended; every
other check still holds for these operations, no server error above all."""

pytestmark = [pytest.mark.slow, pytest.mark.spawns]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace, monaco: RoadNetwork,
                network_cache_dir: Path) -> Iterator[str]:
    """``uvicorn --factory app.main:create_app`` on a free loopback port; its base URL.

    It reads Monaco from the session's network cache (filled by ``monaco``), solves with
    one worker for at most 1 s, and takes at most 50 bins per synchronous request.
    """
    data_dir: Path = tmp_path_factory.mktemp("schemathesis-var")
    port = tools.free_port()
    env = {**os.environ, "WASTEROUTE_NETWORK_FILE": str(default_network_file()),
           "WASTEROUTE_DATA_DIR": str(data_dir), "WASTEROUTE_CACHE_DIR": str(network_cache_dir),
           "WASTEROUTE_DEFAULT_TIME_LIMIT_S": "0.5", "WASTEROUTE_MAX_TIME_LIMIT_S": "1",
           "WASTEROUTE_MAX_CONCURRENT_SOLVES": "1", "WASTEROUTE_MAX_SYNC_BINS": "50",
           "WASTEROUTE_LOG_LEVEL": "warning", "WASTEROUTE_AUTH_REQUIRED": "false"}
    env.pop("WASTEROUTE_DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]
    with tools.running_server(command, base=f"http://127.0.0.1:{port}", env=env, cwd=data_dir,
                              log_path=data_dir / "server.log", startup_s=STARTUP_TIMEOUT_S) as base:
        yield base


def _service_schema() -> dict[str, object]:
    """The service's own OpenAPI document, as ``create_app`` builds it (no I/O: the app is
    not started; the live server serves the same document at /openapi.json)."""
    return create_app(Settings(network_file=default_network_file(), data_dir=Path("var"),
                               auth_required=False)).openapi()  # as the live server: no API keys


schema = schemathesis.openapi.from_dict(_service_schema())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_answers_without_server_errors_and_as_documented(live_server: str, case: Case) -> None:
    """Every generated request gets no 5xx, and a status code, headers and body the
    schema documents for it."""
    checks = [check for check in CHECKS if (case.operation.label, check) not in KNOWN_GAPS]
    case.call_and_validate(base_url=live_server, timeout=30, checks=checks)
