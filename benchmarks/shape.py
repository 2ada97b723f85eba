"""What balanced and compact rounds cost and give, on a real network, engine by engine.

Usage::

    .venv/bin/python benchmarks/shape.py [--network FILE] [--bins N] [--vehicles K]
        [--capacity-kg C] [--time-limit-s T] [--engines ortools,pyvrp] [--seed S]
        [--near LON,LAT --radius-m R]

Defaults: the embedded Monaco network, 400 kerbside bins of 20 kg (:mod:`solver.synthetic`), the
demo depot, four 2,200 kg lorries (all four needed) and 10 s per solve. Each engine solves the
same problem four times: both options off (as ``wasteroute bench`` does), ``balance`` on,
``compact`` on, both on; each row gives the evaluator's distance and duration, the balance
spreads, the compactness figures the API reports (:mod:`solver.compactness`) and what the solve
relaxed. ``--near`` keeps the first N bins within ``--radius-m`` of a point (a town on a county's
network, the depot there too). One Markdown table on stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.network import load_network  # noqa: E402
from solver.pipeline import optimise  # noqa: E402
from solver.problem import Depot, Problem, SolveOptions, Vehicle  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402

MONACO = REPO / "data" / "monaco.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
SETTINGS = (("off", False, False), ("balance", True, False), ("compact", False, True), ("both", True, True))


def main() -> None:
    """Parse the arguments, solve every engine x setting, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", type=Path, default=MONACO)
    parser.add_argument("--bins", type=int, default=400)
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--capacity-kg", type=float, default=2200.0)
    parser.add_argument("--time-limit-s", type=float, default=10.0)
    parser.add_argument("--engines", default="ortools,pyvrp")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--near", default=None, help="LON,LAT: keep bins near this point")
    parser.add_argument("--radius-m", type=float, default=1500.0)
    args = parser.parse_args()
    network = load_network(args.network, cache_dir=CACHE_DIR)
    if args.near is None:
        pool = kerbside_bins(network, args.bins, seed=args.seed)
    else:
        lon, lat = (float(x) for x in args.near.split(","))
        metres_lon = 111_320.0 * math.cos(math.radians(lat))
        near = [b for b in kerbside_bins(network, 40 * args.bins, seed=args.seed)
                if math.hypot((b.lon - lon) * metres_lon, (b.lat - lat) * 110_574.0) <= args.radius_m]
        pool = near[:args.bins]
    bins = tuple(replace(b, demand_kg=20.0) for b in pool)
    middle = min(bins, key=lambda b: abs(b.lon - sum(x.lon for x in bins) / len(bins))
                 + abs(b.lat - sum(x.lat for x in bins) / len(bins)))
    depot = Depot("depot", 7.4149, 43.7302) if args.network == MONACO else Depot("depot", middle.lon, middle.lat)
    problem = Problem(depots=(depot,), bins=bins,
                      vehicles=tuple(Vehicle(f"rcv-{i + 1}", "depot", args.capacity_kg) for i in range(args.vehicles)))
    print(f"{args.network.name}: {len(bins)} bins, {args.vehicles} x {args.capacity_kg:g} kg, "
          f"{args.time_limit_s:g} s per solve, seed {args.seed}")
    print("| engine | shape | km | hours | rounds | duration spread | load spread | shared streets "
          "| mean overlap | crossing pairs | relaxed | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        for name, balance, compact in SETTINGS:
            started = time.perf_counter()
            planned = optimise(problem, network, SolveOptions(time_limit_s=args.time_limit_s, engine=engine,
                                                              balance=balance, compact=compact))
            wall = time.perf_counter() - started
            s, b, c = planned.evaluation.summary, planned.balance, planned.compactness
            assert b is not None and c is not None
            relaxed = "-" if planned.relaxed is None else (", ".join(planned.relaxed) or "none")
            print(f"| {engine} | {name} | {s.distance_m / 1000:.1f} | {s.duration_s / 3600:.2f} | {s.vehicles_used} "
                  f"| {b.duration_spread:.3f} | {b.load_spread:.3f} | {c.shared_streets} | {c.mean_overlap_share:.3f} "
                  f"| {c.crossing_pairs} | {relaxed} | {wall:.1f} |", flush=True)


if __name__ == "__main__":
    main()
