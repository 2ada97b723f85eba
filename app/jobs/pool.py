"""Solves run in worker processes, so the event loop keeps answering meanwhile.

Why processes and not threads: OR-Tools' routing search holds the GIL for its whole
duration (measured with ortools 9.15: while a 3 s search ran in a thread, the main
thread could not run once in those 3 s). A solve in a worker thread would freeze
every other request, health checks included.

:class:`SolverPool` keeps ``max_concurrent_solves`` long-lived worker processes
(started with ``spawn``: safe beside the server's threads), each joined to the server
by its own pipe. Each worker loads the road network once, from the cache the server
process built at startup, and keeps it for every solve it runs. A solve sends the
:class:`~solver.problem.Problem` and :class:`~solver.problem.SolveOptions` down a free
worker's pipe and gets the finished :class:`~app.schemas.OptimisationResponse` back;
requests beyond the number of workers wait for a free one.

One worker's death harms no other work: the server waits on each busy worker's pipe
*and* its process sentinel (on the event loop, no thread held meanwhile), so a worker
killed mid-solve (SIGKILL, the out-of-memory killer, a crash in native code) is noticed
at once; only the work it was doing fails (:class:`WorkerDiedError`, naming the signal
or exit status), and a replacement worker is started in the background (it loads the
network from the cache). ``concurrent.futures.ProcessPoolExecutor`` would instead mark
the whole pool broken and fail every solve in it.

Stored jobs (:meth:`SolverPool.run_job`) run in the same workers; there the worker
itself reads the job from the store and writes its progress and outcome back (see
:mod:`app.jobs.execute`), so only the job's id crosses the process boundary.

The pool lives with the jobs, not in :mod:`app.compute`, because its workers run the
service's translators (:mod:`app.services`) and stored jobs, which lie above compute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple, cast

from app.compute.network_registry import load_road_network
from app.core.config import Settings
from app.core.logs import configure_logging
from app.jobs.execute import ResultMaker, execute_job
from app.schemas import OptimisationResponse
from app.services import evaluation as evaluation_service
from app.services import optimisation as service
from app.store import Store
from solver.problem import Problem, ProblemError, SolveOptions
from solver.solution import RoutePlan

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

_Args = TypeVarTuple("_Args")
_Result = TypeVar("_Result")

WORKER_START_TIMEOUT_S = 300.0
"""Seconds a new worker may take to load the road network before it is given up."""
WORKER_STOP_TIMEOUT_S = 10.0
"""Seconds :meth:`SolverPool.stop` waits for a terminated worker to exit before killing it."""
RESPAWN_FIRST_DELAY_S = 1.0
RESPAWN_MAX_DELAY_S = 60.0
"""Back-off, in seconds, between failed attempts to start a replacement worker."""


class WorkersUnavailableError(RuntimeError):
    """The solver workers are not running (the service is starting or stopping)."""


class SolverFailureError(RuntimeError):
    """A solve failed inside a worker for a reason that is no fault of the input."""


class WorkerDiedError(SolverFailureError):
    """The worker process doing the work died (killed, crashed or ended) before answering.

    The message says how, e.g. ``the solver worker process (pid 4242) died (signal 9, SIGKILL)``.
    """


# --------------------------------------------------------------------------- inside a worker

_worker_network: RoadNetwork | None = None
"""The road network of this worker process (set by :func:`_init_worker`; unused in the server process)."""


def _init_worker(network_file: Path, cache_dir: Path, log_level: str) -> None:
    """Set up a fresh worker process: logging, then the road network (from the cache)."""
    global _worker_network
    configure_logging(log_level)
    _worker_network = load_road_network(network_file, cache_dir=cache_dir)


def _worker_main(connection: Connection, network_file: Path, cache_dir: Path, log_level: str) -> None:
    """A worker's life: load the network, say ``("ready", pid)``, then run tasks until told to stop.

    Each task arrives as ``(function, args)`` and is answered ``("ok", value)`` or
    ``("error", message)``; ``None`` or a closed pipe (the server has gone) ends the
    worker. Ctrl-C is left to the server, which stops its workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.set_blocking(connection.fileno(), True)
    _init_worker(network_file, cache_dir, log_level)
    connection.send(("ready", os.getpid()))
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        function, args = task
        try:
            reply: tuple[str, object] = ("ok", function(*args))
        except SolverFailureError as exc:
            reply = ("error", str(exc))
        except Exception as exc:  # answered as text with the worker's traceback: the worker lives on
            reply = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a worker sends back: the answer, or the fields of a ``ProblemError``.

    (``ProblemError`` itself cannot cross the process boundary: its keyword-only
    arguments do not survive pickling.)
    """

    response: OptimisationResponse | None = None
    problem_error: tuple[str, str, str | None] | None = None


def _run_in_worker(work: Callable[[RoadNetwork], OptimisationResponse]) -> _Outcome:
    """Run ``work`` on this worker's network, turning a ``ProblemError`` into something picklable."""
    if _worker_network is None:
        raise SolverFailureError("worker started without a road network")
    try:
        return _Outcome(response=work(_worker_network))
    except ProblemError as exc:
        return _Outcome(problem_error=(str(exc), exc.field, exc.item_id))


def _solve_in_worker(problem: Problem, options: SolveOptions, snap_limit_m: float) -> _Outcome:
    """Run one solve on this worker's network."""
    return _run_in_worker(lambda network: service.solve(problem, options, network, snap_limit_m=snap_limit_m))


def _evaluate_in_worker(problem: Problem, routes: Sequence[RoutePlan], options: SolveOptions,
                        snap_limit_m: float) -> _Outcome:
    """Evaluate one plan made by a person on this worker's network."""
    return _run_in_worker(lambda network: evaluation_service.evaluate(problem, routes, options, network,
                                                                      snap_limit_m=snap_limit_m))


_worker_stores: dict[str, Store] = {}
"""This worker's connections to the store, by database URL (opened at a worker's first job)."""


def _job_in_worker(settings: Settings, tenant: str, job_id: str, makers: Mapping[str, ResultMaker]) -> str:
    """Run the stored job ``job_id`` of ``tenant`` on this worker's network; its final status.

    The worker reads the job's problem from the store, writes progress there while the
    search runs (and stops it when a cancellation is asked for), and writes the plan and
    the job's outcome in one transaction (:func:`app.jobs.execute.execute_job`).
    """
    if _worker_network is None:
        raise SolverFailureError("worker started without a road network")
    db = _worker_stores.get(settings.database_url)
    if db is None:
        db = _worker_stores[settings.database_url] = Store.from_settings(settings)
    return execute_job(db, settings, tenant, job_id, _worker_network, makers)


# --------------------------------------------------------------------------- in the server


def describe_death(pid: int, exitcode: int | None) -> str:
    """How a worker process ended, in words: ``... died (signal 9, SIGKILL)`` or ``... exited with status 1``."""
    who = f"the solver worker process (pid {pid})"
    if exitcode is None:
        return f"{who} closed its connection without answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"{who} died (signal {-exitcode}, {name})"
    return f"{who} exited with status {exitcode}"


@dataclass(eq=False, slots=True)
class _Worker:
    """One worker process as the server sees it: the process, its end of the pipe, what it is doing."""

    process: BaseProcess
    connection: Connection
    pid: int
    task: str | None = field(default=None)


class SolverPool:
    """Long-lived worker processes that run solves for the server, one task per worker at a time.

    Creating a pool does nothing; :meth:`start` (in the application's lifespan,
    after the network is loaded and cached) starts the workers and waits until each
    has loaded the network; :meth:`stop` ends them. A worker that dies is replaced.
    """

    def __init__(self, *, network_file: Path, cache_dir: Path, workers: int, log_level: str) -> None:
        """Remember how to start the workers; start none yet."""
        self.network_file = network_file
        self.cache_dir = cache_dir
        self.workers = workers
        self.log_level = log_level
        self._context = multiprocessing.get_context("spawn")
        self._live: dict[int, _Worker] = {}
        self._idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        self._background: set[asyncio.Task[None]] = set()
        self._started = False
        self._in_flight = 0

    # ----------------------------------------------------------------- life cycle

    async def start(self) -> None:
        """Start the workers and wait until every one has loaded the network."""
        if self._started:
            return
        self._idle = asyncio.Queue()
        started = await asyncio.gather(*(self._spawn() for _ in range(self.workers)), return_exceptions=True)
        failed = [outcome for outcome in started if isinstance(outcome, BaseException)]
        ready = [outcome for outcome in started if isinstance(outcome, _Worker)]
        if failed:
            for worker in ready:
                await asyncio.to_thread(_end, worker)
            raise RuntimeError(f"solver workers failed to start ({failed[0]}); see the log above") from failed[0]
        for worker in ready:
            self._live[worker.pid] = worker
            self._idle.put_nowait(worker)
        self._started = True
        logger.info("%d solver worker process(es) ready: %s", self.workers, self.worker_pids)

    async def stop(self) -> None:
        """End the workers, those in the middle of a solve included (their work fails)."""
        if not self._started:
            return
        self._started = False
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._idle.put_nowait(None)  # wakes whoever waits for a worker: the pool is closed
        workers, self._live = list(self._live.values()), {}
        await asyncio.gather(*(asyncio.to_thread(_end, worker) for worker in workers))
        for worker in workers:
            if worker.task is None:
                worker.connection.close()

    async def _spawn(self) -> _Worker:
        """Start one worker process and wait until it has loaded the network."""
        parent, child = self._context.Pipe(duplex=True)
        for end in (parent, child):  # a socket default timeout set by any library would make them non-blocking
            os.set_blocking(end.fileno(), True)
        process = self._context.Process(target=_worker_main, name="wasteroute-solver",
                                        args=(child, self.network_file, self.cache_dir, self.log_level))
        await asyncio.to_thread(process.start)
        child.close()
        assert process.pid is not None
        worker = _Worker(process=process, connection=parent, pid=process.pid, task="starting")
        try:
            kind, pid = await asyncio.wait_for(self._receive(worker), timeout=WORKER_START_TIMEOUT_S)
        except BaseException:
            await asyncio.to_thread(_end, worker)
            parent.close()
            raise
        if kind != "ready" or pid != worker.pid:
            await asyncio.to_thread(_end, worker)
            parent.close()
            raise SolverFailureError(f"solver worker {worker.pid} answered {kind!r} instead of being ready")
        worker.task = None
        return worker

    def _replace(self, dead: _Worker) -> None:
        """Forget the dead worker and start a replacement in the background (while the pool runs)."""
        self._live.pop(dead.pid, None)
        dead.connection.close()
        with contextlib.suppress(ValueError):  # frees its sentinel; refused (ValueError) if not yet reaped
            dead.process.close()
        if not self._started:
            return
        task = asyncio.create_task(self._respawn(), name=f"respawn-after-{dead.pid}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _respawn(self) -> None:
        """Start a replacement worker, retrying with back-off while starting fails."""
        delay = RESPAWN_FIRST_DELAY_S
        while self._started:
            try:
                worker = await self._spawn()
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._started:
                    return
                logger.exception("could not start a replacement solver worker; trying again in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESPAWN_MAX_DELAY_S)
                continue
            if not self._started:
                await asyncio.to_thread(_end, worker)
                return
            self._live[worker.pid] = worker
            self._idle.put_nowait(worker)
            logger.info("replacement solver worker %d ready", worker.pid)
            return

    # ----------------------------------------------------------------- what runs

    @property
    def running(self) -> int:
        """Solves being worked on now."""
        return min(self._in_flight, self.workers)

    @property
    def queued(self) -> int:
        """Solves waiting for a free worker."""
        return max(0, self._in_flight - self.workers)

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers, sorted (a replacement still starting is not among them)."""
        return sorted(self._live)

    def pid_of(self, task: str) -> int | None:
        """The process id of the worker doing ``task`` (``"job <id>"``, ``"solve"``, ``"evaluation"``), if any."""
        return next((pid for pid, worker in self._live.items() if worker.task == task), None)

    async def solve(self, problem: Problem, options: SolveOptions, *, snap_limit_m: float) -> OptimisationResponse:
        """Solve in a worker and return the answer; the event loop stays free meanwhile.

        Raises :class:`ProblemError` for faults of the input found while solving
        (a depot off the network, say), :class:`WorkersUnavailableError` before
        :meth:`start`, :class:`WorkerDiedError` when the worker dies (it is replaced for
        the next requests) and :class:`SolverFailureError` when the solver fails.
        """
        return await self._run("solve", _solve_in_worker, problem, options, snap_limit_m)

    async def evaluate(self, problem: Problem, routes: Sequence[RoutePlan], options: SolveOptions, *,
                       snap_limit_m: float) -> OptimisationResponse:
        """Evaluate a plan made by a person in a worker and return the answer, as :meth:`solve` does."""
        return await self._run("evaluation", _evaluate_in_worker, problem, routes, options, snap_limit_m)

    async def run_job(self, settings: Settings, tenant: str, job_id: str,
                      makers: Mapping[str, ResultMaker] | None = None) -> str:
        """Run the stored job ``job_id`` of ``tenant`` in a worker; its final status (``makers``:
        see :func:`app.jobs.execute.execute_job`).

        The worker reports progress and the outcome through the store at
        ``settings.database_url``. Raises :class:`WorkersUnavailableError` before
        :meth:`start`, :class:`WorkerDiedError` when the worker dies and
        :class:`SolverFailureError` when the job could not be run (its store unreachable).
        """
        status: str = await self._submit(f"job {job_id}", _job_in_worker, settings, tenant, job_id,
                                              dict(makers or {}))
        return status

    async def _run(self, task: str, function: Callable[[*_Args], _Outcome], *args: *_Args) -> OptimisationResponse:
        """Run ``function(*args)`` in a worker (see :meth:`solve` for the errors)."""
        outcome: _Outcome = await self._submit(task, function, *args)
        if outcome.problem_error is not None:
            message, field_name, item_id = outcome.problem_error
            raise ProblemError(message, field=field_name, item_id=item_id)
        assert outcome.response is not None
        return outcome.response

    async def _submit(self, task: str, function: Callable[[*_Args], _Result], *args: *_Args) -> _Result:
        """``function(*args)`` run in the next free worker, labelled ``task``; its return value."""
        if not self._started:
            raise WorkersUnavailableError("the service is starting: its solver workers are not ready yet")
        self._in_flight += 1
        try:
            worker = await self._send(task, function, args)
            reply = asyncio.ensure_future(self._receive(worker))
            try:  # shielded: a caller giving up must not cut a reply off half read
                kind, value = await asyncio.shield(reply)
            except asyncio.CancelledError:
                self._drain_later(worker, reply)
                raise
            except WorkerDiedError as exc:
                logger.error("%s; the %s it was doing failed, a replacement worker is starting", exc, task)
                self._replace(worker)
                raise
            self._release(worker)
            if kind == "error":
                raise SolverFailureError(str(value))
            return cast(_Result, value)  # what ``function`` returned, back through the pipe
        finally:
            self._in_flight -= 1

    async def _send(self, task: str, function: Callable[..., object], args: tuple[object, ...]) -> _Worker:
        """Hand ``function(*args)`` to the next free worker; that worker.

        A worker found dead while idle (its pipe broken) is replaced and the next one
        taken: nothing had started, so nothing is lost.
        """
        while True:
            worker = await self._idle.get()
            if worker is None:
                self._idle.put_nowait(None)
                raise WorkersUnavailableError("the service is stopping: its solver workers have ended")
            worker.task = task
            try:  # sent from the loop itself: a task is small, and an idle worker reads it at once
                # A dead worker's pipe does not always refuse the task: a replacement being spawned
                # holds copies of every descriptor between its fork and its exec, so the process
                # itself is asked first (is_alive reaps a dead one without blocking).
                if not worker.process.is_alive():
                    raise BrokenPipeError(f"solver worker {worker.pid} has ended")
                worker.connection.send((function, args))
            except OSError:  # the pipe is broken: the worker died while idle
                logger.error("%s while idle; a replacement worker is starting", await self._death(worker))
                self._replace(worker)
                continue
            except Exception:  # the task could not be pickled: nothing was sent
                self._release(worker)
                raise
            if task.startswith("job "):
                logger.info("%s runs in solver worker %d", task, worker.pid)
            return worker

    def _release(self, worker: _Worker) -> None:
        """Hand a worker that has answered back to the free ones."""
        worker.task = None
        if self._started and worker.pid in self._live:
            self._idle.put_nowait(worker)

    def _drain_later(self, worker: _Worker, reply: asyncio.Future[tuple[str, object]]) -> None:
        """The caller gave up on ``worker``'s answer: take it (``reply``) when it comes, then free the worker."""
        async def drain() -> None:
            try:
                await reply
            except (WorkerDiedError, OSError) as exc:
                logger.error("solver worker %d died after its work was abandoned: %s", worker.pid, exc)
                self._replace(worker)
                return
            self._release(worker)

        task = asyncio.create_task(drain(), name=f"drain-{worker.pid}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _receive(self, worker: _Worker) -> tuple[str, object]:
        """The worker's next message; raises :class:`WorkerDiedError` if its process ends first.

        Waits on the event loop for the pipe or the process sentinel to become readable
        (no thread is held during a solve), then reads the message in a thread (in
        blocking mode again: uvloop, which uvicorn uses when installed, makes a watched
        descriptor non-blocking).
        """
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)

        descriptors = (worker.connection.fileno(), worker.process.sentinel)
        for descriptor in descriptors:
            loop.add_reader(descriptor, wake)
        try:
            await readable
        finally:
            for descriptor in descriptors:
                loop.remove_reader(descriptor)
            with contextlib.suppress(OSError):  # uvloop's add_reader made the pipe non-blocking
                os.set_blocking(worker.connection.fileno(), True)
        with contextlib.suppress(EOFError, OSError):
            if worker.connection.poll():
                message: tuple[str, object] = await asyncio.to_thread(worker.connection.recv)
                return message
        raise WorkerDiedError(await self._death(worker))

    async def _death(self, worker: _Worker) -> str:
        """How ``worker`` ended (waiting briefly for its process to be reaped)."""
        await asyncio.to_thread(worker.process.join, WORKER_STOP_TIMEOUT_S)
        return describe_death(worker.pid, worker.process.exitcode)


def _end(worker: _Worker) -> None:
    """Stop a worker now (SIGTERM, then SIGKILL if it lingers). Blocking.

    Its pipe is left open: a task waiting for the worker's answer sees the process end
    and closes it (:meth:`SolverPool._replace`); an idle worker's pipe is closed by the caller.
    """
    process = worker.process
    if process.is_alive():
        process.terminate()
        process.join(WORKER_STOP_TIMEOUT_S)
    if process.is_alive():
        process.kill()
        process.join(WORKER_STOP_TIMEOUT_S)
