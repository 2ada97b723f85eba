"""Where independent solves run: a Dask distributed cluster, or a local process pool.

:func:`solver_executor` gives a :class:`concurrent.futures.Executor`:

- with ``WASTEROUTE_DASK_SCHEDULER=tcp://host:8786`` set, one that runs work on that
  Dask cluster (``distributed.Client(address).get_executor()``, tasks not cached:
  ``pure=False``);
- without it, a local :class:`~concurrent.futures.ProcessPoolExecutor` of
  ``max_concurrent_solves`` processes started with ``spawn``.

Both take the same work units: plain top-level functions of picklable arguments. The
road network is never shipped with the work: a unit names it by a
:class:`NetworkPaths` (file and cache folder, which must be readable at the same paths
on every worker: a shared volume, or the same image with the same files), and the worker
loads it once (from the cache the first load built) and keeps it for every later unit
in that process (:func:`worker_network`).

Work units: the service's own (one solve, a stored job) are in :mod:`app.jobs.cluster`,
since they need the translators and the store; the one given here needs only the solver:

- :func:`optimise_on_worker`: ``optimise(problem, network, options)`` returning the
  solver's :class:`~solver.pipeline.PlannedRounds`, for code in ``solver/`` that takes an
  Executor, must not know about the app, and needs the network on the worker::

      part_solver = functools.partial(optimise_on_worker, NetworkPaths.of(settings))
      with solver_executor(settings) as executor:
          futures = [executor.submit(part_solver, part, options) for part in parts]

  (a ``functools.partial`` of a top-level function pickles by reference, so it travels
  to Dask workers and spawned processes alike).

The parts of a decomposed large problem need no network on the worker (each carries its
own matrices), so the executor goes straight to the pipeline::

    with solver_executor(settings) as executor:
        planned = solver.pipeline.optimise(problem, network, options, executor=executor)

The executor is a context manager; leaving it shuts the pool down (and, for Dask,
closes the client, leaving the cluster itself running).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from app.core.config import Settings
from solver.problem import Problem, SolveOptions

if TYPE_CHECKING:
    from distributed import Client

    from solver.network import RoadNetwork
    from solver.pipeline import PlannedRounds

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class NetworkPaths:
    """Where a worker finds the road network: the network file and the cache of built graphs."""

    network_file: Path
    cache_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> NetworkPaths:
        """The network the service is configured with (absolute paths, so any worker's folder works)."""
        return cls(network_file=settings.network_file.resolve(), cache_dir=settings.cache_dir.resolve())


_networks: dict[NetworkPaths, RoadNetwork] = {}
"""This process's loaded networks (a worker keeps each network it loaded for later units)."""


def worker_network(source: NetworkPaths) -> RoadNetwork:
    """The network of ``source``, loaded on the first call in this process and kept."""
    network = _networks.get(source)
    if network is None:
        from app.compute.network_registry import load_road_network

        network = load_road_network(source.network_file, cache_dir=source.cache_dir)
        _networks[source] = network
    return network


def worker_name() -> str:
    """``host:pid`` of the process running this code (which worker did a unit)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------- work units


def optimise_on_worker(source: NetworkPaths, problem: Problem, options: SolveOptions, *,
                       snap_limit_m: float = 200.0) -> PlannedRounds:
    """:func:`solver.pipeline.optimise` of ``problem`` on the worker's copy of ``source``'s network."""
    from solver.pipeline import optimise

    return optimise(problem, worker_network(source), options, snap_limit_m=snap_limit_m)


# --------------------------------------------------------------------------- executors


class DaskExecutor(Executor):
    """A ``concurrent.futures`` executor on a Dask cluster that also closes its client on shutdown.

    Submitted tasks are never taken from Dask's cache (``pure=False``): two equal solves
    are two runs.
    """

    def __init__(self, client: Client) -> None:
        """Run work through ``client`` (connected already); :meth:`shutdown` closes it."""
        self.client = client
        self._executor: Executor = client.get_executor(pure=False)

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Run ``fn(*args, **kwargs)`` on a worker of the cluster; a ``concurrent.futures.Future``."""
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Wait for (or cancel) the submitted work, then close the client (the cluster stays up)."""
        try:
            self._executor.shutdown(wait=wait and not cancel_futures)
        finally:
            self.client.close()

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return str(self.client.scheduler_info().get("address", "unknown scheduler"))

    @property
    def workers(self) -> int:
        """Workers the scheduler knows of now."""
        return len(self.client.scheduler_info().get("workers", {}))


def local_executor(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` local processes started with ``spawn`` (safe beside threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def solver_executor(settings: Settings, *, workers: int | None = None) -> Executor:
    """The executor for independent solves: the Dask cluster at ``settings.dask_scheduler``,
    else a local process pool of ``workers`` (default ``settings.max_concurrent_solves``)
    processes.

    Raises ``OSError`` (from ``distributed``) when the scheduler cannot be reached.
    """
    if settings.dask_scheduler:
        from distributed import Client

        client = Client(settings.dask_scheduler, set_as_default=False)
        executor = DaskExecutor(client)
        logger.info("solves run on the Dask cluster at %s (%d workers)", settings.dask_scheduler, executor.workers)
        return executor
    size = workers or settings.max_concurrent_solves
    logger.info("solves run in a local pool of %d process(es)", size)
    return local_executor(size)


def stop_now(executor: Executor) -> None:
    """Stop ``executor`` without waiting for the work under way (a cancelled review): the work not started is
    dropped, a local pool's processes are terminated (a day's search would otherwise run on to its limit, on
    cores another job needs), a Dask client is closed (the cluster stays up)."""
    if isinstance(executor, ProcessPoolExecutor):
        # Python 3.11's pool has no terminate_workers(): its processes are reached through the private map
        processes = dict(getattr(executor, "_processes", None) or {})
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            process.terminate()
        return
    executor.shutdown(wait=False, cancel_futures=True)


def describe_executor(executor: Executor) -> str:
    """A short description for logs and reports: ``dask tcp://...`` or ``local pool``."""
    if isinstance(executor, DaskExecutor):
        return f"dask {executor.address}"
    return "local process pool"
