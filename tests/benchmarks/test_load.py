"""benchmarks/load.py runs end to end: ``--quick`` with one tenant starts a throwaway PostgreSQL and two
real replicas, posts jobs, kills the second replica with SIGKILL mid-run, and accounts for every job it
submitted (ended, or lost; run twice or not) from the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..app.conftest import _postgres_bin_dir

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "load.py"
ENDED = ("succeeded", "failed", "cancelled")


@pytest.mark.slow
@pytest.mark.spawns
def test_quick_run_with_one_tenant_accounts_for_every_job(tmp_path: Path) -> None:
    """The JSON report of a quick run: two replicas, one tenant, the second replica killed at 10 s having
    taken jobs; every submitted job is either ended or listed lost; the ended ones add up per status;
    queue waits are measured; the surviving replica's /metrics counts the same jobs by state; the killed
    replica's process group is gone (its log ends without a shutdown); the exit status says whether a job
    was lost or run twice or an answer was a 5xx."""
    if _postgres_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; run `make system`)")
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--tenants", "1", "--json",
                          "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["replicas"], result["tenants"]) == (2, 1)
    jobs = result["jobs"]["council-a"]
    assert jobs["submitted"] >= 5 and jobs["succeeded"] >= 1
    ended = jobs["succeeded"] + jobs["failed"] + jobs["cancelled"]
    assert ended + jobs["lost"] == jobs["submitted"]
    assert jobs["lost"] == jobs["still_queued"] + jobs["still_running"] == len(result["lost"])
    assert jobs["run_twice"] == len(result["run_twice"]) and jobs["retried"] == len(result["retried"])
    assert jobs["wait_p50_s"] is not None and 0 <= jobs["wait_p50_s"] <= jobs["wait_p95_s"]
    assert result["kill"]["replica"] == "replica-2" and 9 < result["kill"]["at_s"] < 15
    assert result["kill"]["jobs_taken_before"] >= 1 and result["kill"]["big_job"] in (*ENDED, "queued", "running")
    assert result["requests"]["POST /jobs"]["2xx"] >= 1 and result["requests"]["GET /jobs/{id}"]["2xx"] >= 1
    assert result["requests"]["POST /evaluations"]["2xx"] >= 1
    server_errors = sum(row["5xx"] for row in result["requests"].values())
    assert run.returncode == (1 if result["lost"] or result["run_twice"] or server_errors else 0)
    metrics = result["metrics"]["council-a"]
    assert metrics["succeeded"] == jobs["succeeded"] and metrics["queued"] + metrics["running"] == jobs["lost"]
    killed_log = (tmp_path / "replica-2" / "server.log").read_text()
    assert "Started server process" in killed_log and "Shutting down" not in killed_log
    assert "Shutting down" in (tmp_path / "replica-1" / "server.log").read_text()
