"""``wasteroute case-study export`` on a real SQLite store of actual days (real evaluator answers on the
Monaco network), and ``wasteroute case-study show`` on documents good and bad."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import store
from app.cli import cli
from app.core.config import Settings
from app.reports.case_study import check
from tests.app.api.test_actuals_report import LONG_WAY, SHORT_WAY
from tests.app.conftest import base_problem

pytestmark = pytest.mark.slow


@pytest.fixture
def env(settings: Settings, tmp_path: Path, client: TestClient) -> dict[str, str]:
    """The command line pointed at the tests' network and a fresh SQLite store holding two actual Tuesdays
    the long way before the change and two the short way after it."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    db = store.Store(url)
    db.migrate()
    problem = base_problem()
    with db.transaction() as session:
        for k, (day, routes) in enumerate([(date(2026, 10, 6), LONG_WAY), (date(2026, 10, 13), LONG_WAY),
                                           (date(2026, 11, 10), SHORT_WAY), (date(2026, 11, 17), SHORT_WAY)]):
            answer = client.post("/api/v1/evaluations", json={**problem, "routes": routes})
            assert answer.status_code == 200, answer.text
            record = store.save_problem(session, settings.default_tenant, problem)
            store.create_plan(session, settings.default_tenant, problem=record, result=answer.json(),
                              source="actual", parameters={"day": day.isoformat(), "files": {"t.gpx": f"{k}" * 64}},
                              round_set="tue")
    db.dispose()
    return {"WASTEROUTE_DATA_DIR": str(settings.data_dir), "WASTEROUTE_CACHE_DIR": str(settings.cache_dir),
            "WASTEROUTE_NETWORK_FILE": str(settings.network_file), "WASTEROUTE_LOG_LEVEL": "warning",
            "WASTEROUTE_DATABASE_URL": url}


def test_export_writes_a_case_study_of_the_stored_actual_days(env: dict[str, str], tmp_path: Path) -> None:
    """The exported document follows the schema and shows the distance saved, with the four days' hashes."""
    out = tmp_path / "case.json"
    result = CliRunner().invoke(cli, ["case-study", "export", "--before", "2026-10-01/2026-10-31", "--after",
                                      "2026-11-01/2026-11-30", "--council", "Test Council", "--round-set", "tue",
                                      "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert check(doc) == []
    km = next(f for f in doc["figures"] if f["figure"] == "distance_m")
    assert km["delta"] < 0 and km["verdict"] == "better"
    assert sorted(d["files"][0][0] for d in doc["inputs"]["actual_days"]) == ["0", "1", "2", "3"]


def test_export_of_a_period_without_actual_days_exits_2_naming_it(env: dict[str, str]) -> None:
    """No actual day after the change: exit 2, the period named."""
    result = CliRunner().invoke(cli, ["case-study", "export", "--before", "2026-10-01/2026-10-31", "--after",
                                      "2027-01-01/2027-01-31", "--council", "Test Council"], env=env)
    assert result.exit_code == 2 and "after: no actual day" in result.output


def test_show_prints_good_documents_side_by_side_and_names_a_bad_one(env: dict[str, str], tmp_path: Path) -> None:
    """Two good documents: one page with both; a document without its figures: exit 2 naming file and field."""
    own = tmp_path / "own.json"
    CliRunner().invoke(cli, ["case-study", "export", "--before", "2026-10-01/2026-10-31", "--after",
                             "2026-11-01/2026-11-30", "--council", "Own Council", "--out", str(own)], env=env)
    other = tmp_path / "other.json"
    doc = json.loads(own.read_text(encoding="utf-8"))
    other.write_text(json.dumps({**doc, "council": "Other Council"}), encoding="utf-8")
    page = tmp_path / "page.html"
    shown = CliRunner().invoke(cli, ["case-study", "show", str(own), str(other), "--out", str(page)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Own Council" in page.read_text(encoding="utf-8") and "Other Council" in page.read_text(encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({k: v for k, v in doc.items() if k != "figures"}), encoding="utf-8")
    refused = CliRunner().invoke(cli, ["case-study", "show", str(own), str(bad)], env=env)
    assert refused.exit_code == 2 and f"{bad}: (document): 'figures' is a required property" in refused.output
