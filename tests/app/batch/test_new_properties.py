"""New properties put on the day and round of the approved week that suit them best, on a real SQLite
store and the real Monaco network.

The week, by hand: Monday and Tuesday of one week, one 1,000 kg lorry working both, no tip; with
``keep_current_days`` b00001-b00004 stay on Monday and b00005-b00008 on Tuesday. New properties:

- ``twin``: two bins standing exactly where b00001 stands, weekly, any day. Monday's round passes there
  anyway, so inserting them there adds no driving: Monday, round rcv-1, 0 s;
- ``monday-only``: a bin where b00005 (a Tuesday bin) stands, but allowed on Monday only: Monday, though
  Tuesday would have been cheaper;
- ``heavy``: 5,000 kg, more than the lorry carries with no tip: unplaced, saying no day has room;
- ``fortnightly``: a fortnightly bin on a calendar of one week: unplaced, naming its frequency;
- ``sea``: a bin in the sea: unplaced, off the network.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.batch.new_properties import load_new_properties
from app.batch.nightly import BatchOptions, run_batch
from app.batch.report import BatchReport, PropertyPlacement
from app.cli import cli
from app.compute.executors import solver_executor
from app.core.config import Settings
from app.main import create_app
from app.services.plans import bin_rounds
from app.store import Store, latest_plan, list_audit
from app.store.models import PlanRecord
from tests.app.conftest import BINS, DEPOT, JobWaiter

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

TENANT = "default"
MONDAY = "2027-01-04"


def week_body() -> dict[str, Any]:
    """The hand-made week of the module docstring."""
    bins = copy.deepcopy(BINS)
    for b in bins[:4]:
        b.update(current={"day": "mon"})
    for b in bins[4:]:
        b.update(current={"day": "tue"})
    return {"calendar": {"days": ["mon", "tue"], "weeks": ["A"]},
            "depots": [DEPOT],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 1000, "days": ["mon", "tue"]}],
            "bins": bins,
            "options": {"time_limit_s": 1, "seed": 0, "keep_current_days": True, "balance": False,
                        "compact": False}}


def new_properties(off_network_bin: dict[str, Any]) -> dict[str, Any]:
    """The new properties of the module docstring, as the council's export gives them."""
    b1, b5 = BINS[0], BINS[4]
    return {"tenant": TENANT, "bins": [
        {"id": "n-twin-refuse", "lon": b1["lon"], "lat": b1["lat"], "demand_kg": 10, "property": "twin",
         "address": "2 Rue Grimaldi, Monaco"},
        {"id": "n-twin-garden", "lon": b1["lon"], "lat": b1["lat"], "demand_kg": 8, "property": "twin"},
        {"id": "n-monday", "lon": b5["lon"], "lat": b5["lat"], "demand_kg": 10, "property": "monday-only",
         "allowed_days": ["mon"]},
        {"id": "n-heavy", "lon": b1["lon"], "lat": b1["lat"], "demand_kg": 5000, "property": "heavy"},
        {"id": "n-fortnightly", "lon": b1["lon"], "lat": b1["lat"], "demand_kg": 5, "property": "fortnightly",
         "frequency": "fortnightly"},
        {**off_network_bin, "id": "n-sea", "property": "sea"},
    ]}


@dataclass
class Nights:
    """The approved week's store and the same Monday night run twice with the new properties."""

    settings: Settings
    review_id: str
    first: BatchReport
    again: BatchReport
    folder: Path

    def placement(self, report: BatchReport, household: str) -> PropertyPlacement:
        return next(p for p in report.new_properties if p.property == household)

    def plans(self) -> list[PlanRecord]:
        db = Store(self.settings.database_url)
        with db.transaction() as session:
            plans = list(session.scalars(select(PlanRecord).where(PlanRecord.tenant_id == TENANT)))
            session.expunge_all()
        db.dispose()
        return plans


@pytest.fixture(scope="module")
def executor(settings: Settings) -> Iterator[Executor]:
    """The local process pool of one worker the nights solve on."""
    with solver_executor(settings, workers=1) as pool:
        yield pool


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, settings: Settings, wait_for_job: JobWaiter,
           off_network_bin: dict[str, Any], executor: Executor) -> Nights:
    """The week reviewed and approved through the API on a store of its own, then Monday 4 January run
    twice with the new properties file."""
    folder = tmp_path_factory.mktemp("new-properties")
    own = settings.model_copy(update={"data_dir": folder, "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})
    with TestClient(create_app(own)) as client:
        job = client.post("/api/v1/round-reviews", json=week_body()).json()
        assert wait_for_job(client, job["id"], timeout_s=120)["status"] == "succeeded"
        assert client.post(f"/api/v1/round-reviews/{job['id']}/approve", json={}).status_code == 200
    path = folder / "new.json"
    path.write_text(json.dumps(new_properties(off_network_bin)))
    placing = load_new_properties(path, default_tenant=TENANT)

    def night() -> BatchReport:
        return run_batch(own, BatchOptions(night=date.fromisoformat(MONDAY), report_dir=folder / "reports",
                                           time_limit_s=1, seed=0, show_progress=False, new_properties=placing),
                         executor=executor)

    return Nights(settings=own, review_id=job["id"], first=night(), again=night(), folder=folder)


def test_a_twin_of_a_monday_bin_goes_on_monday_at_no_extra_driving(nights: Nights) -> None:
    """Both bins of ``twin`` go on Monday, on rcv-1, adding no driving; Tuesday was priced and is dearer or
    equal; the reason says so."""
    twin = nights.placement(nights.first, "twin")
    assert twin.status == "placed", twin
    assert [(v.day, v.week, v.round, v.round_set) for v in twin.visits] == [("mon", "A", "rcv-1", "week/mon/A")]
    assert twin.visits[0].added_s == pytest.approx(0.0, abs=1.0)
    assert [a["days"] for a in twin.alternatives] == ["mon A", "tue A"]
    assert twin.alternatives[1]["added_s"] >= twin.alternatives[0]["added_s"]
    assert twin.why.startswith("cheapest insertion: mon A adds 0 s") and "tue A" in twin.why
    assert twin.address == "2 Rue Grimaldi, Monaco"


def test_allowed_days_are_kept_even_when_another_day_is_cheaper(nights: Nights) -> None:
    """``monday-only`` stands where a Tuesday bin stands, yet goes on Monday, the one day it allows."""
    monday = nights.placement(nights.first, "monday-only")
    assert monday.status == "placed" and [(v.day, v.round) for v in monday.visits] == [("mon", "rcv-1")]
    assert [a["days"] for a in monday.alternatives] == ["mon A"]


def test_what_cannot_be_placed_is_reported_with_its_reason(nights: Nights) -> None:
    """Too heavy for any round, a frequency the calendar cannot hold, a bin in the sea: unplaced, each
    with its reason, never dropped."""
    heavy, fortnightly, sea = (nights.placement(nights.first, h) for h in ("heavy", "fortnightly", "sea"))
    assert (heavy.status, fortnightly.status, sea.status) == ("unplaced", "unplaced", "unplaced")
    assert "no round has room" in heavy.why and heavy.visits == []
    assert fortnightly.why.startswith("frequency of 'n-fortnightly'") and "even number of weeks" in fortnightly.why
    assert "off_network" in sea.why
    assert len(nights.first.unplaced) == 3


def test_the_placed_bins_join_their_day_and_no_other(nights: Nights) -> None:
    """Monday's placement draft and tonight's re-optimised Monday hold b00001-b00004 and the three placed
    bins; Tuesday's round set keeps its approved plan as its latest, untouched."""
    monday = {b["id"] for b in BINS[:4]} | {"n-twin-refuse", "n-twin-garden", "n-monday"}
    twin = nights.placement(nights.first, "twin")
    placed = next(p for p in nights.plans() if p.id == twin.visits[0].plan_id)
    assert placed.source == "batch" and placed.parameters["new_properties"] == ["twin", "monday-only"]
    assert set(bin_rounds(placed)) == monday
    (outcome,) = nights.first.round_sets
    assert (outcome.round_set, outcome.status) == ("week/mon/A", "new_draft")
    drafted = next(p for p in nights.plans() if p.id == outcome.draft_plan_id)
    assert set(bin_rounds(drafted)) == monday
    assert all(r is not None for r in bin_rounds(drafted).values()), "every bin is on a round"
    db = Store(nights.settings.database_url)
    with db.transaction() as session:
        tuesday = latest_plan(session, TENANT, "week/tue/A")
        assert tuesday is not None and tuesday.status == "approved" and tuesday.source == "review"
    db.dispose()


def test_a_second_run_finds_them_on_their_day(nights: Nights) -> None:
    """Running the night again places nothing twice: the placed properties are already on Monday, the
    draft already done; one placement draft only."""
    assert {p.property: p.status for p in nights.again.new_properties} == {
        "twin": "already_placed", "monday-only": "already_placed", "heavy": "unplaced", "fortnightly": "unplaced",
        "sea": "unplaced"}
    twin = nights.placement(nights.again, "twin")
    assert [(v.day, v.round) for v in twin.visits] == [("mon", "rcv-1")]
    assert twin.visits[0].plan_id == nights.first.round_sets[0].draft_plan_id, "Monday's latest plan holds it"
    assert [r.status for r in nights.again.round_sets] == ["already_done"]
    assert sum(1 for p in nights.plans() if "new_properties" in p.parameters) == 1


def test_the_report_tells_each_household_its_day(nights: Nights) -> None:
    """new-properties-<night>.csv has one line per property (day, round, why), the JSON and Markdown
    reports list them."""
    reports = nights.folder / "reports"
    rows = list(csv.DictReader(io.StringIO((reports / f"new-properties-{MONDAY}.csv").read_text())))
    by = {r["property"]: r for r in rows}
    assert set(by) == {"twin", "monday-only", "heavy", "fortnightly", "sea"}
    assert (by["twin"]["days"], by["twin"]["rounds"], by["twin"]["address"]) == \
        ("mon A", "rcv-1", "2 Rue Grimaldi, Monaco")
    assert by["twin"]["bin_ids"] == "n-twin-refuse;n-twin-garden"
    data = json.loads((reports / f"batch-{MONDAY}.json").read_text())
    assert {p["property"] for p in data["new_properties"]} == set(by)
    assert "## New properties" in (reports / f"batch-{MONDAY}.md").read_text()


def test_the_approved_week_answers_its_new_properties(nights: Nights) -> None:
    """GET /round-reviews/{id}/new-properties: one CSV line per placed property and day (the two placed ones,
    on Monday A, rcv-1, with the draft that took them in and why), the same as JSON; 404 for no review; each
    download an ``export.new_properties`` audit line."""
    client = TestClient(create_app(nights.settings))
    answer = client.get(f"/api/v1/round-reviews/{nights.review_id}/new-properties")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    twin = nights.placement(nights.first, "twin")
    assert [(r["property"], r["day"], r["week"], r["round"], r["round_set"]) for r in rows] == [
        ("monday-only", "mon", "A", "rcv-1", "week/mon/A"), ("twin", "mon", "A", "rcv-1", "week/mon/A")]
    by = {r["property"]: r for r in rows}
    assert by["twin"]["plan_id"] == twin.visits[0].plan_id and by["twin"]["night"] == MONDAY
    assert by["twin"]["why"] == twin.why and by["twin"]["bin_ids"] == "n-twin-refuse;n-twin-garden"
    assert by["twin"]["address"] == "2 Rue Grimaldi, Monaco"
    listed = client.get(f"/api/v1/round-reviews/{nights.review_id}/new-properties", params={"format": "json"}).json()
    assert [p["property"] for p in listed["new_properties"]] == ["monday-only", "twin"]
    assert client.get("/api/v1/round-reviews/no-such-review/new-properties").status_code == 404
    db = Store(nights.settings.database_url)
    with db.transaction() as session:  # each download is an audit line (the letters name households)
        lines = list_audit(session, nights.settings.default_tenant, actions=["export.new_properties"])
    db.dispose()
    assert [(line.subject_id, line.details["format"]) for line in lines] == [(nights.review_id, "csv"),
                                                                             (nights.review_id, "json")]


def test_a_malformed_new_properties_file_exits_with_its_field(tmp_path: Path) -> None:
    """A new property that names a current day stops the batch before anything runs (exit 2, field and id)."""
    path = tmp_path / "new.json"
    path.write_text(json.dumps({"bins": [{"id": "n1", "lon": 7.42, "lat": 43.73, "demand_kg": 5,
                                          "current": {"day": "mon"}}]}))
    result = CliRunner().invoke(cli, ["batch", "--new-properties", str(path)],
                                env={"WASTEROUTE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "bins[0].current" in result.output and "n1" in result.output
