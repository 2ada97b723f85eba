"""The audit trail as people read it: filters from text, lines as JSON or CSV, and one way for a route
to write a line.

A line is ``time, user, action, object, details``: ``time`` ISO 8601 UTC, ``user`` the name recorded
(a person, ``key <prefix>`` for a key of no user, ``system`` for the service's own work), ``action``
(``plan.approve``, ``export.round_book``, ...), ``object`` ``type:id`` and ``details`` compact JSON
(counts and figures; never an address, a UPRN or a trace, see docs/privacy.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app import store
from app.core.json_types import JSONObject
from app.store import AuditEntry

CSV_COLUMNS = ("time", "user", "action", "object", "details")
"""The columns of the CSV download, in order."""
POSTED = "posted"
"""The subject id of a line about a plan posted with the request (not stored, so it has no id)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet reads as a formula: such a cell is written with a leading ``'``
(a name or detail typed by a person must not run in the reader's spreadsheet)."""


class BadFilterError(ValueError):
    """A filter that cannot be read; ``field`` names it."""

    def __init__(self, field: str, msg: str) -> None:
        super().__init__(msg)
        self.field = field
        self.msg = msg


def parse_when(text: str, *, field: str, end: bool) -> datetime:
    """A bound of a period from ISO text, as an aware UTC time.

    A date alone (``2026-12-06``) is the start of that day, or for an ``end`` bound the start of the
    next day, so ``to=2026-12-06`` includes the whole 6th. A time without a zone is UTC. Raises
    :class:`BadFilterError` naming ``field`` otherwise.
    """
    cleaned = text.strip()
    try:
        if len(cleaned) == len("2026-12-06"):
            day = date.fromisoformat(cleaned)
            return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise BadFilterError(field, f"{field}: {text!r} is not an ISO date (2026-12-06) or date and time "
                                    f"(2026-12-06T14:30:00Z)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def object_of(entry: AuditEntry) -> str:
    """The line's object as ``type:id`` (``plan:4f2a...``)."""
    return f"{entry.subject_type}:{entry.subject_id}"


def time_of(entry: AuditEntry) -> str:
    """The line's time as ISO 8601 UTC with a ``Z`` (``2026-12-06T14:30:05.123456Z``)."""
    return entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def entry_json(entry: AuditEntry) -> JSONObject:
    """One line as the JSON answer shows it."""
    return {"id": entry.id, "time": time_of(entry), "user": entry.actor, "action": entry.action,
            "object": object_of(entry), "subject_type": entry.subject_type, "subject_id": entry.subject_id,
            "details": dict(entry.details or {})}


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text (see :data:`FORMULA_STARTS`)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(entries: Iterable[AuditEntry]) -> str:
    """The lines as CSV (:data:`CSV_COLUMNS`, a header first; details as compact JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        details = json.dumps(entry.details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        writer.writerow([time_of(entry), _cell(entry.actor), _cell(entry.action), _cell(object_of(entry)),
                         _cell(details)])
    return out.getvalue()


def csv_file_name(tenant: str, when: datetime) -> str:
    """The download's name: ``audit-<tenant>-<YYYYMMDD-HHMMSS>.csv`` (the tenant's name kept to safe characters)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tenant)[:60] or "tenant"
    return f"audit-{safe}-{when:%Y%m%d-%H%M%S}.csv"


async def record(db: store.Store, tenant: str, action: str, subject_type: str, subject_id: str,
                 details: JSONObject | None = None) -> None:
    """Write one line for the person the request acts as (:mod:`app.store.acting`), in its own transaction:
    for what a route hands out (an export) or reads in (an upload) without storing anything else."""
    def write(session: Session) -> None:
        store.append_audit(session, tenant, actor=None, action=action, subject_type=subject_type,
                           subject_id=subject_id, details=details)
    await db.run(write)
