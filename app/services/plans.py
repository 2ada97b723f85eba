"""Stored plans as API answers: a plan's full answer, a listing line, a comparison of two plans,
and a person's plan stored after evaluation.

A plan's ``result`` is the optimisation answer as it was given (every figure from the
evaluator at the time); the store adds its id, status, approval, version and provenance.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import store
from app.core.json_types import JSONObject
from app.schemas import (
    BinMoveOut,
    EvaluationRequest,
    JobResult,
    OptimisationRequest,
    OptimisationResponse,
    PlanComparisonResponse,
    PlanResponse,
    PlanSummaryItem,
)
from app.services import answers
from app.store import PlanRecord
from solver.problem import ProblemError

SUMMARY_FIGURES = ("distance_m", "duration_s", "vehicles_used", "bins_served", "bins_unassigned", "cost",
                   "violations")
"""Summary figures compared between plans (this minus other)."""


def _meta(plan: PlanRecord) -> dict[str, object]:
    """The store's fields of a plan, as the API names them."""
    return {"id": plan.id, "name": plan.name, "status": plan.status, "approved_by": plan.approved_by,
            "approved_at": plan.approved_at, "approved_by_user_id": plan.approved_by_user_id,
            "approved_hash": plan.approved_hash, "created_by_user_id": plan.created_by_user_id,
            "version": plan.version, "round_set": plan.round_set, "source": plan.source,
            "created_at": plan.created_at, "problem_id": plan.problem_id, "inputs_hash": plan.inputs_hash,
            "engine": plan.engine, "seed": plan.seed}


def plan_response(plan: PlanRecord) -> PlanResponse:
    """The plan as the optimisation answer plus its id, status, approval, version and provenance."""
    answer = answers.read_answer(plan.result)
    return PlanResponse.model_validate({**dict(answer), **_meta(plan), "parameters": plan.parameters,
                                        "library_versions": plan.library_versions})


def plan_summary(plan: PlanRecord) -> PlanSummaryItem:
    """The plan's line in a listing: metadata and summary figures."""
    return PlanSummaryItem.model_validate({**_meta(plan), "summary": answers.read_summary(plan.result)})


def job_result(plan: PlanRecord) -> JobResult:
    """A succeeded job's answer: the plan's optimisation answer plus ``plan_id``."""
    return JobResult.model_validate({**dict(answers.read_answer(plan.result)), "plan_id": plan.id})


def problem_body(request: EvaluationRequest) -> JSONObject:
    """The problem of an evaluation body as posted, without its ``routes``."""
    body = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    body.pop("routes", None)
    return body


def store_manual_plan(session: Session, tenant: str, request: EvaluationRequest,
                      answer: OptimisationResponse, *, created_by: str | None = None,
                      round_set: str | None = None, name: str | None = None,
                      created_by_user_id: str | None = None) -> PlanRecord:
    """Store a person's plan (evaluated as ``answer``) as a ``draft`` (a version of ``round_set`` when
    given, called ``name`` when given, stored by the user ``created_by_user_id``); its routes go in
    ``parameters``."""
    problem = store.save_problem(session, tenant, problem_body(request))
    parameters: JSONObject = {"routes": [route.model_dump() for route in request.routes]}
    return store.create_plan(session, tenant, problem=problem,
                             result=answer.model_dump(mode="json", exclude_none=True), source="manual",
                             parameters=parameters, created_by=created_by, round_set=round_set,
                             name=name, created_by_user_id=created_by_user_id)


def bin_rounds(plan: PlanRecord) -> dict[str, str | None]:
    """Each bin of the plan's problem -> the vehicle whose round serves it (``None``: unassigned)."""
    return answers.bin_rounds(answers.read_answer(plan.result))


def compare(plan: PlanRecord, other: PlanRecord) -> PlanComparisonResponse:
    """Bins moved between rounds from ``other`` to ``plan`` and the KPI deltas (``plan`` minus ``other``)."""
    answer, other_answer = answers.read_answer(plan.result), answers.read_answer(other.result)
    mine, theirs = answers.bin_rounds(answer), answers.bin_rounds(other_answer)
    common = sorted(mine.keys() & theirs.keys())
    moved = [BinMoveOut(bin_id=b, from_vehicle=theirs[b], to_vehicle=mine[b]) for b in common
             if mine[b] != theirs[b]]
    figures, other_figures = answers.summary_figures(answer.summary), answers.summary_figures(other_answer.summary)
    delta = {name: figures[name] - other_figures[name] for name in SUMMARY_FIGURES}
    return PlanComparisonResponse(
        plan_id=plan.id, other_id=other.id, bins_compared=len(common), bins_moved=len(moved),
        share_unchanged=1.0 if not common else (len(common) - len(moved)) / len(common), moved=moved,
        bins_added=sorted(mine.keys() - theirs.keys()), bins_removed=sorted(theirs.keys() - mine.keys()),
        plan=answer.summary, other=other_answer.summary, delta=delta,
    )


TERRITORIES_FIELD = "options.territories_plan_id"


def territories_of(session: Session, tenant: str, request: OptimisationRequest) -> tuple[tuple[str, str], ...]:
    """The fixed territories ``request.options.territories_plan_id`` names, as (bin id, vehicle id)
    pairs: each bin of the request that the tenant's approved plan served, with the vehicle that
    served it, when that vehicle is in the request's fleet (bins it did not serve, or whose vehicle
    is gone, are left to join the nearest territory). None without a plan id.

    Raises :class:`ProblemError` on ``options.territories_plan_id`` (a 422 naming the plan id) for
    a plan the tenant does not have, or one not approved.
    """
    plan_id = request.options.territories_plan_id
    if plan_id is None:
        return ()
    plan = store.get_plan(session, tenant, plan_id)
    if plan is None:
        raise ProblemError(f"{TERRITORIES_FIELD} names no stored plan: {plan_id!r}", field=TERRITORIES_FIELD,
                           item_id=plan_id)
    if plan.status != "approved":
        raise ProblemError(f"{TERRITORIES_FIELD}: plan {plan_id!r} is {plan.status}, not approved; only an "
                           "approved plan fixes territories", field=TERRITORIES_FIELD, item_id=plan_id)
    rounds = bin_rounds(plan)
    bins = {b.id for b in request.bins}
    fleet = {v.id for v in request.vehicles}
    return tuple((b, v) for b, v in rounds.items() if b in bins and v is not None and v in fleet)
