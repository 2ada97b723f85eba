"""Who a request acts as (app/api/principal.py): the principal the middleware puts on a request."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.principal import ROLES, Principal, PrincipalDep, open_principal
from app.core.config import Settings


def test_open_principal_holds_every_role() -> None:
    """Without keys every request is the default tenant's anonymous principal, with every role."""
    principal = open_principal("demo")
    assert principal.tenant == "demo" and principal.user_id is None and principal.via == "open"
    assert all(principal.has(role) for role in ROLES)


@pytest.mark.parametrize("auth_required,status", [(True, 401), (False, 200)])
def test_principal_dependency_without_middleware(auth_required: bool, status: int) -> None:
    """A request that no middleware vouched for is refused when keys are required (401), and
    acts as the open principal when they are not."""
    from app.api.deps import get_settings

    app = FastAPI()

    @app.get("/who")
    def who(principal: PrincipalDep) -> dict[str, str]:
        """The principal's name."""
        assert isinstance(principal, Principal)
        return {"name": principal.name}

    app.dependency_overrides[get_settings] = lambda: Settings(auth_required=auth_required)
    answer = TestClient(app).get("/who")
    assert answer.status_code == status
    if status == 200:
        assert answer.json() == {"name": "anonymous"}
