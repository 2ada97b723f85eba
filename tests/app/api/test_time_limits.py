"""Time limits hold: a request's time limit is what the planner waits for, plus the matrix. On a real
started app whose solves race two searches, the search stage of an optimisation stays within its
time limit and a short grace for the raced lane, and the answer reports where its time went."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from solver.engines.race import LANE_GRACE_S, MIN_RACE_S

pytestmark = [pytest.mark.slow, pytest.mark.serial, pytest.mark.spawns]

OVERRUN_S = 1.5
"""Seconds a search may run past its limit and the lanes' grace (model building, OR-Tools' own overrun)."""


@pytest.fixture(scope="module")
def racing_client(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app with one solver worker whose solves race two searches, on its own store."""
    data_dir = tmp_path_factory.mktemp("time-limits")
    racing = settings.model_copy(update={"max_concurrent_solves": 1, "search_processes": 2, "max_time_limit_s": 60,
                                         "database_url": f"sqlite:///{data_dir / 'store.sqlite3'}"})
    with TestClient(create_app(racing)) as started:
        yield started


@pytest.mark.parametrize("time_limit_s", [2.0, MIN_RACE_S + 1.0])
def test_the_search_holds_its_time_limit(racing_client: TestClient, problem: dict[str, Any],
                                         time_limit_s: float) -> None:
    """A search too short to race (2 s) and a raced one both end within the limit plus the lanes' grace;
    the summary's timings give the limit, the matrix and the wall clock."""
    problem["options"] = {"time_limit_s": time_limit_s, "seed": 0}
    answer = racing_client.post("/api/v1/optimisations", json=problem)
    assert answer.status_code == 200, answer.text
    timings = answer.json()["summary"]["timings"]
    assert timings["time_limit_s"] == time_limit_s and "matrix" in timings["stages_s"]
    assert timings["stages_s"]["solve"] <= time_limit_s + LANE_GRACE_S + OVERRUN_S, timings
    assert timings["wall_s"] >= timings["stages_s"]["solve"]
