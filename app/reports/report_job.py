"""A savings report made as a job: what a worker runs for a ``report`` job.

A report of plans over the synchronous limit (``WASTEROUTE_MAX_SYNC_BINS``) scores
thousands of bins twice, too long for a request to wait on, so
``GET /api/v1/plans/{id}/report`` queues a ``report`` job instead and the job runner
hands :func:`make_report` to the worker that runs it (the jobs layer lies below the
reports and cannot import them). The result keeps the report in all three renderings,
so ``GET /api/v1/jobs/{id}/report?format=`` answers any of them without scoring again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from app.core.config import Settings
from app.core.json_types import JSONObject
from app.reports import render, stored, week
from app.store import Store

if TYPE_CHECKING:
    from solver.network import RoadNetwork

REPORT_FORMATS = ("json", "html", "csv")
"""The renderings a report job keeps, by the name ``format=`` asks for."""


def report_request(plan_id: str, baseline: str, collections_per_year: float | None = None) -> JSONObject:
    """What a ``report`` job is asked: the plan and its baseline, by id, and how often the rounds run
    when the request says."""
    return {"plan_id": plan_id, "baseline": baseline, "collections_per_year": collections_per_year}


def week_report_request(review_id: str) -> JSONObject:
    """What a ``report`` job of a round review's week is asked: the review, by id."""
    return {"review_id": review_id}


def make_report(db: Store, settings: Settings, tenant: str, request: JSONObject, network: RoadNetwork) -> JSONObject:
    """The report of the job's ``request`` (:func:`report_request`, or :func:`week_report_request` for the
    week's report, :mod:`app.reports.week`) on ``network``: ``{"json", "html", "csv"}``. Blocking; raises
    :class:`~app.reports.stored.PlanNotFoundError` for a plan gone from the store and pydantic's
    ``ValidationError`` for a stored body that can no longer be scored."""
    if isinstance(request.get("review_id"), str):
        with db.transaction() as session:
            stored_week = week.load_week(session, tenant, str(request["review_id"]))
        return week.rendered(week.build(stored_week, network, settings=settings))
    plan_id, baseline_id = str(request["plan_id"]), str(request["baseline"])
    with db.transaction() as session:
        plan = stored.load_plan(session, tenant, plan_id, field="plan_id")
        baseline = stored.load_plan(session, tenant, baseline_id, field="baseline")
    collections = request.get("collections_per_year")
    report = stored.build_report(plan, baseline, network, settings=settings,
                                 collections_per_year=float(collections) if isinstance(collections, int | float)
                                 else None)
    as_json = cast("JSONObject", render.to_json(report))  # plain dicts, lists, strings and numbers
    return {"json": as_json, "html": render.to_html(report), "csv": render.to_csv(report)}
