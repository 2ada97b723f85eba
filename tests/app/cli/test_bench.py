"""``wasteroute bench``: tiny benchmark runs through the command line, JSON lines parsed.

The instance benchmarks read ``<repo>/../shared/benchmarks/`` (skipped without it,
failed in CI); the matrix and API benchmarks run on the embedded Monaco network.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.bench import Column, Report, format_value
from app.core.config import Settings

BENCHMARKS = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks"
API_FIELDS = {"instance", "cost", "bks", "gap_pct", "vehicles", "feasible", "seconds"}
MATRIX_FIELDS = {"n", "nodes", "seconds", "peak_mb", "backend"}


@pytest.fixture(scope="module")
def env(settings: Settings) -> dict[str, str]:
    """Environment pointing the command line at the tests' data folder and network."""
    return {"WASTEROUTE_DATA_DIR": str(settings.data_dir), "WASTEROUTE_CACHE_DIR": str(settings.cache_dir),
            "WASTEROUTE_NETWORK_FILE": str(settings.network_file), "WASTEROUTE_LOG_LEVEL": "warning"}


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every line of ``stdout`` parsed as JSON (each must parse)."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def cvrp_lines(tools: SimpleNamespace, env: dict[str, str]) -> list[dict[str, Any]]:
    """The JSON lines of ``wasteroute bench cvrp X-n101-k25.vrp --time-limit-s 1 --json``."""
    path = tools.require_shared(BENCHMARKS / "cvrp" / "X-n101-k25.vrp")
    return _json_lines(_invoke(["bench", "cvrp", str(path), "--time-limit-s", "1", "--json"], env).stdout)


def test_bench_cvrp_answers_one_meta_line_then_one_line_per_instance(cvrp_lines: list[dict[str, Any]]) -> None:
    """stdout is a meta line followed by exactly one line for the one instance."""
    assert ["meta" in line for line in cvrp_lines] == [True, False]


def test_bench_cvrp_line_has_the_api_fields(cvrp_lines: list[dict[str, Any]]) -> None:
    """The instance line carries every field API.md fixes, for X-n101-k25 with its .sol BKS."""
    line = cvrp_lines[1]
    assert API_FIELDS.issubset(line)
    assert (line["instance"], line["bks"]) == ("X-n101-k25", 27591)


def test_bench_cvrp_plan_is_feasible_and_no_better_than_the_optimum(cvrp_lines: list[dict[str, Any]]) -> None:
    """The evaluator finds the engine's plan feasible, at a cost no lower than the proven optimum 27591."""
    line = cvrp_lines[1]
    assert line["error"] is None, line["error"]
    assert line["feasible"] is True
    assert line["cost"] >= 27591


def test_bench_cvrp_gap_is_measured_against_the_bks(cvrp_lines: list[dict[str, Any]]) -> None:
    """``gap_pct`` is 100 * (cost - bks) / bks."""
    line = cvrp_lines[1]
    assert line["cost"] is not None, line["error"]
    assert line["gap_pct"] == pytest.approx(100 * (line["cost"] - 27591) / 27591, abs=1e-3)


def test_bench_cvrp_meta_records_machine_versions_and_settings(cvrp_lines: list[dict[str, Any]]) -> None:
    """The meta line names the CPUs, the OR-Tools version, the time limit and the seed."""
    meta = cvrp_lines[0]["meta"]
    assert meta["machine"]["cpu_count"] >= 1
    assert "ortools" in meta["versions"]
    assert (meta["time_limit_s"], meta["seed"], meta["engine"]) == (1, 0, "ortools")


def test_bench_cvrp_prints_a_table_without_json(tools: SimpleNamespace, env: dict[str, str]) -> None:
    """Without ``--json`` stdout has the machine header and a Markdown table row for the instance."""
    path = tools.require_shared(BENCHMARKS / "cvrp" / "X-n101-k25.vrp")
    out = _invoke(["bench", "cvrp", str(path), "--time-limit-s", "1"], env).stdout
    assert "machine:" in out
    assert any(line.startswith("| X-n101-k25 |") for line in out.splitlines())


def test_bench_refuses_an_unknown_engine(tools: SimpleNamespace, env: dict[str, str]) -> None:
    """An engine name no engine has is a usage error (exit 2) naming the option."""
    path = tools.require_shared(BENCHMARKS / "cvrp" / "X-n101-k25.vrp")
    result = CliRunner().invoke(cli, ["bench", "cvrp", str(path), "--time-limit-s", "1", "--engine", "nosuch"],
                                env=env)
    assert result.exit_code == 2
    assert "--engine" in result.stderr


def test_bench_wcvrptw_reports_miles_beside_the_best_known(tools: SimpleNamespace, env: dict[str, str]) -> None:
    """The 102 line has the API fields, the best known 174.5 miles with 3 vehicles, and a cost or an error."""
    path = tools.require_shared(BENCHMARKS / "wcvrptw" / "102_stop.txt")
    [_, line] = _json_lines(_invoke(["bench", "wcvrptw", str(path), "--time-limit-s", "2", "--json"], env).stdout)
    assert API_FIELDS.issubset(line)
    assert (line["instance"], line["bks"], line["bks_vehicles"]) == ("102", 174.5, 3)
    assert (line["cost"] is None) == (line["error"] is not None)


@pytest.mark.shared
def test_bench_pvrpif_prints_each_plan_s_routes_in_the_instance_s_numbering(tools: SimpleNamespace,
                                                                         env: dict[str, str]) -> None:
    """Milano_020_4_0 at 3 s: the contract's fields, the best reported 562, a feasible plan whose routes
    run from depot 0 back to it, at most two a day, and whose cost is the travel along them."""
    path = tools.require_shared(BENCHMARKS / "pvrpif" / "instances" / "Milano_020_4_0.geojson")
    [_, line] = _json_lines(_invoke(["bench", "pvrpif", str(path), "--time-limit-s", "3", "--json"], env).stdout)
    assert {"instance", "cost", "bks", "gap_pct", "feasible", "seconds", "vehicles_per_day", "routes"}.issubset(line)
    assert (line["instance"], line["bks"], line["feasible"]) == ("Milano_020_4_0", 562, True)
    assert all(r["path"][0] == r["path"][-1] == 0 for r in line["routes"])
    assert len(line["vehicles_per_day"]) == 4 and max(line["vehicles_per_day"]) <= 2
    matrix = json.loads(path.read_text())["duration"]
    assert line["cost"] == sum(matrix[a][b] for r in line["routes"] for a, b in itertools.pairwise(r["path"]))


@pytest.mark.shared
def test_bench_pvrpif_days_from_best_routes_the_reported_days(tools: SimpleNamespace, env: dict[str, str]) -> None:
    """``--days-from-best`` on Milano_020_4_0 at 2 s: the row says where its days come from, the plan is
    feasible, and routing the best report's days again comes within 2 % of its 562."""
    path = tools.require_shared(BENCHMARKS / "pvrpif" / "instances" / "Milano_020_4_0.geojson")
    meta, line = _json_lines(_invoke(["bench", "pvrpif", str(path), "--time-limit-s", "2", "--days-from-best",
                                      "--json"], env).stdout)
    assert meta["meta"]["days_from"] == line["days_from"] == "best reported"
    assert line["feasible"] is True and line["error"] is None
    assert line["cost"] <= 562 * 1.02


@pytest.mark.slow
def test_bench_matrix_measures_both_graphs(env: dict[str, str]) -> None:
    """On Monaco, one line per graph and per turn mode (turn-aware first) with the API fields; the
    unsimplified graph has more nodes. One timed run per backend (``--repeat 1``): the test checks the
    lines, not the timings' spread."""
    lines = _json_lines(_invoke(["bench", "matrix", "--n", "40", "--repeat", "1", "--json"], env).stdout)
    rows = lines[1:]
    assert [(r["simplified"], r["turns"]) for r in rows] == [(True, True), (True, False), (False, True),
                                                            (False, False)]
    assert all(MATRIX_FIELDS.issubset(r) and r["n"] == 40 for r in rows)
    assert rows[2]["nodes"] > rows[0]["nodes"]


@pytest.mark.slow
@pytest.mark.spawns
def test_bench_api_answers_a_generated_problem_end_to_end(env: dict[str, str]) -> None:
    """The real service, started on a loopback port, answers 200 and serves or explains all 30 bins."""
    lines = _json_lines(_invoke(["bench", "api", "--bins", "30", "--time-limit-s", "1", "--json"], env).stdout)
    line = lines[1]
    assert line["status"] == 200, line["error"]
    assert line["bins_served"] + line["bins_unassigned"] == 30
    assert line["overhead_s"] == pytest.approx(line["wall_s"] - 1, abs=1e-3)


def test_report_writes_json_lines_and_the_table_apart(tmp_path: Path) -> None:
    """With JSON on, rows go to ``out`` as JSON and the table (with the row) to ``err``."""
    with (tmp_path / "out").open("w+") as out, (tmp_path / "err").open("w+") as err:
        report = Report([Column("instance", "instance"), Column("cost", "cost", 1)], as_json=True, out=out, err=err)
        report.start({"bench": "x"})
        report.row({"instance": "a", "cost": 1.25})
        out.seek(0)
        err.seek(0)
        assert [json.loads(line) for line in out] == [{"meta": {"bench": "x"}}, {"instance": "a", "cost": 1.25}]
        assert "| a | 1.2 |" in err.read()


@pytest.mark.parametrize(("value", "text"), [(None, "-"), (True, "yes"), (False, "no"), ({}, "-"),
                                             ({"late": 2}, "late: 2")])
def test_format_value_writes_cells(value: Any, text: str) -> None:
    """Missing values, booleans and violation counts read plainly in the table."""
    assert format_value(value) == text
