"""Assemble the FastAPI application: settings, network registry, error handlers, routers.

There is no module-level application (nothing happens at import); servers use the
factory: ``uvicorn --factory app.main:create_app`` or ``wasteroute serve``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from app.api import api_router, web
from app.api.auth import install_auth
from app.api.errors import install_error_handlers
from app.api.limits import BodySizeLimitMiddleware
from app.api.metrics import install_metrics
from app.compute.network_registry import NetworkRegistry
from app.core.config import Settings
from app.core.version import service_version
from app.jobs.pool import SolverPool
from app.jobs.runner import JobRunner
from app.reports.report_job import make_report
from app.services.actuals import make_actual
from app.store import Store

DESCRIPTION = """\
Optimised waste-collection rounds on real streets.

Coordinates are `lon`/`lat` in WGS84 (GeoJSON positions `[lon, lat]`), distances in
metres, durations in seconds, weights in kg, clock times `"HH:MM"`, `*_s` times of day
in seconds since midnight. Malformed input answers 422, every fault naming its field
and the id at fault.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted).

    Building the app does no I/O. Its lifespan (server startup) loads the road network
    once, which also fills the network cache, then starts the solver worker processes,
    which load the network from that cache; at shutdown it stops them.
    """
    settings = settings if settings is not None else Settings()
    registry = NetworkRegistry(network_file=settings.network_file, cache_dir=settings.cache_dir)
    pool = SolverPool(network_file=settings.network_file, cache_dir=settings.cache_dir,
                      workers=settings.max_concurrent_solves, log_level=settings.log_level)
    db = Store.from_settings(settings)
    runner = JobRunner(db, pool, settings, makers={"report": make_report, "actual": make_actual})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Migrate the store, load the network, label the routes for the metrics, start the solver
        workers and the job runner (which resumes the jobs a previous run left); stop them at shutdown."""
        await anyio.to_thread.run_sync(db.migrate)
        await anyio.to_thread.run_sync(registry.load)
        await anyio.to_thread.run_sync(route_templates.prepare)  # the OpenAPI document, built once
        await pool.start()
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()
            await pool.stop()
            db.dispose()

    app = FastAPI(title="wasteroute", version=service_version(), description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.network_registry = registry
    app.state.solver_pool = pool
    app.state.store = db
    app.state.job_runner = runner
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    install_auth(app, settings, db)  # API keys and CORS (app/api/auth.py): after the other middleware
    # outermost, so that it counts the key check's 401s too (app/api/metrics.py)
    route_templates = install_metrics(app, settings, db, pool)
    app.include_router(api_router)
    app.include_router(web.router)
    return app
