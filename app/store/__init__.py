"""The store: problems, plans, jobs, an append-only audit log and API keys, per tenant.

SQLAlchemy 2 over a SQLite file by default or PostgreSQL by URL (psycopg 3), schema by
Alembic (``app/migrations``, applied by :meth:`Store.migrate` at startup). See
``docs/storage.md``.

Use::

    from app import store
    db = store.Store(settings.database_url)   # or store.Store.from_settings(settings)
    db.migrate()
    with db.transaction() as session:          # one transaction: all or nothing
        problem = store.save_problem(session, tenant, body)
        plan = store.create_plan(session, tenant, problem=problem, result=answer, source="batch",
                                 parameters=body["options"], engine="ortools", seed=0,
                                 round_set="depot/refuse/mon", idempotency_key="2026-11-27/depot/refuse/mon")

Connections (:mod:`app.store.engine`): ``Store(url)`` with ``.migrate()``,
``.transaction()``, ``await .run(work)`` (a
transaction in a thread, for async code), ``.dispose()``, ``.engine``; ``make_engine(url)``, ``migrate(engine)``.

Every function below takes ``(session, tenant, ...)`` and only sees that tenant's
records (another tenant's id gives ``None``), except the three marked cross-tenant:

- tenants: ``ensure_tenant``
- problems: ``save_problem`` (deduplicated by ``content_hash``), ``get_problem``,
  ``content_hash(body)``, ``canonical_json(body)``
- plans: ``create_plan`` (a new ``draft`` version; idempotent with ``idempotency_key``),
  ``get_plan``, ``list_plans``, ``latest_plan(round_set, status=)``, ``list_round_sets``,
  ``find_plan_by_key``, ``approve_plan(by=)`` (audit-logged; :class:`ConflictError` if
  approved already), ``library_versions()``
- jobs: ``create_job``, ``get_job``, ``list_jobs``, ``start_job``, ``record_progress``,
  ``cancel_requested``, ``succeed_job(plan=)``, ``fail_job(error=)``,
  ``request_cancel``, ``mark_job_cancelled``, ``requeue_job``;
  cross-tenant: ``queued_job_count``, ``unfinished_jobs``; the queue replicas share (claims,
  leases, counts by tenant and state): :mod:`app.store.job_queue`
- audit log: ``append_audit``, ``list_audit``
- API keys: ``create_api_key`` (returns the record and the key, shown once; ``user_id=`` ties it to a
  person), ``list_api_keys``, ``revoke_api_key``, ``hash_api_key``; cross-tenant: ``find_api_key``
- people (:mod:`app.store.people`): ``create_user``, ``get_user``, ``list_users``, ``disable_user``,
  ``change_roles``, ``create_user_key``, ``list_user_keys``, ``revoke_user_key``, ``key_user``
- approvals (:mod:`app.store.approvals`): ``plan_content_hash``; an approved plan whose content
  changes goes back to ``draft`` at the next flush (``plan.unapprove`` in the audit log)

Records (:mod:`app.store.models`): ``Tenant``, ``ProblemRecord``, ``PlanRecord``,
``JobRecord``, ``AuditEntry``, ``ApiKeyRecord``, ``UserRecord``.
"""

from __future__ import annotations

from app.store.approvals import plan_content_hash
from app.store.engine import Store, make_engine, migrate
from app.store.models import (
    FINAL_JOB_STATUSES,
    JOB_KINDS,
    JOB_STATUSES,
    PLAN_STATUSES,
    ROLE_NAMES,
    ApiKeyRecord,
    AppendOnlyError,
    AuditEntry,
    JobRecord,
    PlanRecord,
    ProblemRecord,
    Tenant,
    UserRecord,
)
from app.store.people import (
    UnknownRoleError,
    change_roles,
    checked_roles,
    create_user,
    create_user_key,
    disable_user,
    get_user,
    key_user,
    list_user_keys,
    list_users,
    revoke_user_key,
)
from app.store.repository import (
    ConflictError,
    FourEyesError,
    append_audit,
    approve_plan,
    cancel_requested,
    canonical_json,
    content_hash,
    create_api_key,
    create_job,
    create_plan,
    ensure_tenant,
    fail_job,
    find_api_key,
    find_plan_by_key,
    get_job,
    get_plan,
    get_problem,
    hash_api_key,
    latest_plan,
    library_versions,
    list_api_keys,
    list_audit,
    list_jobs,
    list_plans,
    list_round_sets,
    mark_job_cancelled,
    queued_job_count,
    record_progress,
    request_cancel,
    requeue_job,
    revoke_api_key,
    save_problem,
    start_job,
    succeed_job,
    unfinished_jobs,
)

__all__ = [
    "FINAL_JOB_STATUSES",
    "JOB_KINDS",
    "JOB_STATUSES",
    "PLAN_STATUSES",
    "ROLE_NAMES",
    "ApiKeyRecord",
    "AppendOnlyError",
    "AuditEntry",
    "ConflictError",
    "FourEyesError",
    "JobRecord",
    "PlanRecord",
    "ProblemRecord",
    "Store",
    "Tenant",
    "UnknownRoleError",
    "UserRecord",
    "append_audit",
    "approve_plan",
    "cancel_requested",
    "canonical_json",
    "change_roles",
    "checked_roles",
    "content_hash",
    "create_api_key",
    "create_job",
    "create_plan",
    "create_user",
    "create_user_key",
    "disable_user",
    "ensure_tenant",
    "fail_job",
    "find_api_key",
    "find_plan_by_key",
    "get_job",
    "get_plan",
    "get_problem",
    "get_user",
    "hash_api_key",
    "key_user",
    "latest_plan",
    "library_versions",
    "list_api_keys",
    "list_audit",
    "list_jobs",
    "list_plans",
    "list_round_sets",
    "list_user_keys",
    "list_users",
    "make_engine",
    "mark_job_cancelled",
    "migrate",
    "plan_content_hash",
    "queued_job_count",
    "record_progress",
    "request_cancel",
    "requeue_job",
    "revoke_api_key",
    "revoke_user_key",
    "save_problem",
    "start_job",
    "succeed_job",
    "unfinished_jobs",
]
