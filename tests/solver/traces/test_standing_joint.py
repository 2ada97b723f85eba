"""Tests of solver.traces.standing.bins_stood_at_jointly on standings made by hand: a day's lorries
read together collect each bin once, the one that stood longer at a bin keeps it, the other takes its
count from its other bins, a bin an in-cab lift named goes to none, and one lorry alone reads what
bins_stood_at reads."""

from __future__ import annotations

import numpy as np
import pytest

from solver.traces.standing import BinStanding, bins_stood_at, bins_stood_at_jointly

SERVICE = np.full(4, 30.0)


def _standing(seconds: list[float], group: list[int]) -> BinStanding:
    return BinStanding(np.array(seconds, dtype=float), np.zeros(len(seconds)), np.array(group))


@pytest.mark.parametrize("seed", range(5))
def test_one_lorry_alone_reads_as_bins_stood_at(seed: int) -> None:
    """Forty bins in random groups with random standing: one lorry read jointly reads the same bins as
    bins_stood_at (the counts per group, the bins with most standing)."""
    rng = np.random.default_rng(seed)
    service = rng.uniform(10.0, 40.0, 40)
    standing = BinStanding(rng.uniform(-5.0, 60.0, 40), np.zeros(40), rng.integers(0, 8, 40))
    (joint,) = bins_stood_at_jointly([standing], service, 0.3, 5.0)
    assert np.array_equal(joint, bins_stood_at(standing, service, 0.3, 5.0))
    assert joint.sum() > 0


def test_a_bin_two_lorries_stood_at_goes_to_the_one_that_stood_longer() -> None:
    """Two lorries each stood one lift (30 s) in one group over bins 0 and 1 (A) and bins 0 and 2 (B),
    both with most standing on bin 0: read apart both read bin 0; read together B, which stood longer
    there, keeps it and A reads bin 1."""
    a = _standing([20.0, 10.0, 0.0, 0.0], [0, 0, 1, 2])
    b = _standing([25.0, 0.0, 6.0, 0.0], [0, 1, 0, 2])
    assert bins_stood_at(a, SERVICE, 0.3, 5.0)[0] and bins_stood_at(b, SERVICE, 0.3, 5.0)[0]
    read_a, read_b = bins_stood_at_jointly([a, b], SERVICE, 0.3, 5.0)
    assert read_a.tolist() == [False, True, False, False]
    assert read_b.tolist() == [True, False, False, False]


def test_every_count_is_filled_before_standing_is_weighed() -> None:
    """A stood at bin 0 only (its group holds no other bin); B stood longer at bin 0 but also near bin 2:
    together A keeps bin 0 (else its lift would be lost) and B reads bin 2, so both lifts are read."""
    a = _standing([20.0, 0.0, 0.0, 0.0], [0, 1, 2, 3])
    b = _standing([25.0, 0.0, 2.0, 0.0], [0, 1, 0, 3])
    read_a, read_b = bins_stood_at_jointly([a, b], SERVICE, 0.3, 5.0)
    assert read_a.tolist() == [True, False, False, False]
    assert read_b.tolist() == [False, False, True, False]


def test_a_bin_a_lift_named_goes_to_no_lorry_read_from_stops() -> None:
    """Bin 0, where A stood most, was named by another lorry's in-cab lift: A reads bin 1 instead; with
    every bin of its group taken, A reads none."""
    a = _standing([20.0, 10.0, 0.0, 0.0], [0, 0, 1, 2])
    (read,) = bins_stood_at_jointly([a], SERVICE, 0.3, 5.0, taken=np.array([True, False, False, False]))
    assert read.tolist() == [False, True, False, False]
    (none,) = bins_stood_at_jointly([a], SERVICE, 0.3, 5.0, taken=np.array([True, True, False, False]))
    assert not none.any()
