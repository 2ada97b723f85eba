"""Work too large for a synchronous answer goes through the same door as an optimisation: a job.

An evaluation, a stored plan or a savings report over ``WASTEROUTE_MAX_SYNC_BINS`` bins
answers **202** ``{"id", "status": "queued"}`` with a ``Location`` to poll
(``GET /api/v1/jobs/{id}``), exactly as ``POST /api/v1/jobs`` does for an optimisation;
the job's ``result`` is then the answer the synchronous call would have given. Nothing
of a council's day is refused for its size.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse

from app.api.paths import API_V1
from app.core.json_types import JSONObject
from app.jobs.runner import JobRunner, QueueFullError
from app.schemas import JobAcceptedResponse, MessageErrorResponse

JOBS_PREFIX = f"{API_V1}/jobs"

ACCEPTED_RESPONSES: dict[int | str, dict[str, object]] = {
    202: {"model": JobAcceptedResponse,
          "description": "Over the synchronous limit (WASTEROUTE_MAX_SYNC_BINS): queued as a job; poll the "
                         "Location (GET /api/v1/jobs/{id}), whose result is this endpoint's answer."},
    429: {"model": MessageErrorResponse,
          "description": "Over the synchronous limit and the job queue is full; try again after Retry-After seconds."},
}
"""The answers of a route that may hand its work to a job, for its ``responses``."""


def is_over_sync_limit(n_bins: int, max_sync_bins: int) -> bool:
    """Whether ``n_bins`` bins are more than a synchronous answer takes."""
    return n_bins > max_sync_bins


async def accept_as_job(runner: JobRunner, tenant: str, body: JSONObject, *, kind: str,
                        request: JSONObject | None = None, problem_id: str | None = None,
                        created_by_user_id: str | None = None) -> JSONResponse:
    """Queue a job of ``kind`` (see :meth:`~app.jobs.runner.JobRunner.submit`) for the user
    ``created_by_user_id`` and answer 202 with its id, status and ``Location``; 429 with ``Retry-After``
    when the queue is full."""
    try:
        job = await runner.submit(tenant, body, kind=kind, request=request, problem_id=problem_id,
                                  created_by_user_id=created_by_user_id)
    except QueueFullError as exc:
        raise HTTPException(status_code=429, detail=str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from exc
    accepted = JobAcceptedResponse(id=job.id, status="queued")
    return JSONResponse(status_code=202, content=accepted.model_dump(mode="json"),
                        headers={"Location": f"{JOBS_PREFIX}/{job.id}"})
