"""``wasteroute keys``: the API keys of the tenants (councils), kept hashed in the store.

- ``wasteroute keys create --tenant NAME [--name LABEL]``: a new key, printed once on stdout
  (only its SHA-256 and first characters are stored; it cannot be shown again);
- ``wasteroute keys list [--tenant NAME] [--json]``: id, tenant, prefix, name, created, revoked;
- ``wasteroute keys revoke ID``: the key stops working at once (its record stays, for the audit log);
- ``wasteroute keys demo``: the demo tenant's key for ``make run``, created once and kept in
  ``<data_dir>/demo-api-key`` (mode 0600), reused while it is valid.

Every command works on the store of ``WASTEROUTE_DATABASE_URL`` (migrated first) and
writes its creations and revocations to the tenant's audit log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from app import store
from app.cli.setup import load_settings
from app.core.config import Settings

DEMO_TENANT = "demo"
"""The tenant ``make run`` prints a key for."""
DEMO_KEY_FILE = "demo-api-key"
"""File in the data folder that keeps the demo key between runs (owner read/write only)."""
KEY_FILE_MODE = 0o600

keys_cli = typer.Typer(help="API keys of the tenants (councils): create, list, revoke.", no_args_is_help=True)


@contextmanager
def open_store(settings: Settings) -> Iterator[store.Store]:
    """The configured store, migrated, disposed of afterwards."""
    db = store.Store(settings.database_url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def _described(record: store.ApiKeyRecord) -> dict[str, str | None]:
    """A key's record as shown by ``keys list`` (never the key: it is not stored)."""
    return {"id": record.id, "tenant": record.tenant_id, "prefix": record.prefix, "name": record.name,
            "created_at": record.created_at.isoformat(),
            "revoked_at": None if record.revoked_at is None else record.revoked_at.isoformat()}


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (created so, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), KEY_FILE_MODE)
        handle.write(text + "\n")


def demo_key(db: store.Store, key_file: Path, *, tenant: str = DEMO_TENANT) -> tuple[str, bool]:
    """The demo tenant's key and whether it was reused: the one in ``key_file`` while it is a valid
    key of ``tenant``, otherwise a new one (written to ``key_file``, mode 0600)."""
    if key_file.is_file():
        kept = key_file.read_text(encoding="utf-8").strip()
        with db.transaction() as session:
            record = store.find_api_key(session, kept) if kept else None
            if record is not None and record.tenant_id == tenant:
                return kept, True
    with db.transaction() as session:
        _, key = store.create_api_key(session, tenant, name="demo (make run)", actor="cli")
    write_secret_file(key_file, key)
    return key, False


@keys_cli.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The council the key acts for (created if new).")],
    name: Annotated[str | None, typer.Option(help="A label to tell keys apart, e.g. who holds it.")] = None,
) -> None:
    """Create a key for TENANT and print it on stdout, once: only its hash is stored."""
    if not tenant.strip():
        typer.echo("--tenant must not be blank", err=True)
        raise typer.Exit(code=2)
    with open_store(load_settings()) as db, db.transaction() as session:
        record, key = store.create_api_key(session, tenant.strip(), name=name, actor="cli")
        key_id = record.id
    typer.echo(f"API key {key_id} for tenant {tenant.strip()!r}: shown once, store it now "
               "(send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>')", err=True)
    typer.echo(key)


@keys_cli.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys (default: every tenant's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key, one per line.")] = False,
) -> None:
    """List the keys (id, tenant, first characters, name, created, revoked); never the keys themselves."""
    with open_store(load_settings()) as db, db.transaction() as session:
        tenants = [tenant] if tenant else list(session.scalars(select(store.Tenant.id).order_by(store.Tenant.id)))
        rows = [_described(record) for name in tenants for record in store.list_api_keys(session, name)]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        typer.echo(f"{row['id']}  {row['tenant']}  {row['prefix']}...  {row['name'] or '-'}  "
                   f"created {row['created_at']}  {state}")


@keys_cli.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (from `keys list`).")]) -> None:
    """Revoke the key ID: requests with it answer 401 from now on. Exits 1 for an unknown id."""
    with open_store(load_settings()) as db, db.transaction() as session:
        found = session.get(store.ApiKeyRecord, key_id)
        record = None if found is None else store.revoke_api_key(session, found.tenant_id, key_id, actor="cli")
        shown = None if record is None else _described(record)
    if shown is None:
        typer.echo(f"no API key {key_id!r}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"revoked API key {shown['id']} ({shown['prefix']}...) of tenant {shown['tenant']!r}")


@keys_cli.command("demo")
def demo() -> None:
    """Print the demo tenant's key (created once, kept in <data_dir>/demo-api-key, mode 0600)."""
    settings = load_settings()
    if not settings.auth_required:
        typer.echo("WASTEROUTE_AUTH_REQUIRED is false: no API key is needed, every request acts for "
                   f"tenant {settings.default_tenant!r}")
        return
    key_file = settings.data_dir / DEMO_KEY_FILE
    with open_store(settings) as db:
        key, reused = demo_key(db, key_file)
    how = "reused" if reused else "created"
    typer.echo(f"Demo tenant {DEMO_TENANT!r} API key ({how}; kept in {key_file}, mode 600):", err=True)
    typer.echo(key)
    typer.echo("The map asks for it once per browser tab; scripts send 'Authorization: Bearer <key>'.", err=True)
