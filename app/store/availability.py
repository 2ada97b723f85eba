"""A database that is locked or unreachable for a while: how to recognise it and wait it out.

SQLite answers "database is locked" once another connection has held its write lock
longer than the busy timeout; PostgreSQL refuses connections while it is stopped or
restarting, drops those it had, and gives up waiting for a row lock after
``lock_timeout``. SQLAlchemy raises all of these as
:class:`sqlalchemy.exc.OperationalError` (a connection found dead as a
:class:`~sqlalchemy.exc.DBAPIError` with ``connection_invalidated``), and a connection
pool that stays empty as :class:`sqlalchemy.exc.TimeoutError`.

The API answers them 503 with ``Retry-After`` (:mod:`app.api.errors`); the job runner and
its workers wait them out with :func:`retry_sync` / :func:`retry_async`, so a job is
never lost to a database that is briefly away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
from sqlalchemy import exc as sa_exc

logger = logging.getLogger(__name__)

T = TypeVar("T")

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (sa_exc.OperationalError, sa_exc.TimeoutError,
                                                    psycopg.OperationalError)
"""Exceptions that mean "the database cannot be used just now" rather than "this request is wrong"."""

FIRST_DELAY_S = 0.25
MAX_DELAY_S = 5.0
"""Back-off, in seconds, between attempts while the database is unavailable (doubling from the first)."""


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is locked or unreachable (worth trying again later)."""
    if isinstance(error, UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


def _worth_waiting(error: Exception, *, deadline: float | None, delay: float, what: str) -> bool:
    """Whether to try again after ``delay`` seconds (``error`` is an unavailable database and the
    deadline allows it); logs the wait."""
    if not is_unavailable(error) or (deadline is not None and time.monotonic() + delay > deadline):
        return False
    logger.warning("the database is unavailable while %s (%s); trying again in %.2f s", what,
                   first_line(error), delay)
    return True


def retry_sync(work: Callable[[], T], *, within_s: float, what: str) -> T:
    """``work()``, tried again with back-off while the database is unavailable, for up to ``within_s``
    seconds; then the last error is raised. Other errors are raised at once. Blocking."""
    deadline = time.monotonic() + within_s
    delay = FIRST_DELAY_S
    while True:
        try:
            return work()
        except Exception as error:
            if not _worth_waiting(error, deadline=deadline, delay=delay, what=what):
                raise
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY_S)


async def retry_async(work: Callable[[], Awaitable[T]], *, what: str, within_s: float | None = None) -> T:
    """``await work()``, tried again with back-off while the database is unavailable: for up to
    ``within_s`` seconds, or for as long as it takes (``None``; cancel the task to give up)."""
    deadline = None if within_s is None else time.monotonic() + within_s
    delay = FIRST_DELAY_S
    while True:
        try:
            return await work()
        except Exception as error:
            if not _worth_waiting(error, deadline=deadline, delay=delay, what=what):
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY_S)


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (SQLAlchemy's run on with the statement and a link)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
