"""Readers for published routing benchmark instances, as wasteroute problems.

Each reader turns an instance file into a :class:`~solver.problem.Problem` and the
:class:`~solver.matrix.FleetMatrices` it is solved on. The instances live outside the
project (``<repo>/../shared/benchmarks/``) and are read in place, never copied.

- :mod:`solver.instances.cvrplib`: VRPLIB CVRP files (``.vrp``) and their best-known
  solutions (``.sol``), on the CVRPLIB integer-rounded Euclidean distances.
- :mod:`solver.instances.wcvrptw`: the waste-collection instances of Kim, Kim & Sahoo
  (2006), with disposal trips, time windows, a lunch break and daily limits.
- :mod:`solver.instances.oakham`: not a published instance but a case on real geography,
  issue 15's household bins in and around Oakham built from the Rutland OSM extract, as
  the JSON body of ``POST /api/v1/optimisations`` (import it from its module).

The published instances have no geography: every location sits at lon/lat 0 and the matrices
hold the instance's own distances. The matrix "metres" (``distance_m``) are the
instance's distance unit (CVRPLIB units; feet for the waste instances), so the
evaluator's ``distance_m`` is the instance's cost in that unit.
"""

from solver.instances.cvrplib import CvrpInstance, CvrpSolution, read_cvrp, read_cvrp_solution, solution_plan
from solver.instances.wcvrptw import (
    FEET_PER_MILE,
    KNOWN_RESULTS,
    KnownResult,
    WcvrptwHeader,
    WcvrptwInstance,
    WcvrptwStop,
    miles,
    read_wcvrptw,
)

__all__ = [
    "FEET_PER_MILE",
    "KNOWN_RESULTS",
    "CvrpInstance",
    "CvrpSolution",
    "KnownResult",
    "WcvrptwHeader",
    "WcvrptwInstance",
    "WcvrptwStop",
    "miles",
    "read_cvrp",
    "read_cvrp_solution",
    "read_wcvrptw",
    "solution_plan",
]
