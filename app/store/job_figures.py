"""Figures of the jobs table for the metrics: counts by tenant and state, and each started job's times.

Read from the store, not from a process's memory, so every replica of the service reports
the same totals. Cross-tenant, counts and times only (no problem, plan or result is read).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.models import JobRecord, PlanRecord

NO_ENGINE = "none"
"""The engine label of a job that stored no plan (an evaluation, a report, or one that failed)."""


@dataclass(frozen=True, slots=True)
class JobTimes:
    """One started job's tenant, kind, state, engine and times in seconds.

    ``wait_s`` is ``started_at - created_at`` (the last attempt's start: a retried job's wait
    includes its earlier attempts); ``run_s`` is ``finished_at - started_at``, ``None`` while it runs.
    """

    tenant: str
    kind: str
    status: str
    engine: str
    wait_s: float
    run_s: float | None


def job_counts(session: Session) -> Counter[tuple[str, str]]:
    """Jobs by ``(tenant, status)``, over every tenant (one grouped count)."""
    query = (select(JobRecord.tenant_id, JobRecord.status, func.count())
             .group_by(JobRecord.tenant_id, JobRecord.status))
    return Counter({(tenant, status): int(count) for tenant, status, count in session.execute(query)})


def job_times(session: Session) -> list[JobTimes]:
    """The times of every job that has started, with the engine of the plan it stored, if any.

    Reads three timestamps and four short strings a job, about 100 bytes: some 10 MB a scrape
    at 100,000 jobs (docs/operations.md, "Metrics").
    """
    query = (select(JobRecord.tenant_id, JobRecord.kind, JobRecord.status, PlanRecord.engine,
                    JobRecord.created_at, JobRecord.started_at, JobRecord.finished_at)
             .outerjoin(PlanRecord, PlanRecord.id == JobRecord.plan_id)
             .where(JobRecord.started_at.is_not(None)))
    times = []
    for tenant, kind, status, engine, created, started, finished in session.execute(query):
        if started is None:  # excluded by the query; typed as optional by the column
            continue
        run_s = None if finished is None else max(0.0, (finished - started).total_seconds())
        times.append(JobTimes(tenant=tenant, kind=kind, status=status, engine=engine or NO_ENGINE,
                              wait_s=max(0.0, (started - created).total_seconds()), run_s=run_s))
    return times
