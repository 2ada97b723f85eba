"""Progress of a running solve: reported to the caller, who may ask it to stop.

A caller (the service's job runner, a notebook) passes ``on_progress`` to
:func:`solver.pipeline.optimise`; engines report through a :class:`ProgressReporter`
each time their search finds a better solution. The callback receives the share of
the time limit used so far (0..1) and the best objective so far, in the engine's own
units (comparable within one solve only, ``None`` before the first solution), and
returns ``False`` to stop the search early; the engine then returns the best plan it
has, which the caller may discard (a cancelled job).
"""

from __future__ import annotations

import time
from collections.abc import Callable

ProgressCallback = Callable[[float, float | None], bool]
"""``on_progress(elapsed_fraction, best_cost) -> go_on``."""


class ProgressReporter:
    """Throttled reports of one solve to a :data:`ProgressCallback`.

    ``time_limit_s`` is the solve's time budget in seconds; reports come at most every
    ``min_interval_s`` seconds unless forced. Once the callback has answered ``False``
    every later :meth:`report` answers ``False`` without calling it again.
    """

    def __init__(self, time_limit_s: float, callback: ProgressCallback | None, *,
                 min_interval_s: float = 0.5) -> None:
        if time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        self.time_limit_s = time_limit_s
        self.callback = callback
        self.min_interval_s = min_interval_s
        self.started = time.perf_counter()
        self.best_cost: float | None = None
        self.stopped = False
        self._last = float("-inf")

    def elapsed_fraction(self) -> float:
        """Share of the time limit used so far, capped at 1."""
        return min(1.0, (time.perf_counter() - self.started) / self.time_limit_s)

    def report(self, cost: float | None, *, force: bool = False) -> bool:
        """Record a solution of objective ``cost`` and tell the caller; ``False`` means stop."""
        if cost is not None and (self.best_cost is None or cost < self.best_cost):
            self.best_cost = cost
        if self.stopped:
            return False
        if self.callback is None:
            return True
        now = time.perf_counter()
        if not force and now - self._last < self.min_interval_s:
            return True
        self._last = now
        if not self.callback(self.elapsed_fraction(), self.best_cost):
            self.stopped = True
        return not self.stopped
