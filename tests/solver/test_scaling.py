"""Float figures to solver integers: rounding directions, float noise, caps."""

from __future__ import annotations

import math

import numpy as np

from solver.scaling import (
    OBJECTIVE_UNITS_PER_METRE,
    OBJECTIVE_UNITS_PER_MONEY,
    OBJECTIVE_UNITS_PER_SECOND,
    grams_down,
    grams_up,
    millilitres_down,
    millilitres_up,
    objective_units,
    objective_units_per_value,
    seconds_down,
    seconds_up,
)


def test_demands_round_up_to_whole_grams() -> None:
    """16.0001 kg is 16000.1 g, so 16001 g: a demand is never understated."""
    assert grams_up([16.0001, 16.0]).tolist() == [16001, 16000]


def test_capacities_round_down_to_whole_grams() -> None:
    """999.9999 kg is 999999.9 g, so 999999 g: a capacity is never overstated."""
    assert grams_down([999.9999, 1000.0]).tolist() == [999999, 1000000]


def test_float_noise_does_not_cost_a_unit() -> None:
    """16.01 kg * 1000 is 16010.000000000002 and 1.005 kg * 1000 is 1004.9999999999999 in floats;
    they still count as 16010 g and 1005 g, whichever way they round."""
    assert 16.01 * 1000 > 16010 and 1.005 * 1000 < 1005
    assert grams_up(16.01).item() == 16010
    assert grams_down(1.005).item() == 1005


def test_times_round_up_to_whole_seconds() -> None:
    """100.2 s is 101 s, 100 s stays 100 s."""
    assert seconds_up([100.2, 100.0]).tolist() == [101, 100]


def test_missing_paths_and_huge_values_become_the_cap() -> None:
    """``inf`` and anything above the cap are the cap, so they never overflow int64."""
    assert seconds_up([math.inf, 1e30, 5.0], cap=3601).tolist() == [3601, 3601, 5]


def test_objective_units_round_to_nearest() -> None:
    """12.34 s is 123 deciseconds; 12.36 s is 124."""
    assert objective_units(np.array([12.34, 12.36]), units_per_value=OBJECTIVE_UNITS_PER_SECOND).tolist() \
        == [123, 124]


def test_objective_units_follow_the_objective() -> None:
    """Duration counts per second, distance per metre, cost per unit of money."""
    assert objective_units_per_value("duration") == OBJECTIVE_UNITS_PER_SECOND
    assert objective_units_per_value("distance") == OBJECTIVE_UNITS_PER_METRE
    assert objective_units_per_value("cost") == OBJECTIVE_UNITS_PER_MONEY


def test_money_units_are_whole_per_second_and_per_metre_at_whole_rates() -> None:
    """30 an hour is a whole number of units per second, 1 a km a whole number per metre."""
    assert (OBJECTIVE_UNITS_PER_MONEY * 30) % 3600 == 0
    assert OBJECTIVE_UNITS_PER_MONEY % 1000 == 0


def test_volumes_round_up_and_bodies_down_to_whole_millilitres() -> None:
    """240.0004 l is 240000.4 ml: a bin counts 240001 ml, a body of that size 240000 ml."""
    assert millilitres_up([240.0004, 240.0]).tolist() == [240001, 240000]
    assert millilitres_down([240.0004, 240.0]).tolist() == [240000, 240000]


def test_latest_times_round_down_to_whole_seconds() -> None:
    """A window closing at 100.7 s closes at 100 s once whole; ``inf`` is the cap."""
    assert seconds_down([100.7, 100.0, math.inf], cap=500).tolist() == [100, 100, 500]
