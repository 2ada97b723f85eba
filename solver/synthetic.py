"""Synthetic but realistic problems on a real network, for demos, tests and benchmarks.

Bins are spread along local streets of the network's largest strongly connected
part in proportion to street length, each set back 4-6 m from the street's centre
line to one side (where a wheelie bin stands on the kerb). Weights follow a
240-litre household refuse bin: mean 15 kg, sd 5 kg, clipped to 3-40 kg. Seeded:
the same arguments always give the same bins.
"""

from __future__ import annotations

import numpy as np
import shapely

from solver.network import RoadNetwork
from solver.problem import Bin

LOCAL_STREETS = frozenset({"residential", "living_street", "unclassified", "tertiary", "secondary"})


def _local_street_edges(network: RoadNetwork) -> np.ndarray:
    """One edge per local street (twins left out) inside the largest component."""
    main = network.largest_component()
    chosen = []
    for e in range(network.n_edges):
        twin = int(network.edge_twin[e])
        if 0 <= twin < e:
            continue
        u, v = network.edge_u[e], network.edge_v[e]
        if network.node_component[u] != main or network.node_component[v] != main:
            continue
        if network.edge_length_m[e] < 20:
            continue
        data = network.graph.edges[network.node_osmid[u], network.node_osmid[v], int(network.edge_key[e])]
        highway = data.get("highway")
        kinds = set(highway) if isinstance(highway, list) else {highway}
        if kinds & LOCAL_STREETS:
            chosen.append(e)
    return np.asarray(chosen, dtype=np.int64)


def kerbside_bins(network: RoadNetwork, n_bins: int, *, seed: int, prefix: str = "b") -> list[Bin]:
    """``n_bins`` bins at kerbside positions (lon/lat rounded to 1e-7 degrees, ~1 cm)."""
    rng = np.random.default_rng(seed)
    edges = _local_street_edges(network)
    if edges.size == 0:
        raise ValueError(f"network {network.name} has no local street to put bins on")
    weights = network.edge_length_m[edges] / network.edge_length_m[edges].sum()
    chosen = rng.choice(edges, size=n_bins, p=weights)
    fractions = rng.uniform(0.05, 0.95, size=n_bins)
    setback_m = rng.uniform(4.0, 6.0, size=n_bins) * rng.choice([-1.0, 1.0], size=n_bins)
    lines = network.edge_xy[chosen]
    on_line = shapely.get_coordinates(shapely.line_interpolate_point(lines, fractions, normalized=True))
    ahead = shapely.get_coordinates(
        shapely.line_interpolate_point(lines, np.minimum(fractions + 0.01, 1.0), normalized=True))
    direction = ahead - on_line
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = direction / np.where(norm > 0, norm, 1.0)
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    kerb = on_line + normal * setback_m[:, None]
    lon, lat = network.to_lonlat().transform(kerb[:, 0], kerb[:, 1])
    demand = np.clip(rng.normal(15.0, 5.0, size=n_bins), 3.0, 40.0)
    order = np.lexsort((lat, lon))  # ids by position, so they reveal no route
    return [Bin(id=f"{prefix}{k + 1:05d}", lon=round(float(lon[i]), 7), lat=round(float(lat[i]), 7),
                demand_kg=round(float(demand[i]), 1), service_s=30.0)
            for k, i in enumerate(order)]
