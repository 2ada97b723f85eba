"""Who a request acts as: the :class:`Principal` (tenant, person, roles) and the :data:`PrincipalDep` dependency.

The authentication middleware (:class:`app.api.auth.ApiKeyMiddleware`) puts a principal on
``request.state.principal`` for every request it lets through to a closed path. Handlers
that need to know *who* (an approval, the audit trail) or *may they* (roles) take
:data:`PrincipalDep`; handlers that only need the council keep taking
:data:`app.api.tenancy.TenantDep`, which is the principal's tenant.

Roles (issue 19, ``../shared/API.md`` "People and roles"):

- ``viewer`` reads plans and reports;
- ``planner`` uploads, optimises, stores plans and runs reviews;
- ``approver`` approves plans and weeks;
- ``admin`` manages users, keys and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, HTTPException
from starlette.requests import Request

from app.api.deps import SettingsDep

VIEWER: Final = "viewer"
PLANNER: Final = "planner"
APPROVER: Final = "approver"
ADMIN: Final = "admin"
ROLES: Final = (VIEWER, PLANNER, APPROVER, ADMIN)
"""Every role, least to most trusted (a closed list: docs/api.md and the contract test)."""
TENANT_KEY_ROLES: Final = frozenset((VIEWER, PLANNER))
"""What a tenant key (a key of no user, ``wasteroute keys create``) may do: read and plan, never approve or
manage users, since it names no person."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The person (or key) a request acts as.

    ``user_id`` is ``None`` for a key that belongs to no user (a tenant key from before
    users existed) and when keys are not required; ``name`` is what the audit log and an
    approval record; ``via`` says how the request proved it (``api_key``, ``jwt``, ``open``).
    """

    tenant: str
    user_id: str | None
    name: str
    roles: frozenset[str]
    via: str

    def has(self, role: str) -> bool:
        """Whether the principal holds ``role``."""
        return role in self.roles


def open_principal(tenant: str) -> Principal:
    """The principal of every request when keys are not required (``WASTEROUTE_AUTH_REQUIRED=false``)."""
    return Principal(tenant=tenant, user_id=None, name="anonymous", roles=frozenset(ROLES), via="open")


def get_principal(request: Request, settings: SettingsDep) -> Principal:
    """FastAPI dependency: the principal the current request acts as (401 when there is none)."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    if not settings.auth_required:
        return open_principal(settings.default_tenant)
    raise HTTPException(status_code=401, detail="an API key is required for this path",
                        headers={"WWW-Authenticate": 'Bearer realm="wasteroute"'})


PrincipalDep = Annotated[Principal, Depends(get_principal)]
