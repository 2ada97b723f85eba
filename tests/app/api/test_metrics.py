"""GET /metrics: Prometheus's text format, parsed by prometheus_client's own parser, for the scrape
token only. Jobs by tenant and state and their queue wait and solve seconds come from the store
(a second app on the same store reports the same); requests are counted by route template and
status, refused sign-ins by reason. Real apps, real solver workers, a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app import store
from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter

TOKEN = "scrape-token-for-tests"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition: (name, labels) -> value, through prometheus_client's parser."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent: a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> Samples:
    """``GET /metrics`` with the token: 200 in the text format, parsed."""
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return parse(answer.text)


@pytest.fixture(scope="module")
def metered(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with API keys required, the scrape token set and a SQLite store of this module's own."""
    folder: Path = tmp_path_factory.mktemp("metrics")
    return settings.model_copy(update={"auth_required": True, "metrics_token": SecretStr(TOKEN),
                                       "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})


@pytest.fixture(scope="module")
def metered_app(metered: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A started app and an API key of each of the tenants ``north`` and ``south``."""
    with TestClient(create_app(metered)) as client:
        db = client.app.state.store  # type: ignore[attr-defined]
        keys = {}
        with db.transaction() as session:
            for tenant in ("north", "south"):
                keys[tenant] = store.create_api_key(session, tenant)[1]
        yield client, keys


def test_metrics_are_off_without_a_token(app_client: TestClient) -> None:
    """With WASTEROUTE_METRICS_TOKEN unset, /metrics answers 404 saying how to turn them on."""
    answer = app_client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 404 and "WASTEROUTE_METRICS_TOKEN" in answer.json()["detail"]


@pytest.mark.slow
def test_a_wrong_or_missing_token_is_refused_and_counted(metered_app: tuple[TestClient, dict[str, str]]) -> None:
    """No token, another token or a tenant's API key answer 401 with a Bearer challenge; each counts
    as a refusal of reason ``metrics_token``."""
    client, keys = metered_app
    before = value(scrape(client), "wasteroute_auth_refused_total", reason="metrics_token")
    answers = [client.get("/metrics"), client.get("/metrics", headers={"Authorization": "Bearer nope"}),
               client.get("/metrics", headers={"Authorization": f"Bearer {keys['north']}"})]
    after = value(scrape(client), "wasteroute_auth_refused_total", reason="metrics_token")
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.headers["www-authenticate"].startswith("Bearer") for a in answers)
    assert after - before == 3


@pytest.mark.slow
def test_jobs_by_tenant_and_state_with_their_wait_and_solve_seconds(
        metered_app: tuple[TestClient, dict[str, str]], metered: Settings, problem: dict[str, Any],
        wait_for_job: JobWaiter) -> None:
    """Two jobs of north and one of south, run to the end: the gauge counts them by tenant and state
    (zeros included), the queue wait histogram has one observation per started job of each tenant,
    the solve seconds histogram three optimisations under the engine of their plans; another app on the
    same store (another replica, not even started) reports the same job figures."""
    client, keys = metered_app
    posted = [(tenant, client.post("/api/v1/jobs", json=problem, headers={"X-API-Key": keys[tenant]}))
              for tenant in ("north", "north", "south")]
    for tenant, answer in posted:
        assert answer.status_code == 202, answer.text
        client.headers["X-API-Key"] = keys[tenant]
        wait_for_job(client, answer.json()["id"])
    del client.headers["X-API-Key"]
    samples = scrape(client)
    other = scrape(TestClient(create_app(metered)))
    assert value(samples, "wasteroute_store_up") == 1
    assert value(samples, "wasteroute_jobs", tenant="north", state="succeeded") == 2
    assert value(samples, "wasteroute_jobs", tenant="south", state="succeeded") == 1
    assert ("wasteroute_jobs", frozenset({("tenant", "south"), ("state", "queued")})) in samples
    assert value(samples, "wasteroute_job_queue_wait_seconds_count", tenant="north") == 2
    assert value(samples, "wasteroute_job_queue_wait_seconds_bucket", tenant="south", le="+Inf") == 1
    solves = {dict(labels)["engine"]: v for (name, labels), v in samples.items()
              if name == "wasteroute_job_solve_seconds_count" and dict(labels)["kind"] == "optimisation"}
    assert sum(solves.values()) == 3 and "none" not in solves, solves
    assert value(samples, "wasteroute_solver_workers", state="alive") == metered.max_concurrent_solves
    job_figures = {k: v for k, v in samples.items() if k[0].startswith("wasteroute_job")}
    assert job_figures == {k: v for k, v in other.items() if k[0].startswith("wasteroute_job")}


@pytest.mark.slow
def test_requests_are_counted_by_route_template_and_status(metered_app: tuple[TestClient, dict[str, str]]) -> None:
    """A job that does not exist is counted under ``/api/v1/jobs/{job_id}`` with 404; requests without a key
    and with a wrong one under their route with 401, as a missing and an invalid credential."""
    client, keys = metered_app
    before = scrape(client)
    missing = client.get("/api/v1/jobs/no-such-job", headers={"X-API-Key": keys["south"]})
    no_key = client.get("/api/v1/jobs")
    bad_key = client.get("/api/v1/jobs", headers={"X-API-Key": "wr_not-a-key"})
    after = scrape(client)
    assert (missing.status_code, no_key.status_code, bad_key.status_code) == (404, 401, 401)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("wasteroute_http_requests_total", method="GET", route="/api/v1/jobs/{job_id}", status="404") == 1
    assert delta("wasteroute_http_requests_total", method="GET", route="/api/v1/jobs", status="401") == 2
    assert delta("wasteroute_http_request_seconds_count", method="GET", route="/api/v1/jobs") == 2
    assert delta("wasteroute_auth_refused_total", reason="missing_credentials") == 1
    assert delta("wasteroute_auth_refused_total", reason="invalid_credentials") == 1


def test_a_store_that_cannot_be_read_is_reported_not_failed(settings: Settings) -> None:
    """With the database unreachable the scrape still answers 200: ``wasteroute_store_up 0``, no job
    figures, and this replica's own figures."""
    down = settings.model_copy(update={"metrics_token": SecretStr(TOKEN), "database_timeout_s": 1,
                                       "database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    samples = scrape(TestClient(create_app(down)))
    assert value(samples, "wasteroute_store_up") == 0
    assert not any(name.startswith("wasteroute_job") for name, _ in samples)
    assert value(samples, "wasteroute_solver_workers", state="configured") == down.max_concurrent_solves
