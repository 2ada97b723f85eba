"""``Annotated`` aliases of the FastAPI dependencies that request handlers declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from app.compute.network_registry import NetworkRegistry, get_network_registry
from app.core.config import Settings, get_settings
from app.jobs.pool import SolverPool
from app.jobs.runner import JobRunner
from app.store import Store


def get_solver_pool(request: Request) -> SolverPool:
    """FastAPI dependency: the application's :class:`~app.jobs.pool.SolverPool`."""
    pool: SolverPool = request.app.state.solver_pool
    return pool


def get_store(request: Request) -> Store:
    """FastAPI dependency: the application's :class:`~app.store.Store`."""
    db: Store = request.app.state.store
    return db


def get_job_runner(request: Request) -> JobRunner:
    """FastAPI dependency: the application's :class:`~app.jobs.runner.JobRunner`."""
    runner: JobRunner = request.app.state.job_runner
    return runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
NetworkRegistryDep = Annotated[NetworkRegistry, Depends(get_network_registry)]
SolverPoolDep = Annotated[SolverPool, Depends(get_solver_pool)]
StoreDep = Annotated[Store, Depends(get_store)]
JobRunnerDep = Annotated[JobRunner, Depends(get_job_runner)]
