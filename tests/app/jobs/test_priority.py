"""The priority a job is claimed with, from its kind and the size of its problem."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.config import Settings
from app.jobs.priority import LARGE, STANDARD, SYNCHRONOUS_SIZED, job_priority


def bins(count: int) -> dict[str, Any]:
    """A problem body with ``count`` bins (only their number matters here)."""
    return {"bins": [{"id": f"b{i}"} for i in range(count)]}


@pytest.mark.parametrize(("kind", "body", "expected"), [
    ("optimisation", bins(1000), SYNCHRONOUS_SIZED),
    ("optimisation", bins(1001), STANDARD),
    ("optimisation", bins(10_000), STANDARD),
    ("optimisation", bins(10_001), LARGE),
    ("evaluation", bins(40_000), SYNCHRONOUS_SIZED),
    ("plan", bins(5000), SYNCHRONOUS_SIZED),
    ("review", bins(10), LARGE),
    ("report", {}, STANDARD),
    ("actual", {}, STANDARD),
])
def test_priority_from_kind_and_size(kind: str, body: dict[str, Any], expected: int) -> None:
    """Within the synchronous limit (1,000 bins by default) or scored without a search: 0; a week's review or
    more than ten times the limit: 2; anything else: 1."""
    assert job_priority(kind, body, Settings(max_sync_bins=1000)) == expected
