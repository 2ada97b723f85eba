"""``/api/v1/users`` (role admin): the people of the caller's tenant, their roles and keys; ``/api/v1/me``.

An admin lists, creates and disables the users of their own tenant, grants and revokes their roles,
and creates and revokes their keys (a new key is shown once, in the answer that creates it). Another
tenant's user id answers 404 (recorded as a refusal); an unknown role name 422 naming the field; a
non-admin 403 naming the role. ``GET /api/v1/me`` answers any signed-in caller who they are and
their roles, for the map. Every change goes to the tenant's audit log in the admin's name.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session

from app import store
from app.api.deps import SettingsDep, StoreDep
from app.api.principal import ADMIN, ROLES, VIEWER, Principal, PrincipalDep
from app.api.refusals import record_refusal
from app.api.roles import needs
from app.schemas import MessageErrorResponse, ValidationErrorResponse
from app.schemas.users import (
    MeResponse,
    RolesIn,
    UserIn,
    UserKeyIn,
    UserKeyListResponse,
    UserKeyOut,
    UserListResponse,
    UserOut,
)

router = APIRouter(tags=["people and roles"])

NOT_FOUND = {"model": MessageErrorResponse, "description": "No user (or key) of this id in the caller's tenant."}
INVALID = {"model": ValidationErrorResponse, "description": "An unknown role name or a bad field, named."}


def _user_out(user: store.UserRecord) -> UserOut:
    """A user record as the API shows it."""
    return UserOut.model_validate({"id": user.id, "tenant": user.tenant_id, "name": user.name, "email": user.email,
                                   "roles": list(user.roles), "disabled_at": user.disabled_at,
                                   "created_at": user.created_at})


def _key_out(record: store.ApiKeyRecord, key: str | None = None) -> UserKeyOut:
    """A user's key record as the API shows it (``key`` only when it was just made)."""
    assert record.user_id is not None
    return UserKeyOut(id=record.id, user_id=record.user_id, prefix=record.prefix, name=record.name,
                      created_at=record.created_at, revoked_at=record.revoked_at, api_key=key)


async def _not_found(db: store.Store, principal: Principal, request: Request, user_id: str) -> HTTPException:
    """404 naming the user id; recorded as a refusal when the id is another tenant's user."""
    owner = await db.run(lambda session: session.get(store.UserRecord, user_id))
    if owner is not None and owner.tenant_id != principal.tenant:
        await record_refusal(db, principal, method=request.method, path=request.url.path, status=404,
                             reason=f"user {user_id!r} belongs to another tenant")
    return HTTPException(status_code=404, detail=f"user {user_id!r} not found")


@router.get("/me", response_model=MeResponse, summary="Who am I: the signed-in person and their roles",
            **needs(VIEWER))
async def read_me(principal: PrincipalDep, settings: SettingsDep) -> MeResponse:
    """The caller's tenant, user id, name, roles and how they signed in, and whether the four-eyes rule is on."""
    return MeResponse.model_validate({"tenant": principal.tenant, "user_id": principal.user_id, "name": principal.name,
                                      "roles": [r for r in ROLES if principal.has(r)], "via": principal.via,
                                      "four_eyes": settings.four_eyes})


@router.get("/users", response_model=UserListResponse, summary="The tenant's users", **needs(ADMIN))
async def list_users(db: StoreDep, principal: PrincipalDep) -> UserListResponse:
    """Every user of the caller's tenant, oldest first, disabled ones included."""
    users = await db.run(lambda session: store.list_users(session, principal.tenant))
    return UserListResponse(users=[_user_out(user) for user in users])


@router.post("/users", status_code=201, response_model=UserOut, summary="Create a user",
             **needs(ADMIN), responses={422: INVALID})
async def create_user(body: UserIn, db: StoreDep, principal: PrincipalDep) -> UserOut:
    """A new user of the caller's tenant holding ``roles`` (give them a key with ``POST /users/{id}/keys``)."""
    user = await db.run(lambda session: store.create_user(session, principal.tenant, name=body.name, email=body.email,
                                                          roles=body.roles, actor=principal.name))
    return _user_out(user)


@router.post("/users/{user_id}/roles", response_model=UserOut, summary="Grant and revoke a user's roles",
             **needs(ADMIN), responses={404: NOT_FOUND, 422: INVALID})
async def change_roles(user_id: str, body: RolesIn, request: Request, db: StoreDep,
                       principal: PrincipalDep) -> UserOut:
    """Grant ``grant`` and take away ``revoke`` (logged with the roles before and after)."""
    user = await db.run(lambda session: store.change_roles(session, principal.tenant, user_id, grant=body.grant,
                                                           revoke=body.revoke, actor=principal.name))
    if user is None:
        raise await _not_found(db, principal, request, user_id)
    return _user_out(user)


@router.post("/users/{user_id}/disable", response_model=UserOut, summary="Disable a user (their keys stop working)",
             **needs(ADMIN), responses={404: NOT_FOUND})
async def disable_user(user_id: str, request: Request, db: StoreDep, principal: PrincipalDep) -> UserOut:
    """Disable the user: every key of theirs answers 401 from now on; the record stays for the audit log."""
    user = await db.run(lambda session: store.disable_user(session, principal.tenant, user_id, actor=principal.name))
    if user is None:
        raise await _not_found(db, principal, request, user_id)
    return _user_out(user)


@router.get("/users/{user_id}/keys", response_model=UserKeyListResponse, summary="A user's keys",
            **needs(ADMIN), responses={404: NOT_FOUND})
async def list_keys(user_id: str, request: Request, db: StoreDep, principal: PrincipalDep) -> UserKeyListResponse:
    """The user's keys, oldest first: id, first characters, name, created, revoked (never the keys)."""
    def read(session: Session) -> list[store.ApiKeyRecord] | None:
        if store.get_user(session, principal.tenant, user_id) is None:
            return None
        return store.list_user_keys(session, principal.tenant, user_id)

    records = await db.run(read)
    if records is None:
        raise await _not_found(db, principal, request, user_id)
    return UserKeyListResponse(keys=[_key_out(record) for record in records])


@router.post("/users/{user_id}/keys", status_code=201, response_model=UserKeyOut, summary="A new key of a user",
             **needs(ADMIN), responses={404: NOT_FOUND, 409: {"model": MessageErrorResponse,
                                                                       "description": "The user is disabled."}})
async def create_key(user_id: str, body: UserKeyIn, request: Request, db: StoreDep,
                     principal: PrincipalDep) -> UserKeyOut:
    """A new key acting as the user; ``api_key`` is the key itself, shown in this answer only."""
    def make(session: Session) -> tuple[store.ApiKeyRecord, str] | str | None:
        user = store.get_user(session, principal.tenant, user_id)
        if user is not None and user.disabled_at is not None:
            return f"user {user_id!r} is disabled: a key of theirs would not work"
        return store.create_user_key(session, principal.tenant, user_id, name=body.name, actor=principal.name)

    made = await db.run(make)
    if isinstance(made, str):
        raise HTTPException(status_code=409, detail=made)
    if made is None:
        raise await _not_found(db, principal, request, user_id)
    return _key_out(*made)


@router.delete("/users/{user_id}/keys/{key_id}", response_model=UserKeyOut, summary="Revoke a key of a user",
               **needs(ADMIN), responses={404: NOT_FOUND})
async def revoke_key(user_id: str, key_id: str, request: Request, db: StoreDep, principal: PrincipalDep) -> UserKeyOut:
    """Revoke the user's key ``key_id``: it answers 401 from now on."""
    record = await db.run(lambda session: store.revoke_user_key(session, principal.tenant, user_id, key_id,
                                                                actor=principal.name))
    if record is None:
        raise await _not_found(db, principal, request, user_id)
    return _key_out(record)
