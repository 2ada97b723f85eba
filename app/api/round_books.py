"""``GET /api/v1/plans/{id}/book``: a stored plan's round books, for crews to print.

Per round a map of the round, then its streets in driving order with house numbers or ranges,
counts, assisted collections, tip visits, the break, planned times and directions
(:mod:`app.services.round_book`): printable HTML (default) or PDF (``format=pdf``), every
round or one (``round=ID``), each round on its own page.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app import store
from app.api.deps import NetworkRegistryDep, StoreDep
from app.api.tenancy import TenantDep
from app.core.json_types import JSONObject
from app.schemas import MessageErrorResponse, OptimisationResponse, ValidationErrorResponse
from app.services import round_book, round_book_render
from app.services.addresses import problem_bins
from app.services.plans import plan_response

router = APIRouter(prefix="/plans", tags=["plans"])

BookFormat = Literal["html", "pdf"]


def _stem(plan_id: str, round_id: str | None) -> str:
    """A file name's stem: ``round-book-<plan>[-<round>]``, safe characters only."""
    raw = f"round-book-{plan_id}" + (f"-{round_id}" if round_id else "")
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in raw)


@router.get(
    "/{plan_id}/book",
    summary="Round books of a plan: printable HTML or PDF",
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}},
                          "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The round books: HTML with print styles (default) or PDF (format=pdf)."},
        404: {"model": MessageErrorResponse, "description": "No plan of this id, or no such round in it."},
        422: {"model": ValidationErrorResponse, "description": "An unknown format."},
        503: {"model": MessageErrorResponse, "description": "The service is starting: not ready yet."},
    },
)
async def plan_round_book(
    plan_id: str, db: StoreDep, tenant: TenantDep, registry: NetworkRegistryDep,
    format: Annotated[BookFormat, Query(description="html (printable) or pdf.")] = "html",
    round_id: Annotated[str | None, Query(alias="round", description="The one round (vehicle id) wanted; "
                                                                      "every round when absent.")] = None,
) -> Response:
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
    network = registry.get()
    wanted = [round_id] if round_id is not None else round_book.round_ids(plan)

    def build() -> list[round_book.RoundBook]:
        bins = problem_bins(problem)
        return [round_book.build_round_book(plan, r, network, bins) for r in wanted]

    try:
        books = await anyio.to_thread.run_sync(build)
    except round_book.UnknownRoundError as exc:
        raise HTTPException(status_code=404, detail=f"round: {exc}") from exc
    if format == "pdf":
        pdf = await anyio.to_thread.run_sync(lambda: round_book_render.to_pdf(books, title=label))
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{_stem(plan_id, round_id)}.pdf"'})
    return HTMLResponse(round_book_render.to_html(books, title=label))
