"""Tests of scripts/worked_example_actuals.py: the worked example runs end to end against a service it
starts (real matching, the real evaluator, a real store) and writes a realised-savings report and a case
study that holds to its schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "worked_example_actuals.py"

pytestmark = [pytest.mark.slow, pytest.mark.spawns]


def test_the_worked_example_runs_end_to_end(tmp_path: Path) -> None:
    """Two days on today's rounds and two on the optimised ones (fixes every 10 s): the days are read
    through the API, the report finds the optimised rounds shorter with the modelled saving beside,
    each round's order followed is given (all of it, the crews followed their plans), and the case
    study holds to
    docs/case_study.schema.json."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--days", "2", "--interval-s", "10", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    days = json.loads((tmp_path / "days.json").read_text())
    assert [d["period"] for d in days] == ["before", "before", "after", "after"]
    report = json.loads((tmp_path / "report.json").read_text())
    distance = next(f for f in report["figures"] if f["figure"] == "distance_m")
    assert distance["delta"] < 0 and distance["modelled"] < 0 and "distance_m" in report["better"]
    orders = report["order_followed"]  # no departure on these days: every bin in the planned order
    assert orders and all(r["after"] == 1.0 for r in orders)
    befores = {r["before"] for r in orders}  # None: a lorry the optimised plan added has no "before"
    assert 1.0 in befores and befores <= {1.0, None}
    study = json.loads((tmp_path / "case-study.json").read_text())
    jsonschema.validate(study, json.loads((REPO / "docs" / "case_study.schema.json").read_text()))
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert "| Distance (m) |" in done.stdout
