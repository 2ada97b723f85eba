"""``POST /api/v1/round-reviews/{id}/approve``: a reviewed week approved as a whole.

Every day's plan of the review is approved in one transaction and filed as its day's round set
(``week/<day>/<week>``, see :mod:`app.services.week_approval`), which the nightly batch re-optimises
on that day; ``GET /api/v1/round-reviews/{id}`` then shows the ``approval``. 404: no review of this
id (for this tenant); 409: a review not finished (queued, running, failed, cancelled) or approved
already; 422: a fortnight without ``week_a_starts``, or one that is not a Monday.

``GET /api/v1/round-reviews/{id}/new-properties`` answers which day and round each property new to the
approved week was put on by the nightly batch, and why (CSV for the letters, or JSON).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app import store
from app.api.deps import SettingsDep, StoreDep
from app.api.principal import APPROVER, VIEWER, PrincipalDep
from app.api.refusals import record_if_foreign
from app.api.roles import approving, needs
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import MessageErrorResponse, ValidationErrorResponse
from app.schemas.week_approval import WeekApprovalIn
from app.services import audit_trail, week_approval

router = APIRouter(prefix="/round-reviews", tags=["round reviews"])


@router.post(
    "/{review_id}/approve",
    summary="Approve a reviewed week: every day's rounds at once",
    responses={
        404: {"model": MessageErrorResponse, "description": "No review of this id (for this tenant)."},
        409: {"model": MessageErrorResponse,
              "description": "The review has not succeeded (queued, running, failed or cancelled), or was "
                             "approved already."},
        422: {"model": ValidationErrorResponse,
              "description": "Malformed input, or week_a_starts missing (a calendar of several weeks) or not a "
                             "Monday: the fault names the field and the review."},
    },
    **needs(APPROVER),
)
async def approve_week(review_id: str, request: Request, db: StoreDep, principal: PrincipalDep,
                       settings: SettingsDep, body: WeekApprovalIn | None = None) -> JSONResponse:
    """Approve every day's plan of the review as the person signed in (an approver); the review's answer with its
    ``approval`` (``by``: their name, ``user_id``, ``at``, ``area``, ``week_a_starts`` and each day's
    ``round_set``). With the four-eyes rule the person who asked for the review gets 403."""
    asked = body or WeekApprovalIn()

    def approve(session: Session) -> JSONObject | None:
        return week_approval.approve_week(session, principal.tenant, review_id, by=principal.name,
                                          by_user_id=principal.user_id, four_eyes=settings.four_eyes,
                                          week_a_starts=asked.week_a_starts, area=asked.area)

    answer = await approving(db, principal, request, approve)
    if answer is None:
        await record_if_foreign(db, principal, store.JobRecord, review_id, method=request.method,
                                path=request.url.path)
        raise HTTPException(status_code=404, detail=f"round review {review_id!r} not found")
    return JSONResponse(content=answer)


@router.get(
    "/{review_id}/new-properties",
    summary="The new properties the nightly batch put on the approved week's days, for the letters",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                 "application/json": {"schema": {"type": "object"}}},
                     "description": "One line per new property and day: property, address, bin_ids, day, week, "
                                    "round, round_set, plan_id, night, added_s, why (CSV, default), or "
                                    "{review_id, new_properties} (json)."},
               404: {"model": MessageErrorResponse, "description": "No review of this id (for this tenant)."},
               409: {"model": MessageErrorResponse, "description": "The review is not approved."}},
    **needs(VIEWER),
)
async def read_new_properties(review_id: str, db: StoreDep, tenant: TenantDep,
                              format: Annotated[Literal["csv", "json"], Query(
                                  description="csv (default) or json.")] = "csv") -> Response:
    """Which day (and week) and round each property new to the approved week was put on, and why, as the
    nightly batch placed it (``wasteroute batch --new-properties``)."""
    def read(session: Session) -> list[JSONObject] | None:
        return week_approval.week_new_properties(session, tenant, review_id)

    try:
        rows = await db.run(read)
    except store.ConflictError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if rows is None:
        raise HTTPException(status_code=404, detail=f"round review {review_id!r} not found")
    await audit_trail.record(db, tenant, "export.new_properties", "review", review_id,
                             {"format": format, "properties": len(rows)})
    if format == "json":
        return JSONResponse(content={"review_id": review_id, "new_properties": list(rows)})
    return Response(content=week_approval.new_properties_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="new-properties-{review_id}.csv"'})
