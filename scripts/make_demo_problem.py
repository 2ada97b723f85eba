"""Make the demo problem: bins at kerbside positions along the embedded network's streets.

Usage::

    python scripts/make_demo_problem.py [--network data/monaco.osm.pbf] [--bins 320]
        [--seed 7] [--out data/demo_problem.json]

Bins are spread along residential and local streets in proportion to street length,
each set back 4-6 m from the street's centre line to one side (where a wheelie bin
stands on the kerb). Weights follow a 240-litre household bin (mean 15 kg). The
output is the JSON body of ``POST /api/v1/optimisations``. Seeded: the same
arguments always give the same file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely

from solver.network import load_network

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STREETS = {"residential", "living_street", "unclassified", "tertiary", "secondary"}


def kerbside_bins(network_file: Path, n_bins: int, seed: int) -> list[dict[str, object]]:
    """``n_bins`` bins (API JSON dicts) on local streets of the network's largest part."""
    network = load_network(network_file)
    rng = np.random.default_rng(seed)
    main = network.largest_component()
    candidates = []
    for e in range(network.n_edges):
        twin = int(network.edge_twin[e])
        if twin >= 0 and twin < e:
            continue  # one draw per street, not per direction
        u, v = network.edge_u[e], network.edge_v[e]
        data = network.graph.edges[network.node_osmid[u], network.node_osmid[v], int(network.edge_key[e])]
        highway = data.get("highway")
        kinds = set(highway) if isinstance(highway, list) else {highway}
        if not kinds & LOCAL_STREETS or network.edge_length_m[e] < 20:
            continue
        if network.node_component[u] != main or network.node_component[v] != main:
            continue
        candidates.append(e)
    edges = np.array(candidates)
    weights = network.edge_length_m[edges] / network.edge_length_m[edges].sum()
    chosen = rng.choice(edges, size=n_bins, p=weights)
    fractions = rng.uniform(0.05, 0.95, size=n_bins)
    setback = rng.uniform(4.0, 6.0, size=n_bins) * rng.choice([-1.0, 1.0], size=n_bins)
    lines = network.edge_xy[chosen]
    on_line = shapely.get_coordinates(shapely.line_interpolate_point(lines, fractions, normalized=True))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.minimum(fractions + 0.01, 1.0),
                                                                   normalized=True))
    direction = ahead - on_line
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = direction / np.where(norm > 0, norm, 1.0)
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    kerb = on_line + normal * setback[:, None]
    lon, lat = network.to_lonlat().transform(kerb[:, 0], kerb[:, 1])
    demand = np.clip(rng.normal(15.0, 5.0, size=n_bins), 3.0, 40.0)
    order = np.lexsort((lat, lon))  # stable ids that do not reveal any route
    return [{"id": f"b{k + 1:05d}", "lon": round(float(lon[i]), 7), "lat": round(float(lat[i]), 7),
             "demand_kg": round(float(demand[i]), 1), "service_s": 30}
            for k, i in enumerate(order)]


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
    problem = {
        "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
        "vehicles": [
            {"id": "rcv-1", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-2", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-3", "depot": "depot", "capacity_kg": 1800, "shift": ["06:00", "14:00"]},
            {"id": "rcv-4", "depot": "depot", "capacity_kg": 1200, "shift": ["06:00", "14:00"]},
        ],
        "bins": kerbside_bins(args.network, args.bins, args.seed),
        "options": {"time_limit_s": 5, "seed": 0, "engine": "ortools", "objective": "duration"},
    }
    args.out.write_text(_dump(problem), encoding="utf-8")
    total = sum(b["demand_kg"] for b in problem["bins"])  # type: ignore[misc]
    print(f"wrote {args.out} with {len(problem['bins'])} bins, {total:.0f} kg in all")


if __name__ == "__main__":
    main()
