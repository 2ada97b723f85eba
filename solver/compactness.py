"""How compact a plan's rounds are: streets served by more than one round, and how far
each round reaches into the others' areas.

Definitions (lengths in metres and areas in square metres, in the network's metric CRS):

- **Street**: an undirected stretch of road between two junctions of the network (a
  directed edge and its twin, the other direction of a two-way street, are one street).
  Its id is ``"<a>-<b>"``, the OSM ids of its end nodes with ``a <= b`` (``"-<key>"``
  added for a second street between the same two junctions). An OSM way is often cut
  into many such stretches, and one name can cover unrelated roads, so neither is used.
- **Served streets** of a round: the streets its bins are snapped onto (a bin off the
  network serves none). A served street counts with its whole length: the crew drives
  all of it.
- **Area** of a round: the concave hull of the vertices of its served streets (shapely's
  ``concave_hull`` at ``hull_ratio``, over the lines straightened by up to
  :data:`HULL_TOLERANCE_M`), widened by ``buffer_m`` (15 m by default: about a
  residential street and its kerbs, the strip a crew serves). The hull follows the
  round's streets, so a round is not punished for serving a long street (a single street
  gives a strip ``2 * buffer_m`` wide), while a round whose streets interleave with
  another's has the other's streets inside its area.
- ``shared_street_share``: the share (0..1) of a round's served street length on streets
  another round also serves. ``overlap_share``: the share of its served street length
  lying inside the union of the other rounds' areas (a street that meets another
  territory at a junction counts its first ``buffer_m`` or so: neighbouring territories
  score a little above 0).
- Two rounds **cross** when their areas overlap by more than ``crossing_min_share`` of
  the smaller area.

Plan figures: the streets served by more than one round (count and ids), the most
rounds serving one street, the means of the rounds' shares over the rounds that serve
a street, and the number of crossing pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from solver.area_outline import area_outline
from solver.network import RoadNetwork
from solver.problem import Problem
from solver.snapping import SnappedPoints
from solver.solution import Evaluation

HULL_TOLERANCE_M = 3.0
"""Metres a street's line may be straightened by before the hull of its round is drawn."""


@dataclass(frozen=True)
class CompactnessOptions:
    """How areas are drawn: ``buffer_m`` metres around the hull, ``hull_ratio`` (0..1, 1 is
    the convex hull) and ``crossing_min_share`` (0..1) of the smaller area two rounds must
    share to cross."""

    buffer_m: float = 15.0
    hull_ratio: float = 0.3
    crossing_min_share: float = 0.1

    def __post_init__(self) -> None:
        if not (self.buffer_m >= 0 and np.isfinite(self.buffer_m)):
            raise ValueError(f"buffer_m must be a number of metres >= 0, got {self.buffer_m}")
        if not 0 <= self.hull_ratio <= 1:
            raise ValueError(f"hull_ratio must lie in 0..1, got {self.hull_ratio}")
        if not 0 <= self.crossing_min_share <= 1:
            raise ValueError(f"crossing_min_share must lie in 0..1, got {self.crossing_min_share}")


@dataclass(frozen=True)
class RoundCompactness:
    """One round's figures: its served ``streets`` and their length (m), its area (m²),
    how many of its streets other rounds serve (``shared_streets``), the two shares
    (0..1), how many other rounds' areas cross its own (``crossing_rounds``), and the
    ``area`` itself as a GeoJSON geometry in WGS84 lon/lat for a map to draw
    (:func:`solver.area_outline.area_outline`; ``None`` when it has no surface)."""

    vehicle_id: str
    streets: int
    street_length_m: float
    area_m2: float
    shared_streets: int
    shared_street_share: float
    overlap_share: float
    crossing_rounds: int
    area: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlanCompactness:
    """A plan's figures (see the module docstring); ``rounds`` in the evaluation's order."""

    rounds: tuple[RoundCompactness, ...]
    streets: int
    shared_streets: int
    shared_street_ids: tuple[str, ...]
    max_rounds_per_street: int
    mean_shared_street_share: float
    mean_overlap_share: float
    crossing_pairs: int
    buffer_m: float

    def of(self, vehicle_id: str) -> RoundCompactness | None:
        """The figures of ``vehicle_id``'s round, or ``None`` if it has none."""
        return next((r for r in self.rounds if r.vehicle_id == vehicle_id), None)


def street_of(network: RoadNetwork, edges: np.ndarray) -> np.ndarray:
    """The street (the lower index of an edge and its twin) of each directed edge."""
    twin = network.edge_twin[edges]
    return np.where(twin >= 0, np.minimum(edges, twin), edges)


def street_ids(network: RoadNetwork, streets: np.ndarray) -> list[str]:
    """The ids of ``streets`` (see the module docstring), aligned with them."""
    a = network.node_osmid[network.edge_u[streets]]
    b = network.node_osmid[network.edge_v[streets]]
    low, high = np.minimum(a, b), np.maximum(a, b)
    keys = network.edge_key[streets]
    return [f"{lo}-{hi}" + (f"-{k}" if k else "") for lo, hi, k in zip(low.tolist(), high.tolist(),
                                                                       keys.tolist(), strict=True)]


def served_streets(problem: Problem, network: RoadNetwork, snapped: SnappedPoints,
                   evaluation: Evaluation) -> list[np.ndarray]:
    """The sorted, distinct streets each round's bins are snapped onto, in route order.

    ``snapped`` holds ``problem``'s locations in matrix order; bins are found by id, so
    a route evaluated on matrices of its own bins (the large-problem path) works too.
    """
    out = []
    for route in evaluation.routes:
        rows = [problem.location_index(v.location_id) for v in route.visits if v.type == "bin"]
        edges = snapped.edge[np.asarray(rows, dtype=np.int64)] if rows else np.zeros(0, dtype=np.int64)
        edges = edges[edges >= 0]
        out.append(np.unique(street_of(network, edges)))
    return out


def _straightened(network: RoadNetwork) -> np.ndarray:
    """Every edge's line straightened by up to :data:`HULL_TOLERANCE_M`, kept with the network.

    A street's bends within a few metres do not change its round's area, and fewer
    vertices make the hulls several times quicker.
    """
    cached = network._cached.get("compactness_lines")
    if cached is None:
        cached = shapely.simplify(network.edge_xy, HULL_TOLERANCE_M, preserve_topology=False)
        network._cached["compactness_lines"] = cached
    return np.asarray(cached)


def _areas(network: RoadNetwork, streets: list[np.ndarray], options: CompactnessOptions) -> np.ndarray:
    """Each round's area (a shapely geometry, empty for a round serving no street)."""
    areas = np.empty(len(streets), dtype=object)
    lines = _straightened(network)
    for i, own in enumerate(streets):
        if own.size == 0:
            areas[i] = shapely.Polygon()
            continue
        hull = shapely.concave_hull(shapely.multilinestrings(lines[own]), ratio=options.hull_ratio)
        # four segments a quarter circle: the areas' outlines stay short, so the overlaps
        # below stay quick, and the rounded corners are within 2 % of a true circle's area
        areas[i] = shapely.buffer(hull, options.buffer_m, quad_segs=4) if options.buffer_m > 0 else hull
    return areas


def _meetings(areas: np.ndarray, min_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Two boolean matrices over the rounds ``i != j``: do their areas meet at all, and do they cross?"""
    n = areas.size
    meeting = np.zeros((n, n), dtype=bool)
    crossing = np.zeros((n, n), dtype=bool)
    if n < 2:
        return meeting, crossing
    size = shapely.area(areas)
    first, second = np.triu_indices(n, 1)
    # only pairs that meet are overlaid (the costly part)
    meet = shapely.intersects(areas[first], areas[second])
    first, second = first[meet], second[meet]
    meeting[first, second] = True
    shared = shapely.area(shapely.intersection(areas[first], areas[second]))
    smaller = np.minimum(size[first], size[second])
    cross = (smaller > 0) & (shared > min_share * smaller)
    crossing[first[cross], second[cross]] = True
    return meeting | meeting.T, crossing | crossing.T


def _length_inside(lines: np.ndarray, length_m: np.ndarray, area: shapely.Geometry) -> float:
    """Metres of ``lines`` (street lengths ``length_m``) inside ``area``.

    Only the streets crossing the area's edge are cut (the costly part); a street wholly
    inside counts its length, one wholly outside nothing.
    """
    if lines.size == 0 or area.is_empty:
        return 0.0
    shapely.prepare(area)
    whole = shapely.contains_properly(area, lines)
    cut = shapely.intersects(area, lines) & ~whole
    return float(length_m[whole].sum()) + float(shapely.length(shapely.intersection(lines[cut], area)).sum())


def plan_compactness(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, evaluation: Evaluation,
                     options: CompactnessOptions | None = None) -> PlanCompactness:
    """The compactness figures of an evaluated plan of ``problem`` on ``network``."""
    options = options or CompactnessOptions()
    streets = served_streets(problem, network, snapped, evaluation)
    every = np.concatenate(streets) if streets else np.zeros(0, dtype=np.int64)
    unique, counts = np.unique(every, return_counts=True)
    shared = unique[counts > 1]
    areas = _areas(network, streets, options)
    meeting, crossing = _meetings(areas, options.crossing_min_share)
    rounds = []
    for i, (route, own) in enumerate(zip(evaluation.routes, streets, strict=True)):
        length = network.edge_length_m[own]
        total = float(length.sum())
        is_shared = np.isin(own, shared)
        # the areas that do not meet this round's own hold none of its streets
        others = shapely.union_all(areas[meeting[i]]) if meeting[i].any() else shapely.Polygon()
        inside = _length_inside(network.edge_xy[own], length, others)
        rounds.append(RoundCompactness(
            vehicle_id=route.vehicle_id, streets=int(own.size), street_length_m=total,
            area_m2=float(shapely.area(areas[i])), shared_streets=int(is_shared.sum()),
            shared_street_share=float(length[is_shared].sum()) / total if total > 0 else 0.0,
            overlap_share=min(inside / total, 1.0) if total > 0 else 0.0,
            crossing_rounds=int(crossing[i].sum()), area=area_outline(network, areas[i])))
    serving = [r for r in rounds if r.streets]
    return PlanCompactness(
        rounds=tuple(rounds), streets=int(unique.size), shared_streets=int(shared.size),
        shared_street_ids=tuple(sorted(street_ids(network, shared))),
        max_rounds_per_street=int(counts.max()) if counts.size else 0,
        mean_shared_street_share=float(np.mean([r.shared_street_share for r in serving])) if serving else 0.0,
        mean_overlap_share=float(np.mean([r.overlap_share for r in serving])) if serving else 0.0,
        crossing_pairs=int(np.triu(crossing, 1).sum()), buffer_m=options.buffer_m)
