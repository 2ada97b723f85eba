"""``GET /api/v1/audit``: the tenant's audit trail, newest first, as JSON pages or a CSV download.

Filters: ``from`` and ``to`` (ISO dates or times, UTC when no zone is given; ``to`` of a date alone
includes that day), ``user`` (or ``actor``: the name recorded), ``action`` (a prefix: ``plan.`` for
every plan action), ``subject_type`` and ``subject_id``. Pages: ``limit`` lines, then the
``next_cursor`` of the answer as ``cursor`` for the next (older) page, or an ``offset``. A filter that
cannot be read answers 422 naming it. ``format=csv`` answers every matching line (up to
:data:`MAX_CSV_LINES`) as a file, columns ``time, user, action, object, details``, and is itself
recorded (``export.audit``). Only the tenant's own lines are ever read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.api.deps import StoreDep
from app.api.principal import ADMIN, APPROVER
from app.api.roles import needs
from app.api.tenancy import TenantDep
from app.core.faults import error_item
from app.schemas import MessageErrorResponse, ValidationErrorResponse
from app.schemas.audit import AuditLine, AuditPage
from app.services import audit_trail as service
from app.store import AuditEntry
from app.store.audit_trail import AuditFilter, find_audit
from app.store.models import utc_now

router = APIRouter(prefix="/audit", tags=["audit"])

AuditFormat = Literal["json", "csv"]
"""How the trail is answered: JSON pages or a CSV download (a closed list: docs/api.md)."""

DEFAULT_PAGE = 100
"""Lines in a JSON page when no ``limit`` is given."""
MAX_PAGE = 1000
"""Most lines in a JSON page."""
MAX_CSV_LINES = 100_000
"""Most lines in one CSV download (narrow the period for more)."""
MAX_OFFSET = 2**31 - 1
"""Largest ``offset`` or ``cursor``: past it the database's integer overflows."""
MAX_TEXT = 200
"""Longest text filter (the columns are no longer)."""

def _refused(field: str, msg: str) -> HTTPException:
    """422 naming the query field at fault."""
    return HTTPException(status_code=422, detail=[error_item(loc=("query", field), item_id=None, msg=msg,
                                                             type_="value_error")])


def _period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The ``from``/``to`` filters as UTC times; 422 naming the field that cannot be read, or ``to``
    not after ``from``."""
    try:
        start = None if since is None else service.parse_when(since, field="from", end=False)
        end = None if until is None else service.parse_when(until, field="to", end=True)
    except service.BadFilterError as exc:
        raise _refused(exc.field, exc.msg) from exc
    if start is not None and end is not None and end <= start:
        raise _refused("to", f"to: {until!r} is not after from: {since!r}")
    return start, end


@router.get(
    "",
    response_model=AuditPage,
    summary="The audit trail: who created, changed, approved, exported or deleted what, and when",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": "JSON: a page of lines, newest first. CSV (format=csv): every matching line, "
                                    "columns time, user, action, object, details, as an attachment."},
               422: {"model": ValidationErrorResponse, "description": "A filter that cannot be read (named)."},
               503: {"model": MessageErrorResponse, "description": "The store is unavailable."}},
    # who did what is for those who answer for it: approvers and administrators, not every reader
    **needs(APPROVER, ADMIN),
)
async def read_audit(
    db: StoreDep, tenant: TenantDep,
    since: Annotated[str | None, Query(alias="from", max_length=40,
                                       description="From this date or time (ISO 8601, UTC if no zone), inclusive.")
                     ] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40,
                                       description="Up to this time, exclusive; a date alone includes that day.")
                     ] = None,
    user: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT,
                                      description="Only lines of this user (the name recorded).")] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT,
                                       description="The same as `user`.")] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT,
                                        description="Actions starting so: `plan.` for every plan action, "
                                                    "`plan.approve` for approvals.")] = None,
    subject_type: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT,
                                              description="Only lines about records of this type (`plan`, "
                                                          "`job`, `review`, `upload`, `api_key`, ...).")] = None,
    subject_id: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT,
                                            description="Only lines about the record of this id.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_CSV_LINES,
                                       description=f"Lines in a page (JSON: default {DEFAULT_PAGE}, at most "
                                                   f"{MAX_PAGE}; CSV: default and at most {MAX_CSV_LINES}).")
                     ] = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_OFFSET,
                                        description="The `next_cursor` of the previous page: lines older "
                                                    "than it.")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Lines to skip first.")] = 0,
    format: Annotated[AuditFormat, Query(description="json (pages) or csv (a download).")] = "json",
) -> Response:
    """The tenant's lines the filters ask for, newest first."""
    for field, text in (("user", user), ("actor", actor), ("action", action), ("subject_type", subject_type),
                        ("subject_id", subject_id)):
        if text is not None and any(ord(c) < 32 or ord(c) == 127 for c in text):
            # PostgreSQL refuses a NUL in a string: a 422 here, not a 500 from the database
            raise _refused(field, f"{field}: control characters are not allowed")
    if user is not None and actor is not None and user != actor:
        raise _refused("actor", f"actor: {actor!r} differs from user: {user!r} (they are the same filter)")
    if format == "json" and limit is not None and limit > MAX_PAGE:
        raise _refused("limit", f"limit: at most {MAX_PAGE} lines in a JSON page (format=csv takes up to "
                                f"{MAX_CSV_LINES})")
    start, end = _period(since, until)
    wanted = AuditFilter(since=start, until=end, actor=user or actor, action=action, subject_type=subject_type,
                         subject_id=subject_id)
    size = limit or (MAX_CSV_LINES if format == "csv" else DEFAULT_PAGE)

    def read(session: Session) -> list[AuditEntry]:
        return find_audit(session, tenant, wanted, limit=size + 1, cursor=cursor, offset=offset)

    found = await db.run(read)
    entries, more = found[:size], len(found) > size
    if format == "csv":
        now = utc_now()
        await service.record(db, tenant, "export.audit", "audit", tenant, {
            "lines": len(entries), "truncated": more,
            "filters": {k: v for k, v in {"from": since, "to": until, "user": user or actor, "action": action,
                                          "subject_type": subject_type, "subject_id": subject_id}.items()
                        if v is not None}})
        name = service.csv_file_name(tenant, now)
        return Response(content=service.csv_text(entries), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "X-Audit-Truncated": "true" if more else "false"})
    page = AuditPage(entries=[AuditLine.model_validate(service.entry_json(e)) for e in entries],
                     next_cursor=entries[-1].id if more and entries else None)
    return JSONResponse(content=page.model_dump(mode="json"))
