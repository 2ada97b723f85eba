"""How a plan of today drives, by the rules of issue 15: reversals in its drawn lines, and what
the nearside rule would change, for household bins in and around Oakham on Rutland.

Usage::

    .venv/bin/python benchmarks/manoeuvres.py [--bins N] [--vehicles V] [--time-limit-s T]
        [--seed S] [--near-m M]

Defaults: 2,600 kerbside bins (:mod:`solver.synthetic`, drawn over Rutland with seed 15 and
the first 2,600 inside a box round Oakham), a depot in Oakham, a tip near
Cottesmore, four 10 t lorries (06:00-16:00), optimised with OR-Tools for 60 s. Prints the
nearside figures (busy edges, bins on them, approach slots, stops with and without them) and,
per round, the reversals of its line (:func:`solver.manoeuvres.reversals_in_line`) and how
many lie more than ``--near-m`` metres from any dead end or turning place. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from solver.aggregate import aggregate_bins  # noqa: E402
from solver.manoeuvres import reversals_in_line  # noqa: E402
from solver.nearside import ALONG_EDGE, ALONG_TWIN, EITHER, approach_slots, busy_edges, point_sides  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline import optimise  # noqa: E402
from solver.problem import Bin, Depot, DisposalSite, Problem, SolveOptions, Vehicle  # noqa: E402
from solver.snapping import snap_points  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402
from solver.units import SECONDS_PER_HOUR  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
#: (west, south, east, north) degrees: Oakham and its edges.
OAKHAM_BOX = (-0.77, 52.645, -0.68, 52.695)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", type=int, default=2600)
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--time-limit-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--near-m", type=float, default=30.0)
    args = parser.parse_args()

    network = load_network(RUTLAND, cache_dir=CACHE_DIR)
    west, south, east, north = OAKHAM_BOX
    bins = [b for b in kerbside_bins(network, 20_000, seed=args.seed)
            if west <= b.lon <= east and south <= b.lat <= north][:args.bins]
    problem = Problem(
        depots=(Depot("oakham", -0.7260, 52.6690),), bins=tuple(bins),
        disposal_sites=(DisposalSite("tip-cottesmore", -0.6660, 52.7130, unload_s=600),),
        vehicles=tuple(Vehicle(f"rcv-{k + 1}", "oakham", capacity_kg=10_000.0, shift_start_s=6 * SECONDS_PER_HOUR,
                               shift_end_s=16 * SECONDS_PER_HOUR) for k in range(args.vehicles)))
    places: list[Depot | DisposalSite | Bin] = [*problem.depots, *problem.disposal_sites, *problem.bins]
    lonlat = np.array([[p.lon, p.lat] for p in places])
    print(f"{len(bins)} bins around Oakham, {args.vehicles} lorries, Rutland {network.n_nodes} nodes "
          f"{network.n_edges} edges")

    snapped = snap_points(network, lonlat)
    started = time.perf_counter()
    busy = busy_edges(network)
    slots = approach_slots(network, snapped, point_sides(network, lonlat, snapped), busy)
    nearside_s = time.perf_counter() - started
    on_busy = int(busy[snapped.edge[snapped.edge >= 0]].sum())
    print(f"nearside: {int(busy.sum())} busy edges of {network.n_edges}; {on_busy} of {len(places)} points on one; "
          f"slots either {int((slots == EITHER).sum())}, along the edge {int((slots == ALONG_EDGE).sum())}, "
          f"along the twin {int((slots == ALONG_TWIN).sum())}; {nearside_s * 1000:.0f} ms")
    plain, apart = aggregate_bins(problem, network, snapped), aggregate_bins(problem, network, snapped, approach=slots)
    print(f"stops: {len(plain.problem.bins)} without the nearside rule, {len(apart.problem.bins)} with it")

    started = time.perf_counter()
    rounds = optimise(problem, network, SolveOptions(time_limit_s=args.time_limit_s, seed=0, engine="ortools"))
    print(f"optimised in {time.perf_counter() - started:.0f} s; {len(rounds.evaluation.unassigned)} bins unassigned")
    total = far = 0
    started = time.perf_counter()
    for vehicle, line in sorted(rounds.route_lines.items()):
        found = reversals_in_line(network, line, near_m=args.near_m)
        total, far = total + found.count, far + found.far_count
        print(f"  {vehicle}: {len(line.coords)} vertices, {found.count} reversals, {found.far_count} more than "
              f"{args.near_m:g} m from any dead end or turning place")
    print(f"plan: {total} reversals, {far} far from dead ends and turning places "
          f"(audit {1000 * (time.perf_counter() - started):.0f} ms)")


if __name__ == "__main__":
    main()
