"""Local search on rounds whose stops are each driven one way: the direction chosen inside every move.

With ``options.fix_directions`` a stop on a two-way street may be driven past either way
(:attr:`~solver.matrix.FleetMatrices.direction_rows`: one row of the directed matrices per
direction), but never turned round in. The engines search on the quicker way between each two
stops, so their orders are the wrong ones once each stop is driven one way. This search starts
from their plan and prices every move on the real, one-way drive, the method of arc-routing
metaheuristics (Vidal 2017, "Node, edge, arc routing and turn penalties: multiple problems, one
neighbourhood extension"):

- a route is a sequence of locations, each with two *modes* (the rows of its two directions; a
  depot, a disposal site or a stop that can be driven one way only has the same row twice), and
  its drive time is the shortest path over the modes: a two-wide layered graph;
- each route keeps forward labels ``F[k, a]`` (least seconds from the depot to leaving position
  ``k`` in mode ``a``), backward labels ``B[k, a]`` (from leaving position ``k`` in mode ``a``
  back to the depot) and the 2 x 2 min-plus matrices of its sub-sequences driven forward and in
  reverse order, so that a move is priced by concatenating a few of them, the mode of every stop
  chosen exactly;
- moves: a stop or a chain of up to eight consecutive stops relocated (either way round) within
  its route or into another, a run of stops driven in reverse order (2-opt), 2-opt* between two
  routes (their tails exchanged), and a stop left unassigned inserted (alone, while one of the
  route's stops moves to a route with room, or with a visit to a disposal site); all the places one move
  may take are priced as one array operation, and stops whose moves found nothing are not looked
  at again until their neighbourhood changes (don't-look marks).

A move is tried when it shortens the drive (seconds), and kept only when the project's evaluator
(:func:`~solver.evaluate.evaluate_route`, on the rows the routes' orders choose, as
:func:`~solver.orientation.choose_rows` and so :func:`~solver.pipeline.large.stop_directions` choose
them) shows the changed routes without violation (capacity
between tips, shift, breaks taken where they fit, time windows, access, streams) and no longer
than before. Unassigned stops are inserted wherever a feasible place is found, so the time the
moves free serves them. Pure: plain arrays in, a :class:`~solver.solution.Plan` out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from solver.balance import spread
from solver.evaluate import evaluate_route
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, Problem, SolveOptions, Vehicle
from solver.solution import Plan, RouteEvaluation, RoutePlan, Unassigned

log = logging.getLogger(__name__)

#: seconds standing for "no path" in the labels: large enough to lose every comparison, small
#: enough that sums of a few stay finite
NO_PATH_S = 1e9

#: least gain (s) of drive time a move must promise to be tried
MIN_GAIN_S = 0.5

#: the chain lengths relocated (one stop, or a run of consecutive stops; longer runs found a little more on
#: the Oakham case than runs of up to three)
CHAIN_LENGTHS = (1, 2, 3, 5, 8)

#: the longest run of stops a move drives in reverse order (2-opt within a route)
REVERSE_SPAN = 40

#: how many places either side of a change wake the stops there (their don't-look marks cleared)
NEIGHBOURS = 3

#: the most stops a route may have for the search to run: its labels hold 64 bytes per pair of its
#: stops (the min-plus matrices of its runs, forward and reversed), 64 MB at 1,000 stops
MAX_ROUTE_STOPS = 1000

#: how many stops a kick turns round and moves (at least, less than) once the descent has converged
KICK_STOPS = (3, 9)

#: the best-priced candidates of one move tried on the evaluator before giving it up
TRIES = 4


def _minplus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Min-plus product of stacks of 2 x 2 matrices (``[..., 2, 2]``), broadcasting the leading axes."""
    return np.min(a[..., :, :, None] + b[..., None, :, :], axis=-2)


_IDENTITY = np.array([[0.0, NO_PATH_S], [NO_PATH_S, 0.0]])


@dataclass
class _Route:
    """One vehicle's round as the search sees it: ``seq`` its locations (depot first and last, no
    breaks), ``modes`` their two rows each, and the labels of the drive over them (seconds)."""

    vehicle: Vehicle
    key: str
    seq: np.ndarray
    modes: np.ndarray
    fwd: np.ndarray
    bwd: np.ndarray
    seg: np.ndarray
    rseg: np.ndarray
    duration_s: float
    load_kg: float
    stops: tuple[str, ...]
    frozen: bool
    #: seconds the route may grow by in drive and service before its shift ends at the earliest: what
    #: is left of the shift plus the time it waits (which a longer route may wait less)
    room_s: float
    cost: float = 0.0  # drive seconds over the best modes (set from the labels)

    def __post_init__(self) -> None:
        self.cost = float(self.fwd[-1].min())


class DirectedSearch:
    """The search state of one part: ``problem`` (stops, sites, depots), its ``matrices`` (with
    :attr:`~solver.matrix.FleetMatrices.directed` and ``direction_rows``) and a starting ``plan``."""

    def __init__(self, problem: Problem, matrices: FleetMatrices, plan: Plan, options: SolveOptions) -> None:
        self.problem = problem
        self.matrices = matrices
        self.options = options
        self.offset = problem.bin_offset()
        self.ids = problem.location_ids()
        self.service_s = np.zeros(problem.n_locations)
        self.service_s[self.offset:] = [b.service_s for b in problem.bins]
        self.service_s[problem.site_offset():self.offset] = [s.unload_s for s in problem.disposal_sites]
        n = problem.n_locations
        self.loc_modes = np.array([matrices.direction_rows.get(k, (k, k)) for k in range(n)], dtype=np.int64)
        self.duration: dict[str, np.ndarray] = {}
        for key, m in matrices.profiles.items():
            full = matrices.directed.get(key, m).duration_s
            self.duration[key] = np.where(np.isfinite(full), np.minimum(full, NO_PATH_S), NO_PATH_S)
        ids = set(problem.location_ids())
        self.pinned = {problem.location_index(s): v for s, v in options.territories if s in ids}
        self.unassigned = {u.bin_id: u for u in plan.unassigned}
        self.routes: list[_Route] = []
        used = {r.vehicle_id for r in plan.routes}
        for r in plan.routes:
            self.routes.append(self._start(problem.vehicle(r.vehicle_id), r.stops))
        for v in problem.vehicles:
            if v.id not in used:
                self.routes.append(self._start(v, ()))
        self.moves = 0
        self.inserted = 0
        #: don't-look marks: the stops whose chains found no move since their neighbourhood last changed
        self.settled = np.zeros(problem.n_locations, dtype=bool)

    # -- labels ---------------------------------------------------------------------------------

    def _labelled(self, key: str, seq: np.ndarray) -> tuple[np.ndarray, ...]:
        d = self.duration[key]
        modes = self.loc_modes[seq]
        steps = d[modes[:-1, :, None], modes[1:, None, :]]  # [k, leaving mode at k, arriving mode at k+1]
        n = len(seq)
        fwd = np.zeros((n, 2))
        bwd = np.zeros((n, 2))
        for k in range(1, n):
            fwd[k] = np.min(fwd[k - 1][:, None] + steps[k - 1], axis=0)
        for k in range(n - 2, -1, -1):
            bwd[k] = np.min(steps[k] + bwd[k + 1][None, :], axis=1)
        # seg[i, j]: 2 x 2 least seconds from leaving i in one mode to leaving j in another (j >= i)
        seg = np.full((n, n, 2, 2), NO_PATH_S * 4)
        seg[np.arange(n), np.arange(n)] = _IDENTITY
        for j in range(1, n):
            seg[:j, j] = _minplus(seg[:j, j - 1], steps[j - 1][None])
        np.minimum(seg, NO_PATH_S * 4, out=seg)
        # rseg[i, j]: the same for the stops from j back to i driven in reverse order (i <= j), from the
        # mode of j to the mode of i
        back = d[modes[1:, :, None], modes[:-1, None, :]]  # [k, mode at k + 1, mode at k]
        rseg = np.full((n, n, 2, 2), NO_PATH_S * 4)
        rseg[np.arange(n), np.arange(n)] = _IDENTITY
        for i in range(n - 2, -1, -1):
            rseg[i, i + 1:] = _minplus(rseg[i + 1, i + 1:], back[i][None])
        np.minimum(rseg, NO_PATH_S * 4, out=rseg)
        return modes, fwd, bwd, seg, rseg

    def _start(self, vehicle: Vehicle, stops: tuple[str, ...]) -> _Route:
        depot = self.problem.location_index(vehicle.depot_id)
        seq = np.array([depot, *(self.problem.location_index(s) for s in stops if s != BREAK_STOP), depot],
                       dtype=np.int64)
        ev = self._evaluate(vehicle, seq, stops)
        if ev.violations:
            seq, ev = self._cut_back(vehicle, seq, ev)
        return self._route(vehicle, seq, ev, frozen=bool(ev.violations) and len(seq) > 2)

    def _cut_back(self, vehicle: Vehicle, seq: np.ndarray, ev: RouteEvaluation
                  ) -> tuple[np.ndarray, RouteEvaluation]:
        """``seq`` with stops taken off from its end until the evaluator finds it clean (or no stop is
        left), each taken stop unassigned so that the search inserts it where it fits. The engine
        plans on the quicker way between two stops, so once each stop is driven one way a full round
        may run past its shift: cut back, it is still searched, where frozen it would lose all its
        stops at expansion."""
        while ev.violations:
            stops = [p for p in range(1, len(seq) - 1) if seq[p] >= self.offset]
            if not stops:
                break
            stop_id = self.ids[seq[stops[-1]]]
            self.unassigned[stop_id] = Unassigned(
                stop_id, "no_feasible_insertion", "taken off its round where, with each stop driven one way, "
                "the round broke a rule, and no other place was found for it")
            seq = np.delete(seq, stops[-1])
            ev = self._evaluate(vehicle, seq)
        log.debug("cut back %s to %d locations: %s", vehicle.id, len(seq), [v.type for v in ev.violations])
        return seq, ev

    def _route(self, vehicle: Vehicle, seq: np.ndarray, ev: RouteEvaluation, *, frozen: bool) -> _Route:
        key = self.matrices.vehicle_profile[vehicle.id]
        modes, fwd, bwd, seg, rseg = self._labelled(key, seq)
        waits = sum(v.start_s - v.arrival_s for v in ev.visits)
        room = vehicle.shift_end_s - vehicle.shift_start_s - ev.duration_s + waits
        stops = tuple(v.location_id for v in ev.visits[1:-1])
        return _Route(vehicle, key, seq, modes, fwd, bwd, seg, rseg, ev.duration_s, ev.load_kg, stops, frozen, room)

    def _rows(self, key: str, seq: np.ndarray) -> list[int]:
        """The row each location of ``seq`` is driven past by: the quickest choice for the order, as
        :func:`~solver.orientation.choose_rows` makes it (ties to a stop's own direction), in plain floats."""
        modes = self.loc_modes[seq]
        steps = self.duration[key][modes[:-1, :, None], modes[1:, None, :]].tolist()
        c0 = c1 = 0.0
        back: list[tuple[int, int]] = []
        for (s00, s01), (s10, s11) in steps:
            a0, a1, b0, b1 = c0 + s00, c1 + s10, c0 + s01, c1 + s11
            back.append((0 if a0 <= a1 else 1, 0 if b0 <= b1 else 1))
            c0, c1 = min(a0, a1), min(b0, b1)
        pick = 0 if c0 <= c1 else 1
        picks = [pick]
        for step in reversed(back):
            pick = step[pick]
            picks.append(pick)
        return [int(modes[k, m]) for k, m in enumerate(reversed(picks))]

    def _evaluate(self, vehicle: Vehicle, seq: np.ndarray, stops: tuple[str, ...] | None = None) -> RouteEvaluation:
        """The evaluator's figures of ``vehicle`` driving ``seq`` with each stop's direction the one its
        order chooses; ``stops`` (with breaks) as given, else breaks taken where they fit."""
        key = self.matrices.vehicle_profile[vehicle.id]
        full = self.matrices.directed.get(key, self.matrices.profiles[key])
        # every location on the row of its own direction but the route's stops, on the rows chosen
        index = np.arange(self.problem.n_locations)
        index[seq[1:-1]] = self._rows(key, seq)[1:-1]
        m = TravelMatrices(duration_s=full.duration_s[np.ix_(index, index)],
                           distance_m=full.distance_m[np.ix_(index, index)])
        if stops is not None:
            return evaluate_route(self.problem, m, vehicle, stops)
        return evaluate_route(self.problem, m, vehicle, [self.ids[s] for s in seq[1:-1]], breaks_where_they_fit=True)

    # -- applying a move ------------------------------------------------------------------------

    def _try(self, changes: list[tuple[int, np.ndarray]], *, serve: bool = False) -> bool:
        """Replace the routes ``changes`` names by their new sequences if the evaluator finds them
        without violation, no longer in total than before (unless ``serve``: a stop is added), and,
        with ``options.balance``, not less balanced than the tolerance or than before."""
        evaluated = []
        for k, seq in changes:
            route = self.routes[k]
            ev = self._evaluate(route.vehicle, seq)
            if ev.violations:
                return False
            evaluated.append(ev)
        before = sum(self.routes[k].duration_s for k, _ in changes)
        after = sum(ev.duration_s for ev in evaluated)
        if not serve and after > before - 1e-6:
            return False
        if self.options.balance and not self._balanced(changes, evaluated):
            return False
        for (k, seq), ev in zip(changes, evaluated, strict=True):
            self._wake(self.routes[k].seq, seq)
            self.routes[k] = self._route(self.routes[k].vehicle, seq, ev, frozen=False)
        return True

    def _wake(self, old: np.ndarray, new: np.ndarray) -> None:
        """Clear the don't-look marks of the stops between the first and last place where ``new``
        differs from ``old``, and of their neighbours (their moves are priced anew)."""
        n = min(len(old), len(new))
        same = old[:n] == new[:n]
        first = int(np.argmin(same)) if not same.all() else n
        tail = old[::-1][:n] == new[::-1][:n]
        last = int(np.argmin(tail)) if not tail.all() else n
        self.settled[new[max(0, first - NEIGHBOURS):len(new) - last + NEIGHBOURS]] = False
        self.settled[old[max(0, first - NEIGHBOURS):len(old) - last + NEIGHBOURS]] = False

    def _balanced(self, changes: list[tuple[int, np.ndarray]], evaluated: list[RouteEvaluation]) -> bool:
        durations = np.array([r.duration_s for r in self.routes if len(r.seq) > 2])
        loads = np.array([r.load_kg for r in self.routes if len(r.seq) > 2])
        new_d = {k: ev.duration_s for (k, _), ev in zip(changes, evaluated, strict=True)}
        new_l = {k: ev.load_kg for (k, _), ev in zip(changes, evaluated, strict=True)}
        used = [k for k, r in enumerate(self.routes) if len(r.seq) > 2 or k in new_d]
        after_d = np.array([new_d.get(k, self.routes[k].duration_s) for k in used])
        after_l = np.array([new_l.get(k, self.routes[k].load_kg) for k in used])
        tol = self.options.balance_tolerance
        return (spread(after_d) <= max(tol, spread(durations)) + 1e-9
                and spread(after_l) <= max(tol, spread(loads)) + 1e-9)

    # -- pricing --------------------------------------------------------------------------------

    def _insertions(self, route: _Route, entry: np.ndarray, inner: np.ndarray, leave: np.ndarray) -> np.ndarray:
        """New drive seconds of ``route`` with a chain inserted after each position (all gaps at once),
        for each of the chain's ways round (axis 0 of the arguments): entered in one of the modes
        ``entry[w]``, ``inner[w]`` (2 x 2 s) through it, left in one of ``leave[w]``: ``[way, gap]``."""
        d = self.duration[route.key]
        to_chain = np.min(route.fwd[None, :-1, :, None]
                          + d[route.modes[None, :-1, :, None], entry[:, None, None, :]], axis=2)
        through = np.min(to_chain[..., :, None] + inner[:, None], axis=2)
        back = np.min(d[leave[:, None, :, None], route.modes[None, 1:, None, :]] + route.bwd[None, 1:, None, :], axis=3)
        return np.min(through + back, axis=2)

    def _allowed(self, loc: int, route: _Route) -> bool:
        """Whether ``route``'s vehicle may serve location ``loc``: its stream, and the territory it is pinned to
        (the evaluator checks the rest)."""
        if loc >= self.offset and not route.vehicle.carries(self.problem.bins[loc - self.offset].stream):
            return False
        vehicle = self.pinned.get(loc)
        return vehicle is None or vehicle == route.vehicle.id

    # -- moves ----------------------------------------------------------------------------------

    def _relocate(self, k: int, p: int, length: int, deadline: float) -> bool:
        """Move the chain at positions ``p .. p + length - 1`` of route ``k``, either way round, to the
        place (in its route or another) that shortens the drive most, if the evaluator accepts it."""
        route = self.routes[k]
        n = len(route.seq)
        if p + length > n - 1:
            return False
        q = p + length - 1  # the chain's last position
        locs = route.seq[p:q + 1]
        d = self.duration[route.key]
        m0, m1 = route.modes[p - 1], route.modes[q + 1]
        skip = d[np.ix_(m0, m1)]
        removed = float(np.min(route.fwd[p - 1][:, None] + skip + route.bwd[q + 1][None, :]))
        gain = route.cost - removed
        if gain < MIN_GAIN_S:
            return False
        # both ways round at once (axis 0: as it is, reversed): first row's modes, 2 x 2 seconds through
        # the chain, last row's modes
        entry = np.stack([route.modes[p], route.modes[q]])
        inner = np.stack([route.seg[p, q], route.rseg[p, q]])
        leave = np.stack([route.modes[q], route.modes[p]])
        found: list[tuple[np.ndarray, int, np.ndarray]] = []  # (delta s [way, gap], target route, gaps)
        # within the route, by concatenating segments: a gap g before the chain (g + 1 <= p - 1) ...
        gaps = np.arange(0, p - 1)
        if len(gaps):
            a = np.min(route.fwd[gaps][None, :, :, None]
                       + d[route.modes[gaps][None, :, :, None], entry[:, None, None, :]], axis=2)
            a = np.min(a[..., :, None] + inner[:, None], axis=2)
            a = np.min(a[..., :, None] + d[leave[:, None, :, None], route.modes[gaps + 1][None, :, None, :]], axis=2)
            a = np.min(a[..., :, None] + route.seg[gaps + 1, p - 1][None], axis=2)
            a = np.min(a[..., :, None] + skip, axis=2)
            found.append((np.min(a + route.bwd[q + 1], axis=2) - route.cost, k, gaps))
        # ... or after it (g >= q + 1)
        gaps = np.arange(q + 1, n - 1)
        if len(gaps):
            a = np.min(route.fwd[p - 1][:, None] + skip, axis=0)
            a = np.min(a[None, :, None] + route.seg[q + 1, gaps], axis=1)
            a = np.min(a[None, :, :, None] + d[route.modes[gaps][None, :, :, None], entry[:, None, None, :]], axis=2)
            a = np.min(a[..., :, None] + inner[:, None], axis=2)
            b = d[leave[:, None, :, None], route.modes[gaps + 1][None, :, None, :]]
            b = b + route.bwd[gaps + 1][None, :, None, :]
            found.append((np.min(a + np.min(b, axis=3), axis=2) - route.cost, k, gaps))
        # turned round where it is
        here = np.min(route.fwd[p - 1][:, None] + d[np.ix_(m0, entry[1])], axis=0)
        here = np.min(here[:, None] + inner[1], axis=0)
        here_s = np.min(here[:, None] + d[np.ix_(leave[1], m1)] + route.bwd[q + 1][None, :])
        found.append((np.array([[np.inf], [here_s - route.cost]]), k, np.array([p - 1])))
        for j, other in enumerate(self.routes):
            if j == k or other.frozen or not all(self._allowed(int(x), other) for x in locs):
                continue
            extra = self._insertions(other, entry, inner, leave) - other.cost
            extra[extra + self.service_s[locs].sum() > other.room_s + 1e-6] = np.inf  # cannot fit
            found.append((extra - gain, j, np.arange(extra.shape[1])))
        sizes = [f[0].size for f in found]
        deltas = np.concatenate([f[0].ravel() for f in found])
        owner = np.repeat(np.arange(len(found)), sizes)
        offset = np.cumsum([0, *sizes])
        best = np.argsort(deltas)[:TRIES]
        for flat in best:
            if deltas[flat] > -MIN_GAIN_S or time.perf_counter() > deadline:
                break
            _, j, gaps = found[owner[flat]]
            rev, at_gap = divmod(int(flat - offset[owner[flat]]), len(gaps))
            g = int(gaps[at_gap])
            chain = locs[::-1] if rev else locs
            rest = np.concatenate([route.seq[:p], route.seq[q + 1:]])
            if j == k:
                at = g + 1 if g < p else g + 1 - length
                changes = [(k, np.concatenate([rest[:at], chain, rest[at:]]))]
            else:
                other = self.routes[j]
                changes = [(k, rest), (j, np.concatenate([other.seq[:g + 1], chain, other.seq[g + 1:]]))]
            if self._try(changes):
                self.moves += 1
                return True
        return False

    def _reverse(self, k: int, deadline: float) -> bool:
        """Drive a run of up to :data:`REVERSE_SPAN` consecutive stops of route ``k`` in reverse order,
        each the other way if that is quicker (2-opt within the route): the best few runs tried."""
        route = self.routes[k]
        n = len(route.seq)
        if n < 4:
            return False
        d = self.duration[route.key]
        modes = route.modes
        first = np.arange(1, n - 1)
        last = first[:, None] + np.arange(1, REVERSE_SPAN)[None, :]  # runs first .. last, two stops or more
        valid = last <= n - 2
        last = np.minimum(last, n - 2)
        f = first[:, None]
        into = route.fwd[f - 1][:, :, :, None] + d[modes[f - 1][:, :, :, None], modes[last][:, :, None, :]]
        into = np.min(into, axis=2)  # [first, last, mode at last]
        through = np.min(into[..., :, None] + route.rseg[f, last], axis=2)  # [.., mode at first]
        out = d[modes[f][:, :, :, None], modes[last + 1][:, :, None, :]] + route.bwd[last + 1][:, :, None, :]
        total = np.min(through + np.min(out, axis=3), axis=2)
        delta = np.where(valid, total - route.cost, np.inf)
        for flat in np.argsort(delta, axis=None)[:TRIES]:
            i, w = np.unravel_index(flat, delta.shape)
            if delta[i, w] > -MIN_GAIN_S or time.perf_counter() > deadline:
                break
            a, b = int(first[i]), int(last[i, w])
            seq = np.concatenate([route.seq[:a], route.seq[a:b + 1][::-1], route.seq[b + 1:]])
            if self._try([(k, seq)]):
                self.moves += 1
                return True
        return False

    def _two_opt_star(self, k: int, j: int, deadline: float) -> bool:
        """Exchange the tails of routes ``k`` and ``j`` (same depot, same matrices) at the best cut."""
        r1, r2 = self.routes[k], self.routes[j]
        if r1.key != r2.key or r1.seq[0] != r2.seq[0] or self.pinned:
            return False
        d = self.duration[r1.key]
        # cut after i in r1 and after c in r2: r1[..i] + r2[c+1..], r2[..c] + r1[i+1..]
        f1, f2 = r1.fwd[:-1], r2.fwd[:-1]
        link12 = d[r1.modes[:-1, None, :, None], r2.modes[None, 1:, None, :]]
        new1 = np.min(np.min(f1[:, None, :, None] + link12, axis=2) + r2.bwd[None, 1:, :], axis=2)
        link21 = d[r2.modes[:-1, None, :, None], r1.modes[None, 1:, None, :]]
        new2 = np.min(np.min(f2[:, None, :, None] + link21, axis=2) + r1.bwd[None, 1:, :], axis=2)
        delta = new1 + new2.T - r1.cost - r2.cost
        order = np.argsort(delta, axis=None)[:TRIES]
        for flat in order:
            i, c = np.unravel_index(flat, delta.shape)
            if delta[i, c] > -MIN_GAIN_S or time.perf_counter() > deadline:
                break
            s1 = np.concatenate([r1.seq[:i + 1], r2.seq[c + 1:]])
            s2 = np.concatenate([r2.seq[:c + 1], r1.seq[i + 1:]])
            if self._try([(k, s1), (j, s2)]):
                self.moves += 1
                return True
        return False

    def serve_unassigned(self, deadline: float) -> None:
        """Insert each unassigned stop where the evaluator accepts it (see :meth:`_insert_unassigned`),
        until ``deadline`` (a :func:`time.perf_counter` time)."""
        self._insert_unassigned(deadline)

    def _insert_unassigned(self, deadline: float) -> None:
        """Insert each unassigned stop at the cheapest place the evaluator accepts."""
        for stop_id in list(self.unassigned):
            if time.perf_counter() > deadline:
                return
            loc = self.problem.location_index(stop_id)
            locs = np.array([loc], dtype=np.int64)
            candidates: list[tuple[float, int, int]] = []
            for j, route in enumerate(self.routes):
                if route.frozen or not self._allowed(loc, route):
                    continue
                modes = self.loc_modes[loc]
                extras = self._insertions(route, modes[None], _IDENTITY[None], modes[None])[0] - route.cost
                extras[extras + self.service_s[loc] > route.room_s + 1e-6] = np.inf  # cannot fit
                candidates += [(float(extras[g]), j, int(g)) for g in np.argsort(extras)[:TRIES]]
            candidates.sort(key=lambda c: c[0])
            for extra, j, g in candidates[:2 * TRIES]:
                if extra >= NO_PATH_S / 2 or not np.isfinite(extra):
                    break
                route = self.routes[j]
                if self._try([(j, np.concatenate([route.seq[:g + 1], locs, route.seq[g + 1:]]))], serve=True):
                    del self.unassigned[stop_id]
                    self.inserted += 1
                    break
            if stop_id in self.unassigned and (self._insert_by_ejection(loc, deadline)
                                               or self._insert_with_tip(loc, deadline)):
                del self.unassigned[stop_id]
                self.inserted += 1

    def _insert_with_tip(self, loc: int, deadline: float) -> bool:
        """Insert the unassigned stop ``loc`` together with a visit to a disposal site, just before or
        just after it, where a load has no room left for it: the cheapest places by the labels, tried
        on the evaluator (which checks the site takes the streams on board and is open)."""
        candidates: list[tuple[float, int, int, np.ndarray]] = []
        d_service = self.service_s[loc]
        for site in range(self.problem.site_offset(), self.offset):
            for chain in (np.array([site, loc], dtype=np.int64), np.array([loc, site], dtype=np.int64)):
                entry, leave = self.loc_modes[chain[0]], self.loc_modes[chain[1]]
                for j, route in enumerate(self.routes):
                    if route.frozen or not self._allowed(loc, route):
                        continue
                    inner = self.duration[route.key][np.ix_(entry, leave)]
                    extras = self._insertions(route, entry[None], inner[None], leave[None])[0] - route.cost
                    extras[extras + d_service + self.service_s[site] > route.room_s + 1e-6] = np.inf
                    candidates += [(float(extras[g]), j, int(g), chain) for g in np.argsort(extras)[:2]]
        candidates.sort(key=lambda c: c[0])
        for extra, j, g, chain in candidates[:TRIES]:
            if not np.isfinite(extra) or extra >= NO_PATH_S / 2 or time.perf_counter() > deadline:
                break
            route = self.routes[j]
            if self._try([(j, np.concatenate([route.seq[:g + 1], chain, route.seq[g + 1:]]))], serve=True):
                return True
        return False

    def _insert_by_ejection(self, loc: int, deadline: float) -> bool:
        """Insert the unassigned stop ``loc`` into a route with no room for it, moving one of that route's
        bin stops to another route that has room (an ejection chain of two): the combinations that add
        the least drive, and fit both shifts by the labels, tried on the evaluator."""
        x = np.array([loc], dtype=np.int64)
        modes = self.loc_modes[loc]
        for a, route in enumerate(self.routes):
            if route.frozen or not self._allowed(loc, route) or time.perf_counter() > deadline:
                continue
            added = self._insertions(route, modes[None], _IDENTITY[None], modes[None])[0] - route.cost
            for g in np.argsort(added)[:2]:
                if not np.isfinite(added[g]) or added[g] >= NO_PATH_S / 2:
                    break
                grown = np.concatenate([route.seq[:g + 1], x, route.seq[g + 1:]])
                m, fwd, bwd, _, _ = self._labelled(route.key, grown)
                d = self.duration[route.key]
                # the drive saved by taking each interior stop back out of the grown route
                saved = float(fwd[-1].min()) - np.min(fwd[:-2][:, :, None] + d[m[:-2][:, :, None], m[2:][:, None, :]]
                                                      + bwd[2:][:, None, :], axis=(1, 2))
                over = float(fwd[-1].min()) - route.cost + self.service_s[loc] - route.room_s
                ys = np.arange(1, len(grown) - 1)
                ok = (grown[ys] >= self.offset) & (grown[ys] != loc)
                ok &= saved + self.service_s[grown[ys]] >= over - 1e-6
                for b, other in enumerate(self.routes):
                    if b == a or other.frozen or other.key != route.key or not ok.any():
                        continue
                    cand = ys[ok & np.array([self._allowed(int(y), other) for y in grown[ys]])]
                    if not len(cand):
                        continue
                    ymodes = self.loc_modes[grown[cand]]
                    extra = self._insertions(other, ymodes, np.repeat(_IDENTITY[None], len(cand), axis=0),
                                             ymodes) - other.cost
                    extra[extra + self.service_s[grown[cand]][:, None] > other.room_s + 1e-6] = np.inf
                    total = extra - saved[cand - 1][:, None]
                    for flat in np.argsort(total, axis=None)[:TRIES]:
                        i, gap = np.unravel_index(flat, total.shape)
                        if not np.isfinite(total[i, gap]) or time.perf_counter() > deadline:
                            break
                        y = int(cand[i])
                        out = np.concatenate([grown[:y], grown[y + 1:]])
                        into = np.concatenate([other.seq[:gap + 1], grown[y:y + 1], other.seq[gap + 1:]])
                        if self._try([(a, out), (b, into)], serve=True):
                            return True
        return False

    def run(self, time_limit_s: float) -> Plan:
        """Improve the plan for at most ``time_limit_s`` seconds: descend until no move improves it,
        then, with the time left, kick and descend again (:meth:`_kick`), keeping the best plan
        (fewest stops unassigned, then the least total duration)."""
        deadline = time.perf_counter() + time_limit_s
        self._insert_unassigned(deadline)
        self._descend(deadline)
        rng = np.random.default_rng(self.options.seed)
        best = self._snapshot()
        while time.perf_counter() < deadline and self._kickable():
            if not self._kick(rng):
                continue
            self._descend(deadline)
            if self._score() < best[0]:
                best = self._snapshot()
            else:
                self._restore(best)
        self._restore(best)
        return self.plan()

    def _descend(self, deadline: float) -> None:
        """Apply improving moves until none is left (or ``deadline``)."""
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for k in range(len(self.routes)):
                p = 1
                while p < len(self.routes[k].seq) - 1 and time.perf_counter() < deadline:
                    if self.routes[k].frozen:
                        break
                    loc = self.routes[k].seq[p]
                    moved = False
                    if not self.settled[loc]:
                        for length in CHAIN_LENGTHS:
                            if self._relocate(k, p, length, deadline):
                                moved = improved = True
                                break
                        self.settled[loc] = not moved
                    if not moved:
                        p += 1
            for k in range(len(self.routes)):
                while not self.routes[k].frozen and time.perf_counter() < deadline and self._reverse(k, deadline):
                    improved = True
            for k in range(len(self.routes)):
                for j in range(k + 1, len(self.routes)):
                    if time.perf_counter() > deadline:
                        break
                    if not (self.routes[k].frozen or self.routes[j].frozen) and self._two_opt_star(k, j, deadline):
                        improved = True
            self._insert_unassigned(deadline)

    def _score(self) -> tuple[int, float]:
        return len(self.unassigned), sum(r.duration_s for r in self.routes)

    def _snapshot(self) -> tuple[tuple[int, float], list[_Route], dict[str, Unassigned], np.ndarray, int, int]:
        return (self._score(), list(self.routes), dict(self.unassigned), self.settled.copy(), self.moves,
                self.inserted)

    def _restore(self, snapshot: tuple[tuple[int, float], list[_Route], dict[str, Unassigned], np.ndarray, int, int]
                 ) -> None:
        _, routes, unassigned, settled, self.moves, self.inserted = snapshot
        self.routes, self.unassigned, self.settled = list(routes), dict(unassigned), settled.copy()

    def _kickable(self) -> list[int]:
        """The routes long enough to kick."""
        return [k for k, r in enumerate(self.routes) if not r.frozen and len(r.seq) > KICK_STOPS[1] + 3]

    def _kick(self, rng: np.random.Generator) -> bool:
        """A random run of :data:`KICK_STOPS` stops of a random route driven in reverse order and moved up
        to as many places along it, kept if the evaluator finds the route without violation (however
        long): the descent that follows starts from there."""
        k = int(rng.choice(self._kickable()))
        seq = self.routes[k].seq
        length = int(rng.integers(*KICK_STOPS))
        p = int(rng.integers(1, len(seq) - length))
        chain = seq[p:p + length][::-1]
        rest = np.concatenate([seq[:p], seq[p + length:]])
        at = int(np.clip(p + rng.integers(-length, length + 1), 1, len(rest) - 1))
        return self._try([(k, np.concatenate([rest[:at], chain, rest[at:]]))], serve=True)

    def plan(self) -> Plan:
        """The routes as they stand (non-empty ones), and the stops still unassigned."""
        routes = tuple(RoutePlan(r.vehicle.id, r.stops) for r in self.routes if r.stops)
        return Plan(routes=routes, unassigned=tuple(self.unassigned.values()))


def directed_search(problem: Problem, matrices: FleetMatrices, plan: Plan, options: SolveOptions,
                    time_limit_s: float, *, max_route_stops: int = MAX_ROUTE_STOPS) -> Plan:
    """``plan`` improved by the orientation-aware local search (module docstring) for at most
    ``time_limit_s`` seconds; ``plan`` itself where ``matrices`` offer no direction to choose, or where
    a route has more than ``max_route_stops`` stops (its labels would not fit in memory)."""
    if not matrices.direction_rows or time_limit_s <= 0:
        return plan
    longest = max((len(r.stops) for r in plan.routes), default=0)
    if longest > max_route_stops:
        log.warning("directed search skipped: a route of %d stops, more than the %d its labels may hold",
                    longest, max_route_stops)
        return plan
    search = DirectedSearch(problem, matrices, plan, options)
    before = sum(r.duration_s for r in search.routes)
    out = search.run(time_limit_s)
    log.info("directed search: %d move(s), %d stop(s) served that were not, rounds %.0f s -> %.0f s, "
             "%d stop(s) still unassigned", search.moves, search.inserted, before,
             sum(r.duration_s for r in search.routes), len(search.unassigned))
    return Plan(routes=out.routes, unassigned=out.unassigned, relaxed=plan.relaxed)
