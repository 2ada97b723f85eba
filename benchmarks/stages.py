"""Time each stage of one optimisation on a real network: build, snap, matrix, solve, draw.

Usage::

    .venv/bin/python benchmarks/stages.py [--network FILE ...] [--bins N ...]
        [--time-limit-s T] [--seed S]

Defaults: the embedded Monaco network with 300 bins and Rutland (from ../shared)
with 1,000 bins, a 10 s solver limit. Bins are kerbside bins from
``solver.synthetic``; the fleet has enough vehicles of 2,000 kg for the load.
Prints one table row per network: ``build_s`` builds the graph from the OSM file,
``cached_s`` reads it back from the disk cache (what a restarted service does), the
other columns are the stages of ``solver.pipeline.optimise`` (``solve_s`` includes
building the OR-Tools model and runs to the time limit).
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import ortools
import osmnx

from solver.network import load_network
from solver.network.cache import _MEMORY
from solver.pipeline import optimise
from solver.problem import Depot, Problem, SolveOptions, Vehicle
from solver.synthetic import kerbside_bins
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [(ROOT / "data" / "monaco.osm.pbf", 300),
            (ROOT.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf", 1000)]


def run(network_file: Path, n_bins: int, time_limit_s: float, seed: int) -> dict[str, float | str | int]:
    """Stage timings (seconds) for one network and problem size."""
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        network = load_network(network_file, cache_dir=cache_dir)  # built: nothing cached yet
        build_s = time.perf_counter() - started
        _MEMORY.clear()
        started = time.perf_counter()
        load_network(network_file, cache_dir=cache_dir)  # read back from the disk cache
        cached_s = time.perf_counter() - started
    bins = kerbside_bins(network, n_bins, seed=seed)
    # the depot stands on a street near the middle of the bins
    lon = sorted(b.lon for b in bins)[n_bins // 2]
    lat = sorted(b.lat for b in bins)[n_bins // 2]
    n_vehicles = max(2, math.ceil(sum(b.demand_kg for b in bins) / 2000 * 1.25))
    depot = Depot("depot", lon, lat)
    vehicles = [Vehicle(f"rcv-{i + 1}", "depot", 2000.0, 6 * SECONDS_PER_HOUR, 16 * SECONDS_PER_HOUR)
                for i in range(n_vehicles)]
    problem = Problem(depots=(depot,), vehicles=tuple(vehicles), bins=tuple(bins))
    result = optimise(problem, network, SolveOptions(time_limit_s=time_limit_s, seed=seed),
                      snap_limit_m=500.0)
    t = result.timings_s
    s = result.evaluation.summary
    return {"network": network.name, "nodes": network.n_nodes, "bins": n_bins, "vehicles": s.vehicles_used,
            "build_s": build_s, "cached_s": cached_s, "snap_s": t["snapping"], "matrix_s": t["matrix"],
            "solve_s": t["solve"],
            "evaluate_s": t["evaluate"], "geometry_s": t["geometry"], "unassigned": s.bins_unassigned,
            "km": s.distance_m / METRES_PER_KM}


def main() -> None:
    """Print the stage-timing table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", type=Path, nargs="*")
    parser.add_argument("--bins", type=int, nargs="*")
    parser.add_argument("--time-limit-s", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = DEFAULTS if not args.network else list(zip(args.network, args.bins or [300] * len(args.network),
                                                       strict=True))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
          f"osmnx {osmnx.__version__}, ortools {ortools.__version__}, time limit {args.time_limit_s} s, "
          f"seed {args.seed}\n")
    cols = ["network", "nodes", "bins", "vehicles", "build_s", "cached_s", "snap_s", "matrix_s", "solve_s",
            "evaluate_s", "geometry_s", "unassigned", "km"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for path, n in cases:
        row = run(path, n, args.time_limit_s, args.seed)
        print("| " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in cols)
              + " |")


if __name__ == "__main__":
    main()
