"""``POST /api/v1/round-reviews/{id}/approve``: a reviewed week approved as a whole.

Every day's plan of the review is approved in one transaction and filed as its day's round set
(``week/<day>/<week>``, see :mod:`app.services.week_approval`), which the nightly batch re-optimises
on that day; ``GET /api/v1/round-reviews/{id}`` then shows the ``approval``. 404: no review of this
id (for this tenant); 409: a review not finished (queued, running, failed, cancelled) or approved
already; 422: a fortnight without ``week_a_starts``, or one that is not a Monday.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app import store
from app.api.deps import StoreDep
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import MessageErrorResponse, ValidationErrorResponse
from app.schemas.week_approval import WeekApprovalIn
from app.services import week_approval

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
)
async def approve_week(review_id: str, body: WeekApprovalIn, db: StoreDep, tenant: TenantDep) -> JSONResponse:
    """Approve every day's plan of the review in the name of ``by``; the review's answer with its ``approval``
    (``by``, ``at``, ``area``, ``week_a_starts`` and each day's ``round_set``)."""
    def approve(session: Session) -> JSONObject | None:
        return week_approval.approve_week(session, tenant, review_id, by=body.by, week_a_starts=body.week_a_starts,
                                          area=body.area)

    try:
        answer = await db.run(approve)
    except store.ConflictError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if answer is None:
        raise HTTPException(status_code=404, detail=f"round review {review_id!r} not found")
    return JSONResponse(content=answer)
