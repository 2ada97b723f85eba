"""How stable the nightly batch keeps the rounds: share of bins kept on their round.

Plans one round set of ``--bins`` kerbside bins on a real network (the "approved" plan),
then removes and adds ``--changes`` bins each and re-plans three ways: from scratch, warm
started from the approved plan, and warm started with the stability penalty (what
``wasteroute batch`` does). Prints a table: bins kept on the same vehicle (of those still
present), bins moved, and the change in duration (s) and distance (m). Nothing is
asserted; rerun to measure.

    .venv/bin/python benchmarks/batch_stability.py --bins 120 --vehicles 4 --changes 6 --time-limit-s 5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.batch.nightly import DEFAULT_MOVE_PENALTY, warm_start  # noqa: E402
from app.services import optimisation as service  # noqa: E402
from app.services.answers import read_answer  # noqa: E402
from solver.network import RoadNetwork, load_network  # noqa: E402
from solver.problem import Depot, Problem, SolveOptions, Vehicle  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402


def _plan(problem: Problem, network: RoadNetwork, options: SolveOptions) -> dict:
    """The optimisation answer (as stored) of ``problem``."""
    return json.loads(service.dump_response(service.solve(problem, options, network, snap_limit_m=200.0)))


def _rounds(result: dict) -> dict[str, str]:
    return {f["properties"]["bin_id"]: f["properties"]["vehicle_id"] for f in result["features"]
            if f["properties"]["kind"] == "visit" and f["properties"]["type"] == "bin"}


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", type=Path, default=REPO / "data" / "monaco.osm.pbf")
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var" / "cache")
    parser.add_argument("--bins", type=int, default=120)
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--changes", type=int, default=6, help="bins removed and bins added")
    parser.add_argument("--time-limit-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--penalties", type=float, nargs="+", default=[DEFAULT_MOVE_PENALTY],
                        help="move penalties (money per bin moved) to try with the warm start")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    network = load_network(args.network, cache_dir=args.cache_dir)
    bins = kerbside_bins(network, args.bins + args.changes, seed=args.seed + 1)
    depot = Depot("depot", 7.4149, 43.7302) if args.network.name.startswith("monaco") else Depot(
        "depot", bins[0].lon, bins[0].lat)
    capacity = 1.25 * sum(b.demand_kg for b in bins) / args.vehicles
    vehicles = tuple(Vehicle(f"rcv-{k}", depot.id, capacity_kg=round(capacity)) for k in range(args.vehicles))
    options = SolveOptions(time_limit_s=args.time_limit_s, seed=args.seed)
    approved_problem = Problem(depots=(depot,), vehicles=vehicles, bins=tuple(bins[:args.bins]))
    approved = _plan(approved_problem, network, options)
    kept_bins = bins[args.changes:args.bins]
    tonight = Problem(depots=(depot,), vehicles=vehicles, bins=tuple(kept_bins + bins[args.bins:]))
    old = _rounds(approved)
    start = warm_start(tonight, read_answer(approved))
    ways = {"from scratch": options, "warm start": dataclasses.replace(options, initial_routes=start)}
    for penalty in args.penalties:
        ways[f"warm start + penalty {penalty:g}"] = dataclasses.replace(options, initial_routes=start,
                                                                       move_penalty=penalty)
    print(f"{args.network.name}: {args.bins} bins, {args.vehicles} vehicles, -{args.changes}/+{args.changes} bins, "
          f"{args.time_limit_s:g} s per solve")
    print(f"{'re-plan':<28}{'kept':>8}{'moved':>8}{'d duration s':>14}{'d distance m':>14}")
    for name, way in ways.items():
        result = _plan(tonight, network, way)
        new = _rounds(result)
        common = [b.id for b in kept_bins if b.id in old]
        moved = sum(1 for b in common if new.get(b) != old[b])
        delta_t = result["summary"]["duration_s"] - approved["summary"]["duration_s"]
        delta_d = result["summary"]["distance_m"] - approved["summary"]["distance_m"]
        print(f"{name:<28}{(len(common) - moved) / len(common):>8.1%}{moved:>8}{delta_t:>14,.0f}{delta_d:>14,.0f}")


if __name__ == "__main__":
    main()
