"""What measuring balance and compactness adds to an evaluation, on a real network.

Usage::

    .venv/bin/python benchmarks/compactness.py [--network FILE] [--bins N] [--time-limit-s T]
        [--repeats R] [--seed S]

Defaults: Rutland (from ../shared) with 1,000 kerbside bins (:mod:`solver.synthetic`), a
depot at the bin nearest their middle and enough 2,000 kg vehicles, optimised for 5 s.
Then, on the optimised plan, times (best of ``--repeats``) the evaluator alone
(:func:`solver.evaluate.evaluate`, on the prepared matrices), the measurement added
right after it (:func:`solver.pipeline.measure_shape`) and the whole
:func:`solver.pipeline.evaluate_plan` a ``POST /api/v1/evaluations`` runs (snapping,
matrices, evaluation, drawing and the measurement), and prints one table row: the
times, the measurement's share of each, and the figures measured. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.evaluate import evaluate  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline import evaluate_plan, measure_shape, optimise, prepare  # noqa: E402
from solver.problem import Depot, Problem, SolveOptions, Vehicle  # noqa: E402
from solver.solution import Plan, RoutePlan  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402
from solver.units import SECONDS_PER_HOUR  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The quickest of ``repeats`` runs of ``work``, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run(network_file: Path, n_bins: int, time_limit_s: float, repeats: int, seed: int) -> dict[str, object]:
    """One row of the table for ``n_bins`` bins on ``network_file``."""
    network = load_network(network_file, cache_dir=CACHE_DIR)
    bins = kerbside_bins(network, n_bins, seed=seed)
    mid_lon = sorted(b.lon for b in bins)[n_bins // 2]
    mid_lat = sorted(b.lat for b in bins)[n_bins // 2]
    centre = min(bins, key=lambda b: (b.lon - mid_lon) ** 2 + (b.lat - mid_lat) ** 2)
    n_vehicles = max(2, math.ceil(sum(b.demand_kg for b in bins) / 2000 * 1.25))
    vehicles = tuple(Vehicle(f"rcv-{i + 1}", "depot", 2000.0, 6 * SECONDS_PER_HOUR, 16 * SECONDS_PER_HOUR)
                     for i in range(n_vehicles))
    problem = Problem(depots=(Depot("depot", centre.lon, centre.lat),), vehicles=vehicles, bins=tuple(bins))
    planned = optimise(problem, network, SolveOptions(time_limit_s=time_limit_s, seed=seed), snap_limit_m=500.0)
    evaluation = planned.evaluation
    plan = Plan(routes=tuple(RoutePlan(r.vehicle_id, tuple(v.location_id for v in r.visits[1:-1]))
                             for r in evaluation.routes), unassigned=evaluation.unassigned)
    prepared = prepare(problem, network, snap_limit_m=500.0)
    evaluate_s = best_of(repeats, lambda: evaluate(problem, prepared.matrices, plan))
    measure_s = best_of(repeats, lambda: measure_shape(problem, network, prepared.snapped, evaluation))
    whole_s = best_of(repeats, lambda: evaluate_plan(problem, network, plan.routes, snap_limit_m=500.0))
    balance, compactness = measure_shape(problem, network, prepared.snapped, evaluation)
    return {"network": network.name, "bins": n_bins, "rounds": len(evaluation.routes),
            "streets": compactness.streets, "evaluate_s": evaluate_s, "measure_s": measure_s,
            "measure/evaluate": measure_s / evaluate_s if evaluate_s > 0 else math.inf,
            "evaluate_plan_s": whole_s, "measure/evaluate_plan": measure_s / whole_s,
            "duration_spread": balance.duration_spread, "load_spread": balance.load_spread,
            "shared_streets": compactness.shared_streets, "mean_overlap_share": compactness.mean_overlap_share,
            "crossing_pairs": compactness.crossing_pairs}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", type=Path, default=RUTLAND)
    parser.add_argument("--bins", type=int, default=1000)
    parser.add_argument("--time-limit-s", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    row = run(args.network, args.bins, args.time_limit_s, args.repeats, args.seed)
    print(f"# {platform.python_version()} on {platform.machine()}, best of {args.repeats}")
    print("| " + " | ".join(row) + " |")
    print("|" + "---|" * len(row))
    print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()
