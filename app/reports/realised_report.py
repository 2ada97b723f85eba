"""Realised savings from stored actual days: what the lorries drove before a change against after it.

An *actual day* is a stored plan of source ``actual``: a day's rounds as driven (from the
lorries' traces, ``POST /api/v1/actuals``), with its date in ``parameters["day"]`` (ISO) and the
hashes of the files it was read from. This module finds a round set's actual days in two periods,
scores every one of them again with the one evaluator (as every report does: no figure is copied
from a stored answer), and compares the periods with :func:`solver.realised.realised_savings`:
per collection day with the day-to-day spread, per year, per tonne and per household, beside the
saving the approved plan promised against its baseline when both are named.

Units as in :mod:`solver.realised`; dates are the days the rounds ran.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import store
from app.core.config import Settings
from app.reports import case_study, inputs
from app.reports.stored import StoredPlan, load_plan
from app.store import PlanRecord
from solver.realised import RealisedReport, ScoredDay, realised_savings
from solver.savings import plan_figures, savings_report

if TYPE_CHECKING:
    from solver.network import RoadNetwork

ACTUAL_SOURCE = "actual"
"""The ``source`` of a stored plan that is a day's rounds as driven."""


class NoActualDaysError(LookupError):
    """A period with no actual day of the round set: ``field`` names the period asked."""

    def __init__(self, msg: str, *, field: str) -> None:
        super().__init__(msg)
        self.field = field


@dataclass(frozen=True)
class Period:
    """The days ``first`` to ``last`` (both included)."""

    first: date
    last: date

    @classmethod
    def parse(cls, text: str, *, field: str) -> Period:
        """``2026-10-05/2026-11-01`` (or one date: that day alone); :class:`ValueError` naming ``field``."""
        parts = text.split("/")
        try:
            days = [date.fromisoformat(p.strip()) for p in parts]
        except ValueError as exc:
            raise ValueError(f"{field}: expected FIRST/LAST as ISO dates (2026-10-05/2026-11-01), got {text!r}") \
                from exc
        if len(days) not in (1, 2) or days[-1] < days[0]:
            raise ValueError(f"{field}: expected FIRST/LAST with LAST not before FIRST, got {text!r}")
        return cls(days[0], days[-1])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def _day_of(parameters: Mapping[str, object] | None) -> date | None:
    """The date an actual day's plan ran, from its parameters (``None`` when it has none)."""
    value = (parameters or {}).get("day")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def actual_days(session: Session, tenant: str, round_set: str | None, period: Period, *, field: str
                ) -> list[StoredPlan]:
    """The tenant's actual days of ``round_set`` (any, when ``None``) in ``period``, the latest version
    of each date; :class:`NoActualDaysError` naming ``field`` when there is none."""
    query = select(PlanRecord).where(PlanRecord.tenant_id == tenant, PlanRecord.source == ACTUAL_SOURCE)
    if round_set is not None:
        query = query.where(PlanRecord.round_set == round_set)
    latest: dict[tuple[str | None, date], PlanRecord] = {}
    for record in session.scalars(query.order_by(PlanRecord.created_at)):
        day = _day_of(record.parameters)
        if day is not None and day in period:
            latest[(record.round_set, day)] = record  # a day read again replaces the earlier reading
    if not latest:
        which = f"round set {round_set!r}" if round_set is not None else "any round set"
        raise NoActualDaysError(f"{field}: no actual day of {which} from {period.first} to {period.last} "
                                "(store the days as driven with POST /api/v1/actuals)", field=field)
    return [load_plan(session, tenant, latest[key].id, field=field) for key in sorted(latest, key=lambda k: k[1])]


def _households(served: Sequence[dict[str, Any]]) -> int:
    """Households among the bins served: their ``property`` or ``uprn``, else one a bin."""
    homes = set()
    for k, body in enumerate(served):
        attributes = body.get("attributes") or {}
        home = body.get("property") or attributes.get("property") or attributes.get("uprn")
        homes.add(str(home) if home not in (None, "") else f"bin#{k}")
    return len(homes)


def _order_followed(parameters: Mapping[str, object] | None) -> dict[str, float]:
    """Each round's share of bins collected in the planned order, as the day was stored with it (none
    when no plan was named)."""
    stored = (parameters or {}).get("order_followed")
    if not isinstance(stored, dict):
        return {}
    return {str(v): float(x) for v, x in stored.items() if isinstance(x, int | float)}


def score_day(plan: StoredPlan, network: RoadNetwork, *, settings: Settings) -> ScoredDay:
    """An actual day scored again by the one evaluator: its figures, the kg of the bins it collected and
    the households they belong to. Blocking."""
    day = _day_of(plan.parameters)
    assert day is not None  # checked when the day was found
    scored = inputs.score(plan.label, plan.body, network, settings=settings)
    evaluation = scored.planned.evaluation
    figures = plan_figures(evaluation, inputs.factors_from(settings), inputs.paid_shifts_s(scored.problem))
    collected = {v.location_id for r in evaluation.routes for v in r.visits if v.type == "bin"}
    listed = plan.problem_body.get("bins")
    bins = [b for b in (listed if isinstance(listed, list) else []) if isinstance(b, dict) and b.get("id") in collected]
    kg = 0.0
    for b in bins:
        demand = b.get("demand_kg")
        kg += float(demand) if isinstance(demand, int | float) else 0.0
    return ScoredDay(day=day, figures=figures, collected_kg=kg, households=_households(bins),
                     order_followed=_order_followed(plan.parameters))


def build_realised(before: Sequence[StoredPlan], after: Sequence[StoredPlan], network: RoadNetwork, *,
                   settings: Settings, collection_days_per_year: float,
                   promise: tuple[StoredPlan, StoredPlan] | None = None) -> RealisedReport:
    """Score every actual day and compare the periods; with ``promise`` (the approved plan and the
    baseline it was compared with) its modelled saving per collection day is set beside. Blocking."""
    days_before = [score_day(p, network, settings=settings) for p in before]
    days_after = [score_day(p, network, settings=settings) for p in after]
    modelled = None
    if promise is not None:
        plan, baseline = (inputs.score(p.label, p.body, network, settings=settings) for p in promise)
        modelled = savings_report(plan.planned.evaluation, baseline.planned.evaluation,
                                  inputs.factors_from(settings),
                                  paid_shift_s=inputs.paid_shifts_s(plan.problem, baseline.problem)).delta
    return realised_savings(days_before, days_after, collection_days_per_year=collection_days_per_year,
                            modelled=modelled)


@dataclass(frozen=True)
class ReportInputs:
    """What a realised-savings report is made from: the actual days of each period, and the approved
    plan and the baseline it was compared with (``promise``) when named."""

    before: list[StoredPlan]
    after: list[StoredPlan]
    promise: tuple[StoredPlan, StoredPlan] | None


def read_inputs(session: Session, tenant: str, *, round_set: str | None, before: Period, after: Period,
                plan: str | None, baseline: str | None) -> ReportInputs:
    """The tenant's actual days of both periods and the plan and baseline named (both or neither);
    :class:`NoActualDaysError` or :class:`~app.reports.stored.PlanNotFoundError` naming the field."""
    days_before = actual_days(session, tenant, round_set, before, field="before")
    days_after = actual_days(session, tenant, round_set, after, field="after")
    promise = ((load_plan(session, tenant, plan, field="plan"), load_plan(session, tenant, baseline, field="baseline"))
               if plan is not None and baseline is not None else None)
    return ReportInputs(days_before, days_after, promise)


def _day_hashes(plans: Sequence[StoredPlan], period: str) -> list[tuple[str, str, str, list[str]]]:
    """Each actual day's date, period, problem hash and trace files' hashes (never the files' names)."""
    out = []
    for p in plans:
        files = p.parameters.get("files")
        hashes = [str(h) for h in files.values()] if isinstance(files, dict) else []
        out.append((str(p.parameters.get("day")), period, p.problem_hash, hashes))
    return out


def case_study_of(report: RealisedReport, made_from: ReportInputs, *, settings: Settings, title: str, council: str,
                  round_set: str | None) -> dict[str, Any]:
    """The publishable case study of ``report`` (:mod:`app.reports.case_study`), with the hash of every
    input it was made from."""
    promise = made_from.promise
    return case_study.case_study(
        report, title=title, council=council, round_set=round_set, factors=inputs.factors_from(settings),
        versions=store.library_versions(),
        days=[*_day_hashes(made_from.before, "before"), *_day_hashes(made_from.after, "after")],
        plan_hash=promise[0].inputs_hash if promise else None,
        baseline_hash=promise[1].inputs_hash if promise else None)
