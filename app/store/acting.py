"""Who the audit log names when its caller does not: the person the current request (or command) acts as.

Most audit lines are written deep in the store (a job created by the job runner, a plan stored by a
service) by code that was written before requests had a person behind them and that several parts of
the service share. Rather than thread the person through each of those signatures, the API binds it
once per request (:func:`app.api.acting.bind_actor`) in a :class:`~contextvars.ContextVar`;
:func:`app.store.repository.append_audit` reads it when it is given no actor, or the placeholder
:data:`REQUEST_PLACEHOLDER` that the older callers pass. A context variable follows the request into
``asyncio.to_thread`` (how :meth:`app.store.Store.run` reaches the database) and into tasks the request
starts, but not into the job runner's own tasks (started with the service), whose lines stay
``system``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Final

SYSTEM: Final = "system"
"""The actor of a line written with nobody behind it (a job's worker, the nightly batch)."""
REQUEST_PLACEHOLDER: Final = "api"
"""The actor older callers pass for "whoever made the request": replaced by the person when known."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or key) the audit log names: ``name`` as shown, ``user_id`` when a user stands behind it."""

    name: str
    user_id: str | None = None


_ACTING: ContextVar[Actor | None] = ContextVar("wasteroute_acting", default=None)


def acting() -> Actor | None:
    """The actor bound to the current context, or ``None``."""
    return _ACTING.get()


def bind(actor: Actor | None) -> Token[Actor | None]:
    """Bind ``actor`` to the current context (``None``: nobody) until :func:`unbind` of the token."""
    return _ACTING.set(actor)


def unbind(token: Token[Actor | None]) -> None:
    """Undo the :func:`bind` that gave ``token``."""
    _ACTING.reset(token)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Audit lines written inside the block name ``actor`` (for commands and tests)."""
    token = bind(actor)
    try:
        yield
    finally:
        unbind(token)


def resolve(actor: str | None) -> tuple[str, str | None]:
    """``(name, user_id)`` a line written with ``actor`` records: the bound person for ``None`` or the
    placeholder, else ``actor`` itself (with the bound person's user id when it is that person)."""
    bound = acting()
    if actor is None or actor == REQUEST_PLACEHOLDER:
        if bound is not None:
            return bound.name, bound.user_id
        return actor or SYSTEM, None
    if bound is not None and bound.name == actor:
        return actor, bound.user_id
    return actor, None
