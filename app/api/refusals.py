"""Refused requests, recorded: 403s and cross-tenant 404s in the audit log, 401s in the log and a counter.

A 403 (a role missing, the four-eyes rule) and a 404 on an id that belongs to another tenant (a
plan, a round review, a user) are written to the requesting principal's tenant's audit log as
``access.refused`` (actor: the principal's name; details: path, method, status, reason, user id). A 401 has no tenant to
write to: it is a log line (kind and path, never the key) and a count in :data:`REFUSED_401` for this
process; the service's metrics count refusals themselves from the answers (``wasteroute_auth_refused_total``,
:mod:`app.api.request_metrics`). Keys never reach either.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import store
from app.api.principal import Principal
from app.core.json_types import JSONObject

logger = logging.getLogger(__name__)

REFUSED_ACTION: Final = "access.refused"
REFUSED_401: Counter[str] = Counter()
"""401 answers since the process started, by kind (``missing_api_key``, ``invalid_api_key``)."""


def count_unauthorised(kind: str, *, method: str, path: str) -> None:
    """Count and log a 401 (never the key: only its kind and the request's method and path)."""
    REFUSED_401[kind] += 1
    logger.info("refused %s %s: 401 %s", method, path, kind)


async def record_refusal(db: store.Store, principal: Principal, *, method: str, path: str, status: int,
                         reason: str) -> None:
    """Write an ``access.refused`` line for ``principal``'s refused request to its tenant's audit log.

    A store that cannot take the line does not turn the refusal into a 500: it is logged instead.
    """
    details: JSONObject = {"path": path, "method": method, "status": status, "reason": reason,
                           "user_id": principal.user_id, "via": principal.via}
    try:
        await db.run(lambda session: store.append_audit(session, principal.tenant, actor=principal.name,
                                                        action=REFUSED_ACTION, subject_type="request",
                                                        subject_id=path[:100], details=details))
    except Exception:  # the answer stays the refusal; the lost line is in the log
        logger.warning("could not record a refused %s %s (%d) of tenant %s", method, path, status, principal.tenant,
                       exc_info=True)


async def record_if_foreign(db: store.Store, principal: Principal,
                            model: type[store.PlanRecord] | type[store.JobRecord], record_id: str, *,
                            method: str, path: str) -> None:
    """Record the 404 of ``principal``'s request for ``record_id`` as a refusal when the id belongs to another
    tenant (a probe across councils); a plain unknown id is not recorded. The answer is the same 404 either way.
    """
    def owner(session: Session) -> str | None:
        # cross-tenant on purpose: only to tell another council's id from no id at all
        return session.scalar(select(model.tenant_id).where(model.id == record_id))

    found = await db.run(owner)
    if found is not None and found != principal.tenant:
        await record_refusal(db, principal, method=method, path=path, status=404,
                             reason=f"{model.__tablename__[:-1]} {record_id!r} belongs to another tenant")
