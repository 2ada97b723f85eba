"""How well actual rounds are read back from GPS traces (issue 18): planned rounds driven by the
simulator (:mod:`solver.traces.simulate`), matched (:mod:`solver.traces.matching`) and read as driven
(:mod:`solver.traces.driven`), against the truth the simulator kept.

Usage::

    .venv/bin/python benchmarks/traces.py [--intervals 1,5,30] [--noise-m 10] [--seed 0 | --seeds 0,1,2]
        [--no-oakham] [--cases monaco,oakham] [--rounds rcv-1,rcv-4] [--replan [--write-rounds]] [--departures]

Cases: the Monaco demo problem (``data/demo_problem.json``) driven on the rounds kept in
``benchmarks/monaco_demo_routes.json`` (planned once by the service with the demo's options: a 5 s
search on a busy machine plans other rounds from run to run, and the rows of two runs would not be of
the same rounds; ``--replan`` plans them afresh, ``--write-rounds`` keeps the new ones) and, when
``../shared`` holds the Rutland extract, the Oakham case of issue 15 driven on its rounds of today
(``benchmarks/oakham_before_routes.json``). Each round is driven once per sampling interval with
``--noise-m`` metres of GPS noise, 2 % of fixes lost and a 2-minute tunnel, once per seed of
``--seeds`` (the simulator's draw of noise, losses and standing); with ``--departures`` every crew
departs from its plan (a street skipped, a stretch driven in reverse, an extra tip run: the truth holds
only the bins collected). Prints one row per round, interval
and seed: true and matched km, the error, the error of the km as read given the plan
(``plan_error_pct``: the drive laid through the bins the plan's order names where no fix shows
them, :mod:`solver.traces.relay`), the bins collected and those read from where the
lorry stood (hits, and bins read that were not collected), the same read given the plan's bins of
the round (``read_plan``, ``false_plan``: the day read with the plan's rounds in order,
``rounds_as_driven(planned=...)``), and the seconds the matching and reading took. A day's rounds are
read together, as the service reads them (each bin collected once), so ``--rounds`` reads a day of
those rounds only. The issue's target: matched km within 2 % and 98 % of the bins read, per
round; after the table, per interval over all seeds, the rounds within 2 % of the true km (matched, and
read given the plan) and those with
98 % of the bins read (from stops alone, and given the plan): one seed is one draw, and at 30 s a round
within 2 % on one draw was 2-5 % short on others (docs/actuals.md). ``--cases`` and ``--rounds`` keep a
subset (to develop on). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.schemas import OptimisationRequest  # noqa: E402
from app.services.optimisation import to_problem, to_solve_options  # noqa: E402
from solver.instances.oakham import oakham_request  # noqa: E402
from solver.network import RoadNetwork, load_network  # noqa: E402
from solver.pipeline import optimise  # noqa: E402
from solver.pipeline.stages import prepare  # noqa: E402
from solver.problem import Bin, Depot, DisposalSite, Problem  # noqa: E402
from solver.snapping import snap_points  # noqa: E402
from solver.traces.clean import clean_trace  # noqa: E402
from solver.traces.driven import bin_stands, rounds_as_driven  # noqa: E402
from solver.traces.matching import match_trace  # noqa: E402
from solver.traces.pinned import matched_again  # noqa: E402
from solver.traces.simulate import Departures, TraceOptions, simulate_round, tip_sites  # noqa: E402
from solver.units import METRES_PER_KM  # noqa: E402

CACHE_DIR = REPO / "var" / "network-cache"
RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
OAKHAM_ROUTES = REPO / "benchmarks" / "oakham_before_routes.json"
MONACO_ROUTES = REPO / "benchmarks" / "monaco_demo_routes.json"


def _departures_for(problem: Problem, vehicle_id: str, departures: Departures | None) -> Departures | None:
    """``departures`` for one vehicle: no extra tip run where no disposal site takes its loads (the Monaco
    demo has none)."""
    if departures is None or not departures.extra_tip or tip_sites(problem, vehicle_id):
        return departures
    return replace(departures, extra_tip=False)


def measure(case: str, problem: Problem, network: RoadNetwork, rounds: dict[str, list[str]],
            intervals: list[float], noise_m: float, seeds: int | Sequence[int],
            only: set[str] | None = None, departures: Departures | None = None) -> list[dict[str, Any]]:
    """One row per round (of ``only``, when given), sampling interval (seconds) and seed of ``seeds``; every
    round driven with ``departures`` from its plan, when given (the bins of a street skipped are not
    collected, so a bin of it read counts as false)."""
    seeds = [seeds] if isinstance(seeds, int) else list(seeds)
    prepared = prepare(problem, network)
    places: list[Depot | DisposalSite | Bin] = [*problem.depots, *problem.disposal_sites, *problem.bins]
    snapped = snap_points(network, np.array([[p.lon, p.lat] for p in places]))
    stands = bin_stands(network, problem, snapped)
    rows: list[dict[str, Any]] = []
    chosen = {v: stops for v, stops in rounds.items() if only is None or v in only}
    for interval, seed in ((i, s) for i in intervals for s in seeds):
        truth, traces, matched, seconds = {}, [], [], []
        for vehicle_id, stops in chosen.items():
            sim = simulate_round(prepared, vehicle_id, stops, TraceOptions(seed=seed, interval_s=interval,
                                                                           noise_m=noise_m),
                                 _departures_for(problem, vehicle_id, departures))
            started = time.perf_counter()
            traces.append(clean_trace(network, vehicle_id, sim.fixes))
            matched.append(match_trace(network, traces[-1], stands=stands))
            seconds.append(time.perf_counter() - started)
            truth[vehicle_id] = sim
        # the day's rounds read together, as the service reads them (each bin collected once)
        started = time.perf_counter()
        read_of = rounds_as_driven(network, problem, snapped, matched, {}, traces=traces)
        shared_s = (time.perf_counter() - started) / max(len(matched), 1)
        plan = {v: list(stops) for v, stops in chosen.items()}
        given = rounds_as_driven(network, problem, snapped, matched, {}, traces=traces, planned=plan)
        # as the service reads a day given its plan: matched again where a planned bin read pins the drive
        again = matched_again(network, problem, snapped, traces, matched, given, plan, stands)
        if again is not None:
            given = rounds_as_driven(network, problem, snapped, again, {}, traces=traces, planned=plan)
        for k, (vehicle_id, sim) in enumerate(truth.items()):
            done = read_of[k]
            true_bins = {b for b, _ in sim.truth.bins}
            read = {c.bin_id for c in done.bins}
            planned = {c.bin_id for c in given[k].bins}
            rows.append({
                "case": case, "round": vehicle_id, "interval_s": interval, "seed": seed,
                "fixes": len(sim.fixes),
                "true_km": sim.truth.distance_m / METRES_PER_KM, "matched_km": done.distance_m / METRES_PER_KM,
                "error_pct": 100.0 * (done.distance_m / sim.truth.distance_m - 1.0),
                "plan_error_pct": 100.0 * (given[k].distance_m / sim.truth.distance_m - 1.0),
                "bins": len(true_bins), "read": len(read & true_bins), "read_pct": 100.0 * len(read & true_bins)
                / max(len(true_bins), 1), "false": len(read - true_bins),
                "read_plan_pct": 100.0 * len(planned & true_bins) / max(len(true_bins), 1),
                "false_plan": len(planned - true_bins), "seconds": seconds[k] + shared_s,
            })
            print(_row(rows[-1]), flush=True)
    return rows


HEADER = ("case", "round", "interval_s", "seed", "fixes", "true_km", "matched_km", "error_pct", "plan_error_pct",
          "bins", "read",
          "read_pct", "false", "read_plan_pct", "false_plan", "seconds")


def _row(row: dict[str, Any]) -> str:
    cells = []
    for key in HEADER:
        value = row[key]
        cells.append(f"{value:.2f}" if isinstance(value, float) else str(value))
    return "| " + " | ".join(cells) + " |"


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """Per sampling interval, over every round and seed in ``rows``: the rounds within 2 % of the true km,
    with 98 % of the bins collected read from stops alone (and of those, at most 1 % of the round's bins
    read falsely), and the same given the plan's bins; then all intervals together."""
    lines = []
    groups = [(f"{interval:g} s", [r for r in rows if r["interval_s"] == interval])
              for interval in sorted({r["interval_s"] for r in rows})]
    for label, group in [*groups, ("all", rows)]:
        seeds = ",".join(str(s) for s in sorted({r["seed"] for r in group}))
        within = sum(1 for r in group if abs(r["error_pct"]) <= 2.0)
        within_plan = sum(1 for r in group if abs(r["plan_error_pct"]) <= 2.0)
        read = sum(1 for r in group if r["read_pct"] >= 98.0)
        clean = sum(1 for r in group if r["read_pct"] >= 98.0 and r["false"] <= 0.01 * r["bins"])
        read_plan = sum(1 for r in group if r["read_plan_pct"] >= 98.0)
        clean_plan = sum(1 for r in group if r["read_plan_pct"] >= 98.0 and r["false_plan"] <= 0.01 * r["bins"])
        lines.append(f"{label} (seeds {seeds}): rounds within 2 % of the true km: {within} of {len(group)} "
                     f"(given the plan: {within_plan}); "
                     f"with 98 % of bins read: {read} of {len(group)} ({clean} with at most 1 % false); "
                     f"given the plan: {read_plan} ({clean_plan})")
    return lines


def write_rounds(path: Path, rounds: dict[str, list[str]]) -> None:
    """Keep ``rounds`` (vehicle id -> its stops in order) as the benchmark reads them: one round a line."""
    lines = [json.dumps({"vehicle_id": v, "stops": stops}) for v, stops in rounds.items()]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", default="1,5,30")
    parser.add_argument("--noise-m", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0, help="one seed (when --seeds is not given)")
    parser.add_argument("--seeds", default="", help="seeds to drive every round with, e.g. 0,1,2")
    parser.add_argument("--no-oakham", action="store_true")
    parser.add_argument("--cases", default="monaco,oakham", help="which cases to run (monaco, oakham)")
    parser.add_argument("--rounds", default="", help="which rounds (vehicle ids) to run; all when empty")
    parser.add_argument("--replan", action="store_true", help="plan the Monaco rounds afresh (5 s search)")
    parser.add_argument("--departures", action="store_true",
                        help="every crew departs from its plan: a street skipped, a stretch reversed, an extra tip run")
    parser.add_argument("--write-rounds", action="store_true", help="with --replan: keep the new Monaco rounds")
    args = parser.parse_args()
    intervals = [float(x) for x in args.intervals.split(",")]
    cases = set(args.cases.split(","))
    only = set(args.rounds.split(",")) if args.rounds else None
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    departures = Departures(skip_street=True, reorder=True, extra_tip=True) if args.departures else None

    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    rows: list[dict[str, Any]] = []
    if "monaco" in cases:
        body = json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))
        request = OptimisationRequest.model_validate(body)
        problem = to_problem(request)
        monaco = load_network(REPO / "data" / "monaco.osm.pbf", cache_dir=CACHE_DIR)
        if args.replan or not MONACO_ROUTES.is_file():
            options = to_solve_options(request.options, default_time_limit_s=5.0, max_time_limit_s=math.inf)
            planned = optimise(problem, monaco, options)
            rounds = {r.vehicle_id: [v.location_id for v in r.visits if v.type != "depot"]
                      for r in planned.evaluation.routes}
            if args.write_rounds:
                write_rounds(MONACO_ROUTES, rounds)
        else:
            rounds = {r["vehicle_id"]: r["stops"] for r in json.loads(MONACO_ROUTES.read_text(encoding="utf-8"))}
        rows += measure("monaco demo", problem, monaco, rounds, intervals, args.noise_m, seeds, only, departures)
    if "oakham" in cases and not args.no_oakham and RUTLAND.is_file():
        request = OptimisationRequest.model_validate(oakham_request(RUTLAND))
        problem = to_problem(request)
        rutland = load_network(RUTLAND, cache_dir=CACHE_DIR)
        saved = json.loads(OAKHAM_ROUTES.read_text(encoding="utf-8"))
        rows += measure("oakham before", problem, rutland, {r["vehicle_id"]: r["stops"] for r in saved}, intervals,
                        args.noise_m, seeds, only, departures)
    print()
    for line in summary(rows):
        print(line)


if __name__ == "__main__":
    main()
