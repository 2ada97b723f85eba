"""The district-sized week on Rutland's streets, reviewed at growing sizes: time, memory, what the week comes to.

Usage::

    .venv/bin/python benchmarks/rutland_week.py [--properties N ...] [--time-limit-s T] [--workers W]
        [--seconds-per-1000 S] [--network FILE] [--seed S] [--shaped] [--json]

Each size is the week of :mod:`solver.instances.rutland_week` (the ``N`` properties nearest the
Oakham depot, refuse fortnightly for all, recycling for 35 %, garden waste for 15 %, a fleet per
stream in proportion to 12 lorries at 40,000) reviewed by
:func:`solver.week.district.plan_district_review` within ``T`` seconds (or ``S`` seconds per 1,000
properties, at least ``T``), its (day, stream) plans in a pool of ``W`` worker processes
(each loads the network once); with ``--shaped`` each plan is the shaped solve the API asks for (``balance``
and ``compact`` on, one search process a plan), else the plain one. Each size
runs in a child process of its own, so that its peak memory is its own: ``rss_gb`` is the child's
peak resident memory plus its workers' peaks (an upper bound: the peaks need not coincide).
Printed: one row per size (properties, bins, clusters, limit, wall seconds and the overrun past the
limit, the stages' seconds, memory, lorries on the busiest slot and per slot, km, hours, the worst
duration spread of a day's stream and their mean (the rounds of one (day, stream) plan: ``max / mean - 1``),
the plans of several rounds, how many are outside ``balance_tolerance`` by the worse of the duration and load
spreads (the shaped solve's measure), the worst of them and in how many balance was relaxed,
bins left out and why, households moved, the load average before and
after). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import resource
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.instances.rutland_week import district_week  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.problem import SolveOptions  # noqa: E402
from solver.week.district import plan_district_review, route_on_file  # noqa: E402

NETWORK = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"


def one(n: int, time_limit_s: float, workers: int, network_file: pathlib.Path, seed: int,
        shaped: bool = False) -> dict[str, Any]:
    """Review the week of ``n`` properties; its row of figures."""
    load_before = os.getloadavg()[0]
    built = time.perf_counter()
    district = district_week(network_file, n, seed=seed)
    week = district.week
    network = load_network(network_file, cache_dir=CACHE_DIR)
    prepared_s = time.perf_counter() - built
    options = SolveOptions(seed=seed, balance=True, compact=True) if shaped else SolveOptions(seed=seed)
    started = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            review = plan_district_review(week, network, options, time_limit_s=time_limit_s, executor=pool,
                                          workers=workers,
                                          day_solver=partial(route_on_file, str(network_file), str(CACHE_DIR)))
    else:
        review = plan_district_review(week, network, options, time_limit_s=time_limit_s)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    per_slot = review.vehicles_per_slot()
    calendar = review.calendar
    summaries = [d.rounds.evaluation.summary for d in review.days]
    spreads = [d.rounds.balance.duration_spread for d in review.days if d.rounds.balance is not None]
    # the shaped solve's own measure: the worse of the duration and load spreads, of plans of several rounds
    several = [(max(d.rounds.balance.duration_spread, d.rounds.balance.load_spread), d) for d in review.days
               if d.rounds.balance is not None and d.rounds.balance.rounds > 1]
    worst = max(several, key=lambda pair: pair[0], default=None)
    return {
        "properties": n, "bins": len(week.problem.bins), "clusters": review.clusters, "limit_s": time_limit_s,
        "wall_s": round(wall, 1), "overrun_s": round(wall - time_limit_s, 1),
        "stages_s": {k: round(v, 1) for k, v in review.timings_s.items()},
        "day_jobs": len(review.days), "slowest_day_s": round(max((d.wall_s for d in review.days), default=0.0), 1),
        "rss_gb": round((own + workers * children) / 1024 / 1024, 2),
        "busiest_slot_lorries": review.max_vehicles_per_day,
        "lorries_per_slot": " ".join(str(per_slot.get(s, 0)) for s in range(calendar.horizon)),
        "km": round(sum(s.distance_m for s in summaries) / 1000, 1),
        "hours": round(sum(s.duration_s for s in summaries) / 3600, 1),
        "worst_duration_spread": round(max(spreads, default=0.0), 2),
        "mean_duration_spread": round(sum(spreads) / len(spreads), 2) if spreads else 0.0,
        "shaped": shaped,
        "plans_of_several_rounds": len(several),
        "outside_tolerance": sum(1 for spread, _ in several if spread > options.balance_tolerance + 1e-9),
        "worst_spread_plan": None if worst is None else f"slot {worst[1].slot} {worst[1].stream}: {worst[0]:.2f}",
        "balance_relaxed": sum(1 for _, d in several if "balance" in (d.rounds.relaxed or ())),
        "bins_left_out": sum(len(d.rounds.evaluation.unassigned) for d in review.days),
        "left_out_why": dict(Counter(u.reason for d in review.days for u in d.rounds.evaluation.unassigned)),
        "households_moved": len(review.day_changes),
        "load_avg": f"{load_before:.1f}->{os.getloadavg()[0]:.1f}", "built_s": round(prepared_s, 1),
    }


def main() -> None:
    """Run each size in a child process; print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--properties", type=int, nargs="+", default=[1000])
    parser.add_argument("--time-limit-s", type=float, default=60.0)
    parser.add_argument("--seconds-per-1000", type=float, default=None,
                        help="a limit in proportion to the properties instead (at least --time-limit-s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--network", type=pathlib.Path, default=NETWORK)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON lines")
    parser.add_argument("--shaped", action="store_true", help="plans balanced and compact, as the API asks")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.properties[0], args.time_limit_s, args.workers, args.network, args.seed,
                             args.shaped)))
        return
    rows = []
    for n in args.properties:
        limit = args.time_limit_s if args.seconds_per_1000 is None else max(args.time_limit_s,
                                                                            args.seconds_per_1000 * n / 1000)
        out = subprocess.run([sys.executable, __file__, "--one", "--properties", str(n), "--time-limit-s",
                              str(limit), "--workers", str(args.workers), "--network", str(args.network),
                              "--seed", str(args.seed), *(["--shaped"] if args.shaped else [])], check=True,
                             capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    head = list(rows[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in head) + " |")


if __name__ == "__main__":
    main()
