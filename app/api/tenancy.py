"""Which tenant (council) a request acts for: the :data:`TenantDep` dependency.

The tenant comes from the request's API key, resolved by
:class:`app.api.auth.ApiKeyMiddleware` before the request reaches a handler (which puts it
on ``request.state.tenant``). With ``WASTEROUTE_AUTH_REQUIRED=false`` every request is
``Settings.default_tenant``. Handlers and the store take the tenant from here and
filter every record by it, so another tenant's id answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import Request

from app.api.deps import SettingsDep


def get_tenant(request: Request, settings: SettingsDep) -> str:
    """FastAPI dependency: the tenant the current request acts for.

    A request the key check let through without a tenant (a path it leaves open) is
    refused with 401 when keys are required, rather than acting for some default tenant.
    """
    tenant = getattr(request.state, "tenant", None)
    if isinstance(tenant, str):
        return tenant
    if not settings.auth_required:
        return settings.default_tenant
    raise HTTPException(status_code=401, detail="an API key is required for this path",
                        headers={"WWW-Authenticate": 'Bearer realm="wasteroute"'})


TenantDep = Annotated[str, Depends(get_tenant)]
