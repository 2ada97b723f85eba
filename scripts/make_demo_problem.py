"""Make the demo problem: bins at kerbside positions along the embedded network's streets.

Usage::

    python scripts/make_demo_problem.py [--network data/monaco.osm.pbf] [--bins 320]
        [--seed 7] [--out data/demo_problem.json]

Bins stand at kerbside positions along local streets (see ``solver.synthetic``).
The output is the JSON body of ``POST /api/v1/optimisations``. Seeded: the same
arguments always give the same file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from solver.network import load_network
from solver.synthetic import kerbside_bins

ROOT = Path(__file__).resolve().parent.parent


def _dump(problem: dict[str, object]) -> str:
    """JSON with one object per line, so the file diffs and reads well."""
    lines = ["{"]
    keys = list(problem)
    for k, key in enumerate(keys):
        value = problem[key]
        end = "," if k < len(keys) - 1 else ""
        if isinstance(value, list):
            items = [json.dumps(item) for item in value]
            lines.append(f" {json.dumps(key)}: [")
            lines.extend(f"  {item}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items))
            lines.append(f" ]{end}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{end}")
    return "\n".join([*lines, "}"]) + "\n"


def main() -> None:
    """Write the demo problem JSON."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", type=Path, default=ROOT / "data" / "monaco.osm.pbf")
    parser.add_argument("--bins", type=int, default=320)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "demo_problem.json")
    args = parser.parse_args()
    bins = kerbside_bins(load_network(args.network), args.bins, seed=args.seed)
    problem: dict[str, object] = {
        "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
        "vehicles": [
            {"id": "rcv-1", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-2", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-3", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-4", "depot": "depot", "capacity_kg": 1200, "shift": ["06:00", "14:00"]},
        ],
        "bins": [{"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": b.demand_kg, "service_s": 30}
                 for b in bins],
        "options": {"time_limit_s": 5, "seed": 0, "engine": "ortools", "objective": "duration"},
    }
    args.out.write_text(_dump(problem), encoding="utf-8")
    total = sum(b.demand_kg for b in bins)
    print(f"wrote {args.out} with {len(bins)} bins, {total:.0f} kg in all")


if __name__ == "__main__":
    main()
