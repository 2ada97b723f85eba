"""Bins named by id, and the facts every feasibility check shares: whether a bin puts a load on
board, whether a vehicle must tip before returning, the short routes a bin alone may take."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from solver.evaluate import find_bin
from solver.problem import BREAK_STOP, Bin, Problem, ProblemError, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG

BIN_TOKEN = "\x00bin"
"""Stands for the bin in the solo sequences of :func:`solo_sequences`."""


def resolve_bins(problem: Problem, bin_ids: Iterable[str], *, field: str = "bin_ids") -> list[Bin]:
    """The bins named by ``bin_ids``, in order; ``ProblemError`` for an unknown or repeated id."""
    resolved: list[Bin] = []
    seen: set[str] = set()
    for i, bin_id in enumerate(bin_ids):
        b = find_bin(problem, bin_id)
        if b is None:
            raise ProblemError(f"{field}[{i}] names unknown bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        if bin_id in seen:
            raise ProblemError(f"{field}[{i}] repeats bin {bin_id!r}", field=f"{field}[{i}]",
                               item_id=bin_id)
        seen.add(bin_id)
        resolved.append(b)
    return resolved


def has_load(b: Bin) -> bool:
    """Whether collecting ``b`` puts anything on board (kg or litres)."""
    return b.demand_kg > LOAD_TOLERANCE_KG or b.volume_l > LOAD_TOLERANCE_KG


def must_tip(problem: Problem, vehicle: Vehicle) -> bool:
    """Whether ``vehicle`` must come back empty (disposal sites exist and it tips before returning)."""
    return bool(problem.disposal_sites) and vehicle.tip_before_return


def solo_sequences(problem: Problem, vehicle: Vehicle) -> tuple[tuple[str, ...], ...]:
    """The short routes a bin alone may take on ``vehicle``: ``[bin]`` and ``[bin, site]`` for each
    site, with the first ``t`` breaks (any ``t``) placed in every possible order-keeping way.
    The bin is :data:`BIN_TOKEN`."""
    physical: list[tuple[str, ...]] = [(BIN_TOKEN,)]
    physical += [(BIN_TOKEN, s.id) for s in problem.disposal_sites]
    sequences = []
    for stops in physical:
        gaps = len(stops) + 1
        for taken in range(len(vehicle.breaks) + 1):
            for placement in itertools.combinations_with_replacement(range(gaps), taken):
                seq: list[str] = []
                for gap in range(gaps):
                    seq.extend([BREAK_STOP] * placement.count(gap))
                    if gap < len(stops):
                        seq.append(stops[gap])
                sequences.append(tuple(seq))
    return tuple(sequences)
