"""What an engine (or a person) proposes, and what the evaluator makes of it.

A :class:`Plan` is only the order of stops per vehicle plus the bins left out; every
figure (distance in metres, durations and clock times in seconds, loads in kg) is
produced by :func:`solver.evaluate.evaluate` into an :class:`Evaluation`, the one
source of every number the service reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UnassignedReason = Literal[
    "off_network",
    "unreachable",
    "capacity",
    "time_window",
    "no_compatible_vehicle",
    "shift_too_short",
    "not_worth_serving",
    "no_feasible_insertion",
]

VisitType = Literal["depot", "bin", "disposal", "break"]


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A bin left out of the plan, with the constraint that rules it out."""

    bin_id: str
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """One vehicle's stops in driving order (bin ids); depot start and end are implied."""

    vehicle_id: str
    stops: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """Stop sequences for the vehicles used, and the bins not served."""

    routes: tuple[RoutePlan, ...]
    unassigned: tuple[Unassigned, ...] = ()


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken constraint on a route: ``type`` (``overload``, ``shift_overrun``, ...),
    the ``stop`` id where it shows, and a human ``detail``."""

    type: str
    stop: str
    detail: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A stop on an evaluated route.

    ``arrival_s`` and ``departure_s`` are seconds since midnight; ``load_kg`` is the
    load on board after the stop; ``distance_m``/``duration_s`` are of the leg that
    ends here (0 for the first depot visit).
    """

    sequence: int
    type: VisitType
    location_id: str
    location_index: int
    arrival_s: float
    departure_s: float
    load_kg: float
    leg_distance_m: float
    leg_duration_s: float


@dataclass(frozen=True, slots=True)
class RouteEvaluation:
    """Figures of one route: metres driven, seconds from leaving the depot to coming
    back, kg collected, bins lifted, loads tipped, cost, and violations."""

    vehicle_id: str
    visits: tuple[Visit, ...]
    distance_m: float
    duration_s: float
    load_kg: float
    n_bins: int
    trips: int
    cost: float
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals over the routes: metres, seconds, vehicles, bins, cost, violations."""

    distance_m: float
    duration_s: float
    vehicles_used: int
    bins_served: int
    bins_unassigned: int
    cost: float
    violations: int = 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A plan with every figure recomputed from the matrices."""

    routes: tuple[RouteEvaluation, ...]
    summary: Summary
    unassigned: tuple[Unassigned, ...] = field(default=())
