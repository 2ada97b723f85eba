"""How balanced a plan's rounds are: the longest and heaviest round against the mean.

Crews are paid and rostered by the shift, so a plan of one short round and three long
ones is unbalanced even when its total is short. The figures here are what a
``balance_tolerance`` is compared with: ``duration_spread = max / mean - 1`` of the
rounds' ``duration_s`` (0 when every round lasts as long; 0.1 when the longest is 10 %
over the mean), and ``load_spread`` the same of the kg each round collects. Every
reported round of the evaluation counts (a round that only tips counts with 0 kg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.solution import RouteEvaluation


@dataclass(frozen=True)
class PlanBalance:
    """Durations (seconds) and loads (kg) of a plan's rounds: least, most, mean and spread.

    ``rounds`` is how many rounds were measured; with none, every figure is 0. A spread
    is ``max / mean - 1`` (0..rounds-1), 0 when the mean is 0.
    """

    rounds: int
    duration_min_s: float
    duration_max_s: float
    duration_mean_s: float
    duration_spread: float
    load_min_kg: float
    load_max_kg: float
    load_mean_kg: float
    load_spread: float


def spread(values: np.ndarray) -> float:
    """``max / mean - 1`` of ``values`` (0 for none, or when the mean is 0)."""
    if values.size == 0:
        return 0.0
    mean = float(values.mean())
    return float(values.max()) / mean - 1.0 if mean > 0 else 0.0


def plan_balance(routes: Sequence[RouteEvaluation]) -> PlanBalance:
    """The balance of evaluated ``routes`` (an :class:`~solver.solution.Evaluation`'s ``routes``)."""
    durations = np.array([r.duration_s for r in routes], dtype=float)
    loads = np.array([r.load_kg for r in routes], dtype=float)
    if durations.size == 0:
        return PlanBalance(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return PlanBalance(
        rounds=int(durations.size),
        duration_min_s=float(durations.min()), duration_max_s=float(durations.max()),
        duration_mean_s=float(durations.mean()), duration_spread=spread(durations),
        load_min_kg=float(loads.min()), load_max_kg=float(loads.max()),
        load_mean_kg=float(loads.mean()), load_spread=spread(loads))


@dataclass(frozen=True)
class FleetBalance:
    """The balance of the rounds of one group of lorries: those carrying the same ``streams``.

    A day's rounds of different work (a refuse round beside a garden-waste one) are not meant to
    last as long as each other; ``balance_tolerance`` governs the rounds planned together, which are
    the rounds of lorries carrying the same streams. ``within_tolerance`` is ``None`` when no
    tolerance was asked for, and ``True`` for a group of fewer than two rounds.
    """

    streams: tuple[str, ...]
    balance: PlanBalance
    within_tolerance: bool | None


def balance_by_fleet(routes: Sequence[RouteEvaluation], streams_of: Mapping[str, tuple[str, ...]],
                     tolerance: float | None) -> list[FleetBalance]:
    """The balance of ``routes`` grouped by the streams their vehicle carries (``streams_of``: vehicle id to
    its streams), in the order of the streams; each group checked against ``tolerance`` (a spread of
    duration and of load, as the shaped solve keeps it) when one is given."""
    groups: dict[tuple[str, ...], list[RouteEvaluation]] = {}
    for route in routes:
        groups.setdefault(tuple(sorted(streams_of.get(route.vehicle_id, ()))), []).append(route)
    out = []
    for streams in sorted(groups):
        measured = plan_balance(groups[streams])
        within = None if tolerance is None else (
            measured.rounds < 2 or max(measured.duration_spread, measured.load_spread) <= tolerance + 1e-9)
        out.append(FleetBalance(streams, measured, within))
    return out
