"""Reading and writing the store's records; every function takes the tenant and filters by it.

All functions take an open :class:`~sqlalchemy.orm.Session` (from
:meth:`app.store.engine.Store.transaction`) and do not commit: the caller's transaction
decides what is written together. A record of another tenant is never returned: looking
one up by its id under the wrong tenant gives ``None``, exactly as for an id that does
not exist.

Three functions work across tenants, for the service's own housekeeping, and are named
so: :func:`queued_job_count` (a number, for the bounded queue),
:func:`unfinished_jobs` (``(tenant, job id)`` pairs, for housekeeping) and
:func:`find_api_key` (resolving a presented key to its tenant).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from platform import python_version

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.json_types import JSONObject
from app.store.acting import resolve as resolve_actor
from app.store.approvals import plan_content_hash
from app.store.models import (
    FINAL_JOB_STATUSES,
    JOB_KINDS,
    JOB_PRIORITIES,
    ApiKeyRecord,
    AuditEntry,
    JobRecord,
    PlanRecord,
    ProblemRecord,
    Tenant,
    UserRecord,
    utc_now,
)

LIBRARIES = ("wasteroute", "ortools", "pyvrp", "osmnx", "networkx", "numpy", "scipy", "shapely")
"""Distributions whose versions are stored with every plan."""

API_KEY_PREFIX_CHARS = 8
"""Characters of a key kept in clear (``prefix``) to tell keys apart."""


class ConflictError(ValueError):
    """A change that the record's state does not allow (approving an approved plan, say)."""


class FourEyesError(PermissionError):
    """An approval by the person who created the plan, refused by the four-eyes rule."""


# --------------------------------------------------------------------------- tenants


def ensure_tenant(session: Session, tenant: str) -> Tenant:
    """The tenant named ``tenant``, created if it does not exist yet.

    Two first requests of a tenant may race to create it: the insert runs in a savepoint,
    and the loser of the race reads the winner's row instead of failing.
    """
    record = session.get(Tenant, tenant)
    if record is not None:
        return record
    try:
        with session.begin_nested():
            record = Tenant(id=tenant)
            session.add(record)
    except IntegrityError:
        record = session.get(Tenant, tenant)
        if record is None:
            raise
    return record


# --------------------------------------------------------------------------- problems


def canonical_json(body: object) -> str:
    """``body`` as canonical JSON text: sorted keys, no spaces, UTF-8 characters as is."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(body: object) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``body``: equal inputs, equal hashes."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def save_problem(session: Session, tenant: str, body: JSONObject) -> ProblemRecord:
    """Store the inputs ``body`` (a JSON-able dict, as posted) for ``tenant``.

    The same body stored twice for a tenant is one record: the existing one is returned.
    """
    ensure_tenant(session, tenant)
    digest = content_hash(body)
    existing = session.scalar(select(ProblemRecord).where(ProblemRecord.tenant_id == tenant,
                                                          ProblemRecord.content_hash == digest))
    if existing is not None:
        return existing
    bins = body.get("bins")
    record = ProblemRecord(tenant_id=tenant, content_hash=digest, body=body,
                           n_bins=len(bins) if isinstance(bins, list) else 0)
    session.add(record)
    session.flush()
    return record


def get_problem(session: Session, tenant: str, problem_id: str) -> ProblemRecord | None:
    """The tenant's problem ``problem_id``, or ``None``."""
    return session.scalar(select(ProblemRecord).where(ProblemRecord.tenant_id == tenant,
                                                      ProblemRecord.id == problem_id))


# --------------------------------------------------------------------------- plans


def library_versions() -> dict[str, str]:
    """Versions of Python and of :data:`LIBRARIES` (those installed)."""
    versions = {"python": python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _next_version(session: Session, tenant: str, round_set: str | None, problem_id: str) -> int:
    """1 + the highest version of the tenant's plans of ``round_set`` (of the problem without one)."""
    query = select(func.max(PlanRecord.version)).where(PlanRecord.tenant_id == tenant)
    if round_set is not None:
        query = query.where(PlanRecord.round_set == round_set)
    else:
        query = query.where(PlanRecord.round_set.is_(None), PlanRecord.problem_id == problem_id)
    return int(session.scalar(query) or 0) + 1


SOURCE_WORDS = {"optimised": "optimised", "manual": "stored rounds", "batch": "nightly re-optimisation",
                "review": "round review"}
"""How a plan's default name says where it came from (its ``source``)."""


def default_plan_name(source: str, round_set: str | None, version: int, when: datetime) -> str:
    """The name a plan stored without one gets, so that lists and reports name what a planner knows
    (the round set, how it was made, the day) rather than a hex id: ``"tue-refuse v3, optimised
    2026-12-06"`` or, outside a round set, ``"Optimised 2026-12-06 17:45 UTC"``."""
    how = SOURCE_WORDS.get(source, source)
    if round_set:
        return f"{round_set} v{version}, {how} {when:%Y-%m-%d}"[:200]
    return f"{how[0].upper()}{how[1:]} {when:%Y-%m-%d %H:%M} UTC"


def create_plan(session: Session, tenant: str, *, problem: ProblemRecord, result: JSONObject, source: str,
                parameters: JSONObject, engine: str | None = None, seed: int | None = None,
                round_set: str | None = None, parent_id: str | None = None,
                idempotency_key: str | None = None, created_by: str | None = None,
                name: str | None = None, created_by_user_id: str | None = None) -> PlanRecord:
    """Store a plan of ``problem`` as a new ``draft`` version and log its creation.

    ``result`` is the whole answer (the FeatureCollection with ``summary``); its
    ``summary`` becomes the plan's KPIs. ``source`` says where it came from
    (``optimised``, ``manual``, ``batch``). With an ``idempotency_key`` the tenant's plan
    already stored under that key is returned instead of storing a second one.
    ``created_by_user_id`` is the person who stored it (the four-eyes rule refuses them its approval).
    """
    if problem.tenant_id != tenant:
        raise LookupError(f"problem {problem.id!r} does not belong to tenant {tenant!r}")
    if idempotency_key is not None:
        existing = find_plan_by_key(session, tenant, idempotency_key)
        if existing is not None:
            return existing
    if created_by is None and created_by_user_id is not None:  # a job's plan: named after who asked for the job
        creator = session.get(UserRecord, created_by_user_id)
        created_by = creator.name if creator is not None and creator.tenant_id == tenant else None
    summary = result.get("summary")
    version = _next_version(session, tenant, round_set, problem.id)
    name = name or default_plan_name(source, round_set, version, utc_now())
    plan = PlanRecord(
        tenant_id=tenant, problem_id=problem.id, round_set=round_set, name=name,
        version=version, source=source, status="draft",
        inputs_hash=problem.content_hash, parameters=parameters, engine=engine, seed=seed,
        library_versions=library_versions(), kpis=dict(summary) if isinstance(summary, dict) else {}, result=result,
        parent_id=parent_id, idempotency_key=idempotency_key, created_by=created_by,
        created_by_user_id=created_by_user_id,
    )
    session.add(plan)
    session.flush()
    append_audit(session, tenant, actor=created_by, action="plan.create", subject_type="plan",
                 subject_id=plan.id, details={"source": source, "version": plan.version, "round_set": round_set,
                                              "name": name, "kpis": plan.kpis})
    return plan


def get_plan(session: Session, tenant: str, plan_id: str) -> PlanRecord | None:
    """The tenant's plan ``plan_id``, or ``None``."""
    return session.scalar(select(PlanRecord).where(PlanRecord.tenant_id == tenant, PlanRecord.id == plan_id))


def find_plan_by_key(session: Session, tenant: str, idempotency_key: str) -> PlanRecord | None:
    """The tenant's plan stored under ``idempotency_key``, or ``None``."""
    return session.scalar(select(PlanRecord).where(PlanRecord.tenant_id == tenant,
                                                   PlanRecord.idempotency_key == idempotency_key))


def list_plans(session: Session, tenant: str, *, status: str | None = None, round_set: str | None = None,
               limit: int = 100, offset: int = 0) -> list[PlanRecord]:
    """The tenant's plans, newest first, optionally of one ``status`` and ``round_set``."""
    query = select(PlanRecord).where(PlanRecord.tenant_id == tenant)
    if status is not None:
        query = query.where(PlanRecord.status == status)
    if round_set is not None:
        query = query.where(PlanRecord.round_set == round_set)
    query = query.order_by(PlanRecord.created_at.desc(), PlanRecord.version.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def latest_plan(session: Session, tenant: str, round_set: str, *, status: str | None = None) -> PlanRecord | None:
    """The tenant's highest version of ``round_set`` (of that ``status`` when given), or ``None``."""
    query = select(PlanRecord).where(PlanRecord.tenant_id == tenant, PlanRecord.round_set == round_set)
    if status is not None:
        query = query.where(PlanRecord.status == status)
    return session.scalar(query.order_by(PlanRecord.version.desc()).limit(1))


def list_round_sets(session: Session, tenant: str) -> list[str]:
    """The round sets the tenant has plans of, sorted."""
    query = (select(PlanRecord.round_set).where(PlanRecord.tenant_id == tenant, PlanRecord.round_set.is_not(None))
             .distinct().order_by(PlanRecord.round_set))
    return [name for name in session.scalars(query) if name is not None]


def approve_plan(session: Session, tenant: str, plan_id: str, *, by: str, by_user_id: str | None = None,
                 four_eyes: bool = False) -> PlanRecord | None:
    """Approve the tenant's plan ``plan_id`` in the name of ``by`` (the user ``by_user_id``) and log it
    with its KPIs and the hash of what was approved (:func:`app.store.approvals.plan_content_hash`).

    Returns ``None`` when the tenant has no such plan; raises :class:`ConflictError`
    when it is approved already, and :class:`FourEyesError` when ``four_eyes`` is set and
    ``by_user_id`` is the user who created the plan.
    """
    plan = get_plan(session, tenant, plan_id)
    if plan is None:
        return None
    if plan.status == "approved":
        raise ConflictError(f"plan {plan_id!r} was approved already, by {plan.approved_by!r} at "
                            f"{plan.approved_at.isoformat() if plan.approved_at else 'an unknown time'}")
    if four_eyes and by_user_id is not None and plan.created_by_user_id == by_user_id:
        raise FourEyesError(f"plan {plan_id!r} was created by {by!r}: the four-eyes rule asks another approver "
                            "to approve it")
    plan.status = "approved"
    plan.approved_by = by
    plan.approved_by_user_id = by_user_id
    plan.approved_at = utc_now()
    plan.approved_hash = plan_content_hash(plan)
    session.flush()
    append_audit(session, tenant, actor=by, action="plan.approve", subject_type="plan", subject_id=plan.id,
                 details={"version": plan.version, "round_set": plan.round_set, "kpis": plan.kpis,
                          "inputs_hash": plan.inputs_hash, "plan_hash": plan.approved_hash,
                          "user_id": by_user_id})
    return plan


# --------------------------------------------------------------------------- jobs


def create_job(session: Session, tenant: str, problem: ProblemRecord, *, max_attempts: int = 2,
               actor: str = "api", kind: str = "optimisation", request: JSONObject | None = None,
               created_by_user_id: str | None = None, priority: int = 1) -> JobRecord:
    """Queue a job of ``kind`` (one of :data:`~app.store.models.JOB_KINDS`) on ``problem`` for ``tenant``
    (run at most ``max_attempts`` times, claimed in the order of ``priority``, one of
    :data:`~app.store.models.JOB_PRIORITIES`); ``request`` is what it is asked beyond its problem,
    ``created_by_user_id`` the person asking (the plans the job stores are theirs)."""
    if problem.tenant_id != tenant:
        raise LookupError(f"problem {problem.id!r} does not belong to tenant {tenant!r}")
    if kind not in JOB_KINDS:
        raise ValueError(f"kind: {kind!r} is not a job kind ({', '.join(JOB_KINDS)})")
    if priority not in JOB_PRIORITIES:
        raise ValueError(f"priority: {priority!r} is not a job priority ({', '.join(map(str, JOB_PRIORITIES))})")
    job = JobRecord(tenant_id=tenant, problem_id=problem.id, status="queued", max_attempts=max_attempts, kind=kind,
                    created_by_user_id=created_by_user_id,
                    request=request, priority=priority)
    session.add(job)
    session.flush()
    append_audit(session, tenant, actor=actor, action="job.create", subject_type="job", subject_id=job.id,
                 details={"problem_id": problem.id, "inputs_hash": problem.content_hash, "kind": kind})
    return job


def get_job(session: Session, tenant: str, job_id: str) -> JobRecord | None:
    """The tenant's job ``job_id``, or ``None``."""
    return session.scalar(select(JobRecord).where(JobRecord.tenant_id == tenant, JobRecord.id == job_id))


def list_jobs(session: Session, tenant: str, *, status: str | None = None, limit: int = 100) -> list[JobRecord]:
    """The tenant's jobs, newest first, optionally of one ``status``."""
    query = select(JobRecord).where(JobRecord.tenant_id == tenant)
    if status is not None:
        query = query.where(JobRecord.status == status)
    return list(session.scalars(query.order_by(JobRecord.created_at.desc()).limit(limit)))


def queued_job_count(session: Session, *, tenant: str | None = None) -> int:
    """Jobs waiting to run, over all tenants (the bounded queue's fill; cross-tenant: a count only),
    or of ``tenant`` alone (its share of the queue)."""
    query = select(func.count()).select_from(JobRecord).where(JobRecord.status == "queued")
    if tenant is not None:
        query = query.where(JobRecord.tenant_id == tenant)
    return int(session.scalar(query) or 0)


def unfinished_jobs(session: Session) -> list[tuple[str, str, str]]:
    """``(tenant, job id, status)`` of every queued or running job, oldest first.

    Cross-tenant, for housekeeping (checking that nothing is left unfinished); ids only. The job
    runner's own recovery goes by leases (:mod:`app.store.job_queue`).
    """
    query = (select(JobRecord.tenant_id, JobRecord.id, JobRecord.status)
             .where(JobRecord.status.in_(("queued", "running"))).order_by(JobRecord.created_at))
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


def start_job(session: Session, tenant: str, job_id: str) -> JobRecord | None:
    """Mark the tenant's queued job as running (one more attempt); ``None`` if it is not queued.

    The change is a conditional ``UPDATE``, so two runners can never both start it.
    """
    now = utc_now()
    changed = session.execute(
        update(JobRecord)
        .where(JobRecord.tenant_id == tenant, JobRecord.id == job_id, JobRecord.status == "queued",
               JobRecord.cancel_requested.is_(False))
        .values(status="running", attempts=JobRecord.attempts + 1, started_at=now, updated_at=now, progress=0.0,
                best_cost=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        return None
    job = get_job(session, tenant, job_id)
    if job is not None:
        session.refresh(job)
    return job


def record_progress(session: Session, tenant: str, job_id: str, *, progress: float,
                    best_cost: float | None) -> bool:
    """Write a running job's progress (0..1) and best cost so far; ``True`` if it should go on.

    Answers ``False`` when a cancellation was asked for (or the job is no longer running).
    """
    values: dict[str, object] = {"progress": min(1.0, max(0.0, progress)), "updated_at": utc_now()}
    if best_cost is not None:
        values["best_cost"] = best_cost
    session.execute(update(JobRecord)
                    .where(JobRecord.tenant_id == tenant, JobRecord.id == job_id, JobRecord.status == "running")
                    .values(**values).execution_options(synchronize_session=False))
    row = session.execute(select(JobRecord.status, JobRecord.cancel_requested)
                          .where(JobRecord.tenant_id == tenant, JobRecord.id == job_id)).first()
    return row is not None and row[0] == "running" and not row[1]


def cancel_requested(session: Session, tenant: str, job_id: str) -> bool:
    """Whether a cancellation of the tenant's job was asked for."""
    return bool(session.scalar(select(JobRecord.cancel_requested)
                               .where(JobRecord.tenant_id == tenant, JobRecord.id == job_id)))


def _finish(session: Session, tenant: str, job_id: str, status: str, **values: object) -> JobRecord | None:
    """Move the tenant's unfinished job to the final ``status`` with ``values``."""
    job = get_job(session, tenant, job_id)
    if job is None or job.status in FINAL_JOB_STATUSES:
        return job
    now = utc_now()
    job.status = status
    job.finished_at = now
    job.updated_at = now
    job.lease_expires_at = None  # lease_owner stays: the replica that ran it last
    for name, value in values.items():
        setattr(job, name, value)
    session.flush()
    return job


def succeed_job(session: Session, tenant: str, job_id: str, *, plan: PlanRecord | None = None,
                best_cost: float | None = None, result: JSONObject | None = None) -> JobRecord | None:
    """Mark the tenant's job succeeded with the ``plan`` it produced (stored in the same transaction)
    and, for a job that stores no plan, its ``result``."""
    values: dict[str, object] = {"plan_id": None if plan is None else plan.id, "progress": 1.0, "error": None,
                                 "result": result}
    if best_cost is not None:
        values["best_cost"] = best_cost
    return _finish(session, tenant, job_id, "succeeded", **values)


def fail_job(session: Session, tenant: str, job_id: str, *, error: str) -> JobRecord | None:
    """Mark the tenant's job failed with the reason ``error``."""
    job = _finish(session, tenant, job_id, "failed", error=error)
    if job is not None and job.status == "failed":
        append_audit(session, tenant, actor="system", action="job.fail", subject_type="job", subject_id=job_id,
                     details={"error": error[:2000], "attempts": job.attempts})
    return job


def mark_job_cancelled(session: Session, tenant: str, job_id: str) -> JobRecord | None:
    """Mark the tenant's job cancelled (its search has stopped, or it never started)."""
    return _finish(session, tenant, job_id, "cancelled", cancel_requested=True)


def request_cancel(session: Session, tenant: str, job_id: str, *, actor: str = "api") -> JobRecord | None:
    """Cancel the tenant's job: a queued job at once, a running one when its worker next reports.

    Returns the job (unchanged when already finished) or ``None`` if there is no such job.
    """
    job = get_job(session, tenant, job_id)
    if job is None or job.status in FINAL_JOB_STATUSES:
        return job
    job.cancel_requested = True
    job.updated_at = utc_now()
    session.flush()
    append_audit(session, tenant, actor=actor, action="job.cancel", subject_type="job", subject_id=job_id,
                 details={"status": job.status, "progress": job.progress})
    if job.status == "queued":
        return mark_job_cancelled(session, tenant, job_id)
    return job


def requeue_job(session: Session, tenant: str, job_id: str, *, reason: str) -> JobRecord | None:
    """Put the tenant's running job back in the queue (after its run was cut short by ``reason``)."""
    job = get_job(session, tenant, job_id)
    if job is None or job.status != "running":
        return job
    job.status = "queued"
    job.progress = 0.0
    job.error = reason
    job.lease_owner = None
    job.lease_expires_at = None
    job.updated_at = utc_now()
    session.flush()
    append_audit(session, tenant, actor="system", action="job.retry", subject_type="job", subject_id=job_id,
                 details={"reason": reason, "attempts": job.attempts})
    return job


# --------------------------------------------------------------------------- audit log


def append_audit(session: Session, tenant: str, *, actor: str | None, action: str, subject_type: str,
                 subject_id: str, details: JSONObject | None = None) -> AuditEntry:
    """Add a line to the tenant's append-only audit log.

    ``actor`` ``None`` (or ``"api"``) names the person the current request acts as
    (:mod:`app.store.acting`), ``system`` when there is none; a line naming a user carries their
    ``user_id`` in its details.
    """
    ensure_tenant(session, tenant)
    name, user_id = resolve_actor(actor)
    recorded = dict(details or {})
    if user_id is not None:
        recorded.setdefault("user_id", user_id)
    entry = AuditEntry(tenant_id=tenant, actor=name, action=action, subject_type=subject_type,
                       subject_id=subject_id, details=recorded)
    session.add(entry)
    session.flush()
    return entry


def list_audit(session: Session, tenant: str, *, subject_id: str | None = None,
               actions: Sequence[str] | None = None) -> list[AuditEntry]:
    """The tenant's audit log, oldest first, optionally about one subject or some actions."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if actions is not None:
        query = query.where(AuditEntry.action.in_(tuple(actions)))
    return list(session.scalars(query.order_by(AuditEntry.id)))


# --------------------------------------------------------------------------- API keys


def hash_api_key(key: str) -> str:
    """SHA-256 (hex) of an API key. Keys are long random strings, so a fast hash suffices."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, tenant: str, *, name: str | None = None,
                   actor: str = "cli", user_id: str | None = None) -> tuple[ApiKeyRecord, str]:
    """A new API key for ``tenant`` (acting as the user ``user_id``, or a tenant key without one): its
    record (hash only) and the key itself, to be shown once."""
    ensure_tenant(session, tenant)
    key = "wr_" + secrets.token_urlsafe(32)
    record = ApiKeyRecord(tenant_id=tenant, key_hash=hash_api_key(key), prefix=key[:API_KEY_PREFIX_CHARS],
                          name=name, user_id=user_id)
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:  # a 256-bit collision: practically impossible
        raise RuntimeError("could not store a new API key; try again") from exc
    append_audit(session, tenant, actor=actor, action="api_key.create", subject_type="api_key",
                 subject_id=record.id, details={"prefix": record.prefix, "name": name, "user_id": user_id})
    return record, key


def find_api_key(session: Session, key: str) -> ApiKeyRecord | None:
    """The unrevoked key record matching ``key`` (its ``tenant_id`` is the caller's tenant), or ``None``.

    Cross-tenant by nature: this is how a presented key finds its tenant.
    """
    return session.scalar(select(ApiKeyRecord).where(ApiKeyRecord.key_hash == hash_api_key(key),
                                                     ApiKeyRecord.revoked_at.is_(None)))


def list_api_keys(session: Session, tenant: str) -> list[ApiKeyRecord]:
    """The tenant's keys (hashes and prefixes only), oldest first."""
    return list(session.scalars(select(ApiKeyRecord).where(ApiKeyRecord.tenant_id == tenant)
                                .order_by(ApiKeyRecord.created_at)))


def revoke_api_key(session: Session, tenant: str, key_id: str, *, actor: str = "cli",
                   at: datetime | None = None) -> ApiKeyRecord | None:
    """Revoke the tenant's key ``key_id`` (from ``at``, now by default); ``None`` if no such key."""
    record = session.scalar(select(ApiKeyRecord).where(ApiKeyRecord.tenant_id == tenant,
                                                       ApiKeyRecord.id == key_id))
    if record is None:
        return None
    if record.revoked_at is None:
        record.revoked_at = at or utc_now()
        session.flush()
        append_audit(session, tenant, actor=actor, action="api_key.revoke", subject_type="api_key",
                     subject_id=record.id, details={"prefix": record.prefix})
    return record
