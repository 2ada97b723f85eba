"""Models of asynchronous jobs and stored plans: their states, summaries, approvals and comparisons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from app.schemas.requests import InputModel
from app.schemas.responses import OptimisationResponse, OutputModel, SummaryOut

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKind = Literal["optimisation", "evaluation", "plan", "report", "review", "actual"]
"""What a job does: ``optimisation`` (POST /api/v1/jobs, stores a draft plan), ``evaluation`` (POST
/api/v1/evaluations over the synchronous limit), ``plan`` (POST /api/v1/plans over the limit: evaluates
and stores a person's plan), ``report`` (GET /api/v1/plans/{id}/report of plans over the limit) or
``review`` (POST /api/v1/round-reviews: a week planned, each day stored as a plan) or ``actual`` (POST
/api/v1/actuals: a day read from the lorries' traces, stored as a plan of source ``actual``)."""
PlanStatus = Literal["draft", "approved"]


class JobAcceptedResponse(OutputModel):
    """Answer to ``POST /api/v1/jobs``: the new job's id and status (``queued``)."""

    id: str
    status: JobStatus


class JobResult(OptimisationResponse):
    """A succeeded job's answer: the optimisation FeatureCollection plus the stored plan's id."""

    plan_id: str = Field(description="Id of the draft plan stored from this answer (GET /api/v1/plans/{id}).")


class JobResponse(OutputModel):
    """Where a job stands.

    ``progress`` is the share (0..1) of the search's time budget used so far; ``best_cost``
    the objective of the best plan found so far (the engine's units: seconds, metres or
    money after the objective), ``null`` until a first one. ``result`` is the job's
    answer once ``succeeded``, the same as the synchronous endpoint's: the optimisation
    answer with ``plan_id`` (``optimisation`` and ``plan``), the evaluation answer
    (``evaluation``) or the report's JSON (``report``; its HTML and CSV at
    ``GET /api/v1/jobs/{id}/report``); ``error`` says why a job ``failed`` (or why a run
    was cut short before a retry).
    """

    id: str
    kind: JobKind = Field(default="optimisation", description="What the job does.")
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    best_cost: float | None
    result: JobResult | OptimisationResponse | dict[str, Any] | None
    error: str | None
    plan_id: str | None
    attempts: int = Field(description="Runs started; a run cut short by a restart is retried once.")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobSummary(OutputModel):
    """A job in a listing (no result)."""

    id: str
    kind: JobKind = Field(default="optimisation", description="What the job does.")
    status: JobStatus
    progress: float
    best_cost: float | None
    plan_id: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class JobListResponse(OutputModel):
    """The tenant's jobs, newest first."""

    jobs: list[JobSummary]


class PlanMeta(OutputModel):
    """What the store knows about a plan besides its figures."""

    id: str
    name: str | None = Field(default=None, description="A name people know the plan by (given when stored).")
    status: PlanStatus
    approved_by: str | None
    approved_at: datetime | None
    approved_by_user_id: str | None = Field(default=None, description="The user who approved it.")
    approved_hash: str | None = Field(
        default=None, description="SHA-256 of what was approved (result, kpis, inputs_hash); a plan whose content "
                                  "changes goes back to draft.")
    created_by_user_id: str | None = Field(
        default=None, description="The user who stored it (or asked for the job that did): the four-eyes rule "
                                  "refuses them its approval.")
    version: int = Field(description="Version among the tenant's plans of the same round set (or problem).")
    round_set: str | None
    source: str = Field(description="optimised (a job), manual (POST /api/v1/plans) or batch (nightly).")
    created_at: datetime
    problem_id: str
    inputs_hash: str = Field(description="SHA-256 of the canonical JSON of the problem as posted.")
    engine: str | None
    seed: int | None


class PlanResponse(PlanMeta, OptimisationResponse):
    """A stored plan: the optimisation answer plus its id, status and approval, version and provenance
    (:class:`PlanMeta`'s fields, after the answer's)."""

    parameters: dict[str, Any] = Field(description="Options the plan was made with (and a person's routes).")
    library_versions: dict[str, str]


class PlanSummaryItem(PlanMeta):
    """A plan in a listing: its metadata and summary figures."""

    summary: SummaryOut


class PlanListResponse(OutputModel):
    """The tenant's plans, newest first."""

    plans: list[PlanSummaryItem]


BY_REFUSED = ("is not accepted: the approver is the person signed in (their API key or token), never a name "
              "typed in; send no 'by'")


def _refuse_by(value: str | None) -> None:
    """Any ``by`` is refused: an approval is bound to the person signed in."""
    if value is not None:
        raise ValueError(BY_REFUSED)


RefusedBy = Annotated[str | None, AfterValidator(_refuse_by),
                      Field(description="Not accepted: the approver is the signed-in person, never a name typed in "
                                        "(422 naming `by`).")]
"""The ``by`` of an approval's body, refused whenever given."""


class ApprovalIn(InputModel):
    """An approval's body: nothing (the approver is the signed-in person); ``by`` is refused, naming it."""

    by: RefusedBy = None


class BinMoveOut(OutputModel):
    """A bin on another round in one plan than in the other (``null``: on no round, unassigned)."""

    bin_id: str
    from_vehicle: str | None = Field(description="Its vehicle in the other (baseline) plan.")
    to_vehicle: str | None = Field(description="Its vehicle in this plan.")


class PlanComparisonResponse(OutputModel):
    """Two plans side by side: bins moved between rounds and the KPI deltas (this minus other)."""

    plan_id: str
    other_id: str
    bins_compared: int = Field(description="Bins present in both plans' problems.")
    bins_moved: int
    share_unchanged: float = Field(description="Share (0..1) of the bins compared that kept their round.")
    moved: list[BinMoveOut]
    bins_added: list[str] = Field(description="Bins of this plan's problem absent from the other's.")
    bins_removed: list[str] = Field(description="Bins of the other plan's problem absent from this one's.")
    plan: SummaryOut
    other: SummaryOut
    delta: dict[str, float] = Field(description="Each summary figure of this plan minus the other's.")
