"""What ``fix_directions`` costs and keeps on short time limits: the cases a default must hold on.

Usage::

    .venv/bin/python benchmarks/directed_default.py [--cases rutland,demo] [--fix-directions on,off]
        [--time-limit-s T] [--repeat N]

Cases:

- ``rutland``: the 1,000-bin mixed-stream Rutland case (:mod:`solver.instances.rutland_mixed`:
  twelve lorries, two streams, two tips, time windows, a lunch break), planned as
  tests/solver/test_pipeline.py plans it (``SolveOptions(time_limit_s=15, seed=0,
  engine="ortools")``): street by street, in parts, many stops per second of search;
- ``demo``: the Monaco demo (``data/demo_problem.json``, 320 bins, what ``make run`` serves), its
  body through the service's validation and translation (so with the API's defaults: balanced
  and compact rounds) at its own time limit (5 s).

Each case is planned with ``fix_directions`` as ``--fix-directions`` lists, set explicitly (so the
figures do not depend on the default). Printed, one row per plan: bins, bins served, unassigned
(by reason), km, hours, the manoeuvres the pipeline counts on the drawn lines (``u_turns``:
turning back mid-street or at a junction, with fixed directions only at a depot or tip yard;
``reversing``; ``banned_turns``), wall seconds of :func:`solver.pipeline.optimise`, and the load
average (1 minute) when the plan started. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.schemas import OptimisationRequest  # noqa: E402
from app.services.optimisation import to_problem, to_solve_options  # noqa: E402
from solver.instances.rutland_mixed import rutland_mixed_problem  # noqa: E402
from solver.manoeuvres import Manoeuvres  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline import PlannedRounds, optimise  # noqa: E402
from solver.problem import Problem, SolveOptions  # noqa: E402
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
MONACO = REPO / "data" / "monaco.osm.pbf"
DEMO = REPO / "data" / "demo_problem.json"
CACHE_DIR = REPO / "var" / "network-cache"


def rutland_case(time_limit_s: float | None) -> tuple[Problem, Path, SolveOptions]:
    """The 1,000-bin case and the test's options (15 s unless ``time_limit_s`` is given)."""
    network = load_network(RUTLAND, cache_dir=CACHE_DIR)
    return rutland_mixed_problem(network), RUTLAND, SolveOptions(time_limit_s=time_limit_s or 15.0, seed=0,
                                                                  engine="ortools")


def demo_case(time_limit_s: float | None) -> tuple[Problem, Path, SolveOptions]:
    """The Monaco demo through the service's translation, at its own time limit unless ``time_limit_s``."""
    body: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    if time_limit_s is not None:
        body["options"]["time_limit_s"] = time_limit_s
    request = OptimisationRequest.model_validate(body)
    options = to_solve_options(request.options, default_time_limit_s=5.0, max_time_limit_s=math.inf)
    return to_problem(request), MONACO, options


CASES = {"rutland": rutland_case, "demo": demo_case}


def figures(case: str, fix: bool, problem: Problem, planned: PlannedRounds, wall_s: float, load: float
            ) -> dict[str, Any]:
    """One row of the table."""
    summary = planned.evaluation.summary
    reasons = Counter(u.reason for u in planned.evaluation.unassigned)
    moves = sum(planned.manoeuvres.values(), Manoeuvres())
    return {"case": case, "fix_directions": fix, "bins": len(problem.bins), "served": summary.bins_served,
            "unassigned": ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "0",
            "km": round(summary.distance_m / METRES_PER_KM, 1),
            "hours": round(summary.duration_s / SECONDS_PER_HOUR, 2),
            "u_turns": moves.u_turns, "reversing": moves.reversing, "banned_turns": moves.banned_turns,
            "violations": summary.violations, "wall_s": round(wall_s, 1), "load_1min": round(load, 2)}


def _commit() -> str:
    """The checkout's commit (with ``+`` when the tree has changes)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True)
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def main() -> None:
    """Plan each case with each setting and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="rutland,demo", help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--fix-directions", default="off,on", help="comma-separated: off, on")
    parser.add_argument("--time-limit-s", type=float, help="the search's time limit (default: each case's own)")
    parser.add_argument("--repeat", type=int, default=1, help="plans of each case and setting")
    args = parser.parse_args()
    rows = []
    print(f"# at {_commit()}, started {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    for case in args.cases.split(","):
        problem, _, options = CASES[case](args.time_limit_s)
        network = load_network(RUTLAND if case == "rutland" else MONACO, cache_dir=CACHE_DIR)
        for setting in args.fix_directions.split(","):
            for _ in range(args.repeat):
                fix = setting == "on"
                load = os.getloadavg()[0]
                started = time.perf_counter()
                planned = optimise(problem, network, dataclasses.replace(options, fix_directions=fix))
                rows.append(figures(case, fix, problem, planned, time.perf_counter() - started, load))
                print(json.dumps(rows[-1]), flush=True)
    head = list(rows[0])
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in head) + " |")


if __name__ == "__main__":
    main()
