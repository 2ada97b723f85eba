"""Map matching: a cleaned trace (:mod:`solver.traces.clean`) laid onto the streets of the
project's own road network with a hidden Markov model, as Newson and Krumm (2009) describe it.

* **States**: for each fix, the positions on the streets within ``radius_m`` of it (a candidate
  is a directed edge and the metres along it where the fix projects; both directions of a
  two-way street are candidates), the ``max_candidates`` nearest (12: where Monaco's streets lie
  above and below each other, the street driven was at times the ninth nearest), from an STRtree
  over the edges' geometries.
* **Emission**: a fix ``d`` metres from a candidate is taken to have been made there with the
  log-likelihood of a Gaussian GPS error, ``-0.5 (d / sigma_m)^2``.
* **Transition**: from a candidate of one fix to one of the next, the metres a lorry drives
  between them (``route``) against the straight distance between the two fixes
  (``straight``); ``-|route - straight| / beta_m`` (an exponential, as the paper found in its
  data), except that a drive shorter than the straight line by up to ``wander_sigmas`` times the
  two fixes' combined error costs nothing for it: two fixes of a lorry standing wander 20-50 m apart
  at 10 m of noise, and paying for all of that made standing as dear as a drive round a one-way
  block and back (Oakham rcv-3 at 5 s). Only on traces sparser than ``smooth_s``: a dense trace is
  smoothed and thinned already, and the allowance let the match stand where the lorry drove a
  turning circle. The drive is measured on the turn-aware graph (:mod:`solver.network.turn_graph`):
  banned turns are never taken, turning round is allowed where the :class:`TurnPolicy` says
  (by default anywhere, since a real crew does turn round). The drive is the *quickest* one (as
  the planner prices it, so a sparse trace is filled in the way the plan would drive), its length
  read off the same Dijkstra, which is bounded by 1.5 times the seconds between the fixes plus
  15 s (a minute let the match drive up a side street and back between two fixes 5 s apart).
  Three special moves: a candidate a little *behind* the one before on the same edge
  (up to ``backtrack_m``; on a smoothed trace, on a two-way street, no farther than ``turn_back_sigmas``
  times ``sigma_m`` behind the farthest point the drive reached on it: else a crew that drove up a
  cul-de-sac and back down it was read standing at its mouth), or on the edge the drive came to it by,
  over the junction behind (a
  standing lorry's fixes fall over it; else the match drives round the block to get back; on a trace
  not smoothed only within ``fallback_sigmas`` of the fixes' error, or farther than a crew could
  drive up the street and back in the seconds between), is the
  lorry standing while the GPS wanders, its route 0 m (were it the
  metres between, a lorry driving along a two-way street would match as well to the other
  direction, "standing" backwards, as to its own: it did, on Monaco); and turning back mid-street
  (a crew leaving a bin the way it came) is less likely by ``reverse_cost`` a turn (a log-likelihood:
  e^4, some 55 times, by default), so that noise alone does not make the lorry turn round: to a
  lorry standing, the GPS's wander looks as far as a turn. The turn may be onto the other direction
  of the same street at the next fix (the metres between), or, between fixes far apart, back where
  the first fix was and on, or on and back onto the second fix's street, or both (into a street and
  out again); those only where they save what they cost, and where no other drive fits in the
  fixes' seconds only at ``turn_speed_mps``.
* **Time between fixes** (when the places a lorry stands at are given, ``stands``: the bins, with
  their lift seconds): the transition above weighs metres only, and fills the seconds between two
  fixes with the quickest drive, so a spur or dead end driven in and out, or a loop round a block, that
  no fix shows is cut out (Monaco at 30 s, seeds 1-4: 4 km a round short). Where the drive takes, at
  the candidate edges' speeds, less than the fixes' seconds minus the lifts of the bins within
  ``stand_radius_m`` of either fix (``lift_share`` of them: two fixes 30 s apart often have more
  bins near them than the lorry lifted between them; all of them: 6 of 12 rounds within 2 %, half:
  7) and ``time_allow_s``, the seconds nothing explains count, at those speeds and times
  ``time_weight``, as metres of the transition's difference: a longer drive that fits the time is
  likelier. The map-matching literature weighs time only as a bound (Newson and
  Krumm's, fmm's STMATCH: drives faster than a top speed are dropped) or as the fit of the speed along
  a drive to the streets' speeds (ST-Matching, IVMM); none fills the seconds of a vehicle that did not
  stand. Only on traces whose fixes are ``time_min_interval_s`` (15 s) or more apart (at 5 s the fixes
  show the drive, and the thinning of a standing lorry's fixes left fixes seen 35 s apart that the term
  read as a drive to fill). Without ``stands`` the term is not used: given no bins, it made any drive up to the time as
  likely as standing and read Oakham at 30 s 4-10 % long.
* **Turns at bins** (the same sparse traces, given ``stands``): a planned round leaves a bin the way it
  came (docs/architecture.md, "Approach side"), so a crew that drives up a street to a bin, stands and
  turns there, drove the street twice where the straight line between its fixes does not see it; with
  a turn costing ``reverse_cost`` and the drive weighed against that straight line, the match read the
  fix at the bin on the street the spur leads from, or on another street beside it, and cut the spur
  out (Monaco at 30 s: 1-2 km a round). Where a candidate lies within ``bin_turn_m`` of a bin (along its
  street, :mod:`solver.traces.bin_places`), turning back there costs ``bin_turn_cost``, and the drive
  that turns there, leaves the street after turning there, or comes into the street of a bin, is
  weighed against the straight line through the junction it leaves or enters the street by. Only at a
  bin with no other within ``bin_alone_m``: a crew makes a stop for a bin on its own, and turns there
  (Monaco's spurs); where bins stand in a row it works along the row (Oakham's houses 10-20 m apart),
  and with every bin counted Oakham at 30 s read 0.7 points longer (seed 4 rcv-3: +0.15 -> +2.51 %).
* **Turns round at dead ends**: the quickest drive between two fixes may turn round where the turn-aware
  graph lets a lorry turn (reversing at a dead end or into a side way, round a turning place), and that
  turn cost nothing where a turn mid-street costs ``reverse_cost``: a single fix 20-30 m off the street
  driven was read as a drive up a short street, round at its end and back (Oakham rcv-1 at 5 s, seed 1,
  21,820 s: a fix 27 m off the street, 16 m off a street of 46 m that ends where a side way joins; the
  drive up it and back, 108 m between fixes 5 s apart, paid 53 m more detour than the street driven
  (-2.1) where the fix's nearer place gained 2.5, and won by 0.4; +2.15 % over the round). Such a turn
  now costs ``reverse_cost`` too where the drive is faster than ``end_turn_pace`` (1.5) times the mean
  speed of the streets it leaves and reaches: a crew that turned there took the seconds to (the
  simulator drives a turn at the streets' speed, so the turns its lorries made fit). Only on traces not
  smoothed (5 s and sparser): at 1 s the rule read Oakham rcv-4 0.1-0.2 points shorter (seed 4: -1.73 ->
  -1.82 %), and the fixes there show where a lorry went. Priced by the bins instead (``bin_turn_cost``
  where a bin stands on the street turned on, ``reverse_cost`` elsewhere, at any pace), Oakham read 1-1.7
  points shorter at 5 and 30 s: spurs a crew drove up to its last bin and turned in mid-street, which the
  match had read to the spur's end and back, were cut out (and a bin of another round stands at the stub
  of 21,820 s: the matcher is given the day's bins). The turns round are counted in the low bits of the
  Dijkstra weight, below the decimetres, so the quickest drive is the same and its turns are read off it
  with its length; the planner's graph is untouched.
* **Viterbi** picks the likeliest sequence. A drive longer than the faster of its two streets' speed
  allows in the seconds Dijkstra looks through is none (the search reaches streets' ends, and looked a
  whole street past its limit). A fix no candidate of which can be reached from the last fix's is left
  out (``outlier``: the GPS's odd error, at 15 m of noise one fix in a few hundred lies 50 m or more off),
  or the last fix is, where the next is reached from the one before it; up to ``max_outliers`` in a
  row. Past them the match breaks (``no_match``) and starts again.

**Pins** (:class:`Pin`, given by :mod:`solver.traces.pinned`): a place the lorry is known to have
stood at a time, a bin it lifted, is laid among the fixes as one matched with ``pin_sigma_m`` of error,
its candidates only on the bin's street. It is seen on its own (the thinning does not hide it, nor the
fix after it in it), its time is a read's and some seconds off, so a drive to or from it may take all
the seconds between the fixes either side of it, and the time term is not weighed on those drives. A pin
no drive reaches is left out, as an odd fix is (not counted as one), and a fix after a pin fallen back
over the junction does not cut the drive back past it (the lorry got to the pin and drove back: without
this, 3 of the 11 spurs pinned on Monaco rcv-1 at 30 s were cut out again). The match returns the trace's
fixes only, and a pin's distance is not in the trace's measured error.

The drive is rebuilt from the chosen candidates: along an edge it only goes forward (jitter
backwards is standing still), a fix fallen back over the junction cuts the drive back to that
junction (the lorry never got past it), between edges it is the shortest drive the transition measured.
Pieces of the trace that do not follow each other (a gap, a jump, a break in the match) are
joined by the shortest drive between them, counted apart as ``bridged`` metres.

Each matched fix gets a position along the drive (metres from its start): the candidate's, then
made non-decreasing over time by isotonic regression (least squares), so that GPS wander while
the lorry stands does not read as driving to and fro. Lengths are the network's metres
(``edge_length_m``), times seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from scipy.optimize import isotonic_regression
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from solver.geometry import Pieces
from solver.network import (
    TURN_KINDS,
    AccessProfile,
    RoadNetwork,
    TurnGraph,
    TurnPolicy,
    all_turns,
    routing_graph,
    turn_graph,
)
from solver.traces.bin_places import BinPlaces, bin_places
from solver.traces.clean import CleanTrace, TracePiece
from solver.traces.fixes import TraceIssue

_NO_PRED = -9999


@dataclass(frozen=True)
class MatchOptions:
    """The model's parameters, metres: ``sigma_m`` the GPS error's standard deviation, ``radius_m``
    how far from a fix candidates are looked for, ``max_candidates`` per fix, ``beta_m`` the scale
    of the transition's difference between driven and straight metres, ``backtrack_m`` how far
    back along an edge a fix may fall and still be the lorry standing, ``reverse_cost`` what
    turning back mid-street costs (log-likelihood); ``smooth_s`` (seconds) the half-width of the moving mean a dense
    trace is smoothed with before matching (a fix is replaced by the mean of the fixes within
    ``smooth_s`` of its time: at 1 s sampling seven fixes, so the wander of a lorry standing at a
    bin shrinks to a third; fixes farther apart than ``smooth_s`` are left as they are);
    ``wander_sigmas`` how many of two fixes' combined errors (metres) a drive may be shorter than the
    straight line between them at no cost (on traces not smoothed: a standing lorry's fixes wander
    apart; see the module's docstring); ``turn_speed_mps`` the mean speed (m/s) at most of a drive between
    two fixes that turns back mid-street where no other drive fits in their seconds (a crew turning
    round at a bin stood there; see :func:`_routes`); ``fallback_sigmas`` how many of two fixes'
    combined errors (metres) a fix may fall back over the junction onto the edge the drive came by
    and still be the lorry standing, on traces not smoothed, where a crew could have driven there and
    back in the seconds between at ``turn_speed_mps`` (up to ``backtrack_m``: farther it is likelier
    a crew that turned round up the street); ``time_weight`` how much (a factor on metres) the seconds
    between two fixes that neither the drive nor the lifts of the bins near them take count against a
    drive, ``time_allow_s`` (seconds) how many such seconds cost nothing (the lorry's speed differs from
    the network's by some 10 %; a crew pauses), and ``stand_radius_m`` (metres) how near a fix a bin is
    for its lift to count, ``lift_share`` the share of those lifts counted, ``time_max_s`` (seconds)
    up to how far apart two fixes are for it (a tunnel's two minutes without fixes say nothing of the
    drive through it), and ``time_min_interval_s`` (seconds) the median interval of a trace's fixes from
    which it is used (only with ``stands``; see the module's docstring); ``bin_turns`` whether, on such a
    trace given ``stands``, a turn back mid-street within ``bin_turn_m`` (metres along the street) of a bin
    with no other bin within ``bin_alone_m`` (metres) costs ``bin_turn_cost`` (a log-likelihood) instead
    of ``reverse_cost``, and its drive is weighed against the straight line through the junction by which
    the crew leaves or comes into the street (see the module's docstring); ``turn_back_sigmas`` how many
    ``sigma_m`` (metres) a fix of a smoothed trace may lie behind the farthest point the drive reached on a
    two-way street and still be the lorry standing (farther, it turned round: :func:`_routes`); ``end_turns``
    whether a drive between two fixes that turns round where the network lets a lorry turn (a dead end, a
    side way, a turning place) pays ``reverse_cost`` for the turn, like one mid-street, where it is faster
    than ``end_turn_pace`` times the streets' speed (see the module's docstring);
    ``stand_sigmas`` how many of a fix's errors (``sigma_m``) it may lie from the mean of a stand's fixes
    so far and still be the lorry standing there, on traces neither smoothed nor sparse whose error
    (``sigma_m``, or as measured) is ``stand_from_m`` metres or more (:func:`match_trace`);
    ``measure_sigma`` whether a trace's own GPS error (:func:`gps_error_m`), where it is more than 1.2
    times ``sigma_m`` (up to three times it), or on a dense trace less than ``sigma_m`` / 1.2 (down to 0.7
    times it), stands for ``sigma_m``; ``max_outliers`` how many fixes in a
    row no drive reaches from the last fix matched are left out before the match breaks (and, when not 0,
    whether the last fix matched is left out where the next is reached from the one before it); ``policy``
    the turns a lorry may make and ``profile`` the streets its size allows (``None``: every street);
    ``pin_sigma_m`` the error (metres) a :class:`Pin` is matched with, and ``pin_idle_s`` how many seconds
    around a bin's time the first match must leave unexplained for the bin to pin the match again
    (:mod:`solver.traces.pinned`)."""

    sigma_m: float = 10.0
    radius_m: float = 50.0
    max_candidates: int = 12
    beta_m: float = 25.0
    backtrack_m: float = 80.0
    reverse_cost: float = 4.0
    smooth_s: float = 3.0
    wander_sigmas: float = 0.5
    turn_speed_mps: float = 6.0
    fallback_sigmas: float = 4.5
    time_weight: float = 1.0
    time_allow_s: float = 10.0
    time_max_s: float = 65.0
    lift_share: float = 0.5
    time_min_interval_s: float = 15.0
    stand_radius_m: float = 30.0
    bin_turns: bool = True
    bin_turn_cost: float = 1.0
    bin_turn_m: float = 20.0
    bin_alone_m: float = 30.0
    turn_back_sigmas: float = 4.0
    end_turns: bool = True
    end_turn_pace: float = 1.5
    measure_sigma: bool = True
    max_outliers: int = 2
    stand_sigmas: float = 4.0
    stand_from_m: float = 12.0
    pin_sigma_m: float = 3.0
    pin_idle_s: float = 5.0
    policy: TurnPolicy = field(default_factory=TurnPolicy)
    profile: AccessProfile | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.lift_share <= 1:
            raise ValueError(f"lift_share must lie in [0, 1], got {self.lift_share!r}")
        for name in ("sigma_m", "radius_m", "beta_m", "backtrack_m", "reverse_cost", "turn_speed_mps",
                     "fallback_sigmas", "stand_radius_m", "end_turn_pace", "stand_from_m", "pin_sigma_m"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of metres, got {value!r}")
        if not all(np.isfinite(v) and v >= 0 for v in (self.time_weight, self.time_allow_s, self.time_max_s,
                                                        self.time_min_interval_s, self.bin_turn_cost,
                                                        self.bin_turn_m, self.bin_alone_m, self.turn_back_sigmas,
                                                        self.stand_sigmas)):
            raise ValueError("time_weight, time_allow_s, time_max_s, time_min_interval_s, bin_turn_cost, "
                             "bin_turn_m, bin_alone_m, turn_back_sigmas and stand_sigmas must be numbers of at "
                             "least 0")
        if self.max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {self.max_candidates}")


@dataclass(frozen=True)
class Pin:
    """A place the lorry is known to have stood at a time (a bin it lifted): ``xy`` metres in the
    network's projection, on edge ``edge`` (a candidate for it lies on that street, either way along it:
    else the street 1 m under a switchback's spur was as near), ``time_s`` seconds."""

    time_s: float
    xy: tuple[float, float]
    edge: int


@dataclass(frozen=True)
class Stands:
    """Where a lorry stands to lift bins: ``xy`` (n, 2) metres in the network's projection, and each
    one's ``service_s`` (n,) seconds."""

    xy: np.ndarray
    service_s: np.ndarray


@dataclass(frozen=True)
class Bridge:
    """A stretch of the drive no fix shows, filled in with the shortest drive: from ``start_m`` to
    ``end_m`` along the drive (metres), between the fixes at ``start_s`` and ``end_s``, and why
    (``gap``, ``jump`` or ``no_match``; ``bin``: laid through a bin collected that the drive did not
    pass, :mod:`solver.traces.relay`)."""

    start_m: float
    end_m: float
    start_s: float
    end_s: float
    reason: str


@dataclass(frozen=True)
class MatchedTrace:
    """A vehicle's day on the streets: the ``pieces`` it drove, ``(edge, start, end)`` fractions
    in driving order (:data:`solver.geometry.Pieces`), and for each matched fix its ``time_s``,
    its position ``along_m`` the drive (metres, non-decreasing) and its index in the fixes as
    given (``source``); the ``bridges`` filled in where no fix shows the way, and ``issues``."""

    vehicle_id: str
    pieces: Pieces
    time_s: np.ndarray
    along_m: np.ndarray
    source: np.ndarray
    bridges: tuple[Bridge, ...]
    issues: tuple[TraceIssue, ...]
    piece_start_m: np.ndarray

    @property
    def distance_m(self) -> float:
        """Metres driven, bridges included."""
        return float(self.piece_start_m[-1]) if self.piece_start_m.size else 0.0

    @property
    def bridged_m(self) -> float:
        """Metres of the drive filled in where no fix shows the way."""
        return float(sum(b.end_m - b.start_m for b in self.bridges))


@dataclass(frozen=True)
class _Candidates:
    """Per fix ``offsets[i]:offsets[i + 1]`` rows: ``edge``, ``along`` (metres from its start) and
    ``dist`` (metres from the fix)."""

    offsets: np.ndarray
    edge: np.ndarray
    along: np.ndarray
    dist: np.ndarray

    def of(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


@dataclass(frozen=True)
class _Segments:
    """Every straight segment of every edge's geometry: ends ``a`` and ``b`` (projected metres), the
    ``edge`` it belongs to and where it starts along it (``start``, a fraction of the edge's drawn length)
    and how much of it it covers (``share``); ``tree`` an STRtree over them."""

    a: np.ndarray
    b: np.ndarray
    edge: np.ndarray
    start: np.ndarray
    share: np.ndarray
    tree: shapely.STRtree


def _segments(network: RoadNetwork) -> _Segments:
    """The network's segments (cached on it)."""
    cached = network._cached.get("traces-segments")
    if cached is None:
        coords, which = shapely.get_coordinates(network.edge_xy, return_index=True)
        same = which[1:] == which[:-1]
        a, b, edge = coords[:-1][same], coords[1:][same], which[:-1][same]
        seg_len = np.hypot(*(b - a).T)
        total = np.bincount(edge, weights=seg_len, minlength=network.n_edges)
        before = np.cumsum(seg_len) - seg_len
        first = np.searchsorted(edge, np.arange(network.n_edges))
        before -= before[first[edge]]
        span = np.where(total[edge] > 0, total[edge], 1.0)
        cached = _Segments(a=a, b=b, edge=edge, start=before / span, share=seg_len / span,
                           tree=shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1))))
        network._cached["traces-segments"] = cached
    return cached


def _candidates(network: RoadNetwork, xy: np.ndarray, allowed: np.ndarray, opts: MatchOptions) -> _Candidates:
    """Each fix's candidates: the nearest point of each stretch of an edge within ``radius_m``. An edge
    that passes a fix twice (a hairpin, a spiral ramp) gives a candidate on each pass."""
    seg = _segments(network)
    fix, k = seg.tree.query(shapely.points(xy), predicate="dwithin", distance=opts.radius_m)
    keep = allowed[seg.edge[k]]
    fix, k = fix[keep], k[keep]
    d = seg.b[k] - seg.a[k]
    norm = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
    t = np.clip(np.einsum("ij,ij->i", xy[fix] - seg.a[k], d) / norm, 0.0, 1.0)
    dist = np.hypot(*(seg.a[k] + t[:, None] * d - xy[fix]).T)
    edge = seg.edge[k]
    along = (seg.start[k] + t * seg.share[k]) * network.edge_length_m[edge]
    # per fix and edge, the nearest point, and others only where the edge comes back more than
    # 2 radius_m further along it (a fix's segments of one pass lie within 2 radius_m of each other)
    order = np.lexsort((dist, edge, fix))
    fix, edge, along, dist = fix[order], edge[order], along[order], dist[order]
    chosen: list[int] = []
    start = 0
    n = fix.size
    while start < n:
        stop = start
        while stop < n and fix[stop] == fix[start] and edge[stop] == edge[start]:
            stop += 1
        kept: list[float] = []
        for j in range(start, stop):
            if all(abs(along[j] - x) > 2.0 * opts.radius_m for x in kept):
                kept.append(float(along[j]))
                chosen.append(j)
        start = stop
    pick = np.asarray(chosen, dtype=np.int64)
    fix, edge, along, dist = fix[pick], edge[pick], along[pick], dist[pick]
    order = np.lexsort((dist, fix))
    fix, edge, along, dist = fix[order], edge[order], along[order], dist[order]
    first = np.searchsorted(fix, np.arange(xy.shape[0]))
    keep = (np.arange(fix.size) - first[fix]) < opts.max_candidates
    fix, edge, along, dist = fix[keep], edge[keep], along[keep], dist[keep]
    return _Candidates(offsets=np.searchsorted(fix, np.arange(xy.shape[0] + 1)), edge=edge, along=along, dist=dist)


#: three numbers ride in one Dijkstra weight, exact integers in float64: how many times the drive turns
#: round where the network lets a lorry turn in the low 8 bits (:func:`_turn_rounds`), decimetres in the
#: next 20, milliseconds above (drives of up to 104 km and 9 hours), so the quickest drive is found (the
#: shortest of equally quick ones, as before the turns rode in it) and its length and turns read off it.
_ROUND_BITS = 2.0 ** 8
_LENGTH_BITS = 2.0 ** 20
_TIME_UNIT = _LENGTH_BITS * _ROUND_BITS


class _Distances:
    """Bounded Dijkstra on the turn-aware graph from edges, rows cached per source edge:
    ``rows([a], limit_s)[a][0][b]`` is the length (metres) of the quickest drive from the end of edge
    ``a`` to the end of edge ``b``, ``inf`` past ``limit_s`` seconds of driving. ``rounds`` (per arc of the
    graph, :func:`_turn_rounds`; None: none) marks the turns round a drive counts."""

    def __init__(self, network: RoadNetwork, graph: TurnGraph, rounds: np.ndarray | None = None) -> None:
        self.graph = graph
        self.n_edges = network.n_edges
        self.copies = np.arange(network.n_edges, graph.n_nodes)
        weight = graph.csr_time.copy()
        weight.data = (np.round(graph.csr_time.data * 1000.0) * _TIME_UNIT
                       + np.minimum(np.round(graph.csr_length.data * 10.0), _LENGTH_BITS - 1) * _ROUND_BITS)
        if rounds is not None:
            weight.data += rounds
        self.weight = weight
        self.cache: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}

    def _run(self, sources: list[int], limit_s: float) -> None:
        dist, pred = dijkstra(self.weight, directed=True, indices=sources, limit=(limit_s * 1000.0 + 1) * _TIME_UNIT,
                              return_predecessors=True)
        if len(self.cache) > 2048:
            self.cache.clear()
        for k, a in enumerate(sources):
            self.cache[a] = (limit_s, dist[k], pred[k])

    def _best(self, a: int, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Per edge: the quickest drive's weight from ``a`` (folded over the copies made for banned
        sequences) and the graph node it ends at."""
        if a not in self.cache or self.cache[a][0] < limit_s:
            self._run([a], limit_s)
        full = self.cache[a][1]
        weight = full[:self.n_edges].copy()
        node = np.arange(self.n_edges)
        if self.copies.size:
            for c in self.copies[np.isfinite(full[self.copies])]:
                e = int(self.graph.node_edge[c])
                if full[c] < weight[e]:
                    weight[e], node[e] = full[c], c
        return weight, node

    def rows(self, sources: Sequence[int], limit_s: float
             ) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per source edge: the metres of the quickest drive from it to every edge (``inf``: none within
        ``limit_s``), the edge that drive takes just before each (the source itself when it leads
        straight there; -1 when none), and how many times it turns round (:func:`_turn_rounds`)."""
        todo = [a for a in sources if a not in self.cache or self.cache[a][0] < limit_s]
        if todo:
            self._run(todo, limit_s)
        out = {}
        for a in sources:
            weight, node = self._best(a, limit_s)
            finite = np.isfinite(weight)
            before = self.cache[a][2][node]
            via = np.where(finite & (before >= 0), self.graph.node_edge[np.maximum(before, 0)], -1)
            w = np.where(finite, weight, 0.0)
            metres = np.mod(np.floor(w / _ROUND_BITS), _LENGTH_BITS) / 10.0
            out[a] = (np.where(finite, metres, np.inf), via, np.mod(w, _ROUND_BITS))
        return out

    def path(self, a: int, b: int, limit_s: float) -> list[int]:
        """The edges driven after ``a`` up to and including ``b`` on the quickest drive."""
        weight, node = self._best(a, limit_s)
        if not np.isfinite(weight[b]):
            raise ValueError(f"no drive from edge {a} to edge {b}")
        pred = self.cache[a][2]
        nodes = [int(node[b])]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        return [int(e) for e in self.graph.node_edge[np.array(nodes[::-1][1:], dtype=np.int64)]]


def _turn_rounds(network: RoadNetwork, graph: TurnGraph) -> np.ndarray:
    """Per arc of ``graph`` (in the order of ``graph.csr_time.data``): whether it turns round
    (:mod:`solver.network.turn_angles`' ``u_turn``: the graph has them where a lorry can turn, at a dead end,
    a side way or a turning place)."""
    n = network.n_edges
    tail = np.repeat(np.arange(graph.n_nodes), np.diff(graph.csr_time.indptr))
    into, out = graph.node_edge[tail], graph.node_edge[graph.csr_time.indices]
    turns = all_turns(network, drives_on=graph.policy.drives_on)
    u_turn = turns.kind == TURN_KINDS.index("u_turn")
    return np.isin(into.astype(np.int64) * n + out, turns.in_edge[u_turn].astype(np.int64) * n + turns.out_edge[u_turn])


def _limit(dt_s: float) -> float:
    """How many seconds of driving Dijkstra looks through between two fixes ``dt_s`` apart: a lorry
    may drive faster than the network's speeds say, and skip the turns' seconds."""
    return 1.5 * dt_s + 15.0


def _behind_m(network: RoadNetwork, ea: np.ndarray, oa: np.ndarray, came: np.ndarray, eb: np.ndarray,
              ob: np.ndarray) -> np.ndarray:
    """Metres each ``(eb, ob)`` lies behind each ``(ea, oa)`` when ``eb`` is the edge the drive came to
    ``ea`` by (``came``, one per ``ea``; -1 unknown) and leads straight into it; ``inf`` otherwise.
    Shape (len(ea), len(eb))."""
    into = (came[:, None] == eb[None, :]) & (network.edge_v[eb][None, :] == network.edge_u[ea][:, None])
    return np.where(into, oa[:, None] + (network.edge_length_m[eb] - ob)[None, :], np.inf)


#: how a drive between two candidates goes (:func:`_routes`): along the streets, turning round only at
#: junctions; back onto the other direction of the same street; turning back mid-street first, then on;
#: on, then turning back mid-street onto the second candidate's street; both
GENERAL, BACK, TURN_FIRST, TURN_LAST, TURN_BOTH = 0, 1, 2, 3, 4


def _routes(network: RoadNetwork, dists: _Distances, ea: np.ndarray, oa: np.ndarray, eb: np.ndarray,
            ob: np.ndarray, limit_s: float, opts: MatchOptions,
            came: np.ndarray | None = None, dt_s: float = 0.0, fall_m: float | None = None,
            turn_a: np.ndarray | None = None, turn_b: np.ndarray | None = None,
            reach: np.ndarray | None = None,
            back_m: float | None = None, paced: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Metres driven (as the model weighs them) from each candidate ``(ea, oa)`` to each ``(eb, ob)``
    of fixes ``dt_s`` seconds apart, shape (len(ea), len(eb)), how (``GENERAL`` ... ``TURN_BOTH``; each
    turn back mid-street costs ``reverse_cost``), and the edge each drive comes to ``eb`` by (-1
    unknown), and what its turns cost (a log-likelihood). ``came`` is the edge each ``(ea, oa)`` was
    reached by (-1 unknown), for a fix fallen back onto it (see :func:`_fallen_back`, ``fall_m``);
    ``turn_a`` and ``turn_b`` what turning back where each ``(ea, oa)`` and each ``(eb, ob)`` is costs
    (``reverse_cost`` when not given; less at a bin, :func:`_turn_costs`). A ``(eb, ob)`` behind
    ``(ea, oa)`` on the same edge is the lorry standing (0 m) up to ``backtrack_m`` behind it; given
    ``reach`` (per ``ea``, the farthest metres along it the drive got to) and ``back_m``, on a two-way
    street only up to ``back_m`` behind ``reach``: on a smoothed trace the fixes of a crew that drove up a
    cul-de-sac, collecting, and came back down it fall back a few metres a fix, each within
    ``backtrack_m`` of the last, and the match read it standing at the cul-de-sac's mouth (Oakham rcv-4
    at 1 s: 1.8 km of them, -2.08 %). Given ``paced`` (a trace not smoothed), a drive that turns round where
    the network lets a lorry turn faster than ``end_turn_pace`` times the streets' speed pays
    ``reverse_cost`` for it (see the module's docstring).

    A crew turns round at a bin mid-street (the plans leave a bin the way they came): between two
    fixes 30 s apart it may turn back on the first fix's street and drive on, or drive on and turn
    back on the second's, or both (into a street and out again). Turning round only at junctions,
    such a drive was read as up to the street's end and back, hundreds of metres (Monaco rcv-1 at
    30 s: 989 m where the lorry drove 52)."""
    length = network.edge_length_m
    twa, twb = network.edge_twin[ea], network.edge_twin[eb]
    # Dijkstra reaches an edge's end, the drive its start
    limit_s += float(network.edge_time_s[np.concatenate((eb, twb[twb >= 0]))].max())
    rows = dists.rows(sorted(set(ea.tolist()) | set(twa[twa >= 0].tolist())), limit_s)
    d = np.array([rows[int(a)][0][eb] for a in ea]).reshape(len(ea), len(eb))
    via = np.array([rows[int(a)][1][eb] for a in ea], dtype=np.int64).reshape(len(ea), len(eb))
    rounds = np.array([rows[int(a)][2][eb] for a in ea]).reshape(len(ea), len(eb))
    same = ea[:, None] == eb[None, :]
    general = (length[ea] - oa)[:, None] + d - length[eb][None, :] + ob[None, :]
    general = np.where(same, np.inf, general)
    step = ob[None, :] - oa[:, None]
    on_edge = np.where(step >= 0, step, np.where(-step <= opts.backtrack_m, 0.0, np.inf))  # standing drives 0 m
    if reach is not None and back_m is not None:
        ahead = ob[None, :] - reach[:, None]
        two_way = (network.edge_twin[ea] >= 0)[:, None]
        on_edge = np.where(two_way, np.where(ahead >= -back_m, np.maximum(ahead, 0.0), np.inf), on_edge)
    general = np.where(same, on_edge, general)
    rounds = np.where(same, 0.0, rounds)
    # a fix fallen back over the junction behind, onto the edge the lorry came from, is the lorry
    # standing too: else the match drives a loop round the block to get back (Oakham's short streets)
    if came is not None:
        behind = _fallen_back(_behind_m(network, ea, oa, came, eb, ob), opts, dt_s, fall_m)
        general = np.where(behind, 0.0, general)
        via = np.where(behind, -1, via)
        rounds = np.where(behind, 0.0, rounds)
    twin = twa[:, None] == eb[None, :]
    back = np.where(twin, np.abs((length[ea] - oa)[:, None] - ob[None, :]), np.inf)
    # the metres left on the twin after turning at oa, and on the twin before turning onto ob
    rest_a = np.where(twa >= 0, length[np.maximum(twa, 0)] - length[ea] + oa, np.inf)
    to_b = np.where(twb >= 0, -ob, np.inf)
    other = same | twin
    no_row, no_cost = np.full(eb.size, np.inf), np.zeros(eb.size)
    d_ta = np.array([rows[int(t)][0][eb] if t >= 0 else no_row for t in twa]).reshape(len(ea), len(eb))
    r_ta = np.array([rows[int(t)][2][eb] if t >= 0 else no_cost for t in twa]).reshape(len(ea), len(eb))
    via_ta = np.array([rows[int(t)][1][eb] if t >= 0 else np.full(eb.size, -1) for t in twa],
                      dtype=np.int64).reshape(len(ea), len(eb))
    tb = np.maximum(twb, 0)
    d_b = np.array([rows[int(a)][0][tb] for a in ea]).reshape(len(ea), len(eb))
    d_tb = np.array([rows[int(t)][0][tb] if t >= 0 else no_row for t in twa]).reshape(len(ea), len(eb))
    r_b = np.array([rows[int(a)][2][tb] for a in ea]).reshape(len(ea), len(eb))
    r_tb = np.array([rows[int(t)][2][tb] if t >= 0 else no_cost for t in twa]).reshape(len(ea), len(eb))
    first = np.where(other, np.inf, rest_a[:, None] + d_ta - length[eb][None, :] + ob[None, :])
    last = np.where(other | (twb[None, :] == ea[:, None]), np.inf, (length[ea] - oa)[:, None] + d_b + to_b[None, :])
    both = np.where(other | (twb[None, :] == twa[:, None]), np.inf, rest_a[:, None] + d_tb + to_b[None, :])
    # as before where no turn but the one back onto the same street is in it; a drive with other turns
    # only where it saves what they cost, as the Viterbi weighs them; where no other drive fits in the
    # fixes' seconds, only at a crew's pace (``turn_speed_mps``): else a standing lorry's stray fix was
    # matched by a drive of 900 m in 50 s where, before, the match broke and took it up again (Oakham
    # rcv-2 at 5 s)
    kind = np.where(back < general, BACK, GENERAL)
    route = np.minimum(general, back)
    cost_a = (np.full(ea.size, opts.reverse_cost) if turn_a is None else turn_a)[:, None]
    cost_b = (np.full(eb.size, opts.reverse_cost) if turn_b is None else turn_b)[None, :]
    # a turn round where the network lets a lorry turn (a dead end, a side way) costs what one mid-street
    # does on a drive faster than ``end_turn_pace`` times the streets' speed: a lorry that turned there
    # took the seconds to, and a stray fix beside a short street was read as a drive up it and back in 5 s
    # (Oakham rcv-1 at 5 s). Not on a smoothed trace: there the seen fixes are seconds apart and the turns
    # crews made read as hasty (Oakham rcv-4 at 1 s, 0.1-0.2 points shorter)
    speed = network.edge_length_m / np.maximum(network.edge_time_s, 1e-9)
    paced_m = opts.end_turn_pace * max(dt_s, 0.0) * 0.5 * (speed[ea][:, None] + speed[eb][None, :])

    def hasty(n_rounds: np.ndarray, metres: np.ndarray) -> np.ndarray:
        return np.where(paced & (n_rounds > 0) & (metres > paced_m), opts.reverse_cost, 0.0)

    # what each kind of drive's turns cost: back onto the same street turns at one of the two fixes; the
    # others add a hasty turn round on the way
    costs = np.stack(np.broadcast_arrays(hasty(rounds, general), np.minimum(cost_a, cost_b),
                                         cost_a + hasty(r_ta, first), cost_b + hasty(r_b, last),
                                         cost_a + cost_b + hasty(r_tb, both)))
    turned = np.stack((first, last, both))
    weighed = turned + costs[2:] * opts.beta_m
    pick = np.argmin(weighed, axis=0)
    shortest = np.take_along_axis(turned, pick[None], axis=0)[0]
    better = (np.take_along_axis(weighed, pick[None], axis=0)[0]
              < route + np.where(kind == BACK, costs[BACK], costs[GENERAL]) * opts.beta_m)
    better &= np.isfinite(route) | (shortest <= opts.turn_speed_mps * dt_s)
    kind = np.where(better, pick + TURN_FIRST, kind)
    route = np.where(better, shortest, route)
    via = np.where(kind == BACK, ea[:, None], via)
    via = np.where(kind == TURN_FIRST, via_ta, via)
    via = np.where((kind == TURN_LAST) | (kind == TURN_BOTH), twb[None, :], via)
    return route, kind, via, np.take_along_axis(costs, kind[None], axis=0)[0]


def _fall_back_m(opts: MatchOptions, sparse: bool, sigma_a: float, sigma_b: float) -> float | None:
    """How far (metres) two fixes' wander reaches (``sigma_a``, ``sigma_b`` their errors) on a ``sparse``
    trace (not smoothed), for :func:`_fallen_back`: ``fallback_sigmas`` times their combined error;
    None on a dense one."""
    return opts.fallback_sigmas * float(np.hypot(sigma_a, sigma_b)) if sparse else None


def _fallen_back(behind_m: np.ndarray, opts: MatchOptions, dt_s: float, fall_m: float | None) -> np.ndarray:
    """Whether a fix ``behind_m`` metres back over the junction, on the edge the drive came by, is the
    lorry standing: within ``backtrack_m``, and on a sparse trace (``fall_m`` given) within the fixes'
    wander (``fall_m``) or farther than a crew could have driven up the street and back in their
    ``dt_s`` seconds at ``turn_speed_mps``. Else a crew that drove 69 m up a street to a bin and
    turned round there, the next fix 30 s later on the street it came from, was read as standing at
    the junction and the street cut out (Monaco rcv-2 at 30 s); at 5 s such a fall is wander, as
    before (Oakham: a lorry standing 15 m short of a junction, its fixes over it and back)."""
    within = behind_m <= opts.backtrack_m
    if fall_m is None:
        return within
    return within & ((behind_m <= fall_m) | (2.0 * behind_m > opts.turn_speed_mps * dt_s))


def _edge_ends(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Where each edge starts and ends (projected metres, (n_edges, 2) each; cached on the network)."""
    cached = network._cached.get("traces-edge-ends")
    if cached is None:
        coords, which = shapely.get_coordinates(network.edge_xy, return_index=True)
        first = np.searchsorted(which, np.arange(network.n_edges))
        last = np.searchsorted(which, np.arange(network.n_edges), side="right") - 1
        cached = network._cached["traces-edge-ends"] = (coords[first], coords[last])
    return cached


def _straight_via_turns(network: RoadNetwork, xy_a: np.ndarray, xy_b: np.ndarray, ea: np.ndarray, eb: np.ndarray,
                        kind: np.ndarray, bin_a: np.ndarray, bin_b: np.ndarray, turned_a: np.ndarray) -> np.ndarray:
    """The straight metres between two fixes at ``xy_a`` and ``xy_b`` that each drive (of ``kind``, shape
    (len(ea), len(eb))) from a candidate on ``ea`` to one on ``eb`` is weighed against: the straight line,
    but through the junction by which a crew that turns round at a bin leaves the street (turning back at
    the first candidate, ``bin_a``, or leaving it after having turned there, ``turned_a``) and by which it
    comes into the street of a bin it stands at (``bin_b``). A crew that drove up a street to a bin, turned
    there and came back drove the street twice where the straight line between its fixes does not: Monaco
    at 30 s, a bin 102 m up a street, its fix read 45 m off on the street it leads from (-204 m); a bin
    134 m up a fork, its fixes read on the other branch (-268 m)."""
    starts, ends = _edge_ends(network)
    other = ea[:, None] != eb[None, :]
    turn_first = (kind == TURN_FIRST) | (kind == TURN_BOTH)
    turn_last = (kind == TURN_LAST) | (kind == TURN_BOTH)
    leaves = bin_a[:, None] & (turn_first | ((kind == GENERAL) & other & turned_a[:, None]))
    enters = bin_b[None, :] & (turn_last | ((kind == GENERAL) & other))
    # back by the street's start where the crew turned at the first candidate, on by its end after it turned
    j_a = np.where(turn_first[..., None], starts[ea][:, None, :], ends[ea][:, None, :])
    j_b = np.where(turn_last[..., None], ends[eb][None, :, :], starts[eb][None, :, :])
    p_a = np.where(leaves[..., None], j_a, xy_a)
    p_b = np.where(enters[..., None], j_b, xy_b)
    return (np.hypot(*np.moveaxis(p_a - xy_a, -1, 0)) + np.hypot(*np.moveaxis(p_b - p_a, -1, 0))
            + np.hypot(*np.moveaxis(xy_b - p_b, -1, 0)))


def _at_bin(places: BinPlaces | None, edge: np.ndarray, along_m: np.ndarray, opts: MatchOptions) -> np.ndarray:
    """Whether each ``(edge, along_m)`` lies within ``bin_turn_m`` of a bin of ``places`` on that edge (all
    False without places)."""
    if places is None:
        return np.zeros(np.shape(edge), dtype=bool)
    return places.near(edge, along_m, opts.bin_turn_m)


def _turn_costs(places: BinPlaces | None, edge: np.ndarray, along_m: np.ndarray, opts: MatchOptions) -> np.ndarray:
    """What turning back mid-street at each ``(edge, along_m)`` costs (a log-likelihood): ``reverse_cost``,
    or ``bin_turn_cost`` at a bin of ``places`` (:func:`_at_bin`)."""
    return np.where(_at_bin(places, edge, along_m, opts), opts.bin_turn_cost, opts.reverse_cost)


def _lifts_near(piece: TracePiece, stands: Stands | None, radius_m: float) -> list[np.ndarray] | None:
    """Per fix of ``piece``: the indices of the ``stands`` within ``radius_m`` metres of it (None
    without stands)."""
    if stands is None or stands.xy.shape[0] == 0:
        return None
    return [np.asarray(n, dtype=np.int64) for n in cKDTree(stands.xy).query_ball_point(piece.xy, radius_m)]


def _unexplained_m(network: RoadNetwork, route: np.ndarray, ea: np.ndarray, eb: np.ndarray, dt_s: float,
                   lift_s: float, opts: MatchOptions) -> np.ndarray:
    """Per drive of ``route`` metres from a candidate on edge ``ea`` to one on ``eb`` (shape (len(ea),
    len(eb))): the seconds between the fixes (``dt_s``) that neither the drive, at the two edges' mean
    speed, nor ``lift_s`` seconds of lifts nor ``time_allow_s`` take, as metres at that speed, times
    ``time_weight``; 0 for no drive."""
    speed = network.edge_length_m / network.edge_time_s
    mps = 0.5 * (speed[ea][:, None] + speed[eb][None, :])
    idle = np.maximum(dt_s - lift_s - opts.time_allow_s - np.where(np.isfinite(route), route, 0.0) / mps, 0.0)
    return np.where(np.isfinite(route), opts.time_weight * idle * mps, 0.0)


def _viterbi(network: RoadNetwork, dists: _Distances, piece: TracePiece, cands: _Candidates,
             opts: MatchOptions, sigma_m: np.ndarray, wander_sigmas: float,
             stands: Stands | None = None, places: BinPlaces | None = None,
             back_m: float | None = None) -> tuple[list[list[tuple[int, int]]], list[int]]:
    """Runs of ``(fix index, candidate row)``, each a likeliest sequence, and the fixes left out: a fix
    none of whose candidates can be reached from the run is left out, up to ``max_outliers`` in a row;
    past them a new run starts. ``sigma_m`` is each fix's GPS error
    (metres: a mean of several fixes is nearer the truth than one); a drive up to ``wander_sigmas``
    times two fixes' errors shorter than the straight line between them costs nothing for it; given
    ``stands``, seconds between two fixes neither the drive nor the lifts near them take count against
    it (see the module's docstring); given ``places``, turning back at a bin costs ``bin_turn_cost``; given
    ``back_m``, a fix up to that many metres behind the farthest point reached on a two-way street is the
    lorry standing, farther it turned round (see :func:`_routes`)."""
    near = _lifts_near(piece, stands, opts.stand_radius_m)
    at_bin = _at_bin(places, cands.edge, cands.along, opts)
    pin = piece.source < 0
    span = _pin_spans(piece)
    turn_cost = np.where(at_bin, opts.bin_turn_cost, opts.reverse_cost)
    runs: list[list[tuple[int, int]]] = []
    outliers: list[int] = []
    skipped = 0  # fixes left out since the last one matched
    back: list[np.ndarray] = []
    idx: list[int] = []
    score = np.zeros(0)
    came = np.zeros(0, dtype=np.int64)  # per candidate of the last fix: the edge its drive came by (-1 unknown)
    turned = np.zeros(0, dtype=bool)  # ... whether the crew turned round at a bin there
    reach = np.zeros(0)  # ... the farthest metres along its edge the drive got to

    def close() -> None:
        if not idx:
            return
        k = int(np.argmax(score))
        chosen = [k]
        for ptr in reversed(back):
            chosen.append(int(ptr[chosen[-1]]))
        chosen.reverse()
        runs.append([(i, cands.of(i).start + c) for i, c in zip(idx, chosen, strict=True)])

    speed = network.edge_length_m / np.maximum(network.edge_time_s, 1e-9)

    def step(j: int, i: int, emit: np.ndarray, score: np.ndarray, came: np.ndarray, turned: np.ndarray,
             reach: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """From fix ``j``'s candidates (their ``score`` and state) to fix ``i``'s (their emission ``emit``):
        the likelihood of each pair (``-inf`` where no drive joins them), how each drive goes and the edge
        it comes by."""
        prev, rows = cands.of(j), cands.of(i)
        dt_s = float(piece.time_s[i] - piece.time_s[j])
        pinned = bool(pin[i] or pin[j])
        dt_s = max(dt_s, float(span[i]), float(span[j]))
        straight = float(np.hypot(*(piece.xy[i] - piece.xy[j])))
        route, kind, via, turns = _routes(network, dists, cands.edge[prev], cands.along[prev], cands.edge[rows],
                                          cands.along[rows], _limit(dt_s), opts, came, dt_s,
                                          _fall_back_m(opts, wander_sigmas > 0, sigma_m[i], sigma_m[j]),
                                          turn_cost[prev], turn_cost[rows], reach, back_m, wander_sigmas > 0)
        # Dijkstra looks a whole street past the limit (it reaches streets' ends, the fixes lie along them):
        # a drive longer than the faster of its two streets allows in the limit is none (Monaco at 5 s with
        # 15 m of noise: 450 m out to a fix thrown onto a street above and back, between fixes 5 s apart)
        fastest = np.maximum(speed[cands.edge[prev]][:, None], speed[cands.edge[rows]][None, :])
        route = np.where(route > fastest * _limit(dt_s), np.inf, route)
        # a drive shorter than the straight line by no more than the two fixes' wander is a lorry standing
        # or crawling while the GPS wanders; Newson and Krumm's |route - straight| made standing cost as
        # much as a drive round a block (Oakham rcv-3 at 5 s: a standing lorry's fixes 47 m apart)
        wander = wander_sigmas * float(np.hypot(sigma_m[i], sigma_m[j]))
        straight_m: float | np.ndarray = straight
        if places is not None:
            straight_m = _straight_via_turns(network, piece.xy[j], piece.xy[i], cands.edge[prev],
                                             cands.edge[rows], kind, at_bin[prev], at_bin[rows], turned)
        gap = np.maximum(route - straight_m, 0.0) + np.maximum(straight_m - route - wander, 0.0)
        if near is not None and stands is not None and dt_s <= opts.time_max_s and not pinned:
            lift_s = opts.lift_share * float(stands.service_s[np.union1d(near[i], near[j])].sum())
            gap = gap + _unexplained_m(network, route, cands.edge[prev], cands.edge[rows], dt_s, lift_s, opts)
        return score[:, None] - gap / opts.beta_m - turns + emit[None, :], kind, via

    before: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # the state at the fix before
    for i in range(len(piece)):
        rows = cands.of(i)
        if rows.stop == rows.start:
            continue
        emit = -0.5 * (cands.dist[rows] / sigma_m[i]) ** 2
        if not idx:
            before = None
            idx, back, score = [i], [], emit
            came, turned, reach = np.full(emit.size, -1), np.zeros(emit.size, dtype=bool), cands.along[rows].copy()
            continue
        total, kind, via = step(idx[-1], i, emit, score, came, turned, reach)
        best = np.argmax(total, axis=0)
        new = total[best, np.arange(total.shape[1])]
        if not np.isfinite(new).any() and before is not None and opts.max_outliers > 0:
            # the fix before may be the odd one: a fix 55 m off, read on a street above a tunnel, from which
            # no drive reaches the tunnel's next fixes (Monaco at 5 s with 15 m of noise: a 3.3 km bridge)
            total_b, kind_b, via_b = step(idx[-2], i, emit, *before)
            best_b = np.argmax(total_b, axis=0)
            new_b = total_b[best_b, np.arange(total_b.shape[1])]
            if np.isfinite(new_b).any():
                outliers.append(idx.pop())
                back.pop()
                score, came, turned, reach = before
                total, kind, via, best, new = total_b, kind_b, via_b, best_b, new_b
        if not np.isfinite(new).any() and skipped < opts.max_outliers:
            # a fix no drive reaches from the last, between fixes that drive on: the GPS's odd error (at 15 m
            # of noise one fix in a few hundred lies off the street's candidates), not a break in the drive
            skipped += 1
            outliers.append(i)
            continue
        if not np.isfinite(new).any():  # the drive broke: the fixes skipped before stay left out
            skipped = 0
            close()
            idx, back, score, before = [i], [], emit, None
            came, turned, reach = np.full(emit.size, -1), np.zeros(emit.size, dtype=bool), cands.along[rows].copy()
            continue
        prev = cands.of(idx[-1])
        before = (score, came, turned, reach)
        idx.append(i)
        back.append(best)
        score = new
        skipped = 0
        same_edge = cands.edge[prev][best] == cands.edge[rows]
        came = np.where(same_edge, came[best], via[best, np.arange(best.size)])
        reach = np.where(same_edge, np.maximum(reach[best], cands.along[rows]), cands.along[rows])
        k_best = kind[best, np.arange(best.size)]
        # where the crew turned round at a bin: the drive on from it leaves the street the way it came
        turned = at_bin[rows] & np.where(same_edge, turned[best], np.isin(k_best, (BACK, TURN_LAST, TURN_BOTH)))
    close()
    return runs, outliers


class _Builder:
    """Lays chosen candidates end to end as pieces of edges, keeping each fix's position along the drive."""

    def __init__(self, network: RoadNetwork, dists: _Distances, opts: MatchOptions) -> None:
        self.network, self.dists, self.opts = network, dists, opts
        self.places: BinPlaces | None = None  # the bins turns are cheaper at, as the Viterbi weighed them
        self.pieces: list[list[float]] = []  # [edge, start_m, end_m]
        self.done_m = 0.0  # metres of the pieces before the open one
        self.along: list[float] = []
        self.time: list[float] = []
        self.source: list[int] = []
        self.bridges: list[Bridge] = []
        self.last: tuple[int, float, float] | None = None  # edge, along, time of the last placed fix
        self.last_span_s = 0.0  # the last placed fix's pin span (:func:`_pin_spans`; 0 for a fix)
        self.pinned_piece = -1  # the index of the last piece a pin was placed on: the lorry got there

    def _open(self, edge: int, at: float) -> None:
        if self.pieces:
            self.done_m += self.pieces[-1][2] - self.pieces[-1][1]
        self.pieces.append([float(edge), at, at])

    def _near(self, ea: int, oa: float, eb: int, ob: float) -> bool:
        """Whether the points ``oa`` metres along ``ea`` and ``ob`` along ``eb`` lie within ``backtrack_m``."""
        length = self.network.edge_length_m
        a, b = shapely.line_interpolate_point(self.network.edge_xy[[ea, eb]], [oa / length[ea], ob / length[eb]],
                                              normalized=True)
        return bool(shapely.distance(a, b) <= self.opts.backtrack_m)

    def _retract(self) -> None:
        """A fix fallen back over the junction onto the edge the drive came by: the lorry never got
        past that junction; the drive is cut back to it, and the fixes placed beyond it brought back
        to it. (Cut back to the fallen-back fix instead, a standing lorry's time was laid further
        back, up to ``backtrack_m``, than it stood, and fewer bins were read.)"""
        del self.pieces[-1]
        self.done_m = float(sum(t - f for _, f, t in self.pieces[:-1]))
        end = self.done_m + self.pieces[-1][2] - self.pieces[-1][1]
        self.along = [min(x, end) for x in self.along]

    def _drive(self, ea: int, oa: float, eb: int, ob: float, dt_s: float, fall_m: float | None) -> bool | None:
        """Extend the open piece (on ``ea``) to ``(eb, ob)``; False when no drive joins them, None when
        the lorry is taken to stand where it was (``fall_m``: see :func:`_routes`)."""
        length = self.network.edge_length_m
        current = self.pieces[-1]
        if ea == eb:  # forward, or standing while the GPS wanders back (a lorry does not back up that far)
            current[2] = max(current[2], ob)
            return True
        came = int(self.pieces[-2][0]) if len(self.pieces) > 1 and int(current[0]) == ea else -1
        behind = _behind_m(self.network, np.array([ea]), np.array([oa]), np.array([came]), np.array([eb]),
                           np.array([ob]))[0, 0]
        # never past a pin: the lorry stood there, and drove back (a spur up to a bin)
        if (_fallen_back(np.array([behind]), self.opts, dt_s, fall_m)[0] and self.pieces[-2][1] <= ob
                and self.pinned_piece != len(self.pieces) - 1):
            self._retract()
            return True
        limit_s = _limit(dt_s)
        turn_a = _turn_costs(self.places, np.array([ea]), np.array([oa]), self.opts)
        turn_b = _turn_costs(self.places, np.array([eb]), np.array([ob]), self.opts)
        route, reverse, _, _ = _routes(self.network, self.dists, np.array([ea]), np.array([oa]), np.array([eb]),
                                       np.array([ob]), limit_s, self.opts, dt_s=dt_s, turn_a=turn_a,
                                       turn_b=turn_b, paced=fall_m is not None)
        if not np.isfinite(route[0, 0]) and self._near(ea, oa, eb, ob):
            return None  # the GPS wandered back over a junction: the lorry stands where it was
        if not np.isfinite(route[0, 0]):  # a break in the match: the quickest drive however long
            limit_s = 4.0 * limit_s + 3600.0
            route, reverse, _, _ = _routes(self.network, self.dists, np.array([ea]), np.array([oa]),
                                           np.array([eb]), np.array([ob]), limit_s, self.opts, dt_s=dt_s,
                                           turn_a=turn_a, turn_b=turn_b, paced=fall_m is not None)
            if not np.isfinite(route[0, 0]):
                return False
        kind = int(reverse[0, 0])
        if kind == BACK:
            turn = max(current[2], float(length[ea]) - ob)
            current[2] = turn
            self._open(eb, float(length[eb]) - turn)
            self.pieces[-1][2] = max(self.pieces[-1][1], ob)
            return True
        limit_s += float(np.max(self.network.edge_time_s[[eb, max(int(self.network.edge_twin[eb]), 0)]]))
        start = ea
        if kind in (TURN_FIRST, TURN_BOTH):  # turned back mid-street, where the fix was (or the drive had got to)
            start = int(self.network.edge_twin[ea])
            current[2] = max(current[2], oa)
            self._open(start, max(float(length[start]) - current[2], 0.0))
            self.pieces[-1][2] = float(length[start])
        else:
            current[2] = float(length[ea])
        end = int(self.network.edge_twin[eb]) if kind in (TURN_LAST, TURN_BOTH) else eb
        for e in self.dists.path(start, end, limit_s)[:-1]:
            self._open(e, 0.0)
            self.pieces[-1][2] = float(length[e])
        if end != eb:  # on to where the fix is, on the other side, and turned back onto its street
            self._open(end, 0.0)
            self.pieces[-1][2] = float(length[end]) - ob
            self._open(eb, ob)
            return True
        self._open(eb, 0.0)
        self.pieces[-1][2] = ob
        return True

    def place(self, edge: int, at: float, time_s: float, source: int, reason: str,
              fall_m: float | None = None, span_s: float = 0.0) -> None:
        """The next chosen candidate: ``edge`` at ``at`` metres, for the fix at ``time_s``; ``reason``
        is why the drive to it is a bridge (``""``: it follows the fix before); ``fall_m`` as the model
        weighed the drive to it (:func:`_routes`); ``span_s`` a pin's span (:func:`_pin_spans`), the
        seconds the drive to or from it may take, as the model weighed it."""
        if self.last is None:
            self._open(edge, at)
        else:
            dt_s = max(time_s - self.last[2], span_s, self.last_span_s)
            joined = self._drive(self.last[0], self.last[1], edge, at, dt_s, fall_m)
            if joined is None:
                self.hold(time_s, source)
                return
            if not joined:
                self._open(edge, at)
                reason = f"{reason or 'no_match'} (no drive joins them)"
        current = self.pieces[-1]
        along = self.done_m + (at - current[1])
        if reason and self.along:
            self.bridges.append(Bridge(self.along[-1], max(self.along[-1], along), self.time[-1], time_s, reason))
        self.along.append(along)
        self.time.append(time_s)
        self.source.append(source)
        self.last = (edge, at, time_s)
        self.last_span_s = span_s
        if source < 0:
            self.pinned_piece = len(self.pieces) - 1

    def hold(self, time_s: float, source: int) -> None:
        """A fix the model did not see (near the last one): the lorry where the last one put it."""
        self.along.append(self.along[-1])
        self.time.append(time_s)
        self.source.append(source)


class DriveLayer:
    """Lays drives on the graph the matcher drives (``options``' turns and access), with its turns: for
    :mod:`solver.traces.relay`, which lays a matched drive through bins it does not pass."""

    def __init__(self, network: RoadNetwork, options: MatchOptions) -> None:
        self.network, self.opts = network, options
        self.dists = _Distances(network, turn_graph(network, routing_graph(network, options.profile), options.policy))

    @staticmethod
    def allowed_s(dt_s: float) -> float:
        """The seconds of driving (at the network's speeds) the matcher allows between two fixes ``dt_s`` apart."""
        return _limit(dt_s)

    def lay(self, stops: Sequence[tuple[int, float]], dt_s: float, places: BinPlaces) -> list[list[float]] | None:
        """The drive, as pieces ``[edge, start_m, end_m]``, from the first of ``stops`` (each an edge and the
        metres along it) through each of the others in turn, as the matcher lays the drive between two fixes
        ``dt_s`` seconds apart (turning round at ``places`` costs ``bin_turn_cost``); a stop between the first
        and the last is reached on either direction of a two-way street, whichever makes the drive on to
        the last stop shorter. None where no drive joins two of them."""
        network, length = self.network, self.network.edge_length_m
        builder = _Builder(network, self.dists, self.opts)
        builder.places = places
        builder._open(stops[0][0], stops[0][1])
        (ea, oa), (eb, ob) = stops[0], stops[-1]
        limit_s = _limit(dt_s)
        for k, (e, at) in enumerate(stops[1:], start=1):
            if 0 < k < len(stops) - 1 and network.edge_twin[e] >= 0:
                cand_e = np.array([e, int(network.edge_twin[e])])
                cand_o = np.array([at, float(length[e]) - at])
                turns = _turn_costs(places, cand_e, cand_o, self.opts)
                here = _turn_costs(places, np.array([ea]), np.array([oa]), self.opts)
                to, _, _, _ = _routes(network, self.dists, np.array([ea]), np.array([oa]), cand_e, cand_o, limit_s,
                                      self.opts, dt_s=dt_s, turn_a=here, turn_b=turns)
                on, _, _, _ = _routes(network, self.dists, cand_e, cand_o, np.array([eb]), np.array([ob]), limit_s,
                                      self.opts, dt_s=dt_s, turn_a=turns,
                                      turn_b=_turn_costs(places, np.array([eb]), np.array([ob]), self.opts))
                pick = int(np.argmin(to[0] + on[:, 0]))
                e, at = int(cand_e[pick]), float(cand_o[pick])
            # a stop behind on the edge the drive came by is a bin to reach, not a fix fallen back (fall_m 0)
            if builder._drive(ea, oa, e, at, dt_s, 0.0) is not True:
                return None
            ea, oa = e, at
        return [list(p) for p in builder.pieces]


def smoothed(piece: TracePiece, half_s: float) -> TracePiece:
    """``piece`` with each fix replaced by the mean of the fixes within ``half_s`` seconds of it (nearer
    the ends of the piece, within as many seconds as there are to the end)."""
    if half_s <= 0 or len(piece) < 2:
        return piece
    t = piece.time_s
    half = np.minimum(half_s, np.minimum(t - t[0], t[-1] - t))  # symmetric: the ends are not pulled inwards
    lo = np.searchsorted(t, t - half, side="left")
    hi = np.searchsorted(t, t + half, side="right")
    sums = np.vstack([np.zeros((1, 2)), np.cumsum(piece.xy, axis=0)])
    xy = (sums[hi] - sums[lo]) / (hi - lo)[:, None]
    return TracePiece(time_s=piece.time_s, xy=xy, source=piece.source, after=piece.after)


def _mean_of(piece: TracePiece, half_s: float) -> float:
    """How many fixes the smoothing averages, typically (the median over ``piece``)."""
    if half_s <= 0 or len(piece) < 2:
        return 1.0
    lo = np.searchsorted(piece.time_s, piece.time_s - half_s, side="left")
    hi = np.searchsorted(piece.time_s, piece.time_s + half_s, side="right")
    return float(np.median(hi - lo))


def gps_error_m(network: RoadNetwork, pieces: Sequence[TracePiece], half_s: float) -> float | None:
    """The GPS error (metres, one axis's standard deviation) ``pieces``' fixes show, a robust estimate
    (1.4826 times a median of offsets). On a dense trace (30 fixes or more with others within ``half_s``
    seconds), from how far each fix lies from the mean of those (scaled for the fix's own share of the
    mean): over seconds the lorry's drive is near enough straight that the offsets are the GPS's (the
    simulator's 5, 10 and 15 m read 5.5, 10.4 and 15.2 m on Monaco at 1 s). On a sparse one, as Newson and
    Krumm estimate it, from each fix's distance to the nearest street: an underestimate where streets
    are close together (a fix wanders nearer another street: at 5 and 30 s, 10 m read 8.8-9.3 m and 15 m
    12.1-13.7 m on Monaco and Oakham; :func:`match_trace` measures such a trace again on the streets
    matched). None without fixes."""
    dense = _dense_error_m(pieces, half_s)
    return dense if dense is not None else _street_error_m(network, pieces)


def _street_error_m(network: RoadNetwork, pieces: Sequence[TracePiece]) -> float | None:
    """:func:`gps_error_m` from the fixes' distances to the nearest street; None without fixes."""
    xy = np.vstack([p.xy for p in pieces]) if pieces else np.zeros((0, 2))
    if xy.shape[0] == 0:
        return None
    _, dist = shapely.STRtree(network.edge_xy).query_nearest(shapely.points(xy), return_distance=True,
                                                             all_matches=False)
    return float(1.4826 * np.median(dist))


def _dense_error_m(pieces: Sequence[TracePiece], half_s: float) -> float | None:
    """:func:`gps_error_m` from the fixes' offsets from their local mean; None where too few fixes have
    others within ``half_s`` seconds (fewer than 30)."""
    offsets: list[np.ndarray] = []
    shares: list[np.ndarray] = []
    for piece in pieces:
        if len(piece) < 2:
            continue
        t = piece.time_s
        lo = np.searchsorted(t, t - half_s, side="left")
        hi = np.searchsorted(t, t + half_s, side="right")
        n = hi - lo
        sums = np.vstack([np.zeros((1, 2)), np.cumsum(piece.xy, axis=0)])
        mean = (sums[hi] - sums[lo]) / n[:, None]
        many = n > 1
        offsets.append(np.abs(piece.xy - mean)[many].ravel())
        shares.append(np.repeat(1.0 - 1.0 / n[many], 2))
    if not offsets or sum(o.size for o in offsets) < 60:
        return None
    offset, share = np.concatenate(offsets), np.concatenate(shares)
    return float(1.4826 * np.median(offset) / np.sqrt(np.median(share)))


def _thinned(piece: TracePiece, within_m: float, grow: bool = False) -> np.ndarray:
    """Which fixes of ``piece`` the model sees: each one farther than ``within_m`` from the last one
    seen, and the last (Newson and Krumm's thinning: fixes of a lorry standing or crawling add
    nothing but the GPS's wander). With ``grow``, a stand read as one place: from the mean of the last
    fix seen and those hidden after it, ``within_m`` widened by the error of that mean (``sqrt(1 + 1/n)``
    for ``n`` fixes); and the first fix seen on its own (a piece starts where it starts, not at the mean
    of a drive away from it)."""
    keep = np.zeros(len(piece), dtype=bool)
    total, n = np.zeros(2), 0

    def far(i: int) -> bool:
        radius = within_m * np.sqrt(1.0 + 1.0 / n) if grow else within_m
        return bool(np.hypot(*(piece.xy[i] - total / n)) > radius)

    for i in range(len(piece)):
        if n == 0 or far(i):
            keep[i], total, n = True, piece.xy[i].astype(float), 1
            if grow and i == 0:
                n = 0
        elif grow:
            total, n = total + piece.xy[i], n + 1
    keep[-1] = True
    return keep


def match_trace(network: RoadNetwork, trace: CleanTrace, options: MatchOptions | None = None,
                stands: Stands | None = None, pins: Sequence[Pin] = ()) -> MatchedTrace:
    """Match ``trace`` (one vehicle, cleaned) onto ``network``'s streets (see the module's docstring);
    ``stands``, the bins the lorry may lift (where, and their seconds), lets the time between fixes count.

    A fix within ``2 sigma_m`` of the last fix the model saw is not matched on its own: it is
    placed where that fix was (the lorry standing), keeping its time for the stops, and the fix
    seen is matched at the mean of itself and the fixes it stands for. On a trace neither smoothed
    nor sparse (fixes some 5 s apart) with ``stand_from_m`` of error or more, a stand is read as one
    place: a fix within ``stand_sigmas`` errors of the mean of the fixes since the last one seen
    (widened by that mean's own error) is hidden (:func:`_thinned`). A sparse trace's error, where
    measured, is measured again on the streets matched (Newson and Krumm's distance to the nearest
    street reads it low), and the trace matched again where that is clearly more than ``sigma_m``."""
    given = options or MatchOptions()
    opts = given
    gaps = np.concatenate([np.diff(p.time_s) for p in trace.pieces]) if trace.pieces else np.zeros(0)
    sparse = gaps.size > 0 and float(np.median(gaps)) >= opts.time_min_interval_s
    dense_m = _dense_error_m(trace.pieces, opts.smooth_s) if opts.measure_sigma else None
    measured = dense_m if dense_m is not None else (_street_error_m(network, trace.pieces)
                                                    if opts.measure_sigma else None)
    # a GPS clearly noisier than sigma_m (15 m read as 10 made the wander drives: Monaco at 1 s +2 to +3 %);
    # within a fifth of it, the estimate's own spread and the drive's curves (10 m read 10.4), sigma_m
    if measured is not None and measured > 1.2 * opts.sigma_m:
        opts = replace(opts, sigma_m=float(min(measured, 3.0 * opts.sigma_m)))
    # and a dense trace's, clearly quieter (5 m read 5.5, and taken as 10 the fixes were trusted too little:
    # Oakham rcv-4 at 1 s cut its turning circles, -2.23 %), down to 7 m (at 5.5 Monaco's smoothed fixes
    # wandered into drives, +0.3 to +2.3 %, in three times the seconds); a sparse trace's estimate reads low
    elif dense_m is not None and dense_m < opts.sigma_m / 1.2:
        opts = replace(opts, sigma_m=float(max(dense_m, 0.7 * opts.sigma_m)))
    matched, residuals = _match(network, trace, opts, stands, pins)
    if opts.measure_sigma and sparse and residuals.size >= 30:
        # the distance to the nearest street reads a sparse trace's error low where streets are close (15 m
        # read 11.1-14.7 at 30 s), the distance to the street matched nearer it (13.1-17.3; 10 m 9.7-11.2, so
        # kept at sigma_m): at 15 m Oakham's rounds at 30 s read 7 -> 12 of 12 within 2 %. Not at 5 s, where a
        # stand's fixes are grouped within stand_sigmas errors: wider, Monaco's rounds read 3 % short
        again = float(1.4826 * np.median(residuals))
        if again > 1.2 * given.sigma_m and again > 1.05 * opts.sigma_m:
            matched, _ = _match(network, trace, replace(opts, sigma_m=float(min(again, 3.0 * given.sigma_m))),
                                stands, pins)
    return matched


def _pinned(piece: TracePiece, pins: Sequence[Pin]) -> tuple[TracePiece, np.ndarray]:
    """``piece`` with the ``pins`` within its time span laid among its fixes in time order (source -1),
    and per fix the edge a pin stands on (-1 for the fixes)."""
    inside = [p for p in pins if piece.time_s[0] < p.time_s < piece.time_s[-1]]
    if not inside:
        return piece, np.full(len(piece), -1, dtype=np.int64)
    t = np.concatenate([piece.time_s, [p.time_s for p in inside]])
    xy = np.vstack([piece.xy, np.array([p.xy for p in inside], dtype=float).reshape(-1, 2)])
    source = np.concatenate([piece.source, np.full(len(inside), -1, dtype=np.int64)])
    edge = np.concatenate([np.full(len(piece), -1, dtype=np.int64), [p.edge for p in inside]])
    order = np.argsort(t, kind="stable")
    return TracePiece(time_s=t[order], xy=xy[order], source=source[order], after=piece.after), edge[order]


def _pin_spans(piece: TracePiece) -> np.ndarray:
    """Per fix of ``piece``, for a pin (source < 0) the seconds between the fixes either side of it, else 0.
    A pin's time is a read's, some seconds off: the drive to or from it may take all of those (else a spur
    longer than half of them was out of reach, and the pin left out, or held where the lorry was)."""
    pin = piece.source < 0
    fixes = np.flatnonzero(~pin)
    if not pin.any() or not fixes.size:
        return np.zeros(len(piece))
    k = np.searchsorted(fixes, np.arange(len(piece)))
    span = piece.time_s[fixes[np.minimum(k, fixes.size - 1)]] - piece.time_s[fixes[np.maximum(k - 1, 0)]]
    return np.where(pin, span, 0.0)


def _on_pinned_streets(network: RoadNetwork, cands: _Candidates, pin_edge: np.ndarray) -> _Candidates:
    """``cands`` with a pin's (``pin_edge`` >= 0 for its fix) only on its street, either way along it."""
    if not (pin_edge >= 0).any():
        return cands
    owner = np.repeat(np.arange(pin_edge.size), np.diff(cands.offsets))
    wanted = pin_edge[owner]
    keep = (wanted < 0) | (cands.edge == wanted) | (cands.edge == network.edge_twin[np.maximum(wanted, 0)])
    counts = np.bincount(owner[keep], minlength=pin_edge.size)
    return _Candidates(np.concatenate(([0], np.cumsum(counts))), cands.edge[keep], cands.along[keep],
                       cands.dist[keep])


def _match(network: RoadNetwork, trace: CleanTrace, opts: MatchOptions, stands: Stands | None,
           pins: Sequence[Pin] = ()) -> tuple[MatchedTrace, np.ndarray]:
    """:func:`match_trace` with ``opts`` as they are: the trace matched, and each fix seen's distance
    (metres) from its place matched, times the square root of the fixes it stands for (its error as one
    fix's)."""
    routing = routing_graph(network, opts.profile)
    graph = turn_graph(network, routing, opts.policy)
    dists = _Distances(network, graph, _turn_rounds(network, graph) if opts.end_turns else None)
    builder = _Builder(network, dists, opts)
    issues: list[TraceIssue] = []
    unmatched = left_out = 0
    places: BinPlaces | None = None
    residuals: list[np.ndarray] = []
    for given in trace.pieces:
        piece, pin_edge = _pinned(smoothed(given, opts.smooth_s), pins)
        sigma = opts.sigma_m / np.sqrt(_mean_of(given, opts.smooth_s))
        # on a trace of fixes seconds apart the fixes show the drive; and the thinning hides a standing
        # lorry's fixes, so two fixes seen 35 s apart at 5 s were read as a drive to fill (Monaco at 5 s)
        sparse = given.time_s.size > 1 and float(np.median(np.diff(given.time_s))) >= opts.time_min_interval_s
        # neither smoothed nor sparse (5 s), at 15 m of error: a stand's fixes are many and wide (the thinning
        # against the last one seen kept most of them, and the match drove up side streets between them:
        # Oakham +2.4 to +7.9 %); at 30 s a stand has a fix or two, and fixes a drive apart were grouped
        # (Monaco -2 to -3 %); at 10 m the thinning holds a stand, and grouping merged a lorry's fixes 40-50 m
        # apart in pairs (a tip on a corner read as reached down the other street)
        grouped = _mean_of(given, opts.smooth_s) <= 1.0 and not sparse and opts.sigma_m >= opts.stand_from_m
        pin = piece.source < 0
        # a pin is seen on its own, and so is the fix after it (else hidden in it, it would move it)
        seen = np.flatnonzero(_thinned(piece, (opts.stand_sigmas if grouped else 2.0) * sigma, grow=grouped)
                              | pin | np.concatenate(([False], pin[:-1])))
        group = np.searchsorted(seen, np.arange(len(piece)), side="right") - 1
        size = np.bincount(group).astype(float)
        # a fix the model sees stands for those it hides after it: their mean
        xy = np.column_stack([np.bincount(group, weights=piece.xy[:, k]) for k in (0, 1)]) / size[:, None]
        sub = TracePiece(time_s=piece.time_s[seen], xy=xy, source=piece.source[seen], after=piece.after)
        cands = _on_pinned_streets(network, _candidates(network, sub.xy, routing.allowed, opts), pin_edge[seen])
        # a dense trace's fixes are smoothed and a standing lorry's hidden by the thinning already; given
        # the allowance too, the match stood where the lorry drove a turning circle (Oakham rcv-4 at 1 s)
        wander = opts.wander_sigmas if _mean_of(given, opts.smooth_s) <= 1.0 else 0.0
        seen_sigma = np.where(sub.source < 0, opts.pin_sigma_m, sigma / np.sqrt(size))
        if sparse and opts.bin_turns and stands is not None and places is None:
            places = bin_places(network, stands.xy, alone_m=opts.bin_alone_m)
        builder.places = places if sparse else None
        # on a smoothed trace a fix steadily farther back than the wander reaches is a crew driving back
        back_m = opts.turn_back_sigmas * opts.sigma_m if _mean_of(given, opts.smooth_s) > 1.0 else None
        runs, outliers = _viterbi(network, dists, sub, cands, opts, seen_sigma, wander, stands if sparse else None,
                                  builder.places, back_m)
        lost = int(np.count_nonzero(sub.source[outliers] >= 0))  # a pin left out is no fix lost
        left_out += lost
        rows = np.array([(i, row) for run in runs for i, row in run], dtype=np.int64).reshape(-1, 2)
        mine = sub.source[rows[:, 0]] >= 0
        residuals.append(cands.dist[rows[mine, 1]] * np.sqrt(size[rows[mine, 0]]))
        placed = {seen[i]: (r, k, row, _fall_back_m(opts, wander > 0, seen_sigma[i], seen_sigma[run[k - 1][0]])
                            if k else None)
                  for r, run in enumerate(runs) for k, (i, row) in enumerate(run)}
        unmatched += int(np.count_nonzero(sub.source >= 0)) - sum(1 for i in placed if piece.source[i] >= 0) - lost
        held = False
        spans = _pin_spans(piece)
        for i in range(len(piece)):
            if i in placed:
                r, k, row, fall_m = placed[i]
                reason = (piece.after if r == 0 else "no_match") if k == 0 and builder.last is not None else ""
                builder.place(int(cands.edge[row]), float(cands.along[row]), float(piece.time_s[i]),
                              int(piece.source[i]), "" if reason == "start" else reason, fall_m, float(spans[i]))
                held = True
            elif held and not np.isin(i, seen):
                builder.hold(float(piece.time_s[i]), int(piece.source[i]))
        if len(runs) > 1:
            issues.append(TraceIssue("no_match", trace.vehicle_id, len(runs) - 1,
                                     f"{len(runs) - 1} times no drive on the network fits between two fixes: "
                                     "the match breaks there and the quickest drive is filled in"))
    if left_out:
        issues.append(TraceIssue("outlier", trace.vehicle_id, left_out,
                                 f"{left_out} fixes no drive on the network reaches from the fixes before them "
                                 "(the GPS's odd error): left out"))
    if unmatched:
        issues.append(TraceIssue("off_network", trace.vehicle_id, unmatched,
                                 f"{unmatched} fixes without a street within {opts.radius_m:g} m that the "
                                 "vehicle may drive: dropped"))
    lengths = network.edge_length_m
    pieces: Pieces = [(int(e), s / float(lengths[int(e)]), t / float(lengths[int(e)])) for e, s, t in builder.pieces]
    piece_m = np.array([t - s for _, s, t in builder.pieces], dtype=float)
    starts = np.concatenate(([0.0], np.cumsum(piece_m)))
    along = np.asarray(builder.along, dtype=float)
    if along.size:
        along = np.clip(isotonic_regression(along).x, 0.0, starts[-1])
    source = np.asarray(builder.source, dtype=np.int64)
    fix = source >= 0  # the pins placed the drive; the fixes are the trace's
    matched = MatchedTrace(vehicle_id=trace.vehicle_id, pieces=pieces,
                           time_s=np.asarray(builder.time, dtype=float)[fix], along_m=along[fix], source=source[fix],
                           bridges=tuple(builder.bridges), issues=(*trace.issues, *issues), piece_start_m=starts)
    return matched, np.concatenate(residuals) if residuals else np.zeros(0)
