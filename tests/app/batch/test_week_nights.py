"""The nightly batch from an approved week, on a real SQLite store and the real Monaco network.

The week, by hand: a fortnight (weeks A and B) of Monday and Tuesday, one lorry working both, the
eight Monaco bins with ``keep_current_days``: b00001-b00004 weekly on Monday, b00005-b00008 fortnightly
on Tuesday of week B. So Monday A and Monday B collect b00001-b00004, Tuesday B b00005-b00008, and
Tuesday A nothing. It is reviewed and approved through the API with week A starting Monday
2027-01-04: Monday 4 January is Monday A, Tuesday 12 January Tuesday B, Tuesday 29 December (the week
before) Tuesday B again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.batch.nightly import BatchOptions, run_batch
from app.batch.report import BatchReport
from app.cli import cli
from app.compute.executors import solver_executor
from app.core.config import Settings
from app.main import create_app
from app.services.plans import bin_rounds
from app.store import Store, get_plan
from tests.app.conftest import BINS, DEPOT, JobWaiter

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

TENANT = "default"
WEEK_A_STARTS = "2027-01-04"
MONDAY_BINS = {b["id"] for b in BINS[:4]}
TUESDAY_B_BINS = {b["id"] for b in BINS[4:]}


def week_body() -> dict[str, Any]:
    """The hand-made fortnight of the module docstring."""
    bins = copy.deepcopy(BINS)
    for b in bins[:4]:
        b.update(frequency="weekly", current={"day": "mon"})
    for b in bins[4:]:
        b.update(frequency="fortnightly", current={"day": "tue", "week": "B"})
    return {"calendar": {"days": ["mon", "tue"], "weeks": ["A", "B"]},
            "depots": [DEPOT],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 1000, "days": ["mon", "tue"]}],
            "bins": bins,
            "options": {"time_limit_s": 1, "seed": 0, "keep_current_days": True, "day_change_cost": 5.0,
                        "balance": False, "compact": False}}


@dataclass
class ApprovedWeek:
    """The store holding the approved week, and how to run a night of the batch on it."""

    settings: Settings
    review: dict[str, Any]
    executor: Executor
    folder: Path

    def night(self, day: str, **extra: Any) -> BatchReport:
        return run_batch(self.settings, BatchOptions(night=date.fromisoformat(day), report_dir=self.folder / "reports",
                                                     time_limit_s=1, seed=0, show_progress=False, **extra),
                         executor=self.executor)

    def plan_bins(self, plan_id: str | None) -> set[str]:
        assert plan_id is not None
        db = Store(self.settings.database_url)
        with db.transaction() as session:
            plan = get_plan(session, TENANT, plan_id)
            assert plan is not None
            bins = set(bin_rounds(plan))
        db.dispose()
        return bins


def _statuses(report: BatchReport) -> dict[str, str]:
    return {r.round_set: r.status for r in report.round_sets}


@pytest.fixture(scope="module")
def approved(tmp_path_factory: pytest.TempPathFactory, settings: Settings,
             wait_for_job: JobWaiter) -> Iterator[ApprovedWeek]:
    """The fortnight reviewed and approved through the API on a store of its own; a local process pool."""
    folder = tmp_path_factory.mktemp("week-nights")
    own = settings.model_copy(update={"data_dir": folder, "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})
    with TestClient(create_app(own)) as client:
        job = client.post("/api/v1/round-reviews", json=week_body()).json()
        review = wait_for_job(client, job["id"], timeout_s=120)
        assert review["status"] == "succeeded", review
        answer = client.post(f"/api/v1/round-reviews/{job['id']}/approve",
                             json={"week_a_starts": WEEK_A_STARTS})
        assert answer.status_code == 200, answer.text
    with solver_executor(own, workers=1) as executor:
        yield ApprovedWeek(settings=own, review=answer.json(), executor=executor, folder=folder)


def test_the_approved_week_is_the_days_worked_out_by_hand(approved: ApprovedWeek) -> None:
    """Monday A and B collect b00001-b00004, Tuesday B b00005-b00008, Tuesday A nothing (no round set)."""
    filed = {r["round_set"]: r["plan_id"] for r in approved.review["approval"]["round_sets"]}
    assert set(filed) == {"week/mon/A", "week/mon/B", "week/tue/B"}
    assert approved.plan_bins(filed["week/mon/A"]) == approved.plan_bins(filed["week/mon/B"]) == MONDAY_BINS
    assert approved.plan_bins(filed["week/tue/B"]) == TUESDAY_B_BINS


def test_a_night_re_optimises_only_its_day_of_the_week(approved: ApprovedWeek) -> None:
    """Monday 4 January is Monday A: only week/mon/A gets a draft, of exactly its own bins, warm-started from
    the approved day, with the week's parameters kept; a second run of the night solves nothing."""
    report = approved.night("2027-01-04")
    assert _statuses(report) == {"week/mon/A": "new_draft"}
    (outcome,) = report.round_sets
    filed = {r["round_set"]: r["plan_id"] for r in approved.review["approval"]["round_sets"]}
    assert outcome.approved_plan_id == filed["week/mon/A"]
    assert approved.plan_bins(outcome.draft_plan_id) == MONDAY_BINS, "no bin of another day comes in, none leaves"
    assert outcome.changes is not None and outcome.changes.bins_added == outcome.changes.bins_removed == []
    db = Store(approved.settings.database_url)
    with db.transaction() as session:
        draft = get_plan(session, TENANT, str(outcome.draft_plan_id))
        assert draft is not None
        assert (draft.status, draft.source) == ("draft", "batch")
        assert draft.parameters["week"]["review_id"] == approved.review["review_id"]
    db.dispose()
    assert _statuses(approved.night("2027-01-04")) == {"week/mon/A": "already_done"}


def test_week_b_follows_the_anchor_both_ways(approved: ApprovedWeek) -> None:
    """Tuesday 12 January (a week after week A) and Tuesday 29 December (the week before it) are both
    Tuesday B: week/tue/B's bins, and nothing else."""
    for night in ("2027-01-12", "2026-12-29"):
        report = approved.night(night)
        assert _statuses(report) == {"week/tue/B": "new_draft"}, night
        assert approved.plan_bins(report.round_sets[0].draft_plan_id) == TUESDAY_B_BINS


def test_a_day_without_rounds_or_off_the_calendar_solves_nothing(approved: ApprovedWeek) -> None:
    """Tuesday 5 January is Tuesday A (nothing to collect) and Saturday 9 January is no working day: no round
    set is due."""
    for night in ("2027-01-05", "2027-01-09"):
        assert approved.night(night).round_sets == [], night


def test_the_batch_can_move_the_start_of_week_a(approved: ApprovedWeek) -> None:
    """Tuesday 19 January is Tuesday A by the approval (two weeks after 4 January: nothing to collect); with
    the batch's week A starting Monday 11 January instead it is Tuesday B, and Tuesday 26 January Tuesday A."""
    moved = date(2027, 1, 11)
    assert approved.night("2027-01-19").round_sets == []
    assert _statuses(approved.night("2027-01-19", week_a_starts=moved)) == {"week/tue/B": "new_draft"}
    assert approved.night("2027-01-26", week_a_starts=moved).round_sets == []


def test_a_register_may_not_bring_another_days_bin(approved: ApprovedWeek) -> None:
    """A bin register giving Monday A a bin of Tuesday B: the round set fails, naming the bin and the day it
    belongs to; nothing is stored for it."""
    bins = [{k: v for k, v in b.items()} for b in BINS[:5]]
    report = approved.night("2027-02-01", register={(TENANT, "week/mon/A"): bins})
    (outcome,) = report.round_sets
    assert outcome.status == "failed" and outcome.draft_plan_id is None
    assert outcome.error is not None and "'b00005'" in outcome.error and "week/tue/B" in outcome.error


def test_a_week_approved_later_supersedes_the_earlier(approved: ApprovedWeek, wait_for_job: JobWaiter) -> None:
    """A one-week review of Mondays only, approved later: Monday 15 February is its week/mon/A (a new version
    of the same round set); week/mon/B and week/tue/B of the earlier week are no longer re-optimised."""
    body = week_body()
    body["calendar"] = {"days": ["mon"], "weeks": ["A"]}
    body["vehicles"][0]["days"] = ["mon"]
    body["bins"] = body["bins"][:4]
    with TestClient(create_app(approved.settings)) as client:
        job = client.post("/api/v1/round-reviews", json=body).json()
        assert wait_for_job(client, job["id"], timeout_s=120)["status"] == "succeeded"
        answer = client.post(f"/api/v1/round-reviews/{job['id']}/approve", json={})
        assert answer.status_code == 200, answer.text
    (filed,) = answer.json()["approval"]["round_sets"]
    assert filed["round_set"] == "week/mon/A" and filed["version"] > 1
    assert approved.night("2027-02-16").round_sets == [], "Tuesday B of the earlier week is superseded"
    report = approved.night("2027-02-15")
    assert _statuses(report) == {"week/mon/A": "new_draft"}
    assert report.round_sets[0].approved_plan_id == filed["plan_id"]


@pytest.mark.parametrize(("given", "said"), [("2027-01-05", "must be a Monday"), ("5 Jan", "YYYY-MM-DD")])
def test_a_bad_start_of_week_a_stops_the_batch(given: str, said: str, tmp_path: Path) -> None:
    """``--week-a-starts`` that is not a Monday, or no date: exit 2 naming the option, before anything runs."""
    result = CliRunner().invoke(cli, ["batch", "--week-a-starts", given], env={"WASTEROUTE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "week_a_starts" in result.output and said in result.output
