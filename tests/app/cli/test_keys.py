"""``wasteroute keys`` (app/cli/keys.py) on a real SQLite store: keys created and shown once, listed
without the key, revoked, and the demo key of ``make run`` kept between runs."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import store
from app.cli import cli
from app.cli.keys import DEMO_KEY_FILE, DEMO_TENANT

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment of the commands: a data folder (and its SQLite store) of this test, keys required."""
    return {"WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "WASTEROUTE_AUTH_REQUIRED": "true"}


def _keys(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``wasteroute keys ARGS``; exit code, stdout, stderr."""
    result = runner.invoke(cli, ["keys", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _records(env: dict[str, str]) -> list[store.ApiKeyRecord]:
    """Every key record in the store of ``env`` (migrated first: it may not exist yet)."""
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    try:
        db.migrate()
        with db.transaction() as session:
            return list(session.query(store.ApiKeyRecord).all())
    finally:
        db.dispose()


def test_create_prints_the_key_once_and_stores_its_hash(env: dict[str, str]) -> None:
    """``keys create --tenant`` prints only the key on stdout; the store holds its SHA-256, not the key."""
    code, out, err = _keys(env, "create", "--tenant", "rutland", "--name", "ops desk")
    key = out.strip()
    assert code == 0 and key.startswith("wr_") and len(key) > 40 and "shown once" in err
    [record] = _records(env)
    assert record.tenant_id == "rutland" and record.name == "ops desk"
    assert record.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (record.prefix, record.key_hash)


def test_list_shows_prefixes_never_keys(env: dict[str, str]) -> None:
    """``keys list --json`` gives id, tenant and prefix of each key of every tenant, and never a key."""
    keys = [_keys(env, "create", "--tenant", tenant)[1].strip() for tenant in ("a-council", "b-council")]
    code, out, _ = _keys(env, "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and sorted(row["tenant"] for row in rows) == ["a-council", "b-council"]
    assert {row["prefix"] for row in rows} == {key[:8] for key in keys}
    assert all(key not in out for key in keys)
    assert [row["tenant"] for row in map(json.loads, _keys(env, "list", "--json", "--tenant", "b-council")[1]
                                         .splitlines())] == ["b-council"]


def test_revoke_marks_the_key_revoked(env: dict[str, str]) -> None:
    """``keys revoke ID`` revokes that key (the store no longer finds it); an unknown id exits 1."""
    key = _keys(env, "create", "--tenant", "rutland")[1].strip()
    [record] = _records(env)
    code, out, _ = _keys(env, "revoke", record.id)
    assert code == 0 and record.id in out
    [revoked] = _records(env)
    assert revoked.revoked_at is not None
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    with db.transaction() as session:
        assert store.find_api_key(session, key) is None
    db.dispose()
    assert _keys(env, "revoke", "no-such-key")[0] == 1


def test_demo_key_is_kept_private_and_reused(env: dict[str, str]) -> None:
    """``keys demo`` creates the demo tenant's key in <data_dir>/demo-api-key (mode 0600) and prints the
    same key on the next run."""
    first = _keys(env, "demo")
    second = _keys(env, "demo")
    key_file = Path(env["WASTEROUTE_DATA_DIR"]) / DEMO_KEY_FILE
    assert first[0] == 0 and first[1].strip() == second[1].strip() == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "created" in first[2] and "reused" in second[2]
    assert [r.tenant_id for r in _records(env)] == [DEMO_TENANT]


def test_demo_key_is_replaced_once_revoked(env: dict[str, str]) -> None:
    """After the demo key is revoked, ``keys demo`` makes and keeps a new one."""
    old = _keys(env, "demo")[1].strip()
    [record] = _records(env)
    assert _keys(env, "revoke", record.id)[0] == 0
    new = _keys(env, "demo")[1].strip()
    assert new != old and (Path(env["WASTEROUTE_DATA_DIR"]) / DEMO_KEY_FILE).read_text().strip() == new


def test_demo_needs_no_key_when_auth_is_off(env: dict[str, str]) -> None:
    """With WASTEROUTE_AUTH_REQUIRED=false ``keys demo`` says no key is needed and creates none."""
    code, out, _ = _keys({**env, "WASTEROUTE_AUTH_REQUIRED": "false"}, "demo")
    assert code == 0 and "no API key is needed" in out and _records(env) == []
