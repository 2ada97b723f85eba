"""Waste-collection rounds with OR-Tools' routing library (the default engine).

The model (:mod:`solver.engines.ortools.data` builds its integers,
:mod:`solver.engines.ortools.model` the routing model; their docstrings give the
details):

- **nodes**: the depots vehicles start from; *visit nodes*, one per bin (one per
  window of a bin with several, at most one visited); per vehicle and usable disposal
  site a few optional *unload copies* (mid-route tips, each on its own vehicle only);
  per vehicle that must come back empty an *end node* whose incoming arcs include the
  drive to the best final site, the unload and the drive home;
- **dimensions**: ``time`` (whole seconds since the fleet's earliest shift start;
  service and unload on the transit; slack for waiting and breaks; windows on the
  visits, opening hours on the copies, shifts as capacities), ``kg`` and ``litres``
  (loads that an unload copy resets through its slack), ``lifts`` and ``collected``
  (per shift, no reset), ``moves`` (bins moved off their initial vehicle, charged by
  span cost);
- **access and compatibility**: one transit matrix per access profile and one cost
  matrix per profile (and per cost rates under ``cost``), shared by its vehicles; a
  bin may go only on vehicles that carry its stream, are small enough, are its pin,
  and could serve it alone in that vehicle's matrices (``VehicleVar`` domains);
- **objective**: ``duration`` (service and travel, tenths of a second), ``distance``
  (decimetres) or ``cost`` (fixed + per km + per hour, in
  :data:`solver.scaling.OBJECTIVE_UNITS_PER_MONEY`); optional bins carry their penalty,
  required ones a penalty above any plan's cost;
- **stability**: ``options.initial_routes`` are the first solution
  (``ReadAssignmentFromRoutes``, site visits mapped to free unload copies, stops the
  model cannot take left out, routes cut short where the model finds them
  infeasible); their first ``locked`` stops are locked (``ApplyLocksToAllVehicles``).

**Breaks** are solved in two phases. OR-Tools' break intervals are exact, but with
time windows as well its search slowed to a crawl (measured at 1,000 bins: 17,000
moves/s with 70% of the moves its filters accept failing in propagation, against
400,000 moves/s with windows or breaks alone). So phase 1 searches without them for
80% of the time, keeping room for each break
(:func:`~solver.engines.ortools.data.reserve_breaks`: shifts and windows that close
after a break window opens end earlier by the break), and each route's breaks are then
placed where the evaluator (:func:`solver.evaluate.evaluate_route`) finds the route
violation-free, trying first right after the first stop that leaves once the window is
open. If some route has no such place, or the room kept left a required bin out, phase
2 runs: the exact model with break intervals (:mod:`solver.engines.ortools.model`),
started from phase 1's routes, for the rest of the time (its plan is kept if it places
every break or serves more required bins). Otherwise phase 1 searches on from its
solution for the rest of the time.

The plan is read back in driving order: copies as their site, the end node's site as
the last stop, breaks where placed. OR-Tools routing has no random seed:
``options.seed`` permutes the order in which bins are given to the model (seed 0 keeps
the given order). The search is deterministic, so the same seed and the same stopping
point (a solution limit, or a search that converges before the time limit) give the
same plan. ``time_limit_s`` covers building the model too.

One concern per module: :mod:`~solver.engines.ortools.data` (the model's integers),
:mod:`~solver.engines.ortools.model` (the routing model, and reading a solution back)
and :mod:`~solver.engines.ortools.solve` (:class:`OrToolsEngine`: the search, its two
phases and placing breaks).
"""

from solver.engines.ortools.solve import (
    AUTO,
    EXACT_BREAKS_SHARE,
    MIN_CONTINUATION_S,
    MIN_SEARCH_FRACTION,
    OrToolsEngine,
    place_breaks,
)

__all__ = ["AUTO", "EXACT_BREAKS_SHARE", "MIN_CONTINUATION_S", "MIN_SEARCH_FRACTION", "OrToolsEngine", "place_breaks"]
