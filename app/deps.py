"""``Annotated`` aliases of the FastAPI dependencies that request handlers declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from app.config import Settings, get_settings
from app.network_registry import NetworkRegistry, get_network_registry
from app.workers import SolverPool


def get_solver_pool(request: Request) -> SolverPool:
    """FastAPI dependency: the application's :class:`~app.workers.SolverPool`."""
    pool: SolverPool = request.app.state.solver_pool
    return pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
NetworkRegistryDep = Annotated[NetworkRegistry, Depends(get_network_registry)]
SolverPoolDep = Annotated[SolverPool, Depends(get_solver_pool)]
