"""``GET /api/v1/ready``: whether this replica can take work now, not merely whether it is up.

``GET /api/v1/health`` says the process answers (liveness: restart it if it does not);
readiness says a load balancer may send it work (take it out of rotation while it does not).
Ready means all of: the store answers, its schema is at this code's migrations' head, the
job queue has room, at least one solver worker process is alive, and the road network is
loaded. Otherwise it answers 503 with ``Retry-After`` and the reasons, in the same body.

Open (no API key), like health: a probe has no key, and the answer names no tenant. The
store is asked with a bound (:data:`STORE_CHECK_TIMEOUT_S`), so a database that hangs makes
the replica unready within a probe's timeout instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app import store
from app.api.deps import NetworkRegistryDep, SettingsDep, SolverPoolDep, StoreDep
from app.compute.network_registry import NetworkRegistry
from app.core.config import Settings
from app.jobs.pool import SolverPool
from app.schemas import ReadinessCheck, ReadinessResponse
from app.store.availability import first_line
from app.store.schema_state import describe_schema

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/ready", tags=["health"])

STORE_CHECK_TIMEOUT_S = 3.0
"""Seconds the store may take to answer the readiness checks (below compose's 5 s probe timeout)."""
RETRY_AFTER_S = 5
"""Seconds a client is told to wait when the replica is not ready."""
READY, UNAVAILABLE = 200, 503


def _store_checks(settings: Settings) -> Callable[[Session], list[ReadinessCheck]]:
    """Work for :meth:`app.store.Store.run`: the store, migrations and job queue checks, in one transaction.

    Reaching the store is the connection itself; the queue is counted only on a schema at head
    (on another schema its table may not be the one this code reads).
    """
    def check(session: Session) -> list[ReadinessCheck]:
        connection = session.connection()
        checks = [ReadinessCheck(name="store", ok=True, detail=f"{connection.dialect.name} answers")]
        at_head, where = describe_schema(connection)
        checks.append(ReadinessCheck(name="migrations", ok=at_head, detail=where))
        if not at_head:
            checks.append(ReadinessCheck(name="job_queue", ok=False,
                                         detail="not counted: the schema is not at this service's head"))
            return checks
        waiting, room = store.queued_job_count(session), settings.job_queue_size
        detail = f"{waiting} job(s) waiting of the {room} the queue holds (job_queue_size)"
        checks.append(ReadinessCheck(name="job_queue", ok=waiting < room,
                                     detail=detail if waiting < room else f"full: {detail}"))
        return checks
    return check


async def store_checks(db: store.Store, settings: Settings) -> list[ReadinessCheck]:
    """The store's three checks; all failed, with the reason, when it cannot be asked in time."""
    try:
        return await asyncio.wait_for(db.run(_store_checks(settings)), timeout=STORE_CHECK_TIMEOUT_S)
    except TimeoutError:
        reason = f"the store did not answer within {STORE_CHECK_TIMEOUT_S:g} s"
    except Exception as exc:  # any failure to ask the store makes the replica unready, never a 500
        logger.warning("readiness: the store cannot be asked", exc_info=True)
        reason = f"the store cannot be reached: {first_line(exc)}"
    return [ReadinessCheck(name="store", ok=False, detail=reason),
            ReadinessCheck(name="migrations", ok=False, detail="not checked: the store cannot be reached"),
            ReadinessCheck(name="job_queue", ok=False, detail="not checked: the store cannot be reached")]


def process_checks(pool: SolverPool, registry: NetworkRegistry) -> list[ReadinessCheck]:
    """This process's own checks: live solver workers and the loaded road network (no I/O)."""
    live = len(pool.worker_pids)
    workers = ReadinessCheck(name="solver_workers", ok=live > 0,
                             detail=f"{live} of {pool.workers} solver worker process(es) alive")
    info = registry.info()
    network = (ReadinessCheck(name="network", ok=False, detail="the road network is not loaded yet") if info is None
               else ReadinessCheck(name="network", ok=True,
                                   detail=f"{info.source} loaded ({info.nodes} nodes, {info.edges} edges)"))
    return [workers, network]


@router.get("", response_model=ReadinessResponse, summary="Can this replica take work now?",
            responses={UNAVAILABLE: {"model": ReadinessResponse,
                                     "description": "Not ready: the checks that failed are in `reasons`."}})
async def read_readiness(db: StoreDep, settings: SettingsDep, pool: SolverPoolDep,
                         registry: NetworkRegistryDep) -> JSONResponse:
    """200 ``{"status": "ready", "checks": [...], "reasons": []}`` when every check holds, else 503
    ``{"status": "not_ready", ...}`` with ``Retry-After`` and each failed check's detail in ``reasons``."""
    checks = [*await store_checks(db, settings), *process_checks(pool, registry)]
    reasons = [f"{check.name}: {check.detail}" for check in checks if not check.ok]
    answer = ReadinessResponse(status="not_ready" if reasons else "ready", checks=checks, reasons=reasons)
    if reasons:
        return JSONResponse(status_code=UNAVAILABLE, content=answer.model_dump(mode="json"),
                            headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse(status_code=READY, content=answer.model_dump(mode="json"))
