"""Problem in, evaluated and drawn plan out: snap, matrix, solve, evaluate, draw.

:func:`optimise` is the one path every caller (API, CLI, notebooks, batch) takes
from a :class:`~solver.problem.Problem` to rounds on real streets;
:func:`evaluate_plan` takes a plan made by a person (today's rounds) the same way,
without solving. Each stage is timed and logged at INFO.

Access: every vehicle drives by the matrices of its size (its
:class:`~solver.network.AccessProfile`), and its route is drawn on the same streets.

A problem of at least :attr:`~solver.decompose.ScaleOptions.aggregate_from_bins` bins
takes the large-problem path (:func:`optimise_large`): bins sharing a street become
stops, the stops are cut into parts solved apart, and the plan is expanded back into bins.

One concern per module: :mod:`~solver.pipeline.stages` (the stages every plan goes
through: placing the problem on the network, solving one part, cutting back faulted
routes, drawing), :mod:`~solver.pipeline.run` (:func:`optimise` and
:func:`evaluate_plan`) and :mod:`~solver.pipeline.large` (the large-problem path).
"""

from solver.pipeline.large import optimise_large, reserved_vehicles, stop_matrices
from solver.pipeline.run import evaluate_plan, optimise
from solver.pipeline.stages import (
    PlannedRounds,
    PreparedProblem,
    draw,
    measure_shape,
    prepare,
    solve_part,
    strip_violations,
)

__all__ = [
    "PlannedRounds",
    "PreparedProblem",
    "draw",
    "evaluate_plan",
    "measure_shape",
    "optimise",
    "optimise_large",
    "prepare",
    "reserved_vehicles",
    "solve_part",
    "stop_matrices",
    "strip_violations",
]
