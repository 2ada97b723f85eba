"""What every engine provides: a name and a ``solve`` that turns a problem into a plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from solver.matrix import TravelMatrices
from solver.problem import Problem, SolveOptions
from solver.solution import Plan


@runtime_checkable
class Engine(Protocol):
    """A routing engine: pure function of a problem and its matrices to a :class:`Plan`.

    ``solve`` plans routes for the bins named in ``bin_ids`` (the caller has already
    removed the off-network and unreachable ones), within ``options.time_limit_s``
    seconds, repeatably for a given ``options.seed``, minimising ``options.objective``.
    Bins it cannot fit go in ``Plan.unassigned``; an engine gives the reason when it
    has checked one, otherwise ``no_feasible_insertion`` with a detail, and
    :func:`solver.feasibility.explain_dropped` repairs or explains them afterwards.
    Engines compute no reported figures: :func:`solver.evaluate.evaluate` does.
    """

    name: str

    def solve(self, problem: Problem, matrices: TravelMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions) -> Plan:
        """Plan routes for ``bin_ids`` of ``problem`` on ``matrices`` (see the class docstring)."""
        ...
