"""The priority a job is claimed with, from its kind and size, set once when it is submitted.

Work a person waits for goes first: an evaluation or a stored plan (scored, not searched) and
any job whose problem is within the synchronous bin limit (``max_sync_bins``) is ``0``
(synchronous-sized); other optimisations, reports and actual days are ``1``; a council's
week under review, or a problem of more than :data:`LARGE_FACTOR` times the synchronous
limit, is ``2``. Within a priority the oldest job goes first, and no tenant runs more than
``max_running_jobs_per_tenant`` at once (:func:`app.store.job_queue.claim_job`), so a
district's review of 40,000 properties waits behind another council's daily plan instead of
starving it.
"""

from __future__ import annotations

from app.core.config import Settings
from app.core.json_types import JSONObject

SYNCHRONOUS_SIZED = 0
STANDARD = 1
LARGE = 2

LARGE_FACTOR = 10
"""A problem of more than this many times ``max_sync_bins`` bins is large."""

SCORED_KINDS = ("evaluation", "plan")
"""Kinds that score a person's plan without searching: quick whatever their size."""


def job_priority(kind: str, body: JSONObject, settings: Settings) -> int:
    """The priority of a job of ``kind`` on the problem ``body`` (``{}`` when it works on a stored one)."""
    if kind == "review":
        return LARGE
    if kind in SCORED_KINDS:
        return SYNCHRONOUS_SIZED
    bins = body.get("bins")
    if not isinstance(bins, list):
        return STANDARD
    if len(bins) <= settings.max_sync_bins:
        return SYNCHRONOUS_SIZED
    return LARGE if len(bins) > LARGE_FACTOR * settings.max_sync_bins else STANDARD
