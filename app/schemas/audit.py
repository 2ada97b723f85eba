"""The audit trail's JSON answer (``GET /api/v1/audit``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.responses import OutputModel


class AuditLine(OutputModel):
    """One line of the audit trail: who did what to which record, when."""

    id: int = Field(description="The line's number: lines are numbered in the order they were written.")
    time: str = Field(description="When, ISO 8601 UTC (`2026-12-06T14:30:05.123456Z`).")
    user: str = Field(description="Who: a person's name, `key <prefix>` for a key of no user, or `system`.")
    action: str = Field(description="What, e.g. `plan.create`, `plan.approve`, `job.cancel`, `export.round_book`.")
    object: str = Field(description="Which record, as `type:id` (`plan:4f2a...`).")
    subject_type: str
    subject_id: str
    details: dict[str, Any] = Field(description="Figures of the time (KPIs, counts, formats) and the `user_id` "
                                                "when a user did it.")


class AuditPage(OutputModel):
    """A page of the audit trail, newest first."""

    entries: list[AuditLine]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next (older) page; `null` on the last.")
