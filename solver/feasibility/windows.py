"""Bins' time windows as arrays (clock seconds), to test many arrivals at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.problem import Bin
from solver.scaling import TIME_TOLERANCE_S

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Windows:
    """Time windows of bins as padded arrays ``(n, k)``: a bin without windows has one that is
    always open, padding windows are never open."""

    opens: FloatArray
    closes: FloatArray
    has_windows: BoolArray

    @classmethod
    def of(cls, bins: Sequence[Bin]) -> _Windows:
        k = max([1, *(len(b.time_windows) for b in bins)])
        opens = np.full((len(bins), k), np.inf)
        closes = np.full((len(bins), k), -np.inf)
        for i, b in enumerate(bins):
            if not b.time_windows:
                opens[i, 0], closes[i, 0] = -np.inf, np.inf
            for j, (a, z) in enumerate(b.time_windows):
                opens[i, j], closes[i, j] = a, z
        return cls(opens=opens, closes=closes,
                   has_windows=np.array([bool(b.time_windows) for b in bins], dtype=np.bool_))

    def start(self, arrival: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Collection start for each arrival (rows broadcast against the windows) and lateness,
        as :func:`solver.evaluate.window_start`."""
        open_ = arrival[:, None] <= self.closes + TIME_TOLERANCE_S
        candidates = np.where(open_, np.maximum(arrival[:, None], self.opens), np.inf)
        late: BoolArray = np.asarray(~open_.any(axis=1), dtype=np.bool_)
        start: FloatArray = np.where(late, arrival, candidates.min(axis=1))
        return start, late
