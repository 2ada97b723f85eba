"""The tips of a round placed for a given order: the split against every placement, by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from solver.week.facility_split import SplitData, evaluate_path, split_route

DEPOT, TIPS = 0, (1, 2)


def _data(seed: int, *, capacity: float = 10.0, max_duration: float = 1e9) -> SplitData:
    """Seven nodes: the depot 0, tips 1 and 2, customers 3-7, an asymmetric random travel matrix."""
    rng = np.random.default_rng(seed)
    travel = rng.integers(1, 30, size=(8, 8)).astype(float)
    np.fill_diagonal(travel, 0.0)
    demand = np.array([0, 0, 0, 4, 3, 5, 2, 6], dtype=float)
    service = np.array([0, 1, 2, 1, 1, 1, 1, 1], dtype=float)
    return SplitData(travel, demand, service, depot=DEPOT, facilities=TIPS, capacity=capacity,
                     max_duration=max_duration)


def _brute_force(seq: list[int], data: SplitData) -> float:
    """The least travel over every set of unload points and every tip at each, load within the capacity."""
    best = float("inf")
    n = len(seq)
    for cuts in itertools.product((False, True), repeat=n - 1):
        load = 0.0
        ok = True
        for k, c in enumerate(seq):
            load += data.demand[c]
            ok &= load <= data.capacity
            if k < n - 1 and cuts[k]:
                load = 0.0
        if not ok:
            continue
        stretches = sum(cuts) + 1
        for tips in itertools.product(TIPS, repeat=stretches):
            path, t = [], iter(tips)
            for k, c in enumerate(seq):
                path.append(c)
                if k == n - 1 or cuts[k]:
                    path.append(next(t))
            best = min(best, evaluate_path(path, data).travel)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_the_split_is_the_cheapest_placement_of_the_tips(seed: int) -> None:
    """Five customers (demand 20 against a capacity of 10: at least two unloads) in a random order on a
    random asymmetric matrix: the split's travel equals the least over all 16 cut sets and every tip
    choice, and its path keeps each stretch within the capacity and ends at a tip."""
    data = _data(seed)
    seq = [3, 4, 5, 6, 7]
    np.random.default_rng(seed).shuffle(seq)
    split = split_route(seq, data)
    assert split is not None
    assert split.travel == pytest.approx(_brute_force(seq, data))
    assert split.path[-1] in TIPS and [n for n in split.path if n not in TIPS] == seq
    load = 0.0
    for node in split.path:
        load = 0.0 if node in TIPS else load + data.demand[node]
        assert load <= data.capacity
    assert split.time == pytest.approx(split.travel + sum(data.service[n] for n in split.path))


def test_a_customer_over_the_capacity_alone_has_no_split_and_a_long_round_is_not_feasible() -> None:
    """Capacity 5 cannot carry customer 7 (demand 6): no split; a limit below the round's time marks it infeasible."""
    assert split_route([3, 7], _data(0, capacity=5.0)) is None
    tight = split_route([3, 4], _data(0, max_duration=1.0))
    assert tight is not None and not tight.feasible
    assert split_route([], _data(0)) is not None
