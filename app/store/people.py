"""The people of a tenant (council) and their roles: users, and the API keys that act as them.

Every function takes ``(session, tenant, ...)`` and only sees that tenant's users (another
tenant's user id gives ``None``), and writes what it changes to the tenant's audit log in the
name of ``actor``. Roles are names from :data:`app.store.models.ROLE_NAMES`; an unknown name
raises :class:`UnknownRoleError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.json_types import JSONValue
from app.store.models import ROLE_NAMES, ApiKeyRecord, UserRecord, utc_now
from app.store.repository import append_audit, create_api_key, ensure_tenant, revoke_api_key


class UnknownRoleError(ValueError):
    """A role name that is not one of :data:`~app.store.models.ROLE_NAMES` (``role`` says which)."""

    def __init__(self, role: str) -> None:
        super().__init__(f"{role!r} is not a role (roles: {', '.join(ROLE_NAMES)})")
        self.role = role


def checked_roles(roles: Iterable[str]) -> list[str]:
    """``roles`` without repeats, in :data:`ROLE_NAMES` order; :class:`UnknownRoleError` for a name not in it."""
    wanted = set()
    for role in roles:
        if role not in ROLE_NAMES:
            raise UnknownRoleError(role)
        wanted.add(role)
    return [role for role in ROLE_NAMES if role in wanted]


def create_user(session: Session, tenant: str, *, name: str, roles: Iterable[str], email: str | None = None,
                actor: str = "cli") -> UserRecord:
    """A new user of ``tenant`` (created if new) called ``name`` holding ``roles``; logged as ``user.create``."""
    held = checked_roles(roles)
    ensure_tenant(session, tenant)
    user = UserRecord(tenant_id=tenant, name=name, email=email, roles=held)
    session.add(user)
    session.flush()
    append_audit(session, tenant, actor=actor, action="user.create", subject_type="user", subject_id=user.id,
                 details={"name": name, "roles": list(held)})
    return user


def get_user(session: Session, tenant: str, user_id: str) -> UserRecord | None:
    """The tenant's user ``user_id``, or ``None``."""
    return session.scalar(select(UserRecord).where(UserRecord.tenant_id == tenant, UserRecord.id == user_id))


def list_users(session: Session, tenant: str) -> list[UserRecord]:
    """The tenant's users, oldest first (disabled ones included)."""
    return list(session.scalars(select(UserRecord).where(UserRecord.tenant_id == tenant)
                                .order_by(UserRecord.created_at, UserRecord.id)))


def disable_user(session: Session, tenant: str, user_id: str, *, actor: str = "cli") -> UserRecord | None:
    """Disable the tenant's user ``user_id`` (their keys stop working at once); ``None`` if no such user."""
    user = get_user(session, tenant, user_id)
    if user is None:
        return None
    if user.disabled_at is None:
        user.disabled_at = utc_now()
        session.flush()
        append_audit(session, tenant, actor=actor, action="user.disable", subject_type="user", subject_id=user.id,
                     details={"name": user.name})
    return user


def change_roles(session: Session, tenant: str, user_id: str, *, grant: Iterable[str] = (),
                 revoke: Iterable[str] = (), actor: str = "cli") -> UserRecord | None:
    """Grant and revoke roles of the tenant's user ``user_id``; ``None`` if no such user. Logged as
    ``user.roles`` with the roles before and after."""
    granted, revoked = checked_roles(grant), checked_roles(revoke)
    user = get_user(session, tenant, user_id)
    if user is None:
        return None
    before = list(user.roles)
    user.roles = checked_roles([role for role in [*before, *granted] if role not in revoked])
    session.flush()
    append_audit(session, tenant, actor=actor, action="user.roles", subject_type="user", subject_id=user.id,
                 details={"name": user.name, "before": before, "after": list(user.roles),
                          "granted": list[JSONValue](granted), "revoked": list[JSONValue](revoked)})
    return user


def create_user_key(session: Session, tenant: str, user_id: str, *, name: str | None = None,
                    actor: str = "cli") -> tuple[ApiKeyRecord, str] | None:
    """A new API key acting as the tenant's user ``user_id`` (the key shown once); ``None`` if no such user."""
    user = get_user(session, tenant, user_id)
    if user is None:
        return None
    return create_api_key(session, tenant, name=name or user.name, actor=actor, user_id=user.id)


def list_user_keys(session: Session, tenant: str, user_id: str) -> list[ApiKeyRecord]:
    """The keys of the tenant's user ``user_id``, oldest first."""
    return list(session.scalars(select(ApiKeyRecord).where(ApiKeyRecord.tenant_id == tenant,
                                                           ApiKeyRecord.user_id == user_id)
                                .order_by(ApiKeyRecord.created_at)))


def revoke_user_key(session: Session, tenant: str, user_id: str, key_id: str, *,
                    actor: str = "cli") -> ApiKeyRecord | None:
    """Revoke the key ``key_id`` of the tenant's user ``user_id``; ``None`` if the user has no such key."""
    record = session.get(ApiKeyRecord, key_id)
    if record is None or record.tenant_id != tenant or record.user_id != user_id:
        return None
    return revoke_api_key(session, tenant, key_id, actor=actor)


def key_user(session: Session, record: ApiKeyRecord) -> UserRecord | None:
    """The user a key acts as (``None`` for a tenant key)."""
    return None if record.user_id is None else get_user(session, record.tenant_id, record.user_id)
