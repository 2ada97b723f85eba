"""A council's personal data on the command line: purge past retention, export all of it, delete all of it.

- ``wasteroute purge --tenant T [--before DATE] [--dry-run]``: remove the tenant's traces and the
  problems no approved plan answers that were made before DATE (default: ``WASTEROUTE_RETENTION_DAYS``
  days ago), as :mod:`app.store.retention` decides; prints the counts as JSON and writes a
  ``data.purge`` audit line (not with ``--dry-run``, which only counts).
- ``wasteroute tenant export --tenant T --out FILE``: a zip of the tenant's records, one JSON-lines
  file per table (``problems.jsonl``, ``plans.jsonl``, ``jobs.jsonl``, ``audit_log.jsonl``, ...) and a
  ``manifest.json`` with the counts; key hashes left out; a ``tenant.export`` audit line.
- ``wasteroute tenant delete --tenant T --confirm T``: remove every record of the tenant but its audit
  log (kept: docs/privacy.md); ``--confirm`` must repeat the tenant's name; a ``tenant.delete`` line.

Each works on the store of ``WASTEROUTE_DATABASE_URL`` (migrated first); an unknown tenant exits 1.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.setup import load_settings, migrated_store
from app.store.models import Tenant, utc_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ACTOR = "cli"
"""Who the audit lines of these commands name (the person at the console is the server's operator)."""
EXIT_UNKNOWN_TENANT = 1

tenant_cli = typer.Typer(help="A council's data: export it all, or delete it all.", no_args_is_help=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="The council (tenant) whose data it is.")]


def _known(tenant: str, session: Session) -> None:
    """Exit 1 naming ``tenant`` when the store has no such tenant."""
    if session.get(Tenant, tenant) is None:
        typer.echo(f"--tenant: no tenant {tenant!r} in the store", err=True)
        raise typer.Exit(code=EXIT_UNKNOWN_TENANT)


def cut_off(before: str | None, retention_days: int, now: datetime) -> datetime:
    """The purge's cut-off: the start (UTC) of ``before`` (a date, ``YYYY-MM-DD``), else ``retention_days``
    before ``now``. A date that is not one, or in the future, exits 2 naming ``--before``."""
    if before is None:
        return now - timedelta(days=retention_days)
    try:
        day = date.fromisoformat(before.strip())
    except ValueError as exc:
        typer.echo(f"--before: {before!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(code=2) from exc
    moment = datetime.combine(day, time(0), tzinfo=UTC)
    if moment > now:
        typer.echo(f"--before: {before} is in the future", err=True)
        raise typer.Exit(code=2)
    return moment


def purge(
    tenant: TenantOption,
    before: Annotated[str | None, typer.Option(help="Remove what was made before this day (YYYY-MM-DD, UTC); "
                                                    "default: WASTEROUTE_RETENTION_DAYS days ago.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
) -> None:
    """Remove the tenant's traces and unapproved problems past retention; print the counts (JSON)."""
    from app.store.retention import purge as purge_store

    settings = load_settings()
    moment = cut_off(before, settings.retention_days, utc_now())
    db = migrated_store(settings)
    try:
        with db.transaction() as session:
            _known(tenant, session)
            counts = purge_store(session, tenant, moment, dry_run=dry_run, actor=ACTOR,
                                 retention_days=None if before else settings.retention_days)
    finally:
        db.dispose()
    typer.echo(json.dumps({"tenant": tenant, "before": moment.isoformat(), "dry_run": dry_run,
                           **counts.as_dict()}))


@tenant_cli.command("export")
def export(
    tenant: TenantOption,
    out: Annotated[Path, typer.Option("--out", help="The zip file to write (replaced if it exists).")],
) -> None:
    """Write every record of the tenant to a zip: one JSON-lines file per table and a manifest."""
    from app.store import append_audit
    from app.store.tenant_data import export_rows, tenant_tables

    settings = load_settings()
    db = migrated_store(settings)
    counts: dict[str, int] = {}
    partial = out.with_name(out.name + ".partial")
    try:
        with db.transaction() as session, zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _known(tenant, session)
            for table in tenant_tables():
                lines = [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in
                         export_rows(session, tenant, table)]
                counts[table.name] = len(lines)
                archive.writestr(f"{table.name}.jsonl", "".join(line + "\n" for line in lines))
            archive.writestr("manifest.json", json.dumps({"tenant": tenant, "exported_at": utc_now().isoformat(),
                                                          "rows": counts}, indent=2))
            append_audit(session, tenant, actor=ACTOR, action="tenant.export", subject_type="tenant",
                         subject_id=tenant, details={"rows": dict(counts)})
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        db.dispose()
    partial.replace(out)
    typer.echo(json.dumps({"tenant": tenant, "out": str(out), "rows": counts}))


@tenant_cli.command("delete")
def delete(
    tenant: TenantOption,
    confirm: Annotated[str, typer.Option("--confirm", help="The tenant's name again: nothing is deleted "
                                                           "unless it matches.")],
) -> None:
    """Remove every record of the tenant but its audit log; print the counts removed (JSON)."""
    from app.store.tenant_data import delete_tenant

    if confirm != tenant:
        typer.echo(f"--confirm: {confirm!r} is not the tenant's name {tenant!r}; nothing deleted", err=True)
        raise typer.Exit(code=2)
    db = migrated_store(load_settings())
    try:
        with db.transaction() as session:
            _known(tenant, session)
            removed = delete_tenant(session, tenant, actor=ACTOR)
    finally:
        db.dispose()
    typer.echo(json.dumps({"tenant": tenant, "removed": removed, "kept": ["audit_log", "tenants"]}))
