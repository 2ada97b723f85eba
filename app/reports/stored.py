"""Stored plans as report inputs: a plan record's answer joined to its problem's body.

A stored plan keeps the whole answer (``result``, the GeoJSON FeatureCollection) and
the problem it answers (``problems.body``). Its evaluation body is the problem with the
routes read back from the answer's visits (:func:`app.reports.inputs.evaluation_body`),
so an optimised plan and a person's plan reach the report the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app import store
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.reports import inputs, render
from app.reports.inputs import answer_body
from app.reports.render import ReportMeta
from app.schemas import OptimisationResponse
from app.services.answers import read_answer

if TYPE_CHECKING:
    from solver.network import RoadNetwork


class PlanNotFoundError(LookupError):
    """No plan with this id for this tenant; ``field`` names where the id came from."""

    def __init__(self, plan_id: str, *, field: str) -> None:
        super().__init__(f"{field}: no plan {plan_id!r}")
        self.plan_id = plan_id
        self.field = field


@dataclass(frozen=True)
class StoredPlan:
    """A plan record's facts (detached from the session) and its evaluation body."""

    id: str
    name: str | None
    status: str
    source: str
    version: int
    round_set: str | None
    approved_by: str | None
    approved_at: str | None
    inputs_hash: str
    parameters: JSONObject
    engine: str | None
    seed: int | None
    library_versions: dict[str, str]
    answer: OptimisationResponse
    problem_body: JSONObject
    problem_hash: str
    problem_id: str

    @property
    def n_bins(self) -> int:
        """Bins of the plan's problem."""
        bins = self.problem_body.get("bins")
        return len(bins) if isinstance(bins, list) else 0

    @property
    def body(self) -> dict[str, object]:
        """The evaluation body: the problem plus the routes of the stored answer."""
        return answer_body(self.answer, self.problem_body)

    @property
    def label(self) -> str:
        """How the report names it: its name when it has one, id, round set and version."""
        where = f"{self.round_set} v{self.version}" if self.round_set else f"v{self.version}"
        named = f"{self.name}: " if self.name else ""
        return f"{named}{self.id} ({where}, {self.source})"


def load_plan(session: Session, tenant: str, plan_id: str, *, field: str = "id") -> StoredPlan:
    """The tenant's plan ``plan_id`` with its problem; :class:`PlanNotFoundError` if there is none."""
    record = store.get_plan(session, tenant, plan_id)
    problem = store.get_problem(session, tenant, record.problem_id) if record is not None else None
    if record is None or problem is None:
        raise PlanNotFoundError(plan_id, field=field)
    return StoredPlan(
        id=record.id, name=record.name, status=record.status, source=record.source, version=record.version,
        round_set=record.round_set, approved_by=record.approved_by,
        approved_at=record.approved_at.strftime("%Y-%m-%d %H:%M UTC") if record.approved_at else None,
        inputs_hash=record.inputs_hash, parameters=dict(record.parameters or {}), engine=record.engine,
        seed=record.seed, library_versions=dict(record.library_versions or {}), answer=read_answer(record.result),
        problem_body=dict(problem.body), problem_hash=problem.content_hash, problem_id=problem.id)


def report_meta(plan: StoredPlan, baseline: StoredPlan, *, network: str) -> ReportMeta:
    """The report's facts about two stored plans: labels, approvals, how the plan was made."""
    extra = {"Plan inputs hash": plan.inputs_hash, "Plan engine and seed": f"{plan.engine or '-'}, seed {plan.seed}"}
    if plan.inputs_hash != baseline.inputs_hash:
        extra["Baseline inputs hash"] = baseline.inputs_hash
    return ReportMeta(plan_label=plan.label, baseline_label=baseline.label, network=network,
                      approved_by=plan.approved_by, approved_at=plan.approved_at,
                      baseline_approved_by=baseline.approved_by, baseline_approved_at=baseline.approved_at,
                      extra=extra)


def build_report(plan: StoredPlan, baseline: StoredPlan, network: RoadNetwork, *, settings: Settings,
                 collections_per_year: float | None = None) -> render.Report:
    """Score both stored plans on ``network`` and build the report, at ``collections_per_year`` when
    given, else as often as the plans' round sets run, else as often as their bins' own frequency says
    (:func:`app.reports.inputs.collections_per_year`).
    Blocking.

    Raises pydantic's ``ValidationError`` or :class:`~solver.problem.ProblemError` for a stored
    body that can no longer be scored.
    """
    scored_plan = inputs.score(plan.label, plan.body, network, settings=settings)
    scored_base = inputs.score(baseline.label, baseline.body, network, settings=settings)
    meta = report_meta(plan, baseline, network=network.name)
    collections = inputs.collections_per_year(collections_per_year, (plan.round_set, baseline.round_set),
                                              settings=settings, problems=(plan.problem_body, baseline.problem_body))
    return render.build(scored_plan, scored_base, network, inputs.factors_from(settings, collections), meta=meta)

