"""The nightly batch on a real SQLite store with three approved round sets on the real
Monaco network: drafts once per night, stable rounds, a report of the changes, the same
drafts on a Dask ``LocalCluster`` as in the local pool, and a non-zero exit when a round
set fails."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import LocalCluster
from sqlalchemy import select
from typer.testing import CliRunner

from app.batch.nightly import BatchOptions, load_register, run_batch
from app.batch.report import BatchReport
from app.batch.round_sets import store_round_set_plan
from app.cli import cli
from app.core.config import Settings, default_network_file
from app.services.plans import bin_rounds
from app.store import repository
from app.store.engine import Store
from app.store.models import PlanRecord
from solver.network import RoadNetwork
from solver.synthetic import kerbside_bins

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

TENANT = "monaco"
DEPOT = {"id": "fontvieille", "lon": 7.4149, "lat": 43.7302}
ROUND_SETS = ("fontvieille/refuse/mon", "fontvieille/refuse/thu", "fontvieille/recycling/wed")
BINS_PER_ROUND_SET = 12
NIGHT_1, NIGHT_2 = date(2026, 11, 23), date(2026, 11, 24)
CHANGED = ROUND_SETS[0]
"""The round set whose bins change between the nights (two removed, two added)."""


def _body(round_set: str, bins: list[dict[str, Any]]) -> dict[str, Any]:
    """An optimisation body of one round set: the depot, two 120 kg vehicles of its stream, its bins."""
    stream = round_set.split("/")[1]
    return {"depots": [dict(DEPOT)],
            "vehicles": [{"id": f"{round_set}:rcv-{k}", "depot": DEPOT["id"], "capacity_kg": 120,
                          "streams": [stream]} for k in (1, 2)],
            "bins": [{**b, "stream": stream} for b in bins],
            # the plain problem: balancing and compacting search in timed phases, whose outcome can hang
            # on how busy the machine is (the cluster test compares executors)
            "options": {"time_limit_s": 1, "seed": 0, "engine": "ortools", "balance": False, "compact": False}}


def _bins(network: RoadNetwork, n: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    return [{"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": b.demand_kg}
            for b in kerbside_bins(network, n, seed=seed, prefix=prefix)]


def _solve_and_approve(store: Store, settings: Settings, network: RoadNetwork, round_set: str,
                       body: dict[str, Any]) -> None:
    """Optimise ``body`` for real, store it as version 1 of ``round_set`` and approve it."""
    stored = store_round_set_plan(store, settings, network, tenant=TENANT, round_set=round_set, body=body,
                                  approve_by="A. Planner")
    assert (stored.version, stored.status) == (1, "approved")


def _settings(folder: Path, cache_dir: Path, **extra: Any) -> Settings:
    return Settings(data_dir=folder, network_file=default_network_file(), cache_dir=cache_dir,
                    database_url=f"sqlite:///{folder / 'store.sqlite3'}", max_concurrent_solves=2, **extra)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, network_cache_dir: Path, monaco: RoadNetwork) -> Path:
    """A store file with three approved round sets of twelve bins each (solved for real)."""
    folder = tmp_path_factory.mktemp("seeded")
    settings = _settings(folder, network_cache_dir)
    store = Store(settings.database_url)
    store.migrate()
    everything = _bins(monaco, BINS_PER_ROUND_SET * len(ROUND_SETS), seed=11, prefix="b")
    for k, round_set in enumerate(ROUND_SETS):
        bins = everything[k::len(ROUND_SETS)]
        _solve_and_approve(store, settings, monaco, round_set, _body(round_set, bins))
    store.dispose()
    return folder / "store.sqlite3"


def _copy_store(seeded: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded, folder / "store.sqlite3")


def _register(store: Store, *, removed: list[str], added: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """A bin register of :data:`CHANGED`: its approved bins less ``removed``, plus ``added``."""
    with store.transaction() as session:
        approved = repository.latest_plan(session, TENANT, CHANGED, status="approved")
        assert approved is not None
        problem = repository.get_problem(session, TENANT, approved.problem_id)
        assert problem is not None
        bins = [b for b in problem.body["bins"] if b["id"] not in removed] + [
            {**b, "stream": "refuse"} for b in added]
    return {(TENANT, CHANGED): bins}


@dataclass
class Nights:
    """Two nights of the batch, each run twice, on one store."""

    folder: Path
    first: BatchReport
    first_again: BatchReport
    second: BatchReport
    second_again: BatchReport
    removed: list[str]
    added: list[str]
    progress_bar: str

    def batch_plans(self) -> list[PlanRecord]:
        store = Store(f"sqlite:///{self.folder / 'store.sqlite3'}")
        with store.transaction() as session:
            plans = list(session.scalars(select(PlanRecord).where(PlanRecord.source == "batch")))
        store.dispose()
        return plans


@pytest.fixture(scope="module")
def nights(seeded: Path, tmp_path_factory: pytest.TempPathFactory, network_cache_dir: Path,
           monaco: RoadNetwork) -> Nights:
    """Night 1 with the stored bins, run twice; then two bins removed and two added to one round
    set (a bin register), night 2 run twice. Local process pool."""
    folder = tmp_path_factory.mktemp("nights")
    _copy_store(seeded, folder)
    settings = _settings(folder, network_cache_dir)

    def night(day: date, register: dict[tuple[str, str], Any] | None = None) -> BatchReport:
        return run_batch(settings, BatchOptions(night=day, report_dir=folder / "reports", register=register or {},
                                                show_progress=False))

    first = night(NIGHT_1)
    with contextlib.redirect_stderr(io.StringIO()) as terminal:
        first_again = run_batch(settings, BatchOptions(night=NIGHT_1, report_dir=folder / "reports",
                                                       show_progress=True))
    store = Store(settings.database_url)
    added = _bins(monaco, 2, seed=99, prefix="new")
    with store.transaction() as session:
        approved = repository.latest_plan(session, TENANT, CHANGED, status="approved")
        assert approved is not None
        removed = sorted(bin_rounds(approved))[:2]
    register = _register(store, removed=removed, added=added)
    store.dispose()
    second, second_again = night(NIGHT_2, register), night(NIGHT_2, register)
    return Nights(folder=folder, first=first, first_again=first_again, second=second, second_again=second_again,
                  removed=removed, added=[b["id"] for b in added], progress_bar=terminal.getvalue())


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[LocalCluster]:
    """A real Dask cluster on this machine: two worker processes of one thread each."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                      worker_dashboard_address=None) as cluster:
        yield cluster


def _statuses(report: BatchReport) -> dict[str, str]:
    return {r.round_set: r.status for r in report.round_sets}


def test_each_night_stores_one_draft_per_round_set(nights: Nights) -> None:
    """Two nights, each run twice, leave exactly two batch drafts per round set (one per night)."""
    plans = nights.batch_plans()
    per_round_set = {rs: sorted(p.idempotency_key or "" for p in plans if p.round_set == rs) for rs in ROUND_SETS}
    assert per_round_set == {rs: [f"batch:{NIGHT_1}:{rs}", f"batch:{NIGHT_2}:{rs}"] for rs in ROUND_SETS}


def test_a_second_run_of_a_night_finds_its_drafts(nights: Nights) -> None:
    """The second run of a night stores nothing new and reports the first run's drafts."""
    assert set(_statuses(nights.first).values()) == {"new_draft"}
    assert set(_statuses(nights.first_again).values()) == {"already_done"}
    assert ({r.draft_plan_id for r in nights.first_again.round_sets}
            == {r.draft_plan_id for r in nights.first.round_sets})


def test_a_terminal_gets_a_progress_bar(nights: Nights) -> None:
    """With progress shown (as on a terminal) a tqdm bar counts the round sets to the end."""
    assert "round sets: 100%" in nights.progress_bar and "3/3" in nights.progress_bar


def test_an_unreachable_cluster_fails_every_solve(seeded: Path, tmp_path: Path, network_cache_dir: Path) -> None:
    """With the Dask scheduler unreachable every round set to solve fails with the reason, and the
    report is still written."""
    _copy_store(seeded, tmp_path)
    settings = _settings(tmp_path, network_cache_dir, dask_scheduler="tcp://127.0.0.1:9")
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        report = run_batch(settings, BatchOptions(night=NIGHT_1, report_dir=tmp_path / "reports",
                                                  show_progress=False))
    assert {r.status for r in report.round_sets} == {"failed"} and len(report.round_sets) == 3
    assert all("tcp://127.0.0.1:9" in (r.error or "") for r in report.round_sets)
    assert (tmp_path / "reports" / f"batch-{NIGHT_1}.json").is_file()


def test_drafts_are_never_approved(nights: Nights) -> None:
    """Every plan the batch stored is a draft that names the approved plan it started from, made by one
    search (the batch runs its solves side by side on the cores)."""
    plans = nights.batch_plans()
    assert plans and all(p.status == "draft" and p.approved_by is None for p in plans)
    assert all(p.parent_id and p.parameters["warm_start_plan_id"] == p.parent_id for p in plans)
    assert all(p.parameters["search_processes"] == 1 for p in plans)


def test_unchanged_bins_keep_their_rounds(nights: Nights) -> None:
    """After bins are added and removed, at least 90% of the bins still present stay on the
    round the approved plan gave them, in every round set."""
    shares = {r.round_set: r.changes.kept_share for r in nights.second.round_sets if r.changes}
    print("share of bins kept on their round, night 2:", shares)
    assert set(shares) == set(ROUND_SETS)
    assert all(share is not None and share >= 0.9 for share in shares.values()), shares
    overall = nights.second.kept_share()
    assert overall is not None and overall >= 0.9


def test_the_report_lists_the_changes(nights: Nights) -> None:
    """The night-2 report (JSON and Markdown) names the bins added and removed in the changed round set."""
    data = json.loads((nights.folder / "reports" / f"batch-{NIGHT_2}.json").read_text())
    changed = next(r for r in data["round_sets"] if r["round_set"] == CHANGED)
    assert sorted(changed["changes"]["bins_added"]) == sorted(nights.added)
    assert sorted(changed["changes"]["bins_removed"]) == nights.removed
    others = [r for r in data["round_sets"] if r["round_set"] != CHANGED]
    assert all(not r["changes"]["bins_added"] and not r["changes"]["bins_removed"] for r in others)
    markdown = (nights.folder / "reports" / f"batch-{NIGHT_2}.md").read_text()
    assert all(bin_id in markdown for bin_id in [*nights.added, *nights.removed])


def test_register_bins_stay_the_latest_bins(nights: Nights, network_cache_dir: Path) -> None:
    """A night after the register's, with no register, plans the register's bins (stored with the draft)."""
    settings = _settings(nights.folder, network_cache_dir)
    report = run_batch(settings, BatchOptions(night=date(2026, 11, 25), report_dir=nights.folder / "reports",
                                              show_progress=False))
    changed = next(r for r in report.round_sets if r.round_set == CHANGED)
    assert changed.status == "new_draft" and changed.changes is not None
    assert sorted(changed.changes.bins_added) == sorted(nights.added)


def test_the_cluster_gives_the_same_drafts_as_the_local_pool(nights: Nights, seeded: Path, tmp_path: Path,
                                                              network_cache_dir: Path,
                                                              local_cluster: LocalCluster) -> None:
    """Night 1 on a LocalCluster of two workers stores the same rounds and KPIs as on the local pool."""
    _copy_store(seeded, tmp_path)
    settings = _settings(tmp_path, network_cache_dir, dask_scheduler=local_cluster.scheduler_address)
    on_cluster = run_batch(settings, BatchOptions(night=NIGHT_1, report_dir=tmp_path / "reports",
                                                  show_progress=False))
    assert on_cluster.executor.startswith("dask ")
    local_store, cluster_store = Store(f"sqlite:///{nights.folder / 'store.sqlite3'}"), Store(settings.database_url)
    for local, remote in zip(nights.first.round_sets, on_cluster.round_sets, strict=True):
        with local_store.transaction() as a, cluster_store.transaction() as b:
            local_plan = repository.get_plan(a, TENANT, local.draft_plan_id or "")
            remote_plan = repository.get_plan(b, TENANT, remote.draft_plan_id or "")
            assert local_plan is not None and remote_plan is not None
            assert bin_rounds(remote_plan) == bin_rounds(local_plan)
            figures = [{k: v for k, v in p.kpis.items() if k != "timings"} for p in (remote_plan, local_plan)]
            assert figures[0] == figures[1]  # the wall clock of each run is its own
    local_store.dispose()
    cluster_store.dispose()


def test_a_failing_round_set_exits_non_zero(seeded: Path, tmp_path: Path, network_cache_dir: Path) -> None:
    """A round set whose depot was moved into the sea fails (exit 1, named in the report) while the
    others get their drafts; under a pipe (no terminal) progress comes as plain log lines."""
    _copy_store(seeded, tmp_path)
    settings = _settings(tmp_path, network_cache_dir)
    store = Store(settings.database_url)
    with store.transaction() as session:
        approved = repository.latest_plan(session, TENANT, ROUND_SETS[0], status="approved")
        assert approved is not None
        problem = repository.get_problem(session, TENANT, approved.problem_id)
        assert problem is not None
        body = json.loads(json.dumps(problem.body))
        body["depots"][0].update(lon=7.4300, lat=43.7000)
        moved = repository.save_problem(session, TENANT, body)
        repository.create_plan(session, TENANT, problem=moved, result=approved.result, source="manual",
                               parameters={}, round_set="fontvieille/refuse/sat", created_by="planner")
    store.dispose()
    env = {**os.environ, "WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_DATABASE_URL": settings.database_url,
           "WASTEROUTE_CACHE_DIR": str(network_cache_dir), "WASTEROUTE_NETWORK_FILE": str(default_network_file())}
    run = subprocess.run([sys.executable, "-m", "app.cli", "batch", "--night", "2026-11-23",
                          "--report-dir", str(tmp_path / "reports")], env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 1, run.stderr
    report = json.loads((tmp_path / "reports" / "batch-2026-11-23.json").read_text())
    statuses = {r["round_set"]: r["status"] for r in report["round_sets"]}
    assert statuses == {**dict.fromkeys(ROUND_SETS, "new_draft"), "fontvieille/refuse/sat": "failed"}
    failed = next(r for r in report["round_sets"] if r["status"] == "failed")
    assert "depots[0]" in failed["error"] and "fontvieille" in failed["error"]
    assert "round set monaco/fontvieille/refuse/sat failed" in run.stderr
    assert "\r" not in run.stderr


def test_a_malformed_register_exits_with_its_field(tmp_path: Path) -> None:
    """A register bin without its round set stops the batch before any solve (exit 2, field and id named)."""
    register = tmp_path / "register.json"
    register.write_text(json.dumps({"bins": [{"id": "b1", "lon": 7.42, "lat": 43.73, "demand_kg": 5}]}))
    result = CliRunner().invoke(cli, ["batch", "--bins", str(register)],
                                env={"WASTEROUTE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "bins[0].round_set" in result.output and "b1" in result.output


def test_a_register_groups_bins_by_round_set(tmp_path: Path) -> None:
    """A register's bins come back per (tenant, round set), without the round_set field."""
    path = tmp_path / "register.json"
    path.write_text(json.dumps({"tenant": "t", "bins": [
        {"id": "a", "lon": 7.42, "lat": 43.73, "demand_kg": 5, "round_set": "d/refuse/mon"},
        {"id": "b", "lon": 7.42, "lat": 43.73, "demand_kg": 6, "round_set": "d/refuse/tue"}]}))
    register = load_register(path, default_tenant="default")
    assert register == {("t", "d/refuse/mon"): [{"id": "a", "lon": 7.42, "lat": 43.73, "demand_kg": 5}],
                        ("t", "d/refuse/tue"): [{"id": "b", "lon": 7.42, "lat": 43.73, "demand_kg": 6}]}


def test_todays_rounds_become_an_approved_round_set(seeded: Path, tmp_path: Path, network_cache_dir: Path) -> None:
    """``wasteroute round-set`` stores a planner's rounds (with routes) as an approved version of a
    round set, which the batch then knows."""
    _copy_store(seeded, tmp_path)
    body = _body("fontvieille/garden/fri", [{"id": "g1", "lon": 7.41745, "lat": 43.73619, "demand_kg": 16},
                                            {"id": "g2", "lon": 7.41595, "lat": 43.73639, "demand_kg": 12}])
    body["routes"] = [{"vehicle_id": "fontvieille/garden/fri:rcv-1", "stops": ["g2", "g1"]}]
    plan_file = tmp_path / "today.json"
    plan_file.write_text(json.dumps(body))
    env = {"WASTEROUTE_DATA_DIR": str(tmp_path), "WASTEROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
           "WASTEROUTE_CACHE_DIR": str(network_cache_dir)}
    result = CliRunner().invoke(cli, ["round-set", "fontvieille/garden/fri", str(plan_file), "--tenant", TENANT,
                                      "--approve-by", "A. Planner"], env=env)
    assert result.exit_code == 0, result.output
    store = Store(env["WASTEROUTE_DATABASE_URL"])
    with store.transaction() as session:
        assert "fontvieille/garden/fri" in repository.list_round_sets(session, TENANT)
        plan = repository.latest_plan(session, TENANT, "fontvieille/garden/fri", status="approved")
        assert plan is not None and plan.source == "manual" and plan.approved_by == "A. Planner"
        assert bin_rounds(plan) == {"g1": "fontvieille/garden/fri:rcv-1", "g2": "fontvieille/garden/fri:rcv-1"}
    store.dispose()
