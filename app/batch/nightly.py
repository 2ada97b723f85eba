"""The nightly batch: re-optimise every stored round set with its latest bins.

A *round set* is the rounds of one tenant, depot, waste stream and collection day, named
by the ``round_set`` key its plans are stored under (by convention
``"<depot>/<stream>/<day>"``, e.g. ``"north/refuse/mon"``). For each round set the batch

1. takes its **latest inputs**: the problem (depots, vehicles, sites, bins, options) of
   its newest stored plan, whatever its status; when a *bin register* is given
   (``wasteroute batch --bins FILE``, see :func:`load_register`), the register's bins
   for that round set replace the stored ones (bins added, removed, changed demand);
2. warm-starts from its latest **approved** plan (``SolveOptions.initial_routes``) with
   the stability penalty (``SolveOptions.move_penalty`` per bin moved to another round),
   cold when none is approved yet;
3. solves on the executor of :mod:`app.compute.executors` (a Dask cluster or a local process
   pool; round sets are independent units);
4. stores the answer as a new ``draft`` version of the round set (source ``batch``,
   parent the approved plan), never approved automatically, under the idempotency key
   ``batch:<night>:<round set>``: a second run for the same night finds the draft
   stored by the first and solves nothing (two runs at once: the database's unique key
   keeps one);
5. reports what changed (:mod:`app.batch.report`) as JSON and Markdown.

The days of an approved week (round sets ``week/[<area>/]<day>/<week>``, see
:mod:`app.batch.week_days`) are re-optimised only on their own night: the night's date is the
collection day it prepares, and only the round set of that day and week (of the week approved last
for its area) is solved, from its own bins, so every household stays on its day.

Because each draft stores the problem it solved, the bins a register brought in become
the round set's latest bins for the following nights too.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from app.batch.inputs import ACTOR, InputFileError, check_bin, problem_body, read_bins_file
from app.batch.new_properties import NewProperties, place_new_properties
from app.batch.report import BatchReport, PropertyPlacement, RoundSetOutcome, compare, route_stops
from app.batch.week_days import WeekDay, foreign_bins, live_week_days
from app.compute.executors import NetworkPaths, describe_executor, solver_executor
from app.compute.network_registry import load_road_network
from app.core.config import Settings
from app.core.json_types import JSONObject, JSONValue
from app.jobs.cluster import SolveOutcome, SolveTask, run_solve
from app.schemas import BinIn, OptimisationRequest, OptimisationResponse
from app.services import optimisation as service
from app.services.answers import read_answer
from app.services.plans import territories_of
from app.store import repository
from app.store.engine import Store
from app.store.models import PlanRecord, Tenant
from solver.problem import BREAK_STOP, InitialRoute, Problem, ProblemError, SolveOptions

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PART_FAILED = 1
"""Exit status when at least one round set failed (the others are stored all the same)."""

DEFAULT_MOVE_PENALTY = 5.0
"""Money charged per bin the new draft moves to another round than the approved plan's:
at the default 30 money an hour, a bin moves only to save about ten minutes of route time.

Measured with ``benchmarks/batch_stability.py`` (Monaco, 120 bins, 4 vehicles, 6 bins
removed and 6 added, 5 s, see docs/batch.md): from scratch 14% of bins stay on their
round; warm start alone 92%; with 0.1-0.5 money per move 99% and 199 s shorter than the
approved plan; with 1-100 money per move 100% but 596 s longer. A round set of twelve bins
on two tight vehicles (tests/app/batch/test_batch.py) keeps 70% at 0.5 and 100% at 5."""


class RegisterError(InputFileError):
    """A bin register file that cannot be read; ``field`` and ``item_id`` name the fault."""


@dataclass(frozen=True)
class BatchOptions:
    """How to run one night's batch.

    ``tenants``: only these (``None``: every tenant in the store). ``register``: bins per
    ``(tenant, round set)`` replacing the stored ones. ``time_limit_s`` / ``seed``: override
    each round set's own options (``None``: keep them). ``move_penalty``: money per bin
    moved off its approved round. ``report_dir``: where the report files go. ``week_a_starts``: the
    Monday that starts a week A for every approved week (``None``: each week's own, from its approval).
    ``new_properties``: bins of properties new to an approved week, per (tenant, area), placed on their
    days before the solves (:mod:`app.batch.new_properties`).
    """

    night: date
    report_dir: Path
    tenants: tuple[str, ...] | None = None
    register: Mapping[tuple[str, str], list[JSONValue]] = field(default_factory=dict)
    time_limit_s: float | None = None
    seed: int | None = None
    move_penalty: float = DEFAULT_MOVE_PENALTY
    show_progress: bool | None = None
    week_a_starts: date | None = None
    new_properties: NewProperties = field(default_factory=dict)


def idempotency_key(night: date, round_set: str) -> str:
    """The key a night's draft of ``round_set`` is stored under."""
    return f"batch:{night.isoformat()}:{round_set}"


# --------------------------------------------------------------------------- the bin register


def load_register(path: Path, *, default_tenant: str) -> dict[tuple[str, str], list[JSONValue]]:
    """Read a bin register: ``{"tenant": T, "bins": [{"round_set": R, ...bin fields...}]}``.

    Every bin carries the round set it belongs to and the fields of a bin of the API
    (``id``, ``lon``, ``lat``, ``demand_kg``, ...). ``tenant`` defaults to
    ``default_tenant``. Returns bins (without ``round_set``) per ``(tenant, round set)``;
    a round set absent from the register keeps its stored bins. Raises
    :class:`RegisterError` naming the field and bin id of the first fault.
    """
    data, tenant = read_bins_file(path, what="bin register", error=RegisterError, default_tenant=default_tenant)
    register: dict[tuple[str, str], list[JSONValue]] = {}
    seen: set[str] = set()
    bins = data["bins"]
    assert isinstance(bins, list)
    for i, item in enumerate(bins):
        item_id = str(item.get("id")) if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("round_set"), str) or not item["round_set"]:
            raise RegisterError(f"bins[{i}].round_set must name the bin's round set", field=f"bins[{i}].round_set",
                                item_id=item_id)
        fields = {k: v for k, v in item.items() if k != "round_set"}
        check_bin(BinIn, fields, index=i, item_id=item_id, error=RegisterError)
        if item_id in seen:
            raise RegisterError(f"duplicate bin id {item_id!r} in the register", field=f"bins[{i}].id",
                                item_id=item_id)
        seen.add(str(item_id))
        register.setdefault((tenant, str(item["round_set"])), []).append(fields)
    return register


# --------------------------------------------------------------------------- preparing the units


@dataclass
class _Unit:
    """One round set's work: its outcome so far, and the task to run (``None`` when no solve is needed)."""

    outcome: RoundSetOutcome
    task: SolveTask | None = None
    body: JSONObject | None = None
    approved: PlanRecord | None = None
    approved_body: JSONObject | None = None
    options: SolveOptions | None = None
    week: JSONObject | None = None


def _tenants(session: Session, only: tuple[str, ...] | None) -> list[str]:
    """Every tenant of the store (housekeeping across tenants: names only), or ``only`` those."""
    names = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    return names if only is None else [t for t in names if t in only]


def warm_start(problem: Problem, approved: OptimisationResponse) -> tuple[InitialRoute, ...]:
    """The approved plan's routes as initial routes, keeping only vehicles and stops ``problem`` still has."""
    vehicles = {v.id for v in problem.vehicles}
    known = set(problem.location_ids()) | {BREAK_STOP}
    routes = []
    for vehicle_id, stops in sorted(route_stops(approved).items()):
        kept = tuple(s for s in stops if s in known)
        if vehicle_id in vehicles and kept:
            routes.append(InitialRoute(vehicle_id=vehicle_id, stops=kept))
    return tuple(routes)


def _options(problem: Problem, options: SolveOptions, approved: PlanRecord | None,
             config: BatchOptions) -> SolveOptions:
    """The round set's own options with the batch's overrides, the warm start and the stability penalty;
    one search per solve (the batch runs its solves side by side on the pool's cores)."""
    options = dataclasses.replace(options, search_processes=1)
    if config.time_limit_s is not None:
        options = dataclasses.replace(options, time_limit_s=config.time_limit_s)
    if config.seed is not None:
        options = dataclasses.replace(options, seed=config.seed)
    if approved is not None:
        options = dataclasses.replace(options, initial_routes=warm_start(problem, read_answer(approved.result)),
                                      move_penalty=config.move_penalty)
    return options


def _already_done(session: Session, tenant: str, round_set: str, draft: PlanRecord) -> RoundSetOutcome:
    """The outcome of a round set whose draft for the night is stored already."""
    parent = repository.get_plan(session, tenant, draft.parent_id) if draft.parent_id else None
    changes = compare(approved=parent, approved_body=problem_body(session, tenant, parent) if parent else None,
                      draft=draft, draft_body=problem_body(session, tenant, draft))
    return RoundSetOutcome(tenant=tenant, round_set=round_set, status="already_done", draft_plan_id=draft.id,
                           draft_version=draft.version, approved_plan_id=parent.id if parent else None,
                           changes=changes)


def _prepare_unit(session: Session, tenant: str, round_set: str, settings: Settings,
                  config: BatchOptions, week_days: dict[str, WeekDay] | None = None) -> _Unit:
    """What to do for one round set (a solve to run, or the outcome already known); ``week_days`` are the
    tenant's live days of approved weeks (a register may not bring another weekday's bins into one)."""
    outcome = RoundSetOutcome(tenant=tenant, round_set=round_set, status="failed")
    week_day = (week_days or {}).get(round_set)
    existing = repository.find_plan_by_key(session, tenant, idempotency_key(config.night, round_set))
    if existing is not None:
        return _Unit(outcome=_already_done(session, tenant, round_set, existing))
    latest = repository.latest_plan(session, tenant, round_set)
    approved = repository.latest_plan(session, tenant, round_set, status="approved")
    if latest is None:
        outcome.error = (f"round set {round_set!r} has no stored plan, so no vehicles or depot: store a first "
                         "plan of it (POST /api/v1/plans or a job) before the batch can re-optimise it")
        return _Unit(outcome=outcome)
    body = problem_body(session, tenant, latest)
    register_bins = config.register.get((tenant, round_set))
    if register_bins is not None:
        foreign = None if week_day is None else foreign_bins(session, tenant, week_day, week_days or {},
                                                               register_bins)
        if foreign is not None:
            outcome.error = foreign
            return _Unit(outcome=outcome)
        body["bins"] = register_bins
    try:
        request = OptimisationRequest.model_validate(body)
        territories = territories_of(session, tenant, request)
        problem, options = service.prepare(request, settings=settings, territories=territories)
        options = _options(problem, options, approved, config)
    except ValidationError as exc:
        first = exc.errors()[0]
        outcome.error = f"the stored inputs are invalid at {'.'.join(map(str, first['loc']))}: {first['msg']}"
        return _Unit(outcome=outcome)
    except ProblemError as exc:
        outcome.error = f"the stored inputs are invalid at {exc.field} ({exc.item_id}): {exc}"
        return _Unit(outcome=outcome)
    outcome.approved_plan_id = approved.id if approved else None
    task = SolveTask(key=f"{tenant}/{round_set}", problem=problem, options=options,
                     network=NetworkPaths.of(settings), snap_limit_m=settings.snap_limit_m)
    return _Unit(outcome=outcome, task=task, body=body, approved=approved, options=options,
                 approved_body=problem_body(session, tenant, approved) if approved else None,
                 week=None if week_day is None else week_day.week)


def _safely_prepared(session: Session, tenant: str, round_set: str, settings: Settings,
                     config: BatchOptions, week_days: dict[str, WeekDay] | None = None) -> _Unit:
    """:func:`_prepare_unit`, with an unexpected error making only this round set fail."""
    try:
        return _prepare_unit(session, tenant, round_set, settings, config, week_days)
    except Exception as exc:  # one broken round set must not stop the others
        logger.exception("preparing round set %s/%s failed", tenant, round_set)
        return _Unit(outcome=RoundSetOutcome(tenant=tenant, round_set=round_set, status="failed",
                                             error=f"its inputs could not be read: {type(exc).__name__}: {exc}"))


def _collected_tonight(day: WeekDay, config: BatchOptions) -> bool | str:
    """Whether the night is ``day``'s collection day, or why that cannot be told (a message)."""
    try:
        return day.collected_on(config.night, week_a_starts=config.week_a_starts)
    except ValueError as exc:
        return f"the night's day of the approved week cannot be told: {exc}"


def _tonights(session: Session, tenant: str, round_sets: list[str], settings: Settings,
              config: BatchOptions) -> list[_Unit]:
    """The units of the tenant's round sets: every round set that is no day of a week, and of the days of
    the approved weeks only tonight's (see :mod:`app.batch.week_days`)."""
    week_days, skipped = live_week_days(session, tenant, round_sets)
    units, waiting = [], 0
    for round_set in round_sets:
        day = week_days.get(round_set)
        if round_set in skipped:
            continue
        if day is not None:
            tonight = _collected_tonight(day, config)
            if isinstance(tonight, str):
                units.append(_Unit(outcome=RoundSetOutcome(tenant=tenant, round_set=round_set, status="failed",
                                                           error=tonight)))
                continue
            if not tonight:
                waiting += 1
                continue
        units.append(_safely_prepared(session, tenant, round_set, settings, config, week_days))
    if week_days or skipped:
        logger.info("tenant %s, night %s (%s): %d day(s) of approved weeks due, %d waiting for their own night, "
                    "%d skipped (of superseded weeks, or without one)", tenant, config.night.isoformat(),
                    config.night.strftime("%a"), len(week_days) - waiting, waiting, len(skipped))
    return units


def prepare_units(store: Store, settings: Settings, config: BatchOptions) -> list[_Unit]:
    """One unit per stored round set of every (chosen) tenant (of the approved weeks' days, tonight's only),
    and per register round set without plans."""
    units = []
    stored: set[tuple[str, str]] = set()
    with store.transaction() as session:
        for tenant in _tenants(session, config.tenants):
            round_sets = repository.list_round_sets(session, tenant)
            stored |= {(tenant, r) for r in round_sets}
            units += _tonights(session, tenant, round_sets, settings, config)
        for tenant, round_set in sorted(config.register.keys() - stored):
            if config.tenants is None or tenant in config.tenants:
                units.append(_safely_prepared(session, tenant, round_set, settings, config))
    return units


# --------------------------------------------------------------------------- storing the drafts


def _parameters(unit: _Unit, config: BatchOptions) -> JSONObject:
    """What the draft was made with (besides its inputs): the search options and the warm start."""
    assert unit.options is not None
    o = unit.options
    return {"time_limit_s": o.time_limit_s, "seed": o.seed, "engine": o.engine, "objective": o.objective,
            "move_penalty": o.move_penalty, "search_processes": o.search_processes,
            "balance": o.balance, "balance_tolerance": o.balance_tolerance, "compact": o.compact,
            "fix_directions": o.fix_directions, "warm_start_plan_id": unit.approved.id if unit.approved else None,
            "initial_routes": len(o.initial_routes), "night": config.night.isoformat(),
            **({"week": unit.week} if unit.week is not None else {})}


def store_draft(store: Store, unit: _Unit, solved: SolveOutcome, config: BatchOptions) -> RoundSetOutcome:
    """Store a solved round set's answer as a draft (one transaction) and give its outcome."""
    outcome = unit.outcome
    tenant, round_set = outcome.tenant, outcome.round_set
    assert unit.body is not None and unit.options is not None and solved.response is not None
    key = idempotency_key(config.night, round_set)
    try:
        with store.transaction() as session:
            problem = repository.save_problem(session, tenant, unit.body)
            plan = repository.create_plan(
                session, tenant, problem=problem, result=solved.response, source="batch",
                parameters=_parameters(unit, config), engine=unit.options.engine, seed=unit.options.seed,
                round_set=round_set, parent_id=unit.approved.id if unit.approved else None,
                idempotency_key=key, created_by=ACTOR)
    except IntegrityError:  # another run stored tonight's draft between our check and our write
        with store.transaction() as session:
            existing = repository.find_plan_by_key(session, tenant, key)
            if existing is None:
                raise
            return _already_done(session, tenant, round_set, existing)
    outcome.status = "new_draft"
    outcome.draft_plan_id, outcome.draft_version = plan.id, plan.version
    outcome.changes = compare(approved=unit.approved, approved_body=unit.approved_body, draft=plan,
                              draft_body=unit.body)
    return outcome


# --------------------------------------------------------------------------- running the night


def _log_outcome(outcome: RoundSetOutcome) -> None:
    """One plain log line per finished round set (what cron mails)."""
    name = f"{outcome.tenant}/{outcome.round_set}"
    if outcome.status == "failed":
        logger.error("round set %s failed: %s", name, (outcome.error or "").splitlines()[0] if outcome.error else "")
        return
    c = outcome.changes
    kept = "n/a" if c is None or c.kept_share is None else f"{100 * c.kept_share:.1f}%"
    logger.info("round set %s: %s plan %s (v%s), +%d/-%d bins, %d moved, %s kept on their round", name,
                outcome.status.replace("_", " "), outcome.draft_plan_id, outcome.draft_version,
                len(c.bins_added) if c else 0, len(c.bins_removed) if c else 0, len(c.moved) if c else 0, kept)


@contextmanager
def _progress(total: int, show: bool) -> Iterator[tqdm[Any] | None]:
    """A progress bar on stderr when ``show`` (log lines printed above it), else nothing."""
    if not show:
        yield None
        return
    with logging_redirect_tqdm(), tqdm(total=total, desc="round sets", unit="round set", file=sys.stderr) as bar:
        yield bar


def _finish_unit(store: Store, unit: _Unit, future: Future[SolveOutcome], config: BatchOptions) -> RoundSetOutcome:
    """The outcome of a unit whose solve has ended: a stored draft, or the reason it failed."""
    try:
        solved = future.result()
    except Exception as exc:  # a worker that died, or a cluster that went away
        unit.outcome.error = f"the solve did not finish: {type(exc).__name__}: {exc}"
        return unit.outcome
    unit.outcome.seconds, unit.outcome.worker = solved.seconds, solved.worker
    if not solved.ok:
        where = f" at {solved.error_field} ({solved.error_id})" if solved.error_field else ""
        unit.outcome.error = f"the solve failed{where}: {solved.error}"
        return unit.outcome
    try:
        return store_draft(store, unit, solved, config)
    except Exception as exc:  # the store refused the draft; nothing half-written (one transaction)
        logger.exception("storing the draft of %s failed", unit.task.key if unit.task else "?")
        unit.outcome.error = f"the draft could not be stored: {type(exc).__name__}: {exc}"
        return unit.outcome


def run_units(store: Store, units: Iterable[_Unit], executor: Executor, config: BatchOptions,
              *, show_progress: bool) -> list[RoundSetOutcome]:
    """Solve every unit that needs it on ``executor``, store the drafts, and give every outcome."""
    units = list(units)
    done: dict[int, RoundSetOutcome] = {}
    with _progress(len(units), show_progress) as bar:
        futures: dict[Future[SolveOutcome], int] = {}
        for i, unit in enumerate(units):
            if unit.task is None:
                done[i] = unit.outcome
                _log_outcome(unit.outcome)
                if bar is not None:
                    bar.update()
            else:
                futures[executor.submit(run_solve, unit.task)] = i
        for future in as_completed(futures):
            i = futures[future]
            done[i] = _finish_unit(store, units[i], future, config)
            _log_outcome(done[i])
            if bar is not None:
                bar.update()
    return [done[i] for i in range(len(units))]


def _place(store: Store, settings: Settings, config: BatchOptions) -> list[PropertyPlacement]:
    """The new properties put on their days (before the night's solves, which then take them in)."""
    started = time.perf_counter()
    try:
        network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    except (OSError, ProblemError) as exc:
        logger.error("new properties not placed: the road network cannot be loaded: %s", exc)
        return [PropertyPlacement(tenant=t, area=a, property=str(b.get("property") or b["id"]), bin_ids=[str(b["id"])],
                                  status="unplaced", why=f"the road network cannot be loaded: {exc}")
                for (t, a), bins in config.new_properties.items() for b in bins]
    placed = place_new_properties(store, settings, network, config.new_properties, config.night, config.tenants)
    logger.info("night %s: %d new propert%s placed, %d already on a day, %d unplaced, in %.1f s",
                config.night.isoformat(), sum(p.status == "placed" for p in placed), "y" if len(placed) == 1 else "ies",
                sum(p.status == "already_placed" for p in placed), sum(p.status == "unplaced" for p in placed),
                time.perf_counter() - started)
    return placed


def run_batch(settings: Settings, config: BatchOptions, *, store: Store | None = None,
              executor: Executor | None = None) -> BatchReport:
    """Run one night's batch and write its report; the report (see ``failed`` for the exit status).

    ``store`` defaults to the configured database (migrated first), ``executor`` to
    :func:`app.compute.executors.solver_executor` (closed at the end; one given is left open).
    """
    report = BatchReport(night=config.night, started_at=datetime.now(UTC))
    own_store = store is None
    store = store or Store(settings.database_url)
    try:
        if own_store:
            store.migrate()
        if config.new_properties:
            report.new_properties = _place(store, settings, config)
        units = prepare_units(store, settings, config)
        solves = sum(1 for u in units if u.task is not None)
        logger.info("night %s: %d round set(s), %d to solve", config.night.isoformat(), len(units), solves)
        show = sys.stderr.isatty() if config.show_progress is None else config.show_progress
        started = time.perf_counter()
        try:
            context = (nullcontext(executor) if executor is not None or solves == 0
                       else solver_executor(settings))
        except (OSError, TimeoutError) as exc:  # the Dask scheduler cannot be reached
            logger.error("no executor for the solves: %s", exc)
            for unit in units:
                if unit.task is not None:
                    unit.outcome.error = f"the solves could not start: {settings.dask_scheduler}: {exc}"
                    unit.task = None
            context = nullcontext(None)
        with context as pool:
            report.executor = describe_executor(pool) if pool is not None else "none (nothing left to solve)"
            report.round_sets = run_units(store, units, pool, config, show_progress=show)  # type: ignore[arg-type]
        logger.info("night %s done in %.1f s: %s", config.night.isoformat(), time.perf_counter() - started,
                    ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in report.counts().items()))
    finally:
        if own_store:
            store.dispose()
    report.finished_at = datetime.now(UTC)
    json_path, md_path = report.write(config.report_dir)
    logger.info("report written to %s and %s", json_path, md_path)
    return report
