"""``GET /api/v1/plans/{id}/book``: a stored plan's round books, for crews to print;
``POST /api/v1/round-books``: the same for a plan posted (an optimisation or evaluation answer
not stored), its streets named from the map only (a posted plan carries no addresses).

Per round a map of the round, then its streets in driving order with house numbers or ranges,
counts, assisted collections, tip visits, the break, planned times and directions
(:mod:`app.services.round_book`): printable HTML (default) or PDF (``format=pdf``), every
round or one (``round=ID``), each round on its own page.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app import store
from app.api.deps import NetworkRegistryDep, StoreDep
from app.api.principal import VIEWER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import MessageErrorResponse, OptimisationResponse, ValidationErrorResponse
from app.services import audit_trail, round_book, round_book_render
from app.services.addresses import problem_bins
from app.services.plans import plan_response

router = APIRouter(tags=["plans"])

BookFormat = Literal["html", "pdf"]

FormatQuery = Annotated[BookFormat, Query(description="html (printable) or pdf.")]
RoundQuery = Annotated[str | None, Query(alias="round", description="The one round (vehicle id) wanted; "
                                                                    "every round when absent.")]

BOOK_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}},
                      "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
          "description": "The round books: HTML with print styles (default) or PDF (format=pdf)."},
    422: {"model": ValidationErrorResponse, "description": "An unknown format, or (posted) not a plan."},
    503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
}
"""OpenAPI description of a round book's answers."""


async def book_response(plan: OptimisationResponse, registry: NetworkRegistryDep, *, label: str, stem: str,
                        fmt: BookFormat, round_id: str | None, problem: JSONObject | None = None) -> Response:
    """The round books of ``plan`` (every round, or ``round_id``) in ``fmt``; 404 for a round it lacks."""
    network = registry.get()
    wanted = [round_id] if round_id is not None else round_book.round_ids(plan)

    def build() -> list[round_book.RoundBook]:
        bins = problem_bins(problem)
        return [round_book.build_round_book(plan, r, network, bins) for r in wanted]

    try:
        books = await anyio.to_thread.run_sync(build)
    except round_book.UnknownRoundError as exc:
        raise HTTPException(status_code=404, detail=f"round: {exc}") from exc
    if fmt == "pdf":
        pdf = await anyio.to_thread.run_sync(lambda: round_book_render.to_pdf(books, title=label))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.pdf"'})
    return HTMLResponse(round_book_render.to_html(books, title=label))


def _stem(plan_id: str | None, round_id: str | None) -> str:
    """A file name's stem: ``round-book[-<plan>][-<round>]``, safe characters only."""
    raw = "round-book" + (f"-{plan_id}" if plan_id else "") + (f"-{round_id}" if round_id else "")
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in raw)


@router.get(
    "/plans/{plan_id}/book",
    summary="Round books of a plan: printable HTML or PDF",
    responses={**BOOK_ANSWERS,
               404: {"model": MessageErrorResponse, "description": "No plan of this id, or no such round in it."}},
    **needs(VIEWER),
)
async def plan_round_book(plan_id: str, db: StoreDep, tenant: TenantDep, registry: NetworkRegistryDep,
                          format: FormatQuery = "html", round_id: RoundQuery = None) -> Response:
    """The plan's rounds as a crew reads them, street by street in driving order: house numbers or
    ranges and counts ("Burley Road 2-48 even, 23 bins"), assisted collections, tip visits, the
    break, planned times and directions ("left onto High Street"), after a map of the round."""
    def read(session: Session) -> tuple[OptimisationResponse, str, JSONObject | None] | None:
        record = store.get_plan(session, tenant, plan_id)
        if record is None:
            return None
        problem = store.get_problem(session, tenant, record.problem_id) if record.problem_id else None
        label = f"plan {plan_id}" + (f" ({record.round_set}, version {record.version})" if record.round_set else "")
        return plan_response(record), label, (dict(problem.body) if problem is not None else None)

    found = await db.run(read)
    if found is None:
        raise HTTPException(status_code=404, detail=f"plan {plan_id!r} not found")
    plan, label, problem = found
    answer = await book_response(plan, registry, label=label, stem=_stem(plan_id, round_id), fmt=format,
                                 round_id=round_id, problem=problem)
    await audit_trail.record(db, tenant, "export.round_book", "plan", plan_id, {"format": format, "round": round_id})
    return answer


@router.post(
    "/round-books",
    summary="Round books of a plan posted: printable HTML or PDF",
    responses={**BOOK_ANSWERS, 404: {"model": MessageErrorResponse, "description": "No such round in the plan."}},
    **needs(VIEWER),
)
async def posted_round_book(plan: OptimisationResponse, registry: NetworkRegistryDep, db: StoreDep, tenant: TenantDep,
                            format: FormatQuery = "html", round_id: RoundQuery = None) -> Response:
    """The round books of the plan posted (an optimisation or evaluation answer), as for a stored
    plan; its streets are named from the map (a posted plan carries no addresses). A position that is
    no lon/lat answers 422 naming its feature."""
    _check_positions(plan)
    answer = await book_response(plan, registry, label="plan", stem=_stem(None, round_id), fmt=format,
                                 round_id=round_id)
    await audit_trail.record(db, tenant, "export.round_book", "plan", audit_trail.POSTED,
                             {"format": format, "round": round_id})
    return answer


def _check_positions(plan: OptimisationResponse) -> None:
    """Raise a 422 (``RequestValidationError``) for the first feature with a position that is not a finite
    lon/lat (a posted plan is matched to the road network by its lines and points)."""
    for i, feature in enumerate(plan.features):
        coords = feature.geometry.coordinates if feature.geometry is not None else ()
        points = [coords] if coords and isinstance(coords[0], float | int) else list(coords)
        for lon, lat in points:
            if not (math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                raise RequestValidationError([{
                    "type": "value_error", "loc": ("body", "features", i, "geometry", "coordinates"),
                    "msg": f"feature {feature.id!r}: a position must be lon/lat (within 180 and 90 degrees), "
                           f"got {[lon, lat]}", "input": [lon, lat]}])
