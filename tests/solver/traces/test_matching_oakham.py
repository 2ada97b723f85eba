"""Tests of solver.traces.matching on the Oakham case (issue 15), where the matched drive came out too
long (+12 % on one round at 5 s): country-town streets of 10-60 m, lorries standing at bins near
junctions; and at the ends of the GPS noise the issue names (5 and 15 m, issue 18). Needs ../shared (the
Rutland extract)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.schemas import OptimisationRequest
from app.services.optimisation import to_problem
from solver.instances.oakham import oakham_request
from solver.network import RoadNetwork
from solver.pipeline.stages import prepare
from solver.traces.clean import clean_trace
from solver.traces.matching import match_trace
from solver.traces.simulate import TraceOptions, simulate_round
from tests.conftest import RUTLAND_PBF, require_shared

ROUTES = Path(__file__).resolve().parents[3] / "benchmarks" / "oakham_before_routes.json"

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.mark.parametrize("noise_m", [10.0, 15.0])
def test_oakham_round_matched_within_2_percent(rutland: RoadNetwork, noise_m: float) -> None:
    """Today's round rcv-4 of the Oakham case (751 bins, 54.5 km), driven with 10 or 15 m of noise, fixes
    5 s apart, is matched within 2 % of its true metres. At 10 m it was +12 % while fixes fallen back
    over a junction were read as a drive round the block (or up a dead end and back) to get back, and
    +4.7 % while a drive between two fixes 5 s apart could take 67 s; at 15 m +6.5 % while a stand's
    fixes were thinned against the last one seen, not read as one place (the wander drove up driveways
    and side streets)."""
    problem = to_problem(OptimisationRequest.model_validate(oakham_request(require_shared(RUTLAND_PBF))))
    stops = {r["vehicle_id"]: r["stops"] for r in json.loads(ROUTES.read_text(encoding="utf-8"))}["rcv-4"]
    sim = simulate_round(prepare(problem, rutland), "rcv-4", stops,
                         TraceOptions(seed=0, interval_s=5.0, noise_m=noise_m))
    matched = match_trace(rutland, clean_trace(rutland, "rcv-4", sim.fixes))
    assert matched.distance_m == pytest.approx(sim.truth.distance_m, rel=0.02)


def test_oakham_round_at_5_m_of_noise_matched_with_its_own_error(rutland: RoadNetwork) -> None:
    """Today's round rcv-4, driven with 5 m of noise, fixes every second (seed 1): the trace's own error
    (5.5 m, read from its fixes' offsets from their local mean) stands for the model's 10 m, and the match
    is within 2 % of the true metres. Taken as 10 m, the fixes were trusted too little and the turning
    circles the crew drove were cut: -2.2 %."""
    problem = to_problem(OptimisationRequest.model_validate(oakham_request(require_shared(RUTLAND_PBF))))
    stops = {r["vehicle_id"]: r["stops"] for r in json.loads(ROUTES.read_text(encoding="utf-8"))}["rcv-4"]
    sim = simulate_round(prepare(problem, rutland), "rcv-4", stops,
                         TraceOptions(seed=1, interval_s=1.0, noise_m=5.0))
    matched = match_trace(rutland, clean_trace(rutland, "rcv-4", sim.fixes))
    assert matched.distance_m == pytest.approx(sim.truth.distance_m, rel=0.02)
