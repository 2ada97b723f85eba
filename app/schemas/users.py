"""People and roles in the API: users of a tenant, their roles and keys, and who a request is (``/me``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.fields import Id
from app.schemas.requests import InputModel
from app.schemas.responses import OutputModel

RoleName = Literal["viewer", "planner", "approver", "admin"]
"""A role (``app.api.principal.ROLES``): viewer reads, planner plans, approver approves, admin manages people."""


class UserIn(InputModel):
    """A new user of the caller's tenant."""

    name: Id = Field(description="The person's name, as approvals and the audit log show it.")
    email: str | None = Field(default=None, max_length=320, description="The person's e-mail address.")
    roles: list[RoleName] = Field(default_factory=list, max_length=4, description="The roles the user holds.")


class RolesIn(InputModel):
    """Roles to grant and to take away (both may be given; a role in both ends up taken away)."""

    grant: list[RoleName] = Field(default_factory=list, max_length=4)
    revoke: list[RoleName] = Field(default_factory=list, max_length=4)


class UserKeyIn(InputModel):
    """A new key of a user."""

    name: str | None = Field(default=None, min_length=1, max_length=200, description="A label to tell keys apart.")


class UserOut(OutputModel):
    """A user: who they are and what they may do."""

    id: str
    tenant: str
    name: str
    email: str | None
    roles: list[RoleName]
    disabled_at: datetime | None = Field(description="When the user was disabled (their keys stopped working).")
    created_at: datetime


class UserListResponse(OutputModel):
    """The tenant's users, oldest first."""

    users: list[UserOut]


class UserKeyOut(OutputModel):
    """A key of a user; ``api_key`` only in the answer that created it (it is never shown again)."""

    id: str
    user_id: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    name: str | None
    created_at: datetime
    revoked_at: datetime | None
    api_key: str | None = Field(default=None, description="The key itself: shown once, when it is created.")


class UserKeyListResponse(OutputModel):
    """A user's keys (never the keys themselves)."""

    keys: list[UserKeyOut]


class MeResponse(OutputModel):
    """Who the request acts as: the signed-in person (or key) and what they may do."""

    tenant: str
    user_id: str | None = Field(description="The user's id; null for a tenant key or when keys are not required.")
    name: str
    roles: list[RoleName]
    via: str = Field(description="How the request proved who it is: api_key, jwt or open.")
    four_eyes: bool = Field(description="Whether the person who created a plan is refused its approval.")
