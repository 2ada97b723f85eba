"""``wasteroute users``: the people of a tenant (council), their roles and their API keys.

- ``wasteroute users create --tenant T --name "Jo Bloggs" --role planner [--role viewer] [--email E]``:
  a new user; prints their first API key, shown once, as the last word on stdout;
- ``wasteroute users list [--tenant T] [--json]``: id, tenant, name, roles, disabled;
- ``wasteroute users disable ID``: the user's keys stop working at once (the record stays, for the audit log);
- ``wasteroute users roles ID [--grant ROLE]... [--revoke ROLE]...``: change a user's roles;
- ``wasteroute users key ID [--name LABEL]``: another key for the user, printed once as the last word;
- ``wasteroute users demo``: the demo tenant's planner and approver (for ``make run``), each with a key
  kept in ``<data_dir>/demo-<role>-key`` (mode 0600), reused while valid.

Roles: viewer (reads), planner (uploads, optimises, stores plans, runs reviews), approver (approves
plans and weeks), admin (manages users and keys); see docs/security.md. Every command works on the
store of ``WASTEROUTE_DATABASE_URL`` (migrated first) and writes what it changes to the tenant's
audit log (actor ``cli``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import store
from app.cli.keys import DEMO_TENANT, open_store, write_secret_file
from app.cli.setup import load_settings

users_cli = typer.Typer(help="People of the tenants (councils): create, list, disable, roles, keys.",
                        no_args_is_help=True)

ACTOR = "cli"
DEMO_PEOPLE = (("planner", "Demo Planner", ("viewer", "planner")),
               ("approver", "Demo Approver", ("viewer", "approver")))
"""The demo tenant's people for ``make run``: (file tag, name, roles)."""

RoleOption = Annotated[list[str], typer.Option("--role", help="A role: viewer, planner, approver or admin "
                                                              "(repeat for several).")]


def _described(user: store.UserRecord) -> dict[str, object]:
    """A user as ``users list`` shows it."""
    return {"id": user.id, "tenant": user.tenant_id, "name": user.name, "email": user.email, "roles": list(user.roles),
            "created_at": user.created_at.isoformat(),
            "disabled_at": None if user.disabled_at is None else user.disabled_at.isoformat()}


def _refuse(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` on stderr; the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code=code)


def _find(session: Session, user_id: str) -> store.UserRecord | None:
    """The user ``user_id`` of any tenant (the command line manages every tenant)."""
    return session.get(store.UserRecord, user_id)


@users_cli.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The council the user belongs to (created if new).")],
    name: Annotated[str, typer.Option(help="The person's name, as approvals and the audit log show it.")],
    role: RoleOption,
    email: Annotated[str | None, typer.Option(help="The person's e-mail address (optional).")] = None,
) -> None:
    """Create a user of TENANT holding each --role, and print their API key (shown once) as the last word."""
    if not tenant.strip() or not name.strip():
        raise _refuse("--tenant and --name must not be blank")
    try:
        store.checked_roles(role)
    except store.UnknownRoleError as exc:
        raise _refuse(f"--role: {exc}") from exc
    with open_store(load_settings()) as db, db.transaction() as session:
        user = store.create_user(session, tenant.strip(), name=name.strip(), roles=role, email=email, actor=ACTOR)
        made = store.create_user_key(session, user.tenant_id, user.id, actor=ACTOR)
        assert made is not None
        user_id, roles, key = user.id, ", ".join(user.roles), made[1]
    typer.echo(f"user {user_id} {name.strip()!r} of tenant {tenant.strip()!r} (roles: {roles}); API key, shown once: "
               f"{key}")


@users_cli.command("list")
def list_users(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's users (default: every tenant's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per user, one per line.")] = False,
) -> None:
    """List the users: id, tenant, name, roles, created, disabled."""
    with open_store(load_settings()) as db, db.transaction() as session:
        tenants = [tenant] if tenant else list(session.scalars(select(store.Tenant.id).order_by(store.Tenant.id)))
        rows = [_described(user) for name in tenants for user in store.list_users(session, name)]
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row))
            continue
        roles = row["roles"]
        state = f"disabled {row['disabled_at']}" if row["disabled_at"] else "active"
        typer.echo(f"{row['id']}  {row['tenant']}  {row['name']}  "
                   f"roles {','.join(roles) if isinstance(roles, list) else roles}  {state}")


@users_cli.command("disable")
def disable(user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id (from `users list`).")]) -> None:
    """Disable the user ID: their keys answer 401 from now on. Exits 1 for an unknown id."""
    with open_store(load_settings()) as db, db.transaction() as session:
        found = _find(session, user_id)
        user = None if found is None else store.disable_user(session, found.tenant_id, user_id, actor=ACTOR)
        shown = None if user is None else (user.name, user.tenant_id)
    if shown is None:
        raise _refuse(f"no user {user_id!r}", code=1)
    typer.echo(f"disabled user {user_id} {shown[0]!r} of tenant {shown[1]!r}")


@users_cli.command("roles")
def roles(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id (from `users list`).")],
    grant: Annotated[list[str] | None, typer.Option("--grant", help="A role to grant (repeatable).")] = None,
    revoke: Annotated[list[str] | None, typer.Option("--revoke", help="A role to take away (repeatable).")] = None,
) -> None:
    """Grant and revoke roles of the user ID and print the roles they hold now. Exits 1 for an unknown id."""
    try:
        store.checked_roles([*(grant or []), *(revoke or [])])
    except store.UnknownRoleError as exc:
        raise _refuse(f"--grant/--revoke: {exc}") from exc
    with open_store(load_settings()) as db, db.transaction() as session:
        found = _find(session, user_id)
        user = None if found is None else store.change_roles(session, found.tenant_id, user_id, grant=grant or (),
                                                              revoke=revoke or (), actor=ACTOR)
        held = None if user is None else list(user.roles)
    if held is None:
        raise _refuse(f"no user {user_id!r}", code=1)
    typer.echo(f"user {user_id} roles: {', '.join(held) or 'none'}")


@users_cli.command("key")
def key(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id (from `users list`).")],
    name: Annotated[str | None, typer.Option(help="A label to tell the user's keys apart.")] = None,
) -> None:
    """Create another API key for the user ID and print it (shown once) as the last word. Exits 1 for an unknown
    or disabled user."""
    with open_store(load_settings()) as db, db.transaction() as session:
        found = _find(session, user_id)
        if found is not None and found.disabled_at is not None:
            raise _refuse(f"user {user_id!r} is disabled: a key of theirs would not work", code=1)
        made = None if found is None else store.create_user_key(session, found.tenant_id, user_id, name=name,
                                                                actor=ACTOR)
        shown = None if made is None else (made[0].id, made[1])
    if shown is None:
        raise _refuse(f"no user {user_id!r}", code=1)
    typer.echo(f"API key {shown[0]} of user {user_id}, shown once: {shown[1]}")


def demo_person_key(db: store.Store, key_file: Path, *, name: str, roles: tuple[str, ...],
                    tenant: str = DEMO_TENANT) -> tuple[str, bool]:
    """The key of the demo person ``name`` and whether it was reused: the one in ``key_file`` while it is a
    valid key of an enabled user of ``tenant``, otherwise a new user with a new key (written to ``key_file``,
    mode 0600)."""
    if key_file.is_file():
        kept = key_file.read_text(encoding="utf-8").strip()
        with db.transaction() as session:
            record = store.find_api_key(session, kept) if kept else None
            user = None if record is None else store.key_user(session, record)
            if user is not None and user.tenant_id == tenant and user.disabled_at is None:
                return kept, True
    with db.transaction() as session:
        user = store.create_user(session, tenant, name=name, roles=roles, actor=ACTOR)
        made = store.create_user_key(session, tenant, user.id, name=f"{name} (make run)", actor=ACTOR)
        assert made is not None
        key = made[1]
    write_secret_file(key_file, key)
    return key, False


@users_cli.command("demo")
def demo() -> None:
    """Print the demo tenant's planner and approver keys, one ``<role> <key>`` line each (kept in
    <data_dir>/demo-<role>-key, mode 0600): two people, so that one can approve what the other planned."""
    settings = load_settings()
    if not settings.auth_required:
        typer.echo("WASTEROUTE_AUTH_REQUIRED is false: no API key is needed, every request acts for "
                   f"tenant {settings.default_tenant!r} with every role")
        return
    with open_store(settings) as db:
        for tag, name, held in DEMO_PEOPLE:
            key_file = settings.data_dir / f"demo-{tag}-key"
            key, reused = demo_person_key(db, key_file, name=name, roles=held)
            typer.echo(f"{name} ({', '.join(held)}; {'reused' if reused else 'created'}; kept in {key_file}):",
                       err=True)
            typer.echo(f"{tag} {key}")
