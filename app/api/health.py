"""``GET /api/v1/health``: answers at once, also while solves run."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import NetworkRegistryDep, SolverPoolDep
from app.core.version import service_version
from app.schemas import HealthResponse, NetworkOut, SolvesOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthResponse, summary="Is the service up?")
async def read_health(registry: NetworkRegistryDep, pool: SolverPoolDep) -> HealthResponse:
    """``{"status": "ok"}`` with the version, the road network planned on and the solves running.

    Runs on the event loop and does no I/O; solves run in worker processes, so it
    answers quickly while they run.
    """
    info = registry.info()
    network = None if info is None else NetworkOut(source=info.source, name=info.name, nodes=info.nodes,
                                                   edges=info.edges, load_s=info.load_s)
    return HealthResponse(
        version=service_version(),
        network=network,
        solves=SolvesOut(running=pool.running, queued=pool.queued, limit=pool.workers),
    )
