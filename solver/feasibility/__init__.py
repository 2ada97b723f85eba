"""Why a bin is not served: checked facts, never guesses.

Two moments need a reason (``docs/rules.md``, *Reasons for an unserved bin*):

- before solving, :func:`screen_bins` rules out the bins that no vehicle could take
  even on a route of their own;
- after solving, :func:`explain_dropped` takes the bins an engine left out, tries
  to insert each one (cheapest feasible position in any route, with a tip added
  where that makes it fit, or a route of its own on an unused vehicle) and keeps it
  if it fits (an optional bin only when that costs less than its penalty), so that
  no servable bin is dropped silently; otherwise it gives the reason found by
  checking every position.

Feasibility here means what :func:`solver.evaluate.evaluate` accepts: a route is
feasible when the evaluator reports no violation on it, with the same tolerances,
and every route a repair keeps has been confirmed by the evaluator. Each vehicle is
checked on its own matrices (:class:`~solver.matrix.FleetMatrices`). Units: kg,
litres, seconds, metres; costs in money as in :func:`solver.evaluate.route_cost`.

**A bin alone** (the facts :func:`screen_bins` checks, per vehicle): it carries the
bin's stream; the bin is not pinned to another vehicle; the vehicle is not too big
for it; when the vehicle must tip before returning (disposal sites in the problem,
``tip_before_return``, a bin with a load), some site accepts the stream; there is a
path depot -> bin -> depot (through such a site when it must tip); the bin's kg and
litres fit the body, one lift and its kg fit the daily limits; with time windows,
the vehicle can reach it before some window closes and start it within its shift;
and one of the short routes ``[bin]``, ``[bin, site]`` (each site), with the
vehicle's breaks at every possible place (or not taken), is violation-free.

One module per concern: :mod:`~solver.feasibility.bins` (bins by id, and the facts
every check shares), :mod:`~solver.feasibility.windows` (time windows as arrays),
:mod:`~solver.feasibility.solo` (a bin alone: :func:`screen_bins`),
:mod:`~solver.feasibility.insertion` (inserting a bin into a route) and
:mod:`~solver.feasibility.repair` (repairing a plan: :func:`explain_dropped`). Names
with a leading underscore are shared between these modules only.
"""

from solver.feasibility.bins import BIN_TOKEN, has_load, must_tip, resolve_bins, solo_sequences
from solver.feasibility.repair import CONFIRMED_CANDIDATES, explain_dropped
from solver.feasibility.solo import SoloCheck, screen_bins, solo_check

__all__ = [
    "BIN_TOKEN",
    "CONFIRMED_CANDIDATES",
    "SoloCheck",
    "explain_dropped",
    "has_load",
    "must_tip",
    "resolve_bins",
    "screen_bins",
    "solo_check",
    "solo_sequences",
]
