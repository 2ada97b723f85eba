"""The whole-horizon search: insertion prices against the rounds re-evaluated, and a week worked out by hand."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from solver.week.facility_split import SplitData, evaluate_path
from solver.week.horizon_search import (
    HorizonProblem,
    best_insertion,
    construct,
    insert_customer,
    remove_customers,
    search,
)


def _line_week(*, vehicles: int = 1) -> HorizonProblem:
    """Two days, one lorry a day (unless ``vehicles``), on a line: the depot and the tip at 0, customers
    A = 10, 11, 12 (nodes 2-4) and B = -10, -11, -12 (nodes 5-7), each once in the two days, and C at 5
    (node 8) on both days; no service, capacity for all, a round at most 40 long."""
    x = np.array([0, 0, 10, 11, 12, -10, -11, -12, 5], dtype=float)
    travel = np.abs(x[:, None] - x[None, :])
    demand = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1], dtype=float)
    split = SplitData(travel, demand, np.zeros(9), depot=0, facilities=(1,), capacity=100.0, max_duration=40.0)
    once = ((0,), (1,))
    schemes = {c: once for c in range(2, 8)} | {8: ((0, 1),)}
    return HorizonProblem(split=split, schemes=schemes, days=2, vehicles=vehicles)


def test_the_hand_made_week_puts_each_cluster_on_its_own_day() -> None:
    """By hand: a day with an A and a B customer drives at least 40 out and back plus the other side,
    over the limit of 40, so A takes one day and B the other; C (both days) is on the way to A (the A
    day costs 24) and a 10 detour on the B day (5 + 15 + 1 + 1 + 12 = 34): 58 in all, found in 1 s."""
    found = search(_line_week(), time_limit_s=1.0, seed=3)
    assert found is not None
    week = found.week
    assert week.cost == pytest.approx(58.0)
    a_day = {week.scheme[c] for c in (2, 3, 4)}
    b_day = {week.scheme[c] for c in (5, 6, 7)}
    assert len(a_day) == 1 and len(b_day) == 1 and a_day != b_day
    assert sorted(sp.travel for day in week.splits for sp in day) == [24.0, 34.0]


def test_with_two_lorries_a_day_both_clusters_may_share_a_day() -> None:
    """Two lorries a day, by hand: B costs at least 24 (out to -12 and back); A on one day costs 24 and
    C on a day without A at least 10 (out to 5 and back), while A split over both days costs at least
    20 + 24: so 58 at best, as with one lorry (A and C on one day, B and C or B alone with C alone)."""
    found = search(_line_week(vehicles=2), time_limit_s=1.0, seed=1)
    assert found is not None
    assert found.week.cost == pytest.approx(58.0)


@pytest.mark.parametrize("seed", range(4))
def test_a_scheme_change_is_priced_as_the_rounds_re_evaluated(seed: int) -> None:
    """On a random 12-customer, 4-day instance: a customer taken off and put back on each of its
    schemes; each day's price equals its round with the visit inserted, re-evaluated from scratch, and
    after the change the week's cost is the sum of its rounds re-evaluated, at most the priced total."""
    rng = np.random.default_rng(seed)
    n = 15
    xy = rng.uniform(0, 100, size=(n, 2))
    travel = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    demand = np.r_[0.0, 0.0, 0.0, rng.integers(5, 20, size=n - 3).astype(float)]
    service = np.r_[0.0, 0.0, 0.0, np.full(n - 3, 3.0)]
    split = SplitData(travel, demand, service, depot=0, facilities=(1, 2), capacity=40.0, max_duration=1000.0)
    schemes = {c: (((0, 2), (1, 3)) if c % 3 else ((0,), (1,), (2,), (3,))) for c in range(3, n)}
    problem = HorizonProblem(split=split, schemes=schemes, days=4, vehicles=2)
    week = construct(problem, random.Random(seed))
    assert week is not None
    customer = 4
    remove_customers(problem, week, [customer])
    for days in schemes[customer]:
        trial = week.copy()
        only = dataclasses.replace(problem, schemes={**schemes, customer: (days,)})
        price = 0.0
        for d in days:
            place = best_insertion(problem, trial, d, customer)
            assert place is not None
            if place.route < len(trial.splits[d]):
                old = trial.splits[d][place.route]
                again = evaluate_path(place.split.path, split)
                assert [c for c in place.split.path if c not in (1, 2)][place.position] == customer
                assert again.travel - old.travel == pytest.approx(place.delta)
            price += place.delta
        before = trial.cost
        assert insert_customer(only, trial, customer)
        assert trial.cost == pytest.approx(sum(evaluate_path(sp.path, split).travel
                                               for day in trial.splits for sp in day))
        # the tips placed again after the visit can only shorten the priced rounds
        assert trial.cost - before <= price + 1e-9
        assert all(customer in (o for order in trial.orders[d] for o in order) for d in days)
