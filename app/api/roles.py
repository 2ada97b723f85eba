"""Roles enforced on every route: :func:`require` and the OpenAPI document that names each route's role.

Each route of the API takes ``**needs(ROLE)`` (``dependencies=[require(ROLE)]`` and the OpenAPI note):

- ``viewer``: reading (every ``GET``);
- ``planner``: uploading, optimising, storing plans, running reviews, actual days, evaluations,
  reports and exports, cancelling jobs;
- ``approver``: approving plans and weeks;
- ``admin``: managing users and their keys.

Every role lets its holder read (a planner, approver or admin needs no ``viewer`` besides), but no
other role includes another: an admin who should approve holds ``approver`` too, and a planner never
approves (:func:`holds`). A principal without the role gets **403** in the error shape of
:mod:`app.core.faults` naming the role needed (``type`` ``role_required``), and the refusal goes to
the tenant's audit log (:mod:`app.api.refusals`). :func:`needs` writes each operation's role
into the OpenAPI document as ``x-required-role`` with its 403 answer (routes take :func:`needs`, which
gives both), so a test can check that no closed operation is left without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from fastapi import Depends, HTTPException
from fastapi.params import Depends as DependsParam
from sqlalchemy.orm import Session
from starlette.requests import Request

from app import store
from app.api.deps import StoreDep
from app.api.principal import ROLES, VIEWER, Principal, PrincipalDep
from app.api.refusals import record_refusal
from app.core.faults import error_item

T = TypeVar("T")

FORBIDDEN: Final = 403
ROLE_EXTENSION: Final = "x-required-role"
"""The OpenAPI extension naming the role an operation needs."""
ALSO_EXTENSION: Final = "x-also-allowed"
"""The OpenAPI extension listing the other roles that may call an operation instead."""


def forbidden(principal: Principal, msg: str, *, type_: str) -> HTTPException:
    """A 403 in the error shape of :mod:`app.core.faults`, at the credentials (``loc`` the Authorization header)."""
    item = error_item(loc=("header", "Authorization"), item_id=principal.user_id, msg=msg, type_=type_)
    return HTTPException(status_code=FORBIDDEN, detail=[item])


def holds(principal: Principal, role: str) -> bool:
    """Whether ``principal`` may act as ``role``: it holds it, or ``role`` is ``viewer`` and it holds any role."""
    return principal.has(role) or (role == VIEWER and bool(principal.roles))


def require(role: str, *also: str) -> DependsParam:
    """A dependency letting through principals holding ``role`` or one of ``also`` (403, recorded, for the others)."""
    wanted = (role, *also)
    for name in wanted:
        if name not in ROLES:
            raise ValueError(f"{name!r} is not a role ({', '.join(ROLES)})")
    named = " or ".join(repr(name) for name in wanted)

    async def check(request: Request, principal: PrincipalDep, db: StoreDep) -> Principal:
        if any(holds(principal, name) for name in wanted):
            return principal
        held = ", ".join(sorted(principal.roles)) or "none"
        reason = f"the role {named} is needed (this key acts as {principal.name!r}, roles: {held})"
        await record_refusal(db, principal, method=request.method, path=request.url.path, status=FORBIDDEN,
                             reason=reason)
        raise forbidden(principal, reason, type_="role_required")

    dependency: DependsParam = Depends(check)
    return dependency


def needs(role: str, *also: str) -> dict[str, Any]:
    """A route's keyword arguments requiring ``role`` (or one of ``also``): ``@router.post("", **needs(PLANNER))``.

    The dependency (:func:`require`) and the OpenAPI document's ``x-required-role`` (the first role;
    ``x-also-allowed`` lists the others) and 403 answer come from this one place, so what is
    documented is what is enforced.
    """
    extra: dict[str, Any] = {ROLE_EXTENSION: role, "responses": {str(FORBIDDEN): _forbidden_response(role)}}
    if also:
        extra[ALSO_EXTENSION] = list(also)
    return {"dependencies": [require(role, *also)], "openapi_extra": extra}


def _forbidden_response(role: str) -> dict[str, Any]:
    """OpenAPI description of the 403 answer of an operation needing ``role``."""
    return {"description": f"The key's person lacks the role {role!r} (type role_required), or an approval the "
                           "four-eyes rule refuses (type four_eyes).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorResponse"}}}}


async def approving(db: store.Store, principal: Principal, request: Request, work: Callable[[Session], T]) -> T:
    """Run an approval's store ``work`` for ``principal``: a plan approved already answers 409, and one
    the four-eyes rule refuses a 403 ``four_eyes``, recorded as a refused access (every approval route
    answers both alike)."""
    try:
        return await db.run(work)
    except store.ConflictError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except store.FourEyesError as exc:
        await record_refusal(db, principal, method=request.method, path=request.url.path, status=FORBIDDEN,
                             reason=str(exc))
        raise forbidden(principal, str(exc), type_="four_eyes") from exc
