"""``wasteroute purge`` and ``wasteroute tenant export|delete`` (app/cli/tenant_data.py) on SQLite and
PostgreSQL: counts printed, a zip of every table of the tenant without key hashes, a delete that keeps
the audit log (whose triggers still refuse deletes) and touches no other tenant, and refusals of a wrong
confirmation, an unknown tenant and a bad date."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from app import store
from app.cli import cli
from app.store import Store

from ..store.retention_world import build

runner = CliRunner()


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str], Store]]:
    """The retention world in a store, a key of ``north``, and the commands' environment: ``(ids, env, store)``."""
    db = Store(database_url)
    db.migrate()
    ids = build(db)
    with db.transaction() as session:
        store.create_api_key(session, "north", name="ops")
    env = {"WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_DATABASE_URL": database_url}
    yield ids, env, db
    db.dispose()


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``wasteroute ARGS``; exit code, stdout, stderr."""
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_purge_prints_counts_and_dry_run_keeps_everything(world: tuple[dict[str, str], dict[str, str], Store]) -> None:
    """--dry-run prints what would go and leaves it; then the purge at the default retention removes it."""
    ids, env, db = world
    code, out, _ = run(env, "purge", "--tenant", "north", "--dry-run")
    assert code == 0 and json.loads(out) | {"before": None} == {
        "tenant": "north", "before": None, "dry_run": True, "traces": 1, "plans": 2, "jobs": 1, "problems": 1}
    with db.transaction() as session:
        assert store.get_problem(session, "north", ids["old_draft_problem"]) is not None
    code, out, _ = run(env, "purge", "--tenant", "north")
    assert code == 0 and json.loads(out)["problems"] == 1
    with db.transaction() as session:
        assert store.get_problem(session, "north", ids["old_draft_problem"]) is None
        assert store.get_plan(session, "north", ids["approved_plan"]) is not None
        assert [e.actor for e in store.list_audit(session, "north", actions=["data.purge"])] == ["cli"]


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--tenant", "nowhere"), 1, "no tenant 'nowhere'"),
    (("--tenant", "north", "--before", "2999-01-01"), 2, "--before: 2999-01-01 is in the future"),
    (("--tenant", "north", "--before", "last week"), 2, "--before: 'last week' is not a date"),
])
def test_purge_refuses_an_unknown_tenant_and_a_bad_date(world: tuple[dict[str, str], dict[str, str], Store],
                                                        args: tuple[str, ...], code: int, says: str) -> None:
    """Exit 1 for a tenant the store lacks, 2 for a date that is none or in the future, each named."""
    exit_code, _, err = run(world[1], "purge", *args)
    assert exit_code == code and says in err


def test_export_writes_every_table_of_the_tenant_and_no_key_hash(world: tuple[dict[str, str], dict[str, str], Store],
                                                                 tmp_path: Path) -> None:
    """The zip holds problems, plans, jobs, audit_log and api_keys as JSON lines of north's rows only (no
    key_hash), and a manifest whose counts match; the export is a tenant.export line."""
    ids, env, db = world
    out = tmp_path / "north.zip"
    code, printed, err = run(env, "tenant", "export", "--tenant", "north", "--out", str(out))
    assert code == 0, err
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        tables = {name.removesuffix(".jsonl"): [json.loads(line) for line in archive.read(name).decode().splitlines()]
                  for name in archive.namelist() if name.endswith(".jsonl")}
    assert {"problems", "plans", "jobs", "audit_log", "api_keys"} <= set(tables)
    assert manifest["rows"] == {name: len(rows) for name, rows in tables.items()} == json.loads(printed)["rows"]
    assert all(row["tenant_id"] == "north" for rows in tables.values() for row in rows)
    assert ids["old_draft_problem"] in {row["id"] for row in tables["problems"]}
    assert ids["south_problem"] not in {row["id"] for row in tables["problems"]}
    assert tables["problems"][0]["body"]["bins"][0]["attributes"]["uprn"] == "100012345678"
    assert tables["api_keys"] and all("key_hash" not in row for row in tables["api_keys"])
    with db.transaction() as session:
        assert len(store.list_audit(session, "north", actions=["tenant.export"])) == 1


def test_delete_needs_the_name_twice(world: tuple[dict[str, str], dict[str, str], Store]) -> None:
    """A --confirm that differs exits 2 and deletes nothing."""
    ids, env, db = world
    code, _, err = run(env, "tenant", "delete", "--tenant", "north", "--confirm", "south")
    assert code == 2 and "nothing deleted" in err
    with db.transaction() as session:
        assert store.get_plan(session, "north", ids["recent_plan"]) is not None


def test_delete_removes_all_but_the_audit_log_and_leaves_other_tenants(
        world: tuple[dict[str, str], dict[str, str], Store]) -> None:
    """After the delete north has no problem, plan, job or key; its audit lines are all there plus a
    tenant.delete line; the audit log still refuses a DELETE; south's records are untouched."""
    ids, env, db = world
    with db.transaction() as session:
        lines_before = len(store.list_audit(session, "north"))
    code, out, err = run(env, "tenant", "delete", "--tenant", "north", "--confirm", "north")
    assert code == 0, err
    removed = json.loads(out)["removed"]
    assert removed["problems"] == 5 and removed["api_keys"] == 1 and "audit_log" not in removed
    with db.transaction() as session:
        assert store.list_plans(session, "north") == [] and store.list_jobs(session, "north") == []
        assert store.list_api_keys(session, "north") == []
        assert len(store.list_audit(session, "north")) == lines_before + 1
        assert store.get_plan(session, "south", ids["south_plan"]) is not None
    with pytest.raises(DBAPIError), db.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE tenant_id = 'north'"))
