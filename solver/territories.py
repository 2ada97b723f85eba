"""Territories: the bins cut into one compact patch per round, along the streets.

Cluster first, route second, the districting literature's way: each round gets a patch of
bins near each other by road, and the engine then routes each patch (the bins pinned to
its vehicle). Distances are travel times in seconds on the fleet's matrices, made
symmetric (the mean of both directions), so a one-way street does not split a patch.

Each bin's work is its service seconds plus the seconds to its nearest other bin (a round's
driving between bins). :func:`grow_territories` draws territories from a plan's rounds, less
their interleaving (each bin goes where most of its nearest bins are, within a balance
limit); :func:`extend_territories` adds each bin an approved plan did not have to the
territory nearest to it by road (fixed territories kept for later days);
:func:`territory_core` is a territory less its border.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.matrix import TravelMatrices
from solver.problem import Problem, ProblemError

Territories = dict[str, str]
"""Bin id -> the id of the vehicle whose territory holds it."""


def road_distances(problem: Problem, matrices: TravelMatrices, bin_ids: Sequence[str]) -> np.ndarray:
    """Symmetric travel seconds between ``bin_ids`` (mean of both directions); a pair with no path
    gets ten times the longest finite time plus one, so it is joined last."""
    rows = np.array([problem.location_index(b) for b in bin_ids], dtype=np.int64)
    times = matrices.duration_s[np.ix_(rows, rows)]
    mean = (times + times.T) / 2.0
    finite = np.isfinite(mean)
    far = 10.0 * float(mean[finite].max(initial=0.0)) + 1.0
    return np.where(finite, mean, far)


def _bin_work(problem: Problem, bin_ids: Sequence[str], distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bin's work in seconds (service plus the drive to its nearest other bin) and kg."""
    service = np.array([problem.bin(b).service_s for b in bin_ids], dtype=float)
    load = np.array([problem.bin(b).demand_kg for b in bin_ids], dtype=float)
    if len(bin_ids) < 2:
        return service, load
    others = distances + np.diag(np.full(len(bin_ids), np.inf))
    return service + others.min(axis=1), load


def _nearest_seed(distances: np.ndarray, seeds: list[np.ndarray]) -> np.ndarray:
    """The patch (index into ``seeds``) of every bin: its own for a seed, else that of the seed
    nearest to it by road."""
    nearest = np.stack([distances[:, members].min(axis=1) for members in seeds])
    patch = np.argmin(nearest, axis=0).astype(np.int64)
    for t, members in enumerate(seeds):
        patch[members] = t
    return patch


@dataclass(frozen=True)
class _Loads:
    """Each bin's work (s) and kg, and each patch's limits on both."""

    work: np.ndarray
    kg: np.ndarray
    work_cap: np.ndarray
    kg_cap: float

    def fits(self, patch_work: np.ndarray, patch_kg: np.ndarray, t: int, i: int) -> bool:
        return bool(patch_work[t] + self.work[i] <= self.work_cap[t] and patch_kg[t] + self.kg[i] <= self.kg_cap)


def _smooth(distances: np.ndarray, patch: np.ndarray, loads: _Loads, *, neighbours: int, passes: int) -> np.ndarray:
    """``patch`` with every bin whose ``neighbours`` nearest bins by road mostly lie in another patch
    moved there, when that patch has room: two rounds no longer alternate along one street."""
    n, k = patch.size, int(patch.max()) + 1
    if n <= neighbours:
        return patch
    others = distances + np.diag(np.full(n, np.inf))
    near = np.argpartition(others, neighbours, axis=1)[:, :neighbours]
    patch = patch.copy()
    patch_work = np.bincount(patch, weights=loads.work, minlength=k)
    patch_kg = np.bincount(patch, weights=loads.kg, minlength=k)
    for _ in range(passes):
        moved = 0
        for i in range(n):
            votes = np.bincount(patch[near[i]], minlength=k)
            t, own = int(np.argmax(votes)), int(patch[i])
            if t == own or 2 * votes[t] <= neighbours or not loads.fits(patch_work, patch_kg, t, i):
                continue
            patch[i] = t
            patch_work[[own, t]] += (-loads.work[i], loads.work[i])
            patch_kg[[own, t]] += (-loads.kg[i], loads.kg[i])
            moved += 1
        if not moved:
            break
    return patch


def grow_territories(problem: Problem, matrices: TravelMatrices, bin_ids: Sequence[str],
                     rounds: Mapping[str, Sequence[str]], *, tolerance: float = 0.1,
                     neighbours: int = 8, passes: int = 4) -> Territories:
    """Compact territories of ``bin_ids``, one per vehicle of ``rounds``, drawn from a plan's rounds.

    ``rounds`` maps a vehicle id to the bins a plan gave it: each territory starts as its
    round (a bin of no round joins the territory nearest to it by road), then, ``passes``
    times at most, every bin whose ``neighbours`` nearest bins by road mostly lie in another
    territory moves there, so two rounds no longer alternate along one street or share a
    village. A territory takes a bin only while its work (seconds) and kg stay at most
    ``1 + tolerance`` times the mean territory's, or its own at the start if more: a balanced
    plan's territories stay balanced, and a territory cannot swallow another whose bins all
    have neighbours of its own. ``matrices`` are the fleet's (one
    access profile). A vehicle with no bin among ``bin_ids`` gets no territory.
    """
    if not bin_ids:
        return {}
    index = {b: i for i, b in enumerate(bin_ids)}
    vehicles = [v for v, stops in rounds.items() if any(s in index for s in stops)]
    if not vehicles:
        return {}
    distances = road_distances(problem, matrices, bin_ids)
    work, kg = _bin_work(problem, bin_ids, distances)
    seeds = [np.array([index[s] for s in rounds[v] if s in index], dtype=np.int64) for v in vehicles]
    patch = _nearest_seed(distances, seeds)
    k = len(vehicles)
    start_work = np.bincount(patch, weights=work, minlength=k)
    start_kg = np.bincount(patch, weights=kg, minlength=k)
    loads = _Loads(work, kg, np.maximum(start_work, (1 + tolerance) * start_work.mean()),
                   float(max(start_kg.max(), (1 + tolerance) * start_kg.mean())))
    patch = _smooth(distances, patch, loads, neighbours=neighbours, passes=passes)
    return {b: vehicles[int(patch[i])] for i, b in enumerate(bin_ids)}


def extend_territories(problem: Problem, matrices: TravelMatrices, bin_ids: Sequence[str],
                       fixed: Mapping[str, str]) -> Territories:
    """Territories of ``bin_ids``: each bin named in ``fixed`` (bin id -> vehicle id) keeps its
    vehicle, and every other bin joins the territory nearest to it by road."""
    vehicles = sorted({v for b, v in fixed.items() if b in set(bin_ids)})
    if not vehicles:
        return {}
    distances = road_distances(problem, matrices, bin_ids)
    seeds = [np.array([i for i, b in enumerate(bin_ids) if fixed.get(b) == v], dtype=np.int64) for v in vehicles]
    patch = _nearest_seed(distances, seeds)
    return {b: vehicles[int(patch[i])] for i, b in enumerate(bin_ids)}


def check_territories(problem: Problem, territories: Sequence[tuple[str, str]]) -> None:
    """Raise :class:`ProblemError` (field ``options.territories``, the bin's id) for a pair naming a
    bin that is not in ``problem``, a vehicle not in its fleet, or a bin twice."""
    bins = {b.id for b in problem.bins}
    vehicles = {v.id for v in problem.vehicles}
    seen: set[str] = set()
    for bin_id, vehicle_id in territories:
        if bin_id not in bins:
            raise ProblemError(f"options.territories names unknown bin {bin_id!r}", field="options.territories",
                               item_id=bin_id)
        if vehicle_id not in vehicles:
            raise ProblemError(f"options.territories puts bin {bin_id!r} in the territory of unknown vehicle "
                               f"{vehicle_id!r}", field="options.territories", item_id=bin_id)
        if bin_id in seen:
            raise ProblemError(f"options.territories names bin {bin_id!r} twice", field="options.territories",
                               item_id=bin_id)
        seen.add(bin_id)


def territory_core(problem: Problem, matrices: TravelMatrices, territories: Territories, *,
                   neighbours: int = 8) -> Territories:
    """The bins of ``territories`` whose ``neighbours`` nearest bins by road all lie in their own
    territory: the territories less their borders, where a round may take a neighbour's bins."""
    bin_ids = list(territories)
    if len(bin_ids) <= neighbours:
        return dict(territories)
    distances = road_distances(problem, matrices, bin_ids) + np.diag(np.full(len(bin_ids), np.inf))
    near = np.argpartition(distances, neighbours, axis=1)[:, :neighbours]
    owner = np.array([territories[b] for b in bin_ids])
    inside = (owner[near] == owner[:, None]).all(axis=1)
    return {b: territories[b] for b, keep in zip(bin_ids, inside, strict=True) if keep}


def whole_streets(territories: Territories, streets: Mapping[str, int]) -> Territories:
    """``territories`` with every street's bins in one territory: the one most of them are in (the
    first of those on a tie), so no street is served by two rounds because its bins straddled a
    border. Bins without a street (``streets`` does not name them) keep their territory."""
    votes: dict[int, dict[str, int]] = {}
    for bin_id, vehicle in territories.items():
        street = streets.get(bin_id)
        if street is not None:
            count = votes.setdefault(street, {})
            count[vehicle] = count.get(vehicle, 0) + 1
    winner = {street: max(count, key=count.__getitem__) for street, count in votes.items()}
    return {b: winner[streets[b]] if b in streets else v for b, v in territories.items()}
