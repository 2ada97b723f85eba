"""API keys and tenants (app/api/auth.py, app/api/tenancy.py) on a real started app with keys required:
401 in the error shape, the open paths, every resource isolated between tenants, revoked keys
refused, no key in any log, the OpenAPI security scheme, and CORS closed unless configured."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import store
from app.api.auth import is_open, open_paths
from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter

TODAYS_ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
                 {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]
"""A person's plan of the eight test bins."""

OPEN_PATHS = ["/api/v1/health", "/", "/static/web/js/api.js", "/docs", "/openapi.json"]
"""What answers without a key."""


@dataclass
class Caller:
    """A started client that sends one tenant's key (``None``: no key) with every request."""

    client: TestClient
    key: str | None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The key's header plus ``extra``."""
        headers = dict(extra or {})
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET with the key."""
        return self.client.get(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """POST with the key."""
        return self.client.post(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        """DELETE with the key."""
        return self.client.delete(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Any method with the key."""
        return self.client.request(method, url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture(scope="module")
def keyed_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The test settings with API keys required, on a store of this module's own."""
    folder = tmp_path_factory.mktemp("auth-store")
    return settings.model_copy(update={"auth_required": True, "max_concurrent_solves": 1,
                                       "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})


@pytest.fixture(scope="module")
def keyed_client(keyed_settings: Settings) -> Iterator[TestClient]:
    """A started app (Monaco loaded, one solver worker) that requires API keys."""
    with TestClient(create_app(keyed_settings)) as started:
        yield started


def new_key(client: TestClient, tenant: str) -> str:
    """A fresh key of ``tenant`` in the app's store."""
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        _, key = store.create_api_key(session, tenant, name="test")
    return key


def new_person_key(client: TestClient, tenant: str, *roles: str) -> str:
    """A fresh key of a new user of ``tenant`` holding ``roles``, in the app's store."""
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        user = store.create_user(session, tenant, name=f"{tenant} person", roles=roles, actor="test")
        made = store.create_user_key(session, tenant, user.id, actor="test")
        assert made is not None
    return made[1]


@pytest.fixture(scope="module")
def council_a(keyed_client: TestClient) -> Caller:
    """Tenant ``council-a``'s caller."""
    return Caller(keyed_client, new_key(keyed_client, "council-a"))


@pytest.fixture(scope="module")
def council_b(keyed_client: TestClient) -> Caller:
    """Tenant ``council-b``'s caller: a person who plans and approves (so that an approval reaches the plan lookup)."""
    return Caller(keyed_client, new_person_key(keyed_client, "council-b", "planner", "approver"))


@pytest.fixture(scope="module")
def records(council_a: Caller, council_b: Caller, make_problem: Any, wait_for_job: JobWaiter) -> dict[str, str]:
    """Records of council A (a job, the plan it stored, a person's plan) and a person's plan of
    council B: ``{"job", "plan", "manual", "b_plan"}`` ids."""
    problem = make_problem()
    accepted = council_a.post("/api/v1/jobs", json=problem)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(council_a, accepted.json()["id"])
    assert job["status"] == "succeeded", job
    manual = council_a.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS})
    b_plan = council_b.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS})
    assert manual.status_code == 201 and b_plan.status_code == 201, (manual.text, b_plan.text)
    return {"job": job["id"], "plan": job["plan_id"], "manual": manual.json()["id"], "b_plan": b_plan.json()["id"]}


Request = tuple[str, str, dict[str, Any] | None]
"""Method, path template and body of a request."""

OWN_RESOURCES: list[Request] = [
    ("GET", "/api/v1/jobs/{job}", None),
    ("DELETE", "/api/v1/jobs/{job}", None),
    ("GET", "/api/v1/plans/{plan}", None),
    ("POST", "/api/v1/plans/{manual}/approve", None),
    ("GET", "/api/v1/plans/{plan}/compare?other={manual}", None),
    ("GET", "/api/v1/plans/{plan}/report?baseline={manual}&format=json", None),
    ("GET", "/api/v1/plans/{plan}/export?format=geojson", None),
    ("GET", "/api/v1/plans/{manual}/export?format=csv", None),
]
"""Every request naming council A's records (method, path, body)."""

CROSS_REFERENCES: list[Request] = [
    ("GET", "/api/v1/plans/{b_plan}/compare?other={plan}", None),
    ("GET", "/api/v1/plans/{b_plan}/report?baseline={manual}&format=json", None),
]
"""Council B's own plan set against council A's."""


@pytest.mark.parametrize(("method", "path", "body"), OWN_RESOURCES + CROSS_REFERENCES,
                         ids=[f"{m} {p}" for m, p, _ in OWN_RESOURCES + CROSS_REFERENCES])
def test_another_tenants_record_answers_404(council_b: Caller, records: dict[str, str], method: str, path: str,
                                            body: dict[str, Any] | None) -> None:
    """Council B's key gets 404 for each of council A's jobs and plans, as for an unknown id."""
    answer = council_b.request(method, path.format(**records), json=body)
    assert answer.status_code == 404, answer.text
    assert "not found" in answer.text


@pytest.mark.parametrize(("method", "path", "body"), OWN_RESOURCES, ids=[f"{m} {p}" for m, p, _ in OWN_RESOURCES])
def test_the_owner_reaches_its_records(council_a: Caller, records: dict[str, str], method: str, path: str,
                                       body: dict[str, Any] | None) -> None:
    """The same requests with council A's key find the records (200, or 409 for a finished job); an approval
    with the key of council A's approver (a tenant key names no person, so it cannot approve)."""
    caller = council_a
    if path.endswith("/approve"):
        caller = Caller(council_a.client, new_person_key(council_a.client, "council-a", "approver"))
    answer = caller.request(method, path.format(**records), json=body)
    assert answer.status_code in (200, 409), answer.text


def test_lists_show_only_the_tenants_own_records(council_a: Caller, council_b: Caller,
                                                 records: dict[str, str]) -> None:
    """Council B's job and plan lists hold none of council A's records; A's hold them."""
    b_jobs = [job["id"] for job in council_b.get("/api/v1/jobs").json()["jobs"]]
    b_plans = [plan["id"] for plan in council_b.get("/api/v1/plans").json()["plans"]]
    a_plans = [plan["id"] for plan in council_a.get("/api/v1/plans").json()["plans"]]
    assert records["job"] not in b_jobs and b_plans == [records["b_plan"]]
    assert {records["plan"], records["manual"]} <= set(a_plans) and records["b_plan"] not in a_plans


def test_a_job_is_stored_under_the_keys_tenant(keyed_client: TestClient, records: dict[str, str]) -> None:
    """The job and its plan carry council A as tenant in the store."""
    with keyed_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        job = session.get(store.JobRecord, records["job"])
        plan = session.get(store.PlanRecord, records["plan"])
        assert job is not None and plan is not None
        assert (job.tenant_id, plan.tenant_id) == ("council-a", "council-a")


def test_missing_key_answers_401_in_the_error_shape(keyed_client: TestClient) -> None:
    """No key: 401, one error item at the Authorization header typed missing_api_key, and a Bearer challenge."""
    answer = keyed_client.get("/api/v1/jobs")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="wasteroute"'
    [item] = answer.json()["detail"]
    assert item["loc"] == ["header", "Authorization"] and item["id"] is None
    assert item["type"] == "missing_api_key" and "API key" in item["msg"] and item["field"]


def test_unknown_key_answers_401_invalid_token(keyed_client: TestClient) -> None:
    """A made-up key: 401 typed invalid_api_key, challenge with error="invalid_token", the key not echoed."""
    made_up = "wr_" + "x" * 43
    answer = Caller(keyed_client, made_up).get("/api/v1/jobs")
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert answer.json()["detail"][0]["type"] == "invalid_api_key"
    assert made_up not in answer.text


def test_key_in_x_api_key_header_is_accepted(keyed_client: TestClient, council_a: Caller) -> None:
    """``X-API-Key: <key>`` works as well as ``Authorization: Bearer <key>``."""
    assert council_a.key is not None
    answer = keyed_client.get("/api/v1/plans", headers={"X-API-Key": council_a.key})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
def test_authorization_other_than_bearer_answers_401(keyed_client: TestClient, authorization: str) -> None:
    """An Authorization header of another scheme, or without credentials, is refused."""
    answer = keyed_client.get("/api/v1/plans", headers={"Authorization": authorization})
    assert answer.status_code == 401 and answer.json()["detail"][0]["type"] == "invalid_api_key"


def test_two_different_keys_answer_401(keyed_client: TestClient, council_a: Caller, council_b: Caller) -> None:
    """Bearer and X-API-Key naming different keys (so two tenants) are refused, not one picked."""
    assert council_b.key is not None
    answer = council_a.get("/api/v1/plans", headers={"X-API-Key": council_b.key})
    assert answer.status_code == 401


def test_key_is_checked_before_the_body(keyed_client: TestClient) -> None:
    """A malformed body without a key answers 401, not 422: nothing is read for strangers."""
    answer = keyed_client.post("/api/v1/optimisations", content=b"{not json", headers={"Content-Type":
                                                                                      "application/json"})
    assert answer.status_code == 401


def test_revoked_key_answers_401(keyed_client: TestClient) -> None:
    """A key works until revoked, then answers 401 at once."""
    key = new_key(keyed_client, "council-c")
    caller = Caller(keyed_client, key)
    assert caller.get("/api/v1/jobs").status_code == 200
    with keyed_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        [record] = store.list_api_keys(session, "council-c")
        store.revoke_api_key(session, "council-c", record.id, actor="test")
    answer = caller.get("/api/v1/jobs")
    assert answer.status_code == 401 and answer.json()["detail"][0]["type"] == "invalid_api_key"


def test_key_is_stored_only_as_its_hash(keyed_client: TestClient) -> None:
    """The api_keys row holds the key's SHA-256 and its first 8 characters, never the key; nor does the audit log."""
    key = new_key(keyed_client, "council-d")
    with keyed_client.app.state.store.engine.connect() as connection:  # type: ignore[attr-defined]
        from sqlalchemy import text
        rows = connection.execute(text("SELECT * FROM api_keys WHERE tenant_id = 'council-d'")).mappings().all()
        audit = connection.execute(text("SELECT * FROM audit_log WHERE tenant_id = 'council-d'")).mappings().all()
    [row] = rows
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest() and row["prefix"] == key[:8]
    assert all(key not in str(value) for value in [*row.values(), *(v for line in audit for v in line.values())])


@pytest.mark.parametrize("path", OPEN_PATHS)
def test_open_paths_answer_without_a_key(keyed_client: TestClient, path: str) -> None:
    """Health, the map page and its files, and the OpenAPI document and its page need no key."""
    assert keyed_client.get(path).status_code == 200


def _closed_requests(client: TestClient) -> list[tuple[str, str]]:
    """(method, concrete path) of every documented operation but health and readiness (open, like
    health), path parameters filled with a made-up value (``geojson``, which is also an export format)."""
    document = client.get("/openapi.json").json()
    return [(method.upper(), re.sub(r"\{\w+\}", "geojson", path))
            for path, operations in document["paths"].items() if path not in ("/api/v1/health", "/api/v1/ready")
            for method in operations]


def test_every_other_api_route_answers_401_without_a_key(keyed_client: TestClient) -> None:
    """Each API operation (optimisations, evaluations, uploads, exports, jobs, plans, reports, the
    map's config, network and demo) refuses a request without a key."""
    requests = _closed_requests(keyed_client)
    assert len(requests) >= 15
    refused = {f"{m} {p}": keyed_client.request(m, p).status_code for m, p in requests}
    assert set(refused.values()) == {401}, refused


def test_openapi_declares_the_key_schemes(keyed_client: TestClient) -> None:
    """The OpenAPI document declares Bearer and X-API-Key schemes, required by default, health left
    open (``security: []``), and a 401 answer on the closed operations."""
    document = keyed_client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["in"] == "header" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert document["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert "401" in document["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_no_key_reaches_the_logs(keyed_client: TestClient, council_a: Caller, make_problem: Any,
                                 caplog: pytest.LogCaptureFixture) -> None:
    """With every logger at DEBUG (SQL included), keyed requests, a refused key and a new key leave
    no key in any log record."""
    refused_key = "wr_" + "r" * 43
    caplog.set_level(logging.DEBUG)
    assert council_a.post("/api/v1/jobs", json=make_problem()).status_code == 202
    assert council_a.get("/api/v1/plans").status_code == 200
    assert council_a.post("/api/v1/optimisations", json={"bins": []}).status_code == 422
    assert Caller(keyed_client, refused_key).get("/api/v1/jobs").status_code == 401
    created = new_key(keyed_client, "council-e")
    assert caplog.records, "nothing was logged: the capture did not work"
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert council_a.key is not None
    assert all(secret not in logged for secret in (council_a.key, refused_key, created))


def test_keys_are_ignored_when_not_required(client: TestClient, settings: Settings) -> None:
    """With auth_required false (the shared test settings) a request without a key acts for the
    default tenant, and a bogus key is no reason to refuse it."""
    assert settings.auth_required is False
    assert client.get("/api/v1/jobs").status_code == 200
    assert client.get("/api/v1/jobs", headers={"Authorization": "Bearer bogus"}).status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


# --------------------------------------------------------------------------- CORS


def test_cors_is_closed_by_default(settings: Settings) -> None:
    """Without WASTEROUTE_CORS_ORIGINS no answer carries CORS headers and a preflight is not granted."""
    assert settings.cors_origins == []
    client = TestClient(create_app(settings))
    origin = {"Origin": "https://elsewhere.example"}
    simple = client.get("/api/v1/health", headers=origin)
    preflight = client.options("/api/v1/jobs", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins(keyed_settings: Settings) -> None:
    """With an origin configured, its preflight is granted with the key headers, even with keys
    required; another origin gets no grant."""
    allowed = "https://council.example"
    client = TestClient(create_app(keyed_settings.model_copy(update={"cors_origins": [allowed]})))
    request = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    granted = client.options("/api/v1/jobs", headers={"Origin": allowed, **request})
    refused = client.options("/api/v1/jobs", headers={"Origin": "https://elsewhere.example", **request})
    assert granted.status_code == 200 and granted.headers["access-control-allow-origin"] == allowed
    assert "authorization" in granted.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in refused.headers
    unauthorised = client.get("/api/v1/jobs", headers={"Origin": allowed})
    assert unauthorised.status_code == 401 and unauthorised.headers["access-control-allow-origin"] == allowed


def test_cors_origins_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """WASTEROUTE_CORS_ORIGINS takes a comma-separated list (or JSON); unset it is empty."""
    monkeypatch.delenv("WASTEROUTE_CORS_ORIGINS", raising=False)
    assert Settings().cors_origins == []
    monkeypatch.setenv("WASTEROUTE_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("WASTEROUTE_CORS_ORIGINS", '["https://c.example"]')
    assert Settings().cors_origins == ["https://c.example"]


# --------------------------------------------------------------------------- a real server's logs


@pytest.mark.slow
@pytest.mark.spawns
def test_server_logs_hold_no_key(tmp_path: Path, tools: SimpleNamespace, network_cache_dir: Path,
                                 monaco: Any) -> None:
    """A real uvicorn server at debug level with access logs: keyed requests are logged by path,
    and neither the key nor a refused key appears anywhere in its output."""
    database_url = f"sqlite:///{tmp_path / 'wasteroute.sqlite3'}"
    db = store.Store(database_url)
    db.migrate()
    with db.transaction() as session:
        _, key = store.create_api_key(session, "council-f", name="log test")
    db.dispose()
    refused_key = "wr_" + "z" * 43
    port = tools.free_port()
    env = {**os.environ, "WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_CACHE_DIR": str(network_cache_dir),
           "WASTEROUTE_DATABASE_URL": database_url, "WASTEROUTE_AUTH_REQUIRED": "true",
           "WASTEROUTE_MAX_CONCURRENT_SOLVES": "1", "WASTEROUTE_LOG_LEVEL": "debug"}
    env.pop("WASTEROUTE_NETWORK_FILE", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "debug", "--access-log"]
    log_path = tmp_path / "server.log"
    with tools.running_server(command, base=f"http://127.0.0.1:{port}", env=env, cwd=tmp_path,
                              log_path=log_path) as base:
        keyed = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/api/v1/plans", headers=keyed).status_code == 200
        assert httpx.get(f"{base}/api/v1/jobs/unknown", headers={"X-API-Key": key}).status_code == 404
        assert httpx.post(f"{base}/api/v1/optimisations", headers=keyed, json={}).status_code == 422
        assert httpx.get(f"{base}/api/v1/plans", headers={"Authorization": f"Bearer {refused_key}"}).status_code == 401
    log = log_path.read_text(errors="replace")
    assert "GET /api/v1/plans HTTP/1.1" in log and "401" in log
    assert key not in log and refused_key not in log



@pytest.mark.parametrize("path", ["/static/../api/v1/jobs", "/static/web/../../api/v1/plans", "/api/v1/health/",
                                  "/api/v1/healthz", "/docs/../api/v1/jobs"])
def test_paths_that_only_resemble_open_ones_are_closed(keyed_client: TestClient, path: str) -> None:
    """A static path climbing out with ``..``, or health and docs with something after them, is not open
    (checked on the raw path, as a client that does not tidy ``..`` would send it)."""
    assert not is_open(path, open_paths(keyed_client.app))  # type: ignore[arg-type]


def test_unreachable_store_answers_503_with_retry_after(keyed_settings: Settings, tmp_path: Path) -> None:
    """When the store cannot be opened to check a key (here its URL names a folder), the answer is
    503 with Retry-After, not a 500 and not a 401."""
    broken = keyed_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}"})
    answer = TestClient(create_app(broken)).get("/api/v1/jobs", headers={"Authorization": "Bearer wr_any"})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
