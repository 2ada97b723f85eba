"""Binds the person a request acts as to the audit log (:mod:`app.store.acting`) for the whole request.

:func:`bind_actor` is a dependency of every ``/api/v1`` route (:data:`app.api.api_router`): it reads the
principal the key check put on the request, when there is one, so the audit lines the request writes
anywhere below name that person. It asks for nothing itself, so the open paths stay open.
"""

from __future__ import annotations

from starlette.requests import Request

from app.api.principal import Principal
from app.store.acting import Actor, bind


async def bind_actor(request: Request) -> None:
    """Bind the request's principal (or nobody) for the rest of the request.

    An ``async`` dependency runs in the request's own task, as the route does, so what it binds is
    what the route (and the threads it hands store work to) sees; each request runs in a task of
    its own, so nothing carries over to the next.
    """
    principal = getattr(request.state, "principal", None)
    bind(Actor(principal.name, principal.user_id) if isinstance(principal, Principal) else None)
