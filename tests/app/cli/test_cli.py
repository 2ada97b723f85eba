"""The ``wasteroute`` command line: solve a problem file the way the API does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import EXIT_INVALID_INPUT, cli
from app.core.config import Settings


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """Environment pointing the command line at the tests' data folder and network."""
    return {"WASTEROUTE_DATA_DIR": str(settings.data_dir), "WASTEROUTE_CACHE_DIR": str(settings.cache_dir),
            "WASTEROUTE_NETWORK_FILE": str(settings.network_file), "WASTEROUTE_LOG_LEVEL": "warning"}


def _write(path: Path, body: dict[str, Any]) -> Path:
    """Write ``body`` as JSON to ``path``."""
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_solve_prints_the_optimisation_answer(tmp_path: Path, problem: dict[str, Any], env: dict[str, str]) -> None:
    """``wasteroute solve PROBLEM.json`` prints a FeatureCollection serving every bin."""
    result = CliRunner().invoke(cli, ["solve", str(_write(tmp_path / "p.json", problem))], env=env)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["type"] == "FeatureCollection"
    assert answer["summary"]["bins_served"] == len(problem["bins"])


def test_solve_writes_the_plan_with_out(tmp_path: Path, problem: dict[str, Any], env: dict[str, str]) -> None:
    """``--out PLAN.geojson`` writes the answer to the file instead of stdout."""
    out = tmp_path / "plan.geojson"
    result = CliRunner().invoke(cli, ["solve", str(_write(tmp_path / "p.json", problem)), "--out", str(out)],
                                env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["type"] == "FeatureCollection"


def test_solve_answers_in_the_api_shape(tmp_path: Path, problem: dict[str, Any], env: dict[str, str],
                                        client: TestClient) -> None:
    """The command line and the API give answers of the same shape: members and properties."""
    result = CliRunner().invoke(cli, ["solve", str(_write(tmp_path / "p.json", problem))], env=env)
    from_cli = json.loads(result.stdout)
    from_api = client.post("/api/v1/optimisations", json=problem).json()

    def shape(answer: dict[str, Any]) -> tuple[Any, ...]:
        """Top-level members, summary members and property names per kind of feature."""
        keys = {(f["properties"]["kind"], f["properties"].get("type", ""),
                 tuple(sorted(f["properties"]))) for f in answer["features"]}
        return tuple(sorted(answer)), tuple(sorted(answer["summary"])), tuple(sorted(keys))

    assert shape(from_cli) == shape(from_api)


def test_solve_rejects_a_malformed_problem_naming_field_and_id(tmp_path: Path, problem: dict[str, Any],
                                                                env: dict[str, str]) -> None:
    """A negative demand exits with status 2 and the API's 422 items on stderr."""
    problem["bins"][3]["demand_kg"] = -1
    result = CliRunner().invoke(cli, ["solve", str(_write(tmp_path / "p.json", problem))], env=env)
    assert result.exit_code == EXIT_INVALID_INPUT
    [item] = json.loads(result.stderr)["detail"]
    assert (item["loc"], item["id"]) == (["body", "bins", 3, "demand_kg"], "b00004")


def test_solve_rejects_nan_in_the_file(tmp_path: Path, problem: dict[str, Any], env: dict[str, str]) -> None:
    """A bare NaN in the problem file is reported at its field."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps(problem).replace('"demand_kg": 16', '"demand_kg": NaN', 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", str(path)], env=env)
    assert result.exit_code == EXIT_INVALID_INPUT
    [item] = json.loads(result.stderr)["detail"]
    assert (item["field"], item["id"]) == ("bins[0].demand_kg", "b00001")


def test_solve_rejects_a_file_that_is_not_json(tmp_path: Path, env: dict[str, str]) -> None:
    """A file that is not JSON exits with status 2 and says so."""
    path = tmp_path / "p.json"
    path.write_text("depots: []", encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", str(path)], env=env)
    assert result.exit_code == EXIT_INVALID_INPUT
    assert json.loads(result.stderr)["detail"][0]["type"] == "json_invalid"


def test_solve_reports_a_missing_network_file(tmp_path: Path, problem: dict[str, Any], env: dict[str, str]) -> None:
    """``--network`` naming no file exits non-zero with a message naming the file."""
    missing = tmp_path / "nowhere.osm.pbf"
    result = CliRunner().invoke(cli, ["solve", str(_write(tmp_path / "p.json", problem)), "--network", str(missing)],
                                env=env)
    assert result.exit_code == 1
    assert "nowhere.osm.pbf" in result.stderr


@pytest.mark.spawns
def test_console_script_lists_serve_and_solve() -> None:
    """The installed ``wasteroute`` script runs and lists its commands."""
    script = Path(sys.executable).with_name("wasteroute")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "solve" in result.stdout
