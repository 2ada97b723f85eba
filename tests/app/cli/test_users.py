"""``wasteroute users`` (app/cli/users.py) on a real SQLite store: people created with roles and a key
shown once as the last word, listed, given roles, more keys, disabled; the demo's two people; each change
in the audit log."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import store
from app.cli import cli

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment of the commands: a data folder (and its SQLite store) of this test, keys required."""
    return {"WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "WASTEROUTE_AUTH_REQUIRED": "true"}


def _users(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``wasteroute users ARGS``; exit code, stdout, stderr."""
    result = runner.invoke(cli, ["users", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _person(env: dict[str, str], key: str) -> store.UserRecord | None:
    """The enabled user ``key`` acts as, or None (an unknown key, a tenant key, a disabled user)."""
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    try:
        with db.transaction() as session:
            record = store.find_api_key(session, key)
            user = None if record is None else store.key_user(session, record)
            return None if user is None or user.disabled_at is not None else user
    finally:
        db.dispose()


def _audit(env: dict[str, str], tenant: str) -> list[str]:
    """The actions in ``tenant``'s audit log, oldest first."""
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    try:
        with db.transaction() as session:
            return [entry.action for entry in store.list_audit(session, tenant)]
    finally:
        db.dispose()


def test_create_prints_the_key_as_last_word(env: dict[str, str]) -> None:
    """``users create`` makes the user with each --role and prints a working key as the last word of stdout."""
    code, out, _ = _users(env, "create", "--tenant", "rutland", "--name", "Jo Bloggs", "--role", "planner",
                          "--role", "viewer")
    assert code == 0
    person = _person(env, out.split()[-1])
    assert person is not None and person.name == "Jo Bloggs" and person.roles == ["viewer", "planner"]
    assert person.tenant_id == "rutland"
    assert _audit(env, "rutland") == ["user.create", "api_key.create"]


def test_unknown_role_is_refused(env: dict[str, str]) -> None:
    """A role name that is not one of the four exits 2 naming it; nobody is created."""
    code, _, err = _users(env, "create", "--tenant", "rutland", "--name", "Al", "--role", "boss")
    assert code == 2 and "'boss'" in err and "--role" in err
    assert _users(env, "list", "--json")[1] == ""


def test_list_roles_key_and_disable(env: dict[str, str]) -> None:
    """A user listed as JSON, granted a role, given a second key, then disabled: both keys stop working."""
    first = _users(env, "create", "--tenant", "rutland", "--name", "Al", "--role", "viewer")[1].split()[-1]
    [row] = [json.loads(line) for line in _users(env, "list", "--json")[1].splitlines()]
    assert row["name"] == "Al" and row["roles"] == ["viewer"] and row["disabled_at"] is None
    code, out, _ = _users(env, "roles", row["id"], "--grant", "approver", "--revoke", "viewer")
    assert code == 0 and out.strip().endswith("approver")
    code, out, _ = _users(env, "key", row["id"], "--name", "laptop")
    second = out.split()[-1]
    person = _person(env, second)
    assert code == 0 and person is not None and person.roles == ["approver"]
    assert _users(env, "disable", row["id"])[0] == 0
    assert _person(env, first) is None and _person(env, second) is None
    assert _users(env, "key", row["id"])[0] == 1
    assert _users(env, "disable", "no-such-user")[0] == 1
    assert _audit(env, "rutland") == ["user.create", "api_key.create", "user.roles", "api_key.create",
                                      "user.disable"]


def test_demo_makes_a_planner_and_an_approver_once(env: dict[str, str]) -> None:
    """``users demo`` prints a planner's and an approver's key (files mode 0600), the same ones on the next run."""
    code, out, _ = _users(env, "demo")
    again = _users(env, "demo")[1]
    lines = dict(line.split() for line in out.splitlines())
    assert code == 0 and out == again and set(lines) == {"planner", "approver"}
    planner, approver = _person(env, lines["planner"]), _person(env, lines["approver"])
    assert planner is not None and "planner" in planner.roles and "approver" not in planner.roles
    assert approver is not None and "approver" in approver.roles and approver.id != planner.id
    key_file = Path(env["WASTEROUTE_DATA_DIR"]) / "demo-approver-key"
    assert key_file.read_text().strip() == lines["approver"] and stat.S_IMODE(key_file.stat().st_mode) == 0o600
