"""Who a server process is among the service's replicas, and whether it may claim jobs.

Every server process running the job runner is one *replica*, named by its replica id
(``WASTEROUTE_REPLICA_ID``, else ``<host>:<pid>:<4 hex digits>``, unique even for two
containers whose processes share a pid). The id is written as ``lease_owner`` on the jobs
it runs, so a job's row says which replica runs it.

PostgreSQL lets any number of replicas claim from one queue. A SQLite file is for one
process: :func:`claim_sqlite_queue` takes an exclusive lock on a file beside the database
(``<database>.queue-lock``, holding the pid of its owner) for as long as the runner runs. A
second process on the same file cannot take it: it serves requests and queues jobs but
claims none, and says so in its log (the first process runs them). Apps created in the same
process (tests, notebooks) share the lock.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.config import Settings


def replica_id(settings: Settings) -> str:
    """This process's replica id: ``settings.replica_id`` when set, else ``<host>:<pid>:<4 hex digits>``."""
    if settings.replica_id:
        return settings.replica_id
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def sqlite_queue_lock_path(database_url: str) -> Path | None:
    """The lock file of the job queue in the SQLite file at ``database_url``; ``None`` for another database
    (or an in-memory SQLite, which no other process can open)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    database = Path(url.database).resolve()
    return database.with_name(f"{database.name}.queue-lock")


@dataclass(slots=True)
class _Held:
    """An open, locked lock file of this process and how many runners share it."""

    descriptor: int
    holders: int


_held: dict[Path, _Held] = {}
"""The queue locks this process holds, by lock file."""


@dataclass(frozen=True, slots=True)
class QueueClaim:
    """The outcome of :func:`claim_sqlite_queue`: ``granted`` (``first_in_process`` when no runner of this
    process held it before), or refused with the lock's ``holder`` (a pid)."""

    path: Path
    granted: bool
    holder: str = ""
    first_in_process: bool = False
    """Granted to the first runner of this process: no other runner anywhere holds it, so no job runs."""

    def release(self) -> None:
        """Let go of the lock (when the last runner of this process holding it lets go, the file is unlocked)."""
        if not self.granted:
            return
        held = _held.get(self.path)
        if held is None:
            return
        held.holders -= 1
        if held.holders <= 0:
            del _held[self.path]
            fcntl.flock(held.descriptor, fcntl.LOCK_UN)
            os.close(held.descriptor)


def claim_sqlite_queue(path: Path) -> QueueClaim:
    """Take the job queue lock at ``path`` for this process (shared by the runners of this process);
    refused, naming the holder's pid, when another process holds it."""
    held = _held.get(path)
    if held is not None:
        held.holders += 1
        return QueueClaim(path, granted=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 100, 0).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        return QueueClaim(path, granted=False, holder=holder)
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    _held[path] = _Held(descriptor, 1)
    return QueueClaim(path, granted=True, first_in_process=True)
