"""The HTTP API: one router per resource, all of them under ``/api/v1`` through :data:`api_router`.

:data:`api_router` applies the prefix (:data:`~app.api.paths.API_V1`) once; the resource
routers name only their own paths. The uploads and exports are the web map's calls as
much as anyone's, so they are listed under "web map" as well as their own tag. The map
page itself and its static files keep their own paths (:data:`app.api.web.router`).

Besides the routers this package holds what only the API needs: the request
dependencies (:mod:`~app.api.deps`), the tenant of a request (:mod:`~app.api.tenancy`),
API keys and CORS (:mod:`~app.api.auth`), size limits (:mod:`~app.api.limits`) and the
mapping of errors to HTTP answers (:mod:`~app.api.errors`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api import (
    actuals,
    audit,
    auth_config,
    evaluations,
    exports,
    health,
    jobs,
    optimisations,
    plans,
    readiness,
    reports,
    round_books,
    round_reviews,
    uploads,
    users,
    web,
    week_approvals,
)
from app.api.acting import bind_actor
from app.api.paths import API_V1

__all__ = ["API_V1", "api_router"]

WEB_MAP_TAG = "web map"

# every route's audit lines name the person the request acts as (app/api/acting.py)
api_router = APIRouter(prefix=API_V1, dependencies=[Depends(bind_actor)])
api_router.include_router(health.router)
api_router.include_router(readiness.router)
api_router.include_router(optimisations.router)
api_router.include_router(evaluations.router)
api_router.include_router(jobs.router)
api_router.include_router(plans.router)
api_router.include_router(reports.router)
api_router.include_router(round_books.router)
api_router.include_router(round_reviews.router)
api_router.include_router(actuals.router)
api_router.include_router(week_approvals.router)
api_router.include_router(audit.router)
api_router.include_router(users.router)
api_router.include_router(uploads.router, tags=[WEB_MAP_TAG])
api_router.include_router(exports.router, tags=[WEB_MAP_TAG])
api_router.include_router(web.api_router)
api_router.include_router(auth_config.router)
