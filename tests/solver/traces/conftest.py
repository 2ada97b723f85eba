"""Rounds to trace: kerbside bins on the hand-made street grid (tests/conftest.py ``street_grid``),
driven in a snake from a depot at its south-west corner, a small round of the demo problem's bins on
the embedded Monaco network, in the order of a plain nearest-bin round, and the demo's rounds kept for
the benchmarks (benchmarks/monaco_demo_routes.json) driven and read given the plan."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.schemas import OptimisationRequest
from app.services.optimisation import to_problem
from solver.network import RoadNetwork
from solver.pipeline.stages import prepare
from solver.plain_rounds import nearest_bin_rounds
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.snapping import snap_points
from solver.traces.clean import clean_trace
from solver.traces.driven import rounds_as_driven
from solver.traces.matching import match_trace
from solver.traces.simulate import TraceOptions, simulate_round
from tests.conftest import NetworkFactory

REPO = Path(__file__).resolve().parents[3]
#: 0.001 degree on the equator is ~111.2 m; a bin stands ~5 m north of its street's centre line.
KERB_DEG = 0.000045
#: metres in a degree on the equator
DEG_M = 111_195.0


def side_street_network(osm_network: NetworkFactory, side_m: float) -> RoadNetwork:
    """A two-way street west to east on the equator (9.000 to 9.004), and a two-way side street off it
    at 9.002, ``side_m`` metres north to a dead end."""
    nodes = {1: (0.0, 9.0), 2: (0.0, 9.002), 3: (0.0, 9.004), 4: (side_m / DEG_M, 9.002)}
    ways = [(100, [1, 2, 3], {"highway": "residential"}), (101, [2, 4], {"highway": "residential"})]
    return osm_network(nodes, ways, name="side-street.osm")


def grid_bins() -> list[Bin]:
    """Two bins on each ~111 m stretch of rows 1-3 of the grid (at 30 % and 70 % of it), in snake order:
    row 1 west to east, row 2 east to west, row 3 west to east."""
    bins = []
    for row in (1, 2, 3):
        spots = [col + f for col in range(6) for f in (0.3, 0.7)]
        if row == 2:
            spots = spots[::-1]
        bins += [Bin(id=f"r{row}-{x:.1f}", lon=9.0 + x * 0.001, lat=row * 0.001 + KERB_DEG, demand_kg=10.0,
                     service_s=30.0) for x in spots]
    return bins


@pytest.fixture
def grid_case(street_grid: RoadNetwork) -> SimpleNamespace:
    """The grid, its problem (one lorry, 36 bins), the problem placed on it (``prepared``) and the
    snake's ``stops``."""
    bins = grid_bins()
    problem = Problem(depots=(Depot("depot", 9.0, 0.0),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=10_000.0),))
    prepared = prepare(problem, street_grid)
    return SimpleNamespace(network=street_grid, problem=problem, prepared=prepared,
                           stops=[b.id for b in bins])


@pytest.fixture(scope="module")
def monaco_case(monaco: RoadNetwork) -> SimpleNamespace:
    """60 bins of the demo problem nearest its depot, one lorry, and its ``stops`` in the order of
    :func:`solver.plain_rounds.nearest_bin_rounds`."""
    body = json.loads((REPO / "data" / "demo_problem.json").read_text())
    depot = body["depots"][0]
    near = sorted(body["bins"], key=lambda b: (b["lon"] - depot["lon"]) ** 2 + (b["lat"] - depot["lat"]) ** 2)[:60]
    problem = Problem(depots=(Depot(depot["id"], depot["lon"], depot["lat"]),),
                      bins=tuple(Bin(id=b["id"], lon=b["lon"], lat=b["lat"], demand_kg=b["demand_kg"],
                                     service_s=b["service_s"]) for b in near),
                      vehicles=(Vehicle("rcv-1", depot["id"], capacity_kg=5_000.0),))
    (route,) = nearest_bin_rounds(problem)  # deterministic, unlike a search against the clock
    return SimpleNamespace(network=monaco, problem=problem, prepared=prepare(problem, monaco),
                           stops=list(route.stops))


def demo_round_read_given_the_plan(monaco: RoadNetwork, vehicle_id: str,
                                   options: TraceOptions) -> tuple[set[str], set[str]]:
    """The demo's round ``vehicle_id`` (kept in benchmarks/monaco_demo_routes.json) driven on the Monaco
    network with ``options``, matched and read given the plan's order, alone: the bins it collected and
    those read."""
    problem = to_problem(OptimisationRequest.model_validate(
        json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))))
    routes = json.loads((REPO / "benchmarks" / "monaco_demo_routes.json").read_text(encoding="utf-8"))
    stops = next(r["stops"] for r in routes if r["vehicle_id"] == vehicle_id)
    sim = simulate_round(prepare(problem, monaco), vehicle_id, stops, options)
    places = [*problem.depots, *problem.disposal_sites, *problem.bins]
    snapped = snap_points(monaco, np.array([[p.lon, p.lat] for p in places]))
    trace = clean_trace(monaco, vehicle_id, sim.fixes)
    (done,) = rounds_as_driven(monaco, problem, snapped, [match_trace(monaco, trace)], {}, traces=[trace],
                               planned={vehicle_id: list(stops)})
    return {b for b, _ in sim.truth.bins}, {c.bin_id for c in done.bins}
