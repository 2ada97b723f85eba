"""Tests of solver.decompose: sweep parts cover every stop once and share the vehicles out,
pinned stops follow their vehicle, and the large-problem path solves its parts through a
real ProcessPoolExecutor with every bin served."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from solver.decompose import ScaleOptions, n_parts_for, run_all, sweep_parts
from solver.network import RoadNetwork
from solver.pipeline import optimise
from solver.problem import Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.synthetic import kerbside_bins


def problem_on(network: RoadNetwork, n_bins: int, n_vehicles: int) -> Problem:
    """Kerbside bins with a depot and tip at the first bin, ``n_vehicles`` 5 t vehicles of no given size."""
    bins = kerbside_bins(network, n_bins, seed=1)
    depot = bins[len(bins) // 2]
    vehicles = tuple(Vehicle(id=f"v{k}", depot_id="depot", capacity_kg=5000.0, hgv=False) for k in range(n_vehicles))
    return Problem(depots=(Depot("depot", depot.lon, depot.lat),), vehicles=vehicles, bins=tuple(bins),
                   disposal_sites=(DisposalSite("tip", depot.lon, depot.lat),))


@pytest.fixture(scope="module")
def rutland_problem(rutland: RoadNetwork) -> Problem:
    """3,000 Rutland kerbside bins and twelve vehicles."""
    return problem_on(rutland, 3000, 12)


def test_parts_cover_every_stop_once(rutland_problem: Problem) -> None:
    """Five sweep parts hold each of the 3,000 stops exactly once, none empty."""
    parts = sweep_parts(rutland_problem, 5)
    assert len(parts) == 5 and all(p.bin_ids for p in parts)
    assert Counter(b for p in parts for b in p.bin_ids) == Counter(b.id for b in rutland_problem.bins)


def test_vehicles_are_shared_out_in_proportion(rutland_problem: Problem) -> None:
    """Every vehicle is in exactly one part, each part has one at least, and vehicles follow work:
    a part's share of vehicles is within one vehicle of its share of the service time."""
    parts = sweep_parts(rutland_problem, 5)
    vehicles = [v for p in parts for v in p.vehicle_ids]
    assert sorted(vehicles) == sorted(v.id for v in rutland_problem.vehicles)
    total = sum(b.service_s for b in rutland_problem.bins)
    for part in parts:
        assert part.vehicle_ids
        work = sum(rutland_problem.bin(b).service_s for b in part.bin_ids) / total
        assert abs(len(part.vehicle_ids) - work * len(vehicles)) <= 1.5


def test_parts_are_compact_sectors(rutland_problem: Problem) -> None:
    """Parts are angular sectors around the depot: their angle ranges do not interleave."""
    depot = rutland_problem.depots[0]
    ranges = []
    for part in sweep_parts(rutland_problem, 4):
        angles = np.sort([np.arctan2(rutland_problem.bin(b).lat - depot.lat, rutland_problem.bin(b).lon - depot.lon)
                          for b in part.bin_ids])
        ranges.append(angles)
    # each part's bins, rotated to start after its largest gap, span less than the whole circle
    for angles in ranges:
        gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
        assert 2 * np.pi - gaps.max() < 2 * np.pi * 0.5


def test_pinned_stop_goes_to_its_vehicles_part(rutland_problem: Problem) -> None:
    """A stop pinned to a vehicle lands in the part that vehicle serves."""
    pinned = replace(rutland_problem.bins[0], vehicle_id="v11")
    problem = replace(rutland_problem, bins=(pinned, *rutland_problem.bins[1:]))
    part = next(p for p in sweep_parts(problem, 4) if pinned.id in p.bin_ids)
    assert "v11" in part.vehicle_ids


def test_never_more_parts_than_vehicles(rutland_problem: Problem) -> None:
    """Asking for more parts than vehicles gives one part per vehicle."""
    small = replace(rutland_problem, vehicles=rutland_problem.vehicles[:3])
    assert len(sweep_parts(small, 10)) == 3
    assert n_parts_for(1201, ScaleOptions(max_part_stops=600)) == 3


@pytest.mark.spawns
def test_run_all_keeps_job_order_in_a_process_pool() -> None:
    """Jobs run through a process pool come back in job order, as they do run here."""
    jobs = [(k, 3) for k in range(6)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert list(run_all(pow, jobs, pool)) == [k**3 for k in range(6)]
    assert list(run_all(pow, jobs, None)) == [k**3 for k in range(6)]


@pytest.mark.spawns
def test_parts_solved_in_a_process_pool_serve_every_bin(monaco: RoadNetwork) -> None:
    """400 Monaco bins, aggregated and cut into parts of at most 60 stops solved by two worker
    processes (sharing a 3 s time limit): every bin on exactly one route, no violation."""
    problem = problem_on(monaco, 400, 6)
    scale = ScaleOptions(aggregate_from_bins=1, max_part_stops=60, parallel_parts=2)
    with ProcessPoolExecutor(max_workers=2) as pool:
        rounds = optimise(problem, monaco, SolveOptions(time_limit_s=3.0), scale=scale, executor=pool)
    visits = Counter(v.location_id for r in rounds.evaluation.routes for v in r.visits if v.type == "bin")
    assert visits == Counter(b.id for b in problem.bins)
    assert rounds.evaluation.summary.violations == 0 and rounds.sizes["parts"] >= 2


def test_time_limit_is_shared_out_among_parts() -> None:
    """Five parts two at a time run in three rounds, so each gets a third of the request's time;
    an explicit part time limit wins."""
    assert ScaleOptions(parallel_parts=2).part_time_s(90.0, 5) == pytest.approx(30.0)
    assert ScaleOptions().part_time_s(90.0, 3) == pytest.approx(30.0)
    assert ScaleOptions(part_time_limit_s=7.0, parallel_parts=2).part_time_s(90.0, 5) == 7.0
