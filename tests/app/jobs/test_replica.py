"""A replica's id, and the one-process lock of a SQLite file's job queue, taken by a real second process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.config import Settings
from app.jobs.replica import claim_sqlite_queue, replica_id, sqlite_queue_lock_path


def test_replica_id_is_the_setting_or_host_pid_and_a_random_tail() -> None:
    """A set replica id is used as given; otherwise two runners of one process still get different ids."""
    assert replica_id(Settings(replica_id="replica-a")) == "replica-a"
    first, second = replica_id(Settings()), replica_id(Settings())
    assert first != second and first.rsplit(":", 1)[0] == second.rsplit(":", 1)[0]


def test_only_a_sqlite_file_has_a_queue_lock(tmp_path: Path) -> None:
    """A SQLite file's lock lies beside it; PostgreSQL and in-memory SQLite have none."""
    assert sqlite_queue_lock_path(f"sqlite:///{tmp_path / 'store.sqlite3'}") == tmp_path / "store.sqlite3.queue-lock"
    assert sqlite_queue_lock_path("sqlite:///:memory:") is None
    assert sqlite_queue_lock_path("postgresql+psycopg://u@localhost/db") is None


@pytest.mark.spawns
def test_a_second_process_is_refused_the_lock_naming_the_first_until_it_lets_go(tmp_path: Path) -> None:
    """While this process holds the queue lock, a second process is refused it and told this pid; runners of
    this process share it; once all let go, the second process gets it."""
    path = tmp_path / "store.sqlite3.queue-lock"
    probe = textwrap.dedent(f"""
        from pathlib import Path
        from app.jobs.replica import claim_sqlite_queue
        claim = claim_sqlite_queue(Path({str(path)!r}))
        print(claim.granted, claim.holder)
    """)

    def second_process() -> str:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()

    first = claim_sqlite_queue(path)
    shared = claim_sqlite_queue(path)
    assert first.granted and shared.granted
    refused = second_process()
    first.release()
    still = second_process()
    shared.release()
    assert refused == f"False {os.getpid()}"
    assert still == f"False {os.getpid()}"
    assert second_process() == "True"
