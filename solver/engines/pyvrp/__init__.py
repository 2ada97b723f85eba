"""Waste collection with PyVRP (0.14): iterated local search on an integer model.

The model, built straight into a :class:`pyvrp.ProblemData` (numpy matrices, no
per-edge Python objects):

- **time** runs in ticks of ``1 / TICKS_PER_SECOND`` s since midnight: travel and
  service times rounded *up* (:func:`solver.scaling.seconds_up` on tenths of a
  second), clock times exact. Every integer clock time is then no earlier than the
  true one, so an integer plan that is on time is on time for the evaluator, and a
  route's integer duration is its true duration to a tenth of a second per stop;
- **loads**: grams rounded up against capacities rounded down
  (:func:`solver.scaling.grams_up` / ``grams_down``), and when some vehicle has a
  volume limit a second dimension in millilitres, rounded the same way. Bins are
  pickups, so the load grows along a trip;
- **depots**: each vehicle starts at its depot when its shift starts (``tw_early ==
  start_late``), so durations and waiting are those the evaluator computes;
- **disposal sites** are PyVRP *reload depots* (multi-trip): a reload empties every
  load dimension, takes the site's ``unload_s`` (the depot's service duration) and
  must start within its opening hours (the depot's time window, waiting allowed).
  PyVRP ends a route at a depot, so a vehicle that must tip before it returns ends at
  a *virtual end*: a location whose incoming edge from a bin is the quickest drive to
  a site, the unload and the drive home. Those sites are the ones open all through
  the vehicle's shift (no waiting or closing can bite), or, if none is, the single
  site open longest during it, whose opening hours then become the virtual end's
  time window shifted by the unload and the drive home (exact: nothing happens
  between). The site chosen for each last bin is put back in the plan. This only
  narrows the choice of the final tip, so a plan is never wrong for it, at worst
  dearer; a vehicle with no site it may end at collects nothing;
- **time windows**: a bin with one window is a client with that window; a bin with
  several is a mutually exclusive client group of one copy per window (PyVRP's
  recipe), required when the bin is. The evaluator starts collection at the earliest
  window still open, never later than the copy PyVRP chose;
- **access**: each access profile of the fleet's matrices is a PyVRP routing
  profile; a leg with no path takes longer than any shift;
- **compatibility** (streams, pins, vehicles too heavy or wide for a bin): bins
  that only some vehicle types may collect form classes, one per set of allowed
  types, and each class is one more load dimension: its bins weigh 1 there, the
  allowed types carry as many as there are bins, the others none. (Forbidding edges
  in one routing profile per class is exact too, but each profile holds full
  matrices, and PyVRP's local search took a third more CPU time with five profiles
  than with two on 2,000 bins.) Vehicles
  differing only by id share one vehicle type. A site is a vehicle's reload depot
  only if it accepts every stream the vehicle may have on board;
- **objective**: ``duration`` is the route durations in ticks (waiting and service
  included, as the evaluator sums them); ``distance`` the metres in decimetres
  (:data:`solver.scaling.OBJECTIVE_UNITS_PER_METRE`); ``cost`` money in
  :data:`MONEY_UNITS` per unit: fixed cost, per-km cost on decimetres and per-hour
  cost on ticks of route duration. Fixed costs and optional bins' penalties (money)
  count in seconds or metres at the vehicle's own rate (the fleet's mean rate for a
  penalty) under the first two objectives;
- **optional bins** are optional clients whose prize is the penalty;
- **search**: PyVRP's ``solve`` with ``options.seed`` until ``options.time_limit_s``
  (less the time spent building), or ``max_iterations``; ``options.initial_routes``
  become the initial solution, and each round found goes back to the vehicle of
  its type whose initial round shares most bins with it. Required bins are required
  clients (PyVRP searches better so: 1.15% above the best known on X-n303-k21 after 8
  CPU-seconds, mean of three seeds, against 1.54% with every client optional); if
  the search finds no feasible plan by 70% of its time (or iterations), it goes on
  from its best attempt with every bin optional, a required one for a prize as large
  as serving it on a route of its own could cost, so that bins drop out only where
  they do not fit; a route still infeasible at the end loses bins greedily until it
  is feasible. The bins left out go unassigned, for
  :func:`solver.feasibility.explain_dropped` to insert or explain. PyVRP builds its
  first solution (a random one taken to a local optimum) before it first asks the
  stopping criterion: about 4.5 CPU-seconds on 2,000 bins with tips, so a time limit
  shorter than that is overrun.

Not modelled, so not declared in :attr:`PyVrpEngine.features`: crew breaks (PyVRP's
open edition has none), locked stops (no locking), the charge per moved bin (PyVRP
has no cost per client and vehicle; a routing profile per vehicle would express it at
the price of one full matrix per vehicle), a maximum of lifts or of kg per shift
(PyVRP resets every load dimension at a reload, so a per-shift count is not
expressible once vehicles tip).

One concern per module: :mod:`~solver.engines.pyvrp.objective` (time ticks and money as
integer objective terms), :mod:`~solver.engines.pyvrp.model` (the problem as PyVRP data)
and :mod:`~solver.engines.pyvrp.solve` (the search and reading its routes back). Names
with a leading underscore are shared between these modules only.
"""

from solver.engines.pyvrp.model import compatible
from solver.engines.pyvrp.objective import MONEY_UNITS, TICKS_PER_SECOND
from solver.engines.pyvrp.solve import GIVE_UP_FRACTION, MIN_SEARCH_FRACTION, PyVrpEngine

__all__ = ["GIVE_UP_FRACTION", "MIN_SEARCH_FRACTION", "MONEY_UNITS", "TICKS_PER_SECOND", "PyVrpEngine", "compatible"]
