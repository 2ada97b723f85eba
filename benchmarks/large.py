"""Large problems end to end: aggregation, decomposition, parts solved in parallel.

Generates ``--bins`` kerbside bins on a real network (:func:`solver.synthetic.kerbside_bins`),
one depot at the bin nearest their middle with a transfer station (tip) beside it, and
a fleet of 26 t refuse lorries with 10 t payload (06:00-16:00, tipping before they
return) large enough for the work, plus two 3.5 t vans for the streets closed to heavy
goods vehicles, then runs :func:`solver.pipeline.optimise` with parts solved by a
``ProcessPoolExecutor`` and prints a table: bins, stops after aggregation, parts,
seconds, peak memory, bins served, violations. Nothing is asserted; rerun to measure.

Peak memory is the peak resident set size (``ru_maxrss``) of this process and of the
largest worker process; together they bound what the run needed at once.

    .venv/bin/python benchmarks/large.py --network ../shared/data/osm/rutland-latest.osm.pbf \\
        --bins 20000 --time-limit-s 60 --workers 2
"""

from __future__ import annotations

import argparse
import logging
import math
import platform
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.decompose import ScaleOptions  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline import optimise  # noqa: E402
from solver.problem import Depot, DisposalSite, Problem, SolveOptions, Vehicle  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402
from solver.units import SECONDS_PER_HOUR  # noqa: E402

CAPACITY_KG = 10_000.0
VAN_CAPACITY_KG = 1_000.0
SHIFT = (6 * SECONDS_PER_HOUR, 16 * SECONDS_PER_HOUR)
#: seconds of shift a vehicle is assumed to spend per bin (lift plus driving) when sizing the fleet.
SECONDS_PER_BIN = 75.0


def large_problem(network: object, n_bins: int, *, seed: int) -> Problem:
    """``n_bins`` kerbside bins, a depot and tip at the bin nearest their middle, and enough vehicles."""
    bins = kerbside_bins(network, n_bins, seed=seed)  # type: ignore[arg-type]
    mid_lon = sorted(b.lon for b in bins)[n_bins // 2]
    mid_lat = sorted(b.lat for b in bins)[n_bins // 2]
    centre = min(bins, key=lambda b: (b.lon - mid_lon) ** 2 + (b.lat - mid_lat) ** 2)
    shift_s = SHIFT[1] - SHIFT[0]
    n_vehicles = max(2, math.ceil(1.2 * sum(b.demand_kg for b in bins) / CAPACITY_KG),
                     math.ceil(n_bins * SECONDS_PER_BIN / shift_s))
    lorries = tuple(Vehicle(id=f"rcv-{k + 1:03d}", depot_id="depot", capacity_kg=CAPACITY_KG,
                            shift_start_s=SHIFT[0], shift_end_s=SHIFT[1], gross_weight_kg=26_000.0, width_m=2.55)
                    for k in range(n_vehicles))
    vans = tuple(Vehicle(id=f"van-{k + 1}", depot_id="depot", capacity_kg=VAN_CAPACITY_KG, shift_start_s=SHIFT[0],
                         shift_end_s=SHIFT[1], gross_weight_kg=3_500.0, width_m=2.0, hgv=False) for k in range(2))
    vehicles = lorries + vans
    return Problem(depots=(Depot("depot", centre.lon, centre.lat),), vehicles=vehicles, bins=tuple(bins),
                   disposal_sites=(DisposalSite("tip", centre.lon, centre.lat),))


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child process."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    """Parse arguments, run each size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", type=Path, default=REPO.parent / "shared/data/osm/rutland-latest.osm.pbf")
    parser.add_argument("--bins", type=int, action="append", help="bins (repeat for several sizes)")
    parser.add_argument("--time-limit-s", type=float, default=60.0, help="search time of each part (s)")
    parser.add_argument("--workers", type=int, default=2, help="processes solving parts (0: in this process)")
    parser.add_argument("--max-part-stops", type=int, default=ScaleOptions.max_part_stops)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var/cache")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sizes = args.bins or [20_000]
    network = load_network(args.network, cache_dir=args.cache_dir)
    print(f"machine: {platform.machine()}, python {platform.python_version()}; network {network.name} "
          f"({network.n_nodes} nodes, simplified {network.simplify}); part time limit {args.time_limit_s} s, "
          f"{args.workers} worker(s), at most {args.max_part_stops} stops a part, seed {args.seed}")
    print()
    print("| bins | vehicles | stops | parts | seconds | stage seconds | peak MB (main) | peak MB (worker) "
          "| served | unassigned | violations | each bin once |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n_bins in sizes:
        problem = large_problem(network, n_bins, seed=args.seed)
        options = SolveOptions(time_limit_s=args.time_limit_s, seed=args.seed)
        scale = ScaleOptions(aggregate_from_bins=1, max_part_stops=args.max_part_stops,
                             part_time_limit_s=args.time_limit_s, parallel_parts=max(1, args.workers))
        started = time.perf_counter()
        if args.workers > 0:
            with ProcessPoolExecutor(max_workers=args.workers) as pool:
                rounds = optimise(problem, network, options, scale=scale, executor=pool)
        else:
            rounds = optimise(problem, network, options, scale=scale)
        seconds = time.perf_counter() - started
        own, worker = peak_mb()
        ev = rounds.evaluation
        visits = Counter(v.location_id for r in ev.routes for v in r.visits if v.type == "bin")
        once = len(visits) + len(ev.unassigned) == n_bins and all(c == 1 for c in visits.values())
        stages = ", ".join(f"{k} {v:.0f}" for k, v in rounds.timings_s.items())
        reasons = Counter(u.reason for u in ev.unassigned)
        print(f"| {n_bins:,} | {len(ev.routes)} of {len(problem.vehicles)} | {int(rounds.sizes['stops']):,} "
              f"| {int(rounds.sizes['parts'])} | {seconds:.0f} | {stages} | {own:.0f} | {worker:.0f} "
              f"| {ev.summary.bins_served:,} | {len(ev.unassigned)} {dict(reasons) or ''} "
              f"| {ev.summary.violations} | {'yes' if once else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
