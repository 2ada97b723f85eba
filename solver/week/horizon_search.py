"""A search over the whole horizon of a periodic routing problem with intermediate facilities, every
round priced on its own (no routing engine): ruin and recreate with simulated annealing.

A week is, per day, up to ``vehicles`` rounds, each a customer order whose tip visits are placed
at least travel by :func:`solver.week.facility_split.split_route`; the cost is the travel of every
round of every day, a round's time (travel + service) at most ``max_duration``. Each customer is
visited on the days of one of its schemes.

One move removes a few customers from every day they are visited on (at random, a customer and its
nearest neighbours, a string of a round, or the shortest round of a day that has two) and puts
each back on the scheme whose days take it cheapest, each visit at its cheapest position: the
positions of every round of a day are priced at once with numpy against the round's tips as
placed (load of the stretch between tips, time), and the cheapest position that would overload a
stretch is priced again with the tips re-placed. Another move (``patch_share`` of them) forces a
patch, a customer and its nearest on the same scheme, onto one other scheme together, and takes
off the nearest customers of the days it goes to, to make room. A week that cannot take a
customer back is dropped. Rounds may run over ``max_duration`` at a penalty per unit over that
adapts to how many weeks tried keep the limit; only weeks within it are kept as the best.
Acceptance is simulated annealing on the penalised travel, the temperature falling geometrically
over the time given from ``start_temperature`` to ``end_temperature`` (fractions of the first
week's cost), back to the best week when the current one drifts ``restart_gap`` above it.
This is the ruin-and-recreate family the literature uses for
periodic routing with intermediate facilities (Hemmelmayr, Doerner, Hartl and Rath 2013 use VNS with
the same two levels, the days of each customer and the routes of each day).

Units are those of the instance: travel and service times, demands in load units.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.week.facility_split import RouteSplit, SplitData, evaluate_path, split_route


@dataclass(frozen=True)
class HorizonProblem:
    """The data of a horizon: ``split`` (travel, demand, service, depot, tips, limits), the customers'
    ``schemes`` (node -> the day tuples it may be visited on), ``days`` and ``vehicles`` per day."""

    split: SplitData
    schemes: Mapping[int, tuple[tuple[int, ...], ...]]
    days: int
    vehicles: int


@dataclass
class Week:
    """A week being searched: per day the rounds' customer orders and their splits, each customer's scheme."""

    orders: list[list[list[int]]]
    splits: list[list[RouteSplit]]
    scheme: dict[int, int]

    @property
    def cost(self) -> float:
        """Travel of every round of every day."""
        return sum(s.travel for day in self.splits for s in day)

    def copy(self) -> Week:
        """A copy whose rounds can be edited without touching this week."""
        return Week(orders=[[list(o) for o in day] for day in self.orders], splits=[list(d) for d in self.splits],
                    scheme=dict(self.scheme))

    def paths(self) -> dict[int, list[tuple[int, ...]]]:
        """Each day's rounds as node paths between the depot's departure and return (tips included)."""
        return {d: [s.path for s in day if s.path] for d, day in enumerate(self.splits)}


@dataclass(frozen=True)
class Insertion:
    """Where a customer goes on a day: ``delta`` travel, round index (``len(rounds)`` for a new round),
    ``position`` in the round's customer order, and the round's new split."""

    delta: float
    route: int
    position: int
    split: RouteSplit


@dataclass(frozen=True)
class HorizonResult:
    """The best week found, with ``iterations`` (moves tried), ``improvements`` (new best weeks) and ``seconds``."""

    week: Week
    iterations: int
    improvements: int
    seconds: float


def priced(split: RouteSplit, data: SplitData, penalty: float | None) -> float:
    """A round's price: its travel, plus ``penalty`` per unit of time over the limit (or infinite
    over the limit when ``penalty`` is ``None``: the limit is hard)."""
    over = max(split.time - data.max_duration, 0.0)
    if over <= 1e-9:
        return split.travel
    return float("inf") if penalty is None else split.travel + penalty * over


def best_insertion(problem: HorizonProblem, week: Week, day: int, customer: int, *,
                   reprice: int = 1, penalty: float | None = None) -> Insertion | None:
    """The cheapest place of ``customer`` on ``day`` (see the module docstring), or ``None``; the
    time limit is hard unless a ``penalty`` per unit of time over it is given (then ``delta`` is the
    round's price change, :func:`priced`)."""
    data = problem.split
    travel, demand, service = data.travel, data.demand, data.service
    dem, serv = float(demand[customer]), float(service[customer])
    best: Insertion | None = None
    overloaded: list[tuple[float, int, int]] = []
    for r, split in enumerate(week.splits[day]):
        path = np.asarray((data.depot, *split.path, data.depot), dtype=np.intp)
        a, b = path[:-2], path[1:-1]  # gaps before each stop; none after the last tip (it goes home empty)
        delta = travel[a, customer] + travel[customer, b] - travel[a, b]
        tip = data.is_tip[path]
        tip[[0, -1]] = False
        stretch = np.cumsum(tip)  # the stretch between unloads each node (and the gap after it) is in
        is_customer = ~tip
        is_customer[[0, -1]] = False
        loads = np.bincount(stretch[is_customer], weights=demand[path[is_customer]], minlength=stretch[-1] + 1)
        gap_load = loads[stretch[:-2]] + dem
        limit = data.max_duration + 1e-9
        if penalty is None:
            fits_time = split.time + delta + serv <= limit
            price = delta
        else:
            fits_time = np.ones(len(delta), dtype=bool)
            over_now = max(split.time - data.max_duration, 0.0)
            price = delta + penalty * (np.maximum(split.time + delta + serv - data.max_duration, 0.0) - over_now)
        fits = fits_time & (gap_load <= data.capacity + 1e-9)
        position = np.cumsum(is_customer)[:-2]  # customers before the gap: the index in the order
        if fits.any():
            k = int(np.argmin(np.where(fits, price, np.inf)))
            if best is None or price[k] < best.delta - 1e-12:
                # priced with the tips where they are; they are placed again when the visit is made
                nodes = list(split.path)
                nodes.insert(k, customer)
                grown = split.time + float(delta[k]) + serv
                placed = RouteSplit(path=tuple(nodes), travel=split.travel + float(delta[k]), time=grown,
                                    feasible=grown <= data.max_duration + 1e-9)
                best = Insertion(delta=priced(placed, data, penalty) - priced(split, data, penalty), route=r,
                                 position=int(position[k]), split=placed)
        over = np.flatnonzero(fits_time & ~fits)
        overloaded.extend((float(price[k]), r, int(position[k])) for k in over)
    if reprice and overloaded:
        overloaded.sort()
        seen: set[tuple[int, int]] = set()
        for d, r, pos in overloaded:
            if len(seen) >= reprice or (best is not None and d >= best.delta):
                break
            if (r, pos) in seen:
                continue
            seen.add((r, pos))
            new = list(week.orders[day][r])
            new.insert(pos, customer)
            resplit = split_route(new, data)
            if resplit is None or (penalty is None and not resplit.feasible):
                continue
            gain = priced(resplit, data, penalty) - priced(week.splits[day][r], data, penalty)
            if best is None or gain < best.delta:
                best = Insertion(delta=gain, route=r, position=pos, split=resplit)
    if len(week.splits[day]) < problem.vehicles:
        alone = split_route([customer], data)
        if alone is not None and alone.feasible and (best is None or alone.travel < best.delta):
            best = Insertion(delta=alone.travel, route=len(week.splits[day]), position=0, split=alone)
    if best is not None and best.delta == float("inf"):
        return None
    return best


def insert_customer(problem: HorizonProblem, week: Week, customer: int, rng: random.Random | None = None,
                    *, noise: float = 0.0, only: int | None = None, penalty: float | None = None) -> bool:
    """Put ``customer`` back on the scheme whose days take it cheapest (each day priced by
    :func:`best_insertion`, ``noise`` a relative random spread on the prices), or on scheme ``only``
    when given; ``False`` when no scheme (or not that one) fits."""
    schemes = problem.schemes[customer]
    allowed = range(len(schemes)) if only is None else (only,)
    per_day: dict[int, Insertion | None] = {}
    for k in allowed:
        for d in schemes[k]:
            if d not in per_day:
                per_day[d] = best_insertion(problem, week, d, customer, penalty=penalty)
    choice: tuple[float, int] | None = None
    for k in allowed:
        days = schemes[k]
        found = [per_day[d] for d in days]
        if any(f is None for f in found):
            continue
        price = sum(f.delta for f in found if f is not None)
        if noise and rng is not None:
            price *= 1.0 + noise * (2.0 * rng.random() - 1.0)
        if choice is None or price < choice[0]:
            choice = (price, k)
    if choice is None:
        return False
    week.scheme[customer] = choice[1]
    for d in schemes[choice[1]]:
        place = per_day[d]
        assert place is not None
        if place.route == len(week.orders[d]):
            week.orders[d].append([customer])
            week.splits[d].append(place.split)
            continue
        order = week.orders[d][place.route]
        order.insert(place.position, customer)
        resplit = split_route(order, problem.split)
        better = resplit is not None and priced(resplit, problem.split, penalty) <= priced(place.split, problem.split,
                                                                                           penalty)
        week.splits[d][place.route] = resplit if better and resplit is not None else place.split
    return True


def remove_customers(problem: HorizonProblem, week: Week, customers: Sequence[int]) -> None:
    """Take ``customers`` off every day they are on, the tips of each round touched placed again."""
    gone = set(customers)
    for d in range(problem.days):
        kept_orders, kept_splits = [], []
        for order, split in zip(week.orders[d], week.splits[d], strict=True):
            if gone.isdisjoint(order):
                kept_orders.append(order)
                kept_splits.append(split)
                continue
            rest = [c for c in order if c not in gone]
            if not rest:
                continue
            # dropping stops never overloads a stretch nor lengthens the round with the tips where they
            # were; the tips are placed again when the round next takes a visit
            nodes = [n for n in split.path if n not in gone]
            resplit = evaluate_path(_tidy_tips(nodes, problem.split), problem.split)
            kept_orders.append(rest)
            kept_splits.append(resplit)
        week.orders[d], week.splits[d] = kept_orders, kept_splits
    for c in gone:
        week.scheme.pop(c, None)


def _tidy_tips(nodes: list[int], data: SplitData) -> list[int]:
    """A path with no two tips in a row (the second unloads nothing) and a tip last."""
    tips = set(data.facilities)
    out: list[int] = []
    for n in nodes:
        if n in tips and out and out[-1] in tips:
            continue
        if n in tips and not out:
            continue
        out.append(n)
    return out


def construct(problem: HorizonProblem, rng: random.Random, *, attempts: int = 50,
              penalty: float | None = None) -> Week | None:
    """A first week: customers inserted one by one, the most visited and heaviest first (then in random
    orders, ``attempts`` in all), or ``None`` when none fits (the time limit hard unless ``penalty``)."""
    customers = sorted(problem.schemes, key=lambda c: (-len(problem.schemes[c][0]), -problem.split.demand[c]))
    for attempt in range(attempts):
        if attempt:
            rng.shuffle(customers)
        week = Week(orders=[[] for _ in range(problem.days)], splits=[[] for _ in range(problem.days)], scheme={})
        if all(insert_customer(problem, week, c, penalty=penalty) for c in customers):
            return week
    return None


def _neighbours(problem: HorizonProblem) -> dict[int, list[int]]:
    """Each customer's other customers, nearest first (travel both ways)."""
    customers = np.asarray(sorted(problem.schemes), dtype=np.intp)
    both = problem.split.travel[np.ix_(customers, customers)]
    both = both + both.T
    return {int(c): [int(customers[j]) for j in np.argsort(both[i], kind="stable") if j != i]
            for i, c in enumerate(customers)}


def _ruin(problem: HorizonProblem, week: Week, rng: random.Random, near: Mapping[int, list[int]],
          size: int) -> list[int]:
    """The customers a move removes: ``size`` at random, or a customer and its nearest, or a string of a round."""
    customers = list(problem.schemes)
    kind = rng.random()
    if kind < 0.2:
        return rng.sample(customers, min(size, len(customers)))
    if kind < 0.6:
        seed = rng.choice(customers)
        return [seed, *near[seed][:size - 1]]
    rounds = [(d, r) for d in range(problem.days) for r in range(len(week.orders[d]))]
    if kind > 0.95:
        # the shortest round of a day with more than one: emptying it is how a lorry is saved
        shared = [(len(week.orders[d][r]), d, r) for d, r in rounds if len(week.orders[d]) > 1]
        if shared:
            _, d, r = min(shared)
            return list(week.orders[d][r])
    d, r = rng.choice(rounds)
    order = week.orders[d][r]
    length = min(len(order), size)
    start = rng.randrange(len(order) - length + 1)
    return order[start:start + length]


def _patch(problem: HorizonProblem, week: Week, rng: random.Random, near: Mapping[int, list[int]],
           size: int) -> tuple[list[int], dict[int, int]]:
    """A patch moved to other days together: a customer and its nearest on the same scheme (up to
    ``size`` in all, among the ``3 * size`` nearest) get one other scheme, the same for all of them;
    also removed (to be put back freely) are the nearest customers of the days the patch goes to, so
    that room is made there. Returns the removed customers and the forced schemes."""
    customers = [c for c in problem.schemes if len(problem.schemes[c]) > 1]
    if not customers:
        return [], {}
    seed = rng.choice(customers)
    schemes = problem.schemes[seed]
    now = week.scheme[seed]
    target = rng.choice([k for k in range(len(schemes)) if k != now])
    alike = [c for c in near[seed][:3 * size] if problem.schemes[c] == schemes and week.scheme[c] == now]
    patch = [seed, *alike[:size - 1]]
    days = set(schemes[target])
    room = [c for c in near[seed][:3 * size] if c not in patch
            and days & set(problem.schemes[c][week.scheme[c]])][:size]
    return patch + room, dict.fromkeys(patch, target)


def over_time(week: Week, data: SplitData) -> float:
    """The rounds' time over the limit, summed over every round of every day (0 when the week is feasible)."""
    return sum(max(sp.time - data.max_duration, 0.0) for day in week.splits for sp in day)


def search(problem: HorizonProblem, *, time_limit_s: float, seed: int = 0, start_temperature: float = 0.015,
           end_temperature: float = 0.0005, restart_gap: float = 0.06, max_ruin: int = 15,
           patch_share: float = 0.3, penalised: bool = True) -> HorizonResult | None:
    """The cheapest feasible week found in ``time_limit_s`` wall seconds (see the module docstring), or
    ``None`` when none was found.

    The weeks searched may break the time limit at a price per unit over it, the penalty, which rises
    when fewer than half of the last 100 weeks tried were within the limit and falls otherwise.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    data = problem.split
    penalty = 1.0
    first = construct(problem, rng, attempts=5) or construct(problem, rng, attempts=5, penalty=penalty)
    if first is None:
        return None
    near = _neighbours(problem)

    def value(week: Week) -> float:
        return week.cost + penalty * over_time(week, data)

    current = first
    best = first.copy() if over_time(first, data) <= 1e-9 else None
    best_cost = best.cost if best is not None else float("inf")
    t0, t1 = start_temperature * first.cost, end_temperature * first.cost
    iterations = improvements = within = 0
    n = len(problem.schemes)
    top = max(2, min(max_ruin, n // 3))
    while True:
        elapsed = time.perf_counter() - started
        if elapsed >= time_limit_s:
            break
        temperature = t0 * (t1 / t0) ** (elapsed / time_limit_s)
        iterations += 1
        if not penalised:
            penalty = 1e6
        elif iterations % 100 == 0:
            penalty = min(penalty * 1.5, 100.0) if within < 50 else max(penalty / 1.2, 0.05)
            within = 0
        trial = current.copy()
        forced: dict[int, int] = {}
        if rng.random() < patch_share:
            removed, forced = _patch(problem, trial, rng, near, rng.randint(2, top))
        else:
            removed = _ruin(problem, trial, rng, near, rng.randint(1, top))
        remove_customers(problem, trial, removed)
        if not all(insert_customer(problem, trial, c, only=k, penalty=penalty) for c, k in forced.items()):
            continue
        order = [c for c in removed if c not in forced]
        how = rng.random()
        if how < 0.4:
            rng.shuffle(order)
        elif how < 0.7:
            order.sort(key=lambda c: -problem.split.demand[c] * len(problem.schemes[c][0]))
        else:
            order.sort(key=lambda c: -len(problem.schemes[c][0]))
        noise = 0.1 if rng.random() < 0.2 else 0.0
        if not all(insert_customer(problem, trial, c, rng, noise=noise, penalty=penalty) for c in order):
            continue
        feasible = over_time(trial, data) <= 1e-9
        within += feasible
        cost, now = value(trial), value(current)
        if cost < now - 1e-9 or rng.random() < math.exp(-(cost - now) / max(temperature, 1e-12)):
            current = trial
            if feasible and trial.cost < best_cost - 1e-9:
                best, best_cost = trial.copy(), trial.cost
                improvements += 1
        if best is not None and value(current) > best_cost * (1.0 + restart_gap):
            current = best.copy()
    if best is None:
        return None
    return HorizonResult(week=best, iterations=iterations, improvements=improvements,
                         seconds=time.perf_counter() - started)
