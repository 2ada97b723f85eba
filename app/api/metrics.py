"""``GET /metrics``: the service's figures in Prometheus's text format, for a scrape token only.

The figures (docs/operations.md, "Metrics"): jobs by tenant and state, queue wait per tenant
and solve seconds per kind and engine, read from the store (:mod:`app.api.store_metrics`: the
same from every replica); requests by route and status, their seconds and refused sign-ins,
counted by this replica (:mod:`app.api.request_metrics`); this replica's solver workers.

Why a token of its own, not an API key: the figures span every tenant (their names and job
counts), which no council's key may see, and a scraper is not a council. ``/metrics`` answers
only ``Authorization: Bearer <WASTEROUTE_METRICS_TOKEN>``; unset, it answers 404 (metrics off).
It lies outside ``/api/v1`` and outside the OpenAPI document, like Prometheus endpoints
everywhere, and the reverse proxy of ``compose.yaml`` does not forward it: Prometheus
scrapes each replica on the private network.

:class:`MetricsMiddleware` wraps the whole application (outermost, so the 401s of the key
check are counted too) and answers ``/metrics`` itself, before the key check.
"""

from __future__ import annotations

import asyncio
import hmac
import time

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.request_metrics import RequestMetrics, RouteTemplates
from app.api.store_metrics import StoreCollector, WorkerCollector
from app.core.config import Settings
from app.jobs.pool import SolverPool
from app.store import Store

METRICS_PATH = "/metrics"
REALM = "wasteroute-metrics"
SERVER_ERROR = 500


def metrics_registry(db: Store, pool: SolverPool) -> tuple[CollectorRegistry, RequestMetrics]:
    """A registry of this application's own (never the library's global one, so that several apps
    in one process, as in the tests, keep apart) with the store's, workers' and request figures."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(db))
    registry.register(WorkerCollector(pool))
    return registry, RequestMetrics(registry)


class MetricsMiddleware:
    """ASGI middleware: counts every HTTP request's answer and serves :data:`METRICS_PATH`."""

    def __init__(self, app: ASGIApp, *, routes: RouteTemplates, registry: CollectorRegistry,
                 requests: RequestMetrics, token: str | None) -> None:
        self.app = app
        self.routes = routes
        self.registry = registry
        self.requests = requests
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the metrics, or pass the request on and count its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self._serve(scope, receive, send)
            return
        started = time.perf_counter()
        answer: dict[str, object] = {}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                answer["challenge"] = Headers(raw=message.get("headers", [])).get("www-authenticate")
                answer["seconds"] = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            status = answer.get("status", SERVER_ERROR)  # no answer begun: the error becomes a 500
            challenge = answer.get("challenge")
            seconds = answer.get("seconds", time.perf_counter() - started)
            assert isinstance(status, int) and isinstance(seconds, float)
            self.requests.observe(method=scope["method"], route=self.routes.label(scope["path"]), status=status,
                                  seconds=seconds, challenge=challenge if isinstance(challenge, str) else None)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The exposition for the scrape token; 404 when metrics are off, 401 for a wrong token, 405 but GET."""
        response: Response
        if self.token is None:
            response = JSONResponse(status_code=404, content={
                "detail": "metrics are off: set WASTEROUTE_METRICS_TOKEN to serve them (docs/operations.md)"})
        elif scope["method"] not in ("GET", "HEAD"):
            response = JSONResponse(status_code=405, content={"detail": "metrics answer GET only"},
                                    headers={"Allow": "GET, HEAD"})
        elif not self._authorised(Headers(scope=scope)):
            self.requests.refused.labels("metrics_token").inc()
            response = JSONResponse(status_code=401, content={"detail": "metrics need 'Authorization: Bearer "
                                                                        "<WASTEROUTE_METRICS_TOKEN>'"},
                                    headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        else:  # the store's families query the database: off the event loop
            body = await asyncio.to_thread(generate_latest, self.registry)
            response = Response(content=body, media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)

    def _authorised(self, headers: Headers) -> bool:
        """Whether ``headers`` carry ``Authorization: Bearer <token>`` (compared in constant time)."""
        scheme, _, presented = (headers.get("authorization") or "").strip().partition(" ")
        assert self.token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self.token.encode())


def install_metrics(app: FastAPI, settings: Settings, db: Store, pool: SolverPool) -> RouteTemplates:
    """Count ``app``'s requests and serve :data:`METRICS_PATH`; add it after every other middleware
    (it must be outermost to see the answers they give). The route templates it labels requests
    with, for the lifespan to :meth:`~RouteTemplates.prepare`."""
    registry, requests = metrics_registry(db, pool)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token is not None else None
    app.state.metrics_registry = registry
    routes = RouteTemplates(lambda: app.openapi().get("paths", {}))
    app.add_middleware(MetricsMiddleware, routes=routes, registry=registry, requests=requests, token=token)
    return routes
