"""The store's tables as SQLAlchemy 2 ORM models (typed ``Mapped`` columns).

Every record but a tenant carries ``tenant_id``: a council's problems, plans, jobs,
audit entries and API keys are only ever read through queries filtered by it (see
:mod:`app.store.repository`). Times are UTC (``UTCDateTime`` stores them naive in UTC
and hands them back timezone-aware, so SQLite and PostgreSQL behave alike). JSON
columns hold what the API received or answered, as JSON text.

Schema changes go through Alembic (``app/migrations``); these models and the latest
revision must describe the same tables (``tests/app/store/test_store_migrations.py`` checks
it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names that are the same on every database (Alembic needs names to alter them)."""

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
"""A job's life: ``queued`` -> ``running`` -> one of the three final states."""

FINAL_JOB_STATUSES = ("succeeded", "failed", "cancelled")

JOB_PRIORITIES = (0, 1, 2)
"""A job's ``priority``, claimed lowest first: 0 synchronous-sized work (an evaluation, a problem within
the synchronous bin limit), 1 a standard job, 2 a large one (a council's week reviewed)."""

JOB_KINDS = ("optimisation", "evaluation", "plan", "report", "review", "actual")
"""What a job does: optimise its problem (storing a draft plan), evaluate a person's plan, evaluate
and store a person's plan, build a savings report of two stored plans, review a council's week
(storing each day's rounds as a draft plan and the review as the job's result), or read a day as
the lorries drove it from their traces (storing it as a plan of source ``actual``)."""

PLAN_STATUSES = ("draft", "approved")
"""Every stored plan starts as a ``draft``; a named person approves it."""

ROLE_NAMES = ("viewer", "planner", "approver", "admin")
"""The roles a user may hold, least to most trusted (``app.api.principal.ROLES`` is the same list)."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware (UTC).

    SQLite has no time zones; storing every time as naive UTC on both databases keeps
    comparisons and ordering the same everywhere.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware -> naive UTC; naive values are taken as UTC already."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Naive UTC -> aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of every table; shares one :class:`MetaData` with stable constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # JSON columns are typed dict[str, Any] as SQLAlchemy maps them; readers go through app.schemas models
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Tenant(Base):
    """A council: the owner of every other record."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(100), primary_key=True, comment="The tenant's name, e.g. 'rutland'.")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ProblemRecord(Base):
    """The inputs of a plan as posted (bins, vehicles, depots, sites, options), with a content hash.

    Posting the same body twice for a tenant stores it once: ``(tenant_id, content_hash)``
    is unique.
    """

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("tenant_id", "content_hash"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the canonical JSON of body.")
    body: Mapped[dict[str, Any]] = mapped_column(comment="The request body as posted (canonical JSON).")
    n_bins: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PlanRecord(Base):
    """A version of a plan: optimised (by a job, or the nightly batch) or made by a person.

    ``round_set`` names the rounds the plan is a version of (e.g. ``"depot/refuse/mon"``,
    chosen by the caller); ``version`` counts the tenant's plans of that round set (of
    the same problem when no round set is given) from 1. ``result`` is the whole answer
    (the optimisation FeatureCollection), ``kpis`` its summary. ``inputs_hash``,
    ``parameters``, ``engine``, ``seed`` and ``library_versions`` are what it takes to
    reproduce the figures. ``idempotency_key`` (unique per tenant when given) lets a
    re-run of a batch find the plan it stored before instead of storing a second.
    """

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_plans_tenant_round_set", "tenant_id", "round_set", "version"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    round_set: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200), comment="A name people know the plan by.")
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), comment="optimised | manual | batch")
    status: Mapped[str] = mapped_column(String(20), default="draft", comment="draft | approved")
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by_user_id: Mapped[str | None] = mapped_column(
        String(200), comment="The user who approved it (a user id, or a token's subject).")
    approved_hash: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of what was approved (result, kpis, inputs_hash): a change undoes the approval.")
    inputs_hash: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column()
    engine: Mapped[str | None] = mapped_column(String(50))
    seed: Mapped[int | None] = mapped_column(Integer)
    library_versions: Mapped[dict[str, Any]] = mapped_column()
    kpis: Mapped[dict[str, Any]] = mapped_column(comment="The answer's summary: distance_m, duration_s, cost, ...")
    result: Mapped[dict[str, Any]] = mapped_column(comment="The whole answer (GeoJSON FeatureCollection).")
    parent_id: Mapped[str | None] = mapped_column(String(32), comment="The plan this one was derived from.")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_by_user_id: Mapped[str | None] = mapped_column(
        String(200), comment="The user who stored it, or asked for the job that did (the four-eyes rule).")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class JobRecord(Base):
    """Asynchronous work: its problem, where it stands, and the plan or answer it produced.

    ``kind`` is one of :data:`JOB_KINDS`; ``request`` holds what the job was asked beyond
    its problem (a round set and name for a stored plan, the plan ids of a report), and
    ``result`` the answer of a job that stores no plan (an evaluation, a report).

    ``progress`` is the share (0..1) of the time budget used, ``best_cost`` the best
    objective found so far (the engine's units). ``cancel_requested`` is how a
    ``DELETE`` reaches a worker mid-search; ``attempts`` counts runs started (a job found
    ``running`` after a crash is retried while ``attempts < max_attempts``).

    The queue (:mod:`app.store.job_queue`): a replica claims a queued job by setting
    ``lease_owner`` (its replica id) and ``lease_expires_at``, and renews the lease while the
    job runs (a finished job keeps the ``lease_owner`` that ran it last); a ``running`` job
    whose lease has expired (or that has none) lost its replica and is queued again or
    failed. ``priority`` orders the claims: 0 (synchronous-sized work) before 1 (standard
    jobs) before 2 (large reviews); see :data:`JOB_PRIORITIES`.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),
                      Index("ix_jobs_status_priority_created", "status", "priority", "created_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    kind: Mapped[str] = mapped_column(String(20), default="optimisation", server_default="optimisation",
                                      comment="optimisation | evaluation | plan | report")
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="What the job was asked beyond its problem.")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="The answer of a job that stores no plan.")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    best_cost: Mapped[float | None] = mapped_column(Float)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    error: Mapped[str | None] = mapped_column(Text)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"))
    created_by_user_id: Mapped[str | None] = mapped_column(
        String(200), comment="The user who asked for the job (the plans it stores are theirs).")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1",
                                          comment="0 synchronous-sized, 1 standard, 2 large: lower is claimed first")
    lease_owner: Mapped[str | None] = mapped_column(
        String(200), comment="Replica id of the replica running the job (of a finished job: that ran it last).")
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        comment="When the running job's lease ends unless its replica renews it (UTC).")


class AuditEntry(Base):
    """One line of the append-only audit log: who did what to which record, with figures.

    The database refuses updates and deletes of this table (triggers created by the
    first migration), and so does the ORM (:mod:`app.store.repository`).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), comment="e.g. plan.approve, job.create, job.cancel")
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column()


class UserRecord(Base):
    """A person of a tenant (council) and the roles they hold (a subset of :data:`ROLE_NAMES`).

    A disabled user (``disabled_at`` set) keeps their record, for the audit log, but their
    keys stop working.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), comment="How approvals and the audit log name the person.")
    email: Mapped[str | None] = mapped_column(String(320))
    roles: Mapped[list[Any]] = mapped_column(comment="Role names, e.g. [\"planner\"].")
    disabled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiKeyRecord(Base):
    """An API key of a tenant, stored hashed (the key itself is shown once, never stored).

    ``prefix`` is the key's first characters, to tell keys apart in listings. ``user_id`` is
    the person the key acts as (with their roles); a key of no user is a tenant key.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column()


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a line of the audit log."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(mapper: Mapper[AuditEntry], connection: Connection, target: AuditEntry) -> None:
    """The ORM's guard of the append-only audit log (the database has its own triggers)."""
    raise AppendOnlyError(f"audit_log is append-only: entry {target.id} cannot be changed or deleted")
