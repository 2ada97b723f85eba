"""How long a council's personal data stays: what a purge past the retention period removes.

What is purged (docs/privacy.md, "Retention"), for one tenant and a cut-off time:

- **traces**: jobs of kind ``actual`` (their request holds the GPS fixes and lifts) finished before the
  cut-off, and the plans of source ``actual`` (a day as driven) made before it, unless approved;
- **problems** (bins with addresses, UPRNs, assisted-collection flags) made before the cut-off that no
  approved plan (nor approved week: a round review whose answer carries ``approval``) answers and
  that no plan or job made since, nor an unfinished job, still uses; with them go their draft plans
  and their jobs.

Approved plans and what they answer stay: they are the council's decisions. The audit log is
append-only and is never purged here; a purge writes a ``data.purge`` line with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.store.models import FINAL_JOB_STATUSES, JobRecord, PlanRecord, ProblemRecord
from app.store.repository import append_audit

ACTUAL_KIND = "actual"
"""The job kind and plan source of a day read from traces (``app.services.actuals``)."""
REVIEW_KIND = "review"
"""The job kind of a round review, whose answer gains ``approval`` when its week is approved."""


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge removes (or, dry, would remove): traces (``actual`` jobs), plans, other jobs, problems."""

    traces: int
    plans: int
    jobs: int
    problems: int

    def as_dict(self) -> dict[str, int]:
        """The counts by name, for the audit line and the command's output."""
        return {"traces": self.traces, "plans": self.plans, "jobs": self.jobs, "problems": self.problems}


def _kept_problems(session: Session, tenant: str, before: datetime) -> set[str]:
    """Ids of the tenant's problems a purge keeps: answered by an approved plan, or used by a plan or job
    made since ``before``, or by an unfinished job."""
    in_use = select(PlanRecord.problem_id).where(PlanRecord.tenant_id == tenant, or_(
        PlanRecord.status == "approved", PlanRecord.created_at >= before))
    running = select(JobRecord.problem_id).where(JobRecord.tenant_id == tenant, or_(
        JobRecord.created_at >= before, JobRecord.status.not_in(FINAL_JOB_STATUSES)))
    # an approved week is a decision as an approved plan is: its review (and the letters it answers) stays
    reviews = session.execute(select(JobRecord.problem_id, JobRecord.result).where(
        JobRecord.tenant_id == tenant, JobRecord.kind == REVIEW_KIND, JobRecord.status == "succeeded"))
    approved_weeks = {problem_id for problem_id, result in reviews
                      if isinstance(result, dict) and result.get("approval")}
    return set(session.scalars(in_use)) | set(session.scalars(running)) | approved_weeks


CHUNK = 500
"""Ids per ``DELETE ... IN (...)``: within every database's limit of bound parameters."""


@dataclass(frozen=True, slots=True)
class PurgeSet:
    """The ids a purge removes: ``traces`` (``actual`` jobs), other ``jobs``, ``plans`` and ``problems``."""

    traces: frozenset[str]
    jobs: frozenset[str]
    plans: frozenset[str]
    problems: frozenset[str]

    def counts(self) -> PurgeCounts:
        """How many of each."""
        return PurgeCounts(traces=len(self.traces), plans=len(self.plans), jobs=len(self.jobs),
                           problems=len(self.problems))


def purge_set(session: Session, tenant: str, before: datetime) -> PurgeSet:
    """What of the tenant's a purge at ``before`` removes (see the module)."""
    kept = _kept_problems(session, tenant, before)
    old_problems = set(session.scalars(select(ProblemRecord.id).where(ProblemRecord.tenant_id == tenant,
                                                                      ProblemRecord.created_at < before)))
    problems = old_problems - kept
    # the columns the rules read, not the records: a plan's answer and an actual job's fixes are large
    plan_rows = session.execute(select(PlanRecord.id, PlanRecord.problem_id, PlanRecord.source, PlanRecord.created_at,
                                       PlanRecord.status).where(PlanRecord.tenant_id == tenant)).all()
    plans = {p.id for p in plan_rows if p.problem_id in problems
             or (p.source == ACTUAL_KIND and p.created_at < before and p.status != "approved")}
    job_rows = session.execute(select(JobRecord.id, JobRecord.problem_id, JobRecord.plan_id, JobRecord.kind,
                                      JobRecord.created_at, JobRecord.status)
                               .where(JobRecord.tenant_id == tenant)).all()
    gone = [j for j in job_rows if j.problem_id in problems or j.plan_id in plans
            or (j.kind == ACTUAL_KIND and j.created_at < before and j.status in FINAL_JOB_STATUSES)]
    traces = frozenset(j.id for j in gone if j.kind == ACTUAL_KIND)
    return PurgeSet(traces=traces, jobs=frozenset(j.id for j in gone) - traces, plans=frozenset(plans),
                    problems=frozenset(problems))


def _delete(session: Session, model: type[JobRecord] | type[PlanRecord] | type[ProblemRecord], tenant: str,
            ids: frozenset[str]) -> None:
    """Delete the tenant's rows of ``model`` with these ids, :data:`CHUNK` at a time."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        session.execute(delete(model).where(model.tenant_id == tenant, model.id.in_(ordered[start:start + CHUNK])))


def purge(session: Session, tenant: str, before: datetime, *, dry_run: bool = False,
          actor: str = "cli", retention_days: int | None = None) -> PurgeCounts:
    """Remove (unless ``dry_run``) the tenant's traces and problems made before ``before`` (see the module),
    then write a ``data.purge`` audit line with the counts; the counts either way."""
    found = purge_set(session, tenant, before)
    counts = found.counts()
    if dry_run:
        return counts
    # children first: jobs name plans and problems, plans name problems
    _delete(session, JobRecord, tenant, found.traces | found.jobs)
    _delete(session, PlanRecord, tenant, found.plans)
    _delete(session, ProblemRecord, tenant, found.problems)
    append_audit(session, tenant, actor=actor, action="data.purge", subject_type="tenant", subject_id=tenant,
                 details={"before": before.isoformat(), "retention_days": retention_days, **counts.as_dict()})
    return counts
