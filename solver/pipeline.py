"""Problem in, evaluated and drawn plan out: snap, matrix, solve, evaluate, draw.

(placeholder: being written; the signature below is the contract the app relies on)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import LineString

from solver.problem import Problem, SolveOptions
from solver.solution import Evaluation


@dataclass(frozen=True)
class PlannedRounds:
    """The result of :func:`optimise`.

    ``evaluation`` holds every figure; ``route_lines`` maps vehicle id to its
    street-following LineString (lon/lat); ``stop_points`` maps location id (depot or
    bin) to the ``(lon, lat)`` point on the street where the vehicle stops (absent for
    off-network points); ``timings_s`` maps stage name to seconds spent.
    """

    evaluation: Evaluation
    route_lines: dict[str, LineString]
    stop_points: dict[str, tuple[float, float]]
    timings_s: dict[str, float] = field(default_factory=dict)


def optimise(problem: Problem, network: object, options: SolveOptions, *,
             snap_limit_m: float = 200.0) -> PlannedRounds:
    """Plan optimised rounds for ``problem`` on ``network`` (a ``solver.network.RoadNetwork``)."""
    raise NotImplementedError
